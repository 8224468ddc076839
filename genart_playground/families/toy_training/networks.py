"""The lab's networks: small MLPs on 2-D points, one or two per family."""

import math

import torch
from torch import nn


def mlp(inputs: int, outputs: int, width: int, depth: int, activation=nn.LeakyReLU) -> nn.Sequential:
    """`depth` hidden layers of `width` units."""
    layers, size = [], inputs
    for _ in range(depth):
        layers += [nn.Linear(size, width), activation(0.2) if activation is nn.LeakyReLU else activation()]
        size = width
    return nn.Sequential(*layers, nn.Linear(size, outputs))


class Critic(nn.Module):
    """The GAN's discriminator. With `minibatch_std`, its last layer also sees how spread out the whole batch is
    (StyleGAN's minibatch standard deviation, of the points and of its own features): a batch of near-copies is
    then easy to call fake, so the generator gains by spreading its points out."""

    def __init__(self, width: int, depth: int, minibatch_std: bool = False):
        super().__init__()
        self.minibatch_std = minibatch_std
        self.body = mlp(2, width, width, depth - 1)
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(width + 2 * int(minibatch_std), 1))

    def forward(self, x):
        h = self.body(x)
        if self.minibatch_std:  # two numbers for the batch: the points' spread and the features' spread
            spread = torch.stack([x.std(0).mean(), h.std(0).mean()]).expand(len(h), 2)
            h = torch.cat([h, spread], 1)
        return self.head(h)[:, 0]


class TimeMLP(nn.Module):
    """A point and a time in [0, 1] in, 2 numbers out: the diffusion model's noise guess or the flow-matching
    model's velocity. The time enters as sines and cosines at a few frequencies, added after the first layer."""

    def __init__(self, width: int, depth: int, frequencies: int = 8):
        super().__init__()
        self.register_buffer("frequencies", 2.0 ** torch.arange(frequencies) * math.pi)
        self.point = nn.Linear(2, width)
        self.time = nn.Linear(2 * frequencies, width)
        self.body = mlp(width, 2, width, depth - 1, activation=nn.SiLU)

    def forward(self, x, t):
        angles = t[:, None] * self.frequencies
        h = self.point(x) + self.time(torch.cat([angles.sin(), angles.cos()], 1))
        return self.body(nn.functional.silu(h))


class Coupling2D(nn.Module):
    """One coordinate, untouched, gives the other a shift and a (soft-clamped) log scale."""

    def __init__(self, keep: int, width: int, depth: int):
        super().__init__()
        self.keep = keep
        self.net = mlp(1, 2, width, depth, activation=nn.ReLU)
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
    """A RealNVP (Dinh et al., 2017) on points: x → z through `layers` couplings, alternating the coordinate
    kept; z's prior is N(0, I), so log p(x) is exact."""

    def __init__(self, layers: int = 8, width: int = 64, depth: int = 2):
        super().__init__()
        self.layers = nn.ModuleList(Coupling2D(i % 2, width, depth) for i in range(layers))

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
