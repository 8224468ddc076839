"""Diffusion latent walk: frames from one prompt and seed to another. The starting noise moves along
the sphere between the two seeds' noise (slerp), the prompt's embedding along a straight line (lerp)."""

import torch

from ... import checks, imaging, limits
from ...devices import make_generator
from ...results import InterpolationResult, base_metadata
from ...diffusion import check_options, check_work, denoise, load_pipeline, output_warnings, to_pil
from ...latents import interpolate


def walk(a: torch.Tensor, b: torch.Tensor, frames: int, method: str) -> list[torch.Tensor]:
    """`frames` tensors from a to b, both ends included and exactly a and b (computed in float32)."""
    path = interpolate(a.flatten().float(), b.flatten().float(), frames, method)
    return [a] + [p.reshape(a.shape).to(a.dtype) for p in path[1:-1]] + [b]


def starting_noise(rt, seed: int, width: int, height: int, dtype, device):
    """The seed's noise exactly as the pipeline draws it (prepare_latents: randn_tensor with the CPU
    generator, unscaled), and the generator in the state the pipeline leaves it in after the draw,
    which stochastic schedulers go on drawing from."""
    from diffusers.utils.torch_utils import randn_tensor

    generator = make_generator(seed)
    return randn_tensor(rt.latent_shape(width, height), generator=generator, device=device, dtype=dtype), generator


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
    check_work("walk", options, frames)  # one full run per frame

    # 2. Get the cached pipeline and its lock
    rt, options = load_pipeline(options, progress)
    rt.refuse_packed("diffusion walk")
    pipe, device = rt.pipe, rt.device
    guidance_on = rt.guidance_on(options.guidance)

    # 3. The two ends: each prompt's embeddings and each seed's noise, as the pipeline would make them
    with rt.lock:
        ends = [rt.encode_prompt(prompt, options.negative_prompt, guidance_on, options.spec)
                for prompt in (prompt_a, prompt_b)]
    dtype = ends[0]["prompt_embeds"].dtype  # the pipeline draws its noise in the embeddings' dtype
    noise_a, _ = starting_noise(rt, seed_a, options.width, options.height, dtype, device)
    noise_b, _ = starting_noise(rt, seed_b, options.width, options.height, dtype, device)

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
        _, generator = starting_noise(rt, seed_a if i < frames / 2 else seed_b, options.width, options.height,
                                      dtype, device)

        def report(pipeline, step, timestep, callback_kwargs, i=i):
            if progress is not None:
                progress((i * options.steps + step + 1) / (frames * options.steps),
                         f"Frame {i + 1}/{frames}, step {step + 1}/{options.steps}")

        with rt.lock:
            output = denoise(rt, options, on_step=report, latents=noises[i], generator=[generator],
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
