"""The flow's pictures: the cached model, pictures brought to its size, and its output as pictures."""

import numpy as np
import torch
from PIL import Image

from ... import checks, imaging, uploads
from ...models import registry
from ...models.cache import cache
from .glow import Glow

FAMILY = "flow_sample"  # the models' category in the registry


def load(model: str | None, progress=None) -> tuple:
    """The model's spec and the cached flow."""
    spec = registry.resolve(FAMILY, model)
    return spec, cache.load(FAMILY, spec.name, progress=progress)


def device_of(flow: Glow) -> torch.device:
    return next(flow.parameters()).device


def open_picture(name: str, value) -> Image.Image:
    """An upload, a path or a PIL picture, checked (pixel count before decoding) and in RGB."""
    return imaging.to_rgb(checks.check_image(name, uploads.open_if_file(value)))


def to_model_size(image: Image.Image, size: int, name: str = "image") -> tuple[Image.Image, list[str]]:
    """The centre square of a picture, box-filtered to size×size as the training pictures were (the shapes
    world's 64×64 halved), with notes saying what changed."""
    notes = [f"{name}: {note}" for note in uploads.upload_notes(image)]
    width, height = image.size
    if width != height:
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        notes.append(f"{name}: cropped to its centre {side}×{side} square (the flow draws square pictures)")
    if image.size != (size, size):
        notes.append(f"{name}: resized from {image.size[0]}×{image.size[1]} to {size}×{size}, the model's size")
        image = image.resize((size, size), Image.BOX)
    return image, notes


def as_bytes(images: list[Image.Image]) -> torch.Tensor:
    """Pictures → uint8 (N, 3, H, W): the 8-bit values the likelihood is of."""
    return torch.stack([torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1) for image in images])


def to_pictures(pixels: torch.Tensor, model: str) -> tuple[list[Image.Image], list[str]]:
    """A flow's output in [0, 1] → PIL pictures, after the NaN check (a decode can overshoot [0, 1] a little)."""
    warnings = checks.check_output(pixels, model, low=0.0, high=1.0)
    return imaging.to_pil(pixels.float().cpu().clamp(0, 1) * 2 - 1), warnings
