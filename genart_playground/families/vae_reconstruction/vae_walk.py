"""VAE latent walk: encode two images, walk the straight line between their latents, decode each step."""

import torch
from PIL import Image

from ... import checks, imaging, limits, uploads
from ...models import registry
from ...models.cache import cache
from ...results import InterpolationResult, base_metadata
from .vae_reconstruction import downsample_factor, encode

MAX_WALK_PIXELS = 256 * 256  # both images are shrunk to at most this, so a long walk stays quick


def walk_size(image: Image.Image, factor: int) -> tuple[int, int]:
    """Image A's size, shrunk to MAX_WALK_PIXELS and rounded down to a multiple of `factor`: a size
    the autoencoder takes without padding, so every frame is the whole decoded latent."""
    fitted, _ = imaging.fit_pixels(image, MAX_WALK_PIXELS)
    width, height = fitted.size
    return max(factor, width // factor * factor), max(factor, height // factor * factor)


@torch.inference_mode()
def vae_walk(image_a, image_b, *, model=None, frames=8, progress=None) -> InterpolationResult:
    # 1. Check inputs (a path or bytes is opened here, its pixel count checked before decoding)
    frames = checks.check_int("frames", frames, 2, limits.MAX_WALK_FRAMES)
    image_a = checks.check_image("image_a", uploads.open_if_file(image_a))
    image_b = checks.check_image("image_b", uploads.open_if_file(image_b))
    notes = [f"image A: {note}" for note in uploads.upload_notes(image_a)]
    notes += [f"image B: {note}" for note in uploads.upload_notes(image_b)]

    # 2. Get the cached autoencoder
    spec = registry.resolve("vae_reconstruction", model)
    vae = cache.load("vae_reconstruction", spec.name, progress=progress)
    device, dtype = vae.device, vae.dtype

    # 3. One size for both: latents of different shapes have no line between them
    factor = downsample_factor(vae)
    size = walk_size(imaging.to_rgb(image_a), factor)
    pictures = []
    for name, image in (("A", image_a), ("B", image_b)):
        image = imaging.to_rgb(image)
        if image.size != size:
            notes.append(f"image {name} resized from {image.size[0]}×{image.size[1]} to {size[0]}×{size[1]} "
                         f"(image A's size, at most {MAX_WALK_PIXELS:,} pixels, a multiple of {factor})")
            image = image.resize(size, Image.LANCZOS)
        pictures.append(image)

    # 4. Encode both, one at a time as vae_reconstruction does, so the ends match it pixel for pixel
    if progress is not None:
        progress(0.0, "Encoding both images")
    z_a, z_b = (encode(vae, imaging.to_tensor(image).to(device, dtype)) for image in pictures)

    # 5. Decode each point of the straight line between them. Lerp, not slerp: slerp keeps a path
    #    on the shell where draws from N(0, I) concentrate, but an encoder's posterior means are not
    #    such draws (the KL term is weak; the latents are image-like maps whose length depends on
    #    the image), so there is no shell to stay on, and the line ends exactly on both encodings.
    ts = torch.linspace(0.0, 1.0, frames).tolist()
    decoded = []
    for i, t in enumerate(ts):
        z = z_a if t == 0.0 else z_b if t == 1.0 else torch.lerp(z_a, z_b, t)
        decoded.append(vae.decode(z).sample.float().cpu().clamp(-1, 1))
        if progress is not None:
            progress((i + 1) / (frames + 1), f"Decoded frame {i + 1}/{frames}")
    pixels = torch.cat(decoded)

    # 6. Check the pixels, animate and describe
    warnings = checks.check_output(pixels, spec.name, low=-1.0, high=1.0)
    images = imaging.to_pil(pixels)
    metadata = base_metadata("vae_walk", spec, device, dtype, frames=frames, size=list(size),
                             latent_shape=list(z_a.shape[1:]), downsample_factor=factor, notes=notes,
                             warnings=warnings)
    result = InterpolationResult(images=images, metadata=metadata, gif=imaging.gif_bytes(images))
    if progress is not None:
        progress(1.0, "Done")
    return result
