"""Train the built-in photo autoencoder: a small, fully convolutional diffusers AutoencoderKL (4× down, 12
latent channels) on real photos that ship inside packages (genart_playground/data/photos.py).

    pip install scikit-image scikit-learn matplotlib      # the training photos, and the held-out ones
    sudo apt-get install mate-backgrounds plasma-workspace-wallpapers
    python -m genart_playground.train photo-vae             # about an hour on 2 CPU cores

It is the VAE tab's default for uploads; the shapes VAE knows only the shapes world.
"""

import copy
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL
from tqdm.auto import tqdm

from ... import imaging, metrics
from ...data import photos
from ...train.common import ema_update, parse_config, resume, save_checkpoint, warmup_cosine


@dataclass
class PhotoVaeConfig:
    """Train a small AutoencoderKL on photos; its PSNR on held-out photos is the model card's figure."""

    out: str = "runs/photo-vae/autoencoder"  # where the model is saved (save_pretrained); copy it into builtin/ to ship
    run_dir: str = "runs/photo-vae"  # resumable checkpoint and sample grids (git-ignored)
    steps: int = 9000  # about 0.3 s a step on 2 shared cores: 45 minutes; PSNR still rises at the end
    batch_size: int = 16  # crops per step
    crop: int = 48  # fully convolutional: small crops train it for any size; 48² costs half of 64²
    lr: float = 2e-3  # high for an autoencoder, fine at this size; cosine decay cleans up the end
    warmup: int = 100  # avoids the first large updates blowing up GroupNorm statistics
    kl_weight: float = 1e-6  # as Stable Diffusion's VAE: only keeps latents bounded; larger blurs detail
    initial_logvar: float = -8.0  # start as a near-deterministic autoencoder (σ = 0.02): with log σ² = 0 the
                                  # sampled noise drowns the latents and the first thousand steps are lost
    ema_decay: float = 0.999  # the last ~1000 steps averaged
    channels: int = 32  # widths (c, 2c, 2c), 3 blocks = 4× downsampling; 0.94M parameters
    latent_channels: int = 12  # 4×4×3 = 48 pixel values -> 12 latents: 4× fewer numbers; a linear PCA of 4×4
                               # patches with 12 components gets ~30 dB on the held-out photos, 8 only ~28
    scales: str = "256,384,512"  # photos shrunk to these short sides before cropping: the detail density
                                 # of an upload fitted to the tab's size
    seed: int = 0  # one seed fixes the model's start and the crops
    threads: int = 2  # torch CPU threads
    sample_every: int = 1000  # steps between held-out figures, sample grids and checkpoints
    resume: bool = True  # continue from run_dir/checkpoint when it exists


def build_vae(config: PhotoVaeConfig) -> AutoencoderKL:
    c = config.channels
    vae = AutoencoderKL(
        in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(c, 2 * c, 2 * c), layers_per_block=1, latent_channels=config.latent_channels,
        norm_num_groups=8, sample_size=256,
        mid_block_add_attention=False,  # fully convolutional: any image size, linear cost on 1024×1024
    )
    with torch.no_grad():  # quant_conv's second half is log σ²: start it at initial_logvar
        vae.quant_conv.weight[config.latent_channels:].zero_()
        vae.quant_conv.bias[config.latent_channels:].fill_(config.initial_logvar)
    return vae


@torch.no_grad()
def held_out_figure(vae: AutoencoderKL, images: list) -> tuple[list[float], torch.Tensor]:
    """Each held-out picture's PSNR in dB after encoding (the latents' mode) and decoding, and the pictures
    above their reconstructions, for the sample grid: one pass of the model."""
    x = torch.cat([imaging.to_tensor(image) for image in images])
    recon = vae.decode(vae.encode(x).latent_dist.mode()).sample.clamp(-1, 1)
    return metrics.psnr_per_image(x, recon).tolist(), torch.cat([x, recon])


def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(PhotoVaeConfig, argv))


def train(config: PhotoVaeConfig, on_step=None, should_stop=None) -> Path:
    """Train; `on_step(step, total, logs)` after every step, `should_stop()` ends the run early with a
    checkpoint it can resume from. Returns the saved model's folder."""
    torch.set_num_threads(config.threads)
    run_dir = Path(config.run_dir)

    # 1. Data: crops of the training photos; the held-out photos at 256×256 for the figure
    training = photos.training_photos()
    scales = [int(side) for side in config.scales.split(",")]
    crops = photos.RandomCrops(training, config.crop, scales=scales)
    held_out = photos.heldout_photos(256)
    print(f"{len(training)} training photos, {len(crops.pictures)} pictures at {len(scales)} scales; "
          f"held out: {', '.join(photo.name for photo in held_out)}")

    # 2. Model, EMA copy, optimizer, schedule
    torch.manual_seed(config.seed)
    vae = build_vae(config)
    ema = copy.deepcopy(vae).requires_grad_(False)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=config.lr, weight_decay=0.0)
    schedule = warmup_cosine(optimizer, warmup=config.warmup, steps=config.steps)
    # a run resumed with more steps is a new stage: its config joins the earlier stages' in training.json
    state = resume(run_dir / "checkpoint", modules={"vae": vae, "ema": ema}, optimizers={"adamw": optimizer},
                   schedule=schedule) if config.resume else {}
    start, history, earlier = state.get("step", 0), state.get("history", []), state.get("seconds", 0)
    stages = state.get("stages", []) + [asdict(config)]
    if start:
        print(f"resumed at step {start}")
    print(f"parameters: {sum(p.numel() for p in vae.parameters()) / 1e6:.2f}M")

    # 3. The loop
    began = time.time() - earlier
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps)
    for step in bar:
        # the crops of a step are fixed by (seed, step): resuming replays the same data
        x = crops.batch(config.batch_size, torch.Generator().manual_seed(config.seed * 1_000_003 + step))
        posterior = vae.encode(x).latent_dist
        recon = vae.decode(posterior.sample()).sample
        loss = F.mse_loss(recon, x) + 0.1 * F.l1_loss(recon, x) + config.kl_weight * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        ema_update(ema, vae, config.ema_decay if step > config.warmup else 0.0)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        done = step + 1
        if on_step is not None:
            on_step(done, config.steps, {"loss": loss.item()})
        stop = should_stop is not None and should_stop()

        # 4. Now and then: PSNR on the held-out photos, a sample grid, a resumable checkpoint
        if done % config.sample_every == 0 or done == config.steps or stop:
            scores, shown = held_out_figure(ema, [photo.image for photo in held_out])
            history.append({"step": done, "seconds": round(time.time() - began), "psnr": scores})
            print(f"step {done}: held-out PSNR {sum(scores) / len(scores):.2f} dB "
                  f"({', '.join(f'{s:.1f}' for s in scores)}), {time.time() - began:.0f} s")
            run_dir.mkdir(parents=True, exist_ok=True)
            imaging.grid(imaging.to_pil(shown), columns=len(held_out)).save(run_dir / f"samples_{done:06d}.png")
            save_checkpoint(run_dir / "checkpoint", modules={"vae": vae, "ema": ema}, optimizers={"adamw": optimizer},
                            step=done, extra={"stages": stages, "history": history,
                                              "seconds": round(time.time() - began)})
        if stop:
            break

    # 5. Save the EMA with its measured latent scale, and what the model card reports
    with torch.no_grad():
        latents = torch.cat([ema.encode(crops.batch(16, torch.Generator().manual_seed(i))).latent_dist.mode()
                             for i in range(8)])
    ema.register_to_config(scaling_factor=float(1 / latents.std()))
    ema.save_pretrained(config.out, safe_serialization=True)
    scores, _ = held_out_figure(ema, [photo.image for photo in held_out])
    (Path(config.out) / "training.json").write_text(json.dumps(
        {"stages": stages, "training_photos": [photo.name for photo in training],
         "held_out": {photo.name: round(score, 2) for photo, score in zip(held_out, scores)},
         "history": history, "wall_seconds": round(time.time() - began)}, indent=1))
    print(f"saved {config.out}: held-out PSNR {sum(scores) / len(scores):.2f} dB, wall {time.time() - began:.0f} s")
    return Path(config.out)


if __name__ == "__main__":
    main()
