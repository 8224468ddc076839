"""What the evaluation lab's measures say about pictures whose quality is known (renders, blurred and
noisy renders, noise, one picture repeated: the figures in builtin/shapes-features/README.md), and how
long it takes: `evaluate` of the built-in text-to-image model on the standard prompt set at 4 samples
per prompt (80 pictures, plus its one-word changes), and `evaluate_images` of 80 given pictures, each
the median of a few runs in one process (the first call loads the models).

    python bench/evaluation.py               # 3 runs each, 2 threads
    python bench/evaluation.py --runs 5 --threads 1
    python bench/evaluation.py --runs 1 --pictures 8 --samples 1   # a quick look (the suite's smoke run)
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from genart_playground import evaluate, evaluate_images  # noqa: E402
from genart_playground.data import shapes  # noqa: E402

SHOWN = ("fid", "kid", "precision", "recall", "density", "coverage", "clean", "diversity")


def renders(seed: int, n: int) -> list:
    rng = random.Random(f"bench/{seed}")
    return [shapes.render(shapes.sample_scene(rng, "train")) for _ in range(n)]


def noisy(image: Image.Image, sigma: float, rng) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float64) + rng.normal(0, sigma, (*image.size[::-1], 3))
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def known_sets(n: int = 96) -> None:
    """Each set of n pictures against the default reference: the rows of the model card's table."""
    rng = np.random.default_rng(0)
    sets = {
        "renders (another sample of the world)": renders(1, n),
        "renders, blurred σ 0.7 px": [image.filter(ImageFilter.GaussianBlur(0.7)) for image in renders(2, n)],
        "renders, blurred σ 1.5 px": [image.filter(ImageFilter.GaussianBlur(1.5)) for image in renders(2, n)],
        "renders, noise σ 8/255": [noisy(image, 8, rng) for image in renders(3, n)],
        "one render repeated": renders(4, 1) * n,
        "uniform noise": [Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for _ in range(n)],
    }
    print(f"| {n} pictures | " + " | ".join(SHOWN) + " |")
    print("|---|" + "---|" * len(SHOWN))
    for name, images in sets.items():
        metrics = evaluate_images(images).metrics
        print(f"| {name} | " + " | ".join(f"{metrics[key]:.3g}" for key in SHOWN) + " |")


def timed(call, runs: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - began)
    return statistics.median(times), times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pictures", type=int, default=96, help="pictures in each known set (the card's 96)")
    parser.add_argument("--samples", type=int, default=4, help="samples per prompt in the timed evaluate()")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    known_sets(args.pictures)

    began = time.perf_counter()
    evaluate(prompts=["a red circle"], samples_per_prompt=2)  # loads the pipeline and the feature network
    print(f"first call (loads the models): {time.perf_counter() - began:.1f} s")

    median, times, result = timed(lambda: evaluate(samples_per_prompt=args.samples), args.runs)
    print(f"evaluate(builtin/shapes-t2i, standard set, {args.samples} per prompt): {len(result.images)} pictures, "
          f"median {median:.1f} s of {', '.join(f'{t:.1f}' for t in times)} on {args.threads} threads; "
          f"{result.metrics['seconds_per_picture']:.3f} s per picture for drawing alone")

    rng = random.Random(0)
    pictures = [shapes.render(shapes.sample_scene(rng, "train")) for _ in range(80)]
    median, times, _ = timed(lambda: evaluate_images(pictures), args.runs)
    print(f"evaluate_images({len(pictures)} pictures): median {median:.2f} s of {', '.join(f'{t:.2f}' for t in times)}")


if __name__ == "__main__":
    main()
