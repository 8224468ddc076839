"""What went wrong, said to the user: errors as messages, inputs an event needs before it runs, warnings."""

import functools

import gradio as gr

from .. import serving
from ..checks import OutputError
from ..models.loading import ModelUnavailableError
from .run_buttons import running_buttons


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
        return (gr.skip(), gr.skip()) if self.problems(*values) else running_buttons()


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
