"""Text-to-image: any diffusers text-to-image pipeline, with a choice of schedulers that fit it."""

import threading
from dataclasses import dataclass, replace

import numpy as np
import torch
from PIL import Image

from .. import checks, limits
from ..devices import make_generator
from ..models import registry
from ..models.cache import cache
from ..results import TextToImageResult, base_metadata

# name -> (diffusers class, config overrides)
SCHEDULERS = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler-ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "dpm++": ("DPMSolverMultistepScheduler", {}),
    "dpm++-karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "ddim": ("DDIMScheduler", {}),
    "unipc": ("UniPCMultistepScheduler", {}),
}


def schedulers_for(pipe) -> list[str]:
    """The scheduler names whose classes the pipeline's own scheduler lists as compatible."""
    compatible = {cls.__name__ for cls in pipe.scheduler.compatibles} | {type(pipe.scheduler).__name__}
    return [name for name, (cls, _) in SCHEDULERS.items() if cls in compatible]


def original_scheduler(name: str):
    """The scheduler class and config the pipeline was loaded with, remembered with the cached model."""
    return cache.derive("text-to-image", name, "original-scheduler",
                        lambda pipe: (type(pipe.scheduler), pipe.scheduler.config))


def make_scheduler(original, name: str | None, spec_defaults: dict):
    """A fresh scheduler built from the pipeline's original one: schedulers keep per-run state,
    and one run's choice (Karras sigmas, say) must not leak into the next run's default."""
    import diffusers

    original_cls, config = original
    overrides = {k: v for k, v in spec_defaults.items() if k == "timestep_spacing"}
    if name is None:
        return original_cls.from_config(config, **overrides)
    cls_name, extra = SCHEDULERS[name]
    return getattr(diffusers, cls_name).from_config(config, **overrides, **extra)


def default_size(pipe) -> int:
    return pipe.unet.config.sample_size * pipe.vae_scale_factor


def check_output(images: np.ndarray, name: str) -> list[str]:
    """NaN is an error; an all-black image is reported rather than passed off as a result."""
    return checks.check_output(images, name)


def to_pil(images: np.ndarray) -> list[Image.Image]:
    return [Image.fromarray((image * 255).round().clip(0, 255).astype(np.uint8)) for image in images]


@dataclass(frozen=True)
class Options:
    """The checked settings every run of a text-to-image pipeline shares (text_to_image, the
    denoising timeline, the diffusion walk); width and height are None until the model fills them in."""
    spec: registry.ModelSpec
    negative_prompt: str
    steps: int
    guidance: float
    width: int | None
    height: int | None
    scheduler: str | None


def check_options(model, negative_prompt, steps, guidance, width, height, scheduler) -> Options:
    """Model-independent bounds first, so absurd values cost no model work."""
    negative_prompt = checks.check_prompt("negative_prompt", negative_prompt or "")
    spec = registry.resolve("text-to-image", model)
    steps = checks.check_int("steps", steps if steps is not None else spec.defaults.get("steps", 25),
                             1, limits.MAX_STEPS)
    guidance = checks.check_float("guidance", guidance if guidance is not None else spec.defaults.get("guidance", 7.5),
                                  0.0, limits.MAX_GUIDANCE)
    if width is not None:
        width = checks.check_size("width", width)
    if height is not None:
        height = checks.check_size("height", height)
    scheduler = scheduler if scheduler is not None else spec.defaults.get("scheduler")
    if scheduler is not None:
        checks.check_choice("scheduler", scheduler, list(SCHEDULERS))
    return Options(spec, negative_prompt, steps, guidance, width, height, scheduler)


def load_pipeline(options: Options, progress=None):
    """The cached pipeline, the lock that keeps one run at a time on it, and its original scheduler;
    with the options' size filled in from the model where the caller left it out."""
    spec = options.spec
    pipe = cache.load("text-to-image", spec.name, progress=progress)
    lock = cache.derive("text-to-image", spec.name, "run-lock", lambda _: threading.Lock())
    original = original_scheduler(spec.name)
    if options.scheduler is not None and options.scheduler not in schedulers_for(pipe):
        raise ValueError(f"`scheduler` {options.scheduler!r} does not fit {spec.name}; use one of "
                         f"{', '.join(schedulers_for(pipe))}.")
    width = options.width or spec.defaults.get("width") or default_size(pipe)
    height = options.height or spec.defaults.get("height") or default_size(pipe)
    return pipe, lock, original, replace(options, width=width, height=height)


def denoise(pipe, original, options: Options, *, on_step=None, **inputs):
    """One pipeline run with a fresh scheduler; `inputs` are the prompt (or its embeddings), the
    generators and whatever else the caller adds. The caller holds the model's run lock."""
    def on_step_end(pipeline, step, timestep, callback_kwargs):
        if on_step is not None:
            on_step(pipeline, step, timestep, callback_kwargs)
        return callback_kwargs

    pipe.scheduler = make_scheduler(original, options.scheduler, options.spec.defaults)
    return pipe(num_inference_steps=options.steps, guidance_scale=options.guidance, width=options.width,
                height=options.height, output_type="np", callback_on_step_end=on_step_end, **inputs)


def output_warnings(output, name: str) -> list[str]:
    warnings = check_output(output.images, name)
    flagged = getattr(output, "nsfw_content_detected", None)
    if flagged and any(flagged):
        warnings.append("the model's safety checker blacked out a flagged image")
    return warnings


@torch.inference_mode()
def text_to_image(prompt, *, model=None, negative_prompt="", num_images=1, steps=None, guidance=None,
                  width=None, height=None, seed=0, scheduler=None, progress=None) -> TextToImageResult:
    # 1. Check inputs (model-independent bounds first, so absurd values cost no model work)
    prompt = checks.check_prompt("prompt", prompt)
    num_images = checks.check_int("num_images", num_images, 1, limits.MAX_IMAGES)
    seed = checks.check_seed("seed", seed)
    options = check_options(model, negative_prompt, steps, guidance, width, height, scheduler)

    # 2. Get the cached pipeline, and the lock that keeps one run at a time on it
    pipe, lock, original, options = load_pipeline(options, progress)

    # 3. One CPU generator per image: image i of a batch is the image of seed + i on its own
    generators = [make_generator(seed + i) for i in range(num_images)]

    def report(pipeline, step, timestep, callback_kwargs):
        if progress is not None:
            progress((step + 1) / options.steps, f"Denoising step {step + 1}/{options.steps}")

    # 4. Denoise
    with lock:
        output = denoise(pipe, original, options, on_step=report, prompt=prompt,
                         negative_prompt=options.negative_prompt or None, num_images_per_prompt=num_images,
                         generator=generators)

    # 5. Check the pixels and describe how to make them again
    warnings = output_warnings(output, options.spec.name)
    o = options
    metadata = base_metadata("text_to_image", o.spec, pipe.device, pipe.dtype, prompt=prompt,
                             negative_prompt=o.negative_prompt, num_images=num_images, steps=o.steps,
                             guidance=o.guidance, width=o.width, height=o.height, seed=seed,
                             scheduler=o.scheduler or type(pipe.scheduler).__name__,
                             scheduler_class=type(pipe.scheduler).__name__, warnings=warnings)
    return TextToImageResult(images=to_pil(output.images), metadata=metadata)
