"""Conversions between PIL images and tensors, and the pictures the adapters draw.

The functions that take or make tensors import torch themselves: the UI draws grids and GIFs with this
module, and the page is served before torch is imported.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from . import limits

if TYPE_CHECKING:  # the annotations name torch's types; torch itself loads with the first tensor
    import torch


def to_rgb(image: Image.Image) -> Image.Image:
    """Any mode (alpha, palette, CMYK, 16-bit, animated) to 8-bit RGB; transparency over white."""
    if getattr(image, "is_animated", False):
        image.seek(0)  # the first frame of a GIF/APNG/WebP animation
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        image = Image.fromarray((array * (255.0 / max(array.max(), 1.0))).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def fit_pixels(image: Image.Image, max_pixels: int | None = None) -> tuple[Image.Image, str | None]:
    """Shrink an image to at most `max_pixels` (default: limits.MAX_MODEL_PIXELS), keeping its aspect;
    say so when it happens."""
    max_pixels = max_pixels or limits.MAX_MODEL_PIXELS
    width, height = image.size
    if width * height <= max_pixels:
        return image, None
    scale = (max_pixels / (width * height)) ** 0.5
    size = (max(8, int(width * scale)), max(8, int(height * scale)))
    return image.resize(size, Image.LANCZOS), f"resized from {width}×{height} to {size[0]}×{size[1]}"


def to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL RGB -> (1, 3, H, W) float in [-1, 1]."""
    import torch

    array = np.asarray(to_rgb(image), dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def to_pil(batch: torch.Tensor) -> list[Image.Image]:
    """(N, 3, H, W) in [-1, 1] -> N PIL RGB images."""
    import torch

    array = ((batch.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return [Image.fromarray(a.permute(1, 2, 0).cpu().numpy()) for a in array]


# A perceptual colour map (dark blue -> teal -> yellow), enough for heat maps without matplotlib.
_MAP = [[0.27, 0.00, 0.33], [0.23, 0.32, 0.55], [0.13, 0.57, 0.55], [0.37, 0.79, 0.38], [0.99, 0.91, 0.14]]


def heat_map(values: torch.Tensor, max_value: float | None = None) -> Image.Image:
    """(H, W) tensor -> a coloured PIL image; 0 is dark, `max_value` (default: the max) is yellow."""
    import torch

    colours = torch.tensor(_MAP)
    values = values.detach().float().cpu()
    top = max_value if max_value is not None else float(values.max())
    scaled = (values / max(top, 1e-8)).clamp(0, 1) * (len(_MAP) - 1)
    low = scaled.floor().long().clamp(max=len(_MAP) - 2)
    frac = (scaled - low).unsqueeze(-1)
    rgb = colours[low] * (1 - frac) + colours[low + 1] * frac
    return Image.fromarray((rgb * 255).round().to(torch.uint8).numpy())


def grid(images: list[Image.Image], columns: int, pad: int = 2) -> Image.Image:
    width, height = images[0].size
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (width + pad) - pad, rows * (height + pad) - pad), (255, 255, 255))
    for i, image in enumerate(images):
        sheet.paste(image, ((i % columns) * (width + pad), (i // columns) * (height + pad)))
    return sheet


def gif_bytes(frames: list[Image.Image], duration_ms: int = 80) -> bytes:
    # Fast octree palettes without dithering: Pillow's default (median cut + dither) costs about
    # 10× more, and dithering speckles the flat colours these frames mostly hold.
    frames = [frame.quantize(method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE) for frame in frames]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return buffer.getvalue()


def mp4_bytes(frames: list[Image.Image], fps: int = 12) -> bytes:
    """H.264 in an MP4, through PyAV's bundled FFmpeg (a pip wheel: no system install). Frames are
    scaled up to at least 256 px and to even sizes, which yuv420p needs and small frames would blur."""
    import av

    width, height = frames[0].size
    scale = max(1, -(-256 // min(width, height)))
    size = ((width * scale + 1) // 2 * 2, (height * scale + 1) // 2 * 2)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for frame in frames:
            picture = av.VideoFrame.from_image(to_rgb(frame).resize(size, Image.Resampling.NEAREST))
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
