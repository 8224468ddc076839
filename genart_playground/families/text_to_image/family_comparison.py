"""One prompt, three families: the same prompt and seed through a UNet diffusion model, a rectified-flow
diffusion transformer and an autoregressive token transformer, each timed, with its number of network
evaluations and the checker's verdict; and quality against steps for the diffusion models."""

import time

import torch

from ... import checks, diffusion, limits
from ...devices import pick_device
from ...metrics import world
from ...models import registry
from ...results import FamilyComparisonResult, StepsSweepResult
from .text_to_image import text_to_image

ARCHITECTURES = {"builtin/shapes-t2i": "UNet diffusion (ε/v-prediction)",
            "builtin/shapes-dit": "diffusion transformer (rectified flow)",
            "builtin/shapes-vqgpt": "autoregressive transformer (VQ tokens)"}
SWEEP_MODELS = ("builtin/shapes-t2i", "builtin/shapes-dit")
SWEEP_STEPS = (1, 2, 4, 8, 16, 32)
MAX_SWEEP_PROMPTS = 16


def architecture_of(model: str) -> str:
    spec = registry.resolve("text_to_image", model)
    if spec.name in ARCHITECTURES:
        return ARCHITECTURES[spec.name]
    if registry.can(spec, "write_tokens"):
        return "autoregressive transformer (VQ tokens)"
    return "diffusion"


def verdict(image, prompt: str) -> tuple[str, bool]:
    """What the checker reads in the picture, and whether it is everything the prompt names."""
    judged = world.judge([image])[0]
    named = world.prompt_attributes(prompt)
    read = " ".join(str(getattr(judged, a)) for a in ("size", "color", "shape") if getattr(judged, a)) or "nothing"
    read += f" {judged.position or ''} on {judged.background}".replace("  ", " ")
    return read, bool(named) and judged.agrees(**named)


def _check_models(models, default) -> list[str]:
    """The models named, or the default ones that can run here (a built-in not trained yet is left out)."""
    if models is None:
        from ...models import loading

        models = [name for name in default if loading.availability(registry.resolve("text_to_image", name)) != "missing"]
    models = [models] if isinstance(models, str) else list(models)
    if not 1 <= len(models) <= limits.MAX_FAMILY_MODELS:
        raise ValueError(f"`models` must name 1 to {limits.MAX_FAMILY_MODELS} models, got {len(models)}.")
    specs = [registry.resolve("text_to_image", m) for m in models]
    checks.check_budget("comparison", sum(_work(spec) for spec in specs), pick_device().type)
    return [spec.name for spec in specs]


def _work(spec) -> int:
    """A model's work at its own settings, as the public bound counts it (checks.work; a token model writes
    its picture in one pass per token: counted as one step)."""
    steps = spec.defaults.get("steps", 25) if registry.can(spec, "denoise") else 1
    return checks.work(steps=steps, count=1, **diffusion.work_size(spec))


@torch.inference_mode()
def compare_families(prompt, *, seed=0, models=None, progress=None) -> FamilyComparisonResult:
    # 1. Check inputs
    prompt = checks.check_prompt("prompt", prompt, allow_empty=False)
    seed = checks.check_seed("seed", seed)
    models = _check_models(models, ARCHITECTURES)

    # 2. Each model at its own defaults, timed (the first run of a model includes loading it; run twice to compare)
    images, rows = [], []
    for i, model in enumerate(models):
        if progress is not None:
            progress(i / len(models), f"{model} ({i + 1}/{len(models)})")
        began = time.perf_counter()
        result = text_to_image(prompt, model=model, seed=seed)
        seconds = time.perf_counter() - began
        read, right = verdict(result.images[0], prompt)
        images.append(result.images[0])
        rows.append({"model": model, "family": architecture_of(model), "seconds": round(seconds, 3),
                     "network_evaluations": result.metadata["network_evaluations"],
                     "steps": result.metadata.get("steps"), "checker": read, "right": right})

    # 3. Describe
    metadata = {"task": "compare_families", "prompt": prompt, "seed": seed, "models": models}
    return FamilyComparisonResult(images=images, metadata=metadata, rows=rows)


@torch.inference_mode()
def steps_sweep(*, models=None, steps=SWEEP_STEPS, prompts=8, seed=0, progress=None) -> StepsSweepResult:
    """For each diffusion model and step count, the share of `prompts` pictures of the standard prompt set
    that the checker reads as right, each model with its own sampler: how few steps each one needs."""
    # 1. Check inputs
    models = _check_models(models, SWEEP_MODELS)
    for model in models:
        if not registry.can(registry.resolve("text_to_image", model), "denoise"):
            raise ValueError(f"{model} has no steps (it writes tokens); the sweep compares diffusion models.")
    steps = sorted({checks.check_int("steps", s, 1, limits.MAX_STEPS) for s in steps})
    if not 1 <= len(steps) <= limits.MAX_GRID_VALUES:
        raise ValueError(f"`steps` must hold 1 to {limits.MAX_GRID_VALUES} values, got {len(steps)}.")
    prompts = checks.check_int("prompts", prompts, 1, MAX_SWEEP_PROMPTS)
    seed = checks.check_seed("seed", seed)
    chosen = world.prompt_set("standard", seed)[:prompts]
    diffusion.check_total_work("sweep", sum(diffusion.work(diffusion.check_options(model, "", count, None, None, None,
                                                                                   None), prompts)
                                            for model in models for count in steps))

    # 2. Every (model, steps): the pictures, and how many the checker reads as right
    rows, images, done = [], [], 0
    for model in models:
        for count in steps:
            if progress is not None:
                progress(done / (len(models) * len(steps)), f"{model}, {count} steps")
            pictures = [text_to_image(p, model=model, steps=count, seed=seed + i).images[0]
                        for i, p in enumerate(chosen)]
            right = [verdict(picture, p)[1] for picture, p in zip(pictures, chosen)]
            rows.append({"model": model, "steps": count, "quality": sum(right) / len(right)})
            images.append(pictures[0])
            done += 1

    # 3. Describe
    metadata = {"task": "steps_sweep", "models": models, "steps": steps, "prompts": prompts, "seed": seed}
    return StepsSweepResult(images=images, metadata=metadata, rows=rows)
