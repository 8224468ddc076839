"""`toy_training`: one of five families learns a 2-D point set; its views, charts and measures at the end."""

from ... import checks
from . import (DATASETS, FIXES, GAN_LOSSES, MAX_BATCH, MAX_DEPTH, MAX_TOY_STEPS, MAX_WIDTH, PRESETS,
               TOY_FAMILIES)
from .toy_result import ToyResult

PROGRESS_EVERY = 50  # steps between progress reports: the user's Stop lands within a few milliseconds


def check_options(family, dataset, steps, seed, preset, fix, loss, lr, width, depth, batch_size, beta):
    """Every option checked, before any network is built; the preset and the fix only where they mean something."""
    family = checks.check_choice("family", family, TOY_FAMILIES)
    dataset = checks.check_choice("dataset", dataset, DATASETS)
    steps = None if steps is None else checks.check_int("steps", steps, 1, MAX_TOY_STEPS)
    seed = checks.check_seed("seed", seed)
    if preset is not None:
        checks.check_choice("preset", preset, PRESETS)
        if family != "gan":
            raise ValueError(f"`preset` {preset!r} is a GAN setting; pick family=\"gan\" (got {family!r}).")
    if fix is not None:
        checks.check_choice("fix", fix, FIXES)
        if family != "gan":
            raise ValueError(f"`fix` {fix!r} mends a GAN; pick family=\"gan\" (got {family!r}).")
    return dict(family=family, dataset=dataset, steps=steps, seed=seed, preset=preset, fix=fix,
                loss=checks.check_choice("loss", loss, GAN_LOSSES),
                lr=None if lr is None else checks.check_float("lr", lr, 1e-5, 0.1),
                width=checks.check_int("width", width, 4, MAX_WIDTH), depth=checks.check_int("depth", depth, 1, MAX_DEPTH),
                batch_size=checks.check_int("batch_size", batch_size, 8, MAX_BATCH),
                beta=checks.check_float("beta", beta, 0.0, 10.0))


def drawn_points(dataset, drawing):
    if dataset != "drawn":
        return None
    if drawing is None:
        raise ValueError("`drawing` is needed for dataset=\"drawn\": a picture with the points painted on it.")
    from .data import points_from_drawing

    return points_from_drawing(checks.check_image("drawing", drawing))


def toy_training(family, dataset="ring8", *, steps=None, seed=0, preset=None, fix=None, on_step=None,
                 loss="non-saturating", lr=None, width=128, depth=3, batch_size=256, beta=1.0, drawing=None,
                 progress=None) -> ToyResult:
    """Train `family` ("gan", "vae", "flow", "diffusion" or "flow_matching") on `dataset` for `steps` steps
    (None: its default budget) at Adam's step `lr` (None: its default). `preset="collapse"`: the GAN setting
    that collapses on the ring; `fix`: a remedy
    ("wgan-gp", "minibatch-std", "unrolled", "two-timescale"). `on_step(step, total, logs)` after every step.
    `.metrics["modes_covered"]` out of `.metrics["modes"]`, `.metrics["loss"]` per network; `.images`: the views."""
    # 1. Check inputs
    options = check_options(family, dataset, steps, seed, preset, fix, loss, lr, width, depth, batch_size, beta)
    drawn = drawn_points(options["dataset"], drawing)

    # 2. Train: the command line's loop (train_toy.train), reporting progress so a Stop ends it
    from .train_toy import ToyConfig, train

    config = ToyConfig(**options)

    def each_step(step, total, logs):
        if on_step is not None:
            on_step(step, total, logs)
        if progress is not None and (step == 1 or step % PROGRESS_EVERY == 0):
            progress(step / total, f"Step {step}/{total}")

    if progress is not None:
        progress(0.0, "Building the networks")
    run = train(config, on_step=each_step, drawn=drawn)

    # 3. Views, charts and measures of the end
    from .report import run_charts
    from .views import draw_views

    views = draw_views(run)
    final = run.measure()
    metrics = {"modes_covered": final["modes_covered"], "modes": final["modes"], "good_share": final["good_share"],
               "js": final["js"], "loss": run.last_losses(), "steps": run.step}
    metadata = {"task": "toy_training", "family": options["family"], "dataset": options["dataset"],
                "steps": run.step, "seed": options["seed"], "preset": preset, "fix": fix,
                **{name: getattr(run.config, name) for name in ("loss", "lr", "width", "depth", "batch_size", "beta")}}
    return ToyResult(images=list(views.values()), captions=list(views), metadata=metadata, metrics=metrics,
                     measures=list(run.measures), charts=run_charts({options["family"]: run}))
