"""The built-in autoencoders' figures, as `bench/quality.py` prints them (the family's `bench`)."""

import time

import numpy as np
import torch

from ... import imaging, metrics, settings
from ...data import shapes


def vae_figures(n: int, seed: int) -> None:
    """Each built-in autoencoder's PSNR and SSIM on 32·n held-out shapes pictures and on the held-out photos
    (scikit-learn's and matplotlib's, at 256×256), and its 512×512 round trip's time."""
    from diffusers import AutoencoderKL

    from ...data import photos

    n = 32 * n
    held = shapes.ShapesDataset(n, seed=seed + 1000, split="heldout")
    pictures = {f"{n} held-out shapes pictures": torch.stack([held[i][0] for i in range(n)])}
    try:
        pictures["the 3 held-out photos, 256×256"] = torch.cat([imaging.to_tensor(photo.image)
                                                                for photo in photos.heldout_photos(256)])
    except SystemExit as missing:  # scikit-learn or matplotlib not installed
        print(f"  (no held-out photos: {missing})")
    for name, folder, subfolder in (("photo-vae", settings.BUILTIN_DIR / "photo-vae", None),
                                    ("shapes-vae", settings.BUILTIN_DIR / "shapes-t2i", "vae")):
        if not (folder / (subfolder or "") / "config.json").exists():
            print(f"{name}: not shipped")
            continue
        vae = AutoencoderKL.from_pretrained(folder, subfolder=subfolder, use_safetensors=True).eval()
        for kind, x in pictures.items():
            with torch.no_grad():
                recon = torch.cat([vae.decode(vae.encode(c).latent_dist.mode()).sample
                                   for c in x.split(16)]).clamp(-1, 1)
            psnr = metrics.psnr_per_image(x, recon)
            ssim = np.mean([metrics.ssim(a[None], b[None]) for a, b in zip(x, recon)])
            print(f"{name} on {kind}: PSNR mean {psnr.mean():.2f} dB (min {psnr.min():.2f}), SSIM {ssim:.3f}")
        big = imaging.to_tensor(shapes.render(held.scene(0)).resize((512, 512)))
        began = time.perf_counter()
        with torch.no_grad():
            vae.decode(vae.encode(big).latent_dist.mode())
        print(f"  {name} 512×512 round trip: {time.perf_counter() - began:.2f} s")
