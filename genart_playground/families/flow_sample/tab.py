"""The normalizing-flow tab: samples at a temperature, exact likelihoods, the round trip and a walk.

Its events, by api_name:
  flow_sample        (prompt, model, temperature, num_images, seed) -> pictures, bits/dim, recipe
  flow_temperatures  (prompt, model, seed) -> the same seed's picture at a few temperatures, bits/dim of each
  flow_round_trip    (image, model) -> decoded picture, z at each scale, rebuilt from the coarse levels, metrics
  flow_likelihood    (image, model) -> bits/dim of the picture and of the reference pictures, most likely first
  flow_batch         (prompt, model, temperature, seed) -> a batch of samples, most likely first
  flow_walk          (image_a, image_b, model, frames) -> GIF, MP4, frames, recipe
  flow_points        (dataset, steps) -> density, bent grid, points and samples, the density as it learnt, NLL
"""

import gradio as gr

from ... import limits, uploads
from ...ui import (errors, example_sets, handlers, lanes, model_menu, output_files, progress_bar, recipe_views, run_buttons,
                   tab_page, zero_gpu)
from ...ui.image_input import upload_image
from ...ui.settings_flow import TabSettings, restore_from_png, run_history
from . import MAX_POINT_STEPS, POINT_SETS
from .references import reference_pictures

TEMPERATURES = (0.0, 0.35, 0.7, 1.0)  # side by side: the mean, cool, Glow's choice, the learnt spread
BATCH = 8  # samples ranked by likelihood
EXAMPLE_PROMPTS = ("a red circle on a gray background", "a large yellow triangle on the left on a black background",
                   "a small blue square at the top", "a purple diamond")
NEEDS_PROMPT = "Name a colour and a shape first, as in \"a red circle\"."


def seconds_needed(*args, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=10, per_step=0)  # a small flow: a likelihood is one pass per class


def captioned(result, labels: list[str]) -> list[tuple[str, str]]:
    return [(output_files.recipe_png(image, result.metadata), label) for image, label in zip(result.images, labels)]


@errors.user_errors
def sample(run, prompt, model, temperature, num_images, seed, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    result = errors.show_warnings(run["flow_sample"](prompt, model=model_menu.model_name(model),
                                                     temperature=temperature, num_images=num_images, seed=seed,
                                                     progress=report))
    bits = result.metrics["bits_per_dim"]
    return captioned(result, [f"{b:.3f} bits/dim" for b in bits]), {"bits_per_dim": bits}, result.metadata


@errors.user_errors
def temperatures(run, prompt, model, seed, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    pictures = []
    for temperature in TEMPERATURES:
        result = run["flow_sample"](prompt, model=model_menu.model_name(model), temperature=temperature, seed=seed,
                                    progress=lambda f, message="", t=len(pictures): report((t + f) / len(TEMPERATURES),
                                                                                          message))
        pictures += captioned(result, [f"T = {temperature}: {result.metrics['bits_per_dim'][0]:.3f} bits/dim"])
    return pictures


@errors.user_errors
def ranked_batch(run, prompt, model, temperature, seed, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    result = run["flow_sample"](prompt, model=model_menu.model_name(model), temperature=temperature,
                                num_images=min(BATCH, limits.MAX_IMAGES), seed=seed, progress=report)
    order = sorted(range(len(result.images)), key=lambda i: result.metrics["bits_per_dim"][i])
    labels = ["most likely" if rank == 0 else "least likely" if rank == len(order) - 1 else f"#{rank + 1}"
              for rank in range(len(order))]
    return [(output_files.recipe_png(result.images[i], result.metadata),
             f"{label}: {result.metrics['bits_per_dim'][i]:.3f} bits/dim") for label, i in zip(labels, order)]


@errors.user_errors
def round_trip(run, image, model, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    image = uploads.open_image(image) if image is not None else None
    result = errors.show_warnings(run["flow_round_trip"](image, model=model_menu.model_name(model), progress=report))
    shapes = result.metadata["z_shapes"]
    z_maps = [(output_files.image_file(picture), f"z, {'×'.join(map(str, shape))}" + (" (top)" if i == len(shapes) - 1
                                                                                       else ""))
              for i, (picture, shape) in enumerate(zip(result.z_maps, shapes))]
    levels = [(output_files.image_file(picture), f"from the coarsest {kept} level{'s' if kept > 1 else ''}")
              for kept, picture in enumerate(result.from_levels, 1)]
    return output_files.recipe_png(result.images[0], result.metadata), z_maps, levels, result.metrics, result.metadata


@errors.user_errors
def likelihoods(run, image, model, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    named = dict(reference_pictures())
    if image is not None:
        named = {"your picture": uploads.open_image(image), **named}
    result = run["flow_likelihood"](list(named.values()), model=model_menu.model_name(model), progress=report)
    bits = result.metrics["bits_per_dim"]
    order = sorted(range(len(bits)), key=bits.__getitem__)
    table = [[list(named)[i], bits[i], result.metadata["most_likely_class"][i]] for i in order]
    return [(output_files.image_file(result.images[i]), f"{bits[i]:.3f} bits/dim") for i in order], table


@errors.user_errors
def train_points(run, dataset, steps, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    result = run["flow_points"](dataset, steps=steps, progress=report)
    first, last = result.metrics["nll"]
    return (*(output_files.image_file(image) for image in result.images), output_files.write_output(result.gif, ".gif"),
            {"nll_first_step": first, "nll_last_step": last})


@errors.user_errors
def walk(run, image_a, image_b, model, frames, progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    image_a = uploads.open_image(image_a, what="Image A") if image_a is not None else None
    image_b = uploads.open_image(image_b, what="Image B") if image_b is not None else None
    result = errors.show_warnings(run["flow_walk"](image_a, image_b, model=model_menu.model_name(model), frames=frames,
                                                   progress=report))
    return output_files.walk_outputs(result)


def prompt_given(inputs: list, prompt) -> errors.Requirements:
    return errors.required(inputs, {prompt: NEEDS_PROMPT})


def build_tab(run: dict, family):
    """The tab; `run` holds the functions it calls, by name (flow_sample, flow_likelihood, ...)."""
    with tab_page.family_tab(family):
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(label="Prompt", value="a red circle on a gray background", max_lines=1,
                                    max_length=limits.MAX_PROMPT_CHARS,
                                    info="A colour, a shape and (optionally) a background, in the shapes world's words.")
                model = model_menu.model_dropdown("flow_sample", label="Model")
                temperature = gr.Slider(label="Temperature", minimum=0.0, maximum=1.2, step=0.05, value=0.7,
                                        info="z's spread before decoding: 0 is each class's mean, 1 the learnt spread.")
                with gr.Row():
                    num_images = gr.Slider(label="Images", minimum=1, maximum=limits.MAX_IMAGES, step=1, value=4,
                                           info="How many pictures, each with its own bits/dim.")
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                     info="Picture i comes from seed + i.")
                run_button = gr.Button("Sample", variant="primary", elem_classes=run_buttons.RUN_CLASS)
                bits = gr.JSON(label="Bits per dimension of each picture (lower: more likely)")
            with gr.Column():
                gallery = gr.Gallery(label="Samples", type="filepath", format="png", columns=4, height="auto",
                                     elem_classes="pixel-art")
                metadata = gr.JSON(label="Recipe")
                code, card = recipe_views.recipe_panel()
                recipe_file = recipe_views.recipe_file()

        with gr.Accordion("Temperature side by side, and a batch ranked by likelihood", open=False):
            with gr.Row():
                temperature_run = gr.Button("Compare temperatures", elem_classes=run_buttons.RUN_CLASS)
                batch_run = gr.Button("Rank a batch by likelihood", elem_classes=run_buttons.RUN_CLASS)
            side_by_side = gr.Gallery(label="One seed, several temperatures (bits/dim under each)", type="filepath",
                                      format="png", columns=len(TEMPERATURES), height="auto", elem_classes="pixel-art")
            ranked = gr.Gallery(label="A batch, most likely first", type="filepath", format="png", columns=BATCH,
                                height="auto", elem_classes="pixel-art")

        with gr.Accordion("Encode and decode: invertible, exactly", open=False):
            with gr.Row():
                with gr.Column():
                    image = upload_image(label="Picture (squared and resized to the model's size)",
                                         sources=["upload", "clipboard"], height=200)
                    with gr.Row():
                        round_trip_run = gr.Button("Encode and decode", elem_classes=run_buttons.RUN_CLASS)
                        likelihood_run = gr.Button("Measure likelihood", elem_classes=run_buttons.RUN_CLASS)
                    metrics = gr.JSON(label="Round trip: largest pixel error (0..1) and bits/dim")
                with gr.Column():
                    decoded = gr.Image(label="Decoded from z", type="filepath", format="png", interactive=False,
                                       height=200, elem_classes="pixel-art")
                    z_maps = gr.Gallery(label="z at each scale (size per position; finest first)", type="filepath",
                                        columns=3, height="auto", elem_classes="pixel-art")
                    levels = gr.Gallery(label="Rebuilt from the coarsest levels' z alone (the rest at their mean)",
                                        type="filepath", columns=3, height="auto", elem_classes="pixel-art")
            likelihood_gallery = gr.Gallery(label="Most likely first: your picture beside a shapes picture, a plain "
                                                  "background, noise and a photo", type="filepath", columns=5,
                                            height="auto", elem_classes="pixel-art")
            likelihood_table = gr.Dataframe(headers=["picture", "bits/dim", "most likely class"], interactive=False)

        with gr.Accordion("Walk between two pictures", open=False):
            with gr.Row():
                image_a = upload_image(label="Image A (the walk starts exactly here)", sources=["upload", "clipboard"],
                                       height=200)
                image_b = upload_image(label="Image B (and ends exactly here)", sources=["upload", "clipboard"],
                                       height=200)
                with gr.Column():
                    frames = gr.Slider(label="Frames", minimum=2, maximum=limits.MAX_WALK_FRAMES, step=1, value=8,
                                       info="How many pictures along the path, both ends included.")
                    walk_run = gr.Button("Walk", elem_classes=run_buttons.RUN_CLASS)
            with gr.Row():
                walk_animation = gr.Image(label="Walk (GIF)", type="filepath", interactive=False, height=200,
                                          elem_classes="pixel-art")
                walk_video = gr.Video(label="Walk (MP4)", interactive=False, height=200, loop=True)
            walk_gallery = gr.Gallery(label="Frames, in order", format="png", type="filepath", columns=8,
                                      height="auto", interactive=False)
            walk_metadata = gr.JSON(label="Recipe")

        with gr.Accordion("A flow on 2-D points: watch it learn", open=False):
            gr.Markdown("A RealNVP with 8 couplings learns a cloud of points in a few seconds. Left: the density "
                        "p(x) it gives the plane; middle: a square grid of z bent into x; right: training points "
                        "(gray) and its samples (orange). A flow bends the plane but cannot tear it: two rings need "
                        "more steps than two moons, and a thin bridge stays between them.")
            with gr.Row():
                dataset = gr.Radio(label="Points", choices=list(POINT_SETS), value=POINT_SETS[0],
                                   info="The cloud to learn.")
                point_steps = gr.Slider(label="Training steps", minimum=50, maximum=MAX_POINT_STEPS, step=50,
                                        value=400, info="Each step: 256 fresh points, one Adam step.")
                points_run = gr.Button("Train", elem_classes=run_buttons.RUN_CLASS)
            with gr.Row():
                density = gr.Image(label="Density p(x)", type="filepath", interactive=False, height=256)
                grid = gr.Image(label="z's grid, bent into x", type="filepath", interactive=False, height=256)
                cloud = gr.Image(label="Points and samples", type="filepath", interactive=False, height=256)
                learning = gr.Image(label="The density as it learnt", type="filepath", interactive=False, height=256)
            nll = gr.JSON(label="Negative log-likelihood, nats per point")

        example_sets.examples([[text] for text in EXAMPLE_PROMPTS], [prompt], label="Example prompts")
        sample_inputs = [prompt, model, temperature, num_images, seed]
        sample_event = run_button.click(
            handlers.bind(sample, run, seconds=seconds_needed), sample_inputs, [gallery, bits, metadata],
            api_name="flow_sample", concurrency_id=lanes.GAN_LANE,
            validator=prompt_given(sample_inputs, prompt).validate)
        sample_event.success(recipe_views.show_recipe, metadata, [code, card], api_visibility="private")
        temperature_run.click(handlers.bind(temperatures, run, seconds=seconds_needed), [prompt, model, seed],
                              side_by_side, api_name="flow_temperatures", concurrency_id=lanes.GAN_LANE,
                              validator=prompt_given([prompt, model, seed], prompt).validate)
        batch_run.click(handlers.bind(ranked_batch, run, seconds=seconds_needed), [prompt, model, temperature, seed],
                        ranked, api_name="flow_batch", concurrency_id=lanes.GAN_LANE,
                        validator=prompt_given([prompt, model, temperature, seed], prompt).validate)
        picture_needed = errors.required([image, model], {image: errors.UPLOAD_FIRST}).validate
        round_trip_run.click(handlers.bind(round_trip, run, seconds=seconds_needed), [image, model],
                             [decoded, z_maps, levels, metrics, metadata], api_name="flow_round_trip",
                             concurrency_id=lanes.GAN_LANE, validator=picture_needed
                             ).success(recipe_views.show_recipe, metadata, [code, card], api_visibility="private")
        likelihood_run.click(handlers.bind(likelihoods, run, seconds=seconds_needed), [image, model],
                             [likelihood_gallery, likelihood_table], api_name="flow_likelihood",
                             concurrency_id=lanes.GAN_LANE)
        points_run.click(handlers.bind(train_points, run, seconds=seconds_needed), [dataset, point_steps],
                         [density, grid, cloud, learning, nll], api_name="flow_points", concurrency_id=lanes.GAN_LANE)
        walk_run.click(handlers.bind(walk, run, seconds=seconds_needed), [image_a, image_b, model, frames],
                       [walk_animation, walk_video, walk_gallery, walk_metadata], api_name="flow_walk",
                       concurrency_id=lanes.GAN_LANE,
                       validator=errors.required([image_a, image_b, model, frames],
                                                 {image_a: "Upload image A first: the walk starts there.",
                                                  image_b: "Upload image B first: the walk ends there."}).validate
                       ).success(recipe_views.show_recipe, walk_metadata, [code, card], api_visibility="private")
        settings = TabSettings({"prompt": prompt, "model": model, "temperature": temperature,
                                "num_images": num_images, "seed": seed})
        settings.wire()
        restore_from_png(recipe_file, "flow_sample", settings, model_task="flow_sample")
        run_history(settings, [sample_event], metadata, task="flow_sample", model_task="flow_sample")
    return settings
