"""Where models run and in which precision; randomness that does not depend on either."""

import torch

from . import settings


def pick_device() -> torch.device:
    if settings.DEVICE:
        return torch.device(settings.DEVICE)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(device: torch.device) -> torch.dtype:
    # bf16 has fp32's range, so large activations do not overflow into NaN as they can in fp16.
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32  # half precision on CPU is slow and poorly supported


def make_generator(seed: int) -> torch.Generator:
    # A CPU generator gives the same noise on every device, so one seed gives one image anywhere.
    return torch.Generator("cpu").manual_seed(seed)


def free_memory() -> None:
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        torch.mps.empty_cache()
