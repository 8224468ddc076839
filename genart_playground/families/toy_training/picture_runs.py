"""Picture runs: a family's own training script (its `train_pictures` capability) trains a model from scratch
on the shapes world in a background thread; it pauses with a checkpoint and resumes from it, and each pause or
end registers the model (`lab/<name>`), so every tab that runs that family lists it, and writes its card.

`picture_lab(name, ...)` returns a `PictureRun`; `picture_training(name, ...)` runs one to its end.
"""

import io
import json
import re
import shutil
import threading
import time
import zipfile
from pathlib import Path

from ... import checks
from ...models import registry
from ...models.spec import ModelSpec
from ...refs import resolve_ref
from . import MAX_PICTURE_RUNS_KEPT, MAX_PICTURE_RUNS_TRAINING, MAX_PICTURE_STEPS, PICTURE_FAMILY, PICTURE_STEPS
from .charts import line_chart

RUNS_DIR = Path("runs") / "lab"  # under the working folder, never in the package
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
PREFIX = "lab/"  # the registered name of a run's model: lab/<name>

training: set[str] = set()  # the names of the runs training now, server-wide (each holds a CPU core)
guard = threading.Lock()


class PictureRun:
    """One model trained in the background: `start()` (or resume), `pause()`, `figures()`, `samples()`,
    `charts()`, `model` (its registered name once it has paused or finished), `card()`, `download()`."""

    def __init__(self, family: str, name: str, steps: int, seed: int, every: int, size: int,
                 orphan_after: float | None = None):
        self.family, self.name, self.steps, self.seed, self.every, self.size = family, name, steps, seed, every, size
        # A page watching the run calls `watched()` as it polls; past `orphan_after` seconds without one (the page
        # was closed or reloaded) the run pauses itself, with a checkpoint. None: no one needs to watch.
        self.orphan_after, self.last_watched = orphan_after, time.monotonic()
        self.out = RUNS_DIR / name
        self.step, self.losses, self.error, self.model = 0, {}, None, None
        self.seconds = 0.0  # training time so far, across pauses
        self.command = ""
        self.owner: str | None = None  # the visitor who trains it, in the page (tab.py)
        self.viewers: set[str] = set()  # the page sessions that trained or reattached it: a public server lists
        # its model to those pages only (registry.visible)
        self._stop = False
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> str:
        if self.error:
            return "failed"
        if self._thread is not None and self._thread.is_alive():
            return "pausing" if self._stop else "training"
        return "finished" if self.step >= self.steps else ("paused" if self.step else "new")

    def start(self) -> None:
        """Train (from the last checkpoint, if any) in a thread of its own; at most MAX_PICTURE_RUNS_TRAINING
        runs train at once on the server."""
        if self.state in ("training", "pausing", "finished"):
            return
        with guard:
            if len(training) >= MAX_PICTURE_RUNS_TRAINING:
                raise ValueError(f"{MAX_PICTURE_RUNS_TRAINING} picture runs are training on this server already; "
                                 "try again when one has paused or finished.")
            training.add(self.name)
        self._stop, self.error = False, None
        self.watched()
        self._thread = threading.Thread(target=self._train, name=f"picture-run-{self.name}", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        self._stop = True  # the script ends its step, writes a checkpoint and returns

    def watched(self) -> None:
        self.last_watched = time.monotonic()

    def _should_stop(self) -> bool:
        if self.orphan_after is not None and time.monotonic() - self.last_watched > self.orphan_after:
            self._stop = True  # no page has looked for a while: pause, resumable
        return self._stop

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _train(self) -> None:
        began = time.perf_counter()
        try:
            capability = resolve_ref(registry.family(self.family).capabilities["train_pictures"])
            checkpoint = self.out / "checkpoint"
            result = capability(self.out, self.steps, self.seed, self.every, self.size, on_step=self._on_step,
                                should_stop=self._should_stop, resume=checkpoint if checkpoint.is_dir() else None)
            self.seconds += time.perf_counter() - began
            self.command = result.get("command", "")
            self._register(result)
        except Exception as error:  # the page shows it; the thread must not die silently
            self.error = f"{type(error).__name__}: {error}"
        finally:
            with guard:
                training.discard(self.name)

    def _on_step(self, step: int, total: int, logs: dict) -> None:
        self.step = step
        for name, value in logs.items():
            self.losses.setdefault(name, []).append((step, value))

    def _register(self, result: dict) -> None:
        name = PREFIX + self.name
        registry.unregister(name)
        figures = self.figures()
        last = figures[-1] if figures else {}
        spec = ModelSpec(name, self.family, result["kind"], str(Path(result["folder"]).resolve()),
                         defaults=result.get("defaults", {}),
                         description=f"Trained in the training lab: {self.step} steps, "
                                     f"{100 * last.get('clean_fraction', 0):.0f} % clean.")
        registry.register(spec, viewers=self.viewers)
        from ...models.cache import cache

        cache.evict(name)  # a resumed run's new weights, not the cached old ones
        (Path(result["folder"]) / "README.md").write_text(self.card())
        self.model = name

    def figures(self) -> list[dict]:
        """The checker's figures so far (a line of quality.jsonl per evaluation)."""
        path = self.out / "quality.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def samples(self) -> Path | None:
        """The newest grid of samples from the script's fixed seeds."""
        grids = sorted(self.out.glob("samples_*.png"))
        return grids[-1] if grids else None

    def charts(self) -> list:
        figures = self.figures()
        shares = {"clean share": [(f["step"], f["clean_fraction"]) for f in figures],
                  "combinations covered": [(f["step"], f["train_combos_covered"] / f["train_combos_total"])
                                           for f in figures]}
        if any("shows_its_codes" in f for f in figures):  # clean and showing the class, prompt or original it was given
            shares["clean and as asked"] = [(f["step"], f["shows_its_codes"]) for f in figures if "shows_its_codes" in f]
        quality = line_chart(shares,
                             title="the checker's reading of its pictures, every evaluation", x_label="training step",
                             y_label="share", y_range=(0, 1))
        smooth = max(1, self.step // 200)
        losses = line_chart(dict(self.losses), title="losses per network" + (f" (running mean of {smooth} steps)"
                                                                             if smooth > 1 else ""),
                            x_label="training step", y_label="loss", smooth=smooth)
        return [quality, losses]

    def status(self) -> dict:
        figures = self.figures()  # read once: the file grows while the run trains
        last = figures[-1] if figures else {}
        return {"name": self.name, "state": self.state, "step": self.step, "steps": self.steps,
                "minutes": round(self.seconds / 60, 2), "model": self.model, "error": self.error,
                "clean_fraction": last.get("clean_fraction"), "clean_and_as_asked": last.get("shows_its_codes"),
                "combinations_covered": last.get("train_combos_covered")}

    def card(self) -> str:
        figures = self.figures()
        last = figures[-1] if figures else {}
        best = max(figures, key=lambda f: f.get("score", f.get("shows_its_codes", f["clean_fraction"])), default={})
        rows = "\n".join(f"| {f['step']} | {f.get('wall_s', 0) / 60:.1f} | {100 * f['clean_fraction']:.1f} % | "
                         f"{100 * f.get('shows_its_codes', float('nan')):.1f} % | "
                         f"{f['train_combos_covered']} / {f['train_combos_total']} |" for f in figures)
        title = registry.family(self.family).capability("train_pictures").title
        return f"""# {PREFIX}{self.name}

A {title} (the {self.family} family) trained in GenArt Playground's training lab on the shapes world at
{self.size}×{self.size}, from scratch, with the family's own training script. Load it with `from_pretrained` on
this folder, or pick `{PREFIX}{self.name}` in the app while the server that trained it runs.

- Steps: **{self.step}** of {self.steps}, seed {self.seed}; training time **{self.seconds / 60:.1f} minutes**
  on this machine.
- The project's checker on {last.get('samples', 64)} of its pictures at the last evaluation (samples; an
  autoencoder's: reconstructions): **{100 * last.get('clean_fraction', 0):.1f} %** one object on a clean
  background; **{100 * last.get('shows_its_codes', float('nan')):.1f} %** clean and showing the colour and shape
  it was asked for (its class, prompt or original); **{last.get('train_combos_covered', 0)} /
  {last.get('train_combos_total', 20)}** training colour×shape combinations among the clean ones. "Clean"
  alone forgives a blob: read the second figure. Best evaluation at step {best.get('step', '-')}.
- The same run from the command line: `{self.command}`

| step | minutes | clean | clean and as asked | combinations covered |
| --- | --- | --- | --- | --- |
{rows}
"""

    def download(self) -> bytes:
        """The model's folder (safetensors, config, this card) as a zip."""
        if self.model is None:
            raise ValueError("Pause or finish the run first: its model is saved then.")
        folder = Path(registry.resolve(self.family, self.model).source)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{self.name}/{path.relative_to(folder)}")
        return buffer.getvalue()


def make_room() -> None:
    """Keep at most MAX_PICTURE_RUNS_KEPT run folders: the oldest idle ones go (and their models with them)."""
    if not RUNS_DIR.is_dir():
        return
    folders = sorted((p for p in RUNS_DIR.iterdir() if p.is_dir() and p.name not in training),
                     key=lambda p: p.stat().st_mtime)
    for folder in folders[:max(0, len(folders) - MAX_PICTURE_RUNS_KEPT + 1)]:
        registry.unregister(PREFIX + folder.name)
        shutil.rmtree(folder, ignore_errors=True)


def picture_lab(name: str, *, family: str = PICTURE_FAMILY, steps: int = PICTURE_STEPS, seed: int = 0,
                every: int = 250, size: int | None = None, orphan_after: float | None = None) -> PictureRun:
    """A picture run of `family`'s own training script, named `name` (its model: lab/<name>), not started:
    `.start()`, `.pause()`, `.start()` again resumes. `size`: pixels a side, one the family's script trains
    (None: the smallest)."""
    # 1. Check inputs
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError("`name` must be 1 to 40 lowercase letters, digits and dashes, as in \"my-gan\".")
    trainable = registry.families_that("train_pictures")
    family = checks.check_choice("family", family, trainable)
    steps = checks.check_int("steps", steps, 2, MAX_PICTURE_STEPS)
    seed = checks.check_seed("seed", seed)
    every = checks.check_int("every", every, 1, MAX_PICTURE_STEPS)
    sizes = registry.family(family).capability("train_pictures").sizes
    size = min(sizes) if size is None else checks.check_int("size", size, 8, 1024)
    if size not in sizes:
        raise ValueError(f"{registry.family(family).title} trains at {' or '.join(f'{s}×{s}' for s in sizes)} "
                         f"pixels here, not {size}×{size}.")
    if orphan_after is not None:
        orphan_after = checks.check_float("orphan_after", orphan_after, 1.0, 3600.0)
    if name in training:
        raise ValueError(f"A run named {name!r} is training; pause it first, or pick another name.")
    # 2. A fresh folder (an earlier run of that name is replaced), room made on disk
    make_room()
    shutil.rmtree(RUNS_DIR / name, ignore_errors=True)
    registry.unregister(PREFIX + name)
    return PictureRun(family, name, steps, seed, every, size, orphan_after)
