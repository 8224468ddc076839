"""The text-to-image tab: a prompt in, a gallery of PNG images and their recipe out."""

import gradio as gr

import genart_playground as gp

from .. import limits
from ..adapters.text_to_image import SCHEDULERS
from ..models import registry
from . import common

MODEL_DEFAULT = "model default"
EXAMPLE_PROMPTS = [
    ["a red circle on the left", 0],
    ["a large blue square on a black background", 1],
    ["a small yellow triangle at the top", 2],
    ["a purple diamond in the center on a gray background", 3],
]


def _own(value):
    """Empty, 0 and "model default" mean the model's own setting (no step count or size is 0)."""
    return None if value in (None, "", 0, MODEL_DEFAULT) else value


def seconds_needed(prompt, negative_prompt, model, scheduler, num_images, steps, guidance, width, height,
                   *rest, **kwargs) -> float:
    """ZeroGPU time for one request: loading, plus denoising steps scaled by pixels and images."""
    pixels = ((width or 512) * (height or 512)) / (512 * 512)
    return 20 + 0.2 * (steps or 25) * (num_images or 1) * pixels


@common.gpu(seconds_needed)
@common.user_errors
def generate(prompt, negative_prompt, model, scheduler, num_images, steps, guidance, width, height, seed,
             progress=gr.Progress()):
    report = common.bridge(progress)
    report(0.0, "Loading the model")
    result = gp.text_to_image(prompt, model=common.model_name(model), negative_prompt=negative_prompt or "",
                              num_images=num_images, steps=_own(steps), guidance=guidance,
                              width=_own(width), height=_own(height), seed=seed,
                              scheduler=_own(scheduler), progress=report)
    common.show_warnings(result)
    return result.images, result.metadata


def model_settings(model):
    """Show the chosen model's own settings (steps, guidance, size) in the boxes; nothing loads."""
    try:
        defaults = registry.resolve("text-to-image", common.model_name(model)).defaults
    except ValueError:
        defaults = {}
    return (defaults.get("steps"), defaults.get("guidance"), defaults.get("width"), defaults.get("height"),
            defaults.get("scheduler") or MODEL_DEFAULT)


def build_tab():
    with gr.Tab("Text to image"):
        gr.Markdown("Type a prompt and a diffusion model denoises random latents into an image that matches it. "
                    "The built-in model knows the shapes world: coloured circles, squares, triangles and diamonds.")
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(label="Prompt", value="a red circle on the left", lines=2,
                                    max_length=limits.MAX_PROMPT_CHARS, info="What the image should show.")
                negative_prompt = gr.Textbox(label="Negative prompt", value="", max_length=limits.MAX_PROMPT_CHARS,
                                             info="What to steer away from (ignored when guidance is 0).")
                model = common.model_dropdown("text-to-image")
                own_steps, own_guidance, own_width, own_height, own_scheduler = model_settings(model.value)
                with gr.Row():
                    steps = gr.Number(label="Steps", value=own_steps, precision=0, minimum=0,
                                      maximum=limits.MAX_STEPS, info="Denoising steps; 0 or empty: the model's own.")
                    guidance = gr.Number(label="Guidance", value=own_guidance, minimum=0,
                                         maximum=limits.MAX_GUIDANCE, step=0.5,
                                         info="How hard to follow the prompt; 0 turns it off.")
                    scheduler = gr.Dropdown(label="Scheduler", choices=[MODEL_DEFAULT, *SCHEDULERS],
                                            value=own_scheduler, info="The sampler that takes the denoising steps.")
                with gr.Row():
                    width = gr.Number(label="Width", value=own_width, precision=0, minimum=0, maximum=limits.MAX_SIZE,
                                      step=8, info="A multiple of 8; 0 or empty: the model's own.")
                    height = gr.Number(label="Height", value=own_height, precision=0, minimum=0,
                                       maximum=limits.MAX_SIZE, step=8,
                                       info="A multiple of 8; 0 or empty: the model's own.")
                with gr.Row():
                    num_images = gr.Slider(label="Images", minimum=1, maximum=limits.MAX_IMAGES, step=1, value=1,
                                           info="Image i uses seed + i.")
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                     info="Same seed and settings: same image.")
                run = gr.Button("Generate", variant="primary")
            with gr.Column():
                gallery = gr.Gallery(label="Images", format="png", type="pil", columns=2, height="auto")
                metadata = gr.JSON(label="Recipe (everything needed to make it again)")

        model.change(model_settings, model, [steps, guidance, width, height, scheduler], api_visibility="private")
        inputs = [prompt, negative_prompt, model, scheduler, num_images, steps, guidance, width, height, seed]
        run.click(generate, inputs, [gallery, metadata], api_name="text_to_image", concurrency_id="gpu")
        prompt.submit(generate, inputs, [gallery, metadata], api_visibility="private", concurrency_id="gpu")
        gr.Examples(EXAMPLE_PROMPTS, [prompt, seed], label="Prompts the built-in model knows", cache_examples=False)
