"""The text-to-image tab: a prompt in, a gallery of PNG images and their recipe out."""

import gradio as gr

from .. import limits
from ..schedulers import SCHEDULERS
from ..models import registry
from . import (errors, example_sets, handlers, lanes, model_menu, output_files, progress_bar, recipe_views, run_buttons,
               tab_page, zero_gpu)
from . import transformer_views as views
from .settings_flow import Cascade, TabSettings, restore_from_png, run_history

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


def is_token_model(model) -> bool:
    """A token model (it writes tokens: temperature and top-k, no steps or scheduler); nothing loads."""
    try:
        return registry.can(registry.resolve("text_to_image", model_menu.model_name(model)), "write_tokens")
    except ValueError:
        return False


def family_settings(model, steps, scheduler, width, height, temperature, top_k) -> dict:
    """The settings the chosen model's family has: the boxes of the other family are left out, not sent."""
    if is_token_model(model):
        return {"temperature": _own(temperature), "top_k": _own(top_k), "width": _own(width), "height": _own(height)}
    return {"steps": _own(steps), "scheduler": _own(scheduler), "width": _own(width), "height": _own(height)}


def sampler_settings(temperature, top_k) -> dict:
    """A token model's sampler settings, kept for generate (they are not inputs of /text_to_image)."""
    return {"temperature": temperature, "top_k": top_k}


def seconds_needed(prompt, negative_prompt, model, scheduler, num_images, steps, guidance, width, height,
                   *rest, **kwargs) -> float:
    """ZeroGPU time for one request: loading, plus denoising steps scaled by pixels and images."""
    return zero_gpu.gpu_seconds(load=20, per_step=0.2, steps=steps, default_steps=25, count=num_images,
                              width=width, height=height)


@errors.user_errors
def generate(run, prompt, negative_prompt, model, scheduler, num_images, steps, guidance, width, height, seed,
             sampler=None, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    sampler = sampler or {}
    temperature, top_k = sampler.get("temperature"), sampler.get("top_k")
    report(0.0, "Loading the model")
    result = run["text_to_image"](prompt, model=model_menu.model_name(model), negative_prompt=negative_prompt or "",
                                  num_images=num_images, guidance=guidance, seed=seed, progress=report,
                                  **family_settings(model, steps, scheduler, width, height, temperature, top_k))
    errors.show_warnings(result)
    return image_files(result.images, result.metadata), result.metadata


def image_files(images, metadata) -> list[str]:
    """Each image as a PNG carrying its own recipe: image i of a batch is seed + i on its own."""
    seed = metadata.get("seed", 0)
    return [output_files.recipe_png(image, {**metadata, "seed": seed + i, "num_images": 1})
            for i, image in enumerate(images)]


def timeline_seconds(prompt, negative_prompt, model, scheduler, steps, guidance, width, height,
                     *rest, **kwargs) -> float:
    """One run, plus decoding two previews per step."""
    return zero_gpu.gpu_seconds(load=20, per_step=0.4, steps=steps, default_steps=25, width=width, height=height)


@errors.user_errors
def timeline(run, prompt, negative_prompt, model, scheduler, steps, guidance, width, height, seed,
             progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    report(0.0, "Loading the model")
    result = run["denoising_timeline"](prompt, model=model_menu.model_name(model),
                                       negative_prompt=negative_prompt or "", steps=_own(steps), guidance=guidance,
                                       width=_own(width), height=_own(height), seed=seed,
                                       scheduler=_own(scheduler), progress=report)
    errors.show_warnings(result)
    # The per-step pictures go to galleries, and their files to server-side state (gr.State): the step
    # slider shows them from there, so moving it needs no model call and reads no path a client sends.
    steps = {"noisy": [output_files.image_file(image) for image in result.noisy],
             "predicted": [output_files.image_file(image) for image in result.predicted],
             "guidance": [output_files.image_file(image) for image in result.guidance_maps],
             "final": output_files.recipe_png(result.images[0], result.metadata), "recipe": result.metadata}
    return (steps["noisy"], steps["predicted"], steps["guidance"], output_files.write_output(result.gif, ".gif"),
            result.metadata, steps)


def timeline_as_result(steps):
    """After a timeline run, the tab's main picture and recipe are that run's (its final picture is
    text_to_image's, pixel for pixel), so the gallery, the recipe and Show code describe one run. Read
    from the timeline's server-side state, never from a path a client sends."""
    steps = steps or {}
    if not steps.get("final"):
        return gr.update(), gr.update()
    return [steps["final"]], steps["recipe"]


def last_step(steps):
    """The step slider spans the timeline just made (`steps`, its server-side state: step 0 is the pure
    noise), and starts at its last step, the nearest to the finished image."""
    last = len((steps or {}).get("noisy", [])) - 1
    return gr.update(maximum=max(last, 1), value=max(last, 0), interactive=last > 0)


def show_step(step, steps):
    """Step `step` (from 0, the pure noise) of a timeline already made: its pictures, from the files the
    timeline wrote."""
    def pick(files):
        index = int(step or 0)
        return files[index] if files and 0 <= index < len(files) else None
    steps = steps or {}
    return pick(steps.get("noisy")), pick(steps.get("predicted")), pick(steps.get("guidance"))


def walk_seconds(prompt, negative_prompt, model, scheduler, steps, guidance, width, height, seed, prompt_b,
                 seed_b, frames, *rest, **kwargs) -> float:
    """One run per frame."""
    return zero_gpu.gpu_seconds(load=20, per_step=0.2, steps=steps, default_steps=25, count=frames or 8,
                              width=width, height=height)


@errors.user_errors
def walk(run, prompt, negative_prompt, model, scheduler, steps, guidance, width, height, seed, prompt_b, seed_b, frames,
         progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    report(0.0, "Loading the model")
    result = run["diffusion_walk"](prompt, prompt_b or None, seed_a=seed, seed_b=seed_b, frames=frames,
                                   model=model_menu.model_name(model), negative_prompt=negative_prompt or "",
                                   steps=_own(steps), guidance=guidance, width=_own(width), height=_own(height),
                                   scheduler=_own(scheduler), progress=report)
    errors.show_warnings(result)
    return output_files.walk_outputs(result)


SETTINGS = ["prompt", "negative_prompt", "model", "scheduler", "steps", "guidance", "width", "height", "seed",
            "temperature", "top_k"]


def recipe_settings(recipe: dict) -> dict:
    """The recipe's values for the controls; a setting it lacks is left out (its control keeps its value)."""
    settings = recipe_views.recipe_values(recipe, SETTINGS, model_task="text_to_image")
    if "scheduler" in settings and settings["scheduler"] not in SCHEDULERS:
        settings["scheduler"] = MODEL_DEFAULT  # the model's own scheduler, recorded by its class name
    return settings


def model_settings(model) -> dict:
    """The chosen model's own settings (steps, guidance, size, scheduler), shown in the boxes; nothing loads."""
    try:
        defaults = registry.resolve("text_to_image", model_menu.model_name(model)).defaults
    except ValueError:
        defaults = {}
    return {"steps": defaults.get("steps"), "guidance": defaults.get("guidance"), "width": defaults.get("width"),
            "height": defaults.get("height"), "scheduler": defaults.get("scheduler") or MODEL_DEFAULT,
            "temperature": defaults.get("temperature"), "top_k": defaults.get("top_k")}


# A new model brings its own steps, guidance, size and scheduler (a token model: temperature and top-k).
CASCADES = [Cascade("model", ("model",), ("steps", "guidance", "width", "height", "scheduler", "temperature", "top_k"),
                    model_settings)]


# What the built-in model knows (its tokenizer is exactly these words: tests/test_text_to_image.py holds them
# to shapes.vocabulary()); anything else gets a warning beside the result.
KNOWN_WORDS = ("**What the built-in model knows** (64×64 pictures, 26 words; any other word is ignored and the "
               "result says so): a *small* or *large* *red*, *orange*, *yellow*, *green*, *blue* or *purple* "
               "*circle*, *square*, *triangle* or *diamond*, *on the left*, *on the right*, *in the center*, "
               "*at the top* or *at the bottom*, *on a* *white*, *black* or *gray* *background*.")


def build_tab(run: dict, family):
    """The tab; `run` holds the functions it calls, by name (text_to_image, denoising_timeline, diffusion_walk)."""
    generate_ = handlers.bind(generate, run, seconds=seconds_needed)
    timeline_ = handlers.bind(timeline, run, seconds=timeline_seconds)
    walk_ = handlers.bind(walk, run, seconds=walk_seconds)
    with tab_page.family_tab(family, more="\n\n" + KNOWN_WORDS):
        with gr.Row():
            with gr.Column():
                # One line that grows to 4: Enter generates, Shift+Enter starts a new line (as in other generators).
                prompt = gr.Textbox(label="Prompt", value="a red circle on the left", lines=1, max_lines=4,
                                    max_length=limits.MAX_PROMPT_CHARS, info="What the image should show.")
                negative_prompt = gr.Textbox(label="Negative prompt", value="", max_length=limits.MAX_PROMPT_CHARS,
                                             info="What to steer away from (ignored when guidance is 0).")
                model = model_menu.model_dropdown("text_to_image")
                own = model_settings(model.value)
                with gr.Row():
                    steps = gr.Number(label="Steps", value=own["steps"], precision=0, minimum=0,
                                      maximum=limits.MAX_STEPS, info="Denoising steps; 0 or empty: the model's own.")
                    guidance = gr.Number(label="Guidance", value=own["guidance"], minimum=0,
                                         maximum=limits.MAX_GUIDANCE, step=0.5,
                                         info="How hard to follow the prompt; 0 turns it off.")
                    scheduler = gr.Dropdown(label="Scheduler", choices=[MODEL_DEFAULT, *SCHEDULERS],
                                            value=own["scheduler"], info="The sampler that takes the denoising steps.")
                with gr.Row():
                    width = gr.Number(label="Width", value=own["width"], precision=0, minimum=0,
                                      maximum=limits.MAX_SIZE, step=8, info="A multiple of 8; 0 or empty: the model's own.")
                    height = gr.Number(label="Height", value=own["height"], precision=0, minimum=0,
                                       maximum=limits.MAX_SIZE, step=8,
                                       info="A multiple of 8; 0 or empty: the model's own.")
                with gr.Row():
                    temperature = gr.Number(label="Temperature", value=own["temperature"], minimum=0,
                                            maximum=limits.TEMPERATURE_RANGE[1], step=0.1,
                                            info="Token models only: how adventurous each token's draw is.")
                    top_k = gr.Number(label="Top-k", value=own["top_k"], precision=0, minimum=0, maximum=limits.MAX_TOP_K,
                                      info="Token models only: draw from the k likeliest codes.")
                with gr.Row():
                    num_images = gr.Slider(label="Images", minimum=1, maximum=limits.MAX_IMAGES, step=1, value=1,
                                           info="Image i uses seed + i.")
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                     info="Same seed and settings: same image.")
                run_button, stop = run_buttons.run_button("Generate", variant="primary")
            with gr.Column():
                gallery = gr.Gallery(label="Images (each PNG carries its recipe)", format="png", type="filepath",
                                     columns=2, height="auto", interactive=False)
                notes = gr.Markdown(visible=False, elem_id="t2i-warnings")  # the result's warnings, beside it
                metadata = gr.JSON(label="Recipe (everything needed to make it again)")
                *code, card = recipe_views.recipe_panel(diffusers=True)
                recipe_file = recipe_views.recipe_file()

        with gr.Accordion("Denoising timeline", open=False):
            gr.Markdown("The same image, one denoising step at a time, from step 0, the pure noise: the noisy "
                        "latents the model sees at each step, the clean image it predicts from them (x0), and "
                        "where the prompt pulls hardest "
                        "(the difference between the model's prediction with and without the prompt; "
                        "only when guidance is above 1). Uses the settings above, with one image.")
            timeline_run, timeline_stop = run_buttons.run_button("Show the denoising steps")
            step = gr.Slider(label="Step", minimum=0, maximum=1, step=1, value=0, interactive=False,
                             info="Which denoising step to show (0: the pure noise); no model runs when you move it.")
            with gr.Row():
                noisy_image = gr.Image(label="Noisy latents the model sees at this step", type="filepath", interactive=False,
                                       height=256, elem_classes="pixel-art")
                predicted_image = gr.Image(label="Predicted clean image (x0)", type="filepath", interactive=False,
                                           height=256, elem_classes="pixel-art")
                guidance_image = gr.Image(label="Where guidance pulls (|with prompt − without|)", type="filepath",
                                          interactive=False, height=256, elem_classes="pixel-art")
            timeline_notes = gr.Markdown(visible=False, elem_id="timeline-warnings")
            timeline_gif = gr.Image(label="Timeline (noisy | predicted, per step; it plays here)", type="filepath",
                                    interactive=False, height=256, elem_classes="pixel-art")
            with gr.Accordion("Every step", open=False):
                noisy_steps = gr.Gallery(label="Noisy latents", format="png", type="filepath", columns=8,
                                         height="auto", interactive=False)
                predicted_steps = gr.Gallery(label="Predicted clean images", format="png", type="filepath",
                                             columns=8, height="auto", interactive=False)
                guidance_steps = gr.Gallery(label="Guidance maps", format="png", type="filepath", columns=8,
                                            height="auto", interactive=False)
                timeline_metadata = gr.JSON(label="Timeline recipe")

        with gr.Accordion("Walk between two prompts or seeds", open=False):
            gr.Markdown("Frames from the image above (prompt and seed) to the image of prompt B and seed B: the "
                        "starting noise moves along the sphere between the two seeds' noise, the prompt's "
                        "embedding in a straight line. The first and last frames are the two images on their own.")
            with gr.Row():
                prompt_b = gr.Textbox(label="Prompt B", value="a blue square on the right", lines=1,
                                      max_length=limits.MAX_PROMPT_CHARS,
                                      info="The last frame's prompt; empty: the prompt above.")
                seed_b = gr.Number(label="Seed B", value=1, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                   info="The last frame's seed; empty: the seed above.")
                walk_frames = gr.Slider(label="Frames", minimum=2, maximum=limits.MAX_FRAMES, step=1, value=8,
                                        info="Images along the way, both ends included; each is a full run.")
            walk_run, walk_stop = run_buttons.run_button("Walk")
            with gr.Row():
                walk_animation = gr.Image(label="Animation (GIF)", type="filepath", interactive=False, height=256,
                                          elem_classes="pixel-art")
                walk_video = gr.Video(label="Video (MP4)", format="mp4", interactive=False, height=256)
            walk_gallery = gr.Gallery(label="Frames, in order", format="png", type="filepath", columns=8,
                                      height="auto", interactive=False)
            walk_metadata = gr.JSON(label="Walk recipe")

        views.token_views(run, prompt, negative_prompt, model, guidance, seed, temperature, top_k)
        views.comparison_view(run, prompt, seed)
        # A token model's temperature and top-k reach generate through server-side state, not as inputs
        # of the endpoint: /text_to_image keeps its ten inputs for API clients (which get the model's own
        # sampler settings; token_timeline and the Python API take them).
        sampler = gr.State({})
        for box in (temperature, top_k):
            box.change(sampler_settings, [temperature, top_k], sampler,
                       api_visibility="private", queue=False, show_progress="hidden")
        inputs = [prompt, negative_prompt, model, scheduler, num_images, steps, guidance, width, height, seed, sampler]
        # The code and card follow from the metadata in a second, private step: the API's outputs stay as they were.
        generations = (run_button.click(generate_, inputs, [gallery, metadata], api_name="text_to_image",
                                        concurrency_id=lanes.LONG_LANE),
                       prompt.submit(generate_, inputs, [gallery, metadata], api_visibility="private",
                                     concurrency_id=lanes.LONG_LANE))
        for event in generations:
            event.success(recipe_views.show_recipe_with_diffusers, metadata, [*code, card], api_visibility="private")
            event.success(recipe_views.warnings_note, metadata, notes, api_visibility="private", queue=False)
        run_buttons.stoppable(run_button, stop, *generations)
        step_pictures = [noisy_image, predicted_image, guidance_image]
        galleries = [noisy_steps, predicted_steps, guidance_steps]
        timeline_inputs = [prompt, negative_prompt, model, scheduler, steps, guidance, width, height, seed]
        made = gr.State(None)  # the timeline's step files, kept on the server for the step slider
        timeline_event = timeline_run.click(timeline_, timeline_inputs,
                                            [*galleries, timeline_gif, timeline_metadata, made],
                                            api_name="denoising_timeline", concurrency_id=lanes.LONG_LANE)
        run_buttons.stoppable(timeline_run, timeline_stop, timeline_event)
        timeline_event.success(timeline_as_result, made, [gallery, metadata], api_visibility="private", queue=False
                               ).success(recipe_views.show_recipe_with_diffusers, metadata, [*code, card],
                                         api_visibility="private")
        timeline_event.success(recipe_views.warnings_note, timeline_metadata, timeline_notes, api_visibility="private",
                               queue=False)
        timeline_event.success(last_step, made, step, api_visibility="private"
                               ).success(show_step, [step, made], step_pictures, api_visibility="private")
        step.input(show_step, [step, made], step_pictures, api_visibility="private")
        walking = walk_run.click(walk_, [*timeline_inputs, prompt_b, seed_b, walk_frames],
                                 [walk_animation, walk_video, walk_gallery, walk_metadata],
                                 api_name="diffusion_walk", concurrency_id=lanes.LONG_LANE)
        walking.success(recipe_views.show_recipe_with_diffusers, walk_metadata, [*code, card], api_visibility="private")
        run_buttons.stoppable(walk_run, walk_stop, walking)
        example_sets.examples(EXAMPLE_PROMPTS, [prompt, seed], label="Prompts the built-in model knows")
        settings = TabSettings({"prompt": prompt, "negative_prompt": negative_prompt, "model": model,
                                "scheduler": scheduler, "num_images": num_images, "steps": steps, "guidance": guidance,
                                "width": width, "height": height, "seed": seed, "temperature": temperature,
                                "top_k": top_k},
                               CASCADES, from_recipe=recipe_settings)
        settings.wire()
        restore_from_png(recipe_file, "text_to_image", settings, model_task="text_to_image")
        run_history(settings, generations, metadata, task="text_to_image", model_task="text_to_image")
    return settings
