"""Small test pictures for style transfer, drawn here so every test uses the same ones."""

import numpy as np
from PIL import Image, ImageDraw


def house(width: int = 60, height: int = 40) -> Image.Image:
    """A red house on green grass under a blue sky: distinct colours, so chroma checks mean something."""
    image = Image.new("RGB", (width, height), (110, 170, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, int(height * 0.7), width, height], fill=(60, 140, 60))
    draw.rectangle([int(width * 0.2), int(height * 0.4), int(width * 0.5), int(height * 0.8)], fill=(200, 50, 40))
    return image


def stripes(size: int = 48) -> Image.Image:
    """Yellow and white diagonal stripes on navy: a palette and a texture unlike the house's."""
    rng = np.random.default_rng(0)
    image = Image.new("RGB", (size, size), (20, 30, 90))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.uniform(0, size, 2)
        colour = (240, 200, 40) if rng.random() < 0.6 else (250, 245, 220)
        draw.line([(x, y), (x + 6, y + 4)], fill=colour, width=2)
    return image
