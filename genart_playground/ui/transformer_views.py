"""The text-to-image tab's views of its transformer families: the token timeline and the codebook explorer
(token models), and one prompt through the three families with the steps sweep."""

import gradio as gr
import pandas as pd

from .. import limits, uploads
from ..models import registry
from . import errors, example_sets, handlers, lanes, model_menu, output_files, progress_bar, run_buttons, zero_gpu
from .image_input import upload_image

TOKEN_MODEL = "builtin/shapes-vqgpt"  # the token views' model when the tab's model is a diffusion model
SWEEP_STEPS = (1, 2, 4, 8, 16, 32)
TOKEN_ONLY = "Token models only"


def _own(value):
    return None if value in (None, "", 0) else value


def token_settings(model, guidance, temperature, top_k) -> dict:
    """The tab's model and its sampler settings when it is a token model; else the built-in token model at
    its own settings (the tab's guidance was chosen for a diffusion model)."""
    name = model_menu.model_name(model)
    try:
        spec = registry.resolve("text_to_image", name)
    except ValueError:
        spec = None
    if spec is not None and registry.can(spec, "write_tokens"):
        return {"model": spec.name, "guidance": guidance, "temperature": _own(temperature), "top_k": _own(top_k)}
    return {"model": TOKEN_MODEL}


def timeline_seconds(*args, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=10, per_step=0.02, steps=64)


@errors.user_errors
def timeline(run, prompt, negative_prompt, model, guidance, seed, temperature, top_k, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    report(0.0, "Loading the model")
    result = run["token_timeline"](prompt, negative_prompt=negative_prompt or "", seed=seed, progress=report,
                                   **token_settings(model, guidance, temperature, top_k))
    errors.show_warnings(result)
    # The frames' files stay on the server (gr.State): the slider shows them without a model call.
    frames = [output_files.image_file(frame) for frame in result.frames]
    return (frames[-1], output_files.write_output(result.gif, ".gif"), result.codes, result.metadata,
            {"frames": frames})


def last_frame(made):
    last = len((made or {}).get("frames", [])) - 1
    return gr.update(maximum=max(last, 1), value=max(last, 0), interactive=last > 0)


def show_frame(index, made):
    frames = (made or {}).get("frames") or []
    index = int(index or 0)
    return frames[index] if 0 <= index < len(frames) else None


def explorer_seconds(*args, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=10, per_step=0)


@errors.user_errors
def explore(run, image, model, row=None, column=None, code=None, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    image = uploads.open_image(image) if image is not None else None  # pixel count checked before decoding
    swap = {} if row is None and column is None and code is None else {"row": row, "column": column, "code": code}
    result = run["codebook_explorer"](image, model=token_settings(model, None, None, None)["model"], progress=report,
                                      **swap)
    errors.show_warnings(result)
    rounded = {name: round(float(value), 4) for name, value in result.metrics.items()}
    return (output_files.image_file(result.grid), output_files.image_file(result.images[-1]), output_files.image_file(result.atlas),
            result.codes, rounded, result.metadata)


def comparison_seconds(*args, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=30, per_step=0.2, steps=40)


@errors.user_errors
def compare(run, prompt, seed, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    result = run["compare_families"](prompt, seed=seed, progress=report)
    pictures = [(output_files.image_file(image), f"{row['family']}: {row['seconds']:.2f} s, "
                 f"{row['network_evaluations']} network evaluations; the checker reads {row['checker']}"
                 f" ({'right' if row['right'] else 'not what the prompt says'})")
                for image, row in zip(result.images, result.rows)]
    table = [[row["model"], row["family"], row["seconds"], row["network_evaluations"], row["checker"],
              "yes" if row["right"] else "no"] for row in result.rows]
    return pictures, table, result.metadata


# One colour per model, named in a line under the plot: the plot's own legend is cut off below its axis
SWEEP_COLOURS = {"builtin/shapes-t2i": "#1f77b4", "builtin/shapes-dit": "#d62728"}
SWEEP_LEGEND = ("**Legend.** Blue line: **builtin/shapes-t2i**, the UNet (DPM-Solver++). Red line: "
                "**builtin/shapes-dit**, the flow-matching transformer (Euler). x: sampling steps; y: the share of "
                "pictures the checker reads as right (0 to 1).")


def sweep_seconds(*args, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=30, per_step=0.2, steps=sum(SWEEP_STEPS) * 2)


@errors.user_errors
def sweep(run, prompts, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    result = run["steps_sweep"](prompts=prompts, steps=SWEEP_STEPS, progress=report)
    rows = pd.DataFrame(result.rows)
    return rows, [[row["model"], row["steps"], row["quality"]] for row in result.rows], result.metadata


def token_views(run, prompt, negative_prompt, model, guidance, seed, temperature, top_k) -> None:
    """The token timeline and the codebook explorer, each in its accordion."""
    with gr.Accordion("Token timeline (token models)", open=False):
        gr.Markdown("A token model writes its picture one token at a time, left to right, top to bottom: frame i "
                    "is the picture decoded from the first i of its 64 tokens (grey: not written yet; the "
                    "outlined cell is the next). Uses the model above when it is a token model, else "
                    f"`{TOKEN_MODEL}` at its own settings; the prompt and seed above.")
        timeline_run, timeline_stop = run_buttons.run_button("Write it token by token")
        frame_slider = gr.Slider(label="Tokens written", minimum=0, maximum=64, step=1, value=0, interactive=False,
                                 info="Which frame to show (0: nothing written); no model runs when you move it.")
        with gr.Row():
            frame_image = gr.Image(label="The picture so far", type="filepath", interactive=False, height=256,
                                   elem_classes="pixel-art")
            timeline_gif = gr.Image(label="Token by token (GIF; it plays here)", type="filepath", interactive=False,
                                    height=256, elem_classes="pixel-art")
        codes = gr.Dataframe(label="The tokens written (codebook indices, row by row)", interactive=False)
        timeline_metadata = gr.JSON(label="Token timeline recipe")
    made = gr.State(None)
    inputs = [prompt, negative_prompt, model, guidance, seed, temperature, top_k]
    event = timeline_run.click(handlers.bind(timeline, run, seconds=timeline_seconds), inputs,
                               [frame_image, timeline_gif, codes, timeline_metadata, made], api_name="token_timeline",
                               concurrency_id=lanes.LONG_LANE)
    run_buttons.stoppable(timeline_run, timeline_stop, event)
    event.success(last_frame, made, frame_slider, api_visibility="private")
    frame_slider.input(show_frame, [frame_slider, made], frame_image, api_visibility="private")

    with gr.Accordion("Codebook explorer (token models)", open=False):
        gr.Markdown("Any picture as the token model's autoencoder reads it: cropped to a square, 64×64, then an 8×8 "
                    "grid of tokens, each the index of the codebook patch nearest to that part of the picture. "
                    "Pick a cell by its row and column (the grid shows each cell's code), choose another code, "
                    "and *Swap* decodes the grid with that one token changed. The codebook shows every code as the 8×8 patch it decodes to "
                    "on its own (code 0 top left, 32 to a row).")
        with gr.Row():
            explorer_image = upload_image(label="Picture", height=256)
            explorer_grid = gr.Image(label="Its tokens (each cell's code)", type="filepath", interactive=False,
                                     height=256, elem_classes="pixel-art")
            explorer_rebuilt = gr.Image(label="Decoded from the tokens", type="filepath", interactive=False,
                                        height=256, elem_classes="pixel-art")
        read_run = gr.Button("Read its tokens", elem_classes=run_buttons.RUN_CLASS)
        with gr.Row():
            row = gr.Number(label="Row", value=0, precision=0, minimum=0, maximum=7, info="0 is the top row.")
            column = gr.Number(label="Column", value=0, precision=0, minimum=0, maximum=7, info="0 is the left column.")
            code = gr.Number(label="New code", value=0, precision=0, minimum=0, maximum=limits.MAX_TOP_K,
                             info="The codebook index to put in that cell.")
            swap_run = gr.Button("Swap", elem_classes=run_buttons.RUN_CLASS)
        explorer_metrics = gr.JSON(label="Figures (PSNR of the decoded picture against the input)")
        atlas = gr.Image(label="The codebook", type="filepath", interactive=False, elem_classes="pixel-art")
        explorer_codes = gr.Dataframe(label="Token ids", interactive=False)
        explorer_metadata = gr.JSON(label="Explorer recipe", visible=False)
        example_sets.examples([[example_sets.example_image("shapes.png")]], [explorer_image], label="Example picture")
    outputs = [explorer_grid, explorer_rebuilt, atlas, explorer_codes, explorer_metrics, explorer_metadata]
    explorer = handlers.bind(explore, run, seconds=explorer_seconds)
    requirements = errors.required([explorer_image, model], {explorer_image: errors.UPLOAD_FIRST})
    read_run.click(explorer, [explorer_image, model], outputs, api_name="codebook_explorer",
                   concurrency_id=lanes.AUTOENCODER_LANE, validator=requirements.validate)
    swap_run.click(explorer, [explorer_image, model, row, column, code], outputs, api_visibility="private",
                   concurrency_id=lanes.AUTOENCODER_LANE,
                   validator=errors.required([explorer_image, model, row, column, code],
                                             {explorer_image: errors.UPLOAD_FIRST}).validate)


FAMILIES_EXPLAINED = """\
- **UNet diffusion** (`builtin/shapes-t2i`; Stable Diffusion 1-2, SDXL): a convolutional network with
  cross-attention to the prompt predicts the noise (here v) at each step of a curved path from noise
  to picture.
- **Diffusion transformer with rectified flow** (`builtin/shapes-dit`; SD3, FLUX, PixArt): the latents are
  cut into 2×2 *patches*, each a token with a learned position, and in every block the picture's tokens
  and the prompt's tokens attend to each other. Training draws a straight line from the picture to
  the noise, x_t = (1 − t)·x0 + t·ε, and the network learns its *velocity* ε − x0. A straight path can
  be followed in big Euler steps, which is why SD3 and FLUX sample in few steps; the built-in one ships
  with 8. Measure it with the steps sweep below: on this small world the UNet (v-prediction on a
  cosine schedule, itself a nearly straight path) does as well in as few steps.
- **Autoregressive transformer** (`builtin/shapes-vqgpt`; DALL-E, Parti): a VQ autoencoder turns a picture
  into an 8×8 grid of *tokens*, each the index of one entry of a *codebook* of 128 learned patches; a
  GPT reads the prompt's tokens, then writes the picture's 64 tokens one at a time in *raster order*
  (left to right, top to bottom), each drawn from its predicted probabilities (temperature, top-k), with
  guidance on the scores with and without the prompt. There is no maintained diffusers pipeline for
  this family on the Hub (aMUSEd, the last one, is deprecated): it is built here from a diffusers
  `VQModel` and a transformers `GPT2LMHeadModel`, each saved with `save_pretrained`."""


def comparison_view(run, prompt, seed) -> None:
    """One prompt and seed through the three families' built-ins, and quality against steps."""
    with gr.Accordion("One prompt, three families", open=False):
        gr.Markdown(FAMILIES_EXPLAINED)
        gr.Markdown("The prompt and seed above through the three built-in models, each at its own settings: the "
                    "UNet diffusion model (20 DPM-Solver++ steps), the diffusion transformer trained with rectified "
                    "flow (8 Euler steps) and the autoregressive transformer (64 tokens). Each picture's time, "
                    "its network evaluations (with guidance every step runs the network twice) and what the "
                    "project's checker reads in it. The first run of a model includes loading it: run twice to "
                    "compare times.")
        compare_run, compare_stop = run_buttons.run_button("Compare the three families")
        family_pictures = gr.Gallery(label="Side by side", format="png", type="filepath", columns=3, height=300,
                                     interactive=False, elem_classes="pixel-art")
        family_table = gr.Dataframe(label="The three runs", interactive=False,
                                    headers=["model", "family", "seconds", "network evaluations", "checker reads",
                                             "right"])
        family_metadata = gr.JSON(label="Comparison recipe", visible=False)
        gr.Markdown("**Steps sweep.** Quality against steps for the two diffusion models, each with its own "
                    "sampler: the share of the standard prompts (one per training colour and shape) whose picture "
                    "the checker reads as right, at 1 to 32 steps. Where each curve flattens is the fewest steps "
                    "that model needs.")
        with gr.Row():
            sweep_prompts = gr.Slider(label="Prompts per point", minimum=1, maximum=16, step=1, value=8,
                                      info="More prompts: a smoother curve, a longer run.")
            sweep_run = gr.Button("Sweep steps", elem_classes=run_buttons.RUN_CLASS)
        sweep_plot = gr.LinePlot(x="steps", y="quality", color="model", color_map=SWEEP_COLOURS,
                                 label="Checker's quality against steps", y_lim=[0, 1], height=280)
        gr.Markdown(SWEEP_LEGEND, elem_classes="plot-legend")
        sweep_table = gr.Dataframe(label="The points", headers=["model", "steps", "quality"], interactive=False)
        sweep_metadata = gr.JSON(label="Sweep recipe", visible=False)
    comparing = compare_run.click(handlers.bind(compare, run, seconds=comparison_seconds), [prompt, seed],
                                  [family_pictures, family_table, family_metadata], api_name="compare_families",
                                  concurrency_id=lanes.LONG_LANE)
    run_buttons.stoppable(compare_run, compare_stop, comparing)
    sweep_run.click(handlers.bind(sweep, run, seconds=sweep_seconds), [sweep_prompts],
                    [sweep_plot, sweep_table, sweep_metadata], api_name="steps_sweep", concurrency_id=lanes.LONG_LANE)
