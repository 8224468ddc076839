"""Style transfer with the package API: Gatys optimisation against a style picture.

    python examples/style_transfer.py [--content IMAGE] [--style IMAGE] [--steps 100] [--out outputs]
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout, installed or not
from genart_playground import style_transfer

IMAGES = Path(__file__).resolve().parent / "images"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--content", default=str(IMAGES / "shapes.png"))
parser.add_argument("--style", default=str(IMAGES / "stripes.png"))
parser.add_argument("--steps", type=int, default=None, help="default: the feature network's own")
parser.add_argument("--out", type=Path, default=Path("outputs"))
args = parser.parse_args()

# Paths go straight in (the adapter checks the file before decoding it). A text `style` would be a
# style prompt for img2img, so the method is named.
result = style_transfer(args.content, args.style, method="gatys", steps=args.steps, seed=0)
args.out.mkdir(parents=True, exist_ok=True)
result.images[0].save(args.out / "style_transfer.png")
(args.out / "style_transfer.json").write_text(json.dumps(result.metadata, indent=2))
losses = result.losses
print(f"style loss {losses['style'][0]:.3g} -> {losses['style'][-1]:.3g}, "
      f"content loss {losses['content'][0]:.3g} -> {losses['content'][-1]:.3g}; result in {args.out}/")