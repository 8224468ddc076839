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

With `codes`, the generator is class-conditional without a second input: each code is read from the
angle of a pair of z's numbers (which "sector" of the circle it points into), batch norm takes its
scale and shift from the codes' embeddings (conditional batch norm: de Vries et al., 2017; BigGAN),
and the discriminator scores each picture against the same codes (projection discriminator: Miyato
& Koyama, 2018). An angle ignores z's length, so truncation keeps every class; moving z across a
sector's edge blends the two embeddings in a narrow band, so a walk switches class within a frame or two.

`Generator.save_pretrained(folder)` writes config.json + model.safetensors;
`Generator.from_pretrained(folder_or_hub_id)` loads it back.
"""

import math

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def stages_to(image_size: int) -> int:
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


def code_weights(z: torch.Tensor, codes: list[list[str]], sharpness: float = 100.0) -> list[torch.Tensor]:
    """For code i, read from the angle of z[:, 2i : 2i + 2], each class's weight: (N, classes) summing to 1.

    The circle is cut into equal sectors, one per class; a z pointing into a sector's middle gives
    that class weight ~1. The angle of two Gaussian numbers is uniform, so every class is equally likely.
    Weights fall off as exp(-sharpness × distance in sectors): the neighbouring class weighs more than
    5 % only within 1.5 / sharpness of a sector's edge.
    """
    weights = []
    for i, names in enumerate(codes):
        turn = torch.atan2(z[:, 2 * i + 1], z[:, 2 * i]) / (2 * math.pi) % 1.0  # 0 ≤ turn < 1
        centres = (torch.arange(len(names), device=z.device, dtype=z.dtype) + 0.5) / len(names)
        distance = (turn[:, None] - centres).abs()
        distance = torch.minimum(distance, 1 - distance) * len(names)  # around the circle, in sectors
        weights.append(torch.softmax(-sharpness * distance, dim=1))
    return weights


def code_labels(z: torch.Tensor, codes: list[list[str]]) -> torch.Tensor:
    """The class each code of z names (the sector it points into): (N, len(codes)) indices."""
    return torch.stack([w.argmax(dim=1) for w in code_weights(z, codes)], dim=1)


class ConditionalNorm(nn.Module):
    """Batch norm whose scale and shift come from the class embedding (de Vries et al., 2017; BigGAN)."""

    def __init__(self, channels: int, embed_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(embed_dim, channels)
        self.bias = nn.Linear(embed_dim, channels)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        gain, bias = 1 + self.gain(embedding), self.bias(embedding)
        return self.norm(x) * gain[:, :, None, None] + bias[:, :, None, None]


class Generator(nn.Module, PyTorchModelHubMixin):
    """z of shape (N, latent_dim) -> images of shape (N, 3, image_size, image_size) in [-1, 1].

    `codes`: for a class-conditional generator, the class names of each code (e.g. the 20 colour×shape
    combinations, then the 3 backgrounds); code i is read from z[:, 2i : 2i + 2] (see `code_weights`).
    `sharpness`: how quickly a code switches class at a sector's edge. The discriminator judges every
    picture as the class in whose sector z lies, so a blend of, say, the black and gray backgrounds'
    embeddings draws a dark gray that is neither: a sharp edge keeps such blends rare (3 % of z per code at 100).
    """

    def __init__(self, latent_dim: int = 128, width: int = 64, image_size: int = 64, upsample: str = "transposed",
                 codes: list[list[str]] | None = None, embed_dim: int = 32, sharpness: float = 100.0):
        super().__init__()
        if latent_dim < 1 or width < 1:
            raise ValueError(f"`latent_dim` and `width` must be positive, got {latent_dim} and {width}.")
        if upsample not in UPSAMPLING:
            raise ValueError(f"`upsample` must be one of {UPSAMPLING}, got {upsample!r}.")
        codes = [list(names) for names in codes or []]
        if 2 * len(codes) > latent_dim or any(len(names) < 2 for names in codes):
            raise ValueError(f"`codes` needs two latent numbers per code and at least two classes in each; "
                             f"got {len(codes)} codes for latent_dim {latent_dim}.")
        stages = stages_to(image_size)
        self.latent_dim, self.width, self.image_size, self.codes = latent_dim, width, image_size, codes
        self.sharpness = sharpness
        # Channels halve per doubling down to `width` at half the image size (e.g. 8w, 4w, 2w, w at
        # 4, 8, 16, 32 for 64×64): the half-size map is where the shapes' outlines are decided.
        channels = [width * 2 ** i for i in reversed(range(stages))]
        if codes:  # one embedding table per code; a z's embedding is the weighted sum over its classes
            self.embeddings = nn.ParameterList([nn.Parameter(torch.randn(len(names), embed_dim)) for names in codes])
        extra = embed_dim if codes else 0
        self.project = nn.Linear(latent_dim + extra, channels[0] * 16, bias=False)
        self.project_norm = ConditionalNorm(channels[0], embed_dim) if codes else nn.BatchNorm2d(channels[0])
        blocks = []
        for c_in, c_out in zip(channels, channels[1:]):
            norm = ConditionalNorm(c_out, embed_dim) if codes else nn.BatchNorm2d(c_out)
            blocks += [*_double(c_in, c_out, upsample), norm, nn.ReLU(True)]
        self.blocks = nn.Sequential(*blocks)
        # The last doubling goes straight to RGB: a full-size feature map would double the cost.
        to_rgb = _double(channels[-1], 3, upsample, bias=True)
        self.to_rgb = to_rgb[0] if len(to_rgb) == 1 else nn.Sequential(*to_rgb)  # the state-dict names DCGAN's weights have
        self.apply(_dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"`z` must have shape (N, {self.latent_dim}), got {tuple(z.shape)}.")
        if not self.codes:
            x = torch.relu(self.project_norm(self.project(z).view(z.shape[0], -1, 4, 4)))
            return torch.tanh(self.to_rgb(self.blocks(x)))
        weights = code_weights(z, self.codes, self.sharpness)
        embedding = sum(w @ table for w, table in zip(weights, self.embeddings))
        x = self.project(torch.cat([z, embedding], dim=1)).view(z.shape[0], -1, 4, 4)
        x = torch.relu(self.project_norm(x, embedding))
        for layer in self.blocks:
            x = layer(x, embedding) if isinstance(layer, ConditionalNorm) else layer(x)
        return torch.tanh(self.to_rgb(x))

    def describe(self, z: torch.Tensor) -> list[list[str]]:
        """The class names each z's codes pick, e.g. [["red circle", "gray"], ...]; [] per z without codes."""
        if not self.codes:
            return [[] for _ in z]
        return [[names[i] for names, i in zip(self.codes, row)] for row in code_labels(z, self.codes).tolist()]


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

    def __init__(self, width: int = 64, image_size: int = 64, minibatch_std: bool = True, classes: tuple[int, ...] = ()):
        super().__init__()
        stages = stages_to(image_size)
        self.minibatch_std = minibatch_std
        channels = [3] + [width * 2 ** i for i in range(stages)]  # 3, w, 2w, 4w, 8w for 64×64
        layers = []
        for c_in, c_out in zip(channels, channels[1:]):
            layers += [spectral_norm(nn.Conv2d(c_in, c_out, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)
        # The 4×4 map (and the spread channel) -> one number
        self.score = spectral_norm(nn.Conv2d(channels[-1] + int(minibatch_std), 1, 4, 1, 0))
        # Projection (Miyato & Koyama, 2018): + <embedding of the class, pooled features>, per code
        self.projections = nn.ModuleList(spectral_norm(nn.Embedding(k, channels[-1])) for k in classes)
        self.apply(_dcgan_init)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """`labels`: (N, codes) class indices, required when the discriminator was built with `classes`."""
        if self.projections and (labels is None or labels.shape != (len(images), len(self.projections))):
            raise ValueError(f"`labels` must have shape (N, {len(self.projections)}): one class index per code.")
        features = self.features(images)
        scores = self.score(minibatch_stddev(features) if self.minibatch_std else features).flatten()
        if self.projections:
            pooled = features.sum(dim=(2, 3))
            for i, projection in enumerate(self.projections):
                scores = scores + (projection(labels[:, i]) * pooled).sum(dim=1)
        return scores


def _dcgan_init(module: nn.Module) -> None:
    # DCGAN's initialisation: N(0, 0.02) weights, batch norm scales N(1, 0.02).
    if isinstance(module, ConditionalNorm):  # starts as plain batch norm; the codes' effect is learnt
        for linear in (module.gain, module.bias):
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        weight = module.parametrizations.weight.original if hasattr(module, "parametrizations") else module.weight
        nn.init.normal_(weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
