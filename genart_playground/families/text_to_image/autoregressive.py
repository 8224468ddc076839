"""What every view of a token model shares (text_to_image, the token timeline, the codebook explorer,
the family comparison): its settings and their checks, the cached model and its lock, and one
sampling run. The model itself is token_transformer.py, beside it.

A token model writes a fixed grid of tokens; it has no steps, no scheduler and one picture size.
Its settings are the sampler's: temperature, top-k and classifier-free guidance.
"""

import threading
import weakref
from dataclasses import dataclass

import torch

from ... import checks, limits
from ...devices import make_generator
from ...models import registry
from ...models.cache import cache

DEFAULTS = {"temperature": 1.0, "top_k": 16, "guidance": 3.0}
TEMPERATURE_RANGE, MAX_TOP_K = limits.TEMPERATURE_RANGE, limits.MAX_TOP_K
DIFFUSION_ONLY = ("steps", "scheduler")
TOKEN_ONLY = ("temperature", "top_k")


def is_token_model(model) -> bool:
    return registry.can(registry.resolve("text_to_image", model), "write_tokens")


@dataclass(frozen=True)
class TokenOptions:
    spec: registry.ModelSpec
    negative_prompt: str
    temperature: float
    top_k: int
    guidance: float
    size: int  # pixels per side: the token grid fixes it


def check_options(model, negative_prompt="", temperature=None, top_k=None, guidance=None, **diffusion) -> TokenOptions:
    """The sampler's settings, each within its bounds; a diffusion setting (steps, scheduler) is refused
    by name, and a size other than the model's own too, before the model loads."""
    negative_prompt = checks.check_prompt("negative_prompt", negative_prompt or "")
    spec = registry.resolve("text_to_image", model)
    size = spec.defaults.get("width", 64)
    for name in DIFFUSION_ONLY:
        if diffusion.get(name) is not None:
            raise ValueError(f"`{name}` has no meaning for {spec.name}: it writes its picture token by token, not in "
                             f"denoising steps; leave `{name}` out (its settings are temperature, top_k, guidance).")
    for name in ("width", "height"):
        if diffusion.get(name) is not None and checks.check_size(name, diffusion[name]) != size:
            raise ValueError(f"`{name}`: {spec.name} draws {size}×{size} pictures only (its grid of tokens is fixed); "
                             f"leave it out or give {size}.")
    defaults = {**DEFAULTS, **spec.defaults}
    temperature = checks.check_float("temperature", defaults["temperature"] if temperature is None else temperature,
                                     *TEMPERATURE_RANGE)
    top_k = checks.check_int("top_k", defaults["top_k"] if top_k is None else top_k, 1, MAX_TOP_K)
    guidance = checks.check_float("guidance", defaults["guidance"] if guidance is None else guidance,
                                  0.0, limits.MAX_GUIDANCE)
    return TokenOptions(spec, negative_prompt, temperature, top_k, guidance, size)


def refuse_token_settings(model, **settings) -> None:
    """A diffusion model has no sampler temperature or top-k: say so instead of ignoring them."""
    for name in TOKEN_ONLY:
        if settings.get(name) is not None:
            raise ValueError(f"`{name}` is a setting of token models (such as builtin/shapes-vqgpt); "
                             f"{registry.resolve('text_to_image', model).name} is a diffusion model: leave it out.")


_LOCKS: "weakref.WeakKeyDictionary[object, threading.Lock]" = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def load(options: TokenOptions, progress=None):
    """(the cached model, its lock): one run at a time on the weights. top_k is checked against the
    model's own codebook here."""
    model = cache.load("text_to_image", options.spec.name, progress=progress)
    if options.top_k > model.layout.codebook:
        raise ValueError(f"`top_k` must be at most {model.layout.codebook} for {options.spec.name} "
                         f"(its codebook), got {options.top_k}.")
    with _LOCKS_LOCK:
        lock = _LOCKS.setdefault(model, threading.Lock())
    return model, lock


def network_evaluations(model, guidance: float) -> int:
    """Transformer passes per picture: one per token (the caption is read in the first), twice with guidance."""
    return model.layout.image_tokens * (2 if guidance > 1 else 1)


def generate(model, options: TokenOptions, prompt: str, seeds: list[int], on_token=None) -> torch.Tensor:
    """The pictures' codes (B, grid, grid): picture i from its own seed's CPU generator."""
    from .token_transformer import sample

    try:
        return sample(model, [prompt] * len(seeds), negative=options.negative_prompt,
                      generators=[make_generator(seed) for seed in seeds], temperature=options.temperature,
                      top_k=options.top_k, guidance=options.guidance, on_token=on_token)
    except FloatingPointError as error:  # reported as NaN pixels are, never as a sampler's crash
        raise checks.OutputError(f"Model {options.spec.name!r} produced NaN token probabilities ({error}); try "
                                 "float32 (GENART_DEVICE=cpu) or another model.") from None


def settings_metadata(options: TokenOptions, model) -> dict:
    return {"negative_prompt": options.negative_prompt, "temperature": options.temperature, "top_k": options.top_k,
            "guidance": options.guidance, "width": options.size, "height": options.size,
            "tokens": model.layout.image_tokens, "codebook": model.layout.codebook,
            "network_evaluations": network_evaluations(model, options.guidance)}


def build(folder, spec, device):
    """The `token-transformer` kind: a VQ autoencoder and a GPT over its codes (token_transformer.py)."""
    from .token_transformer import TokenModel

    return TokenModel.from_pretrained(folder).to(device)
