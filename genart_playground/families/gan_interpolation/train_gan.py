"""Train the built-in GAN: a class-conditional upsample+conv generator against a spectral-norm projection
discriminator, hinge loss, EMA.

    python -m genart_playground.train gan --out runs/gan                                # stage 1
    python -m genart_playground.train gan --resume runs/gan/checkpoint --steps 13250 \
        --code_sharpness 100 --out runs/gan                                           # stage 2
    accelerate launch -m genart_playground.train gan ...                              # several GPUs

Every `sample_every` steps an 8×8 grid of the EMA generator's samples is written to `--out`, and a
checkpoint (safetensors only) to `--out/checkpoint`; the EMA generator is saved with
`save_pretrained` to `--out/generator`. Every `eval_every` steps the picture checker below scores the
EMA generator, and the best one so far is saved to `--out/best`: GAN quality drifts up and down, so
the last weights are not necessarily the ones to ship.
"""

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ... import imaging
from ...metrics import world
from ...data import shapes
from ...latents import gaussian
from .dcgan import Discriminator, Generator, code_labels
from ...train.common import ema_update, load_checkpoint, parse_config, save_checkpoint


@dataclass
class TrainConfig:
    """Train the shapes-world GAN (upsample+conv generator, spectral-norm discriminator, hinge loss)."""

    data: str = "shapes"  # the shapes world, or a folder of your own images
    dataset_size: int = 50_000  # distinct seeded scenes; ~80 per discrete layout, so jitter is well covered
    image_size: int = 64  # the shapes world's size
    steps: int = 12_500  # stage 1 of the shipped model: 46 minutes on one shared CPU thread (see its card)
    batch_size: int = 32  # GANs need many small steps more than big batches; 64 halves the steps per CPU minute
    latent_dim: int = 64  # plenty for ~600 discrete layouts plus jitter; small z interpolates smoothly
    width: int = 24  # channels of the generator's 32×32 map: 0.54M parameters with the codes, 2.2 MB
    upsample: str = "nearest"  # nearest + 3×3 conv: no speckle in flat areas; "transposed" is DCGAN's
    minibatch_std: bool = True  # the discriminator sees each group's spread: against dropped modes
    conditional: bool = True  # shapes world only: z's codes name the colour×shape and the background, so no
    #                           combination can be dropped and the background is given (see dcgan.py)
    code_sharpness: float = 20.0  # stage 1: soft edges learn faster (100 from the start: 72 % clean at step 6,000
    #                                against 81 %), but 15 % of z per code then blend two classes (dark gray
    #                                backgrounds), so stage 2 resumes with 100 (see dcgan.py)
    lr_g: float = 1e-4  # two time-scale update rule (Heusel et al., 2017; SAGAN): a slow generator ...
    lr_d: float = 4e-4  # ... and a fast discriminator, so one discriminator step per generator step suffices
    beta1: float = 0.0  # SAGAN/BigGAN's value: no momentum, the discriminator's target moves every step
    beta2: float = 0.9
    ema_decay: float = 0.999  # averages the last ~1,000 steps: smoother, cleaner samples than the raw weights
    seed: int = 0
    sample_every: int = 500  # a grid and a checkpoint every few minutes on a CPU
    eval_every: int = 250  # score the EMA generator this often and keep the best (GAN quality drifts)
    eval_samples: int = 256  # samples the checker scores at each evaluation (512 in the model card)
    out: str = "runs/gan"
    resume: str = ""  # a checkpoint folder written by this script; empty: start fresh
    max_wall_s: float = 0.0  # stop (with a checkpoint) once this much wall time is spent; 0: run all `steps`
    threads: int = 0  # torch CPU threads; 0 leaves torch's default


# ---- sampling and judging (the checker's scoring is in metrics/world.py) ------------------------

def latents(generator: Generator, n: int, seed: int) -> torch.Tensor:
    return gaussian(seed, n, generator.latent_dim)


@torch.no_grad()
def draw(generator: Generator, z: torch.Tensor) -> list:
    device = next(generator.parameters()).device
    return imaging.to_pil(torch.cat([generator(chunk.to(device)).cpu() for chunk in z.split(256)]))


def sample(generator: Generator, n: int, seed: int) -> list:
    return draw(generator, latents(generator, n, seed))


def evaluate(generator: Generator, n: int, seed: int) -> dict:
    """`measure` on n samples; for a conditional generator, with the classes each sample's codes name."""
    z = latents(generator, n, seed)
    return world.measure(draw(generator, z), generator.describe(z) if generator.codes else None)


# ---- training ---------------------------------------------------------------------------------


def hinge_losses(real_scores, fake_scores):
    """The discriminator's hinge loss (Lim & Ye, 2017; SN-GAN); the generator's loss is -mean(fake score)."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


@torch.no_grad()
def standing_stats(generator: Generator, *, batches: int = 8, batch_size: int = 128, seed: int = 0) -> None:
    """Recompute batch-norm statistics for the EMA weights (BigGAN's 'standing statistics').

    The running statistics were gathered with the raw weights; the EMA's activations differ a little,
    and in eval mode that shows as washed-out colours.
    """
    device = next(generator.parameters()).device
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not norms:  # a generator without batch norm (the StyleGAN) has no statistics to redo
        return
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the batches below
    generator.train()
    noise = torch.Generator("cpu").manual_seed(seed)
    for _ in range(batches):
        generator(torch.randn(batch_size, generator.latent_dim, generator=noise).to(device))
    for norm in norms:
        norm.momentum = 0.1
    generator.eval()


def scene_labels(scene: shapes.Scene) -> list[int]:
    return [shapes.TRAIN_COMBOS.index((scene.color, scene.shape)), list(shapes.BACKGROUNDS).index(scene.background)]


def real_batch(dataset, step: int, cfg: TrainConfig, rank: int, conditional: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    # Indices from (seed, step, rank): a resumed run sees exactly the batches it would have seen.
    noise = torch.Generator("cpu").manual_seed(cfg.seed * 1_000_003 + step * 101 + rank)
    indices = [int(i) for i in torch.randint(len(dataset), (cfg.batch_size,), generator=noise)]
    images = torch.stack([dataset[i][0] for i in indices])
    if images.shape[-1] != cfg.image_size:  # a smaller GAN learns the world box-filtered down, as the flow does
        images = F.interpolate(images, size=(cfg.image_size, cfg.image_size), mode="area")
    return images, torch.tensor([scene_labels(dataset.scene(i)) for i in indices]) if conditional else None


def score(quality: dict) -> float:
    """One number to keep the best generator by: clean fraction times the share of training combos covered."""
    return quality["clean_fraction"] * quality["train_combos_covered"] / quality["train_combos_total"]


def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(TrainConfig, argv))


def train(cfg: TrainConfig, on_step=None, should_stop=None) -> Path:
    """Train; `on_step(step, total, logs)` after every step, `should_stop()` ends the run early with a
    checkpoint it can resume from. Returns the EMA generator's folder."""
    from accelerate import Accelerator

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    accelerator = Accelerator()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Data, models, optimisers (seeded, so the same seed builds the same networks)
    dataset = shapes.make_dataset(cfg.data, cfg.dataset_size, seed=cfg.seed, split="train", size=cfg.image_size)
    codes = shapes.shapes_codes() if cfg.conditional and cfg.data == "shapes" else []
    torch.manual_seed(cfg.seed)
    shape = dict(latent_dim=cfg.latent_dim, width=cfg.width, image_size=cfg.image_size, upsample=cfg.upsample, codes=codes,
                 sharpness=cfg.code_sharpness)
    generator, ema = Generator(**shape), Generator(**shape)
    discriminator = Discriminator(width=cfg.width, image_size=cfg.image_size, minibatch_std=cfg.minibatch_std,
                                  classes=tuple(len(names) for names in codes))
    ema.load_state_dict(generator.state_dict())
    ema.requires_grad_(False)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))

    # 2. Resume: weights, EMA and optimiser moments from the checkpoint folder
    start, elapsed, best = 0, 0.0, -1.0
    if cfg.resume:
        info = load_checkpoint(cfg.resume, modules={"generator": generator, "discriminator": discriminator,
                                                    "ema": ema}, optimizers={"generator": opt_g, "discriminator": opt_d})
        start, elapsed, best = info["step"], info.get("wall_s", 0.0), info.get("best_score", -1.0)
        accelerator.print(f"resumed from {cfg.resume} at step {start}")
    generator, discriminator, opt_g, opt_d = accelerator.prepare(generator, discriminator, opt_g, opt_d)
    ema.to(accelerator.device)
    rank = accelerator.process_index

    # 3. The loop: one discriminator step, then one generator step, then the EMA
    began = time.time()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not accelerator.is_main_process)
    for step in bar:
        real, real_labels = real_batch(dataset, step, cfg, rank, bool(codes))
        noise = torch.Generator("cpu").manual_seed(cfg.seed * 1_000_003 + step * 101 + rank + 50)
        z = torch.randn(2, cfg.batch_size, cfg.latent_dim, generator=noise)
        labels = [code_labels(half, codes) if codes else None for half in z]  # the classes z's codes name
        z, real = z.to(accelerator.device), real.to(accelerator.device)

        fake = generator(z[0])
        both = torch.cat([real_labels, labels[0]]).to(accelerator.device) if codes else None
        scores = discriminator(torch.cat([real, fake.detach()]), both)  # one call: DDP wants one forward per backward
        loss_d = hinge_losses(scores[: len(real)], scores[len(real):])
        opt_d.zero_grad(set_to_none=True)
        accelerator.backward(loss_d)
        opt_d.step()

        loss_g = -discriminator(generator(z[1]), labels[1].to(accelerator.device) if codes else None).mean()
        opt_g.zero_grad(set_to_none=True)
        accelerator.backward(loss_g)
        opt_g.step()

        # Warm-up: early on the EMA follows closely, so it is not stuck near the random start.
        ema_update(ema, accelerator.unwrap_model(generator), min(cfg.ema_decay, (1 + step) / (10 + step)))
        bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}")

        # 4. Every `eval_every` steps: score the EMA generator, keep it in `--out/best` if it is the best yet
        done = step + 1
        wall = elapsed + time.time() - began
        if on_step is not None:
            on_step(done, cfg.steps, {"loss_d": loss_d.item(), "loss_g": loss_g.item()})
        if (done % cfg.eval_every == 0 or done == cfg.steps) and accelerator.is_main_process:
            best = keep_best(cfg, out, done, wall, ema, best)
        # 5. Every `sample_every` steps and at the end: samples, a checkpoint, the generator folder
        out_of_time = (bool(cfg.max_wall_s) and wall > cfg.max_wall_s) or (should_stop is not None and should_stop())
        if (done % cfg.sample_every == 0 or done == cfg.steps or out_of_time) and accelerator.is_main_process:
            publish(cfg, out, done, wall, accelerator.unwrap_model(generator),
                     accelerator.unwrap_model(discriminator), ema, opt_g, opt_d, best)
        accelerator.wait_for_everyone()
        if out_of_time:  # on a shared machine the step rate varies; the wall-time budget is what is planned
            break
    return out / "generator"


def keep_best(cfg, out: Path, step: int, wall: float, ema, best: float) -> float:
    """Score the EMA generator with the checker, log it, and save it to `out/best` if it beats `best`."""
    standing_stats(ema, seed=cfg.seed)
    quality = {"step": step, "wall_s": round(wall, 1), **evaluate(ema, cfg.eval_samples, seed=4321)}
    quality["score"] = round(score(quality), 4)
    quality["best"] = quality["score"] > best
    if quality["best"]:
        ema.save_pretrained(out / "best")
        best = quality["score"]
    with open(out / "quality.jsonl", "a") as log:
        log.write(json.dumps(quality) + "\n")
    tqdm.write(json.dumps(quality))
    return best


def publish(cfg, out: Path, step: int, wall: float, generator, discriminator, ema, opt_g, opt_d, best: float) -> None:
    """A grid of the EMA generator's samples, a resumable checkpoint, and the EMA generator's folder."""
    standing_stats(ema, seed=cfg.seed)
    imaging.grid(sample(ema, 64, seed=1234), columns=8).save(out / f"samples_{step:06d}.png")
    save_checkpoint(out / "checkpoint", modules={"generator": generator, "discriminator": discriminator, "ema": ema},
                    optimizers={"generator": opt_g, "discriminator": opt_d}, step=step,
                    extra={"wall_s": wall, "best_score": best, "config": asdict(cfg)})
    ema.save_pretrained(out / "generator")


if __name__ == "__main__":
    main()
