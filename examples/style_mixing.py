"""StyleGAN style mixing with the package API: the coarse layers from one seed, the fine layers from
another, as the StyleGAN paper's grid, and what each layer controls (read by the project's checker).

    python examples/style_mixing.py [--coarse 1 2 3 4] [--fine 5 6 7 8] [--crossover 3] [--out outputs]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout, installed or not
from genart_playground import style_mixing

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--coarse", type=int, nargs="+", default=[1, 2, 3, 4])
parser.add_argument("--fine", type=int, nargs="+", default=[5, 6, 7, 8])
parser.add_argument("--crossover", type=int, default=None, help="the first layer given the fine seed's style")
parser.add_argument("--out", type=Path, default=Path("outputs"))
args = parser.parse_args()

result = style_mixing(args.coarse, args.fine, crossover=args.crossover)
args.out.mkdir(parents=True, exist_ok=True)
result.grid.save(args.out / "style_mixing.png")
crossover = result.metadata["crossover"]
resolution = result.metadata["crossover_resolution"]
print(f"{len(result.images)} mixes in {args.out}/style_mixing.png: coarse seeds' styles up to layer {crossover - 1}, "
      f"fine seeds' from layer {crossover} ({resolution}×{resolution}) on")
print("share of mixes keeping the coarse seed's attribute, per crossover:")
for row in result.controls:
    shares = "  ".join(f"{name} {'-' if row[name] is None else f'{row[name]:.0%}'}"
                       for name in ("shape", "color", "size", "position", "background"))
    print(f"  layer {row['crossover']} ({row['resolution']}×{row['resolution']}): {shares}")
