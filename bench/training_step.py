"""The StyleGAN training loop's step time in NCHW against channels_last (NHWC), side by side in one run.

    python bench/training_step.py [--steps 60] [--repeats 3] [--threads 2]

Runs `families/gan_interpolation/train_stylegan.py`'s own loop (default config, no evaluations) for `--steps` steps in each memory
format, alternating, and prints the median step time of each and their ratio. The first 10 steps of
every run are left out (oneDNN picks its kernels then).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genart_playground.families.gan_interpolation import train_stylegan as stylegan

WARMUP = 10


def step_times(channels_last: bool, steps: int, threads: int) -> list[float]:
    stamps = []
    with tempfile.TemporaryDirectory() as out:
        cfg = stylegan.TrainConfig(steps=steps, eval_every=10**9, sample_every=10**9, out=out, threads=threads,
                                   dataset_size=2_000, channels_last=channels_last)
        stylegan.train(cfg, on_step=lambda *_: stamps.append(time.perf_counter()))
    return [b - a for a, b in zip(stamps[WARMUP:], stamps[WARMUP + 1:])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    times = {"NCHW": [], "channels_last": []}
    for _ in range(args.repeats):  # alternating, so a busy spell on a shared machine hits both
        times["NCHW"] += step_times(False, args.steps, args.threads)
        times["channels_last"] += step_times(True, args.steps, args.threads)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:>14}: {value * 1000:6.1f} ms a step (median of {len(times[name])})")
    print(f"channels_last / NCHW: {medians['channels_last'] / medians['NCHW']:.2f}")


if __name__ == "__main__":
    main()
