"""The GAN tab: walk through latent space from one seed's image to another's.

Its events, by api_name:
  gan_interpolation    (seed_a, seed_b, model, frames, method, truncation, space) -> frames, GIF, recipe
  gan_path_comparison  (seed_a, seed_b, model, frames, truncation) -> lerp and slerp frame strips (lerp
                       above), a GIF and an MP4 of both walks side by side (lerp | slerp), and the latent
                       norm along each path beside the expected norm truncation × √latent_dim
  style_mixing         (coarse_seeds, fine_seeds, model, crossover, truncation) -> the StyleGAN paper's grid,
                       where each mixed picture's attributes came from, and what each crossover hands over
"""

import gradio as gr
import pandas as pd

from .. import imaging, limits, uploads
from ..families.gan_interpolation import WALK_METHODS as METHODS
from . import (errors, example_sets, gradio_internals, handlers, lanes, model_menu, output_files, progress_bar,
               recipe_views, run_buttons, tab_page, zero_gpu)
from .settings_flow import TabSettings, restore_from_png, run_history

EXAMPLES = [[0, 1, 16, "slerp", 1.0], [7, 42, 24, "lerp", 1.0], [3, 11, 16, "slerp", 0.7]]
SPACES = [("Z: the seeds' Gaussian vectors", "z"), ("W: the styles (StyleGAN)", "w")]
MIXING_EXAMPLE = ("1, 2, 3, 4", "5, 6, 7, 8")
ATTRIBUTES = ("shape", "color", "size", "position", "background")
MAX_SEEDS_TEXT = 200  # characters of a seed list: 8 seeds of 10 digits and their commas fit


def layer_resolutions(image_size: int = 64) -> list[int]:
    """The resolution each style of a StyleGAN drawing `image_size` pixels drives (families/gan_interpolation/stylegan.py):
    one layer at 4×4, two per doubling after it, and the last RGB layer at the image's size."""
    resolutions, size = [4], 8
    while size <= image_size:
        resolutions += [size, size]
        size *= 2
    return resolutions + [image_size]


def crossover_choices(image_size: int = 64) -> list[tuple[str, int]]:
    resolutions = layer_resolutions(image_size)
    return [(f"layer {k} ({r}×{r}): fine seed from here on", k) for k, r in enumerate(resolutions) if k]


def parse_seeds(name: str, text) -> list[int]:
    """"1, 2, 3" -> [1, 2, 3]; bounded before anything is parsed (the adapter checks each seed)."""
    if not isinstance(text, str) or len(text) > MAX_SEEDS_TEXT:
        raise ValueError(f"{name}: up to {limits.MAX_MIX_SEEDS} whole numbers separated by commas.")
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise ValueError(f"{name}: whole numbers from 0 to {limits.MAX_SEED}, separated by commas (e.g. 1, 2, 3).")
    return [int(part) for part in parts]


def seconds_needed(seed_a, seed_b, model, frames, *rest, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=10, per_step=0.05, count=frames or 16)  # one batched pass of a small generator


@errors.user_errors
def interpolate(run, seed_a, seed_b, model, frames, method, truncation, space="z", progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    report(0.0, "Loading the generator")
    # The Path control is Z's: a W walk is a straight line whatever it shows (a lesson link may set W alone).
    method = "lerp" if space == "w" else method
    result = run["gan_interpolation"](seed_a, seed_b, model=model_menu.model_name(model), frames=frames, method=method,
                                      truncation=truncation, space=space, progress=report)
    errors.show_warnings(result)
    frames = output_files.frame_pngs(result)  # captioned with the classes a conditional generator's codes name
    # The last outputs are server-side state (gr.State): the MP4 step reads the frames this server wrote,
    # not paths a client sends back; the mean style's picture is shown by a step of its own.
    mean = output_files.image_file(result.mean_image) if result.mean_image is not None else None
    return (list(zip(frames, result.labels)) or frames, output_files.write_output(result.gif, ".gif"), result.metadata,
            frames, mean)


def show_mean(mean: str | None):
    """The mean style's picture a StyleGAN walk made (server-side state), hidden for other generators."""
    return gr.update(value=mean, visible=mean is not None)


def mixing_seconds_needed(coarse, fine, *rest, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=10, per_step=0.5, count=1)  # every crossover of at most 64 small pictures


@errors.user_errors
def mix_styles(run, coarse_text, fine_text, model, crossover, truncation, progress=gr.Progress()):
    coarse, fine = parse_seeds("Coarse seeds", coarse_text), parse_seeds("Fine seeds", fine_text)
    report = progress_bar.bridge(progress)
    report(0.0, "Loading the generator")
    result = errors.show_warnings(run["style_mixing"](coarse, fine, model=model_menu.model_name(model),
                                                      crossover=crossover, truncation=truncation, progress=report))
    return (output_files.recipe_png(result.grid, result.metadata), sources_table(result), controls_table(result),
            result.metadata)


def sources_table(result) -> pd.DataFrame:
    """One row per mixed picture: its seeds, and where each attribute the checker read came from."""
    meta = result.metadata
    rows = []
    for i, traced in enumerate(result.sources):
        coarse, fine = meta["coarse_seeds"][i // len(meta["fine_seeds"])], meta["fine_seeds"][i % len(meta["fine_seeds"])]
        rows.append({"coarse seed": coarse, "fine seed": fine, **{name: traced[name] for name in ATTRIBUTES},
                     "clean": "yes" if traced["clean"] else "no"})
    return pd.DataFrame(rows, columns=["coarse seed", "fine seed", *ATTRIBUTES, "clean"])


def controls_table(result) -> pd.DataFrame:
    """One row per crossover: the share of pictures taking each attribute from the coarse seed."""
    rows = [{"crossover": f"layer {row['crossover']} ({row['resolution']}×{row['resolution']})",
             **{name: "—" if row[name] is None else f"{row[name]:.0%}" for name in ATTRIBUTES},
             "clean mixes": f"{row['clean']:.0%}"} for row in result.controls]
    return pd.DataFrame(rows, columns=["crossover", *ATTRIBUTES, "clean mixes"])


@errors.user_errors
def walk_video(frames: list[str]):
    """The frames just made, as an MP4: encoding only, no model (the walk's own outputs stay as they were).
    `frames` is the walk's server-side state: the files this server wrote, never a client's paths."""
    if not frames:
        return None
    return output_files.write_output(imaging.mp4_bytes([uploads.open_image(path) for path in frames]), ".mp4")


def comparison_seconds_needed(seed_a, seed_b, model, frames, *rest, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=10, per_step=0.1, count=frames or 16)  # two walks


@errors.user_errors
def compare_paths(run, seed_a, seed_b, model, frames, truncation, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    report(0.0, "Loading the generator")
    walks = {}
    for i, method in enumerate(("lerp", "slerp")):
        walks[method] = errors.show_warnings(run["gan_interpolation"](
            seed_a, seed_b, model=model_menu.model_name(model), frames=frames, method=method, truncation=truncation,
            space="z", progress=lambda f, message="", i=i, method=method: report((i + f) / 2, f"{method}: {message}")))
    lerp, slerp = walks["lerp"].images, walks["slerp"].images
    strips = imaging.grid(thumbnails(lerp + slerp, len(lerp)), len(lerp))  # one row per path: lerp above slerp
    pairs = [imaging.grid([a, b], 2) for a, b in zip(lerp, slerp)]  # each frame: lerp | slerp
    metadata = walks["slerp"].metadata
    return (output_files.recipe_png(strips, {**metadata, "method": "lerp and slerp"}),
            output_files.write_output(imaging.gif_bytes(pairs), ".gif"),
            output_files.write_output(imaging.mp4_bytes(pairs), ".mp4"),
            norm_table(walks, walks["slerp"].expected_norm))


def lerp_in_w(space: str):
    """W walks are straight lines: picking W picks lerp (the user may still pick slerp and be told why not)."""
    return gr.update(value="lerp") if space == "w" else gr.update()


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


def build_tab(run: dict, family):
    """The tab; `run` holds the functions it calls, by name (gan_interpolation)."""
    with tab_page.family_tab(family):
        with gr.Row():
            with gr.Column():
                with gr.Row():
                    seed_a = gr.Number(label="Seed A", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                       info="The first frame is this seed's own image.")
                    seed_b = gr.Number(label="Seed B", value=1, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                       info="The last frame is this seed's own image.")
                model = model_menu.model_dropdown("gan_interpolation", label="Generator")
                frames = gr.Slider(label="Frames", minimum=2, maximum=limits.MAX_FRAMES, step=1, value=16,
                                   info="How many images along the path, both ends included.")
                space = gr.Radio(label="Space", choices=SPACES, value="z",
                                 info="A StyleGAN can also be walked in W, the styles its mapping network makes.")
                method = gr.Radio(label="Path", choices=list(METHODS), value="slerp",
                                  info="slerp follows the sphere where Gaussian latents live; lerp cuts across it. "
                                       "W walks are lerp.")
                truncation = gr.Slider(label="Truncation", minimum=0.05, maximum=1.0, step=0.05, value=1.0,
                                       info="Below 1 pulls latents to the mean: cleaner but less varied images.")
                run_button = gr.Button("Interpolate", variant="primary", elem_classes=run_buttons.RUN_CLASS)
            with gr.Column():
                with gr.Row():
                    animation = gr.Image(label="Animation (GIF)", type="filepath", interactive=False, height=256,
                                         elem_classes="pixel-art")
                    video = gr.Video(label="Animation (MP4)", interactive=False, height=256, loop=True)
                gallery = gr.Gallery(label="Frames, in order (each PNG carries its recipe)", format="png",
                                     type="filepath", columns=6, height="auto", interactive=False,
                                     elem_classes=gradio_internals.CAPTIONS_BELOW)
                mean_picture = gr.Image(label="The mean style's picture (truncation pulls every seed towards it)",
                                        type="filepath", interactive=False, height=128, visible=False,
                                        elem_classes="pixel-art")
                metadata = gr.JSON(label="Recipe")
                code, card = recipe_views.recipe_panel()
                recipe_file = recipe_views.recipe_file()

        with gr.Accordion("Compare slerp and lerp", open=False):
            gr.Markdown("The same two seeds walked both ways. A Gaussian latent's length sits near √d (d numbers); "
                        "the straight lerp path cuts inside that shell, so its middle frames come from short "
                        "vectors the generator rarely saw, and look washed out. slerp keeps the length.")
            compare = gr.Button("Compare slerp and lerp", elem_classes=run_buttons.RUN_CLASS)
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

        with gr.Accordion("Style mixing (StyleGAN)", open=False):
            gr.Markdown("Each seed's style w feeds every layer. Here the coarse layers take a *coarse seed*'s "
                        "style and the layers from the crossover on a *fine seed*'s: the grid shows the fine "
                        "seeds along the top, the coarse seeds down the left, and each mix where they meet. "
                        "The project's checker reads every picture and says which seed each attribute came from.")
            with gr.Row():
                coarse_seeds = gr.Textbox(label="Coarse seeds", value=MIXING_EXAMPLE[0], max_length=MAX_SEEDS_TEXT,
                                          info=f"Up to {limits.MAX_MIX_SEEDS}, separated by commas: one row each.")
                fine_seeds = gr.Textbox(label="Fine seeds", value=MIXING_EXAMPLE[1], max_length=MAX_SEEDS_TEXT,
                                        info=f"Up to {limits.MAX_MIX_SEEDS}: one column each.")
            with gr.Row():
                mixing_model = model_menu.model_dropdown("gan_interpolation", label="StyleGAN", able="w_space")
                crossover = gr.Dropdown(label="Crossover", choices=crossover_choices(), value=4,
                                        info="The first layer that takes the fine seed's style, and the "
                                             "resolution it draws at (for a 64×64 generator).")
            mix_button = gr.Button("Mix styles", elem_classes=run_buttons.RUN_CLASS)
            mixing_grid = gr.Image(label="Style mixing (the PNG carries its recipe)", type="filepath", format="png",
                                   interactive=False, elem_classes="pixel-art")
            sources = gr.Dataframe(label="Where each attribute of each mixed picture came from (the checker's "
                                         "reading; both: the two seeds agree)", interactive=False)
            controls = gr.Dataframe(label="What each layer controls: at each crossover, the share of mixed "
                                          "pictures that kept the coarse seed's attribute (where the seeds differ)",
                                    interactive=False)
            mixing_recipe = gr.JSON(label="Recipe")

        made = gr.State([])  # the walk's frame files, kept on the server for the MP4 step
        mean = gr.State(None)  # the mean style's picture of a StyleGAN walk
        walk = run_button.click(handlers.bind(interpolate, run, seconds=seconds_needed),
                                [seed_a, seed_b, model, frames, method, truncation, space],
                                [gallery, animation, metadata, made, mean], api_name="gan_interpolation",
                                concurrency_id=lanes.GAN_LANE)
        walk.success(recipe_views.show_recipe, metadata, [code, card], api_visibility="private")
        walk.success(walk_video, made, video, api_visibility="private")
        walk.success(show_mean, mean, mean_picture, api_visibility="private")
        space.input(lerp_in_w, space, method, api_visibility="private")
        mix_button.click(handlers.bind(mix_styles, run, seconds=mixing_seconds_needed),
                         [coarse_seeds, fine_seeds, mixing_model, crossover, truncation],
                         [mixing_grid, sources, controls, mixing_recipe], api_name="style_mixing",
                         concurrency_id=lanes.GAN_LANE)
        compare.click(handlers.bind(compare_paths, run, seconds=comparison_seconds_needed),
                      [seed_a, seed_b, model, frames, truncation], [strips, pair_animation, pair_video, norms],
                      api_name="gan_path_comparison", concurrency_id=lanes.GAN_LANE)
        example_sets.examples(EXAMPLES, [seed_a, seed_b, frames, method, truncation], label="Example walks")
        controls = {"seed_a": seed_a, "seed_b": seed_b, "model": model, "frames": frames, "method": method,
                    "truncation": truncation, "space": space}
        settings = TabSettings(controls)
        settings.wire()
        restore_from_png(recipe_file, "gan_interpolation", settings, model_task="gan_interpolation")
        run_history(settings, [walk], metadata, task="gan_interpolation", model_task="gan_interpolation")
    return settings
