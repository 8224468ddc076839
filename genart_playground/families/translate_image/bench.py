"""The built-in translators' figures, as `bench/quality.py` prints them (the family's `bench`)."""

import time
from pathlib import Path

import numpy as np
import torch

from ...data import shapes
from ...metrics import world


def translation_figures(n: int, seed: int) -> None:
    """The checker on what the built-in translators make of 32·n unseen sketches (their own wobble, the
    2 px pen), through translate_image: all of them, and those of the 4 held-out colour×shape
    combinations alone; CycleGAN's round trip; the speed of one call."""
    from ...models import registry
    from .translate_image import translate_image

    scenes = world.translation_scenes(32 * n, seed)
    drawn = [shapes.sketch(scene) for scene in scenes]
    held = [i for i, scene in enumerate(scenes) if (scene.color, scene.shape) in shapes.HELD_OUT]
    for name in ("builtin/shapes-pix2pix", "builtin/shapes-cyclegan"):
        if not Path(registry.resolve("translate_image", name).source).exists():
            print(f"{name}: not shipped")
            continue
        timings, results = [], []
        for image in drawn:
            began = time.perf_counter()
            results.append(translate_image(image, model=name))
            timings.append(time.perf_counter() - began)
        pictures = [result.images[0] for result in results]
        everything = world.translation_scores(pictures, scenes)
        unseen = world.translation_scores([pictures[i] for i in held], [scenes[i] for i in held])
        print(f"{name}, {len(scenes)} unseen sketches: " + ", ".join(f"{k} {v:.1%}" for k, v in everything.items()))
        print(f"  the {len(held)} of held-out colour×shape combinations: all four right {unseen['all']:.1%}")
        if results[0].cycle is not None:
            cycles = [result.metrics["cycle_psnr"] for result in results]
            print(f"  round trip sketch -> picture -> sketch: PSNR mean {np.mean(cycles):.2f} dB, "
                  f"min {np.min(cycles):.2f}")
        print(f"  translate_image: median {np.median(timings[1:]):.4f} s per call on {torch.get_num_threads()} threads")
