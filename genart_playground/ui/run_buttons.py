"""Run buttons with their Stop buttons: a run disables its button and shows Stop; Stop cancels it."""

import gradio as gr

RUN_CLASS = "genart-run"  # every button that starts a run: a click on it waits for an example's values

QUIET = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}


def run_button(label: str, requirements=None, **options) -> tuple[gr.Button, gr.Button]:
    """A run button and its Stop button, in a row. The button's first listener disables it and shows Stop
    (the page runs a click's listeners in the order they were added: this one must come before the run's),
    unless the run's `requirements` will refuse its inputs."""
    with gr.Row():
        button = gr.Button(label, elem_classes=RUN_CLASS, **options)
        stop = gr.Button("Stop", variant="stop", visible=False)
    if requirements is None:
        button.click(running_buttons, None, [button, stop], **QUIET)
    else:
        button.click(requirements.running, requirements.inputs, [button, stop], **QUIET)
    return button, stop


def running_buttons():
    return gr.update(interactive=False), gr.update(visible=True)


def idle_buttons():
    return gr.update(interactive=True), gr.update(visible=False)


def stopping_button():
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
        event.then(idle_buttons, None, [button, stop], **QUIET)
    stop.click(stopping_button, None, [stop], cancels=list(events), **QUIET)
