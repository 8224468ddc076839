"""Shapes-world pictures read by the project's checker (data/checker.py): is each picture clean, does it
show what its prompt (or a conditional GAN's codes) names, which combinations a set covers, is a
generator collapsed onto a few of them, and does changing one word change just that attribute.

The checker is made of pixel rules, not a learned model, so it does not share a generator's blind
spots; it reads 64×64 pictures, so larger ones are shrunk to that first.
"""

import math
import random
import re
from collections import Counter

import numpy as np
from PIL import Image

from ..data import checker, shapes

ATTRIBUTES = ("color", "shape", "size", "position", "background")
WORLD_COMBINATIONS = len(shapes.ALL_COMBOS) * len(shapes.BACKGROUNDS)  # colour × shape × background: 72
COLLAPSE_SHARE = 0.8  # "how many combinations carry 80 % of the samples"


def judge(images: list) -> list[checker.Judgement]:
    """The checker's reading of each picture (PIL or an H×W×3 array), PIL pictures of another size
    resized to the shapes world's 64×64 first."""
    size = (shapes.IMAGE_SIZE, shapes.IMAGE_SIZE)
    return [checker.judge(image.convert("RGB").resize(size, Image.BOX)
                          if isinstance(image, Image.Image) and image.size != size else image) for image in images]


# ---- what a prompt names ------------------------------------------------------------------------------

_BACKGROUND = re.compile(r"\bon an? (\w+) background\b")
_PHRASES = {phrase: position for position, phrase in shapes.POSITION_PHRASES.items()}


def prompt_attributes(prompt: str) -> dict[str, str]:
    """The shapes-world attributes a prompt names ("a red circle on the left" -> colour, shape, position);
    words the world does not have are ignored, so a prompt about a cat names nothing."""
    text = " ".join(prompt.lower().replace(",", " ").split())
    named = {}
    if (match := _BACKGROUND.search(text)) and match.group(1) in shapes.BACKGROUNDS:
        named["background"] = match.group(1)
    text = _BACKGROUND.sub(" ", text)
    for phrase, position in _PHRASES.items():
        if phrase in text:
            named["position"] = position
    words = text.split()
    for key, vocabulary in (("color", shapes.COLORS), ("shape", shapes.SHAPES), ("size", shapes.SIZES)):
        found = [word for word in words if word in vocabulary]
        if found:
            named[key] = found[0]
    return dict(sorted(named.items(), key=lambda item: ATTRIBUTES.index(item[0])))


def caption(named: dict[str, str]) -> str:
    """The world's own caption for the attributes given (the order captions.py writes them in)."""
    words = ["a", named.get("size", ""), named.get("color", ""), named.get("shape", "shape")]
    if "position" in named:
        words.append(shapes.POSITION_PHRASES[named["position"]])
    if "background" in named:
        words.append(f"on a {named['background']} background")
    return " ".join(word for word in words if word)


# ---- prompt sets -----------------------------------------------------------------------------------------

PROMPT_SETS = ("standard", "heldout")  # 20 training combinations; 8 held out of training


def prompt_set(name: str = "standard", seed: int = 0) -> list[str]:
    """"standard": one full caption per training colour×shape combination (20), size, position and
    background drawn with `seed`; "heldout": two per held-out combination (8), never seen in training."""
    if name not in PROMPT_SETS:
        raise ValueError(f"`prompt_set` must be one of {PROMPT_SETS}, got {name!r}.")
    rng = random.Random(f"prompts/{name}/{seed}")
    combos = shapes.TRAIN_COMBOS if name == "standard" else shapes.HELDOUT_COMBOS * 2
    return [shapes.full_caption(shapes.sample_scene(rng, "all", color=color, shape=shape)) for color, shape in combos]


# ---- measures on judged pictures ---------------------------------------------------------------------

def scene_attributes(scene: shapes.Scene) -> dict[str, str]:
    """What a rendered scene shows, as the checker names it: the truth to hold its readings to."""
    return {key: getattr(scene, key) for key in ATTRIBUTES}


def clean_fraction(judged: list[checker.Judgement]) -> float:
    return float(np.mean([j.clean for j in judged]))


def consistency(judged: list[checker.Judgement], named: list[dict[str, str]]) -> dict[str, float]:
    """Per attribute, the share of pictures showing the value their prompt names (among pictures whose
    prompt names it), and "all": pictures right on everything their prompt names."""
    scores: dict[str, list[bool]] = {}
    for judgement, words in zip(judged, named):
        for key, value in words.items():
            scores.setdefault(key, []).append(getattr(judgement, key) == value)
        if words:
            scores.setdefault("all", []).append(judgement.agrees(**words))
    return {key: float(np.mean(right)) for key, right in scores.items()}


def combination(judgement: checker.Judgement) -> str | None:
    """"red circle on gray" for a clean picture; None for one the checker cannot read cleanly."""
    return f"{judgement.color} {judgement.shape} on {judgement.background}" if judgement.clean else None


def mode_collapse(judged: list[checker.Judgement]) -> dict:
    """How the clean pictures spread over the world's 72 colour×shape×background combinations.

    The verdict compares the effective number of combinations (the exponential of the histogram's
    entropy: n for n equally common ones) with what a set of this size could reach: a quarter of it
    or fewer is called collapse."""
    counts = Counter(c for c in map(combination, judged) if c)
    total = sum(counts.values())
    if not total:
        return {"histogram": {}, "covered": 0, "effective": 0.0, "carry_most": 0, "collapsed": True,
                "verdict": "No clean pictures: nothing to count."}
    shares = np.array(sorted(counts.values(), reverse=True)) / total
    effective = float(math.exp(-(shares * np.log(shares)).sum()))
    carry = int(np.searchsorted(np.cumsum(shares), COLLAPSE_SHARE - 1e-9) + 1)
    reachable = min(WORLD_COMBINATIONS, total)
    collapsed = effective <= reachable / 4
    top = ", ".join(f"{name} ({count})" for name, count in counts.most_common(3))
    verdict = (f"{'Mode collapse' if collapsed else 'No mode collapse'}: {carry} of the {len(counts)} combinations "
               f"seen carry {COLLAPSE_SHARE:.0%} of the {total} clean pictures (effective number "
               f"{effective:.1f}; a set this size could reach {reachable}). Most common: {top}.")
    return {"histogram": dict(counts.most_common()), "covered": len(counts), "effective": round(effective, 2),
            "carry_most": carry, "collapsed": collapsed, "verdict": verdict}


# ---- controllability: change one word, keep the seed ----------------------------------------------------

EDITABLE = ("color", "shape", "position", "background")


def edits(prompts: list[str], per_attribute: int = 4, seed: int = 0) -> list[tuple[int, str, str, str]]:
    """(index of the base prompt, attribute, new value, edited prompt): `per_attribute` one-word changes
    of each editable attribute, on prompts that name it, to another value the world has."""
    rng = random.Random(f"edits/{seed}")
    values = {"color": list(shapes.COLORS), "shape": list(shapes.SHAPES), "position": list(shapes.POSITIONS),
              "background": list(shapes.BACKGROUNDS)}
    chosen = []
    for key in EDITABLE:
        bases = [i for i, prompt in enumerate(prompts) if key in prompt_attributes(prompt)]
        for index in rng.sample(bases, min(per_attribute, len(bases))):
            named = prompt_attributes(prompts[index])
            value = rng.choice([v for v in values[key] if v != named[key]])
            chosen.append((index, key, value, caption({**named, key: value})))
    return chosen


def controllability(pairs: list[tuple[checker.Judgement, checker.Judgement, str, str]]) -> dict[str, float]:
    """For (picture before, picture after, attribute changed, its new value): per attribute and over all,
    the share where the picture after shows the new value and keeps every other attribute the picture
    before showed."""
    right: dict[str, list[bool]] = {}
    for before, after, key, value in pairs:
        kept = all(getattr(after, other) == getattr(before, other) for other in ATTRIBUTES if other != key)
        right.setdefault(key, []).append(bool(after.clean and getattr(after, key) == value and kept))
    scores = {key: float(np.mean(values)) for key, values in right.items()}
    if right:
        scores["all"] = float(np.mean([v for values in right.values() for v in values]))
    return scores


# ---- image translation: does the picture show what the sketch drew ---------------------------------------

TRANSLATED = ("shape", "color", "background", "position")  # what a sketch fixes (its size is the pen's)


def translation_scenes(n: int, seed: int = 0) -> list[shapes.Scene]:
    """n scenes over all 24 colour×shape combinations, none of them a training scene (their own seed
    string; positions and sizes are jittered continuously, so a repeat is vanishingly unlikely)."""
    rng = random.Random(f"translation/{seed}")
    return [shapes.sample_scene(rng, "all") for _ in range(n)]


def translation_scores(pictures, scenes: list[shapes.Scene]) -> dict[str, float]:
    """For pictures translated from the scenes' sketches: the share showing each attribute the sketch
    drew, "all": the four at once, and "clean": one clean shape on a clean background."""
    judged = judge(pictures)
    scores = {key: float(np.mean([getattr(j, key) == getattr(s, key) for j, s in zip(judged, scenes)]))
              for key in TRANSLATED}
    scores["all"] = float(np.mean([j.agrees(**{key: getattr(s, key) for key in TRANSLATED})
                                   for j, s in zip(judged, scenes)]))
    scores["clean"] = clean_fraction(judged)
    return scores


# ---- what the training scripts keep their best weights by ------------------------------------------------

def measure(images, named: list[list[str]] | None = None) -> dict:
    """Fraction of clean pictures and how many training colour×shape combinations the clean ones cover
    (mode collapse shows as few). With `named` (each picture's classes from a conditional generator's
    codes, e.g. ["red circle", "gray"]), also how often the picture shows what its codes name."""
    judged = judge(images)
    seen = {(j.color, j.shape) for j in judged if j.clean}
    quality = {
        "samples": len(judged),
        "clean_fraction": round(clean_fraction(judged), 4),
        "train_combos_covered": len(seen & set(shapes.TRAIN_COMBOS)),
        "train_combos_total": len(shapes.TRAIN_COMBOS),
        "heldout_combos_seen": sorted(f"{c} {s}" for c, s in seen & set(shapes.HELDOUT_COMBOS)),
    }
    if named:
        shown = [j.clean and j.agrees(**named_attributes(names)) for j, names in zip(judged, named)]
        quality["shows_its_codes"] = round(float(np.mean(shown)), 4)
    return quality


def named_attributes(names: list[str]) -> dict:
    color, shape = names[0].split()  # a conditional generator's codes: "red circle", then the background
    return {"color": color, "shape": shape, "background": names[1]}


def eval_prompts(seed: int) -> list[tuple[str, dict, str]]:
    """(prompt, attributes the picture must show, group): colour+shape on every combo, and
    prompts that also name background and position, on training combos."""
    rng = random.Random(f"eval/{seed}")
    prompts = []
    for color, shape in shapes.ALL_COMBOS:
        group = "heldout" if (color, shape) in shapes.HELD_OUT else "train"
        prompts += [(f"a {color} {shape}", {"color": color, "shape": shape}, group)] * 2
    for color, shape in rng.sample(shapes.TRAIN_COMBOS, 20) * 2:
        background, position = rng.choice(list(shapes.BACKGROUNDS)), rng.choice(list(shapes.POSITIONS))
        text = f"a {color} {shape} {shapes.POSITION_PHRASES[position]} on a {background} background"
        prompts.append((text, {"color": color, "shape": shape, "background": background, "position": position}, "full"))
    return prompts


def score_prompts(prompts: list[tuple[str, dict, str]], images) -> dict:
    """The share of pictures right on each judged attribute, by group (train, heldout, full), and clean."""
    scores: dict = {}
    for (_, named, group), judged in zip(prompts, judge(images)):
        scores.setdefault(f"{group}/color+shape", []).append(judged.agrees(color=named["color"], shape=named["shape"]))
        if group == "full":
            scores.setdefault("full/background", []).append(judged.background == named["background"])
            scores.setdefault("full/position", []).append(judged.position == named["position"])
            scores.setdefault("full/all", []).append(judged.agrees(**named))
        scores.setdefault("clean", []).append(judged.clean)
    return {key: sum(v) / len(v) for key, v in scores.items()}
