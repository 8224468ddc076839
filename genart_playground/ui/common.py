"""Pieces every tab shares: progress, errors, model choices, output files and ZeroGPU.

No torch here: the UI only calls the adapters and shows what they return.
"""

import functools
import os
import tempfile
import time
from pathlib import Path

import gradio as gr

from .. import settings
from ..models import registry
from ..models.loading import ModelUnavailableError, availability

EXAMPLES_DIR = settings.PACKAGE_DIR.parent / "examples"
EXAMPLE_IMAGES = EXAMPLES_DIR / "images"

# availability() -> the mark shown beside a model name in the dropdowns
_MARKS = {
    "built-in": "✓ built-in",
    "local": "✓ local folder",
    "cached": "✓ downloaded",
    "download": "⤓ not downloaded (downloads on first use)",
    "missing": "✗ not available offline",
}
_SEPARATOR = "  "


# Progress ------------------------------------------------------------------------------------

def bridge(progress: gr.Progress):
    """The adapters' progress callable(fraction, message) drawn as a Gradio progress bar."""
    def report(fraction: float, message: str = "") -> None:
        progress(min(max(float(fraction), 0.0), 1.0), desc=message or None)
    return report


# Errors --------------------------------------------------------------------------------------

def user_errors(fn):
    """Bad input and missing models become a `gr.Error` whose message the user (or API client) sees."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, ModelUnavailableError) as error:
            raise gr.Error(str(error), print_exception=False) from error
    return wrapper


# Model choices -------------------------------------------------------------------------------

def model_label(spec) -> str:
    status = availability(spec)
    if status == "missing" and spec.is_builtin:
        return f"{spec.name}{_SEPARATOR}✗ not trained yet"
    return f"{spec.name}{_SEPARATOR}{_MARKS.get(status, status)}"


def model_choices(task: str) -> list[tuple[str, str]]:
    """(label, name) pairs for a dropdown: the label says whether the model can run now."""
    return [(model_label(spec), spec.name) for spec in registry.models_for(task)]


def model_name(choice: str | None) -> str | None:
    """A dropdown value (or an API client's string, label included) back to a model name."""
    if not choice:
        return None  # the adapter's configured default
    return choice.split(_SEPARATOR)[0].strip()


def default_choice(task: str, choices: list[tuple[str, str]]) -> str | None:
    """The configured default when it is listed, else the first model listed."""
    names = [name for _, name in choices]
    default = settings.DEFAULT_MODELS[task]
    return default if default in names else (names[0] if names else None)


def model_dropdown(task: str, *, label: str = "Model", info: str | None = None) -> gr.Dropdown:
    choices = model_choices(task)
    return gr.Dropdown(choices=choices, value=default_choice(task, choices),
                       label=label, allow_custom_value=True,  # registered later, or any id with GENART_ALLOW_ANY_MODEL
                       info=info or "✓ runs now · ⤓ downloads on first use · ✗ cannot run here")


# Output files --------------------------------------------------------------------------------

_OUTPUT_DIR = Path(tempfile.gettempdir()) / "genart_playground"
_KEEP_SECONDS = 3600  # Gradio copies outputs into its own cache; our copy is only needed briefly


def write_output(data: bytes, suffix: str) -> str:
    """Bytes (a GIF, a PNG) to a temporary file Gradio can serve; old files are cleaned up."""
    _OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in _OUTPUT_DIR.glob("*"):
        try:
            if now - old.stat().st_mtime > _KEEP_SECONDS:
                old.unlink()
        except OSError:
            pass  # another request removed it first
    with tempfile.NamedTemporaryFile(dir=_OUTPUT_DIR, suffix=suffix, delete=False) as handle:
        handle.write(data)
    return handle.name


def example_image(name: str) -> str:
    return str(EXAMPLE_IMAGES / name)


# ZeroGPU -------------------------------------------------------------------------------------

def on_zero_gpu() -> bool:
    if os.environ.get("SPACES_ZERO_GPU", "").strip().lower() not in {"1", "true", "yes", "on"}:
        return False
    try:
        import spaces  # noqa: F401  (only installed on Hugging Face Spaces)
    except ImportError:
        return False
    return True


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
