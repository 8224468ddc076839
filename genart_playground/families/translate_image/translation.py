"""Image-to-image GANs for small square pictures: Pix2Pix's U-Net generator and PatchGAN discriminator
(Isola et al., 2017), which CycleGAN (Zhu et al., 2017) trains in pairs, one generator each way.

The U-Net halves the picture `depth` times with stride-2 convolutions, then doubles it back with
nearest-neighbour upsampling and a 3×3 convolution (no transposed convolutions: they paint a
checkerboard into flat areas, and the shapes world is all flat areas). Each level's encoder features
are handed across to the decoder at the same size (the skip connections), so the picture's layout
need not squeeze through the bottleneck: the outline's exact place reaches the output directly, while
the bottleneck (4×4 for a 64×64 picture) sees the whole picture and decides what fills it.

The PatchGAN discriminator judges overlapping patches (34×34 pixels for 64×64 pictures, a score per
patch) rather than the whole picture: the L1 loss already gets the low frequencies right, so the
adversarial loss only has to make each patch look real (sharp edges, flat colour).

`UNetGenerator.save_pretrained(folder)` writes config.json + model.safetensors;
`UNetGenerator.from_pretrained(folder_or_hub_id)` loads it back.
"""

import copy
from pathlib import Path

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ...data.directions import DIRECTIONS, SKETCH_TO_PICTURE


def _norm(channels: int) -> nn.Module:
    # Instance norm keeps no running statistics: training and drawing behave the same, batch of 1 or 64.
    return nn.InstanceNorm2d(channels, affine=True)


class UNetGenerator(nn.Module, PyTorchModelHubMixin):
    """(N, in_channels, S, S) in [-1, 1] -> (N, out_channels, S, S) in [-1, 1]; S a multiple of 2**depth.

    `width` channels at the first level, doubling per level up to 8 × width.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 16, depth: int = 4,
                 image_size: int = 64):
        super().__init__()
        if width < 1 or depth < 1 or image_size % 2 ** depth:
            raise ValueError(f"`width` and `depth` must be positive and `image_size` a multiple of 2**depth; "
                             f"got width {width}, depth {depth}, image_size {image_size}.")
        self.in_channels, self.out_channels, self.image_size = in_channels, out_channels, image_size
        channels = [width * 2 ** min(i, 3) for i in range(depth)]
        self.down = nn.ModuleList()
        for i, c_out in enumerate(channels):
            c_in = in_channels if i == 0 else channels[i - 1]
            layers = [nn.Conv2d(c_in, c_out, 4, 2, 1)]
            if 0 < i < depth - 1:  # none on the input's own features, none on the 2×2-or-so bottleneck
                layers.append(_norm(c_out))
            layers.append(nn.LeakyReLU(0.2))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):
            c_in = channels[i] if i == depth - 1 else 2 * channels[i]  # the level below, plus the skip
            c_out = out_channels if i == 0 else channels[i - 1]
            layers = [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1)]
            layers += [nn.Tanh()] if i == 0 else [_norm(c_out), nn.ReLU()]
            self.up.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()  # the bottleneck is the decoder's first input, not a skip
        for block in self.up:
            x = block(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        return x


class PatchDiscriminator(nn.Module):
    """A score per overlapping patch: (N, in_channels, S, S) -> (N, 1, S/4 - 2, S/4 - 2).

    For Pix2Pix `in_channels` is 6 (the sketch and a picture, side by side in channels): it judges the
    pair, so a sharp picture of the wrong shape is caught. For CycleGAN it is 3: no pairs to judge.
    """

    def __init__(self, in_channels: int = 6, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), _norm(2 * width), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 4 * width, 4, 1, 1), _norm(4 * width), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * width, 1, 4, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Translator(nn.Module):
    """One image-translation model's generators, by direction: Pix2Pix has one, CycleGAN one each way.

    `Translator.from_folder(folder)`: a generator folder (config.json) is the sketch -> picture
    generator alone; a folder with a subfolder per direction holds one generator each way.
    """

    def __init__(self, generators: dict[str, UNetGenerator]):
        super().__init__()
        if not generators or set(generators) - set(DIRECTIONS):
            raise ValueError(f"A translator's generators are named by direction ({', '.join(DIRECTIONS)}); "
                             f"got {sorted(generators)}.")
        self.generators = nn.ModuleDict(generators)

    @property
    def directions(self) -> tuple[str, ...]:
        return tuple(direction for direction in DIRECTIONS if direction in self.generators)

    @property
    def image_size(self) -> int:
        return next(iter(self.generators.values())).image_size

    def forward(self, x: torch.Tensor, direction: str = SKETCH_TO_PICTURE) -> torch.Tensor:
        return self.generators[direction](x)

    @classmethod
    def from_folder(cls, folder) -> "Translator":
        folder = Path(folder)
        if (folder / "config.json").exists():
            return cls({SKETCH_TO_PICTURE: _load_generator(folder)})
        return cls({direction: _load_generator(folder / direction) for direction in DIRECTIONS
                    if (folder / direction / "config.json").exists()})

    def save_pretrained(self, folder) -> None:
        """The layout `from_folder` reads, in half precision (the built-ins share a 40 MB budget)."""
        for direction, generator in self.generators.items():
            target = Path(folder) if len(self.generators) == 1 and direction == SKETCH_TO_PICTURE else Path(folder) / direction
            copy.deepcopy(generator).half().save_pretrained(target)


def _load_generator(folder) -> UNetGenerator:
    return UNetGenerator.from_pretrained(folder).float()  # stored in fp16; fp32 costs nothing at this size
