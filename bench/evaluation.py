"""How long the evaluation lab takes: `evaluate` of the built-in text-to-image model on the standard
prompt set at 4 samples per prompt (80 pictures, plus its one-word changes), and `evaluate_images` of
80 given pictures, each the median of a few runs in one process (the first call loads the models).

    python bench/evaluation.py               # 3 runs each, 2 threads
    python bench/evaluation.py --runs 5 --threads 1
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from genart_playground import evaluate, evaluate_images  # noqa: E402
from genart_playground.data import shapes  # noqa: E402


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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    began = time.perf_counter()
    evaluate(prompts=["a red circle"], samples_per_prompt=1)  # loads the pipeline and the feature network
    print(f"first call (loads the models): {time.perf_counter() - began:.1f} s")

    median, times, result = timed(lambda: evaluate(samples_per_prompt=4), args.runs)
    print(f"evaluate(builtin/shapes-t2i, standard set, 4 per prompt): {len(result.images)} pictures, median "
          f"{median:.1f} s of {', '.join(f'{t:.1f}' for t in times)} on {args.threads} threads; "
          f"{result.metrics['seconds_per_picture']:.3f} s per picture for drawing alone")

    rng = random.Random(0)
    pictures = [shapes.render(shapes.sample_scene(rng, "train")) for _ in range(80)]
    median, times, _ = timed(lambda: evaluate_images(pictures), args.runs)
    print(f"evaluate_images(80 pictures): median {median:.2f} s of {', '.join(f'{t:.2f}' for t in times)}")


if __name__ == "__main__":
    main()
