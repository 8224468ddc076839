"""Text-to-image: any diffusers text-to-image pipeline (a UNet or a transformer denoiser), with a choice
of schedulers that fit it."""

import torch

from .. import checks, diffusion, limits
from ..devices import make_generator
from ..diffusion import check_options, load_pipeline, output_warnings, to_pil
from ..results import TextToImageResult, base_metadata


@torch.inference_mode()
def text_to_image(prompt, *, model=None, negative_prompt="", num_images=1, steps=None, guidance=None,
                  width=None, height=None, seed=0, scheduler=None, progress=None) -> TextToImageResult:
    # 1. Check inputs (model-independent bounds first, so absurd values cost no model work)
    prompt = checks.check_prompt("prompt", prompt)
    num_images = checks.check_int("num_images", num_images, 1, limits.MAX_IMAGES)
    seed = checks.check_seed("seed", seed)
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
                             scheduler_class=type(pipe.scheduler).__name__, warnings=warnings)
    return TextToImageResult(images=to_pil(output.images), metadata=metadata)
