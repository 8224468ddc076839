"""The built-in text-to-image models' quality figures, as `bench/quality.py` prints them (the family's `bench`),
measured with the project's checker (genart_playground/metrics/world.py)."""

import random
import time

import numpy as np
import torch

from ...data import shapes
from ...metrics import world


T2I_BUILTINS = ("builtin/shapes-t2i", "builtin/shapes-dit", "builtin/shapes-vqgpt")


def t2i_figures(n: int, seed: int) -> None:
    """Each text-to-image built-in (UNet, diffusion transformer, token transformer) that is shipped."""
    from ...models import loading, registry

    for name in T2I_BUILTINS:
        spec = registry.resolve("text_to_image", name)
        if loading.availability(spec) == "missing":
            print(f"{name}: not shipped")
            continue
        builtin_t2i_figures(name, n, seed)


def builtin_t2i_figures(name: str, n: int, seed: int) -> None:
    """Colour+shape on every combination (n pictures each), full captions on training combinations, and
    4 pictures' time, all through text_to_image at the model's registered defaults."""
    from .text_to_image import text_to_image

    def draw(prompt, count, first_seed):
        return text_to_image(prompt, model=name, num_images=count, seed=first_seed).images

    # 1. Colour and shape named: every combo, n images each
    result = text_to_image("a red circle", model=name, seed=seed)  # loads the model; its recipe names the settings
    shown = {k: result.metadata[k] for k in ("steps", "scheduler", "guidance", "temperature", "top_k")
             if k in result.metadata}
    print(f"{name} ({', '.join(f'{k} {v}' for k, v in shown.items())}):")
    per_combo = {}
    for color, shape in shapes.ALL_COMBOS:
        judged = world.judge(draw(f"a {color} {shape}", n, seed))
        per_combo[(color, shape)] = world.consistency(judged, [{"color": color, "shape": shape}] * n)["all"]
    train = np.mean([v for k, v in per_combo.items() if k not in shapes.HELD_OUT])
    print(f"  colour+shape right, training combos ({len(shapes.TRAIN_COMBOS)}×{n}): {train:.1%}")
    for combo in shapes.HELDOUT_COMBOS:
        print(f"  colour+shape right, held out '{' '.join(combo)}' ({n}): {per_combo[combo]:.1%}")
    print(f"  colour+shape right, held-out combos together: "
          f"{np.mean([per_combo[c] for c in shapes.HELDOUT_COMBOS]):.1%}")

    # 2. Everything named (training combos): background, position, size
    rng = random.Random(seed)
    scenes = [shapes.sample_scene(rng, "train") for _ in range(len(shapes.TRAIN_COMBOS) * n)]
    judged = world.judge([draw(shapes.full_caption(s), 1, seed + i)[0] for i, s in enumerate(scenes)])
    right = world.consistency(judged, [{key: getattr(s, key) for key in world.ATTRIBUTES} for s in scenes])
    for key in world.ATTRIBUTES:
        print(f"  full captions ({len(scenes)}): {key} right {right[key]:.1%}")
    print(f"  full captions: all five right {right['all']:.1%}, clean {world.clean_fraction(judged):.1%}")

    # 3. Speed: 4 images at the defaults, the median of 3 runs
    times = []
    for _ in range(3):
        began = time.perf_counter()
        draw("a red circle", 4, 0)
        times.append(time.perf_counter() - began)
    print(f"  4 images at the defaults: {sorted(times)[1]:.2f} s (median of 3) on {torch.get_num_threads()} threads")
