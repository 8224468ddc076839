"""A class-conditional Glow (Kingma & Dhariwal, 2018): an invertible network with an exact likelihood.

The picture is squeezed (each 2×2 block of pixels becomes 4× the channels at half the size), then
passes `steps_per_level` flow steps, each three invertible layers:

- **ActNorm**: a per-channel scale and shift, set from the first batch so each channel starts at mean
  0 and variance 1 (batch norm without batch statistics, so one picture gives the same answer as a batch).
- **Invertible 1×1 convolution**: a learnt mixing of the channels (generalises RealNVP's fixed
  permutation); its weight is kept as P·L·U (LU decomposition) so log|det W| is the sum of log|U's diagonal|.
- **Affine coupling** (Dinh et al., RealNVP): half the channels, untouched, feed a small network that
  gives the other half a shift and a scale. Inverting needs only that network run forward again,
  and log|det| is the sum of log(scale). The class embedding is added inside that network.

Between levels half the channels are split off as that level's z, whose Gaussian prior (mean and
spread) is predicted from the kept half and the class; the last level's prior comes from the class
alone. log p(x | class) = Σ log N(z_level) + Σ log|det| of every layer: exact, not a bound.

Written here rather than taken from a library (normflows has Glow blocks) because the coupling
networks and the priors take the class: normflows conditions only the top prior on a class.

`Glow.save_pretrained(folder)` writes config.json + model.safetensors; `Glow.from_pretrained` loads it.
"""

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

LOG_2PI = math.log(2 * math.pi)
DECODE_BOUND = 1e4


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) → (N, 4C, H/2, W/2): each 2×2 block of pixels becomes four channels."""
    n, c, h, w = x.shape
    x = x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * 4, h // 2, w // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    x = x.view(n, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c // 4, h * 2, w * 2)


def gaussian_log_density(z: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, exp(log_std)²), summed over everything but the batch."""
    density = -0.5 * (LOG_2PI + 2 * log_std + ((z - mean) * torch.exp(-log_std)) ** 2)
    return density.flatten(1).sum(1)


class ActNorm(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        # Saved with the weights, so a loaded model is not set again from the first picture it sees.
        self.register_buffer("initialised", torch.zeros(()))

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> None:
        self.bias.copy_(-x.mean(dim=(0, 2, 3), keepdim=True))
        # The floor keeps a channel that is flat in the first batch from getting a huge scale.
        self.log_scale.copy_(-torch.log(x.std(dim=(0, 2, 3), keepdim=True).clamp(min=0.05)))
        self.initialised.fill_(1.0)

    def forward(self, x, embedding=None):
        if self.training and not self.initialised:
            self.initialise(x)
        return (x + self.bias) * torch.exp(self.log_scale), self.log_scale.sum() * x.shape[2] * x.shape[3]

    def inverse(self, y, embedding=None):
        return y * torch.exp(-self.log_scale) - self.bias


class InvertibleConv(nn.Module):
    """A 1×1 convolution with weight W = P·L·(U + diag(sign·exp(log_s))): log|det W| = Σ log_s."""

    def __init__(self, channels: int):
        super().__init__()
        weight = torch.linalg.qr(torch.randn(channels, channels))[0]  # a random rotation: |det| = 1 at start
        permutation, lower, upper = torch.linalg.lu(weight)
        diagonal = torch.diagonal(upper)
        self.register_buffer("permutation", permutation)
        self.register_buffer("sign", torch.sign(diagonal))
        self.register_buffer("mask", torch.tril(torch.ones(channels, channels), -1))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(diagonal.abs()))

    def weight(self) -> torch.Tensor:
        eye = torch.eye(len(self.sign), device=self.sign.device)
        lower = self.lower * self.mask + eye
        upper = self.upper * self.mask.T + torch.diag(self.sign * torch.exp(self.log_s))
        return self.permutation @ lower @ upper

    def forward(self, x, embedding=None):
        return F.conv2d(x, self.weight()[:, :, None, None]), self.log_s.sum() * x.shape[2] * x.shape[3]

    def inverse(self, y, embedding=None):
        # Inverted in float64: the round trip then loses only float32 rounding.
        inverse = torch.linalg.inv(self.weight().double()).to(y.dtype)
        return F.conv2d(y, inverse[:, :, None, None])


class ZeroConv(nn.Conv2d):
    """A 3×3 convolution that starts at zero (Glow): each new flow step starts as the identity."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(c_in, c_out, 3, padding=1)
        nn.init.zeros_(self.weight)
        nn.init.zeros_(self.bias)


class AffineCoupling(nn.Module):
    def __init__(self, channels: int, hidden: int, embed_dim: int):
        super().__init__()
        self.kept = channels // 2
        self.conv_in = nn.Conv2d(self.kept, hidden, 3, padding=1)
        self.condition = nn.Linear(embed_dim, hidden)
        self.conv_mid = nn.Conv2d(hidden, hidden, 1)
        self.conv_out = ZeroConv(hidden, 2 * (channels - self.kept))

    def shift_and_log_scale(self, kept: torch.Tensor, embedding: torch.Tensor):
        h = F.relu(self.conv_in(kept) + self.condition(embedding)[:, :, None, None])
        h = self.conv_out(F.relu(self.conv_mid(h)))
        # A soft-clamped log scale (within ±2, as RealNVP's tanh): dividing by an unbounded small scale made
        # sampling blow up to NaN on z the training pictures never gave (tried: Glow's sigmoid(h + 2)).
        return h[:, 0::2], 2.0 * torch.tanh(h[:, 1::2] / 2.0)

    def forward(self, x, embedding):
        kept, changed = x[:, : self.kept], x[:, self.kept:]
        shift, log_scale = self.shift_and_log_scale(kept, embedding)
        return torch.cat([kept, (changed + shift) * torch.exp(log_scale)], 1), log_scale.flatten(1).sum(1)

    def inverse(self, y, embedding):
        kept, changed = y[:, : self.kept], y[:, self.kept:]
        shift, log_scale = self.shift_and_log_scale(kept, embedding)
        return torch.cat([kept, changed * torch.exp(-log_scale) - shift], 1)


class SplitPrior(nn.Module):
    """The Gaussian of the channels split off at a level, from the kept channels and the class."""

    def __init__(self, kept: int, split: int, embed_dim: int):
        super().__init__()
        self.conv = ZeroConv(kept, 2 * split)
        self.condition = nn.Linear(embed_dim, 2 * split)
        nn.init.zeros_(self.condition.weight)
        nn.init.zeros_(self.condition.bias)

    def forward(self, kept, embedding):
        h = self.conv(kept) + self.condition(embedding)[:, :, None, None]
        return h[:, 0::2], h[:, 1::2]  # mean, log std


class TopPrior(nn.Module):
    """The last level's Gaussian, from the class alone."""

    def __init__(self, shape: tuple[int, int, int], embed_dim: int):
        super().__init__()
        self.shape = shape
        self.condition = nn.Linear(embed_dim, 2 * math.prod(shape))
        nn.init.zeros_(self.condition.weight)
        nn.init.zeros_(self.condition.bias)

    def forward(self, embedding):
        h = self.condition(embedding).view(-1, 2 * self.shape[0], *self.shape[1:])
        return h[:, 0::2], h[:, 1::2]


class Glow(nn.Module, PyTorchModelHubMixin):
    """log p(x | class) exactly, x in [0, 1]; sampling and decoding run the same layers backwards."""

    def __init__(self, image_size: int = 32, channels: int = 3, levels: int = 3, steps_per_level: int = 8,
                 hidden: int = 96, embed_dim: int = 64, codes: list[list[str]] | None = None):
        super().__init__()
        if image_size % 2 ** levels:
            raise ValueError(f"`image_size` must be a multiple of 2**levels = {2 ** levels}, got {image_size}.")
        self.image_size, self.channels, self.levels = image_size, channels, levels
        self.codes = codes or [["any"]]  # class names per code: colour×shape, then background
        self.embeddings = nn.ModuleList(nn.Embedding(len(names), embed_dim) for names in self.codes)
        self.steps, self.priors = nn.ModuleList(), nn.ModuleList()
        c, size = channels, image_size
        for level in range(levels):
            c, size = c * 4, size // 2
            self.steps.append(nn.ModuleList(
                layer for _ in range(steps_per_level)
                for layer in (ActNorm(c), InvertibleConv(c), AffineCoupling(c, hidden, embed_dim))))
            if level < levels - 1:
                self.priors.append(SplitPrior(c - c // 2, c // 2, embed_dim))
                c = c - c // 2
            else:
                self.priors.append(TopPrior((c, size, size), embed_dim))

    @property
    def dimensions(self) -> int:
        return self.channels * self.image_size ** 2

    def z_shapes(self) -> list[tuple[int, int, int]]:
        """The shape of each level's z, finest first (what is split off, then the top)."""
        shapes, c, size = [], self.channels, self.image_size
        for level in range(self.levels):
            c, size = c * 4, size // 2
            if level < self.levels - 1:
                shapes.append((c // 2, size, size))
                c = c - c // 2
            else:
                shapes.append((c, size, size))
        return shapes

    def embed(self, labels: torch.Tensor) -> torch.Tensor:
        """(N, codes) class indices → (N, embed_dim): one embedding per code, summed (a walk blends two of these)."""
        return sum(table(labels[:, i]) for i, table in enumerate(self.embeddings))

    def encode(self, x: torch.Tensor, embedding: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Pictures in [0, 1] → each level's z, and log p(x | class) per picture (nats)."""
        h, log_p = x - 0.5, torch.zeros(len(x), device=x.device)
        zs = []
        for level, (steps, prior) in enumerate(zip(self.steps, self.priors)):
            h = squeeze(h)
            for layer in steps:
                h, log_det = layer(h, embedding)
                log_p = log_p + log_det
            if level < self.levels - 1:
                h, z = h[:, : h.shape[1] - h.shape[1] // 2], h[:, h.shape[1] - h.shape[1] // 2:]
                mean, log_std = prior(h, embedding)
            else:
                z, (mean, log_std) = h, prior(embedding)
            log_p = log_p + gaussian_log_density(z, mean, log_std)
            zs.append(z)
        return zs, log_p

    def decode(self, embedding: torch.Tensor, zs: list[torch.Tensor] | None = None, *, temperature: float = 1.0,
               generator: torch.Generator | None = None, eps: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Each level's z → pictures in [0, 1]. A level whose z is not given (no `zs`, or None in it) is drawn
        from its prior: z = mean + temperature · std · ε, with ε given in `eps` or drawn from `generator` (a
        CPU generator, so a seed gives the same picture on any device); temperature 0 takes the mean."""
        n, device = len(embedding), embedding.device
        h = None
        for level in reversed(range(self.levels)):
            prior = self.priors[level]
            mean, log_std = prior(embedding) if h is None else prior(h, embedding)
            if zs is not None and zs[level] is not None:
                z = zs[level].to(device)
            else:
                noise = eps[level] if eps is not None else torch.randn(n, *mean.shape[1:], generator=generator)
                z = mean + temperature * torch.exp(log_std) * noise.to(device)
            h = z if h is None else torch.cat([h, z], 1)
            for layer in reversed(self.steps[level]):
                # A z far in the prior's tail can be amplified past float range by the layers run backwards
                # (each coupling may divide by up to e²); clamped, it draws a noisy picture instead of NaN.
                # Pictures' own z stay far inside the bound, so the round trip is untouched.
                h = layer.inverse(h, embedding).clamp(-DECODE_BOUND, DECODE_BOUND)
            h = unsqueeze(h)
        return h + 0.5

    def bits_per_dim(self, log_p: torch.Tensor, bits: int = 8) -> torch.Tensor:
        """Nats of log p(x) over [0, 1]^D → bits per dimension of the 8-bit picture (uniform dequantisation)."""
        return (-log_p / self.dimensions + bits * math.log(2)) / math.log(2)
