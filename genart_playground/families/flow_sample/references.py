"""Pictures to hold a flow's likelihood against: a shapes picture, a plain background, noise and a photo."""

import random

import numpy as np
from PIL import Image

from ... import settings
from ...data import shapes

PHOTO = settings.PACKAGE_DIR.parent / "examples" / "images" / "grace_hopper.jpg"  # public domain: LICENSES.md there


def reference_pictures(seed: int = 0) -> dict[str, Image.Image]:
    """Name → 64×64 picture. The shapes scene is of a seed the flow never trained on (training used seed 0's
    scenes; this draws from its own random stream)."""
    scene = shapes.sample_scene(random.Random(f"flow-reference/{seed}"))
    noise = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    pictures = {
        f"a shapes picture ({shapes.full_caption(scene)})": shapes.render(scene),
        "a plain gray background, no shape": Image.new("RGB", (64, 64), shapes.BACKGROUNDS["gray"]),
        "random noise": Image.fromarray(noise),
    }
    if PHOTO.exists():  # the examples folder sits beside the package in a checkout, not in a wheel
        with Image.open(PHOTO) as photo:
            pictures["a photo (Grace Hopper)"] = shapes.square(photo.convert("RGB"), 64)
    return pictures
