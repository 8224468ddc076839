"""The GAN tab: walk through latent space from one seed's image to another's.

Its events, by api_name:
  gan_interpolation    (seed_a, seed_b, model, frames, method, truncation) -> frames, GIF, recipe
  gan_path_comparison  (seed_a, seed_b, model, frames, truncation) -> lerp and slerp frame strips (lerp
                       above), a GIF and an MP4 of both walks side by side (lerp | slerp), and the latent
                       norm along each path beside the expected norm truncation × √latent_dim
"""

import gradio as gr
import pandas as pd

from .. import imaging, limits, uploads
from ..latents import METHODS, expected_norm
from . import common, explanations, gradio_internals
from .settings_flow import TabSettings, restore_from_png, run_history

EXAMPLES = [[0, 1, 16, "slerp", 1.0], [7, 42, 24, "lerp", 1.0], [3, 11, 16, "slerp", 0.7]]


def seconds_needed(seed_a, seed_b, model, frames, *rest, **kwargs) -> float:
    return common.gpu_seconds(load=10, per_step=0.05, count=frames or 16)  # one batched pass of a small generator


@common.user_errors
def interpolate(run, seed_a, seed_b, model, frames, method, truncation, progress=gr.Progress()):
    report = common.bridge(progress)
    report(0.0, "Loading the generator")
    result = run["gan_interpolation"](seed_a, seed_b, model=common.model_name(model), frames=frames, method=method,
                                      truncation=truncation, progress=report)
    common.show_warnings(result)
    frames = common.frame_pngs(result)  # captioned with the classes a conditional generator's codes name
    # The last output is server-side state (gr.State): the MP4 step reads the frames this server wrote,
    # not paths a client sends back.
    return (list(zip(frames, result.labels)) or frames, common.write_output(result.gif, ".gif"), result.metadata,
            frames)


@common.user_errors
def walk_video(frames: list[str]):
    """The frames just made, as an MP4: encoding only, no model (the walk's own outputs stay as they were).
    `frames` is the walk's server-side state: the files this server wrote, never a client's paths."""
    if not frames:
        return None
    return common.write_output(imaging.mp4_bytes([uploads.open_image(path) for path in frames]), ".mp4")


def comparison_seconds_needed(seed_a, seed_b, model, frames, *rest, **kwargs) -> float:
    return common.gpu_seconds(load=10, per_step=0.1, count=frames or 16)  # two walks


@common.user_errors
def compare_paths(run, seed_a, seed_b, model, frames, truncation, progress=gr.Progress()):
    report = common.bridge(progress)
    report(0.0, "Loading the generator")
    walks = {}
    for i, method in enumerate(("lerp", "slerp")):
        walks[method] = common.show_warnings(run["gan_interpolation"](
            seed_a, seed_b, model=common.model_name(model), frames=frames, method=method, truncation=truncation,
            progress=lambda f, message="", i=i, method=method: report((i + f) / 2, f"{method}: {message}")))
    lerp, slerp = walks["lerp"].images, walks["slerp"].images
    strips = imaging.grid(thumbnails(lerp + slerp, len(lerp)), len(lerp))  # one row per path: lerp above slerp
    pairs = [imaging.grid([a, b], 2) for a, b in zip(lerp, slerp)]  # each frame: lerp | slerp
    metadata = walks["slerp"].metadata
    return (common.recipe_png(strips, {**metadata, "method": "lerp and slerp"}),
            common.write_output(imaging.gif_bytes(pairs), ".gif"),
            common.write_output(imaging.mp4_bytes(pairs), ".mp4"),
            norm_table(walks, expected_norm(metadata["latent_dim"], metadata["truncation"])))


def thumbnails(images: list, per_row: int, max_width: int = 4096) -> list:
    """Frames shrunk so that a row of `per_row` of them is at most `max_width` pixels wide."""
    width, height = images[0].size
    scale = min(1.0, max_width / (per_row * width))
    size = (max(8, int(width * scale)), max(8, int(height * scale)))
    return images if size == (width, height) else [image.resize(size) for image in images]


EXPECTED = "expected (truncation × √d)"
NORM_COLOURS = {"lerp": "#d62728", "slerp": "#1f77b4", EXPECTED: "#7f7f7f"}
NORM_LEGEND = ("**Legend.** Red line: **lerp**, whose length dips in the middle. Blue line: **slerp**, which "
               "keeps it. Gray line: the **expected** length of a Gaussian latent, truncation × √d.")


def norm_table(walks: dict, expected: float) -> pd.DataFrame:
    """Each path's latent norm per frame, and the norm Gaussian latents concentrate at, for gr.LinePlot."""
    # Not a column named "path": gradio_client takes any dict with a "path" key (here, the column
    # types) for a file to download.
    rows = [{"frame": i, "latent norm": norm, "method": method}
            for method, result in walks.items() for i, norm in enumerate(result.latent_norms)]
    frames = len(walks["slerp"].latent_norms)
    rows += [{"frame": i, "latent norm": expected, "method": EXPECTED} for i in range(frames)]
    return pd.DataFrame(rows)


def build_tab(run: dict):
    """The tab; `run` holds the functions it calls, by name (gan_interpolation)."""
    with gr.Tab("GAN interpolation", id="gan_interpolation"):
        gr.Markdown("A GAN generator turns a random latent vector into an image. Each seed picks a vector; "
                    "the frames walk from seed A's vector to seed B's, so you watch one image morph into the other.")
        explanations.how_it_works("gan_interpolation")
        with gr.Row():
            with gr.Column():
                with gr.Row():
                    seed_a = gr.Number(label="Seed A", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                       info="The first frame is this seed's own image.")
                    seed_b = gr.Number(label="Seed B", value=1, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                       info="The last frame is this seed's own image.")
                model = common.model_dropdown("gan_interpolation", label="Generator")
                frames = gr.Slider(label="Frames", minimum=2, maximum=limits.MAX_FRAMES, step=1, value=16,
                                   info="How many images along the path, both ends included.")
                method = gr.Radio(label="Path", choices=list(METHODS), value="slerp",
                                  info="slerp follows the sphere where Gaussian latents live; lerp cuts across it.")
                truncation = gr.Slider(label="Truncation", minimum=0.05, maximum=1.0, step=0.05, value=1.0,
                                       info="Below 1 pulls latents to the mean: cleaner but less varied images.")
                run_button = gr.Button("Interpolate", variant="primary", elem_classes=common.RUN_CLASS)
            with gr.Column():
                with gr.Row():
                    animation = gr.Image(label="Animation (GIF)", type="filepath", interactive=False, height=256,
                                         elem_classes="pixel-art")
                    video = gr.Video(label="Animation (MP4)", interactive=False, height=256, loop=True)
                gallery = gr.Gallery(label="Frames, in order (each PNG carries its recipe)", format="png",
                                     type="filepath", columns=6, height="auto", interactive=False,
                                     elem_classes=gradio_internals.CAPTIONS_BELOW)
                metadata = gr.JSON(label="Recipe")
                code, card = common.recipe_panel()
                recipe_file = common.recipe_file()

        with gr.Accordion("Compare slerp and lerp", open=False):
            gr.Markdown("The same two seeds walked both ways. A Gaussian latent's length sits near √d (d numbers); "
                        "the straight lerp path cuts inside that shell, so its middle frames come from short "
                        "vectors the generator rarely saw, and look washed out. slerp keeps the length.")
            compare = gr.Button("Compare slerp and lerp", elem_classes=common.RUN_CLASS)
            with gr.Row():
                pair_animation = gr.Image(label="lerp | slerp (GIF)", type="filepath", interactive=False,
                                          height=256, elem_classes="pixel-art")
                pair_video = gr.Video(label="lerp | slerp (MP4)", interactive=False, height=256, loop=True)
            # Fixed colours, named in a line under the plot: the plot's own legend is cut off below its axis.
            norms = gr.LinePlot(x="frame", y="latent norm", color="method", label="Latent norm along each path",
                                y_lim=[0, None], height=300, color_title="path", color_map=NORM_COLOURS)
            gr.Markdown(NORM_LEGEND, elem_classes="plot-legend")
            strips = gr.Image(label="Frames: lerp (top row), slerp (bottom row)", type="filepath", format="png",
                              interactive=False, elem_classes="pixel-art")

        made = gr.State([])  # the walk's frame files, kept on the server for the MP4 step
        walk = run_button.click(common.bind(interpolate, run, seconds=seconds_needed),
                                [seed_a, seed_b, model, frames, method, truncation],
                                [gallery, animation, metadata, made], api_name="gan_interpolation",
                                concurrency_id=common.GAN_LANE)
        walk.success(common.show_recipe, metadata, [code, card], api_visibility="private")
        walk.success(walk_video, made, video, api_visibility="private")
        compare.click(common.bind(compare_paths, run, seconds=comparison_seconds_needed),
                      [seed_a, seed_b, model, frames, truncation], [strips, pair_animation, pair_video, norms],
                      api_name="gan_path_comparison", concurrency_id=common.GAN_LANE)
        common.examples(EXAMPLES, [seed_a, seed_b, frames, method, truncation], label="Example walks")
        controls = {"seed_a": seed_a, "seed_b": seed_b, "model": model, "frames": frames, "method": method,
                    "truncation": truncation}
        settings = TabSettings(controls)
        settings.wire()
        restore_from_png(recipe_file, "gan_interpolation", settings, model_task="gan_interpolation")
        run_history(settings, [walk], metadata, task="gan_interpolation", model_task="gan_interpolation")
    return settings
