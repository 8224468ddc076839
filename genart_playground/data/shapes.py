"""The shapes world: a deterministic, seeded data set of one coloured shape on a plain background.

This is the fixed contract of issue 4 §1: 64×64 RGB, 3 backgrounds, 6 colours, 4 shapes, 2 sizes,
5 positions, captions that leave attributes out at random, and 4 colour×shape combinations held out
of the training split; and each scene's sketch (issue 16 §2), its pair for image translation.
`ImageFolderDataset` reads a user's own pictures so the same training commands work on them too.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from .. import imaging

if TYPE_CHECKING:  # the datasets' annotations; torch itself loads with the first tensor
    import torch

IMAGE_SIZE = 64
SUPERSAMPLE = 4  # draw at 4× and average down: anti-aliased edges, exact colours inside

BACKGROUNDS = {"white": (245, 245, 245), "black": (20, 20, 20), "gray": (128, 128, 128)}
COLORS = {
    "red": (220, 40, 40),
    "orange": (240, 140, 20),
    "yellow": (240, 210, 30),
    "green": (40, 170, 70),
    "blue": (40, 90, 220),
    "purple": (140, 60, 190),
}
SHAPES = ("circle", "square", "triangle", "diamond")
SIZES = {"small": 18, "large": 30}  # pixels across the bounding box, before the ±10 % jitter
SIZE_JITTER = 0.10
POSITIONS = {"left": (20, 32), "center": (32, 32), "right": (44, 32), "top": (32, 20), "bottom": (32, 44)}
POSITION_JITTER = 3  # pixels, each axis
POSITION_PHRASES = {
    "left": "on the left",
    "center": "in the center",
    "right": "on the right",
    "top": "at the top",
    "bottom": "at the bottom",
}
HELD_OUT = frozenset({("red", "square"), ("green", "triangle"), ("blue", "circle"), ("yellow", "diamond")})
SPLITS = ("train", "heldout", "all")
OMIT_PROBABILITY = 0.3  # each of size, position, background; a third keeps short prompts common

TRAIN_COMBOS = tuple((c, s) for c in COLORS for s in SHAPES if (c, s) not in HELD_OUT)
HELDOUT_COMBOS = tuple((c, s) for c in COLORS for s in SHAPES if (c, s) in HELD_OUT)
ALL_COMBOS = tuple((c, s) for c in COLORS for s in SHAPES)


@dataclass(frozen=True)
class Scene:
    color: str
    shape: str
    size: str
    position: str
    background: str
    extent: float  # the bounding box side in pixels, after jitter
    center: tuple[float, float]  # the bounding box centre (x, y) in pixels, after jitter


def shapes_codes() -> list[list[str]]:
    """A conditional generator's codes: the 20 training colour×shape combinations, then the backgrounds."""
    return [[f"{color} {shape}" for color, shape in TRAIN_COMBOS], list(BACKGROUNDS)]


def _combos(split: str) -> tuple[tuple[str, str], ...]:
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}, got {split!r}.")
    return {"train": TRAIN_COMBOS, "heldout": HELDOUT_COMBOS, "all": ALL_COMBOS}[split]


def sample_scene(rng: random.Random, split: str = "train", **fixed) -> Scene:
    """Draw a scene; attributes given in `fixed` (color, shape, size, position, background) are kept."""
    color, shape = rng.choice(_combos(split))
    color, shape = fixed.get("color", color), fixed.get("shape", shape)
    size = fixed.get("size", rng.choice(list(SIZES)))
    position = fixed.get("position", rng.choice(list(POSITIONS)))
    background = fixed.get("background", rng.choice(list(BACKGROUNDS)))
    extent = SIZES[size] * (1 + rng.uniform(-SIZE_JITTER, SIZE_JITTER))
    x, y = POSITIONS[position]
    center = (x + rng.uniform(-POSITION_JITTER, POSITION_JITTER), y + rng.uniform(-POSITION_JITTER, POSITION_JITTER))
    return Scene(color, shape, size, position, background, extent, center)


def _outline(shape: str, cx: float, cy: float, half: float) -> list[tuple[float, float]]:
    """Polygon corners for the polygonal shapes, all with a (2·half)-wide bounding box at (cx, cy)."""
    if shape == "square":
        return [(cx - half, cy - half), (cx + half, cy - half), (cx + half, cy + half), (cx - half, cy + half)]
    if shape == "triangle":  # upright: apex at the top, flat base at the bottom
        return [(cx, cy - half), (cx + half, cy + half), (cx - half, cy + half)]
    if shape == "diamond":  # a square turned 45°
        return [(cx, cy - half), (cx + half, cy), (cx, cy + half), (cx - half, cy)]
    raise ValueError(f"`shape` must be one of {SHAPES}, got {shape!r}.")


def render(scene: Scene) -> Image.Image:
    """Draw the scene at 4× and average down to 64×64."""
    big = IMAGE_SIZE * SUPERSAMPLE
    image = Image.new("RGB", (big, big), BACKGROUNDS[scene.background])
    draw = ImageDraw.Draw(image)
    cx, cy = (c * SUPERSAMPLE for c in scene.center)
    half = scene.extent * SUPERSAMPLE / 2
    fill = COLORS[scene.color]
    if scene.shape == "circle":
        draw.ellipse([cx - half, cy - half, cx + half, cy + half], fill=fill)
    else:
        draw.polygon(_outline(scene.shape, cx, cy, half), fill=fill)
    return image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BOX)


# Sketches (issue 16 §2, a fixed contract): the same scene as a learner would draw it, for image translation.
SKETCH_LINE_WIDTH = 2  # pixels
SKETCH_CIRCLE_POINTS = 24
SKETCH_SIDE_SPACING = 4  # pixels between outline points along a side of a square, triangle or diamond
SKETCH_WOBBLE = 1.0  # pixels: each outline point moves by up to this much on each axis


def sketch_outline(scene: Scene, rng: random.Random) -> list[tuple[float, float]]:
    """The sketch's polygon in pixels: 24 points around a circle, or the corners of the other shapes
    with a point every 4 px along each side; the geometry of `render(scene)`, each point moved at random."""
    (cx, cy), half = scene.center, scene.extent / 2
    if scene.shape == "circle":
        angles = (2 * math.pi * k / SKETCH_CIRCLE_POINTS for k in range(SKETCH_CIRCLE_POINTS))
        points = [(cx + half * math.cos(a), cy + half * math.sin(a)) for a in angles]
    else:
        corners = _outline(scene.shape, cx, cy, half)
        points = []
        for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):
            pieces = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / SKETCH_SIDE_SPACING))
            points += [(x0 + (x1 - x0) * i / pieces, y0 + (y1 - y0) * i / pieces) for i in range(pieces)]
    return [(x + rng.uniform(-SKETCH_WOBBLE, SKETCH_WOBBLE), y + rng.uniform(-SKETCH_WOBBLE, SKETCH_WOBBLE))
            for x, y in points]


def sketch(scene: Scene, rng: random.Random | None = None, *, width: float = SKETCH_LINE_WIDTH) -> Image.Image:
    """The scene's sketch, the pair of `render(scene)`: its background colour as the paper and the shape's
    outline as a line about 2 px wide in the shape's colour, straight between wobbled points. Without
    `rng` the wobble is the scene's own (the same scene, the same sketch). Another `width` (in pixels)
    draws a thinner or bolder pen, as a learner's might be: the translation scripts train on a few."""
    rng = rng if rng is not None else random.Random(f"sketch/{scene}")
    big = IMAGE_SIZE * SUPERSAMPLE
    image = Image.new("RGB", (big, big), BACKGROUNDS[scene.background])
    points = [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in sketch_outline(scene, rng)]
    ImageDraw.Draw(image).line(points + points[:1], fill=COLORS[scene.color],
                               width=round(width * SUPERSAMPLE), joint="curve")
    return image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BOX)


def caption(scene: Scene, rng: random.Random, omit_probability: float = OMIT_PROBABILITY) -> str:
    """`a {size} {color} {shape} {position phrase} on a {background} background`, parts left out at random."""
    words = ["a"]
    if rng.random() >= omit_probability:
        words.append(scene.size)
    words += [scene.color, scene.shape]
    if rng.random() >= omit_probability:
        words.append(POSITION_PHRASES[scene.position])
    if rng.random() >= omit_probability:
        words.append(f"on a {scene.background} background")
    return " ".join(words)


def full_caption(scene: Scene) -> str:
    return caption(scene, random.Random(0), omit_probability=0.0)


def vocabulary() -> list[str]:
    """Every word a caption can contain, in a fixed order (the tokenizer is built from it)."""
    words = ["a", "on", "background", *SIZES, *COLORS, *SHAPES, *BACKGROUNDS]
    for phrase in POSITION_PHRASES.values():
        words += phrase.split()
    return list(dict.fromkeys(words))


# The datasets are plain map-style datasets (len and getitem are all a DataLoader asks for), so the world
# itself imports no torch: the UI reads its colours and backgrounds at start.
class ShapesDataset:
    """`n` seeded scenes; item i is always the same (image tensor in [-1, 1], caption) for a given seed."""

    def __init__(self, n: int, *, seed: int = 0, split: str = "train", omit_probability: float = OMIT_PROBABILITY):
        if n < 1:
            raise ValueError(f"`n` must be at least 1, got {n}.")
        _combos(split)
        self.n, self.seed, self.split, self.omit_probability = n, seed, split, omit_probability

    def __len__(self) -> int:
        return self.n

    def _rng(self, index: int) -> random.Random:
        return random.Random(f"shapes/{self.seed}/{self.split}/{index}")  # str seeds are stable across runs

    def scene(self, index: int) -> Scene:
        return sample_scene(self._rng(index), self.split)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str]:
        if not 0 <= index < self.n:
            raise IndexError(index)
        rng = self._rng(index)
        scene = sample_scene(rng, self.split)
        return imaging.to_tensor(render(scene))[0], caption(scene, rng, self.omit_probability)


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}


def _read_captions(folder: Path) -> dict[str, str]:
    """File name -> caption from metadata.jsonl ({"file_name", "text"}) or captions.txt (`name<TAB>caption`)."""
    metadata, text = folder / "metadata.jsonl", folder / "captions.txt"
    captions = {}
    if metadata.exists():
        for line in metadata.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                captions[row["file_name"]] = row.get("text") or row.get("caption", "")
    elif text.exists():
        for line in text.read_text(encoding="utf-8").splitlines():
            name, sep, words = line.partition("\t") if "\t" in line else line.partition(":")
            if sep:
                captions[name.strip()] = words.strip()
    return captions


def _caption_from_name(path: Path) -> str:
    return " ".join(path.stem.replace("_", " ").replace("-", " ").split())


def square(image: Image.Image, size: int) -> Image.Image:
    """The centre square of a picture, resized to size×size."""
    width, height = image.size
    side = min(width, height)
    box = ((width - side) // 2, (height - side) // 2, (width + side) // 2, (height + side) // 2)
    return image.crop(box).resize((size, size), Image.LANCZOS)


class ImageFolderDataset:
    """A user's own pictures, centre-cropped to `size`; captions from a sidecar file or the file names."""

    def __init__(self, folder: str | Path, *, size: int = IMAGE_SIZE):
        folder = Path(folder)
        if not folder.is_dir():
            raise ValueError(f"`folder` must be an existing directory, got {str(folder)!r}.")
        self.paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise ValueError(f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) found in {str(folder)!r}.")
        sidecar = _read_captions(folder)
        self.captions = [sidecar.get(p.name) or _caption_from_name(p) for p in self.paths]
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str]:
        with Image.open(self.paths[index]) as image:
            picture = square(imaging.to_rgb(image), self.size)
        return imaging.to_tensor(picture)[0], self.captions[index]


def make_dataset(data: str, n: int, *, seed: int = 0, split: str = "train", size: int = IMAGE_SIZE):
    """`data` is "shapes" for the shapes world or a folder of the user's own images."""
    if data == "shapes":
        return ShapesDataset(n, seed=seed, split=split)
    return ImageFolderDataset(data, size=size)


def as_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)
