"""Train the built-in flow: a class-conditional Glow on the shapes world at 32×32, by maximum likelihood.

The classes are what a prompt can name: colour×shape (the GANs' 20 codes), background, position and size.

    python -m genart_playground.train flow --out runs/flow

The loss is the negative log-likelihood itself, in bits per dimension: no adversary, no bound, no
noise schedule. Every `eval_every` steps the EMA model's bits/dim on held-out pictures and the
checker's reading of its samples at temperature 0.7 are logged to `--out/quality.jsonl`, and the
best so far (by the checker) is saved to `--out/best`; `--out/model` holds the last EMA weights and
`--out/checkpoint` a resumable checkpoint (safetensors only).
"""

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from PIL import Image
from tqdm.auto import tqdm

from ... import imaging
from ...data import shapes
from ...devices import make_generator
from ...metrics import world
from ...train.common import ema_update, parse_config, resume, save_checkpoint, warmup_cosine
from .glow import Glow
from .classes import flow_codes
from .likelihood import all_labels, conditional_log_likelihood, dequantise


@dataclass
class TrainConfig:
    """Train the shapes-world flow (class-conditional Glow, 32×32)."""

    dataset_size: int = 20_000  # distinct seeded scenes, rendered once at the start (~1 minute)
    image_size: int = 32  # 3,072 dimensions: a quarter of 64×64's cost per step, so ~6,000 steps fit an hour on 2 cores
    levels: int = 3  # 16×16, 8×8, 4×4: the top level's z is 4×4×48, where a shape's colour and place are decided
    steps_per_level: int = 8  # flow steps per level (Glow used 32 on CIFAR-10; the shapes world is far simpler)
    hidden: int = 96  # channels of each coupling network: 1.4M parameters, 5.6 MB in fp32
    embed_dim: int = 64  # the class embedding added inside every coupling network and prior
    batch_size: int = 64
    steps: int = 6_000
    lr: float = 1e-3  # Glow's; a warm-up keeps the first steps from undoing the data-dependent ActNorm start
    warmup: int = 200
    grad_clip: float = 50.0  # a rare huge gradient (a coupling scale near 0) cannot throw the weights away
    ema_decay: float = 0.999  # samples from the average of the last ~1,000 steps' weights are cleaner
    temperature: float = 0.7  # the samples judged while training (the Glow paper's choice)
    eval_every: int = 500
    eval_samples: int = 240  # of random classes (of 600: colour×shape × background × position × size)
    heldout_pictures: int = 512  # bits/dim is measured on scenes of another seed, never trained on
    seed: int = 0
    out: str = "runs/flow"
    resume: str = ""  # a checkpoint folder written by this script; empty: start fresh
    max_wall_s: float = 0.0  # stop (with a checkpoint) once this much wall time is spent; 0: run all `steps`
    threads: int = 0  # torch CPU threads; 0 leaves torch's default


# ---- the data: shapes-world scenes at the flow's size, with their classes --------------------------------------

def scene_labels(scene: shapes.Scene) -> list[int]:
    """A scene's classes, in the order of `flow_codes()`."""
    return [shapes.TRAIN_COMBOS.index((scene.color, scene.shape)), list(shapes.BACKGROUNDS).index(scene.background),
            list(shapes.POSITIONS).index(scene.position), list(shapes.SIZES).index(scene.size)]


def shapes_pictures(n: int, *, seed: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n scenes as uint8 pictures (n, 3, size, size), box-filtered down from the world's 64×64, and their labels."""
    dataset = shapes.ShapesDataset(n, seed=seed)
    pictures, labels = [], []
    for i in range(n):
        scene = dataset.scene(i)
        picture = shapes.render(scene).resize((size, size), Image.BOX)
        pictures.append(torch.from_numpy(shapes.as_array(picture).copy()).permute(2, 0, 1))
        labels.append(scene_labels(scene))
    return torch.stack(pictures), torch.tensor(labels)


# ---- judging -----------------------------------------------------------------------------------------------------

def heldout_bits_per_dim(model: Glow, pictures: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean bits/dim of held-out pictures given their classes (the conditional likelihood)."""
    return float(model.bits_per_dim(conditional_log_likelihood(model, pictures, labels, seed=7)).mean())


@torch.no_grad()
def sample_quality(model: Glow, n: int, temperature: float, seed: int = 4321) -> tuple[dict, list]:
    """The checker's reading of n samples of random classes (clean share, combos covered, class shown), and
    the samples."""
    classes = all_labels(model)
    labels = classes[torch.randint(len(classes), (n,), generator=make_generator(seed + 1))]
    pixels = model.decode(model.embed(labels), temperature=temperature, generator=make_generator(seed))
    named = [[model.codes[i][int(k)] for i, k in enumerate(row[:2])] for row in labels]  # what measure() reads
    images = imaging.to_pil(pixels.clamp(0, 1) * 2 - 1)
    return world.measure(images, named), images


def score(quality: dict) -> float:
    """What the best model is kept by: clean share × combos covered × the share showing their class."""
    return quality["clean_fraction"] * quality["train_combos_covered"] / quality["train_combos_total"] \
        * quality["shows_its_codes"]


# ---- training ----------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(TrainConfig, argv))


def train(cfg: TrainConfig, on_step=None, should_stop=None) -> Path:
    """Train; `on_step(step, total, logs)` after every step, `should_stop()` ends the run early with a
    checkpoint it can resume from. Returns the EMA model's folder."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Data: training scenes and held-out scenes (another seed), rendered once
    pictures, labels = shapes_pictures(cfg.dataset_size, seed=cfg.seed, size=cfg.image_size)
    heldout, heldout_labels = shapes_pictures(cfg.heldout_pictures, seed=cfg.seed + 1_000, size=cfg.image_size)

    # 2. The model, its ActNorm layers set from a first batch, an EMA copy, the optimiser
    torch.manual_seed(cfg.seed)
    shape = dict(image_size=cfg.image_size, levels=cfg.levels, steps_per_level=cfg.steps_per_level,
                 hidden=cfg.hidden, embed_dim=cfg.embed_dim, codes=flow_codes())
    model, ema = Glow(**shape), Glow(**shape)
    noise = make_generator(cfg.seed)
    with torch.no_grad():
        model.train()
        model.encode(dequantise(pictures[:512], noise), model.embed(labels[:512]))
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False).eval()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    schedule = warmup_cosine(optimizer, warmup=cfg.warmup, steps=cfg.steps)
    info = resume(cfg.resume, modules={"model": model, "ema": ema}, optimizers={"model": optimizer},
                  schedule=schedule) if cfg.resume else {}
    start, elapsed, best = info.get("step", 0), info.get("wall_s", 0.0), info.get("best_score", -1.0)

    # 3. The loop: maximum likelihood on dequantised pictures
    began = time.time()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps)
    for step in bar:
        batch = make_generator(cfg.seed * 1_000_003 + step)  # a resumed run sees the batches it would have seen
        index = torch.randint(len(pictures), (cfg.batch_size,), generator=batch)
        x = dequantise(pictures[index], batch)
        _, log_p = model.encode(x, model.embed(labels[index]))
        loss = model.bits_per_dim(log_p).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        schedule.step()
        ema_update(ema, model, min(cfg.ema_decay, (1 + step) / (10 + step)))
        bar.set_postfix(bpd=f"{loss.item():.3f}")

        # 4. Every `eval_every` steps: held-out bits/dim and the checker on samples; keep the best
        done, wall = step + 1, elapsed + time.time() - began
        if on_step is not None:
            on_step(done, cfg.steps, {"bits_per_dim": loss.item()})
        out_of_time = (bool(cfg.max_wall_s) and wall > cfg.max_wall_s) or (should_stop is not None and should_stop())
        if done % cfg.eval_every == 0 or done == cfg.steps or out_of_time:
            best = keep_best(cfg, out, done, wall, ema, heldout, heldout_labels, best)
            save_checkpoint(out / "checkpoint", modules={"model": model, "ema": ema}, optimizers={"model": optimizer},
                            step=done, extra={"wall_s": wall, "best_score": best, "config": asdict(cfg)})
            ema.save_pretrained(out / "model")
        if out_of_time:
            break
    return out / "model"


def keep_best(cfg, out: Path, step: int, wall: float, ema: Glow, heldout, heldout_labels, best: float) -> float:
    measured, images = sample_quality(ema, cfg.eval_samples, cfg.temperature)
    quality = {"step": step, "wall_s": round(wall, 1),
               "heldout_bits_per_dim": round(heldout_bits_per_dim(ema, heldout, heldout_labels), 4), **measured}
    imaging.grid(images[:64], columns=8).save(out / f"samples_{step:06d}.png")  # the judged samples, fixed seeds
    quality["score"] = round(score(quality), 4)
    quality["best"] = quality["score"] > best
    if quality["best"]:
        ema.save_pretrained(out / "best")
        best = quality["score"]
    with open(out / "quality.jsonl", "a") as log:
        log.write(json.dumps(quality) + "\n")
    tqdm.write(json.dumps(quality))
    return best


if __name__ == "__main__":
    main()
