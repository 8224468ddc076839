"""A RealNVP on 2-D points (Dinh et al., 2017): small enough to train live in seconds, and every step of it
visible: the density it gives each point of the plane, and how it bends a square grid of z into x.

`train_points(config, on_step=None, should_stop=None)` is the training loop (the training lab reuses it);
`RealNVP2D` the network; `density_map`, `warped_grid` and `scatter` draw it with PIL alone.
"""

import math
from dataclasses import dataclass

import torch
from PIL import Image, ImageDraw
from torch import nn

from ... import imaging
from ...devices import make_generator

from . import POINT_SETS as DATASETS
EXTENT = 3.0  # the plane drawn: [-3, 3] on both axes (the data is scaled to about [-2, 2])
VIEW = 256  # pixels across each view


def points(dataset: str, count: int, generator: torch.Generator) -> torch.Tensor:
    """`count` points of a toy 2-D data set, (count, 2), scaled to about [-2, 2]."""
    if dataset not in DATASETS:
        raise ValueError(f"`dataset` must be one of {', '.join(DATASETS)}, got {dataset!r}.")
    angle = torch.rand(count, generator=generator) * math.pi
    half = torch.rand(count, generator=generator) < 0.5
    if dataset == "two moons":  # two interleaved half circles, the second flipped and shifted
        x = torch.where(half, torch.cos(angle), 1 - torch.cos(angle))
        y = torch.where(half, torch.sin(angle), 0.5 - torch.sin(angle))
        xy = torch.stack([x - 0.5, y - 0.25], 1) * 1.6
    else:  # two concentric circles, radius 0.8 and 1.8
        radius = torch.where(half, 0.8, 1.8)
        xy = torch.stack([torch.cos(2 * angle), torch.sin(2 * angle)], 1) * radius[:, None]
    return xy + 0.06 * torch.randn(count, 2, generator=generator)


class Coupling2D(nn.Module):
    """One coordinate, untouched, gives the other a shift and a (soft-clamped) log scale."""

    def __init__(self, keep: int, hidden: int):
        super().__init__()
        self.keep = keep
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2))
        nn.init.zeros_(self.net[-1].weight)  # each layer starts as the identity
        nn.init.zeros_(self.net[-1].bias)

    def shift_and_log_scale(self, kept):
        shift, raw = self.net(kept).chunk(2, 1)
        return shift, 2.0 * torch.tanh(raw / 2.0)

    def forward(self, x):
        kept, changed = x[:, self.keep:self.keep + 1], x[:, 1 - self.keep:2 - self.keep]
        shift, log_scale = self.shift_and_log_scale(kept)
        changed = (changed + shift) * torch.exp(log_scale)
        return self.join(kept, changed), log_scale[:, 0]

    def inverse(self, z):
        kept, changed = z[:, self.keep:self.keep + 1], z[:, 1 - self.keep:2 - self.keep]
        shift, log_scale = self.shift_and_log_scale(kept)
        return self.join(kept, changed * torch.exp(-log_scale) - shift)

    def join(self, kept, changed):
        return torch.cat([kept, changed] if self.keep == 0 else [changed, kept], 1)


class RealNVP2D(nn.Module):
    """x → z through `layers` couplings, alternating which coordinate is kept; z's prior is N(0, I)."""

    def __init__(self, layers: int = 8, hidden: int = 64):
        super().__init__()
        self.layers = nn.ModuleList(Coupling2D(i % 2, hidden) for i in range(layers))

    def forward(self, x):
        log_det = torch.zeros(len(x))
        for layer in self.layers:
            x, change = layer(x)
            log_det = log_det + change
        return x, log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        z, log_det = self(x)
        return -0.5 * (z ** 2).sum(1) - math.log(2 * math.pi) + log_det


@dataclass
class PointsConfig:
    """Train a RealNVP on 2-D points."""

    dataset: str = "two moons"
    steps: int = 400  # two moons are learnt in ~300 steps of 256 points: a few seconds on one CPU core
    batch_size: int = 256
    layers: int = 8  # couplings, alternating coordinates: 4 changes of each
    hidden: int = 64
    lr: float = 3e-3  # a tiny network on a smooth loss: a large step is safe
    seed: int = 0


def new_model(config: PointsConfig) -> RealNVP2D:
    torch.manual_seed(config.seed)
    return RealNVP2D(config.layers, config.hidden)


def train_points(config: PointsConfig, on_step=None, should_stop=None, model: RealNVP2D | None = None) -> RealNVP2D:
    """Maximum likelihood on fresh points every step; `on_step(step, total, logs)` after each (logs: the
    negative log-likelihood in nats per point), `should_stop()` ends it early. Pass `model` (from `new_model`)
    to look at it while it learns."""
    model = model if model is not None else new_model(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    data = make_generator(config.seed)
    for step in range(config.steps):
        loss = -model.log_prob(points(config.dataset, config.batch_size, data)).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if on_step is not None:
            on_step(step + 1, config.steps, {"nll": loss.item()})
        if should_stop is not None and should_stop():
            break
    return model.eval()


# ---- drawing -----------------------------------------------------------------------------------------------

def to_pixel(xy: torch.Tensor) -> torch.Tensor:
    return (xy + EXTENT) / (2 * EXTENT) * VIEW


@torch.no_grad()
def density_map(model: RealNVP2D, resolution: int = 128) -> Image.Image:
    """p(x) on the plane as a heat map (yellow: likely), y up."""
    axis = torch.linspace(-EXTENT, EXTENT, resolution)
    y, x = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    density = model.log_prob(torch.stack([x.flatten(), y.flatten()], 1)).exp().view(resolution, resolution)
    return imaging.heat_map(density).resize((VIEW, VIEW), Image.BILINEAR)


@torch.no_grad()
def warped_grid(model: RealNVP2D, lines: int = 13) -> Image.Image:
    """A square grid of z (lines at -3 … 3) run backwards into x: how the flow bends space."""
    image = Image.new("RGB", (VIEW, VIEW), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    along = torch.linspace(-EXTENT, EXTENT, 120)
    for value in torch.linspace(-EXTENT, EXTENT, lines):
        for line in (torch.stack([along, torch.full_like(along, value)], 1),
                     torch.stack([torch.full_like(along, value), along], 1)):
            xy = to_pixel(model.inverse(line))
            draw.line([(float(px), VIEW - float(py)) for px, py in xy], fill=(60, 90, 200), width=1)
    return image


def scatter(data: torch.Tensor, samples: torch.Tensor) -> Image.Image:
    """Training points (gray) and the flow's samples (orange)."""
    image = Image.new("RGB", (VIEW, VIEW), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for xy, colour in ((data, (150, 150, 150)), (samples, (240, 140, 20))):
        for px, py in to_pixel(xy).tolist():
            draw.ellipse([px - 1.5, VIEW - py - 1.5, px + 1.5, VIEW - py + 1.5], fill=colour)
    return image
