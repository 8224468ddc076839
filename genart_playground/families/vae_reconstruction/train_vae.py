"""Train the built-in autoencoder: a small, fully convolutional diffusers AutoencoderKL, 64×64 -> 16×16×4.

    python -m genart_playground.train vae                      # the shapes world, as shipped
    python -m genart_playground.train vae --data my_pictures/  # a folder of your own images
    accelerate launch -m genart_playground.train vae ...       # several GPUs or machines

It is the text-to-image pipeline's `vae` and the VAE tab's default model.
"""

import copy
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import AutoencoderKL
from tqdm.auto import tqdm

from ... import imaging, metrics
from ...data import shapes
from ...metrics import world
from ...train.common import ema_update, parse_config, resume, save_checkpoint, warmup_cosine


@dataclass
class VaeConfig:
    """Train a small AutoencoderKL on the shapes world (or a folder of images)."""

    data: str = "shapes"  # "shapes", or a folder of your own images (captions are not used here)
    out: str = "runs/vae/autoencoder"  # where the EMA model is saved (save_pretrained); copy it into builtin/ to ship
    run_dir: str = "runs/vae"  # resumable checkpoint and sample grids (git-ignored)
    steps: int = 2000  # about 0.35 s a step on one CPU core: the 12-minute budget
    batch_size: int = 16  # flat shapes need few examples per step; more only slows a CPU step
    lr: float = 1e-3  # a small model tolerates a high rate; cosine decay cleans up the end
    warmup: int = 100  # avoids the first large updates blowing up GroupNorm statistics
    kl_weight: float = 1e-6  # only keeps latents bounded; larger blurs edges (PSNR drops)
    ema_decay: float = 0.995  # about the last 200 steps averaged; 0.999 lags 1000 steps behind a 2000-step run
    channels: int = 16  # widths (c, 2c, 2c), 3 blocks = 4× downsampling; 0.23M parameters, 4× faster than 32
    latent_channels: int = 4  # 16×16×4 = 1024 numbers for 12288 pixels; plenty for flat shapes
    dataset_size: int = 200_000  # the shapes world is procedural; this many distinct scenes
    seed: int = 0  # one seed fixes the model's start, the data order and the evaluation set
    threads: int = 1  # torch CPU threads; other jobs share the machine
    sample_every: int = 500  # steps between sample grids and checkpoints
    eval_images: int = 256  # held-out combos, never trained on: the PSNR figure in the model card
    judged_images: int = 64  # training-split scenes whose reconstructions the checker reads at each sample grid
    resume: bool = True  # continue from run_dir/checkpoint when it exists


def build_vae(config: VaeConfig) -> AutoencoderKL:
    c = config.channels
    return AutoencoderKL(
        in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(c, 2 * c, 2 * c), layers_per_block=1, latent_channels=config.latent_channels,
        norm_num_groups=8, sample_size=64,
        mid_block_add_attention=False,  # fully convolutional: any image size, linear cost on 512×512
    )


@torch.no_grad()
def evaluate(vae: AutoencoderKL, images: torch.Tensor) -> float:
    recon = torch.cat([vae.decode(vae.encode(chunk).latent_dist.mode()).sample for chunk in images.split(64)])
    return float(metrics.psnr_per_image(images, recon).mean())


@torch.no_grad()
def latent_scale(vae: AutoencoderKL, images: torch.Tensor) -> float:
    """1 / std of the latents, so the diffusion model sees unit-variance inputs (SD's 0.18215, measured)."""
    latents = torch.cat([vae.encode(chunk).latent_dist.mode() for chunk in images.split(64)])
    return float(1 / latents.std())


@torch.no_grad()
def reconstruction_quality(vae: AutoencoderKL, images: torch.Tensor, scenes: list) -> dict:
    """The checker on the reconstructions of pictures of known scenes: clean share, training combinations
    covered, and how many show their original's colour, shape and background (`shows_its_codes`)."""
    recon = torch.cat([vae.decode(vae.encode(chunk).latent_dist.mode()).sample for chunk in images.split(64)])
    named = [[f"{scene.color} {scene.shape}", scene.background] for scene in scenes]
    return {**world.measure(imaging.to_pil(recon), named),
            "psnr": round(float(metrics.psnr_per_image(images, recon).mean()), 2)}


def batch(dataset, step: int, config: VaeConfig, rank: int) -> torch.Tensor:
    """The batch of a step is fixed by (seed, step, rank): resuming replays the same data."""
    g = torch.Generator().manual_seed(config.seed * 1_000_003 + step * 97 + rank)
    index = torch.randint(len(dataset), (config.batch_size,), generator=g)
    return torch.stack([dataset[int(i)][0] for i in index])


def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(VaeConfig, argv))


def train(config: VaeConfig, on_step=None, should_stop=None) -> Path:
    """Train; `on_step(step, total, logs)` after every step, `should_stop()` ends the run early with a
    checkpoint it can resume from. Returns the saved model's folder."""
    torch.set_num_threads(config.threads)
    accelerator = Accelerator()
    run_dir = Path(config.run_dir)

    # 1. Data: training scenes, and held-out combos for the PSNR figure
    dataset = shapes.make_dataset(config.data, config.dataset_size, seed=config.seed, split="train")
    held_out = shapes.ShapesDataset(config.eval_images, seed=config.seed + 1, split="heldout")
    eval_images = torch.stack([held_out[i][0] for i in range(len(held_out))])
    # The checker reads reconstructions of training-split scenes (their combinations count as covered)
    judged = shapes.ShapesDataset(config.judged_images, seed=config.seed + 3, split="train")
    judged_scenes = [judged.scene(i) for i in range(len(judged))]
    judged_images = torch.stack([judged[i][0] for i in range(len(judged))])

    # 2. Model, EMA copy, optimizer, schedule
    torch.manual_seed(config.seed)
    vae = build_vae(config)
    ema = copy.deepcopy(vae).requires_grad_(False)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=config.lr, weight_decay=0.0)
    schedule = warmup_cosine(optimizer, warmup=config.warmup, steps=config.steps)
    info = resume(run_dir / "checkpoint", modules={"vae": vae, "ema": ema}, optimizers={"adamw": optimizer},
                  schedule=schedule) if config.resume else {}
    start, earlier = info.get("step", 0), info.get("wall_s", 0.0)  # wall time of the earlier sittings
    if start:
        accelerator.print(f"resumed at step {start}")
    vae, optimizer = accelerator.prepare(vae, optimizer)
    print(f"parameters: {sum(p.numel() for p in ema.parameters()) / 1e6:.2f}M")

    # 3. The loop
    began = time.time()
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, disable=not accelerator.is_main_process)
    for step in bar:
        x = batch(dataset, step, config, accelerator.process_index).to(accelerator.device)
        posterior = accelerator.unwrap_model(vae).encode(x).latent_dist
        recon = accelerator.unwrap_model(vae).decode(posterior.sample()).sample
        loss = F.mse_loss(recon, x) + 0.1 * F.l1_loss(recon, x) + config.kl_weight * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        optimizer.step()
        schedule.step()
        ema_update(ema, accelerator.unwrap_model(vae), config.ema_decay if step > config.warmup else 0.0)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        done = step + 1
        if on_step is not None:
            on_step(done, config.steps, {"loss": loss.item()})
        stop = should_stop is not None and should_stop()

        # 4. Now and then: PSNR on held-out combos, a sample grid, a resumable checkpoint
        if accelerator.is_main_process and (done % config.sample_every == 0 or done == config.steps or stop):
            score = evaluate(ema, eval_images)
            accelerator.print(f"step {done}: held-out PSNR {score:.2f} dB, {time.time() - began:.0f} s")
            with torch.no_grad():
                recon = ema.decode(ema.encode(eval_images[:8]).latent_dist.mode()).sample
            run_dir.mkdir(parents=True, exist_ok=True)
            imaging.grid(imaging.to_pil(torch.cat([eval_images[:8], recon])), columns=8).save(run_dir / f"samples_{done:06d}.png")
            wall = earlier + time.time() - began
            quality = {"step": done, "wall_s": round(wall, 1), "heldout_psnr": round(score, 2),
                       **reconstruction_quality(ema, judged_images, judged_scenes)}
            with open(run_dir / "quality.jsonl", "a") as log:
                log.write(json.dumps(quality) + "\n")
            save_checkpoint(run_dir / "checkpoint", modules={"vae": accelerator.unwrap_model(vae), "ema": ema},
                            optimizers={"adamw": optimizer}, step=done,
                            extra={"config": asdict(config), "psnr": score, "wall_s": wall})
        if stop:
            break

    # 5. Save the EMA or the raw model, whichever reconstructs a validation set (not the held-out
    #    figure's images) better, with the measured latent scale
    if accelerator.is_main_process:
        validation = shapes.ShapesDataset(config.eval_images, seed=config.seed + 2, split="train")
        validation = torch.stack([validation[i][0] for i in range(len(validation))])
        raw = accelerator.unwrap_model(vae).eval()
        if evaluate(raw, validation) > evaluate(ema, validation):
            ema = raw
            accelerator.print("the raw weights beat the EMA on validation; saving those")
        train_images = torch.stack([dataset[i][0] for i in range(min(512, len(dataset)))])
        ema.register_to_config(scaling_factor=latent_scale(ema, train_images))
        ema.save_pretrained(config.out, safe_serialization=True)
        accelerator.print(f"saved {config.out}: held-out PSNR {evaluate(ema, eval_images):.2f} dB, "
                          f"scaling_factor {ema.config.scaling_factor:.4f}, wall {time.time() - began:.0f} s")
    return Path(config.out)


if __name__ == "__main__":
    main()
