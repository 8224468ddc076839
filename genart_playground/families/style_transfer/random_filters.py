"""A fixed-seed bank of random multi-scale convolution filters: style features with no download.

Random, untrained filters already carry texture and style: Gram matrices of one layer of random
multi-scale filters synthesise convincing textures (Ustyuzhaninov et al. 2016, "Texture synthesis
using shallow convolutional networks with random filters"), and a VGG with random weights
transfers style (He et al. 2016, "A powerful generative model using random weights for the deep
image representation"). So the offline Gatys method needs no trained weights: they are drawn from
`seed` when the bank is built, the same on every machine, and nothing is shipped.

The bank has the interface of `VGG19Features`: images in [-1, 1] in, a dict of feature maps out,
with `content_layers` and `style_layers` naming the keys the style transfer adapter reads.
"""

import torch
import torch.nn.functional as F
from torch import nn

SCALES = 4  # the image, 1/2, 1/4 and 1/8 of it: 5 px filters see 5, 10, 20 and 40 px of the input
FILTERS = 64  # per scale; a 64×64 Gram matrix holds enough statistics for a texture
KERNEL = 5
COLOURS = 16  # 1×1 filters: their Gram matrix is the style's palette


class RandomFilterBank(nn.Module):
    """Images in [-1, 1] (N, 3, H, W) -> dict of ReLU responses of random filters."""

    style_layers = ("colour",) + tuple(f"scale{s + 1}" for s in range(SCALES))
    # 1/4 resolution holds the layout (shapes, where the light and dark parts are) but not the
    # fine texture, which the style is free to replace.
    content_layers = ("scale3",)

    def __init__(self, seed: int = 0):
        super().__init__()
        self.seed = seed
        generator = torch.Generator("cpu").manual_seed(seed)
        for s in range(SCALES):
            weight = torch.randn(FILTERS, 3, KERNEL, KERNEL, generator=generator)
            # Zero-mean filters answer to edges and texture, not to flat colour: without this the
            # Gram matrices are dominated by the mean colour and the optimisation only tints the image.
            weight -= weight.mean(dim=(2, 3), keepdim=True)
            weight *= (2 / (3 * KERNEL * KERNEL)) ** 0.5  # He initialisation: responses near unit scale
            self.register_buffer(f"weight{s}", weight)
            self.register_buffer(f"bias{s}", torch.randn(FILTERS, generator=generator) * 0.1)
        # Random colour directions with random thresholds: ReLU(w·rgb + b) over the palette.
        self.register_buffer("colour_weight", torch.randn(COLOURS, 3, 1, 1, generator=generator))
        self.register_buffer("colour_bias", torch.randn(COLOURS, generator=generator) * 0.5)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        features = {"colour": F.relu(F.conv2d(images, self.colour_weight, self.colour_bias))}
        x = images
        for s in range(SCALES):
            if s:
                x = F.avg_pool2d(x, 2)  # an image pyramid: one filter size covers every scale cheaply
            padded = F.pad(x, (KERNEL // 2,) * 4, mode="reflect")  # zero padding would draw a frame
            features[f"scale{s + 1}"] = F.relu(F.conv2d(padded, getattr(self, f"weight{s}"), getattr(self, f"bias{s}")))
        return features
