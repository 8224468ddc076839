"""A CLIP tokenizer for a closed caption vocabulary, written as a standard vocab.json + merges.txt.

Every caption word is one token; any other word falls back to its letters, so a user's prompt
never fails. The folder loads with `CLIPTokenizer.from_pretrained`, like any Stable Diffusion
tokenizer, so the text-to-image pipeline folder stays a standard one.
"""

import json
import string
from pathlib import Path

from transformers import CLIPTokenizer

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MAX_LENGTH = 16  # the longest shapes caption is 11 words + start + end


def _chains(order: list[str]) -> list[str]:
    """BPE merges that join each word left to right into one token ("r e", "re d</w>")."""
    merges: list[str] = []
    for word in order:
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        joined = pieces[0]
        for piece in pieces[1:]:
            merge = f"{joined} {piece}"
            if merge not in merges:
                merges.append(merge)
            joined += piece
    return merges


def _bpe(word: str, ranks: dict[str, int]) -> list[str]:
    """The BPE algorithm CLIP uses: merge the lowest-ranked adjacent pair until none is left."""
    pieces = list(word[:-1]) + [word[-1] + "</w>"]
    while len(pieces) > 1:
        pairs = [(ranks.get(f"{a} {b}", 1 << 30), i) for i, (a, b) in enumerate(zip(pieces, pieces[1:]))]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        pieces[i:i + 2] = [pieces[i] + pieces[i + 1]]
    return pieces


def _merges(words: list[str]) -> list[str]:
    """Chains for all words, reordered until each word's own chain wins: "large" must not take
    the "l a" out of "black". A word that splits moves to the front; a few rounds settle it."""
    order = sorted(words, key=len, reverse=True)
    for _ in range(4 * len(words)):
        merges = _chains(order)
        ranks = {merge: rank for rank, merge in enumerate(merges)}
        split = [w for w in order if len(_bpe(w, ranks)) != 1]
        if not split:
            return merges
        order = [split[0]] + [w for w in order if w != split[0]]
    raise RuntimeError(f"No merge order makes these words single tokens: {split}.")


def build_tokenizer(words: list[str], folder: str | Path, *, max_length: int = MAX_LENGTH) -> CLIPTokenizer:
    """Write vocab.json and merges.txt for `words` into `folder`, and load them as a CLIPTokenizer."""
    bad = [w for w in words if not w or any(ch not in string.ascii_lowercase for ch in w)]
    if bad:
        raise ValueError(f"`words` must be lowercase ASCII letters only, got {bad[:5]}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # 1. Letters (inside and at the end of a word), every merge result, the words, the specials
    tokens = list(string.ascii_lowercase) + [ch + "</w>" for ch in string.ascii_lowercase]
    merges = _merges(words)
    tokens += [m.replace(" ", "") for m in merges]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(tokens + [BOS, EOS]))}
    # 2. The standard files, then the tokenizer from them
    (folder / "vocab.json").write_text(json.dumps(vocab, indent=0), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"),
                              model_max_length=max_length)
    tokenizer.save_pretrained(folder)
    tokenizer = CLIPTokenizer.from_pretrained(folder)
    # 3. Every word must be one token, or the text encoder would see captions letter by letter
    split = [w for w in words if len(tokenizer(w, add_special_tokens=False).input_ids) != 1]
    if split:
        raise RuntimeError(f"These words did not become single tokens: {split}.")
    return tokenizer
