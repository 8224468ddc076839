"""The lab's 2-D point sets, each with its modes: where its points gather, which the coverage measure counts.

A set of separate blobs (the ring of 8, the grid of 25) has one mode per blob. A set that is one piece
(two moons, the spiral, the line, the rings, a drawing) is cut into `PIECES` stretches of equal length, each a
mode: a model that draws only half the spiral covers half of its modes.
"""

import math

import numpy as np
import torch
from PIL import Image

from . import DATASETS, MAX_DRAWN_POINTS

PIECES = 8  # modes of a one-piece set
BLOB_STD = 0.1  # the ring's and the grid's Gaussians: well apart (0.6 at the closest) at this spread
EXTENT = 3.0  # the plane the lab draws and measures: [-3, 3] on both axes
DRAWN_EXTENT = 2.5  # a drawing's canvas spans [-2.5, 2.5]: its edge stays inside the plane drawn


def ring_centres() -> torch.Tensor:
    angle = torch.arange(8) * (2 * math.pi / 8)
    return 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], 1)


def grid_centres() -> torch.Tensor:
    axis = torch.linspace(-2.0, 2.0, 5)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], 1)


def curve(dataset: str, t: torch.Tensor) -> torch.Tensor:
    """A one-piece set's centre line at t in [0, 1], (len(t), 2), within about [-2, 2]."""
    if dataset == "two moons":  # two half circles, the second flipped and shifted into the first's hollow
        first = t < 0.5
        angle = torch.where(first, t * 2, t * 2 - 1) * math.pi
        x = torch.where(first, torch.cos(angle), 1 - torch.cos(angle))
        y = torch.where(first, torch.sin(angle), 0.5 - torch.sin(angle))
        return torch.stack([x - 0.5, y - 0.25], 1) * 1.6
    if dataset == "spiral":  # one and a half turns, the radius growing from 0.3 to 2.2
        angle = t * 3 * math.pi
        radius = 0.3 + 1.9 * t
        return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    if dataset == "line":  # a diagonal segment: a flow must squash the plane's second direction away
        return torch.stack([t * 4 - 2, (t * 4 - 2) * 0.5], 1)
    if dataset == "rings":  # two concentric circles, radius 0.8 and 1.8, the inner with a third of the points
        inner = t < 1 / 3
        angle = torch.where(inner, t * 3, (t - 1 / 3) * 1.5) * 2 * math.pi
        radius = torch.where(inner, 0.8, 1.8)
        return torch.stack([torch.cos(angle), torch.sin(angle)], 1) * radius[:, None]
    raise ValueError(f"{dataset!r} is not a one-piece set.")


class PointSet:
    """Points to learn from and the modes to count: `sample(count, generator)`, `modes` (K, 2), `radius`."""

    def __init__(self, dataset: str, drawn: torch.Tensor | None = None):
        if dataset not in DATASETS:
            raise ValueError(f"`dataset` must be one of {', '.join(DATASETS)}, got {dataset!r}.")
        self.name = dataset
        self.drawn = drawn
        if dataset in ("ring8", "grid25"):
            self.modes = ring_centres() if dataset == "ring8" else grid_centres()
            self.radius = 3 * BLOB_STD  # a point belongs to a blob within three of its deviations
        else:
            self.modes = self.piece_centres()
            # half the distance between neighbouring pieces' centres, so the pieces do not overlap
            gaps = torch.cdist(self.modes, self.modes) + torch.eye(len(self.modes)) * 1e9
            self.radius = max(0.2, 0.5 * float(gaps.min(1).values.median()) * 1.2)

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        if self.name in ("ring8", "grid25"):
            pick = torch.randint(len(self.modes), (count,), generator=generator)
            return self.modes[pick] + BLOB_STD * torch.randn(count, 2, generator=generator)
        if self.name == "drawn":
            pick = torch.randint(len(self.drawn), (count,), generator=generator)
            return self.drawn[pick] + 0.04 * torch.randn(count, 2, generator=generator)
        t = torch.rand(count, generator=generator)
        return curve(self.name, t) + 0.06 * torch.randn(count, 2, generator=generator)

    def piece_centres(self) -> torch.Tensor:
        if self.name == "drawn":  # a drawing's pieces: k-means on its points, from a fixed start
            return kmeans(self.drawn, PIECES)
        t = (torch.arange(PIECES) + 0.5) / PIECES
        return curve(self.name, t)


def kmeans(points: torch.Tensor, k: int, rounds: int = 20) -> torch.Tensor:
    """k centres of `points`, started from points spread along their own order (deterministic)."""
    k = min(k, len(points))
    centres = points[torch.linspace(0, len(points) - 1, k).long()].clone()
    for _ in range(rounds):
        nearest = torch.cdist(points, centres).argmin(1)
        for i in range(k):
            members = points[nearest == i]
            if len(members):
                centres[i] = members.mean(0)
    return centres


def points_from_drawing(drawing: Image.Image, *, limit: int = MAX_DRAWN_POINTS) -> torch.Tensor:
    """The painted pixels of a drawing (dark or opaque on a light or clear canvas) as points of the plane,
    (n, 2), y up; at most `limit`, evenly thinned. Raises ValueError when too little is painted."""
    rgba = np.asarray(drawing.convert("RGBA"), dtype=np.float32) / 255.0
    darkness = 1.0 - rgba[..., :3].mean(-1)
    painted = (rgba[..., 3] > 0.5) & (darkness > 0.35) if (rgba[..., 3] < 0.5).any() else darkness > 0.35
    rows, columns = np.nonzero(painted)
    if len(rows) < 20:
        raise ValueError("Paint some points on the canvas first (a stroke or two), then train.")
    step = max(1, len(rows) // limit)
    rows, columns = rows[::step][:limit], columns[::step][:limit]
    height, width = painted.shape
    side = max(height, width)  # the canvas's square around its centre is the plane [-3, 3]²
    x = (columns + 0.5 - width / 2) / side * 2 * DRAWN_EXTENT
    y = (height / 2 - rows - 0.5) / side * 2 * DRAWN_EXTENT
    return torch.tensor(np.stack([x, y], 1), dtype=torch.float32)
