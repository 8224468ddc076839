"""The quality figures of the shipped built-ins, judged by the project's checker: each family's
`bench` function (genart_playground/families/<id>/bench.py), in the order of the family list.

    python bench/quality.py            # all built-ins that are shipped
    python bench/quality.py --n 16     # more images per prompt: tighter figures, slower
    python bench/quality.py --family evaluate --n 4   # one family's figures (here the lab's report cards)

Text-to-image runs at the registry's default settings (steps, guidance, scheduler, size).
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from genart_playground import families  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=8, help="images per prompt (t2i), ×64 for the VAE and GAN")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--family", choices=[f.id for f in families.FAMILIES], help="only this family's figures")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for family in families.FAMILIES:  # each family's figures (its bench.py), on its built-ins
        if family.bench is not None and args.family in (None, family.id):
            families.resolve_ref(family.bench)(args.n, args.seed)


if __name__ == "__main__":
    main()
