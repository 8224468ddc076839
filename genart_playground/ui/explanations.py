"""How each model works, in a few correct paragraphs beside the controls that show it."""

import gradio as gr

TEXT = {
    "text_to_image": (
        "**Diffusion.** In training, noise is added to images and the model learns to predict it; "
        "generating runs that backwards, removing noise step by step (the *Steps* box) from pure noise "
        "picked by the *Seed*."),
    "style_transfer": (
        "**Style transfer.** The picture is optimised so that its features match the content image's "
        "features and the Gram matrices (feature correlations) of the style image's features."),
    "gan_interpolation": (
        "**GAN.** A generator learned, against a discriminator, to turn a random latent vector into an "
        "image; nearby vectors give similar images, so a path between two seeds morphs one into the other."),
    "vae_reconstruction": (
        "**VAE.** An encoder squeezes the image into a small latent; a decoder draws it back. What is lost "
        "shows in the error map."),
}


def how_it_works(task: str) -> gr.Accordion:
    with gr.Accordion("How it works", open=False) as panel:
        gr.Markdown(TEXT[task])
    return panel
