"""VAE reconstruction: encode an image to latents, decode it back, and measure what was lost."""

import torch
import torch.nn.functional as F

from ... import checks, imaging, limits, metrics, uploads
from ...devices import make_generator
from ...models import registry
from ...models.cache import cache
from ...results import VaeResult, base_metadata


def downsample_factor(vae) -> int:
    if hasattr(vae, "spatial_scale_factor"):  # AutoencoderTiny
        return int(vae.spatial_scale_factor)
    return 2 ** (len(vae.config.block_out_channels) - 1)


def encode(vae, x: torch.Tensor) -> torch.Tensor:
    output = vae.encode(x)
    # AutoencoderKL gives a distribution: its mode is the deterministic reconstruction.
    return output.latent_dist.mode() if hasattr(output, "latent_dist") else output.latents


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    height, width = x.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    if pad_h or pad_w:
        # Replicating the border adds no edges for the autoencoder to reconstruct.
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return x, (pad_h, pad_w)


def channel_maps(latents: torch.Tensor) -> list["imaging.Image.Image"]:
    """Each latent channel as a heat map, scaled to its own range, enlarged for viewing."""
    tiles = []
    for channel in latents[0].float().cpu():
        channel = channel - channel.min()
        scale = max(1, 128 // max(channel.shape))
        tile = imaging.heat_map(channel).resize((channel.shape[1] * scale, channel.shape[0] * scale), 0)
        tiles.append(tile)
    return tiles


def add_latent_noise(latents: torch.Tensor, amount: float, seed: int) -> torch.Tensor:
    """Gaussian noise of `amount` × the latents' standard deviation, drawn on the CPU: one seed, one
    noise on any device. How far the decoder tolerates a nudge shows how smooth its latent space is."""
    if amount == 0.0:
        return latents  # exactly the noiseless reconstruction
    noise = torch.randn(latents.shape, generator=make_generator(seed))
    return latents + (amount * latents.float().std().cpu() * noise).to(latents.device, latents.dtype)


@torch.inference_mode()
def vae_reconstruction(image, *, model=None, latent_noise=0.0, seed=0, progress=None) -> VaeResult:
    # 1. Check inputs (options first: they cost nothing; a path or bytes is opened here, its pixel
    #    count checked before decoding)
    latent_noise = checks.check_float("latent_noise", latent_noise, 0.0, limits.MAX_LATENT_NOISE)
    seed = checks.check_seed("seed", seed)
    image = checks.check_image("image", uploads.open_if_file(image))
    upload_notes = uploads.upload_notes(image)
    image, resize_note = imaging.fit_pixels(imaging.to_rgb(image))

    # 2. Get the cached autoencoder
    spec = registry.resolve("vae_reconstruction", model)
    vae = cache.load("vae_reconstruction", spec.name, progress=progress)
    device, dtype = vae.device, vae.dtype

    # 3. Pad to a size the autoencoder can take
    x = imaging.to_tensor(image)
    factor = downsample_factor(vae)
    padded, (pad_h, pad_w) = pad_to_multiple(x, factor)
    notes = upload_notes + ([resize_note] if resize_note else [])
    if pad_h or pad_w:
        notes.append(f"padded from {x.shape[-1]}×{x.shape[-2]} to {padded.shape[-1]}×{padded.shape[-2]} "
                     f"(a multiple of {factor}), then cropped back")

    # 4. Encode and decode
    if progress is not None:
        progress(0.0, "Encoding")
    latents = add_latent_noise(encode(vae, padded.to(device, dtype)), latent_noise, seed)
    if progress is not None:
        progress(0.5, "Decoding")
    recon = vae.decode(latents).sample.float().cpu().clamp(-1, 1)
    recon = recon[..., : x.shape[-2], : x.shape[-1]]
    warnings = checks.check_output(recon, spec.name, low=-1.0, high=1.0)
    if checks.check_output(x, "input", low=-1.0, high=1.0):
        warnings = []  # a black input decodes to black, rightly
    if progress is not None:
        progress(1.0, "Done")

    # 5. Measure and return
    scores = {"psnr": metrics.psnr(x, recon), "ssim": metrics.ssim(x, recon),
              # how many input values each latent value stands for
              "compression_ratio": padded.numel() / latents.numel()}
    error = (x - recon).abs().mean(dim=1)[0] / 2  # mean absolute error per pixel, in [0, 1]
    metadata = base_metadata("vae_reconstruction", spec, device, dtype, size=list(image.size),
                             latent_shape=list(latents.shape[1:]), downsample_factor=factor,
                             latent_noise=latent_noise, seed=seed, notes=notes, warnings=warnings)
    maps = channel_maps(latents)  # the latents the decoder saw, noise included
    return VaeResult(images=imaging.to_pil(recon), metadata=metadata, metrics=scores,
                     error_map=imaging.heat_map(error, max_value=0.25),
                     latent_channels=imaging.grid(maps, min(4, len(maps))),  # four channel maps a row
                     channel_maps=maps)
