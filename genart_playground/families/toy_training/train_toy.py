"""Train one of the lab's five families on 2-D points: `python -m genart_playground.train toy --family gan`.

The lab's page and `toy_training` run this same loop, a few steps at a time (`ToyRun.advance`); the command
line runs it to the end and writes the views and the curves to runs/.
"""

import argparse
import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch

from ...devices import make_generator
from . import DATASETS, DEFAULT_LR, DEFAULT_STEPS, FIXES, GAN_LOSSES, PRESET_STEPS, PRESETS, TOY_FAMILIES
from .data import PointSet
from .learners import LEARNERS
from .measures import good_share, js_divergence, modes_covered

MEASURE_POINTS = 1000  # samples behind each measurement: a fair share of 125 per mode of the ring
MEASURE_EVERY = 100  # steps between measurements (the coverage curve's points)


@dataclass
class ToyConfig:
    family: str = "gan"  # one of TOY_FAMILIES
    dataset: str = "ring8"  # one of DATASETS; "drawn" takes its points from ToyRun(drawn=...)
    steps: int | None = None  # None: the family's budget (DEFAULT_STEPS; a preset's, PRESET_STEPS)
    batch_size: int = 256  # fresh points every step; 256 holds every mode of the ring ~32 times
    width: int = 128  # hidden units per layer: 2-D needs little, and one refresh stays well under a second
    depth: int = 3  # hidden layers
    lr: float | None = None  # Adam's step; None: the family's (DEFAULT_LR). A GAN's two networks share it
    loss: str = "non-saturating"  # the GAN's loss (GAN_LOSSES)
    g_steps: int = 1  # the GAN's generator steps per discriminator step; more lets it outrun its critic
    fix: str | None = None  # a GAN's remedy for mode collapse (FIXES)
    preset: str | None = None  # "collapse": the GAN setting that collapses on the ring
    beta: float = 1.0  # the VAE's KL weight: 1 is the ELBO; larger trades sharpness for a smoother latent
    seed: int = 0

    def budget(self) -> int:
        if self.steps is not None:
            return self.steps
        return PRESET_STEPS[self.preset] if self.preset is not None else DEFAULT_STEPS[self.family]

    def __post_init__(self):
        if self.lr is None and self.family in DEFAULT_LR:
            self.lr = DEFAULT_LR[self.family]


# The GAN setting that collapses on the ring of 8: the generator takes 5 steps for each of the discriminator's,
# at twice the default rate, so it always reaches the critic's current favourite spot before the critic moves:
# all fakes land on one mode, then hop to the next (`python bench/toy_lab.py --only collapse`).
COLLAPSE = {"family": "gan", "loss": "non-saturating", "lr": 2e-3, "g_steps": 5}


def with_preset(config: ToyConfig) -> ToyConfig:
    if config.preset == "collapse":
        return replace(config, **COLLAPSE)
    return config


def check_config(config: ToyConfig) -> None:
    for name, value, choices in (("family", config.family, TOY_FAMILIES), ("dataset", config.dataset, DATASETS),
                                 ("loss", config.loss, GAN_LOSSES)):
        if value not in choices:
            raise ValueError(f"`{name}` must be one of {', '.join(choices)}, got {value!r}.")
    if config.fix is not None and config.fix not in FIXES:
        raise ValueError(f"`fix` must be one of {', '.join(FIXES)}, got {config.fix!r}.")
    if config.preset is not None and config.preset not in PRESETS:
        raise ValueError(f"`preset` must be one of {', '.join(PRESETS)}, got {config.preset!r}.")


class ToyRun:
    """One family learning one point set: advance it a few steps at a time, measure it, draw it."""

    def __init__(self, config: ToyConfig, drawn: torch.Tensor | None = None):
        check_config(config)
        self.config = with_preset(config)
        self.data = PointSet(self.config.dataset, drawn)
        self.learner = LEARNERS[self.config.family](self.config)
        self.batches = make_generator(self.config.seed + 2)
        self.step = 0
        self.losses: dict[str, list[tuple[int, float]]] = {}  # network -> (step, loss) of every step
        self.measures: list[dict] = []  # every MEASURE_EVERY steps: step, modes_covered, good_share, js
        self.drawn, self.drawn_at = None, -1
        self.measure()

    def advance(self, steps: int, *, mode: str = "both", on_step=None, should_stop=None) -> None:
        """`steps` training steps (a GAN's `mode`: "both", or "d"/"g" to train one network only)."""
        for _ in range(steps):
            logs = self.learner.step(self.data.sample(self.config.batch_size, self.batches), mode)
            if not all(math.isfinite(value) for value in logs.values()):  # nothing past here can be drawn
                raise ValueError(f"The {self.config.family} run diverged at step {self.step + 1}: a loss is not a "
                                 "number. Lower the learning rate, then Reset.")
            self.step += 1
            for name, value in logs.items():
                self.losses.setdefault(name, []).append((self.step, value))
            if self.step % MEASURE_EVERY == 0:
                self.measure()
            if on_step is not None:
                on_step(self.step, self.config.budget(), logs)
            if should_stop is not None and should_stop():
                break

    @torch.no_grad()
    def measure(self) -> dict:
        """The measures of this step's model, on fixed noise (the same seed every time: only the model moves)."""
        if self.measures and self.measures[-1]["step"] == self.step:
            return self.measures[-1]
        samples = self.samples()
        real = self.data.sample(MEASURE_POINTS, make_generator(self.config.seed + 4))
        row = {"step": self.step, "modes_covered": modes_covered(samples, self.data), "modes": len(self.data.modes),
               "good_share": round(good_share(samples, self.data), 4), "js": round(js_divergence(samples, real), 4)}
        self.measures.append(row)
        return row

    def samples(self) -> torch.Tensor:
        """MEASURE_POINTS samples from fixed noise, drawn once per step: the measures and the views share them."""
        if self.drawn_at != self.step:
            self.drawn = self.learner.sample(MEASURE_POINTS, make_generator(self.config.seed + 3))
            self.drawn_at = self.step
        return self.drawn

    def last_losses(self) -> dict:
        return {name: round(values[-1][1], 4) for name, values in self.losses.items()}


def train(config: ToyConfig, on_step=None, should_stop=None, drawn=None) -> ToyRun:
    """The whole budget; `on_step(step, total, logs)` after each step, `should_stop()` ends it early."""
    run = ToyRun(config, drawn)
    run.advance(run.config.budget() - run.step, on_step=on_step, should_stop=should_stop)
    run.measure()
    return run


def parse_args(argv=None) -> ToyConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for field in fields(ToyConfig):
        kind = {"int | None": int, "str | None": str, "float | None": float}.get(str(field.type), field.type)
        kind = kind if callable(kind) else str
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=kind, default=field.default)
    parser.add_argument("--out", default="runs/toy", help="folder for the views and the curves")
    args = parser.parse_args(argv)
    out = Path(args.__dict__.pop("out"))
    return ToyConfig(**{k: v for k, v in vars(args).items()}), out


def main(argv=None) -> None:
    from .views import draw_views

    config, out = parse_args(argv)
    run = train(config, on_step=lambda step, total, logs: print(step, logs) if step % 200 == 0 else None)
    out.mkdir(parents=True, exist_ok=True)
    for name, image in draw_views(run).items():
        image.save(out / f"{name.replace(' ', '_')}.png")
    (out / "run.json").write_text(json.dumps({"config": asdict(run.config), "measures": run.measures,
                                              "losses": run.last_losses()}, indent=1))
    print(json.dumps(run.measures[-1]))
