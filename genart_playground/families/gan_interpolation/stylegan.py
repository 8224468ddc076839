"""A StyleGAN2-style generator and discriminator for small square pictures (Karras et al., 2019, 2020),
at the scale of the shapes world's 64×64.

- **Mapping network.** z (a Gaussian vector, normalised to unit mean square) -> a few fully connected
  layers -> w, the *style*. Generating goes through w, not z: the mapping is free to unwarp the space,
  so equal steps in W tend to change the picture by equal amounts (smooth walks), where z's Gaussian
  shape forces the generator to squeeze rare classes into thin slices.
- **Synthesis network.** A learned 4×4 constant, then per resolution (4, 8, ... up to the image) two
  3×3 *modulated* convolutions: each layer's own affine map turns w into a scale per input channel,
  the kernel is scaled by it and then *demodulated* (each output channel's kernel renormalised to unit
  norm), which replaces AdaIN without its blob artifacts. Each layer adds per-pixel noise times a
  learned strength (the stochastic details) and each resolution adds its RGB to the upsampled RGB so
  far (the skip architecture).
- **One w per layer.** `synthesis(ws)` takes a w for every layer (`num_ws` of them): style mixing feeds
  the coarse layers one seed's w and the fine layers another's.
- **Truncation.** w' = w_avg + psi · (w - w_avg), with `w_avg` the running mean of w seen in training:
  psi below 1 trades variety for typical, cleaner pictures; psi = 0 draws the mean w's own picture.
- **Class codes** (optional). As the DCGAN, a class-conditional generator reads each code's class from
  the angle of a pair of z's numbers; the mapping network takes their class weights beside z, so a
  seed alone names its picture. W is continuous between classes even where z's codes jump.

The discriminator that trains it is the DCGAN's (`dcgan.Discriminator`: spectral norm,
StyleGAN's minibatch standard deviation, a projection per code), which is well tried on this data.

Weights use the *equalised learning rate* (stored N(0, 1), scaled by 1/√fan_in at every call; the
mapping network's learning rate is further multiplied by `mapping_lr`), as the StyleGAN papers do: every
layer then learns at the same speed under Adam.

`StyleGenerator.save_pretrained(folder)` writes config.json + model.safetensors (with `w_avg` and the
fixed noise); `StyleGenerator.from_pretrained(folder)` loads them back.
"""

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .dcgan import code_labels, code_weights, stages_to


class EqualLinear(nn.Module):
    """A linear layer with the equalised learning rate; `lr_mul` slows it (the mapping network's 0.01)."""

    def __init__(self, c_in: int, c_out: int, *, bias_init: float = 0.0, lr_mul: float = 1.0, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in) / lr_mul)
        self.bias = nn.Parameter(torch.full((c_out,), float(bias_init) / lr_mul))
        self.scale, self.lr_mul, self.activate = lr_mul / math.sqrt(c_in), lr_mul, activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.activate else x


class MappingNetwork(nn.Module):
    """z (and, for a class-conditional generator, its codes' class weights) -> w."""

    def __init__(self, z_dim: int, w_dim: int, layers: int, code_classes: int = 0, lr_mul: float = 0.01):
        super().__init__()
        self.embed = EqualLinear(code_classes, w_dim) if code_classes else None
        dims = [z_dim + (w_dim if code_classes else 0)] + [w_dim] * layers
        self.layers = nn.Sequential(*[EqualLinear(a, b, lr_mul=lr_mul, activate=True) for a, b in zip(dims, dims[1:])])

    def forward(self, z: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        x = _normalise(z)
        if self.embed is not None:
            x = torch.cat([x, _normalise(self.embed(weights))], dim=1)
        return self.layers(x)


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


class ModulatedConv(nn.Module):
    """A convolution whose kernel is scaled per input channel by the style, then renormalised per output
    channel (`demodulate`). Computed as StyleGAN2's unfused path: scale the input by the style, run one
    plain convolution for the whole batch, scale the output by the demodulation factors; the same
    numbers as a kernel per picture, and several times faster on a CPU than a grouped convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int, w_dim: int, *, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)  # starts at scale 1: the plain convolution
        self.scale, self.padding, self.demodulate = 1 / math.sqrt(c_in * kernel * kernel), kernel // 2, demodulate

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (N, c_in)
        weight = self.weight * self.scale
        out = F.conv2d(x * styles[:, :, None, None], weight, padding=self.padding)
        if self.demodulate:  # 1 / ‖kernel of output channel o, scaled by this picture's styles‖
            norms = torch.einsum("oikl,ni->no", weight.square(), styles.square())
            out = out * torch.rsqrt(norms + 1e-8)[:, :, None, None]
        return out


class StyleLayer(nn.Module):
    """Modulated 3×3 convolution + noise × a learned strength + bias + leaky ReLU."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, resolution: int):
        super().__init__()
        self.conv = ModulatedConv(c_in, c_out, 3, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(c_out))
        # The fixed noise of `noise="const"`: the same details every call, saved with the weights.
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: str | torch.Generator = "const") -> torch.Tensor:
        x = self.conv(x, w)
        if noise == "const":
            added = self.noise_const
        elif noise == "none":
            added = None
        else:  # a CPU torch.Generator: the same seed gives the same noise on every device
            added = torch.randn((x.shape[0], 1, *x.shape[2:]), generator=noise).to(x.device, x.dtype)
        if added is not None:
            x = x + added * self.noise_strength
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * math.sqrt(2)


class ToRGB(nn.Module):
    def __init__(self, c_in: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv(c_in, 3, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class StyleGenerator(nn.Module, PyTorchModelHubMixin):
    """z (N, z_dim) -> pictures (N, 3, image_size, image_size), roughly in [-1, 1].

    `codes`: for a class-conditional generator, the class names of each code, read from the angle of a
    pair of z's numbers as the DCGAN does (`dcgan.code_weights`): the mapping network takes z
    and the codes' class weights, so a seed still names its picture alone. `layer_resolutions` names
    the resolution each of the `num_ws` styles drives: what the tab says a crossover switches at.
    """

    def __init__(self, z_dim: int = 64, w_dim: int = 64, mapping_layers: int = 4, image_size: int = 64,
                 width: int = 32, max_channels: int = 128, codes: list[list[str]] | None = None,
                 sharpness: float = 100.0, mapping_lr: float = 0.01, w_avg_beta: float = 0.995, skip: bool = True):
        super().__init__()
        stages = stages_to(image_size)
        codes = [list(names) for names in codes or []]
        if 2 * len(codes) > z_dim or any(len(names) < 2 for names in codes):
            raise ValueError(f"`codes` needs two latent numbers per code and at least two classes in each; "
                             f"got {len(codes)} codes for z_dim {z_dim}.")
        self.z_dim, self.w_dim, self.image_size, self.codes, self.sharpness = z_dim, w_dim, image_size, codes, sharpness
        self.latent_dim = z_dim  # what the GAN tab's seeds are drawn as, for every generator
        self.w_avg_beta, self.skip, self.stages = w_avg_beta, skip, stages
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, sum(len(names) for names in codes), mapping_lr)
        self.register_buffer("w_avg", torch.zeros(w_dim))
        # Channels double as the resolution halves, from `width` at the image's size up to `max_channels`.
        resolutions = [4 * 2 ** i for i in range(stages + 1)]
        channels = [min(max_channels, width * image_size // r) for r in resolutions]
        self.const = nn.Parameter(torch.randn(1, channels[0], 4, 4))
        self.layers, self.to_rgb, self.layer_resolutions = nn.ModuleList(), nn.ModuleList(), []
        for i, (resolution, c_out) in enumerate(zip(resolutions, channels)):
            c_in = channels[max(i - 1, 0)]
            if i:  # the first resolution has one layer on the constant; the others two, after upsampling
                self.layers.append(StyleLayer(c_in, c_out, w_dim, resolution))
                self.layer_resolutions.append(resolution)
            self.layers.append(StyleLayer(c_out, c_out, w_dim, resolution))
            self.layer_resolutions.append(resolution)
            if skip or resolution == image_size:
                self.to_rgb.append(ToRGB(c_out, w_dim))
        self.num_ws = len(self.layers) + 1  # the last ToRGB takes the w after the last layer's
        self.layer_resolutions.append(image_size)  # ... and draws at the image's size

    def map(self, z: torch.Tensor, *, truncation: float = 1.0, track: bool = False) -> torch.Tensor:
        """z -> w, pulled towards `w_avg` by `truncation` (psi). `track` (training): update `w_avg`."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"`z` must have shape (N, {self.z_dim}), got {tuple(z.shape)}.")
        weights = torch.cat(code_weights(z, self.codes, self.sharpness), dim=1) if self.codes else None
        w = self.mapping(z, weights)
        if track:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(dim=0).to(self.w_avg.dtype), 1 - self.w_avg_beta)
        return self.w_avg + truncation * (w - self.w_avg) if truncation != 1 else w

    def describe(self, z: torch.Tensor) -> list[list[str]]:
        """The class names each z's codes pick, e.g. [["red circle", "gray"], ...]; [] per z without codes."""
        if not self.codes:
            return [[] for _ in z]
        return [[names[i] for names, i in zip(self.codes, row)] for row in code_labels(z, self.codes).tolist()]

    def synthesis(self, ws: torch.Tensor, noise: str | torch.Generator = "const") -> torch.Tensor:
        """ws (N, num_ws, w_dim), one style per layer -> pictures. `noise`: "const" (the saved noise),
        "none", or a CPU torch.Generator for fresh noise."""
        if ws.dim() != 3 or ws.shape[1] != self.num_ws:
            raise ValueError(f"`ws` must be (N, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}.")
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        rgb, layer = None, 0
        for stage in range(self.stages + 1):
            if stage:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
                rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) if self.skip else None
            for _ in range(2 if stage else 1):
                x = self.layers[layer](x, ws[:, layer], noise)
                layer += 1
            if self.skip or stage == self.stages:
                step = self.to_rgb[stage if self.skip else 0](x, ws[:, layer])  # the next layer's w (the last: its own)
                rgb = step if rgb is None else rgb + step
        return rgb

    def forward(self, z: torch.Tensor, *, truncation: float = 1.0, noise: str | torch.Generator = "const") -> torch.Tensor:
        return self.synthesis(self.broadcast(self.map(z, truncation=truncation)), noise)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """One w (N, w_dim) -> the same style in every layer (N, num_ws, w_dim)."""
        return w[:, None].expand(-1, self.num_ws, -1)
