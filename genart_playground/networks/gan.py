"""A GAN for small square images: the generator the GAN tab samples, and the discriminator that trains it.

The generator grows a 4×4 map to the image, doubling the size and halving the channels at each step,
with batch norm and ReLU. `upsample="transposed"` doubles with DCGAN's stride-2 transposed
convolutions (Radford et al., 2015; the shipped shapes-gan); `upsample="nearest"` with nearest-neighbour
upsampling followed by a 3×3 convolution (Odena et al., 2016, "Deconvolution and checkerboard
artifacts"), which cannot paint a speckled texture into flat areas, and the shapes world is all flat
areas. The discriminator is DCGAN's
stride-2 convolutions with spectral norm on every layer (Miyato et al., 2018) and, before its last
layer, StyleGAN's minibatch standard deviation (Karras et al., 2018): it sees how varied a small
group of pictures is, so a generator that drops a mode (a background, a colour) is caught.

`Generator.save_pretrained(folder)` writes config.json + model.safetensors;
`Generator.from_pretrained(folder_or_hub_id)` loads it back.
"""

import math

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def _stages(image_size: int) -> int:
    """How many doublings lie between a 4×4 map and the image."""
    stages = int(math.log2(image_size)) - 2
    if image_size < 8 or 2 ** (stages + 2) != image_size:
        raise ValueError(f"`image_size` must be a power of two, at least 8, got {image_size}.")
    return stages


UPSAMPLING = ("transposed", "nearest")


def _double(c_in: int, c_out: int, upsample: str, bias: bool = False) -> list[nn.Module]:
    if upsample == "transposed":  # kernel 4, stride 2: every output pixel gets the same number of taps
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias)]


class Generator(nn.Module, PyTorchModelHubMixin):
    """z of shape (N, latent_dim) -> images of shape (N, 3, image_size, image_size) in [-1, 1]."""

    def __init__(self, latent_dim: int = 128, width: int = 64, image_size: int = 64, upsample: str = "transposed"):
        super().__init__()
        if latent_dim < 1 or width < 1:
            raise ValueError(f"`latent_dim` and `width` must be positive, got {latent_dim} and {width}.")
        if upsample not in UPSAMPLING:
            raise ValueError(f"`upsample` must be one of {UPSAMPLING}, got {upsample!r}.")
        stages = _stages(image_size)
        self.latent_dim, self.width, self.image_size = latent_dim, width, image_size
        # Channels halve per doubling down to `width` at half the image size (e.g. 8w, 4w, 2w, w at
        # 4, 8, 16, 32 for 64×64): the half-size map is where the shapes' outlines are decided.
        channels = [width * 2 ** i for i in reversed(range(stages))]
        self.project = nn.Linear(latent_dim, channels[0] * 16, bias=False)
        self.project_norm = nn.BatchNorm2d(channels[0])
        blocks = []
        for c_in, c_out in zip(channels, channels[1:]):
            blocks += [*_double(c_in, c_out, upsample), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        self.blocks = nn.Sequential(*blocks)
        # The last doubling goes straight to RGB: a full-size feature map would double the cost.
        to_rgb = _double(channels[-1], 3, upsample, bias=True)
        self.to_rgb = to_rgb[0] if len(to_rgb) == 1 else nn.Sequential(*to_rgb)  # the state-dict names DCGAN's weights have
        self.apply(_dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"`z` must have shape (N, {self.latent_dim}), got {tuple(z.shape)}.")
        x = self.project(z).view(z.shape[0], -1, 4, 4)
        x = torch.relu(self.project_norm(x))
        return torch.tanh(self.to_rgb(self.blocks(x)))


def minibatch_stddev(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append one channel: how much pictures vary within groups of `group` consecutive ones.

    Groups are consecutive (not StyleGAN's strided ones) so that a batch of real pictures followed
    by fakes, as the training loop scores them, never mixes the two inside a group.
    """
    n, c, h, w = x.shape
    size = max(g for g in range(1, min(group, n) + 1) if n % g == 0)
    spread = x.view(n // size, size, c, h, w).std(dim=1, unbiased=False) if size > 1 else torch.zeros_like(x[:1])
    feature = spread.mean(dim=(1, 2, 3), keepdim=True)  # one number per group
    feature = feature.repeat_interleave(size, dim=0) if size > 1 else feature.expand(n, 1, 1, 1)
    return torch.cat([x, feature.expand(n, 1, h, w)], dim=1)


class Discriminator(nn.Module):
    """Images (N, 3, image_size, image_size) -> one realness score each (a logit, for the hinge loss)."""

    def __init__(self, width: int = 64, image_size: int = 64, minibatch_std: bool = True):
        super().__init__()
        stages = _stages(image_size)
        self.minibatch_std = minibatch_std
        channels = [3] + [width * 2 ** i for i in range(stages)]  # 3, w, 2w, 4w, 8w for 64×64
        layers = []
        for c_in, c_out in zip(channels, channels[1:]):
            layers += [spectral_norm(nn.Conv2d(c_in, c_out, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)
        # The 4×4 map (and the spread channel) -> one number
        self.score = spectral_norm(nn.Conv2d(channels[-1] + int(minibatch_std), 1, 4, 1, 0))
        self.apply(_dcgan_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.features(images)
        return self.score(minibatch_stddev(features) if self.minibatch_std else features).flatten()


def _dcgan_init(module: nn.Module) -> None:
    # DCGAN's initialisation: N(0, 0.02) weights, batch norm scales N(1, 0.02).
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        weight = module.parametrizations.weight.original if hasattr(module, "parametrizations") else module.weight
        nn.init.normal_(weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
