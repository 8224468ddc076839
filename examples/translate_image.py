"""Image translation with the package API: a sketch becomes a picture (Pix2Pix), and with CycleGAN the
picture goes back to a sketch.

    python examples/translate_image.py [--image examples/images/sketch_green_triangle.png]
        [--model builtin/shapes-pix2pix] [--direction sketch_to_picture|picture_to_sketch] [--out outputs]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout, installed or not
from PIL import Image

from genart_playground import translate_image

HERE = Path(__file__).resolve().parent
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--image", type=Path, default=HERE / "images" / "sketch_green_triangle.png")
parser.add_argument("--model", default=None, help="builtin/shapes-pix2pix (the default) or builtin/shapes-cyclegan")
parser.add_argument("--direction", default=None, choices=("sketch_to_picture", "picture_to_sketch"))
parser.add_argument("--out", type=Path, default=Path("outputs"))
args = parser.parse_args()

result = translate_image(Image.open(args.image), model=args.model, direction=args.direction)
args.out.mkdir(parents=True, exist_ok=True)
result.images[0].save(args.out / "translation.png")
print(f"{result.metadata['model']}, {result.metadata['direction']}: {args.out}/translation.png "
      f"({'; '.join(result.metadata['notes']) or 'no resizing'})")
if result.cycle is not None:  # CycleGAN: the way back
    result.cycle.save(args.out / "round_trip.png")
    print(f"round trip: {args.out}/round_trip.png, {result.metrics['cycle_psnr']:.1f} dB against the input")
