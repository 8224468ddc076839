"""GAN latent interpolation with the package API: a walk from one seed's image to another's, as a GIF.

    python examples/gan_interpolation.py [--seeds 0 1] [--frames 32] [--method slerp|lerp] [--out outputs]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout, installed or not
from genart_playground import gan_interpolation

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--seeds", type=int, nargs=2, default=(0, 1))
parser.add_argument("--frames", type=int, default=32)
parser.add_argument("--method", choices=("slerp", "lerp"), default="slerp")
parser.add_argument("--out", type=Path, default=Path("outputs"))
args = parser.parse_args()

result = gan_interpolation(*args.seeds, frames=args.frames, method=args.method)
args.out.mkdir(parents=True, exist_ok=True)
(args.out / "gan_interpolation.gif").write_bytes(result.gif)
result.images[0].save(args.out / "gan_first.png")  # seed A's own sample
result.images[-1].save(args.out / "gan_last.png")  # seed B's own sample
print(f"{len(result.images)} frames ({args.method}) in {args.out}/gan_interpolation.gif")
if result.labels:  # a conditional generator (the built-in one): the classes each end's codes name
    print(f"from {result.labels[0]} to {result.labels[-1]}")