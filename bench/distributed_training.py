"""The GAN training script on 1 and on 2 processes (torchrun with accelerate's state; gloo on the CPU), side by
side in one run: steps per second (median over the steps after warm-up) and real pictures per second (each rank
takes its own batch, so 2 processes train on twice the pictures per step).

    python bench/distributed_training.py                       # 40 steps, batch 32 per rank, width 32
    python bench/distributed_training.py --steps 200 --batch_size 64 --width 64
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(processes: int, args, out: Path) -> dict:
    options = ["--steps", str(args.steps), "--batch_size", str(args.batch_size), "--width", str(args.width),
               "--dataset_size", "512", "--eval_every", str(10**6), "--sample_every", str(10**6),
               "--eval_samples", "16", "--threads", "1", "--out", str(out / "run")]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               str(REPO / "bench" / "distributed_worker.py"), str(out / "ranks"), *options]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True)
    rank0 = json.loads((out / "ranks" / "rank0.json").read_text())
    ends = rank0["step_ends"][args.warmup:]
    seconds = statistics.median(b - a for a, b in zip(ends, ends[1:]))
    return {"steps_per_s": 1 / seconds, "pictures_per_s": processes * args.batch_size / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch_size", type=int, default=32, help="real pictures per rank per step")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3, help="first steps left out of the median")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = {n: run(n, args, Path(folder) / f"p{n}") for n in (1, 2)}
    print(f"| processes | steps/s | real pictures/s (batch {args.batch_size} per rank) |")
    print("| --- | --- | --- |")
    for n, row in rows.items():
        print(f"| {n} | {row['steps_per_s']:.2f} | {row['pictures_per_s']:.0f} |")
    print(f"2 processes / 1: {rows[2]['steps_per_s'] / rows[1]['steps_per_s']:.2f}× the steps, "
          f"{rows[2]['pictures_per_s'] / rows[1]['pictures_per_s']:.2f}× the pictures per second")


if __name__ == "__main__":
    main()
