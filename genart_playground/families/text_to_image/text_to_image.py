"""Text-to-image: any diffusers text-to-image pipeline (a UNet or a transformer denoiser), with a choice
of schedulers that fit it, or a token model that writes the picture token by token (autoregressive.py)."""

import time

import torch

from . import autoregressive
from ... import checks, diffusion, imaging, limits
from ...devices import make_generator
from ...diffusion import check_options, load_pipeline, output_warnings, to_pil
from ...results import Samples, TextToImageResult, base_metadata


@torch.inference_mode()
def text_to_image(prompt, *, model=None, negative_prompt="", num_images=1, steps=None, guidance=None,
                  width=None, height=None, seed=0, scheduler=None, temperature=None, top_k=None,
                  progress=None) -> TextToImageResult:
    # 1. Check inputs (model-independent bounds first, so absurd values cost no model work)
    prompt = checks.check_prompt("prompt", prompt)
    num_images = checks.check_int("num_images", num_images, 1, limits.MAX_IMAGES)
    seed = checks.check_seed("seed", seed)
    if autoregressive.is_token_model(model):
        return _tokens(prompt, model=model, negative_prompt=negative_prompt, num_images=num_images, guidance=guidance,
                       seed=seed, temperature=temperature, top_k=top_k, progress=progress,
                       steps=steps, scheduler=scheduler, width=width, height=height)
    autoregressive.refuse_token_settings(model, temperature=temperature, top_k=top_k)
    options = check_options(model, negative_prompt, steps, guidance, width, height, scheduler)
    diffusion.check_work("request", options, num_images)

    # 2. Get the cached pipeline's runtime: its lock keeps one run at a time on the weights
    rt, options = load_pipeline(options, progress)

    # 3. One CPU generator per image: image i of a batch is the image of seed + i on its own
    generators = [make_generator(seed + i) for i in range(num_images)]

    def report(pipeline, step, timestep, callback_kwargs):
        if progress is not None:
            progress((step + 1) / options.steps, f"Denoising step {step + 1}/{options.steps}")

    # 4. Denoise
    with rt.lock:
        output = diffusion.denoise(rt, options, on_step=report, prompt=prompt,
                                   negative_prompt=options.negative_prompt or None,
                                   num_images_per_prompt=num_images, generator=generators)

    # 5. Check the pixels and describe how to make them again
    warnings = diffusion.request_warnings(rt, options, prompt, options.negative_prompt) + \
        output_warnings(output, options.spec.name)
    o, pipe = options, rt.pipe
    metadata = base_metadata("text_to_image", o.spec, pipe.device, pipe.dtype, prompt=prompt,
                             negative_prompt=o.negative_prompt, num_images=num_images, steps=o.steps,
                             guidance=o.guidance, width=o.width, height=o.height, seed=seed,
                             scheduler=o.scheduler or type(pipe.scheduler).__name__,
                             scheduler_class=type(pipe.scheduler).__name__,
                             network_evaluations=o.steps * (2 if rt.guidance_on(o.guidance) else 1), warnings=warnings)
    return TextToImageResult(images=to_pil(output.images), metadata=metadata)


def _tokens(prompt, *, model, negative_prompt, num_images, guidance, seed, temperature, top_k, progress,
            **diffusion_settings) -> TextToImageResult:
    """The same request for a token model: the sampler's settings instead of steps and a scheduler."""
    # 1. Check the sampler's settings; steps, a scheduler or another size are refused by name
    options = autoregressive.check_options(model, negative_prompt, temperature, top_k, guidance, **diffusion_settings)

    # 2. Get the cached model and its lock
    token_model, lock = autoregressive.load(options, progress)
    total = token_model.layout.image_tokens

    def report(i, codes):
        if progress is not None:
            progress((i + 1) / total, f"Token {i + 1}/{total}")

    # 3. Write the tokens (picture i from seed + i), then decode them to pixels
    with lock:
        codes = autoregressive.generate(token_model, options, prompt, [seed + i for i in range(num_images)], report)
        pixels = token_model.decode(codes)

    # 4. Check the pixels and describe how to make them again
    warnings = diffusion.prompt_warnings(token_model.tokenizer, prompt, closed=True) + \
        checks.check_output(pixels, options.spec.name, low=-1.0)
    metadata = base_metadata("text_to_image", options.spec, token_model.device, token_model.dtype, prompt=prompt,
                             num_images=num_images, seed=seed, **autoregressive.settings_metadata(options, token_model),
                             warnings=warnings)
    return TextToImageResult(images=imaging.to_pil(pixels), metadata=metadata)


# ---- the family's capabilities (families/base.py: CAPABILITIES) -----------------------------------------

def sample_prompts(spec, prompts, per_prompt, seed, progress) -> Samples:
    """`per_prompt` pictures of each prompt, prompt i's from seeds seed + i·per_prompt, ...: the evaluation
    lab's pictures."""
    images, began, settings, evaluations = [], time.perf_counter(), {}, 1
    for i, prompt in enumerate(prompts):
        result = text_to_image(prompt, model=spec.name, num_images=per_prompt, seed=seed + i * per_prompt)
        images += result.images
        settings = {key: result.metadata[key] for key in ("steps", "guidance", "width", "height", "scheduler")
                    if key in result.metadata}
        evaluations = result.metadata["network_evaluations"]  # what the run recorded (guidance doubles steps)
        if progress is not None:
            progress((i + 1) / len(prompts), f"Drew {len(images)} of {len(prompts) * per_prompt} pictures")
    return Samples(images=images, named=[p for p in prompts for _ in range(per_prompt)],
                   seconds=time.perf_counter() - began, evaluations=evaluations, settings=settings)


def check_sampling(spec, per_prompt) -> None:
    """A public server's bound on one prompt's pictures, from the settings alone."""
    diffusion.check_work("each prompt's pictures", check_options(spec.name, "", None, None, None, None, None),
                         per_prompt)
