"""Diffusion latent walk: frames from one prompt and seed to another. The starting noise moves along
the sphere between the two seeds' noise (slerp), the prompt's embedding along a straight line (lerp)."""

import torch

from .. import checks, imaging, limits
from ..devices import make_generator
from ..results import InterpolationResult, base_metadata
from .gan_interpolation import interpolate
from .text_to_image import check_options, denoise, load_pipeline, output_warnings, to_pil

# What encode_prompt returns, by how many tensors: SD 1.x/2.x, and SDXL (which adds pooled embeddings).
EMBEDDING_NAMES = {
    2: ("prompt_embeds", "negative_prompt_embeds"),
    4: ("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"),
}


def walk(a: torch.Tensor, b: torch.Tensor, frames: int, method: str) -> list[torch.Tensor]:
    """`frames` tensors from a to b, both ends included and exactly a and b (computed in float32)."""
    path = interpolate(a.flatten().float(), b.flatten().float(), frames, method)
    return [a] + [p.reshape(a.shape).to(a.dtype) for p in path[1:-1]] + [b]


def starting_noise(pipe, seed: int, width: int, height: int, dtype, device):
    """The seed's noise exactly as the pipeline draws it (prepare_latents: randn_tensor with the CPU
    generator, unscaled), and the generator in the state the pipeline leaves it in after the draw,
    which stochastic schedulers go on drawing from."""
    from diffusers.utils.torch_utils import randn_tensor

    generator = make_generator(seed)
    shape = (1, pipe.unet.config.in_channels, height // pipe.vae_scale_factor, width // pipe.vae_scale_factor)
    return randn_tensor(shape, generator=generator, device=device, dtype=dtype), generator


def embeddings(pipe, prompt: str, negative_prompt: str, guidance_on: bool, device) -> dict:
    """encode_prompt's outputs, by the names the pipeline takes them back under."""
    outputs = pipe.encode_prompt(prompt=prompt, device=device, num_images_per_prompt=1,
                                 do_classifier_free_guidance=guidance_on, negative_prompt=negative_prompt or None)
    if len(outputs) not in EMBEDDING_NAMES:
        raise ValueError(f"The walk does not know this pipeline's prompt embeddings ({type(pipe).__name__}).")
    return {name: value for name, value in zip(EMBEDDING_NAMES[len(outputs)], outputs) if value is not None}


@torch.inference_mode()
def diffusion_walk(prompt_a, prompt_b=None, *, seed_a=0, seed_b=None, frames=8, model=None, negative_prompt="",
                   steps=None, guidance=None, width=None, height=None, scheduler=None,
                   progress=None) -> InterpolationResult:
    # 1. Check inputs (the same checks as text_to_image for the shared settings)
    prompt_a = checks.check_prompt("prompt_a", prompt_a)
    prompt_b = prompt_a if prompt_b is None else checks.check_prompt("prompt_b", prompt_b)
    seed_a = checks.check_seed("seed_a", seed_a)
    seed_b = seed_a if seed_b is None else checks.check_seed("seed_b", seed_b)
    if prompt_a == prompt_b and seed_a == seed_b:
        raise ValueError("`prompt_b` or `seed_b` must differ from A's; with both the same every frame is one image.")
    frames = checks.check_int("frames", frames, 2, limits.MAX_FRAMES)
    options = check_options(model, negative_prompt, steps, guidance, width, height, scheduler)

    # 2. Get the cached pipeline and its lock
    pipe, lock, original, options = load_pipeline(options, progress)
    device = pipe._execution_device
    guidance_on = options.guidance > 1 and pipe.unet.config.time_cond_proj_dim is None  # the pipeline's own rule

    # 3. The two ends: each prompt's embeddings and each seed's noise, as the pipeline would make them
    with lock:
        ends = [embeddings(pipe, prompt, options.negative_prompt, guidance_on, device)
                for prompt in (prompt_a, prompt_b)]
    dtype = ends[0]["prompt_embeds"].dtype  # the pipeline draws its noise in the embeddings' dtype
    noise_a, _ = starting_noise(pipe, seed_a, options.width, options.height, dtype, device)
    noise_b, _ = starting_noise(pipe, seed_b, options.width, options.height, dtype, device)

    # 4. The path: Gaussian noise lives near a sphere (slerp keeps its norm, so no frame is washed
    # out); embeddings have no such shape, so they move in a straight line
    noises = walk(noise_a, noise_b, frames, "slerp")
    path = {name: walk(ends[0][name], ends[1][name], frames, "lerp") for name in ends[0]}

    # 5. One pipeline run per frame (a batch would round differently, and the ends must be exactly
    # text_to_image's images). The pipeline scales `latents` by init_noise_sigma itself, as it does
    # the noise it draws, so the unscaled noise goes in. A stochastic scheduler's fresh noise at
    # each step comes from the nearer seed's generator: its walk jumps at the middle frame.
    images, warnings = [], []
    for i in range(frames):
        _, generator = starting_noise(pipe, seed_a if i < frames / 2 else seed_b, options.width, options.height,
                                      dtype, device)

        def report(pipeline, step, timestep, callback_kwargs, i=i):
            if progress is not None:
                progress((i * options.steps + step + 1) / (frames * options.steps),
                         f"Frame {i + 1}/{frames}, step {step + 1}/{options.steps}")

        with lock:
            output = denoise(pipe, original, options, on_step=report, latents=noises[i], generator=[generator],
                             **{name: values[i] for name, values in path.items()})
        warnings += [f"frame {i}: {warning}" for warning in output_warnings(output, options.spec.name)]
        images += to_pil(output.images)

    # 6. Animate and describe
    o = options
    metadata = base_metadata("diffusion_walk", o.spec, pipe.device, pipe.dtype, prompt_a=prompt_a, prompt_b=prompt_b,
                             seed_a=seed_a, seed_b=seed_b, frames=frames, negative_prompt=o.negative_prompt,
                             steps=o.steps, guidance=o.guidance, width=o.width, height=o.height,
                             scheduler=o.scheduler or type(pipe.scheduler).__name__,
                             scheduler_class=type(pipe.scheduler).__name__, noise_path="slerp",
                             prompt_path="lerp", warnings=warnings)
    return InterpolationResult(images=images, metadata=metadata, gif=imaging.gif_bytes(images, duration_ms=120),
                               latent_norms=[float(noise.float().norm()) for noise in noises])  # level: slerp
