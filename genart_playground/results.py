"""What the adapters return: images plus everything needed to reproduce them."""

import platform
from dataclasses import dataclass, field

from PIL import Image


@dataclass
class Result:
    images: list[Image.Image]
    metadata: dict


@dataclass
class TextToImageResult(Result):
    pass


@dataclass
class StyleTransferResult(Result):
    losses: dict[str, list[float]] = field(default_factory=dict)  # "content", "style", "total" per step
    intermediates: list[Image.Image] = field(default_factory=list)


@dataclass
class InterpolationResult(Result):
    gif: bytes = b""  # the frames as an animated GIF


@dataclass
class VaeResult(Result):
    metrics: dict[str, float] = field(default_factory=dict)  # psnr, ssim, compression_ratio
    error_map: Image.Image | None = None
    latent_channels: Image.Image | None = None


def versions() -> dict[str, str]:
    import diffusers
    import torch
    import transformers

    from . import __version__

    return {"genart_playground": __version__, "torch": torch.__version__, "diffusers": diffusers.__version__,
            "transformers": transformers.__version__, "python": platform.python_version()}


def base_metadata(task: str, spec, device, dtype, **params) -> dict:
    return {"task": task, "model": spec.name, **params, "device": str(device),
            "dtype": str(dtype).replace("torch.", ""), "generator_device": "cpu", "versions": versions()}
