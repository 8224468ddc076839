"""Normalizing-flow samples: a class from the prompt, z drawn from the prior at a temperature, run backwards."""

import time

import torch

from ... import checks, limits
from ...devices import make_generator
from ...results import Samples, base_metadata
from .classes import caption, named_combo, read_prompt
from .flow_result import FlowResult
from .likelihood import conditional_log_likelihood
from .pictures import as_bytes, device_of, load, to_pictures

MAX_TEMPERATURE = 1.5  # past the prior's own spread (1.0) samples fall apart; the tab's slider stops at 1.2


def draws(flow, seeds: list[int]) -> tuple[list[list[int]], list[torch.Tensor]]:
    """For each seed: the class it picks in each code after the first (background, position, size: used where
    the prompt names none) and its ε at each level."""
    picked, eps = [], [[] for _ in flow.z_shapes()]
    for seed in seeds:
        generator = make_generator(seed)
        picked.append([int(torch.randint(len(names), (), generator=generator)) for names in flow.codes[1:]])
        for level, shape in enumerate(flow.z_shapes()):
            eps[level].append(torch.randn(shape, generator=generator))
    return picked, [torch.stack(level) for level in eps]


@torch.inference_mode()
def flow_sample(prompt, *, model=None, temperature=0.7, num_images=1, seed=0, likelihood=True,
                progress=None) -> FlowResult:
    """Pictures of the classes the prompt names; with `likelihood`, each one's bits/dim given its classes
    (one more encode each; within 0.003 bits/dim of the likelihood summed over every class, flow_likelihood's)."""
    # 1. Check inputs
    prompt = checks.check_prompt("prompt", prompt, allow_empty=False)
    named_combo(prompt)
    temperature = checks.check_float("temperature", temperature, 0.0, MAX_TEMPERATURE)
    num_images = checks.check_int("num_images", num_images, 1, limits.MAX_IMAGES)
    seed = checks.check_seed("seed", seed)

    # 2. The cached flow, and the classes the prompt names (checked against the model's own)
    spec, flow = load(model, progress)
    request = read_prompt(prompt, flow.codes)

    # 3. Picture i from seed + i: the classes the prompt leaves open, and ε at every level
    seeds = [seed + i for i in range(num_images)]
    picks, eps = draws(flow, seeds)
    labels = torch.tensor(request.labels(picks), device=device_of(flow))
    if progress is not None:
        progress(0.1, "Running the flow backwards from z")
    pixels = flow.decode(flow.embed(labels), temperature=temperature, eps=eps)
    images, warnings = to_pictures(pixels, spec.name)

    # 4. The exact likelihood of each 8-bit picture drawn
    bits = []
    if likelihood:
        if progress is not None:
            progress(0.6, "Measuring each picture's likelihood")
        log_p = conditional_log_likelihood(flow, as_bytes(images), labels)
        bits = [round(float(b), 4) for b in flow.bits_per_dim(log_p)]

    metadata = base_metadata("flow_sample", spec, device_of(flow), next(flow.parameters()).dtype, prompt=prompt,
                             temperature=temperature, num_images=num_images, seed=seed,
                             classes=[caption(flow.codes, row) for row in labels.tolist()], labels=labels.tolist(),
                             size=[flow.image_size, flow.image_size], bits_per_dim=bits,
                             likelihood="exact, of each 8-bit picture given its classes (uniform dequantisation, seed 0)",
                             warnings=request.warnings + warnings)
    if progress is not None:
        progress(1.0, "Done")
    return FlowResult(images=images, metadata=metadata, metrics={"bits_per_dim": bits} if likelihood else {})


def sample_prompts(spec, prompts, per_prompt, seed, progress) -> Samples:
    """`per_prompt` pictures of each prompt, prompt i's from seeds seed + i·per_prompt, ...: the evaluation lab's."""
    images, seconds = [], 0.0
    for i, prompt in enumerate(prompts):
        began = time.perf_counter()
        images += flow_sample(prompt, model=spec.name, num_images=per_prompt, seed=seed + i * per_prompt,
                              likelihood=False).images
        seconds += time.perf_counter() - began
        if progress is not None:
            progress((i + 1) / len(prompts), f"Drew {len(images)} of {len(prompts) * per_prompt} pictures")
    return Samples(images=images, named=[p for p in prompts for _ in range(per_prompt)], seconds=seconds,
                   evaluations=1, settings={"temperature": 0.7})
