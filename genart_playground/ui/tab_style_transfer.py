"""The style-transfer tab: repaint a content image in the style of another image or of a prompt.

The loss curves and the intermediate images appear while the run goes: the adapter runs in a
worker thread and hands each step over (`on_step`, through ui/streaming.py); the handler, a
generator, yields a partial update as they come and the final outputs last (what the API returns).
"""

import time

import gradio as gr
import pandas as pd

from .. import limits, uploads
from ..families.style_transfer import DEFAULT_STRENGTH, METHODS
from ..models import registry
from . import (errors, example_sets, handlers, lanes, model_menu, output_files, progress_bar, recipe_views, run_buttons,
               tab_page, zero_gpu)
from .image_input import upload_image
from .settings_flow import Cascade, TabSettings, restore_from_png, run_history
from .streaming import Streamed

MODEL_TASK = {"gatys": "style_transfer", "img2img": "text_to_image"}
EXAMPLES = [
    ["shapes.png", "stripes.png", "", "gatys"],
    ["photo_like.png", "dots.png", "", "gatys"],
    ["shapes.png", None, "a blue square on a black background", "img2img"],
]


def _own(value):
    """Empty and 0 mean the model's own setting (no step count or size is 0)."""
    return None if value in (None, "", 0) else value


def seconds_needed(content, style_image, style_prompt, method, model, steps, size, *rest, **kwargs) -> float:
    if method == "img2img":
        return zero_gpu.gpu_seconds(load=20, per_step=0.2, steps=steps, default_steps=25)
    # Each optimisation step is a forward and a backward pass, at (size × size) / 256² of 512²'s cost × 4.
    return zero_gpu.gpu_seconds(load=15, per_step=0.2, steps=steps, default_steps=150, width=size or 256,
                              height=size or 256)


LOSS_AXIS = "loss (share of its largest value)"


LOSS_COLOURS = {"content": "#1f77b4", "style": "#d62728", "total": "#7f7f7f"}
LOSS_LEGEND = ("**Legend.** Blue line: **content** loss (how far the picture's features are from the content "
               "image's). Red line: **style** loss (how far its Gram matrices are from the style image's). Gray "
               "line: their weighted **total**. Each is divided by its largest value.")


def loss_curves(losses: dict) -> pd.DataFrame | None:
    """Each loss divided by its largest value, so curves of very different scales share one axis."""
    rows = []
    for kind, values in losses.items():
        top = max((abs(v) for v in values), default=0.0) or 1.0
        rows += [{"step": step + 1, LOSS_AXIS: value / top, "kind": kind} for step, value in enumerate(values)]
    return pd.DataFrame(rows) if rows else None


PARTIAL_EVERY_S = 0.25  # a new plot at most this often (a new image at once): one redraw per step floods the page
STREAM_AFTER_S = 0.5  # runs shorter than this just finish: each streamed update costs the server ~60 ms


@errors.user_errors
def _transfer(run, content, style_image, style_prompt, method, model, steps, size, strength, seed, preserve_color,
              *, progress, on_step):
    """The adapter call, in the worker thread; errors become gr.Error here as in every tab."""
    progress(0.0, "Loading the model")
    # Pixel counts are checked before decoding; a style image img2img does not use is not opened.
    content = uploads.open_image(content, what="The content image") if content is not None else None
    if method == "img2img":
        style = style_prompt
    else:
        style = uploads.open_image(style_image, what="The style image") if style_image is not None else None
    return run["style_transfer"](content, style, model=model_menu.model_name(model), method=method,
                                 steps=_own(steps), size=_own(size), strength=strength,
                                 seed=seed, preserve_color=preserve_color, progress=progress, on_step=on_step)


def stylise(run, content, style_image, style_prompt, method, model, steps, size, strength, seed, preserve_color,
            progress=gr.Progress()):
    """Yields (result, losses, intermediates, metadata): partial updates while it runs, then the final outputs."""
    report = progress_bar.bridge(progress)  # here, in Gradio's thread: it finds the event to watch for a cancel
    stream = Streamed(lambda progress, on_step: _transfer(run, content, style_image, style_prompt, method, model,
                                                          steps, size, strength, seed, preserve_color,
                                                          progress=progress, on_step=on_step),
                      report, name="style-transfer")
    snapshots, last_step, shown, began = [], -1, 0.0, time.monotonic()
    for step, losses, image in stream:
        if step <= last_step:
            snapshots = []  # the run started again (user_errors retries once after running out of memory)
        last_step = step
        if image is not None:
            snapshots.append(output_files.image_file(image))
        if time.monotonic() - began < STREAM_AFTER_S:
            continue
        if image is not None or time.monotonic() - shown >= PARTIAL_EVERY_S:
            shown = time.monotonic()
            yield gr.skip(), loss_curves(losses), list(snapshots), gr.skip()
    result = stream.result
    errors.show_warnings(result)
    # img2img's previews are the tab's own (its result has no intermediates): they stay on screen.
    yield (output_files.recipe_png(result.images[0], result.metadata), loss_curves(result.losses),
           [output_files.image_file(image) for image in result.intermediates] or snapshots, result.metadata)


def model_settings(method, model) -> dict:
    """The chosen model's own steps and size, shown in the boxes; nothing loads."""
    try:
        defaults = registry.resolve(MODEL_TASK.get(method, "style_transfer"), model_menu.model_name(model)).defaults
    except ValueError:
        defaults = {}
    return {"steps": defaults.get("steps"), "size": defaults.get("size", defaults.get("width"))}


def method_settings(method) -> dict:
    """Each method takes its own kind of style (an image or a prompt), its own strength and its own kind of model."""
    task = MODEL_TASK.get(method, "style_transfer")
    choices = model_menu.model_choices(task)
    img2img = method == "img2img"
    return {"style_image": {"visible": not img2img}, "style_prompt": {"visible": img2img},
            "strength": DEFAULT_STRENGTH.get(method, 0.5),
            "model": {"choices": choices, "value": model_menu.default_choice(task, choices)}}


# A new method brings its kind of style, its strength and its kind of model; a new model its steps and size.
CASCADES = [Cascade("method", ("method",), ("style_image", "style_prompt", "strength", "model"), method_settings),
            Cascade("model", ("method", "model"), ("steps", "size"), model_settings)]
SETTINGS = ["method", "style_prompt", "model", "steps", "size", "strength", "seed", "preserve_color"]


def recipe_settings(recipe: dict) -> dict:
    """A recipe's values for the controls: img2img's style prompt is the recipe's `style`."""
    values = recipe_views.recipe_values(recipe, SETTINGS, model_task=MODEL_TASK.get(recipe.get("method"), "style_transfer"))
    if values and recipe.get("method") == "img2img" and recipe.get("style"):
        values["style_prompt"] = recipe["style"]  # the prompt img2img drew towards
    return values


def input_problems(content, style_image, style_prompt):
    """What stops a transfer before it starts, by control: the pictures and the prompt its method needs."""
    def problems(content_value, style_value, prompt_value, method_value, *rest) -> dict:
        found = {content: errors.UPLOAD_FIRST} if errors.is_empty(content_value) else {}
        if method_value == "gatys" and errors.is_empty(style_value):
            found[style_image] = "Upload a style image first: gatys copies its textures and colours."
        if method_value == "img2img" and errors.is_empty(prompt_value):
            found[style_prompt] = "Describe the style first: img2img draws it from the prompt."
        return found
    return problems


def build_tab(run: dict, family):
    """The tab; `run` holds the functions it calls, by name (style_transfer)."""
    with tab_page.family_tab(family):
        with gr.Row():
            with gr.Column():
                with gr.Row():
                    content = upload_image(label="Content image", sources=["upload", "clipboard"])
                    style_image = upload_image(label="Style image", sources=["upload", "clipboard"])
                style_prompt = gr.Textbox(label="Style prompt", visible=False, max_length=limits.MAX_PROMPT_CHARS,
                                          info="The style to draw the content in, e.g. 'a watercolour painting'.")
                method = gr.Radio(label="Method", choices=list(METHODS), value="gatys",
                                  info="gatys: match a style image's textures; img2img: redraw towards a prompt.")
                model = model_menu.model_dropdown("style_transfer", label="Model")
                own = model_settings("gatys", model.value)
                with gr.Row():
                    steps = gr.Number(label="Steps", value=own["steps"], precision=0, minimum=0,
                                      maximum=max(limits.MAX_STYLE_STEPS, limits.MAX_STEPS),
                                      info="Optimisation or denoising steps; 0 or empty: the model's own.")
                    size = gr.Number(label="Size", value=own["size"], precision=0, minimum=0,
                                     maximum=max(limits.MAX_STYLE_SIZE, limits.MAX_SIZE),
                                     info="Longest side of the result in pixels; 0 or empty: the model's own.")
                with gr.Row():
                    strength = gr.Slider(label="Strength", minimum=0.0, maximum=1.0, step=0.05,
                                         value=DEFAULT_STRENGTH["gatys"],
                                         info="How much style: gatys weighs style against content; "
                                              "img2img redraws this share of the picture.")
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                     info="Same seed and settings: same result.")
                    preserve_color = gr.Checkbox(label="Keep the content's colours", value=False,
                                                 info="Take only texture from the style, not its palette.")
                inputs = [content, style_image, style_prompt, method, model, steps, size, strength, seed,
                          preserve_color]
                needs = errors.Requirements(inputs, input_problems(content, style_image, style_prompt))
                run_button, stop = run_buttons.run_button("Transfer style", needs, variant="primary")
            with gr.Column():
                result = gr.Image(label="Stylised image (the PNG carries its recipe)", type="filepath", format="png",
                                  interactive=False, height=256, elem_classes="pixel-art")
                # Fixed colours, named in a line under the plot: the plot's own legend is cut off below its axis.
                losses = gr.LinePlot(x="step", y=LOSS_AXIS, color="kind", color_title="loss", color_map=LOSS_COLOURS,
                                     label="Losses during optimisation (gatys)", height=260)
                gr.Markdown(LOSS_LEGEND, elem_classes="plot-legend")
                intermediates = gr.Gallery(label="Along the way", format="png", type="filepath", columns=6,
                                           height=160, interactive=False)
                metadata = gr.JSON(label="Recipe")
                code, card = recipe_views.recipe_panel()
                recipe_file = recipe_views.recipe_file()

        transfer = run_button.click(
            handlers.bind(stylise, run, seconds=seconds_needed), inputs,
            [result, losses, intermediates, metadata], api_name="style_transfer", concurrency_id=lanes.LONG_LANE,
            validator=needs.validate)
        transfer.success(recipe_views.show_recipe, metadata, [code, card], api_visibility="private")
        run_buttons.stoppable(run_button, stop, transfer)
        example_sets.examples([[example_sets.example_image(c), example_sets.example_image(s) if s else None, p, m]
                     for c, s, p, m in EXAMPLES],
                    [content, style_image, style_prompt, method], label="Examples")
        settings = TabSettings({"method": method, "style_prompt": style_prompt, "model": model, "steps": steps,
                                "size": size, "strength": strength, "seed": seed, "preserve_color": preserve_color},
                               CASCADES, shown={"style_image": style_image}, from_recipe=recipe_settings)
        settings.wire()
        restore_from_png(recipe_file, "style_transfer", settings, model_task="style_transfer")
        run_history(settings, [transfer], metadata, task="style_transfer", model_task="style_transfer")
    return settings
