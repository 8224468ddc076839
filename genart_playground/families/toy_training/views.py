"""What the lab shows of a run, drawn with PIL on the plane [-3, 3]² (y up): the points, the discriminator's
map with where it pushes the fakes, a grid of z bent into x, the density, and the sampler's vector field."""

import torch
from PIL import Image, ImageDraw, ImageFont

from ... import imaging
from ...devices import make_generator
from .data import EXTENT

VIEW = 256  # pixels across each view
REAL, FAKE, PATH = (150, 150, 150), (240, 120, 20), (40, 90, 210)
SHOWN_POINTS = 600


def font(size: int = 11):
    return ImageFont.load_default(size=size)


def to_pixel(xy: torch.Tensor) -> list[tuple[float, float]]:
    scaled = (xy.nan_to_num(0.0).clamp(-2 * EXTENT, 2 * EXTENT) + EXTENT) / (2 * EXTENT) * VIEW
    return [(float(x), VIEW - float(y)) for x, y in scaled]


def plane_grid(resolution: int) -> torch.Tensor:
    """Cell centres of a resolution² grid over the plane, row by row from the top."""
    axis = (torch.arange(resolution) + 0.5) / resolution * 2 * EXTENT - EXTENT
    y, x = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], 1)


def framed(image: Image.Image, title: str) -> Image.Image:
    """Axes through the origin with ticks at ±2 (units of the data), and the view's title."""
    draw = ImageDraw.Draw(image)
    centre = VIEW / 2
    draw.line([(0, centre), (VIEW, centre)], fill=(200, 200, 200))
    draw.line([(centre, 0), (centre, VIEW)], fill=(200, 200, 200))
    for value in (-2, 2):
        at = (value + EXTENT) / (2 * EXTENT) * VIEW
        draw.line([(at, centre - 3), (at, centre + 3)], fill=(120, 120, 120))
        draw.line([(centre - 3, VIEW - at), (centre + 3, VIEW - at)], fill=(120, 120, 120))
        draw.text((at - 5, centre + 4), str(value), fill=(110, 110, 110), font=font(10))
        draw.text((centre + 5, VIEW - at - 6), str(value), fill=(110, 110, 110), font=font(10))
    draw.rectangle([0, 0, VIEW - 1, VIEW - 1], outline=(180, 180, 180))
    box = draw.textbbox((5, 4), title, font=font(12))
    draw.rectangle([box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2], fill=(255, 255, 255))
    draw.text((5, 4), title, fill=(30, 30, 30), font=font(12))
    return image


def dots(draw: ImageDraw.ImageDraw, xy: torch.Tensor, colour, radius: float = 1.5) -> None:
    for px, py in to_pixel(xy):
        draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill=colour)


def arrows(draw: ImageDraw.ImageDraw, starts: torch.Tensor, directions: torch.Tensor, colour, length: float) -> None:
    """Arrows of one length in pixels: the direction only (their sizes vary over orders of magnitude)."""
    unit = directions / directions.norm(dim=1, keepdim=True).clamp(min=1e-8)
    for (x, y), (dx, dy) in zip(to_pixel(starts), unit.tolist()):
        end = (x + dx * length, y - dy * length)
        draw.line([(x, y), end], fill=colour, width=1)
        draw.ellipse([end[0] - 1.2, end[1] - 1.2, end[0] + 1.2, end[1] + 1.2], fill=colour)


def points_view(real: torch.Tensor, fake: torch.Tensor) -> Image.Image:
    image = Image.new("RGB", (VIEW, VIEW), (252, 252, 252))
    draw = ImageDraw.Draw(image)
    dots(draw, real[:SHOWN_POINTS], REAL)
    dots(draw, fake[:SHOWN_POINTS], FAKE)
    return framed(image, "real (gray) and generated (orange)")


def critic_view(learner, fake: torch.Tensor) -> Image.Image:
    """The discriminator's score over the plane (yellow: "real"), the fakes, and where G's loss pushes them."""
    scores = learner.critic(plane_grid(64)).view(64, 64)
    scores = scores - scores.min()
    image = imaging.heat_map(scores).resize((VIEW, VIEW), Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    shown = fake[:150]
    dots(draw, shown, (255, 255, 255), 1.8)
    arrows(draw, shown[:60], learner.push(shown[:60]), (255, 90, 60), 12)
    return framed(image, "discriminator (yellow: real), pushes on fakes")


def warp_view(learner) -> Image.Image:
    """Lines of a square grid of z (−3 … 3) through the generator, decoder or inverse flow."""
    image = Image.new("RGB", (VIEW, VIEW), (252, 252, 252))
    draw = ImageDraw.Draw(image)
    along = torch.linspace(-EXTENT, EXTENT, 100)
    for value in torch.linspace(-EXTENT, EXTENT, 13):
        for line in (torch.stack([along, torch.full_like(along, float(value))], 1),
                     torch.stack([torch.full_like(along, float(value)), along], 1)):
            draw.line(to_pixel(learner.warp(line)), fill=PATH, width=1)
    return framed(image, "a square grid of z, bent into x")


def blurred(counts: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    offsets = torch.arange(-4, 5, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    image = counts[None, None]
    image = torch.nn.functional.conv2d(image, kernel.view(1, 1, 1, -1), padding=(0, 4))
    return torch.nn.functional.conv2d(image, kernel.view(1, 1, -1, 1), padding=(4, 0))[0, 0]


def density_view(learner, samples: torch.Tensor) -> Image.Image:
    """Exact where the learner gives log p(x) (a flow); otherwise estimated: its samples' smoothed histogram."""
    if hasattr(learner, "log_density"):
        density = learner.log_density(plane_grid(96)).exp().view(96, 96)
        title = "density p(x), exact"
    else:
        cells = ((samples.nan_to_num(1e6, 1e6, -1e6) + EXTENT) / (2 * EXTENT) * 96).long()
        inside = ((cells >= 0) & (cells < 96)).all(1)
        cells = cells[inside]
        counts = torch.bincount((95 - cells[:, 1]) * 96 + cells[:, 0], minlength=96 * 96).float().view(96, 96)
        density = blurred(counts)
        title = "density, estimated from samples"
    image = imaging.heat_map(density).resize((VIEW, VIEW), Image.BILINEAR)
    return framed(image, title)


def field_view(learner, seed: int) -> Image.Image:
    """The sampler's vector field at one time (arrows) and a few samples' paths from noise (blue) to points."""
    image = Image.new("RGB", (VIEW, VIEW), (252, 252, 252))
    draw = ImageDraw.Draw(image)
    starts = plane_grid(17)
    arrows(draw, starts, learner.field(starts), (170, 170, 170), 6)
    for path in learner.paths(8, make_generator(seed + 5)):
        every = max(1, len(path) // 20)  # a DDPM path jitters at every step: its trend, in 20 segments
        draw.line(to_pixel(path[::every]), fill=PATH, width=1)
        dots(draw, path[-1:], FAKE, 2.5)
    return framed(image, f"field at t = {learner.FIELD_TIME}, paths from noise")


def draw_views(run) -> dict[str, Image.Image]:
    """Every view the run's family has, by name."""
    learner = run.learner
    real = run.data.sample(SHOWN_POINTS, make_generator(run.config.seed + 4))
    fake = run.samples()
    views = {"points": points_view(real, fake)}
    if "critic" in learner.VIEWS:
        views["discriminator"] = critic_view(learner, fake)
    if "warp" in learner.VIEWS:
        views["warped grid"] = warp_view(learner)
    views["density"] = density_view(learner, fake)
    if "field" in learner.VIEWS:
        views["vector field"] = field_view(learner, run.config.seed)
    return views
