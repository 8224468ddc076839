"""How close generated points are to the data: modes covered, the share of good points, and the
Jensen-Shannon divergence of the two on a grid."""

import math

import torch

from .data import EXTENT, PointSet

MODE_SHARE = 0.25  # a mode is covered when it holds at least a quarter of its fair share of the points
GRID = 32  # cells across the plane for the divergence


def nearest_modes(samples: torch.Tensor, data: PointSet) -> torch.Tensor:
    """Each point's mode, or −1 where it is further than `data.radius` from every mode (or not a number)."""
    distance, index = torch.cdist(samples.nan_to_num(1e6, 1e6, -1e6), data.modes).min(1)
    return torch.where(distance <= data.radius, index, torch.full_like(index, -1))


def modes_covered(samples: torch.Tensor, data: PointSet) -> int:
    counts = torch.bincount(nearest_modes(samples, data).clamp(min=-1) + 1, minlength=len(data.modes) + 1)[1:]
    return int((counts >= MODE_SHARE * len(samples) / len(data.modes)).sum())


def good_share(samples: torch.Tensor, data: PointSet) -> float:
    """The share of points that lie on the data (near some mode): a GAN's collapsed points are all good."""
    return float((nearest_modes(samples, data) >= 0).float().mean())


def histogram(points: torch.Tensor) -> torch.Tensor:
    cells = ((points.nan_to_num(1e6, 1e6, -1e6) + EXTENT) / (2 * EXTENT) * GRID).long()
    inside = ((cells >= 0) & (cells < GRID)).all(1)
    cells = cells[inside]
    counts = torch.bincount(cells[:, 1] * GRID + cells[:, 0], minlength=GRID * GRID).float()
    return counts + 0.01  # a trace in every cell: an empty cell is unlikely, not impossible (log 0)


def js_divergence(samples: torch.Tensor, real: torch.Tensor) -> float:
    """Jensen-Shannon divergence in bits (0: the same histogram, 1: no overlap) of the two point clouds."""
    p, q = histogram(samples), histogram(real)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    return float(0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()) / math.log(2)
