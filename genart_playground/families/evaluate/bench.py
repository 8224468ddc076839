"""The evaluation lab's report cards of the built-in generators, as `bench/quality.py` prints them."""

import time

import torch

from ... import settings


def evaluation_figures(n: int, seed: int) -> None:
    """The evaluation lab's report cards of the built-in generators (the model cards carry them): the
    standard and held-out prompt sets at n samples per prompt (at most 8), the GAN as many samples."""
    from .evaluate import evaluate

    runs = [("builtin/shapes-t2i", "text_to_image", "standard"), ("builtin/shapes-t2i", "text_to_image", "heldout"),
            ("builtin/shapes-gan", "gan_interpolation", None)]
    for model, task, prompts in runs:
        folder = settings.BUILTIN_DIR / model.split("/")[1]
        if not folder.exists():
            print(f"{model}: not shipped")
            continue
        began = time.perf_counter()
        per_prompt = min(n, 8)
        result = evaluate(model, task=task, prompts=prompts, samples_per_prompt=per_prompt, seed=seed)
        wall = time.perf_counter() - began
        print(f"evaluate({model!r}, task={task!r}, prompts={prompts!r}, samples_per_prompt={per_prompt}, "
              f"seed={seed}): {len(result.images)} pictures in {wall:.1f} s on {torch.get_num_threads()} threads")
        print("  " + ", ".join(f"{key} {value:.4g}" for key, value in result.metrics.items()))
        print(f"  {result.mode_collapse['verdict']}")
