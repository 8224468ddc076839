"""GenArt Playground: text-to-image, style transfer, GAN interpolation and VAE reconstruction.

The public API is the four adapters below, the teaching views beside them, (plain functions, keyword-only options) and the
model list. The Gradio app in `app.py` is one user of this API; scripts and notebooks are others.
Names load on first use, so `import genart_playground` stays light (no torch until needed).
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "text_to_image": ".adapters.text_to_image",
    "style_transfer": ".adapters.style_transfer",
    "gan_interpolation": ".adapters.gan_interpolation",
    "vae_reconstruction": ".adapters.vae_reconstruction",
    # The teaching views: what happens inside a model, step by step or along a path.
    "denoising_timeline": ".adapters.denoising_timeline",
    "diffusion_walk": ".adapters.diffusion_walk",
    "vae_walk": ".adapters.vae_walk",
    "models_for": ".models.registry",
    "register": ".models.registry",
    "ModelSpec": ".models.registry",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'genart_playground' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
