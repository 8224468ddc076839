"""Denoising timeline: one text-to-image run, step by step. At each step (step 0: the pure noise), the noisy
latents the model sees, the clean image it predicts from them, and where the prompt pulls hardest
(classifier-free guidance)."""

import math

import numpy as np
import torch
from PIL import Image

from ... import checks, imaging
from ...devices import make_generator
from ...models import loading, registry
from ...models.cache import cache
from ...results import TimelineResult, base_metadata
from ...diffusion import (check_options, check_work, decode_latents, denoise, load_pipeline, output_warnings,
                          request_warnings, to_pil)

# TAESD decodes Stable Diffusion 1.x/2.x latents in milliseconds: the latents an SD VAE scales by
# 0.18215. Other latents (SDXL's, scaled by 0.13025; the built-in model's) need their own VAE.
PREVIEW_DECODER = "madebyollin/taesd"
PREVIEW_LATENT_SCALE = 0.18215
DECODE_BATCH = 8  # latents decoded at once: bounds the decoder's memory at large sizes
PREDICTION_TYPES = ("epsilon", "v_prediction", "sample", "flow")  # "flow": a velocity (rectified flow)


def preview_decoder(pipe):
    """(decoder, its name): TAESD when it can run now, offline, and reads this pipeline's latents;
    else the pipeline's own VAE."""
    spec = registry.resolve("vae_reconstruction", PREVIEW_DECODER)
    vae = pipe.vae.config
    if loading.availability(spec) not in ("built-in", "local", "cached") or \
            not math.isclose(vae.scaling_factor, PREVIEW_LATENT_SCALE, rel_tol=1e-4):
        return pipe.vae, "pipeline VAE"
    tiny = cache.load("vae_reconstruction", spec.name)
    config = tiny.config
    upscale = config.get("upsampling_scaling_factor", 0) ** (len(config.get("decoder_block_out_channels", ())) - 1)
    if type(tiny).__name__ != "AutoencoderTiny" or config.latent_channels != vae.latent_channels or \
            upscale != pipe.vae_scale_factor:
        return pipe.vae, "pipeline VAE"
    return tiny, spec.name


def decode(decoder, latents: list[torch.Tensor]) -> list[Image.Image]:
    """Latents (1, C, h, w) as the pipeline keeps them -> PIL images. The previews are pictures of a
    half-finished run, not results: a NaN in them is drawn black (the final image is checked)."""
    images = []
    for i in range(0, len(latents), DECODE_BATCH):
        pixels = decode_latents(decoder, torch.cat(latents[i:i + DECODE_BATCH]))
        images += imaging.to_pil(torch.nan_to_num(pixels.float()))
    return images


def alpha_bar(scheduler, timestep: float) -> float:
    """ᾱ_t, the share of signal at timestep t; interpolated where a scheduler's timesteps are fractional."""
    alphas = scheduler.alphas_cumprod.float().cpu().numpy()
    return float(np.interp(timestep, np.arange(len(alphas)), alphas))


def noise_level(scheduler, timestep: float, prediction_type: str) -> float:
    """ᾱ_t for the variance-preserving models; σ_t = t / T for rectified flow (x_t = (1−σ)·x0 + σ·ε)."""
    if prediction_type == "flow":
        return timestep / scheduler.config.num_train_timesteps
    return alpha_bar(scheduler, timestep)


def predicted_clean(prediction, sample, alpha: float, prediction_type: str) -> torch.Tensor:
    """x0 from the model's prediction at the denoiser's input x_t = √ᾱ·x0 + √(1−ᾱ)·ε (every scheduler
    feeds a UNet this variance-preserving scale, Euler's included, through scale_model_input); for
    rectified flow `alpha` is σ and the prediction the velocity v = ε − x0, so x0 = x_t − σ·v."""
    if prediction_type == "flow":
        return sample - alpha * prediction
    a, s = math.sqrt(alpha), math.sqrt(1 - alpha)
    if prediction_type == "epsilon":
        return (sample - s * prediction) / a
    if prediction_type == "v_prediction":  # v = √ᾱ·ε − √(1−ᾱ)·x0
        return a * sample - s * prediction
    return prediction  # "sample": the model predicts x0 itself


@torch.inference_mode()
def denoising_timeline(prompt, *, model=None, negative_prompt="", steps=None, guidance=None, width=None,
                       height=None, seed=0, scheduler=None, progress=None) -> TimelineResult:
    # 1. Check inputs (the same checks as text_to_image, model-independent bounds first)
    prompt = checks.check_prompt("prompt", prompt)
    seed = checks.check_seed("seed", seed)
    options = check_options(model, negative_prompt, steps, guidance, width, height, scheduler)
    check_work("timeline", options, 2)  # a run, and two previews decoded per step

    # 2. Get the cached pipeline, its lock, and a decoder for the previews
    rt, options = load_pipeline(options, progress)
    rt.refuse_packed("denoising timeline")
    pipe = rt.pipe
    prediction_type = "flow" if rt.flow_matching else rt.scheduler_config.get("prediction_type", "epsilon")
    if prediction_type not in PREDICTION_TYPES:
        raise ValueError(f"Model {options.spec.name!r} predicts {prediction_type!r}; the timeline reads "
                         f"{', '.join(PREDICTION_TYPES)}.")
    decoder, decoder_name = preview_decoder(pipe)

    # 3. Record every denoiser call: its input (the noisy latents; at step 0 the pure noise) and prediction
    calls, noisy, predicted, differences, timesteps = [], [], [], [], []

    def on_forward(module, args, kwargs, output):
        sample = args[0] if args else kwargs.get("sample", kwargs.get("hidden_states"))
        timestep = args[1] if len(args) > 1 else kwargs["timestep"]
        prediction = output[0] if isinstance(output, tuple) else output.sample
        calls.append((sample, float(torch.as_tensor(timestep).flatten()[0]), prediction))

    def on_step(pipeline, step, timestep, callback_kwargs):
        # The input is scaled as the denoiser sees it (scale_model_input): Euler's latents carry x0 + σ·ε,
        # far outside the decoder's range early on; scaled, they look like every other scheduler's.
        sample, t, prediction = calls.pop()
        sample, prediction = sample.float(), prediction.float()
        if pipeline.do_classifier_free_guidance:  # the batch is [uncond, cond], as the pipeline chunks it
            uncond, cond = prediction.chunk(2)
            sample, prediction = sample.chunk(2)[0], uncond + pipeline.guidance_scale * (cond - uncond)
            differences.append((cond - uncond).abs().mean(dim=1)[0].cpu())
        level = noise_level(pipeline.scheduler, t, prediction_type)
        x0 = predicted_clean(prediction, sample, level, prediction_type)
        predicted.append(x0.cpu())
        noisy.append(sample.cpu())
        timesteps.append(t)
        if progress is not None:
            progress(0.9 * (step + 1) / options.steps, f"Denoising step {step + 1}/{options.steps}")

    # 4. Denoise exactly as text_to_image does, with the hook on for this run only
    with rt.lock:
        hook = rt.denoiser.register_forward_hook(on_forward, with_kwargs=True)
        try:
            output = denoise(rt, options, on_step=on_step, prompt=prompt,
                             negative_prompt=options.negative_prompt or None, generator=[make_generator(seed)],
                             callback_on_step_end_tensor_inputs=["latents"])
        finally:
            hook.remove()

    # 5. Decode the steps, draw the guidance maps, animate
    if progress is not None:
        progress(0.95, f"Decoding {len(noisy)} steps")
    warnings = request_warnings(rt, options, prompt, options.negative_prompt) + output_warnings(output, options.spec.name)
    noisy_images, predicted_images = decode(decoder, noisy), decode(decoder, predicted)
    size = (options.width, options.height)
    top = float(torch.stack(differences).max()) if differences else 0.0  # one scale for all steps: comparable
    guidance_maps = [imaging.heat_map(d, top).resize(size, Image.Resampling.NEAREST) for d in differences]
    gif = imaging.gif_bytes([imaging.grid([n, p], columns=2) for n, p in zip(noisy_images, predicted_images)],
                            duration_ms=200)
    if progress is not None:
        progress(1.0, "Done")
    o = options
    metadata = base_metadata("denoising_timeline", o.spec, pipe.device, pipe.dtype, prompt=prompt,
                             negative_prompt=o.negative_prompt, steps=o.steps, guidance=o.guidance, width=o.width,
                             height=o.height, seed=seed, scheduler=o.scheduler or type(pipe.scheduler).__name__,
                             scheduler_class=type(pipe.scheduler).__name__, prediction_type=prediction_type,
                             decoder=decoder_name, warnings=warnings)
    return TimelineResult(images=to_pil(output.images), metadata=metadata, noisy=noisy_images,
                          predicted=predicted_images, guidance_maps=guidance_maps, timesteps=timesteps, gif=gif)
