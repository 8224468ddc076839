"""GenArt Playground: text-to-image, style transfer, GAN interpolation and VAE reconstruction.

The public API is the four adapters below (plain functions, keyword-only options) and the
model list. The Gradio app in `app.py` is one user of this API; scripts and notebooks are others.
"""

__version__ = "0.1.0"

from .adapters.gan_interpolation import gan_interpolation
from .adapters.style_transfer import style_transfer
from .adapters.text_to_image import text_to_image
from .adapters.vae_reconstruction import vae_reconstruction
from .models.registry import ModelSpec, models_for, register

__all__ = ["text_to_image", "style_transfer", "gan_interpolation", "vae_reconstruction", "models_for",
           "register", "ModelSpec"]
