"""The training lab's tab: five families on the same 2-D points, live.

Its events, by api_name:
  toy_training  (family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing)
                -> views, charts, metrics, recipe: one run to its budget
  toy_play      (the same, steps_per_refresh) -> views, charts, metrics every refresh, until Pause
  toy_step      (the same, steps_per_refresh, which) -> one refresh's steps (both networks, D only or G only)
  toy_reset     (the same) -> the lab rebuilt at step 0
Pause cancels toy_play; the lab (its networks, at the step reached) stays on the server for the next Play.
"""

import re
import time
import uuid
from collections import OrderedDict

import gradio as gr
from PIL import Image

from ... import serving, uploads
from ...ui import errors, example_sets, gradio_internals, handlers, lanes, output_files, progress_bar, recipe_views, run_buttons, tab_page, zero_gpu
from ...ui.image_input import drawing_canvas
from ...ui.settings_flow import TabSettings, restore_from_png
from ...models import registry
from . import (DATASETS, DEFAULT_LR, FIXES, GAN_LOSSES, MAX_BATCH, MAX_DEPTH, MAX_PICTURE_RUNS_KEPT, MAX_PICTURE_STEPS,
               MAX_PLAY_STEPS, MAX_RUNS, MAX_WIDTH, PICTURE_FAMILY, PICTURE_SIZES, PICTURE_STEPS,
               TOY_FAMILIES)

ALL = "all five"
NO_FIX = "none"
CANVAS = 256
EXAMPLES = (("gan", "ring8"), ("flow", "two moons"), ("diffusion", "spiral"), (ALL, "ring8"))

labs: "OrderedDict[str, object]" = OrderedDict()  # a session's key -> its ToyLab; the oldest go past MAX_RUNS
pausing: set[str] = set()  # the sessions whose Play should stop after this step: Pause is a flag, not a cancel


def seconds_needed(*args, **kwargs) -> float:
    return zero_gpu.gpu_seconds(load=0, per_step=0)  # the lab runs on the CPU


def white_paper() -> Image.Image:
    return Image.new("RGB", (CANVAS, CANVAS), (255, 255, 255))


def lab_options(run, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing):
    """The page's settings as toy_lab's arguments (the drawing opened within the upload limits)."""
    families = TOY_FAMILIES if family == ALL else (family,)
    picture = uploads.open_image(drawing, what="The drawing") if dataset == "drawn" and drawing is not None else None
    fixes = (None,) if fix == NO_FIX else ((None, fix) if collapse else (fix,))
    return dict(families=families, dataset=dataset, fixes=fixes, seed=seed, preset="collapse" if collapse else None,
                loss=loss, lr=None if family == ALL else lr, width=width, depth=depth, batch_size=batch_size, beta=beta, drawing=picture)


def the_lab(run, key, settings, *, fresh=False):
    """The session's lab, rebuilt when the settings changed (or `fresh`): (key, lab, rebuilt?)."""
    key = key or uuid.uuid4().hex
    lab = labs.get(key)
    signature = repr({k: v for k, v in settings.items() if k != "drawing"}) + repr(settings["drawing"] is not None)
    if fresh or lab is None or lab.settings != signature:
        lab = run["toy_lab"](**settings)
        lab.settings = signature
        labs[key] = lab
    labs.move_to_end(key)
    while len(labs) > MAX_RUNS:
        labs.popitem(last=False)
    return key, lab


def shown(lab) -> tuple:
    views = [(output_files.image_file(picture), caption) for picture, caption in lab.views()]
    charts = [(output_files.image_file(chart), None) for chart in lab.charts()]
    return views, charts, lab.metrics()


@errors.user_errors
def run_to_budget(run, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing,
                  progress=gr.Progress()):
    report = progress_bar.bridge(progress)
    if family == ALL:
        raise ValueError("Run to the budget trains one family: pick one (Play runs all five).")
    options = lab_options(run, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing)
    result = run["toy_training"](family, dataset, seed=seed, preset=options["preset"], fix=options["fixes"][-1],
                                 loss=loss, lr=lr, width=width, depth=depth, batch_size=batch_size, beta=beta,
                                 drawing=options["drawing"], progress=report)
    views = [(output_files.recipe_png(picture, result.metadata), caption)  # a view dropped back sets the settings
             for picture, caption in zip(result.images, result.captions)]
    charts = [(output_files.image_file(chart), None) for chart in result.charts]
    return views, charts, {family: result.metrics}, result.metadata


def recipe_settings(recipe: dict) -> dict:
    """A Run-to-the-budget view's recipe -> the lab's settings (the preset is the checkbox, no fix is "none")."""
    values = {name: recipe[name] for name in ("family", "dataset", "loss", "lr", "width", "depth", "batch_size",
                                              "beta", "seed") if name in recipe}
    return {**values, "fix": recipe.get("fix") or NO_FIX, "collapse": recipe.get("preset") == "collapse"}


@errors.user_errors
def start(run, key, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing):
    return the_lab(run, key, lab_options(run, family, dataset, loss, fix, collapse, lr, width, depth, batch_size,
                                         beta, seed, drawing))


@errors.user_errors
def advance(lab, steps: int, should_stop) -> tuple:
    lab.advance(steps, should_stop=should_stop)
    return shown(lab)


def play(run, key, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing,
         steps_per_refresh):
    """Refresh after every `steps_per_refresh` steps of every run, until Pause or MAX_PLAY_STEPS. Pause stops
    the refresh under way at its next step and shows it, so the page shows the step the networks are at; a
    closed or reloaded page stops it at its next step too (Gradio marks its job abandoned).
    A generator: errors become messages in `start` and `advance`."""
    cancelled = gradio_internals.cancellation_check()  # here, in Gradio's thread: it finds the event to watch
    key, lab = start(run, key, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed,
                     drawing)
    pausing.discard(key)
    steps = int(steps_per_refresh)

    def should_stop() -> bool:
        if cancelled():  # the page has gone: no one is watching
            raise serving.Cancelled("Cancelled.")
        return key in pausing

    for _ in range(max(1, MAX_PLAY_STEPS // steps)):
        yield key, *advance(lab, steps, should_stop)
        if key in pausing:
            pausing.discard(key)
            return


def pause(key):
    if key in labs:  # only a lab this server holds: a made-up key adds nothing
        pausing.add(key)


@errors.user_errors
def step(run, key, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing,
         steps_per_refresh, which):
    options = lab_options(run, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing)
    key, lab = the_lab(run, key, options)
    lab.advance(int(steps_per_refresh), mode={"both": "both", "D only": "d", "G only": "g"}[which])
    return key, *shown(lab)


@errors.user_errors
def reset(run, key, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing):
    options = lab_options(run, family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing)
    key, lab = the_lab(run, key, options, fresh=True)
    return key, *shown(lab)


# ---- the picture lab: a family's own training script, in the page ---------------------------------------------

pictures: dict[str, object] = {}  # a run's name -> its PictureRun (a reloaded page finds its run by name)
VISITOR = re.compile(r"[0-9a-f]{32}")  # a visitor's key, as uuid4().hex writes it
POLL_S = 2.0  # seconds between two looks at a training run
ORPHAN_S = 30.0  # a run no page has looked at for this long pauses itself (closed or reloaded page)


@errors.user_errors
def start_picture(run, key, name, family, steps, every, seed, size, session=None):
    """The visitor's run: the one named `name` if it is paused (resumed), else a new one; one per visitor.
    `key` names the visitor (kept in the browser, so a reloaded page reattaches); `session`, the page."""
    if not (isinstance(key, str) and VISITOR.fullmatch(key)):
        key = uuid.uuid4().hex  # a new visitor (or a key this server did not make)
    mine = [picture for picture in pictures.values() if picture.owner == key]
    if any(p.state in ("training", "pausing") and p.name != name for p in mine):
        raise ValueError("One picture run per visitor at a time: pause yours first.")
    picture = pictures.get(name)
    if picture is not None and picture.owner not in (None, key):
        raise ValueError(f"Another visitor's run is named {name!r}: pick another Run name.")
    same = picture is not None and (picture.family, picture.steps, picture.every, picture.seed) == \
        (family, int(steps), int(every), int(seed)) and size in ("auto", picture.size)
    if not same or picture.state == "finished":
        picture = run["picture_lab"](name, family=family, steps=steps, seed=seed, every=every,
                                     size=None if size == "auto" else size,
                                     orphan_after=ORPHAN_S)
        pictures[name] = picture
        while len(pictures) > MAX_PICTURE_RUNS_KEPT:
            pictures.pop(next(iter(pictures)))
    picture.owner = key
    if session:
        picture.viewers.add(session)
    picture.start()
    return key, picture


def picture_view(picture) -> tuple:
    picture.watched()
    grid = picture.samples()
    charts = [(output_files.image_file(chart), None) for chart in picture.charts()]
    return (str(grid) if grid else None), charts, picture.status()


def train_picture(run, key, name, family, steps, every, seed, size, request: gr.Request = None):
    """Start (or resume) the run, then show its samples, curves and status every POLL_S seconds until it pauses
    or ends. A generator: errors become messages in `start_picture`."""
    key, picture = start_picture(run, key, name, family, steps, every, seed, size,
                                 request.session_hash if request else None)
    while picture.state in ("training", "pausing"):
        time.sleep(POLL_S)
        yield key, *picture_view(picture)
    if picture.error:
        raise gr.Error(picture.error, print_exception=False)
    yield key, *picture_view(picture)


def pause_picture(key):
    for picture in pictures.values():
        if picture.owner == key:
            picture.pause()


@errors.user_errors
def download_picture(key):
    mine = [p for p in pictures.values() if p.owner == key and p.model]
    if not mine:
        raise ValueError("Train a picture model and pause or finish it first: its folder is saved then.")
    return output_files.write_output(mine[-1].download(), ".zip")


def family_rate(family):
    """A family's own learning rate, put in the slider when the family is picked (all five: each its own)."""
    return DEFAULT_LR.get(family, gr.skip())


def collapse_demo():
    """The collapse preset beside the same GAN with two timescales (the quickest fix to act): press Play next."""
    return "gan", "ring8", True, "two-timescale"


def build_tab(run: dict, family):
    """The tab; `run` holds the functions it calls, by name (toy_training, toy_lab)."""
    with tab_page.family_tab(family):
        key = gr.State(None)
        with gr.Row():
            with gr.Column(scale=2):
                with gr.Row():
                    model_family = gr.Radio(label="Family", choices=[*TOY_FAMILIES, ALL], value="gan",
                                            info="Which family learns; \"all five\" runs them side by side.")
                    dataset = gr.Dropdown(label="Points", choices=list(DATASETS), value="ring8",
                                          info="The data; \"drawn\": the points you paint on the canvas.")
                with gr.Row():
                    loss = gr.Radio(label="GAN loss", choices=list(GAN_LOSSES), value=GAN_LOSSES[0],
                                    info="What the discriminator and the generator minimise.")
                    fix = gr.Radio(label="Fix", choices=[NO_FIX, *FIXES], value=NO_FIX,
                                   info="A remedy for mode collapse (GAN only).")
                    collapse = gr.Checkbox(label="Collapse preset", value=False,
                                           info="The GAN setting that collapses on the ring; with a fix, both run.")
                with gr.Row():
                    lr = gr.Slider(label="Learning rate", minimum=1e-4, maximum=2e-2, step=1e-4, value=1e-3,
                                   info="Adam's step size (each family's own when picked; all five: each its own).")
                    width = gr.Slider(label="Width", minimum=8, maximum=MAX_WIDTH, step=8, value=128,
                                      info="Hidden units per layer.")
                    depth = gr.Slider(label="Depth", minimum=1, maximum=MAX_DEPTH, step=1, value=3,
                                      info="Hidden layers per network.")
                with gr.Row():
                    batch_size = gr.Slider(label="Batch size", minimum=16, maximum=MAX_BATCH, step=16, value=256,
                                           info="Fresh data points per step.")
                    beta = gr.Slider(label="β (VAE)", minimum=0.0, maximum=4.0, step=0.1, value=1.0,
                                     info="The VAE's KL weight: 1 is the ELBO.")
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=2**31 - 1,
                                     info="The networks' start and the data's order.")
                    steps_per_refresh = gr.Slider(label="Steps per refresh", minimum=10, maximum=500, step=10,
                                                  value=100, info="Training steps between two pictures.")
                with gr.Row():
                    play_button = gr.Button("Play", variant="primary", elem_classes=run_buttons.RUN_CLASS)
                    pause_button = gr.Button("Pause", variant="stop")
                    step_button = gr.Button("Step", elem_classes=run_buttons.RUN_CLASS)
                    reset_button = gr.Button("Reset")
                with gr.Row():
                    which = gr.Radio(label="Step trains", choices=["both", "D only", "G only"], value="both",
                                     info="A GAN's networks: both, or one of them alone (the others train fully).")
                    budget_button = gr.Button("Run to the budget", elem_classes=run_buttons.RUN_CLASS)
                    demo_button = gr.Button("Collapse, then fix")
                with gr.Accordion("Draw your own points (Points: drawn)", open=False):
                    drawing = drawing_canvas(paper=white_paper(), colours={"ink": (20, 20, 20)}, size=CANVAS, pen=6,
                                             label="Canvas: paint where the points are", height=CANVAS + 120)
            with gr.Column(scale=3):
                views = gr.Gallery(label="Views (each caption: run, view, step, modes covered)", type="filepath",
                                   columns=4, height="auto", object_fit="contain", interactive=False)
                charts = gr.Gallery(label="Curves: losses, modes covered, divergence", type="filepath", columns=2,
                                    height="auto", object_fit="contain", interactive=False)
                metrics = gr.JSON(label="Measures at the last refresh, per run")
                metadata = gr.JSON(label="Recipe (Run to the budget)")
                code, card = recipe_views.recipe_panel()
                recipe_file = recipe_views.recipe_file()

        with gr.Accordion("Train a picture model on the shapes world, and use it in every tab", open=False):
            gr.Markdown("The family's own training script (the command line's) trains a model from scratch here. "
                        "Every few hundred steps: a grid of samples from fixed seeds and the project's checker's "
                        "reading of them. **Pause** keeps a checkpoint; **Train** again resumes it. Each pause or end "
                        "saves the model as `lab/<name>`: the tabs of its family list it, and **Download** gives "
                        "its folder (safetensors, config and a card with its figures). A run no page looks at for "
                        f"{ORPHAN_S:.0f} s pauses itself: after a reload, **Train** with the same name resumes it.")
            with gr.Row():
                picture_name = gr.Textbox(label="Run name", value="my-gan", max_lines=1, max_length=40,
                                          info="Lowercase letters, digits, dashes: its model is lab/<name>.")
                trainable = registry.families_that("train_pictures")
                titles = [(registry.family(f).capability("train_pictures").title, f) for f in trainable]
                picture_family = gr.Dropdown(label="Picture family", choices=titles,
                                             value=PICTURE_FAMILY if PICTURE_FAMILY in trainable else trainable[0],
                                             info="The families whose training script can run here.")
                picture_steps = gr.Slider(label="Training steps", minimum=10, maximum=MAX_PICTURE_STEPS, step=10,
                                          value=PICTURE_STEPS, info="2,000: mostly clean shapes, minutes on a CPU.")
                picture_every = gr.Slider(label="Evaluate every", minimum=10, maximum=1000, step=10, value=250,
                                          info="Steps between two sample grids and checker readings.")
                picture_seed = gr.Number(label="Run seed", value=0, precision=0, minimum=0, maximum=2**31 - 1,
                                         info="The network's start and the order of the pictures.")
                picture_size = gr.Dropdown(label="Picture size", choices=list(PICTURE_SIZES), value=PICTURE_SIZES[0],
                                           info="Pixels a side (auto: the smallest the family trains); 32 is ~4× "
                                                "faster than 64.")
            with gr.Row():
                picture_train = gr.Button("Train", variant="primary", elem_classes=run_buttons.RUN_CLASS)
                picture_pause = gr.Button("Pause picture run", variant="stop")
                picture_download = gr.Button("Download the model")
            with gr.Row():
                picture_samples = gr.Image(label="Newest grid: samples from fixed seeds (VAE: pictures, then reconstructions)", type="filepath",
                                           interactive=False, height=300, elem_classes="pixel-art")
                picture_charts = gr.Gallery(label="The checker's reading and the losses", type="filepath", columns=1,
                                            height="auto", object_fit="contain", interactive=False)
            picture_status = gr.JSON(label="Picture run")
            picture_file = gr.File(label="Model folder (zip)", interactive=False)

        settings_inputs = [model_family, dataset, loss, fix, collapse, lr, width, depth, batch_size, beta, seed, drawing]
        outputs = [key, views, charts, metrics]
        budget_button.click(handlers.bind(run_to_budget, run, seconds=seconds_needed), settings_inputs,
                            [views, charts, metrics, metadata], api_name="toy_training",
                            concurrency_id=lanes.TRAINING_LANE
                            ).success(recipe_views.show_recipe, metadata, [code, card], api_visibility="private")
        play_event = play_button.click(handlers.bind(play, run), [key, *settings_inputs, steps_per_refresh], outputs,
                                       api_name="toy_play", concurrency_id=lanes.TRAINING_LANE, show_progress="hidden")
        pause_button.click(pause, key, None, api_visibility="private", queue=False)
        step_button.click(handlers.bind(step, run), [key, *settings_inputs, steps_per_refresh, which], outputs,
                          api_name="toy_step", concurrency_id=lanes.TRAINING_LANE, cancels=[play_event])
        reset_button.click(handlers.bind(reset, run), [key, *settings_inputs], outputs, api_name="toy_reset",
                           concurrency_id=lanes.TRAINING_LANE, cancels=[play_event])
        model_family.change(family_rate, model_family, lr, api_visibility="private", queue=False)
        demo_button.click(collapse_demo, None, [model_family, dataset, collapse, fix], api_visibility="private",
                          queue=False)
        # The visitor, kept in the browser: after a reload, Train with the same Run name reattaches the run
        picture_key = gr.BrowserState(None, storage_key="genart-picture-visitor")
        picture_inputs = [picture_key, picture_name, picture_family, picture_steps, picture_every, picture_seed,
                          picture_size]
        picture_train.click(handlers.bind(train_picture, run), picture_inputs,
                            [picture_key, picture_samples, picture_charts, picture_status], api_name="picture_train",
                            concurrency_id=lanes.TRAINING_LANE, show_progress="hidden")
        picture_pause.click(pause_picture, picture_key, None, api_visibility="private", queue=False)
        picture_download.click(download_picture, picture_key, picture_file, api_name="picture_download")
        example_sets.examples([list(example) for example in EXAMPLES], [model_family, dataset], label="Examples")
        settings = TabSettings({"family": model_family, "dataset": dataset, "loss": loss, "fix": fix,
                                "collapse": collapse, "lr": lr, "width": width, "depth": depth,
                                "batch_size": batch_size, "beta": beta, "seed": seed,
                                "steps_per_refresh": steps_per_refresh, "which": which,
                                "run_name": picture_name, "picture_family": picture_family,
                                "picture_steps": picture_steps, "picture_every": picture_every,
                                "picture_seed": picture_seed, "picture_size": picture_size},
                               from_recipe=recipe_settings)
        settings.wire()
        restore_from_png(recipe_file, "toy_training", settings, model_task="toy_training")
    return settings
