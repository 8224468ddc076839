"""Train the built-in diffusion transformer: rectified flow (flow matching) on the shapes world, saved as
a standard diffusers StableDiffusion3Pipeline folder (SD3Transformer2DModel, the shapes autoencoder,
two CLIP text encoders of our own vocabulary, no T5, FlowMatchEulerDiscreteScheduler).

    python -m genart_playground.train dit                       # the shapes world
    python -m genart_playground.train dit --steps 12000         # train on from runs/dit/checkpoint
    accelerate launch -m genart_playground.train dit ...        # several GPUs or machines

What differs from the UNet (train_t2i.py), in SD3's terms (Esser et al. 2024):
- The denoiser is a transformer over 2×2 patches of the 16×16×4 latent (64 tokens); the caption's
  tokens and the picture's tokens attend to each other in every block (MM-DiT), and learned
  positions tell it where "left" is.
- The path from data x0 to noise ε is a straight line, x_t = (1 − t)·x0 + t·ε, and the network
  predicts its velocity ε − x0. A straight path can be followed in few Euler steps.
- t is drawn from a logit-normal distribution: most training on the middle of the path, where the
  prediction is hardest, none wasted on the nearly clean or nearly pure-noise ends.
The autoencoder is the shapes-t2i one, frozen, so the two models differ only in denoiser and
objective; captions are dropped 10 % of the time for classifier-free guidance and negative prompts.
"""

import copy
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline
from tqdm.auto import tqdm
from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

from ... import imaging
from ...data import shapes
from ...metrics import world
from ...train.common import ema_update, parse_config, resume, save_checkpoint, warmup_cosine
from .train_t2i import captions_for, encode_latents, evaluate, save_pipeline


@dataclass
class DitConfig:
    """Train a small rectified-flow diffusion transformer on the shapes world."""

    base: str = "genart_playground/builtin/shapes-t2i"  # its autoencoder (frozen) and tokenizer are reused
    out: str = "runs/dit/pipeline"  # the pipeline folder, rewritten when quality improves; copy it into builtin/ to ship
    run_dir: str = "runs/dit"  # latents cache, resumable checkpoint, sample grids (git-ignored)
    steps: int = 8_500  # the cosine schedule's length: 33 minutes on two CPU threads, nothing else running
    batch_size: int = 32  # as the UNet: more small steps learn faster per CPU second
    lr: float = 6e-4  # transformers want less than the UNet's 1e-3; warmup, clipping and EMA keep it stable
    warmup: int = 300  # attention logits blow up without it
    ema_decay: float = 0.999  # warmed up as (1 + step) / (10 + step), so early checkpoints are usable
    caption_dropout: float = 0.1  # the empty prompt learns the unconditional model: guidance, negatives
    caption_omit: float = 0.2  # chance that size, position, background are each left out of a caption
    logit_mean: float = 0.0  # SD3's logit-normal timestep density: t = sigmoid(N(mean, std))
    logit_std: float = 1.0
    width: int = 128  # the transformer's width: 4 heads of 32
    layers: int = 4  # joint (text + image) blocks: 2.3M parameters
    text_width: int = 128  # the first text encoder: the shapes-t2i encoder's size, started from its weights
    text_width_2: int = 32  # the second (SD3 has two CLIPs); small, trained from scratch
    dataset_size: int = 16_000  # scenes whose latents are computed once
    seed: int = 0  # fixes the model's start, the data, the noise and the evaluation
    threads: int = 2  # torch CPU threads
    eval_every: int = 500  # steps between quality checks (the checker), sample grids and checkpoints
    eval_steps: int = 8  # Euler steps when measuring: the registry's default
    eval_guidance: float = 4.0  # classifier-free guidance when measuring: the registry's default
    # The sampler's timestep shift, as SD3's: more of the 8 steps early, where the layout is decided
    # (step 7,000's weights, seed 1: colour+shape 95.0 % with shift 3, 94.4 % with none, 93.8 % with 4)
    shift: float = 3.0
    max_sequence_length: int = 1  # the T5 slot, zeros without a T5 encoder: one token, not the pipeline's default 256
    # The schedule's last step is shipped even when the checker's 88 pictures score it lower: near the top they
    # cannot tell weights apart (step 5,000 scored 2.00 and drew 92.5 % right on bench/quality.py's 160
    # pictures; step 8,500 scored 1.97 and drew 98.8 %), and at the end the learning rate is 0 and the EMA settled
    ship_last: bool = True
    resume: bool = True  # continue from run_dir/checkpoint when it exists


def build_transformer(config: DitConfig) -> SD3Transformer2DModel:
    text = config.text_width + config.text_width_2  # the two CLIPs' token features, side by side
    return SD3Transformer2DModel(
        sample_size=16, patch_size=2, in_channels=4, out_channels=4, num_layers=config.layers,
        attention_head_dim=32, num_attention_heads=config.width // 32, joint_attention_dim=text,
        caption_projection_dim=config.width, pooled_projection_dim=text, pos_embed_max_size=16,
        qk_norm="rms_norm")  # SD3.5's normalised queries and keys: stable at this learning rate


def build_text_encoders(config: DitConfig, tokenizer) -> tuple:
    """The first encoder starts from the shapes-t2i one (it already tells the 26 words apart); its
    projection (SD3's pooled vector) and the whole second encoder start fresh."""
    first = CLIPTextModelWithProjection.from_pretrained(Path(config.base) / "text_encoder")
    second = CLIPTextModelWithProjection(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=config.text_width_2, intermediate_size=2 * config.text_width_2,
        num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=tokenizer.model_max_length,
        projection_dim=config.text_width_2, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id))
    return first, second


def load_autoencoder(config: DitConfig) -> AutoencoderKL:
    vae = AutoencoderKL.from_pretrained(Path(config.base) / "vae", use_safetensors=True)
    vae.register_to_config(shift_factor=0.0)  # SD3's pipeline shifts latents; ours are centred already
    return vae.eval().requires_grad_(False)


def make_pipeline(transformer, text_encoder, text_encoder_2, vae, tokenizer, shift: float) -> StableDiffusion3Pipeline:
    pipe = StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=shift), vae=vae,
        text_encoder=text_encoder, tokenizer=tokenizer, text_encoder_2=text_encoder_2, tokenizer_2=tokenizer,
        text_encoder_3=None, tokenizer_3=None)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(DitConfig, argv))


def log_quality(run_dir: Path, step: int, seconds: float, scores: dict, images: list, prompts: list) -> None:
    """A line of run_dir/quality.jsonl: the checker's figures every family's script logs (clean share,
    training combinations covered, the share clean and showing all its prompt names) beside the prompt scores."""
    shown = [judged.clean and judged.agrees(**named) for judged, (_, named, _) in zip(world.judge(images), prompts)]
    line = {"step": step, "wall_s": round(seconds, 1), **world.measure(images),
            "shows_its_codes": round(sum(shown) / len(shown), 4),
            **{name: round(value, 4) for name, value in scores.items()}}
    with open(run_dir / "quality.jsonl", "a") as log:
        log.write(json.dumps(line) + "\n")


def train(config: DitConfig, on_step=None, should_stop=None) -> Path:
    """Train; `on_step(step, total, logs)` after every step, `should_stop()` ends the run early with a
    checkpoint it can resume from. Returns the pipeline folder (written whenever quality improved)."""
    torch.set_num_threads(config.threads)
    accelerator = Accelerator()
    run_dir, out = Path(config.run_dir), Path(config.out)
    run_dir.mkdir(parents=True, exist_ok=True)

    # 1. The frozen autoencoder, the tokenizer, and the latents of the data set (once)
    vae = load_autoencoder(config)
    tokenizer = CLIPTokenizer.from_pretrained(Path(config.base) / "tokenizer")
    dataset = shapes.make_dataset("shapes", config.dataset_size, seed=config.seed, split="train")
    latents, meta = encode_latents(vae, dataset, run_dir)

    # 2. Models, their EMA copies, optimizer, schedule
    torch.manual_seed(config.seed)
    transformer = build_transformer(config).train()
    text_encoder, text_encoder_2 = (m.train() for m in build_text_encoders(config, tokenizer))
    modules = {"transformer": transformer, "text_encoder": text_encoder, "text_encoder_2": text_encoder_2}
    ema = {name: copy.deepcopy(m).requires_grad_(False) for name, m in modules.items()}
    # The pipeline's own prompt encoding, on the training modules: training and sampling see the same features.
    trainee = make_pipeline(transformer, text_encoder, text_encoder_2, vae, tokenizer, config.shift)
    params = [p for m in modules.values() for p in m.parameters()]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    schedule = warmup_cosine(optimizer, warmup=config.warmup, steps=config.steps)
    info = resume(run_dir / "checkpoint", modules={**modules, **{f"ema_{k}": m for k, m in ema.items()}},
                  optimizers={"adamw": optimizer}, schedule=schedule) if config.resume else {}
    start, best, earlier = info.get("step", 0), info.get("best", -1.0), info.get("seconds", 0.0)
    if start:
        accelerator.print(f"resumed at step {start} (best score {best:.3f})")
    transformer, optimizer = accelerator.prepare(transformer, optimizer)
    accelerator.print(", ".join(f"{k} {sum(p.numel() for p in m.parameters()) / 1e6:.2f}M" for k, m in ema.items())
                      + " parameters")

    # 3. The loop: predict the velocity of the straight path from data to noise
    began = time.time()
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, disable=not accelerator.is_main_process)
    for step in bar:
        # Everything random in a step comes from (seed, step, rank): a resumed run replays the same data.
        g = torch.Generator().manual_seed(config.seed * 1_000_003 + step * 97 + accelerator.process_index)
        rng = random.Random(f"dit/{config.seed}/{step}/{accelerator.process_index}")
        index = torch.randint(len(latents), (config.batch_size,), generator=g)
        x0 = latents[index].to(accelerator.device)
        texts = captions_for(meta, index, rng, config.caption_dropout, config.caption_omit)
        embeds, _, pooled, _ = trainee.encode_prompt(prompt=texts, prompt_2=None, prompt_3=None,
                                                     device=accelerator.device, do_classifier_free_guidance=False,
                                                     max_sequence_length=config.max_sequence_length)
        t = torch.sigmoid(config.logit_mean + config.logit_std * torch.randn(config.batch_size, generator=g))
        eps = torch.randn(x0.shape, generator=g).to(accelerator.device)
        sigma = t.view(-1, 1, 1, 1).to(accelerator.device)
        xt = (1 - sigma) * x0 + sigma * eps
        # The scheduler's timesteps are sigma × 1000; the transformer embeds them as such.
        prediction = transformer(hidden_states=xt, timestep=(t * 1000).to(accelerator.device),
                                 encoder_hidden_states=embeds, pooled_projections=pooled).sample
        loss = F.mse_loss(prediction, eps - x0)
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        decay = min(config.ema_decay, (1 + step) / (10 + step))
        for name, module in modules.items():
            ema_update(ema[name], accelerator.unwrap_model(module), decay)
        bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{schedule.get_last_lr()[0]:.1e}")
        done = step + 1
        if on_step is not None:
            on_step(done, config.steps, {"loss": loss.item(), "lr": schedule.get_last_lr()[0]})
        stop = should_stop is not None and should_stop()

        # 4. Now and then: measure with the checker, save a grid, checkpoint, ship when better (and at the end)
        if accelerator.is_main_process and (done % config.eval_every == 0 or done == config.steps or stop):
            pipe = make_pipeline(ema["transformer"], ema["text_encoder"], ema["text_encoder_2"], vae, tokenizer,
                                 config.shift)
            scores, images = evaluate(pipe, config, max_sequence_length=config.max_sequence_length)
            score = scores["train/color+shape"] + scores["full/all"]
            seconds = earlier + time.time() - began  # wall time over all sittings
            accelerator.print(f"step {done} ({seconds:.0f} s): "
                              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(scores.items())))
            samples = imaging.grid(images[:40], columns=8)  # rows of 8: two images per colour×shape prompt
            samples.save(run_dir / f"samples_{done:06d}.png")
            log_quality(run_dir, done, seconds, scores, images, world.eval_prompts(config.seed))
            extra = {"step": done, "scores": scores, "config": asdict(config), "seconds": seconds}
            save_checkpoint(run_dir / "checkpoint",
                            modules={**{k: accelerator.unwrap_model(m) for k, m in modules.items()},
                                     **{f"ema_{k}": m for k, m in ema.items()}},
                            optimizers={"adamw": optimizer}, step=done, extra={"best": max(best, score), **extra})
            if score > best or (config.ship_last and done == config.steps):
                best = max(best, score)
                save_pipeline(pipe, out, extra, samples)
                accelerator.print(f"saved {out} (score {score:.3f})")
        if stop:
            break
    return out


if __name__ == "__main__":
    main()
