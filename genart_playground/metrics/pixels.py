"""Pixel measures of a reconstruction against its original, in torch, on images in [-1, 1] of shape (N, 3, H, W)."""

import torch
import torch.nn.functional as F


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image, on the [0, 1] scale."""
    return ((a.float().clamp(-1, 1) - b.float().clamp(-1, 1)) / 2).pow(2).flatten(1).mean(1)


def psnr_per_image(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio of each image in dB, on the [0, 1] scale; identical images give 100 dB."""
    return 10 * torch.log10(1 / _mse(a, b).clamp_min(1e-10))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of all the pixels together, on the [0, 1] scale; inf if identical."""
    mse = float(_mse(a.reshape(1, -1), b.reshape(1, -1)))
    return float("inf") if mse == 0 else 10.0 * torch.log10(torch.tensor(1.0 / mse)).item()


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Structural similarity (Wang et al. 2004): 11×11 Gaussian window, σ 1.5, mean over channels."""
    a, b = (a.float() + 1) / 2, (b.float() + 1) / 2
    channels = a.shape[1]
    size = min(11, a.shape[-1], a.shape[-2])
    window = _gaussian_window(size).to(a.device).expand(channels, 1, size, size)
    blur = lambda t: F.conv2d(t, window, groups=channels)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2  # the paper's constants for a dynamic range of 1
    score = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return score.mean().item()
