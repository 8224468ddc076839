"""Examples under a tab: their inputs ship in examples/, and a run clicked at once still uses their values."""

import gradio as gr

from .. import settings
from .run_buttons import QUIET, RUN_CLASS

EXAMPLES_DIR = settings.PACKAGE_DIR.parent / "examples"
EXAMPLE_IMAGES = EXAMPLES_DIR / "images"
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
    shown.load_input_event.then(None, js="() => window.genartExampleLoaded?.()", **QUIET)
    return shown


def example_image(name: str) -> str:
    return str(EXAMPLE_IMAGES / name)
