"""The training lab's figures: one refresh of the page per family (median seconds), each family's modes
covered on the ring of 8 at its default budget, and the collapse preset alone and with each fix.

    python bench/toy_lab.py                 # 3 seeds, 5 refreshes: a few minutes on 2 CPU cores
    python bench/toy_lab.py --seeds 5
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from genart_playground.families.toy_training import bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refreshes", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads: one is fastest for these tiny nets")
    parser.add_argument("--only", choices=["refresh", "coverage", "collapse"], help="one table")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seed, args.seed + args.seeds))
    if args.only in (None, "refresh"):
        bench.refresh_figures(args.refreshes)
    if args.only in (None, "coverage"):
        bench.coverage_figures(seeds)
    if args.only in (None, "collapse"):
        bench.collapse_figures(seeds)


if __name__ == "__main__":
    main()
