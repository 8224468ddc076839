"""Train the built-in StyleGAN: a mapping network z -> w and a synthesis network fed a style per layer,
against the DCGAN's spectral-norm projection discriminator, hinge loss, EMA, style-mixing regularisation.

    python -m genart_playground.train stylegan --out runs/stylegan
    python -m genart_playground.train stylegan --resume runs/stylegan/checkpoint --out runs/stylegan
    accelerate launch -m genart_playground.train stylegan ...                     # several GPUs

Every `sample_every` steps an 8×8 grid of the EMA generator's samples is written to `--out`, a
checkpoint (safetensors only) to `--out/checkpoint` and the EMA generator (`save_pretrained`) to
`--out/generator`. Every `eval_every` steps the project's checker scores the EMA generator and the best
one so far is saved to `--out/best`: GAN quality drifts up and down while the learning rates are high.
Once they have decayed, the last weights (`--out/generator`) are the run's result; the built-in ships
them (its card compares them with `best` on fresh samples).
"""

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ...data import shapes
from .dcgan import Discriminator, code_labels
from .stylegan import StyleGenerator
from ...train.common import ema_update, linear_decay, load_checkpoint, parse_config
from .train_gan import hinge_losses, keep_best, publish, real_batch


@dataclass
class TrainConfig:
    """Train the shapes-world StyleGAN (mapping network, modulated convolutions, per-layer noise)."""

    data: str = "shapes"  # the shapes world, or a folder of your own images
    dataset_size: int = 50_000  # distinct seeded scenes, as the DCGAN
    image_size: int = 64  # the shapes world's size
    steps: int = 17_500  # ~90 minutes on 2 CPU threads: the shipped run stopped at 16,844 at --max_wall_s 5200
    batch_size: int = 32  # as the DCGAN: many small steps beat big batches on a CPU
    z_dim: int = 64  # as the DCGAN, so the same seed draws the same z in both
    w_dim: int = 64  # the style; a flat world of ~600 layouts needs few numbers
    mapping_layers: int = 4  # StyleGAN has 8 for faces; 4 are plenty to unwarp the shapes world's z
    width: int = 8  # channels at 64×64, doubling per halving: 8, 16, 32, 64, 64 (0.2M parameters, 0.23 s a step)
    max_channels: int = 64  # 128 gave no visible gain in a short trial and is 10 % slower
    mapping_lr: float = 0.01  # StyleGAN's: the mapping network learns 100 × slower than the rest
    skip: bool = False  # StyleGAN2's skip RGB outputs (a picture per resolution, summed) start as blurry
    #                     low-resolution blobs; one RGB layer at 64×64 drew flat backgrounds and sharper shapes
    #                     by step 300 in a side-by-side trial (and lr_g 5e-3 or 1e-2 did not help)
    conditional: bool = True  # shapes world only: z's codes name the colour×shape and the background (as the DCGAN)
    mixing_prob: float = 0.5  # StyleGAN's mixing regularisation: half the batches switch to another z's style
    #                           at a random layer, so no layer can rely on its neighbours' styles
    lr_g: float = 2e-3  # StyleGAN2's rate for the equalised-learning-rate generator (mapping: 100 × slower)
    lr_d: float = 4e-4  # the DCGAN's spectral-norm discriminator at its own tried rate
    beta1: float = 0.0  # StyleGAN's and SAGAN's value
    beta2: float = 0.99
    decay_from: float = 0.7  # both learning rates fall linearly to 0 over the last 30 %: the checker's clean
    #                           fraction was still rising at a constant rate when a run at a fixed rate ended
    ema_decay: float = 0.999  # averages the last ~1,000 steps: smoother, cleaner samples than the raw weights
    seed: int = 0
    sample_every: int = 500
    eval_every: int = 500  # score the EMA generator this often and keep the best (GAN quality drifts)
    eval_samples: int = 512  # samples the checker scores at each evaluation: 256 left the best of ~30 scores
    #                           2-3 points above the same weights on fresh samples (512 still leaves ~1)
    out: str = "runs/stylegan"
    resume: str = ""  # a checkpoint folder written by this script; empty: start fresh
    max_wall_s: float = 0.0  # stop (with a checkpoint) once this much wall time is spent; 0: run all `steps`
    channels_last: bool = True  # NHWC: 7 % faster steps on a 2-core CPU (python bench/training_step.py)
    threads: int = 0  # torch CPU threads; 0 leaves torch's default


def mixed_styles(generator: StyleGenerator, z: torch.Tensor, z_other: torch.Tensor, crossover: int) -> torch.Tensor:
    """The styles of `z` up to layer `crossover`, then those of `z_other`, with `w_avg` tracked on `z`'s."""
    w = generator.map(z, track=True)
    ws = generator.broadcast(w)
    if crossover >= generator.num_ws:
        return ws
    w_other = generator.broadcast(generator.map(z_other))
    return torch.cat([ws[:, :crossover], w_other[:, crossover:]], dim=1)


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
    shape = dict(z_dim=cfg.z_dim, w_dim=cfg.w_dim, mapping_layers=cfg.mapping_layers, image_size=cfg.image_size,
                 width=cfg.width, max_channels=cfg.max_channels, codes=codes,
                 mapping_lr=cfg.mapping_lr, skip=cfg.skip)
    generator, ema = StyleGenerator(**shape), StyleGenerator(**shape)
    discriminator = Discriminator(width=24, image_size=cfg.image_size, classes=tuple(len(names) for names in codes))
    ema.load_state_dict(generator.state_dict())
    ema.requires_grad_(False)
    # The EMA copy stays NCHW: save_pretrained writes contiguous tensors only.
    memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
    generator.to(memory_format=memory_format)
    discriminator.to(memory_format=memory_format)
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
    network = accelerator.unwrap_model(generator)

    # 3. The loop: one discriminator step, then one generator step, then the EMA
    began = time.time()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not accelerator.is_main_process)
    for step in bar:
        for optimizer, lr in ((opt_g, cfg.lr_g), (opt_d, cfg.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr * linear_decay(step, steps=cfg.steps, decay_from=cfg.decay_from)
        real, real_labels = real_batch(dataset, step, cfg, rank, bool(codes))
        # Latents, mixing layers and per-layer noise from (seed, step, rank): a resumed run is the same run.
        noise = torch.Generator("cpu").manual_seed(cfg.seed * 1_000_003 + step * 101 + rank + 50)
        z = torch.randn(4, cfg.batch_size, cfg.z_dim, generator=noise)
        if codes:  # the mixing partner keeps z's codes: the picture's classes stay the ones D is told
            z[[1, 3], :, : 2 * len(codes)] = z[[0, 2], :, : 2 * len(codes)]
        mixing = [int(torch.randint(1, network.num_ws, (), generator=noise))
                  if torch.rand((), generator=noise) < cfg.mixing_prob else network.num_ws for _ in range(2)]
        labels = [code_labels(z[i], codes).to(accelerator.device) if codes else None for i in (0, 2)]
        z, real = z.to(accelerator.device), real.to(accelerator.device, memory_format=memory_format)

        with torch.no_grad():  # the discriminator's step needs the pictures, not the generator's gradients
            fake = network.synthesis(mixed_styles(network, z[0], z[1], mixing[0]), noise)
        both = torch.cat([real_labels.to(accelerator.device), labels[0]]) if codes else None
        scores = discriminator(torch.cat([real, fake]), both)  # one call: DDP wants one forward per backward
        loss_d = hinge_losses(scores[: len(real)], scores[len(real):])
        opt_d.zero_grad(set_to_none=True)
        accelerator.backward(loss_d)
        opt_d.step()

        fake = network.synthesis(mixed_styles(network, z[2], z[3], mixing[1]), noise)
        loss_g = -discriminator(fake, labels[1]).mean()
        opt_g.zero_grad(set_to_none=True)
        accelerator.backward(loss_g)
        opt_g.step()

        # Warm-up: early on the EMA follows closely, so it is not stuck near the random start.
        ema_update(ema, network, min(cfg.ema_decay, (1 + step) / (10 + step)))
        ema.w_avg.copy_(network.w_avg)  # a buffer, not a parameter: the raw generator's running mean
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
            publish(cfg, out, done, wall, network, accelerator.unwrap_model(discriminator), ema, opt_g, opt_d, best)
        accelerator.wait_for_everyone()
        if out_of_time:  # on a shared machine the step rate varies; the wall-time budget is what is planned
            break
    return out / "generator"


if __name__ == "__main__":
    main()
