"""Real photos that ship inside packages: the photo autoencoder's training set and its held-out test set.

Training (each source named with its licence in builtin/photo-vae/README.md):
  - scikit-image's bundled images (`pip install scikit-image`): the colour photos among them;
  - Debian packages of freely licensed wallpapers (`apt-get install mate-backgrounds
    plasma-workspace-wallpapers`): photos of nature, objects and landscapes.
Held out, never trained on: scikit-learn's two sample photos and matplotlib's Grace Hopper portrait.
"""

from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from .. import imaging

# scikit-image's colour photos, each public domain or CC0 (its grey, synthetic and tiny pictures left out,
# and those whose licence it does not state)
SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "ihc.png",
                  "retina.jpg")
# Debian's wallpaper packages: the photographic folders only (their abstract and logo art left out)
DEBIAN_FOLDERS = ("/usr/share/backgrounds/mate/nature", "/usr/share/wallpapers")
DEBIAN_PACKAGES = "mate-backgrounds plasma-workspace-wallpapers"
# plasma-workspace-wallpapers' drawings and renders: not photos
NOT_PHOTOS = ("Altai", "Canopee", "Cascade", "Cluster", "ColdRipple", "DarkestHour", "DebianTheme", "Elarun", "FlyingKonqui",
              "FuturePrototype", "Grey", "Honeywave", "IceCold", "Joy", "Kay", "Kokkini", "Lines", "MilkyWay",
              "Moonlight", "OneStandsOut", "Opal", "PastelHills", "Patak", "SafeLanding", "Shell",
              "SoftWaves", "SpaceFun", "Volna", "emerald", "homeworld", "moonlight", "summer_1am", "Flow")
SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass
class Photo:
    name: str  # where it came from, for the model card
    image: Image.Image


def skimage_photos() -> list[Photo]:
    try:
        import skimage
    except ImportError as error:
        raise SystemExit("The photo autoencoder trains on scikit-image's bundled photos: "
                         "pip install scikit-image") from error
    folder = Path(skimage.__file__).parent / "data"
    return [Photo(f"scikit-image/{name}", Image.open(folder / name).convert("RGB")) for name in SKIMAGE_PHOTOS
            if (folder / name).exists()]


def debian_photos(folders=DEBIAN_FOLDERS, max_side: int = 1024) -> list[Photo]:
    """One file per picture (the largest of each wallpaper's sizes), shrunk to `max_side` to save memory."""
    best: dict[str, Path] = {}
    for folder in map(Path, folders):
        for path in sorted(folder.rglob("*")):
            if (path.suffix.lower() not in SUFFIXES or path.stem == "screenshot"  # a wallpaper's preview
                    or any(part.startswith(NOT_PHOTOS) for part in path.parts[-4:])):
                continue
            key = str(path.parent.parent.parent if path.parent.name == "images" else path)  # a wallpaper's sizes
            if key not in best or path.stat().st_size > best[key].stat().st_size:
                best[key] = path
    if not best:
        raise SystemExit(f"No wallpaper photos found in {', '.join(folders)}: "
                         f"sudo apt-get install {DEBIAN_PACKAGES}")
    photos = []
    for path in best.values():
        image = Image.open(path).convert("RGB")
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        photos.append(Photo(str(path), image))
    return photos


def training_photos() -> list[Photo]:
    return skimage_photos() + debian_photos()


def heldout_photos(size: int = 256) -> list[Photo]:
    """scikit-learn's and matplotlib's sample photos, centre-cropped square and resized to `size`."""
    try:
        import matplotlib
        import sklearn.datasets
    except ImportError as error:
        raise SystemExit("The held-out photos ship with scikit-learn and matplotlib: "
                         "pip install scikit-learn matplotlib") from error
    paths = list(sklearn.datasets.load_sample_images().filenames)
    paths.append(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    photos = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
        photos.append(Photo(Path(path).name, image))
    return photos


class RandomCrops:
    """Random square crops of photos at random scales, flipped at random: endless training pictures.

    Each photo is kept at a few scales (short side `scales`), so a crop shows the detail density of a
    photo resized to about that many pixels, like a learner's upload shrunk to fit."""

    def __init__(self, photos: list[Photo], crop: int, scales=(256, 384, 512)):
        self.crop = crop
        self.pictures = []
        for photo in photos:
            for short in scales:
                scale = short / min(photo.image.size)
                if scale > 1:
                    continue  # never enlarge: upscaled photos are blurry, not photos
                size = (max(crop, round(photo.image.width * scale)), max(crop, round(photo.image.height * scale)))
                self.pictures.append(imaging.to_tensor(photo.image.resize(size, Image.Resampling.LANCZOS))[0])

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        crops = []
        for _ in range(size):
            picture = self.pictures[int(torch.randint(len(self.pictures), (1,), generator=generator))]
            top = int(torch.randint(picture.shape[1] - self.crop + 1, (1,), generator=generator))
            left = int(torch.randint(picture.shape[2] - self.crop + 1, (1,), generator=generator))
            crop = picture[:, top:top + self.crop, left:left + self.crop]
            crops.append(crop.flip(-1) if torch.rand(1, generator=generator) < 0.5 else crop)
        return torch.stack(crops)
