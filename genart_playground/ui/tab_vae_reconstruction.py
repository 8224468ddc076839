"""The VAE tab: squeeze an image through an autoencoder's latents and see what came back."""

import gradio as gr

import genart_playground as gp

from .. import uploads
from . import common, explanations
from .image_input import upload_image

EXAMPLES = ["shapes.png", "stripes.png", "photo_like.png"]


def seconds_needed(image, model, *rest, **kwargs) -> float:
    return 15  # one encode and one decode, whatever the autoencoder


@common.gpu(seconds_needed)
@common.user_errors
def reconstruct(image, model, progress=gr.Progress()):
    report = common.bridge(progress)
    image = uploads.open_image(image) if image is not None else None  # pixel count checked before decoding
    report(0.0, "Loading the autoencoder")
    result = common.show_warnings(gp.vae_reconstruction(image, model=common.model_name(model), progress=report))
    metrics = {name: round(float(value), 4) for name, value in result.metrics.items()}
    images = [common.recipe_png(image, result.metadata) if image is not None else None
              for image in (result.images[0], result.error_map, result.latent_channels)]
    return *images, metrics, result.metadata


def build_tab():
    with gr.Tab("VAE reconstruction", id="vae_reconstruction"):
        gr.Markdown("An autoencoder squeezes the image into a small grid of latent numbers and rebuilds it. "
                    "Latent diffusion models work in that latent space; here you see what it keeps and what it loses.")
        explanations.how_it_works("vae_reconstruction")
        with gr.Row():
            with gr.Column():
                image = upload_image(label="Image (large ones are shrunk, odd sizes padded)",
                                     sources=["upload", "clipboard"], height=256)
                model = common.model_dropdown("vae", label="Autoencoder")
                run = gr.Button("Encode and decode", variant="primary")
                metrics = gr.JSON(label="Metrics (PSNR in dB, SSIM out of 1, compression ratio ×)")
            with gr.Column():
                reconstruction = gr.Image(label="Reconstruction", type="filepath", format="png", interactive=False,
                                          height=256)
                with gr.Row():
                    error_map = gr.Image(label="Error per pixel (yellow: large)", type="filepath", format="png",
                                         interactive=False, height=200)
                    latents = gr.Image(label="Latent channels", type="filepath", format="png", interactive=False,
                                       height=200)
                metadata = gr.JSON(label="Recipe")
                code, card = common.recipe_panel()

        run.click(reconstruct, [image, model], [reconstruction, error_map, latents, metrics, metadata],
                  api_name="vae_reconstruction", concurrency_id="gpu"
                  ).success(common.show_recipe, metadata, [code, card], api_visibility="private")
        gr.Examples([[common.example_image(name)] for name in EXAMPLES], [image], label="Example images",
                    cache_examples=False)
    return {"model": model}
