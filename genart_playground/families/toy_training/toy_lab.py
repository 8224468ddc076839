"""`toy_lab`: several runs on the same points and one clock, advanced a few steps at a time: the lab's page
keeps one per visitor, and a notebook can drive one the same way."""

import threading

from . import FIXES, TOY_FAMILIES
from .toy_training import check_options, drawn_points

MODES = ("both", "d", "g")  # a GAN's step: both networks, the discriminator only, the generator only


class ToyLab:
    """Runs by label ("gan", "gan + wgan-gp", ...), all on one point set, advanced together."""

    def __init__(self, configs: dict, drawn=None):
        from .train_toy import ToyRun

        self.runs = {label: ToyRun(config, drawn) for label, config in configs.items()}
        self.settings = None  # what the page built it from: a change of settings starts a new lab
        # One thread trains at a time: a Play the page cancelled finishes its step while the next Step starts
        self.lock = threading.Lock()

    @property
    def step(self) -> int:
        return max(run.step for run in self.runs.values())

    def advance(self, steps: int, *, mode: str = "both", should_stop=None) -> None:
        """`steps` steps of every run, one after the other: a run that is not a GAN takes a one-network mode as
        "both" (it has one network)."""
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {', '.join(MODES)}, got {mode!r}.")
        with self.lock:
            for run in self.runs.values():
                run.advance(steps, mode=mode if run.config.family == "gan" else "both", should_stop=should_stop)

    def views_of(self, label: str) -> list[tuple]:
        """(view's name, picture) of one run: every view its family has."""
        from .views import draw_views

        return list(draw_views(self.runs[label]).items())

    def views(self) -> list[tuple]:
        """(picture, caption): one run's every view; several runs' points side by side (a GAN's map too)."""
        pictures = []
        for label, run in self.runs.items():
            views = dict(self.views_of(label))
            row = run.measure()
            shown = views if len(self.runs) == 1 else {name: views[name] for name in ("points", "discriminator")
                                                       if name in views}
            for name, picture in shown.items():
                pictures.append((picture, f"{label} · {name} · step {run.step} · "
                                          f"{row['modes_covered']}/{row['modes']} modes"))
        return pictures

    def charts(self) -> list:
        from .report import run_charts

        return run_charts(self.runs)

    def metrics(self) -> dict:
        return {label: {**{k: v for k, v in run.measure().items() if k != "step"}, "step": run.step,
                        "loss": run.last_losses()} for label, run in self.runs.items()}


def toy_lab(families=("gan",), dataset="ring8", *, fixes=(None,), seed=0, preset=None, loss="non-saturating",
            lr=None, width=128, depth=3, batch_size=256, beta=1.0, drawing=None) -> ToyLab:
    """A lab of every family in `families` (and, for a GAN, every fix in `fixes`: None is no fix), built and
    measured at step 0. Advance it with `.advance(steps, mode=...)`; look with `.views()`, `.charts()`,
    `.metrics()`."""
    # 1. Check inputs: the families and fixes as lists of known names, then each run's options as toy_training's
    if isinstance(families, str) or not families or len(families) > len(TOY_FAMILIES):
        raise ValueError(f"`families` must be a list of 1 to {len(TOY_FAMILIES)} of {', '.join(TOY_FAMILIES)}.")
    if isinstance(fixes, str) or not fixes or len(fixes) > len(FIXES) + 1:
        raise ValueError(f"`fixes` must be a list of None and up to {len(FIXES)} of {', '.join(FIXES)}.")
    configs = {}
    for family in dict.fromkeys(families):
        for fix in dict.fromkeys(fixes if family == "gan" else (None,)):
            options = check_options(family, dataset, None, seed, preset if family == "gan" else None, fix, loss, lr,
                                    width, depth, batch_size, beta)
            label = family if fix is None else f"{family} + {fix}"
            configs[label] = options
    drawn = drawn_points(dataset, drawing)

    # 2. Build every run
    from .train_toy import ToyConfig

    return ToyLab({label: ToyConfig(**options) for label, options in configs.items()}, drawn)
