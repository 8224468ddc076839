"""The GAN tab: walk through latent space from one seed's image to another's."""

import gradio as gr

import genart_playground as gp

from .. import limits
from ..adapters.gan_interpolation import METHODS
from . import common, explanations

EXAMPLES = [[0, 1, 16, "slerp", 1.0], [7, 42, 24, "lerp", 1.0], [3, 11, 16, "slerp", 0.7]]


def seconds_needed(seed_a, seed_b, model, frames, *rest, **kwargs) -> float:
    return 10 + 0.05 * (frames or 16)  # one batched forward pass of a small generator


@common.gpu(seconds_needed)
@common.user_errors
def interpolate(seed_a, seed_b, model, frames, method, truncation, progress=gr.Progress()):
    report = common.bridge(progress)
    report(0.0, "Loading the generator")
    result = gp.gan_interpolation(seed_a, seed_b, model=common.model_name(model), frames=frames, method=method,
                                  truncation=truncation, progress=report)
    common.show_warnings(result)
    frames = [common.recipe_png(image, {**result.metadata, "frame": i}) for i, image in enumerate(result.images)]
    return frames, common.write_output(result.gif, ".gif"), result.metadata


def build_tab():
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
                model = common.model_dropdown("gan", label="Generator")
                frames = gr.Slider(label="Frames", minimum=2, maximum=limits.MAX_FRAMES, step=1, value=16,
                                   info="How many images along the path, both ends included.")
                method = gr.Radio(label="Path", choices=list(METHODS), value="slerp",
                                  info="slerp follows the sphere where Gaussian latents live; lerp cuts across it.")
                truncation = gr.Slider(label="Truncation", minimum=0.05, maximum=1.0, step=0.05, value=1.0,
                                       info="Below 1 pulls latents to the mean: cleaner but less varied images.")
                run = gr.Button("Interpolate", variant="primary")
            with gr.Column():
                animation = gr.Image(label="Animation (GIF)", type="filepath", interactive=False, height=256)
                gallery = gr.Gallery(label="Frames, in order (each PNG carries its recipe)", format="png",
                                     type="filepath", columns=6, height="auto")
                metadata = gr.JSON(label="Recipe")
                code, card = common.recipe_panel()

        run.click(interpolate, [seed_a, seed_b, model, frames, method, truncation], [gallery, animation, metadata],
                  api_name="gan_interpolation", concurrency_id="gpu"
                  ).success(common.show_recipe, metadata, [code, card], api_visibility="private")
        gr.Examples(EXAMPLES, [seed_a, seed_b, frames, method, truncation], label="Example walks",
                    cache_examples=False)
    return {"seed_a": seed_a, "seed_b": seed_b, "model": model, "frames": frames, "method": method,
            "truncation": truncation}
