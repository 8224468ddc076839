"""The VAE tab: squeeze an image through an autoencoder's latents and see what came back.

Its events, by api_name:
  vae_reconstruction  (image, model, latent_noise, seed) -> reconstruction, error map, latent channels
                      (one heat map per channel), metrics, recipe
  vae_compare         (image, model, compare_model, latent_noise, seed) -> for each autoencoder its
                      reconstruction, error map and latent channels, then both metric sets as a list
  vae_walk            (image_a, image_b, model, frames) -> GIF, MP4, frames, recipe
"""

import gradio as gr

from .. import limits, uploads
from ..models import registry
from ..models.loading import availability
from . import (errors, example_sets, handlers, lanes, model_menu, output_files, progress_bar, recipe_views, run_buttons,
               tab_page, zero_gpu)
from .settings_flow import TabSettings, restore_from_png, run_history
from .image_input import upload_image

EXAMPLES = ["grace_hopper.jpg", "shapes.png", "stripes.png", "photo_like.png"]  # licences: examples/images/LICENSES.md
NONE = "none"  # "Compare with" when there is nothing to compare with


def seconds_needed(image, model, *rest, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=15, per_step=0)  # one encode and one decode, whatever the autoencoder


@errors.user_errors
def reconstruct(run, image, model, latent_noise=0.0, seed=0, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    image = uploads.open_image(image) if image is not None else None  # pixel count checked before decoding
    report(0.0, "Loading the autoencoder")
    result = errors.show_warnings(run["vae_reconstruction"](image, model=model_menu.model_name(model),
                                                            latent_noise=latent_noise, seed=seed, progress=report))
    return *pictures(result), rounded(result.metrics), result.metadata


def pictures(result) -> list[str]:
    """Reconstruction, error map and latent channels, as PNG files carrying the recipe."""
    return [output_files.recipe_png(image, result.metadata)
            for image in (result.images[0], result.error_map, result.latent_channels)]


def rounded(metrics: dict) -> dict:
    return {name: round(float(value), 4) for name, value in metrics.items()}


def comparison_seconds_needed(*args, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=25, per_step=0)  # two encodes and two decodes


@errors.user_errors
def compare(run, image, model, compare_model, latent_noise=0.0, seed=0, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    second = model_menu.model_name(compare_model)
    if second in (None, NONE):
        raise ValueError("Choose an autoencoder under *Compare with* first.")
    image = uploads.open_image(image) if image is not None else None
    report(0.0, "Loading the first autoencoder")
    results = []
    for i, name in enumerate((model_menu.model_name(model), second)):
        results.append(errors.show_warnings(run["vae_reconstruction"](
            image, model=name, latent_noise=latent_noise, seed=seed,
            progress=lambda f, message="", i=i: report((i + f) / 2, message))))
    both = [{"model": result.metadata["model"], **rounded(result.metrics)} for result in results]
    return *pictures(results[0]), *pictures(results[1]), both


def walk_seconds_needed(image_a, image_b, model, frames, *rest, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=10, per_step=2, count=frames or 8)  # one decode per frame


@errors.user_errors
def walk(run, image_a, image_b, model, frames, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    image_a = uploads.open_image(image_a, what="Image A") if image_a is not None else None
    image_b = uploads.open_image(image_b, what="Image B") if image_b is not None else None
    report(0.0, "Loading the autoencoder")
    result = errors.show_warnings(run["vae_walk"](image_a, image_b, model=model_menu.model_name(model), frames=frames,
                                                  progress=report))
    return output_files.walk_outputs(result)


def second_choice(first: str | None) -> str:
    """The autoencoder to compare with at first: the first other one that can run now, else none."""
    return next((name for name in runnable() if name != first), NONE)


def runnable() -> list[str]:
    """The autoencoders that can run now: built in, in a local folder, downloaded, or downloadable."""
    return [spec.name for spec in registry.models_for("vae_reconstruction") if availability(spec) != "missing"]


def build_tab(run: dict, family):
    """The tab; `run` holds the functions it calls, by name (vae_reconstruction, vae_walk)."""
    with tab_page.family_tab(family):
        with gr.Row():
            with gr.Column():
                image = upload_image(label="Image (large ones are shrunk, odd sizes padded)",
                                     sources=["upload", "clipboard"], height=256)
                model = model_menu.model_dropdown("vae_reconstruction", label="Autoencoder")
                with gr.Row():
                    latent_noise = gr.Slider(label="Latent noise", minimum=0.0, maximum=limits.MAX_LATENT_NOISE,
                                             step=0.05, value=0.0,
                                             info="Gaussian noise added to the latents before decoding, "
                                                  "× their standard deviation.")
                    seed = gr.Number(label="Noise seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                     info="Which noise; the same seed gives the same pixels.")
                run_button = gr.Button("Encode and decode", variant="primary", elem_classes=run_buttons.RUN_CLASS)
                metrics = gr.JSON(label="Metrics (PSNR in dB, SSIM out of 1, compression ratio ×)")
            with gr.Column():
                reconstruction = gr.Image(label="Reconstruction", type="filepath", format="png", interactive=False,
                                          height=256, elem_classes="pixel-art")
                with gr.Row():
                    error_map = gr.Image(label="Error per pixel (yellow: large)", type="filepath", format="png",
                                         interactive=False, height=200, elem_classes="pixel-art")
                    latents = gr.Image(label="Latent channels (a heat map each, scaled to its own range)",
                                       type="filepath", format="png", interactive=False, height=200)
                metadata = gr.JSON(label="Recipe")
                code, card = recipe_views.recipe_panel()
                recipe_file = recipe_views.recipe_file()

        with gr.Accordion("Compare two autoencoders", open=False):
            if len(runnable()) < 2:
                gr.Markdown("Only one autoencoder can run here now; download or register another to compare.")
            with gr.Row():
                compare_model = gr.Dropdown(choices=[(NONE, NONE), *model_menu.model_choices("vae_reconstruction")],
                                            value=second_choice(model.value),
                                            label="Compare with", allow_custom_value=True,
                                            info="A second autoencoder for the same image, noise and seed.")
                compare_run = gr.Button("Compare", elem_classes=run_buttons.RUN_CLASS)
            both_metrics = gr.JSON(label="Metrics of each (PSNR in dB, SSIM out of 1, compression ratio ×)")
            sides = []
            with gr.Row():
                for side in ("Autoencoder", "Compare with"):
                    with gr.Column():
                        sides += [gr.Image(label=f"{side}: reconstruction", type="filepath", format="png",
                                           interactive=False, height=200),
                                  gr.Image(label=f"{side}: error per pixel", type="filepath", format="png",
                                           interactive=False, height=160),
                                  gr.Image(label=f"{side}: latent channels", type="filepath", format="png",
                                           interactive=False, height=160)]

        with gr.Accordion("Walk between two images", open=False):
            gr.Markdown("Encode two images, walk the straight line between their latents and decode each step. "
                        "Image B is resized to image A's size (at most 256×256) so the latents line up.")
            with gr.Row():
                image_a = upload_image(label="Image A (the walk starts here, at its size)",
                                       sources=["upload", "clipboard"], height=200)
                image_b = upload_image(label="Image B (the walk ends here)", sources=["upload", "clipboard"],
                                       height=200)
                with gr.Column():
                    walk_frames = gr.Slider(label="Frames", minimum=2, maximum=limits.MAX_WALK_FRAMES, step=1, value=8,
                                            info="How many images along the path, both ends included.")
                    walk_run = gr.Button("Walk", elem_classes=run_buttons.RUN_CLASS)
            with gr.Row():
                walk_animation = gr.Image(label="Walk (GIF)", type="filepath", interactive=False, height=256,
                                          elem_classes="pixel-art")
                walk_video = gr.Video(label="Walk (MP4)", interactive=False, height=256, loop=True)
            walk_gallery = gr.Gallery(label="Frames, in order", format="png", type="filepath", columns=8,
                                      height="auto", interactive=False)
            walk_metadata = gr.JSON(label="Recipe")

        def comparable(picture, first, second, *rest):
            problems = {image: errors.UPLOAD_FIRST} if errors.is_empty(picture) else {}
            if model_menu.model_name(second) in (None, NONE):
                problems[compare_model] = "Choose a second autoencoder here first."
            return problems

        reconstruction_event = run_button.click(
            handlers.bind(reconstruct, run, seconds=seconds_needed), [image, model, latent_noise, seed],
            [reconstruction, error_map, latents, metrics, metadata], api_name="vae_reconstruction",
            concurrency_id=lanes.AUTOENCODER_LANE,
            validator=errors.required([image, model, latent_noise, seed], {image: errors.UPLOAD_FIRST}).validate)
        reconstruction_event.success(recipe_views.show_recipe, metadata, [code, card], api_visibility="private")
        compare_run.click(handlers.bind(compare, run, seconds=comparison_seconds_needed),
                          [image, model, compare_model, latent_noise, seed], [*sides, both_metrics],
                          api_name="vae_compare", concurrency_id=lanes.AUTOENCODER_LANE,
                          validator=errors.Requirements([image, model, compare_model, latent_noise, seed],
                                                        comparable).validate)
        walk_run.click(handlers.bind(walk, run, seconds=walk_seconds_needed), [image_a, image_b, model, walk_frames],
                       [walk_animation, walk_video, walk_gallery, walk_metadata],
                       api_name="vae_walk", concurrency_id=lanes.AUTOENCODER_LANE,
                       validator=errors.required([image_a, image_b, model, walk_frames],
                                                 {image_a: "Upload image A first: the walk starts there.",
                                                  image_b: "Upload image B first: the walk ends there."}).validate
                       ).success(recipe_views.show_recipe, walk_metadata, [code, card], api_visibility="private")
        example_sets.examples([[example_sets.example_image(name)] for name in EXAMPLES], [image], label="Example images")
        controls = {"model": model, "latent_noise": latent_noise, "seed": seed}
        settings = TabSettings(controls)
        settings.wire()
        restore_from_png(recipe_file, "vae_reconstruction", settings, model_task="vae_reconstruction")
        run_history(settings, [reconstruction_event], metadata, task="vae_reconstruction",
                    model_task="vae_reconstruction")
    return settings
