"""The evaluation lab's tab: judge one or more models on a prompt set, and draw X/Y grids.

Its events, by api_name:
  evaluate  (models, prompt_set, prompts, samples_per_prompt, seed) -> report card (Markdown), one bar
            chart per headline metric across the models, the worst prompts' pictures, the combinations'
            histogram (mode collapse), the per-prompt table and the recipe; streamed model by model
  xy_grid   (model, x, x_values, y, y_values, prompt, seed, steps, guidance) -> the labelled grid and
            the checker's verdict per cell
"""

import gradio as gr
import pandas as pd

from .. import limits
from ..families.evaluate import DRAWS_WITH, GRID_AXES
from ..metrics.world import PROMPT_SETS
from ..models import registry
from . import (errors, handlers, lanes, model_menu, output_files, progress_bar, recipe_views, run_buttons, tab_page,
               zero_gpu)
from .settings_flow import TabSettings
from .streaming import Streamed

# The report card: each headline metric, which way is better, and what it means in one line.
HEADLINE = {
    "fid": ("lower", "FID: distance between the feature statistics of these pictures and of real ones"),
    "kid": ("lower", "KID: the same question, unbiased on small sets"),
    "precision": ("higher", "Precision: share of pictures that look like some real picture"),
    "recall": ("higher", "Recall: share of real pictures that some generated picture resembles"),
    "clean": ("higher", "Clean: share the checker reads as one clean shape on a flat background"),
    "prompt_consistency": ("higher", "Prompt consistency: share showing everything their prompt names"),
    "diversity": ("higher", "Diversity: spread of one prompt's pictures, over the real pictures' own (1 = as varied)"),
    "controllability": ("higher", "Controllability: one word changed, seed kept: only that attribute changed"),
    "seconds_per_picture": ("lower", "Seconds per picture, on this machine"),
}
MORE = {
    "density": "Density: precision counted with multiplicity (robust to outliers)",
    "coverage": "Coverage: share of real pictures with a generated one close by",
    "combination_coverage": "Combinations: share of the world's 72 colour×shape×background combinations seen",
    "evaluations_per_picture": "Network evaluations per picture (denoising steps, ×2 with guidance)",
    "clip_score": "CLIP score: 100 × the cosine of picture and prompt in CLIP's space (when CLIP is cached)",
}
PROMPT_SET_CHOICES = [("Standard: 20 training combinations", "standard"),
                      ("Held out: 8 prompts of the 4 combinations never trained on", "heldout"),
                      ("The prompts typed below", "typed")]
WORST_SHOWN = 4  # prompts shown with their pictures, worst first, per model


def seconds_needed(models, prompt_set, prompts, samples_per_prompt, seed, *rest, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=20, per_step=0.5, count=(samples_per_prompt or 4) * 20 * len(models or [1]))


def _prompts(prompt_set: str, typed: str):
    if prompt_set != "typed":
        return prompt_set
    prompts = [line.strip() for line in (typed or "").splitlines() if line.strip()]
    if not prompts:
        raise gr.Error("Type at least one prompt, one per line, or pick a prompt set.", print_exception=False)
    return prompts


def report_card(results: dict) -> str:
    """The headline metrics as a Markdown table, one column per model, with what each means."""
    if not results:
        return ""
    names = list(results)
    lines = ["| Metric | " + " | ".join(f"`{name}`" for name in names) + " |", "|---|" + "---|" * len(names)]
    for key, (better, meaning) in [*HEADLINE.items(), *((k, ("", m)) for k, m in MORE.items())]:
        values = [results[name].metrics.get(key) for name in names]
        if all(value is None for value in values):
            continue
        shown = [("—" if value is None else f"{value:.4g}") for value in values]
        name, _, rest = meaning.partition(":")
        label = f"**{name}** ({better} is better):{rest}" if better else f"**{name}**:{rest}"
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    verdicts = [f"- `{name}`: {result.mode_collapse.get('verdict', '')}" for name, result in results.items()]
    first = next(iter(results.values())).metadata
    return "\n".join([*lines, "", "**Mode collapse** (the checker's reading of the clean pictures):", *verdicts, "",
                      f"Features: `{first['features']}` ({first['feature_dim']} numbers); reference: "
                      f"{first['reference']}; {first['samples']} pictures per model; CLIP: {first['clip']}."])


def metric_frame(results: dict, key: str) -> pd.DataFrame:
    return pd.DataFrame([{"model": name, key: result.metrics[key]} for name, result in results.items()
                         if result.metrics.get(key) is not None])


def combinations_frame(results: dict) -> pd.DataFrame:
    rows = [{"combination": combination, "pictures": count, "model": name}
            for name, result in results.items() for combination, count in result.mode_collapse["histogram"].items()]
    return pd.DataFrame(rows or [{"combination": "", "pictures": 0, "model": ""}])


def prompt_frame(results: dict) -> pd.DataFrame:
    rows = [{"model": name, **row} for name, result in results.items() for row in result.table]
    return pd.DataFrame(rows)


def worst_pictures(results: dict) -> list:
    """The worst prompts' pictures (by consistency, then clean), captioned with what the checker read."""
    shown = []
    for name, result in results.items():
        prompts = result.prompts or []
        for row in result.table[:WORST_SHOWN]:
            for index in [i for i, prompt in enumerate(prompts) if prompt == row["prompt"]][:2]:
                shown.append((output_files.image_file(result.images[index]),
                              f"“{row['prompt']}” → {result.judgements[index]} ({name})"))
    return shown


def outputs(results: dict, recipe=None):
    """The tab's outputs for the models evaluated so far; the recipe (compare's) comes with the last."""
    charts = [metric_frame(results, key) for key in HEADLINE]
    return (report_card(results), *charts, worst_pictures(results), combinations_frame(results),
            prompt_frame(results), recipe if recipe is not None else gr.skip())


@errors.user_errors
def _compare(run, models, prompts, samples_per_prompt, seed, *, progress, on_step):
    """The adapter call, in the worker thread; errors become gr.Error here as in every tab."""
    return run["compare"](models, prompts=prompts, samples_per_prompt=samples_per_prompt, seed=seed,
                          progress=progress, on_result=on_step)


def evaluate_models(run, models, prompt_set, prompts, samples_per_prompt, seed, progress=gr.Progress()):
    """Yields the report card and charts after each model; the last yield holds every model's."""
    if isinstance(models, str):
        models = [models]
    models = [model_menu.model_name(model) for model in (models or []) if isinstance(model, str) and model]
    if not models:
        raise gr.Error("Pick at least one model to evaluate.", print_exception=False)
    chosen = _prompts(prompt_set, prompts)
    report = progress_bar.bridge(progress)  # here, in Gradio's thread: it finds the event to watch for a cancel
    stream = Streamed(lambda progress, on_step: _compare(run, models, chosen, samples_per_prompt, seed,
                                                         progress=progress, on_step=on_step),
                      report, name="evaluation")
    done = {}
    for name, result in stream:
        done[name] = result
        yield outputs(done)
    yield outputs(stream.result.results, stream.result.metadata)


def _grid_values(axis: str, text: str) -> list:
    """Comma-separated values, typed as the axis takes them."""
    values = [value.strip() for value in (text or "").split(",") if value.strip()]
    if not values:
        raise ValueError(f"Type the {axis} values, separated by commas.")
    if axis in ("seed", "steps", "guidance"):
        try:
            return [float(value) if axis == "guidance" else int(float(value)) for value in values]
        except ValueError:
            raise ValueError(f"The {axis} values must be numbers separated by commas, got {text!r}.") from None
    return values


def grid_seconds_needed(model, x, x_values, y, y_values, *rest, **kwargs) -> float:
    cells = len((x_values or "").split(",")) * len((y_values or "").split(","))
    return zero_gpu.gpu_seconds(load=10, per_step=0.5, count=min(cells, limits.MAX_GRID_CELLS))


@errors.user_errors
def draw_grid(run, model, x, x_values, y, y_values, prompt, seed, steps, guidance, progress=gr.Progress()):
    result = run["xy_grid"](model_menu.model_name(model), x=x, x_values=_grid_values(x, x_values), y=y,
                            y_values=_grid_values(y, y_values), prompt=prompt, seed=seed, steps=steps,
                            guidance=guidance, progress=progress_bar.bridge(progress))
    cells = pd.DataFrame(result.metadata["cells"])
    return output_files.recipe_png(result.images[0], result.metadata), cells, result.metadata


def input_problems(models, prompts):
    """What stops an evaluation before it starts, by control: no model, or no prompt typed when it needs some."""
    def problems(models_value, prompt_set_value, prompts_value, *rest) -> dict:
        found = {models: "Pick at least one model to evaluate."} if errors.is_empty(models_value) else {}
        if prompt_set_value == "typed" and errors.is_empty(prompts_value):
            found[prompts] = "Type at least one prompt, one per line, or pick a prompt set above."
        return found
    return problems


def build_tab(run: dict, family):
    """The tab; `run` holds the functions it calls, by name (compare, xy_grid)."""
    with tab_page.family_tab(family):
        with gr.Row():
            with gr.Column(scale=1):
                # Every model whose family can draw pictures for the lab to judge.
                model_choices = [choice for family in registry.families_that(*DRAWS_WITH)
                                 for choice in model_menu.model_choices(family)]
                models = gr.Dropdown(choices=model_choices, value=[model_choices[0][1]] if model_choices else [],
                                     multiselect=True, label="Models", max_choices=limits.MAX_COMPARE_MODELS,
                                     info=f"Models that draw pictures (from prompts or seeds), up to "
                                          f"{limits.MAX_COMPARE_MODELS}.")
                prompt_set = gr.Radio(PROMPT_SET_CHOICES, value=PROMPT_SETS[0], label="Prompt set",
                                      info="A GAN takes no prompts: it draws as many pictures from its latent space.")
                prompts = gr.Textbox(label="Prompts", lines=3, max_length=limits.MAX_PROMPT_CHARS * 4,
                                     placeholder="a red circle on the left\na blue square on a black background",
                                     info="One per line; used when the prompt set is \"The prompts typed below\".")
                samples = gr.Slider(label="Samples per prompt", minimum=1, maximum=limits.MAX_IMAGES, step=1, value=4,
                                    info="Pictures per prompt, each with its own seed.")
                seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                 info="The first picture's seed; the same seed gives the same figures.")
                needs = errors.Requirements([models, prompt_set, prompts, samples, seed],
                                            input_problems(models, prompts))
                run_button, stop = run_buttons.run_button("Evaluate", needs, variant="primary")
            with gr.Column(scale=2):
                card = gr.Markdown(label="Report card")
                with gr.Row():
                    charts = [gr.BarPlot(x="model", y=key, label=f"{meaning.split(':')[0]} ({better} is better)",
                                         height=200, y_title=key)
                              for key, (better, meaning) in HEADLINE.items()]
        worst = gr.Gallery(label="Worst prompts: their pictures and what the checker read", columns=8, height="auto",
                           elem_classes="pixel-art", interactive=False)
        combinations = gr.BarPlot(x="combination", y="pictures", color="model", label="Combinations drawn "
                                  "(mode collapse: a few tall bars)", height=260, x_label_angle=-60)
        table = gr.Dataframe(label="Per prompt, worst first", interactive=False, wrap=True)
        metadata = gr.JSON(label="Recipe")
        code, card_code = recipe_views.recipe_panel()

        with gr.Accordion("X/Y grid", open=False):
            gr.Markdown("One picture per pair of values: what people ask AUTOMATIC1111 and InvokeAI for. The "
                        "checker's verdict is under each cell: “yes” when the picture shows what its prompt names.")
            with gr.Row():
                grid_model = model_menu.model_dropdown("text_to_image", label="Grid model",
                                                   info="The text-to-image model that draws every cell.")
                x = gr.Dropdown(list(GRID_AXES), value="prompt", label="X axis",
                                info="The setting that varies across (schedulers: euler, dpm++, ddim, ...).")
                x_values = gr.Textbox(label="X values", value="a red circle, a blue square, a green diamond",
                                      max_length=limits.MAX_PROMPT_CHARS * 4,
                                      info=f"Separated by commas; up to {limits.MAX_GRID_VALUES}.")
                y = gr.Dropdown(list(GRID_AXES), value="seed", label="Y axis", info="The setting that varies down.")
                y_values = gr.Textbox(label="Y values", value="0, 1, 2", max_length=limits.MAX_PROMPT_CHARS * 4,
                                      info=f"Separated by commas; at most {limits.MAX_GRID_CELLS} cells in all.")
            with gr.Row():
                grid_prompt = gr.Textbox(label="Prompt", value="a red circle", max_length=limits.MAX_PROMPT_CHARS,
                                         info="Used when no axis is the prompt.")
                grid_seed = gr.Number(label="Grid seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED,
                                      info="Used when no axis is the seed.")
                steps = gr.Slider(label="Steps", minimum=1, maximum=limits.MAX_STEPS, step=1, value=20,
                                  info="Denoising steps, when no axis is the steps.")
                guidance = gr.Slider(label="Guidance", minimum=0.0, maximum=limits.MAX_GUIDANCE, step=0.5, value=4.0,
                                     info="How hard the prompt pulls, when no axis is the guidance.")
            grid_needs = errors.required([grid_model, x, x_values, y, y_values, grid_prompt, grid_seed, steps, guidance],
                                         {x_values: "Type the X values, separated by commas.",
                                          y_values: "Type the Y values, separated by commas."})
            grid_button, grid_stop = run_buttons.run_button("Draw the grid", grid_needs)
            grid = gr.Image(label="Grid", type="filepath", format="png", interactive=False)
            cells = gr.Dataframe(label="Each cell: what the checker read", interactive=False)
            grid_recipe = gr.JSON(label="Grid recipe")
            grid_code, grid_card = recipe_views.recipe_panel()

        evaluation = run_button.click(handlers.bind(evaluate_models, run, seconds=seconds_needed),
                                      [models, prompt_set, prompts, samples, seed],
                                      [card, *charts, worst, combinations, table, metadata], api_name="evaluate",
                                      concurrency_id=lanes.LONG_LANE,
                                      validator=needs.validate)
        evaluation.success(recipe_views.show_recipe, metadata, [code, card_code], api_visibility="private")
        drawing = grid_button.click(handlers.bind(draw_grid, run, seconds=grid_seconds_needed),
                          [grid_model, x, x_values, y, y_values, grid_prompt, grid_seed, steps, guidance],
                          [grid, cells, grid_recipe], api_name="xy_grid", concurrency_id=lanes.LONG_LANE,
                          validator=grid_needs.validate)
        drawing.success(recipe_views.show_recipe, grid_recipe, [grid_code, grid_card], api_visibility="private")
        run_buttons.stoppable(run_button, stop, evaluation)
        run_buttons.stoppable(grid_button, grid_stop, drawing)
        controls = {"models": models, "prompt_set": prompt_set, "prompts": prompts, "samples_per_prompt": samples,
                    "seed": seed, "grid_model": grid_model, "x": x, "x_values": x_values, "y": y,
                    "y_values": y_values, "prompt": grid_prompt, "grid_seed": grid_seed, "steps": steps,
                    "guidance": guidance}
        settings = TabSettings(controls)
        settings.wire()
    return settings
