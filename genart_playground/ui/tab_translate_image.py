"""The image translation tab: draw (or upload) a sketch and see Pix2Pix and CycleGAN turn it into a picture.

Its events, by api_name:
  translate_image    (image, model, compare_model, direction, seed, prompt) -> for each model its translation
                     and round trip (CycleGAN; empty for a one-way model), the metrics of both, the recipe;
                     the prompt goes to the diffusion models only
  translate_drawing  (drawing, model, compare_model, direction, seed, prompt) -> the same, from the canvas
"""

import gradio as gr
from PIL import Image

from .. import limits, uploads
from ..data import shapes
from ..data.directions import DIRECTIONS, SKETCH_TO_PICTURE
from ..models import registry
from ..models.loading import availability
from . import (errors, example_sets, handlers, lanes, model_menu, output_files, progress_bar, recipe_views, run_buttons,
               tab_page, zero_gpu)
from .image_input import drawing_canvas, upload_image
from .settings_flow import TabSettings, restore_from_png, run_history

NONE = "none"  # "Compare with" when there is nothing to compare with
CANVAS = 256  # pixels: 4× the models' 64, so the pen below lands about as wide as the training sketches' 2 px
PEN = 8  # the brush's size setting (it draws a line about 10 canvas pixels wide)
EXAMPLES = ["sketch_green_triangle.png", "sketch_orange_circle.png", "picture_purple_diamond.png"]


def paper(background: str) -> Image.Image:
    """A blank canvas in one of the shapes world's background colours."""
    return Image.new("RGB", (CANVAS, CANVAS), shapes.BACKGROUNDS.get(background, shapes.BACKGROUNDS["white"]))


def seconds_needed(image, model, compare_model, *rest, **kwargs) -> float:
    """Two small U-Nets take a pass each way; a diffusion heir runs its steps on 512×512."""
    names = [model_menu.model_name(model), model_menu.model_name(compare_model)]
    steps = sum(spec.defaults.get("steps", 0) for spec in registry.models_for("translate_image")
                if spec.name in names and registry.can(spec, "denoise"))
    return zero_gpu.gpu_seconds(load=10 + 20 * bool(steps), per_step=0.5, steps=steps, default_steps=0)


def can_run(name: str | None, direction: str) -> bool:
    spec = registry.resolve("translate_image", name)
    return registry.can(spec, direction)


def prompt_for(name: str | None, prompt: str | None) -> str | None:
    """The prompt box's text for a diffusion model (its own default when empty); None for a GAN."""
    if not registry.can(registry.resolve("translate_image", name), "denoise"):
        return None
    return prompt if isinstance(prompt, str) and prompt.strip() else None


@errors.user_errors
def translate(run, image, model, compare_model, direction, seed, prompt="", progress=gr.Progress(),
              what="The image"):
    report = progress_bar.bridge(progress)
    image = uploads.open_image(image, what=what) if image is not None else None  # pixels checked before decoding
    names = [model_menu.model_name(model)]
    second = model_menu.model_name(compare_model)
    if second not in (None, NONE):
        names.append(second)
    outputs, scores, metadata = [], [], None
    for i, name in enumerate(names):
        if i and not can_run(name, direction or SKETCH_TO_PICTURE):  # the comparison sits this one out
            outputs += [None, None]
            scores.append({"model": name, "note": f"learnt {SKETCH_TO_PICTURE} only"})
            continue
        result = errors.show_warnings(run["translate_image"](
            image, model=name, direction=direction, seed=seed, prompt=prompt_for(name, prompt),
            progress=lambda f, message="", i=i: report((i + f) / len(names), message)))
        outputs += [output_files.recipe_png(result.images[0], result.metadata),
                    output_files.image_file(result.cycle) if result.cycle is not None else None]
        scores.append({"model": result.metadata["model"], **{k: round(v, 2) for k, v in result.metrics.items()},
                       "notes": result.metadata["notes"]})
        metadata = metadata or result.metadata
    outputs += [None, None] * (2 - len(names))
    return *outputs, scores, metadata


def translate_drawing(run, drawing, model, compare_model, direction, seed, prompt="", progress=gr.Progress()):
    return translate(run, drawing, model, compare_model, direction, seed, prompt, progress=progress,
                     what="The drawing")


def compare_choice() -> str:
    """The comparison at first: the built-in CycleGAN beside the built-in Pix2Pix (paired against unpaired),
    when it can run here."""
    runnable = [spec.name for spec in registry.models_for("translate_image") if availability(spec) != "missing"]
    return "builtin/shapes-cyclegan" if "builtin/shapes-cyclegan" in runnable else NONE


def build_tab(run: dict, family):
    """The tab; `run` holds the functions it calls, by name (translate_image)."""
    with tab_page.family_tab(family):
        with gr.Row():
            with gr.Column():
                background = gr.Radio(label="Paper", choices=list(shapes.BACKGROUNDS), value="white",
                                      info="The shapes world's backgrounds (a new paper clears the canvas); "
                                           "the pens are its six colours.")
                drawing = drawing_canvas(
                    paper=paper("white"), colours=shapes.COLORS, size=CANVAS, pen=PEN,
                    label="Canvas: draw an outline",
                    height=CANVAS + 120)
                draw_button, draw_stop = run_buttons.run_button("Translate the drawing", variant="primary")
                with gr.Accordion("Or upload a sketch or a picture", open=False):
                    image = upload_image(label="Sketch or picture (padded to a square, shrunk to 64×64)",
                                         sources=["upload", "clipboard"], height=256)
                    upload_button, upload_stop = run_buttons.run_button("Translate the upload")
                direction = gr.Radio(label="Direction", choices=list(DIRECTIONS), value=SKETCH_TO_PICTURE,
                                     info="Pix2Pix learnt sketch_to_picture only; CycleGAN both ways.")
                with gr.Row():
                    model = model_menu.model_dropdown("translate_image", label="Model")
                    compare_model = gr.Dropdown(choices=[(NONE, NONE), *model_menu.model_choices("translate_image")],
                                                value=compare_choice(), label="Compare with", allow_custom_value=True,
                                                info="A second model on the same input.")
                seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                 info="Recorded in the recipe; the GANs draw no noise (a diffusion model would).")
                prompt = gr.Textbox(label="Prompt", max_length=limits.MAX_PROMPT_CHARS, lines=1,
                                    placeholder="the model's own default",
                                    info="Diffusion models only (ControlNet scribble, InstructPix2Pix: GPU).")
            with gr.Column():
                sides = []
                for side, key in (("Model", "model"), ("Compare with", "compare")):
                    with gr.Row():
                        sides += [gr.Image(label=f"{side}: translation", type="filepath", format="png",
                                           interactive=False, height=200, elem_classes="pixel-art",
                                           elem_id=f"translation-{key}"),
                                  gr.Image(label=f"{side}: round trip (CycleGAN: translated back)",
                                           type="filepath", format="png", interactive=False, height=200,
                                           elem_classes="pixel-art")]
                scores = gr.JSON(label="Each model (cycle_psnr: the round trip against the input, dB)")
                metadata = gr.JSON(label="Recipe")
                code, card = recipe_views.recipe_panel()
                recipe_file = recipe_views.recipe_file()

        background.change(paper, background, drawing, api_visibility="private", queue=False)
        inputs = [model, compare_model, direction, seed, prompt]
        outputs = [*sides, scores, metadata]
        upload_event = upload_button.click(
            handlers.bind(translate, run, seconds=seconds_needed), [image, *inputs], outputs,
            api_name="translate_image", concurrency_id=lanes.GAN_LANE,
            validator=errors.required([image, *inputs], {image: errors.UPLOAD_FIRST}).validate)
        draw_event = draw_button.click(
            handlers.bind(translate_drawing, run, seconds=seconds_needed), [drawing, *inputs], outputs,
            api_name="translate_drawing", concurrency_id=lanes.GAN_LANE)
        for event in (upload_event, draw_event):
            event.success(recipe_views.show_recipe, metadata, [code, card], api_visibility="private")
        run_buttons.stoppable(upload_button, upload_stop, upload_event)
        run_buttons.stoppable(draw_button, draw_stop, draw_event)
        example_sets.examples([[example_sets.example_image(name)] for name in EXAMPLES], [image], label="Example sketches")
        controls = {"model": model, "compare_model": compare_model, "direction": direction, "seed": seed,
                    "prompt": prompt}
        settings = TabSettings(controls)
        settings.wire()
        restore_from_png(recipe_file, "translate_image", settings, model_task="translate_image")
        run_history(settings, [upload_event, draw_event], metadata, task="translate_image",
                    model_task="translate_image")
    return settings
