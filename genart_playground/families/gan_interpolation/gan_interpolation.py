"""GAN latent interpolation: walk from one seed's latent vector to another's, one frame per step.

A StyleGAN can be walked in Z (the seeds' Gaussian vectors, slerp) or in W (the styles the mapping
network makes of them, lerp: W is not Gaussian, its straight lines are the natural paths).
"""

import time

import torch

from ... import checks, imaging, limits
from ...latents import expected_norm, gaussian, interpolate
from . import WALK_METHODS as METHODS
from ...models import registry
from ...models.cache import cache
from ...results import InterpolationResult, Samples, base_metadata

SPACES = ("z", "w")
W_FRAME = " of the way in W"  # the caption of a W walk's frames between the two seeds: "0.50 of the way in W"


def latent(seed: int, latent_dim: int) -> torch.Tensor:
    """The latent vector a seed stands for: the same on every device."""
    return gaussian(seed, latent_dim)


@torch.inference_mode()
def gan_interpolation(seed_a, seed_b, *, model=None, frames=16, method=None, truncation=1.0, space=None,
                      progress=None) -> InterpolationResult:
    # 1. Check inputs (space and method against the model's kind: no model is loaded for that)
    seed_a = checks.check_seed("seed_a", seed_a)
    seed_b = checks.check_seed("seed_b", seed_b)
    frames = checks.check_int("frames", frames, 2, limits.MAX_FRAMES)
    truncation = checks.check_float("truncation", truncation, 0.0, 1.0)
    if truncation == 0.0:
        raise ValueError("`truncation` must be above 0 (0 would give every seed the same image).")
    spec = registry.resolve("gan_interpolation", model)
    styled = registry.can(spec, "w_space")
    space = checks.check_choice("space", "w" if space is None and styled else space or "z", SPACES)
    if space == "w" and not styled:
        raise ValueError(f"`space` 'w': {spec.name} has no mapping network, so no W space; walk it in 'z'.")
    method = checks.check_choice("method", method or ("lerp" if space == "w" else "slerp"), METHODS)
    if space == "w" and method != "lerp":
        raise ValueError("`method` in W must be 'lerp': W is not a Gaussian shell, so there is no sphere to follow.")

    # 2. Get the cached generator
    generator = cache.load("gan_interpolation", spec.name, progress=progress)
    device = next(generator.parameters()).device
    dtype = next(generator.parameters()).dtype

    # 3. Latents: truncation pulls them towards the mean (0 in Z; the mean style w_avg in W)
    z_a, z_b = latent(seed_a, generator.latent_dim), latent(seed_b, generator.latent_dim)
    if progress is not None:
        progress(0.0, f"Generating {frames} frames")
    if styled:
        pixels, norms, labels, mean_image = _style_walk(generator, z_a, z_b, frames, method, space, truncation)
    else:
        zs = interpolate(z_a * truncation, z_b * truncation, frames, method)
        pixels, norms, labels, mean_image = generator(zs.to(device, dtype)), zs.norm(dim=1).tolist(), frame_labels(
            generator, zs), None

    # 4. Check the pixels (to_pil would turn NaN into black), animate and describe
    warnings = checks.check_output(pixels, spec.name, low=-1.0, high=1.0)
    images = imaging.to_pil(pixels)
    labels = checked_labels(labels, images)
    if progress is not None:
        progress(0.8, "Encoding the GIF")
    metadata = base_metadata("gan_interpolation", spec, device, dtype, seed_a=seed_a, seed_b=seed_b,
                             frames=frames, method=method, truncation=truncation, space=space,
                             latent_dim=generator.latent_dim, warnings=warnings)
    # latent_norms: about truncation × √latent_dim along slerp, dipping in the middle of lerp (Z);
    # in W, the distance from the mean style
    result = InterpolationResult(images=images, metadata=metadata, gif=imaging.gif_bytes(images),
                                 latent_norms=norms, labels=labels, mean_image=mean_image,
                                 expected_norm=expected_norm(generator.latent_dim, truncation))
    if progress is not None:
        progress(1.0, "Done")
    return result


def _style_walk(generator, z_a, z_b, frames: int, method: str, space: str, truncation: float):
    """A StyleGAN's frames: a path in Z mapped to W, or a straight path between the two seeds' w."""
    device, dtype = next(generator.parameters()).device, next(generator.parameters()).dtype
    ends = torch.stack([z_a, z_b]).to(device, dtype)
    if space == "z":
        zs = interpolate(z_a, z_b, frames, method)
        ws = generator.map(zs.to(device, dtype), truncation=truncation)
        labels = frame_labels(generator, zs)
    else:
        w_a, w_b = generator.map(ends, truncation=truncation)
        ws = interpolate(w_a, w_b, frames, "lerp")
        names = frame_labels(generator, ends.cpu())
        labels = [names[0]] + [f"{t:.2f}{W_FRAME}" for t in torch.linspace(0, 1, frames)[1:-1].tolist()] + [
            names[-1]] if names else []
    pixels = generator.synthesis(generator.broadcast(ws))
    mean_image = imaging.to_pil(generator.synthesis(generator.broadcast(generator.w_avg[None])))[0]
    return pixels, (ws - generator.w_avg).norm(dim=1).tolist(), labels, mean_image


def checked_labels(labels: list[str], images) -> list[str]:
    """Each frame's code label ("green diamond · black"), with the checker's reading beside it where the picture
    shows something else: the codes name what the generator was asked for, not what it drew (a truncated walk
    can draw a gray blob for "green diamond")."""
    from ...metrics import world

    if not labels:
        return labels
    checked = []
    for label, judged in zip(labels, world.judge(images)):
        if label.endswith(W_FRAME):  # a W walk's middle frames name no codes
            checked.append(label)
            continue
        drawn = reading(judged, parts=len(label.split(" · ")))  # the codes: colour×shape, maybe a background
        checked.append(label if drawn == label else f"codes: {label}; the checker reads: {drawn}")
    return checked


def reading(judged, parts: int = 2) -> str:
    """The checker's reading in the codes' words: "green diamond · black", "(not clean)" after an unclean one."""
    words = [f"{judged.color} {judged.shape}" if judged.shape else "no shape", judged.background][:parts]
    return " · ".join(words) + ("" if judged.clean else " (not clean)")


def frame_labels(generator, zs: torch.Tensor) -> list[str]:
    """A conditional generator's classes for each latent, e.g. "red circle · gray"; [] for other generators."""
    if not getattr(generator, "codes", None):
        return []
    return [" · ".join(names) for names in generator.describe(zs)]


# ---- the family's capabilities (families/base.py: CAPABILITIES) -----------------------------------------

@torch.inference_mode()
def sample(spec, count, seed, progress) -> Samples:
    """`count` pictures from seeds seed, seed + 1, ...: the evaluation lab's pictures. A conditional
    generator's codes name its classes, judged like prompts ("a red circle on a gray background")."""
    from ...metrics import world

    generator = cache.load("gan_interpolation", spec.name)
    parameter = next(generator.parameters())
    began = time.perf_counter()
    z = torch.stack([gaussian(seed + i, generator.latent_dim) for i in range(count)])
    pixels = torch.cat([generator(chunk.to(parameter.device, parameter.dtype)) for chunk in z.split(64)])
    seconds = time.perf_counter() - began
    checks.check_output(pixels, spec.name, low=-1.0, high=1.0)
    named = ([world.caption(world.named_attributes(names)) for names in generator.describe(z)]
             if getattr(generator, "codes", None) else None)
    if progress is not None:
        progress(1.0, f"Drew {count} samples")
    return Samples(images=imaging.to_pil(pixels.float()), named=named, seconds=seconds, evaluations=1,
                   settings={"samples": count, "truncation": 1.0})
