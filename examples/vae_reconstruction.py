"""VAE reconstruction with the package API: what the autoencoder keeps, and what it loses.

    python examples/vae_reconstruction.py [--image IMAGE] [--model NAME] [--out outputs]
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout, installed or not
from genart_playground import vae_reconstruction

IMAGES = Path(__file__).resolve().parent / "images"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--image", default=str(IMAGES / "shapes.png"))
parser.add_argument("--model", default=None, help="default: the built-in shapes VAE (or GENART_VAE_MODEL)")
parser.add_argument("--out", type=Path, default=Path("outputs"))
args = parser.parse_args()

result = vae_reconstruction(args.image, model=args.model)
args.out.mkdir(parents=True, exist_ok=True)
result.images[0].save(args.out / "vae_reconstruction.png")
result.error_map.save(args.out / "vae_error_map.png")
result.latent_channels.save(args.out / "vae_latent_channels.png")
(args.out / "vae_reconstruction.json").write_text(json.dumps(result.metadata, indent=2))
m = result.metrics
print(f"PSNR {m['psnr']:.1f} dB, SSIM {m['ssim']:.3f}, {m['compression_ratio']:.0f}× fewer values; results in {args.out}/")