"""Issue 32 §3: a picture training script runs unchanged on several processes. The GAN script, under
`torchrun` with accelerate's state (gloo on the CPU), 2 processes for a few steps: both ranks end with the
same weights (gradients were averaged), and they trained on different pictures (the step's batch is the sum of
the ranks')."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--steps", "3", "--dataset_size", "64", "--batch_size", "8", "--width", "8", "--eval_every", "1000",
         "--sample_every", "1000", "--eval_samples", "16", "--threads", "1"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_ranks(out: Path, processes: int) -> list[dict]:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               str(REPO / "bench" / "distributed_worker.py"), str(out / "ranks"), *SMALL, "--out", str(out / "run")]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads((out / "ranks" / f"rank{rank}.json").read_text()) for rank in range(processes)]


def test_two_processes_end_with_the_same_weights_after_training_on_different_pictures(tmp_path):
    first, second = run_ranks(tmp_path, 2)
    assert first["processes"] == second["processes"] == 2 and "MULTI_CPU" in first["distributed_type"]
    # The weights; BatchNorm's running statistics stay each rank's own (DDP copies rank 0's at each forward)
    assert first["generator"] == second["generator"] and first["discriminator"] == second["discriminator"]
    assert len(first["batches"]) == len(second["batches"]) == 3
    assert not set(first["batches"]) & set(second["batches"])  # each rank its own pictures: 2 × 8 per step
    # and the weights moved: the same script on one process (a batch of 8) ends elsewhere
    alone, = run_ranks(tmp_path / "alone", 1)
    assert alone["processes"] == 1 and alone["batches"] == first["batches"]  # rank 0 drew the same pictures ...
    assert alone["generator"] != first["generator"]  # ... but learnt from rank 1's too when there were two
