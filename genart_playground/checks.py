"""Checks shared by the adapters: one rule per check, a message that says what is allowed.

Inputs are checked before any model work; outputs (`check_output`) before they are returned.
"""

import math
from numbers import Integral, Real

import numpy as np
from PIL import Image

from . import limits


def check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        if isinstance(value, Real) and float(value).is_integer():
            value = int(value)  # 4.0 from a JSON client or a slider is 4
        else:
            raise ValueError(f"`{name}` must be a whole number between {low} and {high}, got {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"`{name}` must be between {low} and {high}, got {value}.")
    return int(value)


def check_float(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"`{name}` must be a number between {low} and {high}, got {value!r}.")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"`{name}` must be between {low} and {high}, got {value}.")
    return float(value)


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(str, choices))}; got {value!r}.")
    return value


def check_seed(name: str, value) -> int:
    return check_int(name, value, 0, limits.MAX_SEED)


def check_prompt(name: str, value, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be text, got {type(value).__name__}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON allows "\ud800", text encoders and PNG chunks do not
        raise ValueError(f"`{name}` must be valid Unicode text (it holds a lone surrogate).") from None
    if len(value) > limits.MAX_PROMPT_CHARS:
        raise ValueError(f"`{name}` must be at most {limits.MAX_PROMPT_CHARS} characters, got {len(value)}.")
    if not allow_empty and not value.strip():
        raise ValueError(f"`{name}` must not be empty.")
    return value


def check_size(name: str, value, multiple: int = 8) -> int:
    value = check_int(name, value, limits.MIN_SIZE, limits.MAX_SIZE)
    if value % multiple:
        raise ValueError(f"`{name}` must be a multiple of {multiple}, got {value}.")
    return value


def check_image(name: str, image) -> Image.Image:
    if image is None:
        raise ValueError(f"Upload an image first: `{name}` is empty.")
    if not isinstance(image, Image.Image):
        raise ValueError(f"`{name}` must be an image, got {type(image).__name__}.")
    width, height = image.size
    if width < 8 or height < 8:
        raise ValueError(f"`{name}` must be at least 8×8 pixels, got {width}×{height}.")
    if width * height > limits.MAX_UPLOAD_PIXELS:
        raise ValueError(f"`{name}` has {width}×{height} pixels; the limit is {limits.MAX_UPLOAD_PIXELS:,} pixels.")
    if max(width, height) > limits.MAX_ASPECT * min(width, height):
        raise ValueError(f"`{name}` is {width}×{height}; its longer side may be at most {limits.MAX_ASPECT} times its "
                         "shorter side.")
    return image


def check_work(what: str, *, steps: int, count: int, width: int, height: int, device: str) -> None:
    """On a public deployment, refuse a request whose work (steps × pictures × pixels) is over what one
    request may take on this device, before any model work; elsewhere, nothing."""
    check_budget(what, work(steps=steps, count=count, width=width, height=height), device,
                 detail=f"{steps} steps × {count} × {width}×{height} px")


def work(*, steps: int, count: int, width: int, height: int) -> int:
    """A run's work as the public budget counts it: steps × pictures × (pixels + a step's fixed cost, counted
    as limits.STEP_OVERHEAD_PIXELS): 64 frames × 25 steps of 64² took 93 s where 25 steps of 512² took 40."""
    return steps * count * (width * height + limits.STEP_OVERHEAD_PIXELS)


def check_budget(what: str, work: int, device: str, *, detail: str = "") -> None:
    """On a public deployment, refuse `work` step-pixels over what one request may take on this device."""
    if not limits.PUBLIC:
        return
    budget = limits.MAX_PUBLIC_WORK.get(device, limits.MAX_PUBLIC_WORK["cpu"])
    if work > budget:
        raise ValueError(f"This {what} is {detail or f'{work:,} step-pixels'} of work; a request on this public "
                         f"server ({device}) may take at most {budget:,} step-pixels. Use fewer steps, pictures "
                         "or frames, or a smaller size.")


class OutputError(RuntimeError):
    """A model produced pixels that are no image (NaN or infinity): reported, never shown."""


def check_output(images, model: str, *, low: float = 0.0, high: float = 1.0) -> list[str]:
    """Model output in [low, high], first axis the images (any layout after it, array or tensor).

    NaN is an error (half precision overflowing, broken weights); an all-black image is kept but
    named in the returned warnings, so it is never passed off silently as a result.
    """
    if hasattr(images, "detach"):  # a torch tensor; checks.py itself stays free of torch
        images = images.detach().float().cpu().numpy()
    images = np.asarray(images, dtype=np.float32)
    if not np.isfinite(images).all():
        raise OutputError(f"Model {model!r} produced NaN pixels; try float32 (GENART_DEVICE=cpu) or another model.")
    brightest = images.reshape(len(images), -1).max(axis=1)
    black = np.flatnonzero(brightest < low + 0.02 * (high - low))  # 2 %: below 5 of 255 everywhere
    return [f"image {i} is completely black" for i in black]
