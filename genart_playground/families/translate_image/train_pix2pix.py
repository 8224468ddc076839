"""Train the built-in Pix2Pix: a U-Net turns a shapes-world sketch into its picture, judged by a PatchGAN
that sees the sketch and the picture together, with an L1 loss against the true picture.

    python -m genart_playground.train pix2pix --out runs/pix2pix
    python -m genart_playground.train pix2pix --resume runs/pix2pix/checkpoint --out runs/pix2pix
    accelerate launch -m genart_playground.train pix2pix ...                   # several GPUs

Paired data: every training example is one scene drawn twice, as its sketch (`shapes.sketch`, with a
fresh wobble and a pen width from `pen_widths` each time it is seen) and as its picture
(`shapes.render`). Every `eval_every` steps the project's checker reads the EMA generator's
translations of sketches it never trained on; the best so far is written to `--out/best`, the last
to `--out/generator` (both `save_pretrained` folders), a checkpoint to `--out/checkpoint`.
"""

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ... import imaging
from ...data import shapes
from ...metrics import world
from .translation import SKETCH_TO_PICTURE, PatchDiscriminator, Translator, UNetGenerator
from ...train.common import ema_update, linear_decay, load_checkpoint, parse_config, save_checkpoint


@dataclass
class TrainConfig:
    """Train the shapes-world Pix2Pix (U-Net generator, PatchGAN discriminator, least-squares GAN + L1)."""

    dataset_size: int = 50_000  # distinct seeded scenes; each is sketched afresh every time it is drawn
    steps: int = 5_000  # see the model card for the curve: the checker's figure flattens well before
    batch_size: int = 16  # the paper's batch of 1 is slow per picture on a CPU; instance norm does not mind
    width: int = 16  # channels at the U-Net's first level (16-128): 0.29M parameters, 0.6 MB in fp16
    depth: int = 4  # 64 -> 4×4 at the bottleneck: it sees the whole picture, so it knows inside from outside
    disc_width: int = 32  # the PatchGAN's first layer; 34×34-pixel patches
    l1_weight: float = 100.0  # the paper's λ: L1 gets the colours and layout, the GAN only sharpens
    pen_widths: str = "1.5,2,3"  # pixels, a pen drawn at random per sketch: the contract's 2 px, thinner, bolder
    lr: float = 2e-4  # the paper's Adam settings, for both networks; held for the first half of the steps ...
    decay_from: float = 0.5  # ... then down to 0 linearly (the paper's schedule): the GAN's speckle settles
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.999  # averages the last ~1,000 steps: steadier colours than the raw weights
    seed: int = 0
    eval_every: int = 500  # the checker on `eval_samples` unseen sketches, and the best kept
    eval_samples: int = 256
    sample_every: int = 500  # a grid of sketches and translations, and a checkpoint
    out: str = "runs/pix2pix"
    resume: str = ""  # a checkpoint folder written by this script; empty: start fresh
    max_wall_s: float = 0.0  # stop (with a checkpoint) once this much wall time is spent; 0: run all `steps`
    threads: int = 0  # torch CPU threads; 0 leaves torch's default


# ---- data: sketches and pictures of seeded scenes ------------------------------------------------------


def sketches(scenes: list[shapes.Scene], tag: str, pen_widths) -> torch.Tensor:
    """Each scene's sketch with a wobble and pen of its own, from `tag` (the same tag, the same sketches)."""
    drawn = []
    for i, scene in enumerate(scenes):
        rng = random.Random(f"{tag}/{i}")
        drawn.append(shapes.sketch(scene, rng, width=rng.choice(pen_widths)))
    return torch.cat([imaging.to_tensor(image) for image in drawn])


def pictures(scenes: list[shapes.Scene]) -> torch.Tensor:
    return torch.cat([imaging.to_tensor(shapes.render(scene)) for scene in scenes])


def batch_scenes(dataset: shapes.ShapesDataset, cfg, step: int, rank: int, stream: int = 0) -> list[shapes.Scene]:
    # Indices from (seed, step, rank, stream): a resumed run sees exactly the batches it would have seen.
    noise = torch.Generator("cpu").manual_seed(cfg.seed * 1_000_003 + step * 101 + rank * 7 + stream)
    return [dataset.scene(int(i)) for i in torch.randint(len(dataset), (cfg.batch_size,), generator=noise)]


# ---- judging ------------------------------------------------------------------------------------------


@torch.no_grad()
def translate(generator: UNetGenerator, images: list) -> list:
    device = next(generator.parameters()).device
    x = torch.cat([imaging.to_tensor(image) for image in images])
    return imaging.to_pil(torch.cat([generator(chunk.to(device)).float().cpu() for chunk in x.split(64)]))


def evaluate(generator: UNetGenerator, n: int, seed: int = 0) -> dict:
    """The checker's reading of the translations of n unseen scenes' sketches (their own wobble, 2 px pen)."""
    scenes = world.translation_scenes(n, seed)
    return world.translation_scores(translate(generator, [shapes.sketch(scene) for scene in scenes]), scenes)


def learning_rate(cfg, step: int) -> float:
    """`cfg.lr` until `decay_from` × steps, then linearly down to 0 at the last step."""
    return cfg.lr * linear_decay(step, steps=cfg.steps, decay_from=cfg.decay_from)


def lsgan_loss(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN (Mao et al., 2017), as CycleGAN's code uses: steadier gradients than the log loss."""
    return F.mse_loss(scores, torch.full_like(scores, 1.0 if real else 0.0))


# ---- training ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(TrainConfig, argv))


def train(cfg: TrainConfig, on_step=None, should_stop=None) -> Path:
    """Train; `on_step(step, total, logs)` after every step, `should_stop()` ends the run early with a
    checkpoint it can resume from. Returns the best generator's folder."""
    from accelerate import Accelerator

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    accelerator = Accelerator()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    pen_widths = [float(width) for width in cfg.pen_widths.split(",")]

    # 1. Data, models, optimisers (seeded, so the same seed builds the same networks)
    dataset = shapes.ShapesDataset(cfg.dataset_size, seed=cfg.seed, split="train")
    torch.manual_seed(cfg.seed)
    generator = UNetGenerator(width=cfg.width, depth=cfg.depth, image_size=shapes.IMAGE_SIZE)
    ema = UNetGenerator(width=cfg.width, depth=cfg.depth, image_size=shapes.IMAGE_SIZE)
    discriminator = PatchDiscriminator(in_channels=6, width=cfg.disc_width)
    ema.load_state_dict(generator.state_dict())
    ema.requires_grad_(False)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))

    # 2. Resume: weights, EMA and optimiser moments from the checkpoint folder
    start, elapsed, best = 0, 0.0, -1.0
    if cfg.resume:
        info = load_checkpoint(cfg.resume, modules={"generator": generator, "discriminator": discriminator, "ema": ema},
                               optimizers={"generator": opt_g, "discriminator": opt_d})
        start, elapsed, best = info["step"], info.get("wall_s", 0.0), info.get("best_score", -1.0)
        accelerator.print(f"resumed from {cfg.resume} at step {start}")
    generator, discriminator, opt_g, opt_d = accelerator.prepare(generator, discriminator, opt_g, opt_d)
    ema.to(accelerator.device)
    rank = accelerator.process_index

    # 3. The loop: the discriminator judges (sketch, picture) pairs, then the generator fools it and matches L1
    began = time.time()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not accelerator.is_main_process)
    for step in bar:
        for optimizer in (opt_g, opt_d):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(cfg, step)
        scenes = batch_scenes(dataset, cfg, step, rank)
        sketch = sketches(scenes, f"pix2pix/{cfg.seed}/{step}/{rank}", pen_widths).to(accelerator.device)
        real = pictures(scenes).to(accelerator.device)

        fake = generator(sketch)
        scores = discriminator(torch.cat([torch.cat([sketch, real], 1), torch.cat([sketch, fake.detach()], 1)]))
        loss_d = 0.5 * (lsgan_loss(scores[: len(real)], True) + lsgan_loss(scores[len(real):], False))
        opt_d.zero_grad(set_to_none=True)
        accelerator.backward(loss_d)
        opt_d.step()

        loss_gan = lsgan_loss(discriminator(torch.cat([sketch, fake], 1)), True)
        loss_l1 = F.l1_loss(fake, real)
        loss_g = loss_gan + cfg.l1_weight * loss_l1
        opt_g.zero_grad(set_to_none=True)
        accelerator.backward(loss_g)
        opt_g.step()
        # Warm-up: early on the EMA follows closely, so it is not stuck near the random start.
        ema_update(ema, accelerator.unwrap_model(generator), min(cfg.ema_decay, (1 + step) / (10 + step)))
        logs = {"loss_d": loss_d.item(), "loss_gan": loss_gan.item(), "loss_l1": loss_l1.item()}
        bar.set_postfix(d=f"{logs['loss_d']:.3f}", g=f"{logs['loss_gan']:.3f}", l1=f"{logs['loss_l1']:.4f}")

        # 4. Every `eval_every` steps: the checker on unseen sketches; the best EMA generator kept
        done = step + 1
        wall = elapsed + time.time() - began
        if on_step is not None:
            on_step(done, cfg.steps, logs)
        if (done % cfg.eval_every == 0 or done == cfg.steps) and accelerator.is_main_process:
            best = _evaluate(cfg, out, done, wall, ema, best)
        # 5. Every `sample_every` steps and at the end: a grid, a checkpoint, the generator folder
        out_of_time = (bool(cfg.max_wall_s) and wall > cfg.max_wall_s) or (should_stop is not None and should_stop())
        if (done % cfg.sample_every == 0 or done == cfg.steps or out_of_time) and accelerator.is_main_process:
            _publish(cfg, out, done, wall, accelerator.unwrap_model(generator),
                     accelerator.unwrap_model(discriminator), ema, opt_g, opt_d, best)
        accelerator.wait_for_everyone()
        if out_of_time:
            break
    return out / "best"


def _evaluate(cfg, out: Path, step: int, wall: float, ema, best: float) -> float:
    quality = {"step": step, "wall_s": round(wall, 1), **evaluate(ema, cfg.eval_samples, seed=cfg.seed)}
    score = quality["all"] + 0.1 * quality["clean"]  # right first; between equals, the cleaner
    quality["best"] = score > best
    if quality["best"]:
        save_generator(ema, out / "best")
        best = score
    with open(out / "quality.jsonl", "a") as log:
        log.write(json.dumps({key: round(v, 4) if isinstance(v, float) else v for key, v in quality.items()}) + "\n")
    tqdm.write(json.dumps(quality))
    return best


def save_generator(generator: UNetGenerator, folder: Path) -> None:
    """The folder the image-translation family loads (`Translator.from_folder`), in half precision."""
    Translator({SKETCH_TO_PICTURE: generator}).save_pretrained(folder)


def _publish(cfg, out: Path, step: int, wall: float, generator, discriminator, ema, opt_g, opt_d, best: float) -> None:
    scenes = world.translation_scenes(8, seed=cfg.seed + 1)
    drawn = [shapes.sketch(scene) for scene in scenes]
    imaging.grid(drawn + translate(ema, drawn) + [shapes.render(s) for s in scenes], columns=8).save(
        out / f"samples_{step:06d}.png")
    save_checkpoint(out / "checkpoint", modules={"generator": generator, "discriminator": discriminator, "ema": ema},
                    optimizers={"generator": opt_g, "discriminator": opt_d}, step=step,
                    extra={"wall_s": wall, "best_score": best, "config": asdict(cfg)})
    save_generator(ema, out / "generator")


if __name__ == "__main__":
    main()
