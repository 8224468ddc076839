"""Seeds to latent vectors, and paths between two latents: written once, used by every walk."""

import torch

from .devices import make_generator

def gaussian(seed: int, *shape: int) -> torch.Tensor:
    """The standard Gaussian latent a seed stands for, drawn on the CPU: the same on every device."""
    return torch.randn(*shape, generator=make_generator(seed))


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    # Gaussian latents live near a sphere; a straight line between two of them passes closer to the
    # centre, where the generator saw few samples, so lerp frames look washed out mid-way.
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-4:
        return torch.lerp(a, b, t)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolate(a: torch.Tensor, b: torch.Tensor, frames: int, method: str) -> torch.Tensor:
    """`frames` vectors from a to b (1-D), both ends included and exactly a and b."""
    ts = torch.linspace(0.0, 1.0, frames).tolist()
    step = slerp if method == "slerp" else torch.lerp
    return torch.stack([a if t == 0.0 else b if t == 1.0 else step(a, b, t) for t in ts])


def expected_norm(latent_dim: int, truncation: float = 1.0) -> float:
    """Where a Gaussian latent's length concentrates: √d (its square is a sum of d unit variances)."""
    return truncation * latent_dim ** 0.5
