"""How well pictures match their prompts in a joint picture-and-text embedding: CLIP score (Hessel et
al., 2021). It works for any prompt, unlike the checker, but only where a CLIP model is at hand (the
local Hugging Face cache), and it sees what CLIP learned from web captions, not the shapes world's rules.
"""

import torch

from .distribution import pictures_as_tensors


@torch.no_grad()
def clip_score(network, images: list, prompts: list[str], *, batch: int = 64) -> float:
    """Mean CLIP score of each picture against its own prompt (0 to 100; about 30 is a good match for
    ViT-B/32 on real photos)."""
    scores = []
    for start in range(0, len(images), batch):
        pixels = pictures_as_tensors(network, images[start:start + batch])
        scores.append(network.score(pixels, prompts[start:start + batch]).float().cpu())
    return float(torch.cat(scores).mean())
