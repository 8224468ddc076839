"""Pieces every tab shares: progress, errors, model choices, output files and ZeroGPU.

No torch here: the UI only calls the adapters and shows what they return.
"""

import functools
import inspect
import io
import os
import tempfile
import time
from pathlib import Path

import gradio as gr

from .. import recipes, serving, settings
from ..checks import OutputError
from ..models import registry
from ..models.loading import ModelUnavailableError, availability
from . import gradio_internals

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


# Stop ----------------------------------------------------------------------------------------

_QUIET = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}


def run_button(label: str, requirements: "Requirements | None" = None, **options) -> tuple[gr.Button, gr.Button]:
    """A run button and its Stop button, in a row. The button's first listener disables it and shows Stop
    (the page runs a click's listeners in the order they were added: this one must come before the run's),
    unless the run's `requirements` will refuse its inputs."""
    with gr.Row():
        button = gr.Button(label, elem_classes=RUN_CLASS, **options)
        stop = gr.Button("Stop", variant="stop", visible=False)
    if requirements is None:
        button.click(_running, None, [button, stop], **_QUIET)
    else:
        button.click(requirements.running, requirements.inputs, [button, stop], **_QUIET)
    return button, stop


def _running():
    return gr.update(interactive=False), gr.update(visible=True)


def _idle():
    return gr.update(interactive=True), gr.update(visible=False)


def _stopping():
    return gr.update(visible=False)


def stoppable(button: gr.Button, stop: gr.Button, *events) -> None:
    """When the runs end the button comes back and Stop goes. Stop cancels them: a run ends at its next
    step, because every adapter reports progress between steps and the progress bridge raises
    `Cancelled` once the run is cancelled; its lane's slot is free at once.

    Stop only hides itself. The button comes back through the runs' own `.then`, which the page fires
    once the server has answered the cancel: until then the page still counts the run as pending and
    drops a new click on its button (an event runs once at a time), so a button back any sooner could
    be clicked for nothing."""
    for event in events:
        event.then(_idle, None, [button, stop], **_QUIET)
    stop.click(_stopping, None, [stop], cancels=list(events), **_QUIET)


# Progress ------------------------------------------------------------------------------------

def bridge(progress: gr.Progress):
    """The adapters' progress callable(fraction, message) drawn as a Gradio progress bar.

    It is also how a cancelled request stops: the adapters report progress between steps, and
    once the user cancels, the next report raises `serving.Cancelled` instead of drawing.
    """
    cancelled = gradio_internals.cancellation_check()

    def report(fraction: float, message: str = "") -> None:
        if cancelled():
            raise serving.Cancelled("Cancelled.")
        progress(min(max(float(fraction), 0.0), 1.0), desc=message or None)
    return report


# Errors --------------------------------------------------------------------------------------

def user_errors(fn):
    """What went wrong becomes a `gr.Error` whose message the user (or API client) sees: bad input,
    a missing model, running out of memory (after the cache has freed some), NaN output, a cancel. Its
    toast stays until closed (a missing input is said under its control before the run: `Requirements`)."""
    guarded = serving.recover_from_out_of_memory(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return guarded(*args, **kwargs)
        except (ValueError, ModelUnavailableError, serving.OutOfMemory, OutputError) as error:
            raise gr.Error(str(error), duration=None, print_exception=False) from error
        except serving.Cancelled as error:
            raise gr.Error("Cancelled.", print_exception=False) from error
        finally:
            serving.return_freed_memory()
    return wrapper


class Requirements:
    """What an event's inputs must hold before it runs. `validate` is the event's validator: Gradio runs it
    before the event is queued (for the page and API clients alike); `problems(*values)` returns {input
    component: message} for the inputs it cannot run with, each message shows under its own control and
    stays until the next try, and the event does not run, so no output turns into an error badge."""

    def __init__(self, inputs: list, problems):
        self.inputs, self.problems = list(inputs), problems

    def validate(self, *values):
        found = self.problems(*values)
        return [gr.validate(component not in found, found.get(component, "")) for component in self.inputs]

    def running(self, *values):
        """The run button's first listener: a run the validator refuses never starts, so nothing is disabled."""
        return (gr.skip(), gr.skip()) if self.problems(*values) else _running()


def required(inputs: list, messages: dict) -> Requirements:
    """Inputs that must not be empty: `messages` maps each to what to say ("Upload an image first.")."""
    return Requirements(inputs, lambda *values: {component: messages[component]
                                                 for component, value in zip(inputs, values)
                                                 if component in messages and is_empty(value)})


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


UPLOAD_FIRST = "Upload an image first (or click an example below)."


def show_warnings(result):
    """A result's warnings (a black image, a safety checker's blackout) as toasts: never silent."""
    for warning in result.metadata.get("warnings", []):
        gr.Warning(warning)
    return result


# Model choices -------------------------------------------------------------------------------

def model_label(spec) -> str:
    status = availability(spec)
    if status == "missing" and spec.is_builtin:
        return f"{spec.name}{_SEPARATOR}✗ not trained yet"
    return f"{spec.name}{_SEPARATOR}{_MARKS.get(status, status)}"


def model_choices(task: str, able: str | None = None) -> list[tuple[str, str]]:
    """(label, name) pairs for a dropdown (only models with the ability `able`, when given): the label says
    whether the model can run now."""
    return [(model_label(spec), spec.name) for spec in registry.models_for(task)
            if able is None or registry.can(spec, able)]


def model_name(choice: str | None) -> str | None:
    """A dropdown value (or an API client's string, label included) back to a model name."""
    if not choice:
        return None  # the adapter's configured default
    return choice.split(_SEPARATOR)[0].strip()


def default_choice(task: str, choices: list[tuple[str, str]]) -> str | None:
    """The configured default when it is listed, else the first model listed."""
    names = [name for _, name in choices]
    default = registry.default_model(task)
    return default if default in names else (names[0] if names else None)


def model_dropdown(task: str, *, label: str = "Model", info: str | None = None, able: str | None = None) -> gr.Dropdown:
    choices = model_choices(task, able)
    return gr.Dropdown(choices=choices, value=default_choice(task, choices),
                       label=label, allow_custom_value=True,  # registered later, or any id with GENART_ALLOW_ANY_MODEL
                       info=info or "✓ runs now · ⤓ downloads on first use · ✗ cannot run here")


# Output files --------------------------------------------------------------------------------

_OUTPUT_DIR = Path(tempfile.gettempdir()) / "genart_playground"
# Gradio copies a returned file into its own cache at once (cleaned by delete_cache); our copy is
# only needed until then, so ten minutes is ample. The load test sets it shorter.
OUTPUT_KEEP_SECONDS = 600


_last_sweep = 0.0


def _sweep_old_outputs(now: float) -> None:
    """Delete our files older than OUTPUT_KEEP_SECONDS. A timeline writes three files a step, so
    the folder is swept at most once per tenth of that age, not at every file written."""
    global _last_sweep
    if now - _last_sweep < OUTPUT_KEEP_SECONDS / 10:
        return
    _last_sweep = now
    for old in _OUTPUT_DIR.glob("*"):
        try:
            if now - old.stat().st_mtime > OUTPUT_KEEP_SECONDS:
                old.unlink()
        except OSError:
            pass  # another request removed it first


def write_output(data: bytes, suffix: str) -> str:
    """Bytes (a GIF, a PNG) to a temporary file Gradio can serve; old files are cleaned up."""
    _OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    _sweep_old_outputs(time.time())
    with tempfile.NamedTemporaryFile(dir=_OUTPUT_DIR, suffix=suffix, delete=False) as handle:
        handle.write(data)
    return handle.name


# Kept for the test that shows the bug the app's own pass (ui/gradio_internals.py) fixes.
_gradio_delete_files_created_by_app = gradio_internals.install_delete_pass()


def image_file(image) -> str:
    """A PIL image as a PNG file, written once: a gallery that grows while a run streams then sends
    paths, instead of Gradio encoding every picture again at every update."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return write_output(buffer.getvalue(), ".png")


def recipe_png(image, metadata: dict) -> str:
    """An output image as a PNG file carrying its recipe; Gradio serves the file as it is."""
    return write_output(recipes.png_with_recipe(image, metadata), ".png")


def frame_pngs(result) -> list[str]:
    """A walk's frames, in order, each a PNG carrying the walk's recipe and its frame number."""
    return [recipe_png(image, {**result.metadata, "frame": i}) for i, image in enumerate(result.images)]


def walk_outputs(result) -> tuple:
    """A walk for the page: its GIF, its MP4, its frames and its recipe."""
    return write_output(result.gif, ".gif"), write_output(result.mp4, ".mp4"), frame_pngs(result), result.metadata


def recipe_panel(*, diffusers: bool = False) -> tuple:
    """The "Show code" accordion (package API, and plain diffusers where it applies) and the card."""
    with gr.Accordion("Show code", open=False):
        code = gr.Code(label="Make it again with genart_playground", language="python", interactive=False)
        extra = (gr.Code(label="Make it again with plain diffusers", language="python", interactive=False),
                 ) if diffusers else ()
    card = gr.Markdown(recipes.reproducibility_card({}))
    return (code, *extra, card)


MAX_RECIPE_BYTES = 64 * 2**10  # a recipe is a few KB; the "Show code" step reads it back from the page


def checked_recipe(metadata) -> dict:
    """The recipe the page sends back for "Show code": a dict of at most MAX_RECIPE_BYTES."""
    import json

    if not isinstance(metadata, dict):
        raise ValueError("The recipe must be a JSON object.")
    if len(json.dumps(metadata, default=str)) > MAX_RECIPE_BYTES:
        raise ValueError(f"The recipe is over {MAX_RECIPE_BYTES // 1024} KB; a result's recipe is a few KB.")
    return metadata


@user_errors  # an oversized recipe, or a task no family writes code for: a message
def show_recipe(metadata):
    """A result's metadata -> the code snippet and the reproducibility card."""
    if not metadata:
        return "", recipes.reproducibility_card({})
    metadata = checked_recipe(metadata)
    return recipes.code_snippet(metadata), recipes.reproducibility_card(metadata)


@user_errors  # an oversized recipe: a message
def warnings_note(metadata):
    """A result's warnings (what the model could not do with the request), shown beside its pictures: unlike
    a toast they stay. Hidden when there are none."""
    warnings = checked_recipe(metadata).get("warnings") if metadata else None
    lines = [f"- {warning}" for warning in (warnings if isinstance(warnings, list) else []) if isinstance(warning, str)]
    text = "**What the model could not do with this request:**\n" + "\n".join(lines) if lines else ""
    return gr.update(value=text, visible=bool(lines))


def show_recipe_with_diffusers(metadata):
    code, card = show_recipe(metadata)
    plain = ((recipes.diffusers_snippet(metadata) if metadata else None)
             or "# Plain diffusers code is given for a text-to-image run of a diffusers pipeline.")
    return code, plain, card


RECIPE_BOX_LABEL = "Load settings from a PNG"


def recipe_file() -> gr.File:
    """The "Load settings from a PNG" box: an image this app made puts its settings back."""
    # A hand-written {"path": ...} reaches the handler, which refuses what the upload route did not write.
    return gradio_internals.accept_bare_paths(gr.File(label=RECIPE_BOX_LABEL, file_types=[".png"], type="filepath",
                                                      height=150))  # room for "Drop File Here - or - Click to Upload"


def tab_recipe(path, task: str) -> dict:
    """A PNG's recipe when this tab made it; {} and a warning when it has none or another tab made
    it. A recipe without a task is another tool's AUTOMATIC1111 parameters: a text-to-image run."""
    recipe = recipes.read_recipe(path) if path else None
    if recipe and recipe.get("task", "text_to_image") != task:
        gr.Warning("That image was made by another tab; load it there instead.")
        return {}
    if not recipe:
        if path:
            gr.Warning("That image carries no recipe.")
        return {}
    return recipe


def recipe_values(recipe: dict, names, *, model_task: str) -> dict:
    """The recipe's values for the controls named, by name; a setting it lacks is left out (its
    control keeps its value), and so is a model this app does not list (another tool's checkpoint)."""
    values = {name: recipe[name] for name in names if recipe.get(name) is not None}
    if values.get("model") not in {spec.name for spec in registry.models_for(model_task)}:
        values.pop("model", None)
    return values


# Examples ------------------------------------------------------------------------------------

RUN_CLASS = "genart-run"  # every button that starts a run: a click on it waits for an example's values
EXAMPLES_CLASS = "genart-examples"

# An example's values come from the server (a quick request); a run clicked before they arrive would send
# the old values. From a click on an example until its values are in place (or HOLD_MS, should the load
# fail), a click on a run button is held, then made again.
PAGE_JS = """
() => {
  const HOLD_MS = 5000;
  let loading = false, held = null, timer = null;
  window.genartExampleLoaded = () => {
    loading = false; clearTimeout(timer);
    const button = held; held = null;
    if (button) setTimeout(() => button.click(), 0);  // once the values have reached the controls
  };
  document.addEventListener("click", (event) => {
    if (!event.isTrusted || !event.target.closest) return;
    if (event.target.closest(".%(examples)s")) {
      loading = true; clearTimeout(timer); timer = setTimeout(window.genartExampleLoaded, HOLD_MS);
      return;
    }
    const button = event.target.closest("button.%(run)s, .%(run)s button");
    if (!loading || !button) return;
    event.stopImmediatePropagation(); event.preventDefault();
    held = button;
  }, true);
}
""" % {"examples": EXAMPLES_CLASS, "run": RUN_CLASS}


def examples(samples: list, inputs: list, **options) -> gr.Examples:
    """gr.Examples whose values a run button clicked right after always uses (see PAGE_JS)."""
    shown = gr.Examples(samples, inputs, cache_examples=False, **options)
    shown.dataset.elem_classes = [EXAMPLES_CLASS]
    shown.load_input_event.then(None, js="() => window.genartExampleLoaded?.()", **_QUIET)
    return shown


def example_image(name: str) -> str:
    return str(EXAMPLE_IMAGES / name)


# Handlers ------------------------------------------------------------------------------------

def package_functions(family) -> dict:
    """A family's functions by api name, imported on first call (the UI modules import no torch)."""
    def lazy(name):
        def call(*args, **kwargs):
            import genart_playground as gp

            return getattr(gp, name)(*args, **kwargs)
        return call
    return {name: lazy(name) for name in family.api}


def bind(handler, run: dict, *, seconds=None):
    """`handler(run, *inputs)` as the event function `fn(*inputs)` that Gradio calls, with the same
    signature less `run` (Gradio reads it for the inputs and gr.Progress), generator or not; on a
    ZeroGPU Space it asks for `seconds(*inputs)` of GPU time."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def bound(*args, **kwargs):
            yield from handler(run, *args, **kwargs)
    else:
        @functools.wraps(handler)
        def bound(*args, **kwargs):
            return handler(run, *args, **kwargs)
    signature = inspect.signature(handler)
    bound.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
    return gpu(seconds)(bound) if seconds is not None else bound


# ZeroGPU -------------------------------------------------------------------------------------

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
