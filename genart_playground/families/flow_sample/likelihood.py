"""A flow's exact likelihood of 8-bit pictures, in bits per dimension, with or without their class."""

import math
from typing import NamedTuple

import torch

from ...devices import make_generator
from .glow import Glow

DEQUANTISATION_SEED = 0  # one fixed draw of the noise inside each 1/256 bin: the same picture scores the same


def dequantise(pictures: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """uint8 → [0, 1] with uniform noise inside each 1/256 bin: a density on a continuous space, whose
    log-likelihood bounds the 8-bit picture's from below (Theis et al., 2016)."""
    return (pictures.float() + torch.rand(pictures.shape, generator=generator)) / 256


def all_labels(model: Glow) -> torch.Tensor:
    """Every class combination, one per row: (600, 4) for the built-in (20 colour×shapes, 3 backgrounds, 5
    positions, 2 sizes)."""
    grids = torch.meshgrid(*(torch.arange(len(names)) for names in model.codes), indexing="ij")
    return torch.stack([grid.flatten() for grid in grids], 1)


@torch.no_grad()
def conditional_log_likelihood(model: Glow, pictures: torch.Tensor, labels: torch.Tensor, *,
                               seed: int = DEQUANTISATION_SEED) -> torch.Tensor:
    """log p(x | its classes) in nats, one encode per picture, dequantised with noise from `seed`. It is within
    log(number of classes) of log p(x) (600 classes: 9.2 nats, 0.003 bits/dim at 32×32), since one class's
    term is part of the sum."""
    device = next(model.parameters()).device
    x = dequantise(pictures, make_generator(seed)).to(device)
    return model.encode(x, model.embed(labels.to(device)))[1].float().cpu()


@torch.no_grad()
def class_log_likelihoods(model: Glow, pictures: torch.Tensor) -> torch.Tensor:
    """log p(x | class) in nats for every picture (rows) and every class (columns, `all_labels` order)."""
    device = next(model.parameters()).device
    x = dequantise(pictures, make_generator(DEQUANTISATION_SEED)).to(device)
    classes = all_labels(model).to(device)
    embedding = model.embed(classes)
    rows = []
    for picture in x:  # one picture under every class at once
        _, log_p = model.encode(picture.expand(len(classes), -1, -1, -1), embedding)
        rows.append(log_p.float().cpu())
    return torch.stack(rows)


class Encoded(NamedTuple):
    log_p: torch.Tensor  # log p(x), summed over every class (nats)
    labels: torch.Tensor  # each picture's most likely classes, on the model's device
    embedding: torch.Tensor
    x: torch.Tensor  # the pictures' own values in [0, 1] (k / 255: no dequantisation noise)
    zs: list[torch.Tensor]  # x encoded under those classes, each level's z


@torch.no_grad()
def encode_exactly(model: Glow, pictures: torch.Tensor) -> Encoded:
    """8-bit pictures encoded as they are (the round trip's and the walk's start), each under the classes it
    is most likely under."""
    device = next(model.parameters()).device
    log_p, best = log_likelihood(model, pictures)
    labels = all_labels(model)[best].to(device)
    embedding = model.embed(labels)
    x = (pictures.float() / 255).to(device)
    return Encoded(log_p, labels, embedding, x, model.encode(x, embedding)[0])


def log_likelihood(model: Glow, pictures: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(x) = log Σ_class p(x | class) p(class), the classes equally likely as in training (exact: a
    sum over every class, not a bound); and each picture's most likely class (its row of `all_labels`)."""
    per_class = class_log_likelihoods(model, pictures)
    return torch.logsumexp(per_class, 1) - math.log(per_class.shape[1]), per_class.argmax(1)
