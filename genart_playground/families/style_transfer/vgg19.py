"""VGG19's convolutional feature stack (Simonyan & Zisserman 2015), as Gatys et al. (2016) use it.

Our own module, no torchvision: it reads the safetensors weights of `timm/vgg19.tv_in1k` (the
torchvision ImageNet weights in timm's layout: `features.{i}.weight/bias` at torchvision's indices).
Only the layers up to conv5_1 are built, since style transfer reads nothing deeper; the classifier
(`pre_logits.*`, `head.*`) and conv5_2-conv5_4 are not loaded.

Pooling: max pooling, as trained, by default. Gatys et al. suggest average pooling for synthesis
("slightly more appealing results": gradients flow through every pixel of each window, not only
the maximum); pass `pooling="avg"` to get it. The weights are the same either way.
"""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# Convolutions per block, and their index in torchvision's `features` Sequential: each conv is
# followed by a ReLU, each block by a pool, so indices skip by 2 inside a block and by 3 across.
BLOCKS = (2, 2, 4, 4, 4)
TORCHVISION_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
WIDTHS = (64, 128, 256, 512, 512)  # output channels per block in the real VGG19

CONTENT_LAYERS = ("conv4_2",)
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
LAST_LAYER = "conv5_1"  # nothing deeper is needed for Gatys' layers

# ImageNet statistics the weights were trained with, for inputs in [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def layer_names() -> list[str]:
    """conv1_1, conv1_2, conv2_1, ... in order, up to LAST_LAYER."""
    names = [f"conv{block + 1}_{i + 1}" for block, count in enumerate(BLOCKS) for i in range(count)]
    return names[: names.index(LAST_LAYER) + 1]


class VGG19Features(nn.Module):
    """Images in [-1, 1] (N, 3, H, W) -> dict of ReLU outputs at the content and style layers."""

    content_layers = CONTENT_LAYERS
    style_layers = STYLE_LAYERS

    def __init__(self, widths: tuple[int, ...] = WIDTHS, pooling: str = "max"):
        super().__init__()
        if pooling not in ("max", "avg"):
            raise ValueError(f"`pooling` must be 'max' or 'avg', got {pooling!r}.")
        self.pooling = pooling
        self.names = layer_names()
        self.convs = nn.ModuleList()
        channels = 3
        for name in self.names:
            width = widths[int(name[4]) - 1]
            self.convs.append(nn.Conv2d(channels, width, 3, padding=1))
            channels = width
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        wanted = set(self.content_layers) | set(self.style_layers)
        x = ((images + 1) / 2 - self.mean) / self.std
        features = {}
        for name, conv in zip(self.names, self.convs, strict=True):
            if name.endswith("_1") and name != "conv1_1":  # each block after the first starts with a pool
                x = F.max_pool2d(x, 2) if self.pooling == "max" else F.avg_pool2d(x, 2)
            x = F.relu(conv(x))
            if name in wanted:
                features[name] = x
        return features

    @classmethod
    def from_safetensors(cls, path: str | Path, pooling: str = "max") -> "VGG19Features":
        """Build from timm's `model.safetensors`; widths are read from the weights' shapes."""
        from safetensors.torch import load_file

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"VGG19 weights not found: {path}")
        state = load_file(str(path))
        count = len(layer_names())
        keys = [f"features.{i}.{part}" for i in TORCHVISION_INDICES[:count] for part in ("weight", "bias")]
        missing = [key for key in keys if key not in state]
        if missing:
            raise ValueError(f"{path.name} is not a VGG19 checkpoint in timm's layout: missing "
                             f"{', '.join(missing[:4])}{' …' if len(missing) > 4 else ''}.")
        first_of_block = [sum(BLOCKS[:b]) for b in range(len(BLOCKS))]
        widths = tuple(state[f"features.{TORCHVISION_INDICES[i]}.weight"].shape[0] for i in first_of_block)
        model = cls(widths=widths, pooling=pooling)
        ours = {}
        for n, index in enumerate(TORCHVISION_INDICES[:count]):
            for part in ("weight", "bias"):
                ours[f"convs.{n}.{part}"] = state[f"features.{index}.{part}"].float()
        try:
            model.load_state_dict(ours, strict=True)
        except RuntimeError as error:  # shapes that do not chain into a VGG19
            raise ValueError(f"{path.name} does not have VGG19's layer shapes: {error}") from error
        return model.requires_grad_(False).eval()
