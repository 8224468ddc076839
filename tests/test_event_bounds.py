"""Every event of the page, with or without an api_name, chained or not, called by its fn_index with
oversized input (issue 13 §1): each refuses it with a message, or ignores it without doing work; none
answers `error: null`, and the server answers a normal request afterwards.

EVENTS lists every event function by name: one the page gains must be listed here, with what it does
with oversized input, or this test fails.
"""

import json

import gradio as gr
import pytest
from raw_http import call, join

from genart_playground import limits

# name -> "refuses" (its work is bounded and oversized input is refused with a message) or "ignores" (it
# reads nothing a client can make costly: server-side state, a choice it only looks up, no input at all).
EVENTS = {
    # the tabs' functions: model work, refused before it starts
    "generate": "refuses", "timeline": "refuses", "walk": "refuses", "stylise": "refuses", "interpolate": "refuses",
    "compare_paths": "refuses", "reconstruct": "refuses", "compare": "refuses", "evaluate_models": "refuses",
    "draw_grid": "refuses", "explore": "refuses", "sweep": "refuses", "translate": "refuses",
    "translate_drawing": "refuses", "mix_styles": "refuses",
    "sample": "refuses", "temperatures": "refuses", "ranked_batch": "refuses", "round_trip": "refuses",
    "likelihoods": "refuses", "train_points": "refuses",
    # the training lab: every setting bounded (toy_training's checks), the drawing opened within the upload limits
    "run_to_budget": "refuses", "play": "refuses", "start": "refuses", "advance": "ignores", "step": "refuses", "reset": "refuses",
    # the training lab's family picked (its learning rate looked up), the collapse demo's settings (no input)
    "family_rate": "ignores", "collapse_demo": "ignores", "pause": "ignores",
    # the picture lab: a run's settings checked by picture_lab (a name, bounded numbers); pause and download read
    # the session's own run only
    "train_picture": "refuses", "start_picture": "refuses", "pause_picture": "ignores", "download_picture": "ignores",
    # a model dropdown lists the registered models again when it is opened (no input)
    "listed_models": "ignores",
    # a new paper for the canvas: a background's name looked up
    "paper": "ignores",
    # chained steps: the recipe is size-checked; the step slider and the MP4 read server-side state
    "show_recipe": "refuses", "show_recipe_with_diffusers": "refuses", "warnings_note": "refuses",
    "last_step": "ignores",
    "show_step": "refuses", "walk_video": "ignores", "timeline_as_result": "ignores", "show_mean": "ignores",
    # picking W space picks lerp: the choice only compared
    "lerp_in_w": "ignores",
    # the token timeline's slider reads server-side state
    "last_frame": "ignores", "show_frame": "ignores",
    # a token model's sampler settings, kept in server-side state (generate checks them)
    "sampler_settings": "ignores",
    # settings: a PNG's recipe (an upload only), the cascades (a name looked up), the user's own change
    "load": "refuses", "handler": "ignores", "_forget": "ignores", "open_link": "ignores",
    # a run button and its Stop button: no inputs, or the run's inputs only looked at for being empty
    "running_buttons": "ignores", "idle_buttons": "ignores", "stopping_button": "ignores", "running": "ignores",
    # the session's run history: a recipe (size-checked) remembered; a row of the server's own list put back
    "remember": "refuses", "restore_run": "ignores",
    # Gradio's own: an example row by its index
    "load_example": "refuses",
}


def oversized(component):
    """The largest, oddest value of the component's kind a client can send within the body limit."""
    if isinstance(component, (gr.Number, gr.Slider)):
        return 10**12
    if isinstance(component, gr.Checkbox):
        return "yes"
    if isinstance(component, gr.Textbox):
        return "x" * (limits.MAX_BODY_BYTES // 8)
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        return "x" * 10_000
    if isinstance(component, gr.ImageEditor):  # a drawing the server never held, and a file it never wrote
        return {"id": "x" * 10_000, "background": None, "layers": [], "composite": {"path": "/etc/passwd"}}
    if isinstance(component, (gr.Image, gr.File, gr.Video)):
        return {"path": "/etc/passwd"}
    if isinstance(component, gr.Gallery):
        return [{"image": {"path": "/etc/passwd"}, "caption": None}] * 10_000
    if isinstance(component, gr.JSON):
        return {f"k{i}": "x" * 100 for i in range(5_000)}
    if isinstance(component, gr.Dataset):
        return 10**9
    return "x" * 10_000  # gr.State and the rest: the server keeps its own value


def python_events(app) -> dict:
    return {index: fn for index, fn in app.fns.items() if fn.fn is not None}


def test_every_event_is_listed(served_app):
    names = {fn.fn.__name__ for fn in python_events(served_app).values()}
    assert names <= set(EVENTS), f"events with no bounds listed here: {sorted(names - set(EVENTS))}"


def test_every_event_bounds_what_it_accepts(served_app, tiny_t2i):
    outcomes = {}
    for index, fn in python_events(served_app).items():
        message = join(served_app, index, [oversized(component) for component in fn.inputs])
        expected = EVENTS[fn.fn.__name__]
        if message.get("msg") == "http":
            outcomes[index] = ("http", message["status"])  # refused before the queue (the body limit)
            assert message["status"] == 413, message
            continue
        if message["success"]:
            outcomes[index] = ("ok", None)
            assert expected == "ignores", f"{fn.fn.__name__} (fn_index {index}) accepted oversized input"
        else:
            error = (message.get("output") or {}).get("error")
            outcomes[index] = ("error", error)
            assert error, f"{fn.fn.__name__} (fn_index {index}) answered a blank error"
    print(json.dumps({str(k): v for k, v in outcomes.items()}, indent=0)[:3000])
    status, final = call(served_app, "text_to_image", json.dumps(
        {"data": ["a red circle", "", tiny_t2i, "model default", 1, 2, 3.0, None, None, 0]}))
    assert status == 200 and final["event"] == "complete"


@pytest.mark.parametrize("name, says", [("show_recipe", "over 64 KB"), ("show_step", "maximum")])
def test_chained_steps_say_what_is_allowed(served_app, name, says):
    index, fn = next((i, fn) for i, fn in python_events(served_app).items() if fn.fn.__name__ == name)
    message = join(served_app, index, [oversized(component) for component in fn.inputs])
    assert not message["success"] and says in message["output"]["error"]
