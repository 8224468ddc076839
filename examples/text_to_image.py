"""Text to image with the package API: four pictures from one prompt, and their recipe.

    python examples/text_to_image.py [--prompt "..."] [--model NAME] [--out outputs]
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout, installed or not
from genart_playground import text_to_image

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--prompt", default="a large red circle on the left on a white background")
parser.add_argument("--model", default=None, help="default: the built-in shapes model (or GENART_T2I_MODEL)")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", type=Path, default=Path("outputs"))
args = parser.parse_args()

result = text_to_image(args.prompt, model=args.model, num_images=4, seed=args.seed)
args.out.mkdir(parents=True, exist_ok=True)
for i, image in enumerate(result.images):
    image.save(args.out / f"text_to_image_{i}.png")  # image i is the image of seed + i on its own
(args.out / "text_to_image.json").write_text(json.dumps(result.metadata, indent=2))
print(f"{len(result.images)} images of {result.metadata['width']}×{result.metadata['height']} in {args.out}/")