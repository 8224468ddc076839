"""How the project judges pictures: one package, used by the evaluation lab (tab and API), the training
scripts, the benches and the tests.

- `pixels`: a reconstruction against its original (PSNR, SSIM).
- `world`: shapes-world pictures read by the project's checker (data/checker.py): clean pictures,
  what they show against what their prompts or codes name, combinations covered, mode collapse,
  controllability.
- `distribution`: a set of pictures against real ones in a feature space: FID and KID (torchmetrics),
  precision, recall, density and coverage, diversity.
- `walks`: how smoothly a GAN's pictures change along walks between seeds, and perceptual path length.
"""

__all__ = ["psnr", "psnr_per_image", "ssim"]


def __getattr__(name: str):
    # Imported on first use: the UI reads metrics.world's prompt sets at start, without torch.
    if name in __all__:
        from . import pixels

        return getattr(pixels, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
