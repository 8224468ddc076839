"""A set of pictures against real ones, in a feature space: FID, KID, precision, recall, density,
coverage and diversity.

Pictures are compared as points in a network's feature space, never pixel by pixel. The default
space is the project's own shapes-world classifier (builtin/shapes-features), the way FID on MNIST
uses a small MNIST classifier: nothing is downloaded. FID and KID are torchmetrics'; it is handed
features already computed (an identity "network"), so every measure here reads the same numbers.

- FID (Heusel et al., 2017): the Fréchet distance between Gaussians fitted to the two sets' features.
- KID (Bińkowski et al., 2018): squared MMD with a cubic polynomial kernel, averaged over random
  subsets; unbiased, so it is fairer than FID on small sets.
- Precision and recall (Kynkäänniemi et al., 2019): the share of generated pictures inside the real
  pictures' k-nearest-neighbour balls, and of real pictures inside the generated ones'.
- Density and coverage (Naeem et al., 2020): precision counted with multiplicity, robust to
  outliers; the share of real pictures with a generated one inside their ball.
"""

import random
import warnings

import torch
from PIL import Image
from torch import nn

from .. import imaging
from ..data import shapes

NEIGHBOURS = 5  # k of the k-nearest-neighbour balls: Naeem et al.'s choice
REFERENCE_SIZE = 512  # real pictures in the default reference set
KID_SUBSETS = 50
KID_SUBSET_SIZE = 100  # or the smaller set's size


def reference_images(n: int = REFERENCE_SIZE, seed: int = 0) -> list:
    """A fixed, seeded sample of the shapes world's training split (no held-out combination)."""
    rng = random.Random(f"reference/{seed}")
    return [shapes.render(shapes.sample_scene(rng, "train")) for _ in range(n)]


def pictures_as_tensors(network: nn.Module, images: list) -> torch.Tensor:
    """PIL pictures as one (N, 3, S, S) batch in [-1, 1] on the network's device, S its `image_size`."""
    size = getattr(network, "image_size", shapes.IMAGE_SIZE)
    device = next(network.parameters()).device
    return torch.cat([imaging.to_tensor(image.convert("RGB").resize((size, size), image_resample(image, size)))
                      for image in images]).to(device)


@torch.no_grad()
def features(network: nn.Module, images: list, *, batch: int = 256) -> torch.Tensor:
    """(N, d) features of PIL pictures, each resized to the network's input size (`image_size`)."""
    rows = [network(pictures_as_tensors(network, images[i:i + batch])).float().cpu()
            for i in range(0, len(images), batch)]
    return torch.cat(rows)


def image_resample(image: Image.Image, size: int):
    return Image.BOX if min(image.size) >= size else Image.BICUBIC  # BOX averages when shrinking, as the world does


class _Given(nn.Module):
    """torchmetrics runs its "feature network" on what update() gets: here, features computed once."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]), normalize=True)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return max(0.0, float(metric.compute()))  # rounding can leave -1e-12 for a set against itself


def kid(real: torch.Tensor, fake: torch.Tensor, *, seed: int = 0) -> tuple[float, float]:
    """KID's mean and standard deviation over random subsets, drawn with `seed` (same seed, same figure)."""
    from torchmetrics.image.kid import KernelInceptionDistance

    size = min(KID_SUBSET_SIZE, len(real), len(fake))
    with warnings.catch_warnings():  # "will save all extracted features": a few thousand × 66 numbers here
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        metric = KernelInceptionDistance(feature=_Given(real.shape[1]), subsets=KID_SUBSETS, subset_size=size,
                                         normalize=True)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):  # torchmetrics draws its subsets from the global generator
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def _radii(points: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point."""
    distances = torch.cdist(points, points)
    return distances.kthvalue(k + 1, dim=1).values  # +1: a point is its own nearest neighbour, at 0


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = NEIGHBOURS) -> dict[str, float]:
    """Precision, recall, density and coverage with k-nearest-neighbour balls (k shrinks for tiny sets)."""
    k = max(1, min(k, len(real) - 1, len(fake) - 1))
    real, fake = real.double(), fake.double()
    real_radii, fake_radii = _radii(real, k), _radii(fake, k)
    between = torch.cdist(real, fake)  # (real, fake)
    inside_real = between < real_radii[:, None]
    return {
        "precision": float(inside_real.any(dim=0).double().mean()),
        "recall": float((between < fake_radii[None, :]).any(dim=1).double().mean()),
        "density": float(inside_real.double().sum(dim=0).mean() / k),
        "coverage": float((between.min(dim=1).values < real_radii).double().mean()),
    }


def mean_pairwise_distance(points: torch.Tensor) -> float:
    """Mean distance between two different pictures' features; 0 for fewer than two."""
    if len(points) < 2:
        return 0.0
    distances = torch.cdist(points.double(), points.double())
    return float(distances.sum() / (len(points) * (len(points) - 1)))


def diversity(fake: torch.Tensor, groups: list[list[int]], real: torch.Tensor) -> float:
    """Mean pairwise feature distance within each group (the pictures of one prompt), averaged over the
    groups and divided by the real pictures' own: 1 is as varied as the shapes world, 0 one picture repeated."""
    spread = [mean_pairwise_distance(fake[group]) for group in groups if len(group) > 1]
    scale = mean_pairwise_distance(real)
    return float(sum(spread) / len(spread) / scale) if spread and scale else 0.0
