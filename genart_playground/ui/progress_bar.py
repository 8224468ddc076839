"""The adapters' progress reports drawn as Gradio's progress bar; a cancelled run stops at its next report."""

import gradio as gr

from .. import serving
from . import gradio_internals


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
