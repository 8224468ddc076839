"""Train the built-in CycleGAN: two U-Nets, sketch -> picture (G) and picture -> sketch (F), each judged by a
PatchGAN of its own side, learnt from sketches and pictures of *different* scenes (no pairs).

    python -m genart_playground.train cyclegan --out runs/cyclegan
    python -m genart_playground.train cyclegan --resume runs/cyclegan/checkpoint --out runs/cyclegan
    accelerate launch -m genart_playground.train cyclegan ...                   # several GPUs

Without pairs nothing says which picture a sketch should become; the cycle losses ask that F(G(sketch))
gives the sketch back and G(F(picture)) the picture, and the identity losses that G leaves a picture
(and F a sketch) alone, which keeps the colours (Zhu et al., 2017). The checker judges G on unseen
sketches as it judges Pix2Pix, and the round trip's PSNR is logged beside it; the best G (with its F)
is kept in `--out/best`, the last in `--out/generator`, a checkpoint in `--out/checkpoint`.
"""

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ... import imaging, metrics
from ...data import shapes
from ...data.directions import PICTURE_TO_SKETCH, SKETCH_TO_PICTURE
from ...metrics import world
from .translation import PatchDiscriminator, Translator, UNetGenerator
from ...train.common import ema_update, load_checkpoint, parse_config, save_checkpoint
from .train_pix2pix import batch_scenes, learning_rate, lsgan_loss, pictures, sketches


@dataclass
class TrainConfig:
    """Train the shapes-world CycleGAN (two U-Nets, two PatchGANs, least-squares GAN + cycle + identity)."""

    dataset_size: int = 50_000  # distinct seeded scenes; a batch's sketches and pictures come from different ones
    steps: int = 8_000  # see the model card: each step trains two generators and two discriminators
    batch_size: int = 16
    width: int = 16  # each U-Net as Pix2Pix's: 0.29M parameters, 0.6 MB in fp16
    depth: int = 4
    disc_width: int = 32
    cycle_weight: float = 10.0  # the paper's λ: the round trips carry the pairing the data lacks
    identity_weight: float = 5.0  # the paper's 0.5 λ: G leaves a picture alone, so it keeps colours
    pen_widths: str = "1.5,2,3"  # as Pix2Pix's sketches
    lr: float = 2e-4  # the paper's Adam settings; held for the first half of the steps, then down to 0 ...
    decay_from: float = 0.5  # ... linearly over the rest (the papers' schedule): the GAN's speckle settles
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.999
    seed: int = 0
    eval_every: int = 500
    eval_samples: int = 256
    sample_every: int = 500
    out: str = "runs/cyclegan"
    resume: str = ""  # a checkpoint folder written by this script; empty: start fresh
    max_wall_s: float = 0.0  # stop (with a checkpoint) once this much wall time is spent; 0: run all `steps`
    threads: int = 0  # torch CPU threads; 0 leaves torch's default


@torch.no_grad()
def evaluate(translator: Translator, n: int, seed: int = 0) -> dict:
    """The checker on G's translations of n unseen sketches, and the mean PSNR of their round trips."""
    scenes = world.translation_scenes(n, seed)
    x = torch.cat([imaging.to_tensor(shapes.sketch(scene)) for scene in scenes])
    device = next(translator.parameters()).device
    out = torch.cat([translator(chunk.to(device), SKETCH_TO_PICTURE).cpu() for chunk in x.split(64)]).clamp(-1, 1)
    back = torch.cat([translator(chunk.to(device), PICTURE_TO_SKETCH).cpu() for chunk in out.split(64)]).clamp(-1, 1)
    scores = world.translation_scores(imaging.to_pil(out), scenes)
    scores["cycle_psnr"] = float(metrics.psnr_per_image(x, back).mean())
    return scores


def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(TrainConfig, argv))


def train(cfg: TrainConfig, on_step=None, should_stop=None) -> Path:
    """Train; `on_step(step, total, logs)` after every step, `should_stop()` ends the run early with a
    checkpoint it can resume from. Returns the best translator's folder."""
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
    shape = dict(width=cfg.width, depth=cfg.depth, image_size=shapes.IMAGE_SIZE)
    to_picture, to_sketch = UNetGenerator(**shape), UNetGenerator(**shape)
    ema = Translator({SKETCH_TO_PICTURE: UNetGenerator(**shape), PICTURE_TO_SKETCH: UNetGenerator(**shape)})
    judge_picture, judge_sketch = PatchDiscriminator(3, cfg.disc_width), PatchDiscriminator(3, cfg.disc_width)
    ema.generators[SKETCH_TO_PICTURE].load_state_dict(to_picture.state_dict())
    ema.generators[PICTURE_TO_SKETCH].load_state_dict(to_sketch.state_dict())
    ema.requires_grad_(False)
    betas = (cfg.beta1, cfg.beta2)
    opt_g = torch.optim.Adam([*to_picture.parameters(), *to_sketch.parameters()], lr=cfg.lr, betas=betas)
    opt_d = torch.optim.Adam([*judge_picture.parameters(), *judge_sketch.parameters()], lr=cfg.lr, betas=betas)
    modules = {"to_picture": to_picture, "to_sketch": to_sketch, "judge_picture": judge_picture,
               "judge_sketch": judge_sketch, "ema": ema}

    # 2. Resume: weights, EMA and optimiser moments from the checkpoint folder
    start, elapsed, best = 0, 0.0, -1.0
    if cfg.resume:
        info = load_checkpoint(cfg.resume, modules=modules, optimizers={"generators": opt_g, "discriminators": opt_d})
        start, elapsed, best = info["step"], info.get("wall_s", 0.0), info.get("best_score", -1.0)
        accelerator.print(f"resumed from {cfg.resume} at step {start}")
    to_picture, to_sketch, judge_picture, judge_sketch, opt_g, opt_d = accelerator.prepare(
        to_picture, to_sketch, judge_picture, judge_sketch, opt_g, opt_d)
    ema.to(accelerator.device)
    rank = accelerator.process_index

    # 3. The loop: both generators against both critics, plus the round trips and identities
    began = time.time()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not accelerator.is_main_process)
    for step in bar:
        for optimizer in (opt_g, opt_d):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(cfg, step)
        # Unpaired: the sketches and the pictures are of different scenes (two index streams).
        sketch = sketches(batch_scenes(dataset, cfg, step, rank, stream=0), f"cyclegan/{cfg.seed}/{step}/{rank}",
                          pen_widths).to(accelerator.device)
        picture = pictures(batch_scenes(dataset, cfg, step, rank, stream=1)).to(accelerator.device)

        fake_picture, fake_sketch = to_picture(sketch), to_sketch(picture)
        loss_gan = (lsgan_loss(judge_picture(fake_picture), True) + lsgan_loss(judge_sketch(fake_sketch), True))
        loss_cycle = F.l1_loss(to_sketch(fake_picture), sketch) + F.l1_loss(to_picture(fake_sketch), picture)
        loss_identity = F.l1_loss(to_picture(picture), picture) + F.l1_loss(to_sketch(sketch), sketch)
        loss_g = loss_gan + cfg.cycle_weight * loss_cycle + cfg.identity_weight * loss_identity
        opt_g.zero_grad(set_to_none=True)
        accelerator.backward(loss_g)
        opt_g.step()

        scores_picture = judge_picture(torch.cat([picture, fake_picture.detach()]))
        scores_sketch = judge_sketch(torch.cat([sketch, fake_sketch.detach()]))
        n = len(picture)
        loss_d = 0.5 * (lsgan_loss(scores_picture[:n], True) + lsgan_loss(scores_picture[n:], False)
                        + lsgan_loss(scores_sketch[:n], True) + lsgan_loss(scores_sketch[n:], False))
        opt_d.zero_grad(set_to_none=True)
        accelerator.backward(loss_d)
        opt_d.step()

        decay = min(cfg.ema_decay, (1 + step) / (10 + step))  # warm-up: early on the EMA follows closely
        ema_update(ema.generators[SKETCH_TO_PICTURE], accelerator.unwrap_model(to_picture), decay)
        ema_update(ema.generators[PICTURE_TO_SKETCH], accelerator.unwrap_model(to_sketch), decay)
        logs = {"loss_d": loss_d.item(), "loss_gan": loss_gan.item(), "loss_cycle": loss_cycle.item(),
                "loss_identity": loss_identity.item()}
        bar.set_postfix(d=f"{logs['loss_d']:.3f}", g=f"{logs['loss_gan']:.3f}", cyc=f"{logs['loss_cycle']:.4f}")

        # 4. Every `eval_every` steps: the checker on unseen sketches; the best EMA pair kept
        done = step + 1
        wall = elapsed + time.time() - began
        if on_step is not None:
            on_step(done, cfg.steps, logs)
        if (done % cfg.eval_every == 0 or done == cfg.steps) and accelerator.is_main_process:
            best = _evaluate(cfg, out, done, wall, ema, best)
        # 5. Every `sample_every` steps and at the end: a grid, a checkpoint, the translator folder
        out_of_time = (bool(cfg.max_wall_s) and wall > cfg.max_wall_s) or (should_stop is not None and should_stop())
        if (done % cfg.sample_every == 0 or done == cfg.steps or out_of_time) and accelerator.is_main_process:
            unwrapped = {name: accelerator.unwrap_model(module) for name, module in modules.items()}
            _publish(cfg, out, done, wall, unwrapped, opt_g, opt_d, best)
        accelerator.wait_for_everyone()
        if out_of_time:
            break
    return out / "best"


def _evaluate(cfg, out: Path, step: int, wall: float, ema: Translator, best: float) -> float:
    quality = {"step": step, "wall_s": round(wall, 1), **evaluate(ema, cfg.eval_samples, seed=cfg.seed)}
    score = quality["all"] + 0.1 * quality["clean"]  # right first; between equals, the cleaner
    quality["best"] = score > best
    if quality["best"]:
        ema.save_pretrained(out / "best")
        best = score
    with open(out / "quality.jsonl", "a") as log:
        log.write(json.dumps({key: round(v, 4) if isinstance(v, float) else v for key, v in quality.items()}) + "\n")
    tqdm.write(json.dumps(quality))
    return best


@torch.no_grad()
def _publish(cfg, out: Path, step: int, wall: float, modules: dict, opt_g, opt_d, best: float) -> None:
    ema = modules["ema"]
    scenes = world.translation_scenes(8, seed=cfg.seed + 1)
    x = torch.cat([imaging.to_tensor(shapes.sketch(scene)) for scene in scenes]).to(next(ema.parameters()).device)
    forward = ema(x, SKETCH_TO_PICTURE).clamp(-1, 1)
    rows = [x, forward, ema(forward, PICTURE_TO_SKETCH), pictures(scenes).to(x.device)]
    imaging.grid([image for row in rows for image in imaging.to_pil(row.cpu())], columns=8).save(
        out / f"samples_{step:06d}.png")
    save_checkpoint(out / "checkpoint", modules=modules, optimizers={"generators": opt_g, "discriminators": opt_d},
                    step=step, extra={"wall_s": wall, "best_score": best, "config": asdict(cfg)})
    ema.save_pretrained(out / "generator")


if __name__ == "__main__":
    main()
