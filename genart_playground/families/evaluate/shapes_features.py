"""A small classifier of shapes-world pictures whose last hidden layer is the evaluation lab's feature space.

FID on MNIST uses a small MNIST classifier instead of Inception; this is the same idea for the
shapes world: four stride-2 convolutions read a 64×64 picture, a linear layer turns the 4×4 map into
`num_features` numbers (the features FID, KID, precision/recall and diversity are measured in), and
one linear head per attribute (colour, shape, size, position, background) reads them. The heads
make the features mean something: two pictures are close when they show similar scenes.

A classifier alone learns to ignore blur and noise (they do not change a picture's class), and then
FID cannot see them. A `quality` head is trained to tell how blurred and how noisy a picture is, and
its two estimates are features too, scaled by `quality_weight`: the most degraded training picture
lies 8 from its crisp self, against about 11 between two different scenes (√(2·64) for standardised
features). Without them a 1.5-pixel blur moved FID about as much as drawing another sample.

The other features are standardised with the mean and spread of clean training pictures' (buffers
saved with the weights), so every number counts about equally in FID and KID.

The map is flattened, not averaged: averaging would throw away where the shape is.

`ShapesFeatures.save_pretrained(folder)` writes config.json + model.safetensors;
`ShapesFeatures.from_pretrained(folder)` loads it back.
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ...data import shapes

# The heads, in a fixed order; each attribute's classes in the shapes world's own order.
HEADS = {
    "color": tuple(shapes.COLORS),
    "shape": shapes.SHAPES,
    "size": tuple(shapes.SIZES),
    "position": tuple(shapes.POSITIONS),
    "background": tuple(shapes.BACKGROUNDS),
}

QUALITY = ("blur", "noise")  # the quality head's outputs: blur σ in pixels / 2, noise σ (of [-1, 1]) / 0.2


class ShapesFeatures(nn.Module, PyTorchModelHubMixin):
    def __init__(self, width: int = 32, num_features: int = 64, image_size: int = shapes.IMAGE_SIZE,
                 quality_weight: float = 8.0):
        super().__init__()
        if image_size % 16:
            raise ValueError(f"`image_size` must be a multiple of 16, got {image_size}.")
        self.image_size, self.quality_weight = image_size, quality_weight
        self.num_features = num_features + len(QUALITY)  # what forward returns
        widths = (width, 2 * width, 4 * width, 4 * width)
        layers, channels = [], 3
        for out in widths:  # each halves the map: 64 -> 32 -> 16 -> 8 -> 4
            layers += [nn.Conv2d(channels, out, 3, 2, 1), nn.GroupNorm(8, out), nn.SiLU()]
            channels = out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.embed = nn.Linear(channels * (image_size // 16) ** 2, num_features)
        self.heads = nn.ModuleDict({name: nn.Linear(num_features, len(classes)) for name, classes in HEADS.items()})
        self.quality = nn.Linear(num_features, len(QUALITY))
        self.register_buffer("feature_mean", torch.zeros(num_features))
        self.register_buffer("feature_std", torch.ones(num_features))

    def embedding(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.body(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) pictures in [-1, 1] -> (N, num_features + 2): the standardised embedding, then
        the blur and noise estimates."""
        embedding = self.embedding(images)
        quality = self.quality(torch.relu(embedding)) * self.quality_weight
        return torch.cat([(embedding - self.feature_mean) / self.feature_std, quality], dim=1)

    def classify(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each head's logits, by attribute, and the `quality` head's estimates (blur, noise)."""
        features = torch.relu(self.embedding(images))
        return {**{name: head(features) for name, head in self.heads.items()}, "quality": self.quality(features)}

    def predict(self, images: torch.Tensor) -> list[dict[str, str]]:
        """Each picture's most likely class per attribute, by name."""
        logits = self.classify(images)
        return [{name: HEADS[name][int(logits[name][i].argmax())] for name in HEADS} for i in range(len(images))]
