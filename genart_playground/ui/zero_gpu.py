"""On a ZeroGPU Space each run asks `spaces.GPU` for the seconds its own settings need; elsewhere nothing."""

import os


def on_zero_gpu() -> bool:
    if os.environ.get("SPACES_ZERO_GPU", "").strip().lower() not in {"1", "true", "yes", "on"}:
        return False
    try:
        import spaces  # noqa: F401  (only installed on Hugging Face Spaces)
    except ImportError:
        return False
    return True


def gpu_seconds(*, load: float, per_step: float, steps=None, default_steps: int = 1, count=None,
                width=None, height=None) -> float:
    """The one ZeroGPU estimate: loading, plus each step's cost scaled by how many pictures and how many
    pixels (against 512×512) it works on. None means the model's own setting (its usual value here)."""
    pixels = ((width or 512) * (height or 512)) / (512 * 512)
    return load + per_step * (steps or default_steps) * (count or 1) * pixels


def gpu(duration):
    """On a ZeroGPU Space, run the function under `spaces.GPU` for `duration(*args, **kwargs)` seconds.

    ZeroGPU refuses requests longer than the visitor's quota and queues long ones behind short
    ones, so each request asks for what its own settings need. Elsewhere this changes nothing.
    """
    def decorate(fn):
        if not on_zero_gpu():
            return fn
        import spaces

        def seconds(*args, **kwargs) -> int:
            return int(min(max(duration(*args, **kwargs), 10), 300))
        return spaces.GPU(duration=seconds)(fn)
    return decorate
