"""GAN latent interpolation: walk from one seed's latent vector to another's, one frame per step."""

import torch

from .. import checks, imaging, limits
from ..latents import METHODS, gaussian, interpolate
from ..models import registry
from ..models.cache import cache
from ..results import InterpolationResult, base_metadata


def latent(seed: int, latent_dim: int) -> torch.Tensor:
    """The latent vector a seed stands for: the same on every device."""
    return gaussian(seed, latent_dim)


@torch.inference_mode()
def gan_interpolation(seed_a, seed_b, *, model=None, frames=16, method="slerp", truncation=1.0,
                      progress=None) -> InterpolationResult:
    # 1. Check inputs
    seed_a = checks.check_seed("seed_a", seed_a)
    seed_b = checks.check_seed("seed_b", seed_b)
    frames = checks.check_int("frames", frames, 2, limits.MAX_FRAMES)
    method = checks.check_choice("method", method, METHODS)
    truncation = checks.check_float("truncation", truncation, 0.0, 1.0)
    if truncation == 0.0:
        raise ValueError("`truncation` must be above 0 (0 would give every seed the same image).")

    # 2. Get the cached generator
    spec = registry.resolve("gan_interpolation", model)
    generator = cache.load("gan_interpolation", spec.name, progress=progress)
    device = next(generator.parameters()).device
    dtype = next(generator.parameters()).dtype

    # 3. Latents: truncation pulls them towards the mean (0), trading variety for cleaner samples
    z_a = latent(seed_a, generator.latent_dim) * truncation
    z_b = latent(seed_b, generator.latent_dim) * truncation
    zs = interpolate(z_a, z_b, frames, method)

    # 4. Generate all frames
    if progress is not None:
        progress(0.0, f"Generating {frames} frames")
    pixels = generator(zs.to(device, dtype))

    # 5. Check the pixels (to_pil would turn NaN into black), animate and describe
    warnings = checks.check_output(pixels, spec.name, low=-1.0, high=1.0)
    images = imaging.to_pil(pixels)
    if progress is not None:
        progress(0.8, "Encoding the GIF")
    metadata = base_metadata("gan_interpolation", spec, device, dtype, seed_a=seed_a, seed_b=seed_b,
                             frames=frames, method=method, truncation=truncation,
                             latent_dim=generator.latent_dim, warnings=warnings)
    result = InterpolationResult(images=images, metadata=metadata, gif=imaging.gif_bytes(images),
                                 # about truncation × √latent_dim along slerp; lerp dips in the middle
                                 latent_norms=zs.norm(dim=1).tolist(), labels=frame_labels(generator, zs))
    if progress is not None:
        progress(1.0, "Done")
    return result


def frame_labels(generator, zs: torch.Tensor) -> list[str]:
    """A conditional generator's classes for each latent, e.g. "red circle · gray"; [] for other generators."""
    if not getattr(generator, "codes", None):
        return []
    return [" · ".join(names) for names in generator.describe(zs)]

