"""Train the built-in autoregressive text-to-image model: a VQ autoencoder, then a GPT over its tokens.

    python -m genart_playground.train vqgpt                     # both parts, the shapes world
    python -m genart_playground.train vqgpt --steps 6000        # train the transformer on from its checkpoint
    accelerate launch -m genart_playground.train vqgpt ...      # several GPUs or machines

Part 1 (VQ-VAE, van den Oord et al. 2017): a diffusers VQModel learns to rebuild 64×64 pictures
through an 8×8 grid of entries of a 128-code codebook (reconstruction + commitment loss; the
reconstruction error counts 5× within 2 pixels of an outline, or small shapes come back as blobs). The
codebook itself learns by k-means, as in VQ-VAE-2: each code is the running mean of the encoder
outputs it was picked for, and a code nothing picks is moved onto the encoder output its code fits
worst, so all are used, and used where the pictures need them (edges, not plain background).
Part 1b: the decoder alone, longer and with a stronger outline weight, on the frozen encoder's
codes. The tokens do not change, so the transformer's data is the same with or without it.
Part 2 (DALL-E, Parti): every training picture is encoded to its 64 codes once; a GPT-2 reads the
caption's tokens and learns to predict each image token from the ones before it, in raster order.
Captions are dropped 10 % of the time for classifier-free guidance. The loss is on image tokens only.
Every part checkpoints to run_dir and resumes; parts 1 and 1b are skipped once their folders are written.
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
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm
from transformers import CLIPTokenizer

from ... import imaging
from ...data import shapes
from ...metrics import pixels, world
from .token_transformer import Layout, TokenModel, build_transformer, build_vqvae, sample
from ...train.common import ema_update, parse_config, resume, save_checkpoint, warmup_cosine
from .train_t2i import captions_for


@dataclass
class VqgptConfig:
    """Train a VQ autoencoder and an autoregressive transformer over its tokens on the shapes world."""

    tokenizer: str = "genart_playground/builtin/shapes-t2i/tokenizer"  # the shapes world's caption tokenizer
    out: str = "runs/vqgpt/model"  # the model folder, rewritten when quality improves; copy it into builtin/ to ship
    run_dir: str = "runs/vqgpt"  # pictures and token caches, checkpoints, sample grids (git-ignored)
    # 128 codes: after 1,500 steps 26.0 dB and the checker reading 70 % of held-out pictures the same,
    # against 23.1 dB and 29 % with 256 codes (and 512 codes 24.4 dB, 44 % after 2,000); 64 fit worse
    codebook: int = 128
    vq_channels: int = 16  # the autoencoder's first width (then 2×, 4×, 4×)
    code_dim: int = 8  # low-dimensional codes are used more evenly
    vq_steps: int = 4_000  # part 1: still sharpening corners at 1,500 steps
    vq_batch_size: int = 16
    vq_lr: float = 2e-3  # a small autoencoder; warmup and cosine decay
    restart_every: int = 100  # steps between progress lines (codes still in use)
    codebook_decay: float = 0.99  # the k-means running means' decay (VQ-VAE-2)
    commitment: float = 0.25  # the commitment loss's weight (van den Oord et al.)
    # extra weight of pixels near an outline: with 4, after 1,500 steps the checker reads 88 % of held-out
    # reconstructions the same as the originals, against 70 % with plain MSE (small shapes became circles)
    edge_weight: float = 4.0
    # part 1b: the decoder alone on the frozen codes (the tokens stay the same, so a trained transformer
    # keeps working). After part 1 the codes still told a small diamond from a small circle (no two of the
    # four shapes shared all 64 codes in 200 scenes) but the checker misread 34 % of the decoded small diamonds;
    # 2,000 steps with the outline weighted 9×: 4 % (the checker reads 98 % of held-out reconstructions
    # the same as the originals, 90 % before; 29.0 dB, 27.2 before), in 9 minutes
    decoder_steps: int = 2_000
    decoder_lr: float = 1e-3  # part 1's peak halved: it starts from a trained decoder
    decoder_edge_weight: float = 8.0
    steps: int = 4_000  # part 2: the transformer's cosine schedule
    batch_size: int = 32
    lr: float = 1e-3  # a GPT this small trains well this high, with warmup and clipping
    warmup: int = 200
    ema_decay: float = 0.999
    width: int = 192  # GPT-2: 6 layers of width 192, 4 heads; 4 layers of 128 drew colour+shape 0.30 at
    layers: int = 6  # step 1,000 against this size's 0.42, on the same tokens, and topped out at 0.70
    ship_dtype: str = "float16"  # the shipped transformer's storage: half the bytes (it computes in float32)
    caption_dropout: float = 0.1  # the empty caption learns the unconditional model: guidance, negatives
    caption_omit: float = 0.2  # chance that size, position, background are each left out
    dataset_size: int = 16_000  # scenes rendered (and encoded) once
    seed: int = 0
    threads: int = 1  # torch CPU threads; other jobs share the machine
    eval_every: int = 500
    eval_temperature: float = 1.0  # sampling settings when measuring: the registry's defaults
    eval_top_k: int = 16
    eval_guidance: float = 3.0
    resume: bool = True

    @property
    def total_steps(self) -> int:
        """All three parts' steps: what `on_step` counts towards."""
        return self.vq_steps + self.decoder_steps + self.steps


def render_dataset(config: VqgptConfig, run_dir: Path) -> tuple[torch.Tensor, list]:
    """The training pictures (uint8) and their scenes, rendered once and cached in run_dir."""
    cache = run_dir / f"pictures_{config.dataset_size}.safetensors"
    dataset = shapes.ShapesDataset(config.dataset_size, seed=config.seed, split="train")
    if cache.exists():
        return load_file(str(cache))["pictures"], json.loads(cache.with_suffix(".json").read_text())
    pictures = torch.stack([torch.tensor(shapes.as_array(shapes.render(dataset.scene(i)))).permute(2, 0, 1)
                            for i in tqdm(range(len(dataset)), desc="rendering")])
    meta = [asdict(dataset.scene(i)) for i in range(len(dataset))]
    save_file({"pictures": pictures.contiguous()}, str(cache))
    cache.with_suffix(".json").write_text(json.dumps(meta))
    return pictures, meta


def as_input(pictures: torch.Tensor) -> torch.Tensor:
    return pictures.float() / 127.5 - 1


def heldout_pictures(n: int = 256) -> torch.Tensor:
    """Scenes of the held-out colour×shape combinations: pictures the autoencoder never saw."""
    rng = random.Random("vqgpt/heldout")
    return torch.stack([torch.tensor(shapes.as_array(shapes.render(shapes.sample_scene(rng, "heldout"))))
                        .permute(2, 0, 1) for _ in range(n)])


def train_vqvae(config: VqgptConfig, pictures: torch.Tensor, run_dir: Path, accelerator, on_step, should_stop):
    """Part 1. Returns the autoencoder, or None when the run was stopped before it finished."""
    folder = run_dir / "vqvae"
    if (folder / "config.json").exists():
        from diffusers import VQModel
        return VQModel.from_pretrained(folder, use_safetensors=True).eval()
    torch.manual_seed(config.seed)
    vqvae = build_vqvae(config.codebook, config.vq_channels, config.code_dim)
    codebook = vqvae.quantize.embedding.weight
    # The codebook is not trained by gradients but by k-means, as in VQ-VAE-2: each code moves to the
    # running mean of the encoder outputs it is picked for. Codes no output picks are restarted (below).
    optimizer = torch.optim.AdamW([p for p in vqvae.parameters() if p is not codebook], lr=config.vq_lr,
                                  weight_decay=0.0)
    schedule = warmup_cosine(optimizer, warmup=100, steps=config.vq_steps)
    info = resume(run_dir / "vq_checkpoint", modules={"vqvae": vqvae}, optimizers={"adamw": optimizer},
                  schedule=schedule) if config.resume else {}
    # The k-means statistics start from the codes as they are, fresh or resumed (a resumed run that
    # kept the fresh network's random codes here would pull its trained codebook back towards them).
    cluster_size = torch.ones(config.codebook)
    cluster_sum = codebook.detach().clone()
    vqvae, optimizer = accelerator.prepare(vqvae, optimizer)
    model = accelerator.unwrap_model(vqvae)
    for step in tqdm(range(info.get("step", 0), config.vq_steps), desc="vq-vae", disable=not accelerator.is_main_process):
        g = torch.Generator().manual_seed(config.seed * 1_000_003 + step * 89 + accelerator.process_index)
        x = as_input(pictures[torch.randint(len(pictures), (config.vq_batch_size,), generator=g)]).to(accelerator.device)
        latents = model.encode(x).latents
        vectors = latents.permute(0, 2, 3, 1).reshape(-1, model.config.vq_embed_dim)
        if step == info.get("step", 0) and not info:  # start the codes on encoder outputs, not at random
            codebook.data.copy_(vectors[torch.randint(len(vectors), (config.codebook,), generator=g)].detach())
            cluster_sum.copy_(codebook.detach())
        quantized, _, (_, _, indices) = model.quantize(latents)  # straight-through: gradients reach the encoder
        reconstruction = model.decode(quantized, force_not_quantize=True).sample
        commitment = F.mse_loss(latents, quantized.detach())  # the encoder stays near the codes it picks
        loss = weighted_mse(reconstruction, x, config.edge_weight) + config.commitment * commitment
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            onehot = F.one_hot(indices.cpu(), config.codebook).float()
            cluster_size.mul_(config.codebook_decay).add_(onehot.sum(0), alpha=1 - config.codebook_decay)
            cluster_sum.mul_(config.codebook_decay).add_(onehot.T @ vectors.detach().cpu(),
                                                         alpha=1 - config.codebook_decay)
            dead = (cluster_size < 0.03).nonzero().flatten()
            if len(dead):
                # A dead code moves onto the outputs its code fits worst, not onto random ones: most
                # patches are plain background, and codes restarted there split one colour into many
                # tokens, which the transformer then has to guess between.
                error = (vectors.detach().cpu() - codebook.detach()[indices.cpu()]).pow(2).sum(1)
                pick = vectors.detach().cpu()[error.topk(min(len(dead), len(error))).indices]
                dead = dead[:len(pick)]
                cluster_size[dead], cluster_sum[dead] = 1.0, pick
            codebook.data.copy_(cluster_sum / cluster_size[:, None])
        if (step + 1) % config.restart_every == 0:
            accelerator.print(f"vq step {step + 1}: loss {loss.item():.4f}, codes alive "
                              f"{int((cluster_size > 0.1).sum())}/{config.codebook}")
        if on_step is not None:
            on_step(step + 1, config.total_steps, {"loss": loss.item()})
        if should_stop is not None and should_stop():
            save_checkpoint(run_dir / "vq_checkpoint", modules={"vqvae": model}, optimizers={"adamw": optimizer},
                            step=step + 1)
            return None
        if (step + 1) % 500 == 0:
            save_checkpoint(run_dir / "vq_checkpoint", modules={"vqvae": model}, optimizers={"adamw": optimizer},
                            step=step + 1)
    model.eval().save_pretrained(folder, safe_serialization=True)
    return model


def train_decoder(config: VqgptConfig, vqvae, pictures: torch.Tensor, run_dir: Path, accelerator, on_step, should_stop):
    """Part 1b: the decoder alone, on the codes of the frozen encoder and codebook. The tokens of every
    picture stay as they were, so this part can also follow a trained transformer. Returns the
    autoencoder with its new decoder (the same one when `decoder_steps` is 0), None when stopped."""
    folder = run_dir / "vqvae_decoder"
    if config.decoder_steps == 0:
        return vqvae
    if (folder / "config.json").exists():
        from diffusers import VQModel
        return VQModel.from_pretrained(folder, use_safetensors=True).eval()
    vqvae.requires_grad_(False)
    decoder = torch.nn.ModuleList([vqvae.post_quant_conv, vqvae.decoder]).requires_grad_(True).train()
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=config.decoder_lr, weight_decay=0.0)
    schedule = warmup_cosine(optimizer, warmup=100, steps=config.decoder_steps)
    info = resume(run_dir / "decoder_checkpoint", modules={"decoder": decoder}, optimizers={"adamw": optimizer},
                  schedule=schedule) if config.resume else {}
    decoder, optimizer = accelerator.prepare(decoder, optimizer)
    for step in tqdm(range(info.get("step", 0), config.decoder_steps), desc="decoder",
                     disable=not accelerator.is_main_process):
        g = torch.Generator().manual_seed(config.seed * 1_000_003 + step * 83 + accelerator.process_index)
        x = as_input(pictures[torch.randint(len(pictures), (config.vq_batch_size,), generator=g)]).to(accelerator.device)
        with torch.no_grad():
            quantized = vqvae.quantize(vqvae.encode(x).latents)[0]
        loss = weighted_mse(vqvae.decode(quantized, force_not_quantize=True).sample, x, config.decoder_edge_weight)
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        optimizer.step()
        schedule.step()
        if (step + 1) % config.restart_every == 0:
            accelerator.print(f"decoder step {step + 1}: loss {loss.item():.4f}")
        if on_step is not None:
            on_step(config.vq_steps + step + 1, config.total_steps, {"loss": loss.item()})
        stop = should_stop is not None and should_stop()
        if stop or (step + 1) % 500 == 0:
            save_checkpoint(run_dir / "decoder_checkpoint", modules={"decoder": accelerator.unwrap_model(decoder)},
                            optimizers={"adamw": optimizer}, step=step + 1)
        if stop:
            return None
    vqvae.eval().save_pretrained(folder, safe_serialization=True)
    return vqvae


def weighted_mse(reconstruction: torch.Tensor, target: torch.Tensor, edge_weight: float) -> torch.Tensor:
    """Squared error with the pixels within 2 of an edge weighted 1 + edge_weight (0: plain MSE). Plain MSE is mostly
    background, so it gladly rounds a small square's corners; the outline is what tells shapes apart."""
    with torch.no_grad():
        contrast = (target - F.avg_pool2d(target, 3, 1, 1, count_include_pad=False)).abs().amax(1, keepdim=True)
        weight = 1 + edge_weight * F.max_pool2d((contrast > 0.05).float(), 5, 1, 2)
    return (weight * (reconstruction - target).pow(2)).mean() / weight.mean()


@torch.no_grad()
def vq_figures(model: TokenModel) -> dict:
    """The autoencoder on held-out pictures: PSNR, and whether the checker still reads them right."""
    originals = as_input(heldout_pictures())
    codes = torch.cat([model.encode(originals[i:i + 64]) for i in range(0, len(originals), 64)])
    rebuilt = torch.cat([model.decode(codes[i:i + 64]) for i in range(0, len(codes), 64)])
    judged, expected = world.judge(imaging.to_pil(rebuilt)), world.judge(imaging.to_pil(originals))
    return {"psnr": pixels.psnr_per_image(rebuilt, originals).mean().item(),
            "checker_agrees": sum(all(getattr(j, a) == getattr(e, a) for a in world.ATTRIBUTES)
                                  for j, e in zip(judged, expected)) / len(judged),
            "codes_per_background": background_codes(originals, codes)}


def background_codes(pictures: torch.Tensor, codes: torch.Tensor) -> float:
    """How many different tokens a plain background patch gets, on average over the backgrounds:
    1 is ideal; every extra one is a guess the transformer has to make that changes nothing."""
    patches = pictures.unfold(2, 8, 8).unfold(3, 8, 8)  # (B, 3, grid, grid, 8, 8)
    plain = (patches.amax((-1, -2)) - patches.amin((-1, -2))).amax(1) < 0.02
    colours = patches.mean((-1, -2)).permute(0, 2, 3, 1)
    counts = []
    for rgb in shapes.BACKGROUNDS.values():
        target = torch.tensor(rgb) / 127.5 - 1
        here = plain & ((colours - target).abs().amax(-1) < 0.02)
        if here.any():
            counts.append(len(codes[here].unique()))
    return sum(counts) / max(len(counts), 1)


@torch.no_grad()
def evaluate(model: TokenModel, config: VqgptConfig) -> tuple[dict, list]:
    """Judge generated pictures with the project's checker, as the diffusion scripts do."""
    prompts = world.eval_prompts(config.seed)
    images = []
    for start in range(0, len(prompts), 16):
        chunk = [p for p, _, _ in prompts[start:start + 16]]
        generators = [torch.Generator().manual_seed(config.seed + start + i) for i in range(len(chunk))]
        codes = sample(model, chunk, generators=generators, temperature=config.eval_temperature,
                       top_k=config.eval_top_k, guidance=config.eval_guidance)
        images += imaging.to_pil(model.decode(codes))
    return world.score_prompts(prompts, images), images


def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(VqgptConfig, argv))


def train(config: VqgptConfig, on_step=None, should_stop=None) -> Path:
    """Train both parts; `on_step(step, total, logs)` after every step, `should_stop()` ends the run
    early with a checkpoint it can resume from. Returns the model folder (written when quality improved)."""
    torch.set_num_threads(config.threads)
    accelerator = Accelerator()
    run_dir, out = Path(config.run_dir), Path(config.out)
    run_dir.mkdir(parents=True, exist_ok=True)

    # 1. The pictures (once), then the autoencoder
    pictures, meta = render_dataset(config, run_dir)
    vqvae = train_vqvae(config, pictures, run_dir, accelerator, on_step, should_stop)
    if vqvae is not None:
        vqvae = train_decoder(config, vqvae, pictures, run_dir, accelerator, on_step, should_stop)
    if vqvae is None:
        return out
    tokenizer = CLIPTokenizer.from_pretrained(config.tokenizer)
    layout = Layout(text_vocab=len(tokenizer), text_length=tokenizer.model_max_length, codebook=config.codebook,
                    grid=shapes.IMAGE_SIZE // 8, image_size=shapes.IMAGE_SIZE)

    # 2. Every picture's tokens, once
    torch.manual_seed(config.seed)
    model = TokenModel(vqvae, build_transformer(layout, config.width, config.layers), tokenizer, layout)
    cache = run_dir / f"codes_{config.dataset_size}.safetensors"
    if cache.exists():
        codes = load_file(str(cache))["codes"]
    else:
        codes = torch.cat([model.encode(as_input(pictures[i:i + 256])) for i in range(0, len(pictures), 256)])
        save_file({"codes": codes.flatten(1).contiguous()}, str(cache))
        codes = codes.flatten(1)
    vq = vq_figures(model)
    accelerator.print(f"vq-vae on held-out pictures: {vq['psnr']:.1f} dB, checker agrees {vq['checker_agrees']:.2f}, "
                      f"{vq['codes_per_background']:.1f} codes per plain background; "
                      f"codes in the data {len(codes.unique())}/{config.codebook}")

    # 3. The transformer, its EMA copy, optimizer, schedule
    transformer = model.transformer.train()
    ema = copy.deepcopy(transformer).requires_grad_(False)
    optimizer = torch.optim.AdamW(transformer.parameters(), lr=config.lr, weight_decay=0.01)
    schedule = warmup_cosine(optimizer, warmup=config.warmup, steps=config.steps)
    info = resume(run_dir / "checkpoint", modules={"transformer": transformer, "ema": ema},
                  optimizers={"adamw": optimizer}, schedule=schedule) if config.resume else {}
    start, best, earlier = info.get("step", 0), info.get("best", -1.0), info.get("seconds", 0.0)
    transformer, optimizer = accelerator.prepare(transformer, optimizer)
    accelerator.print(f"transformer {sum(p.numel() for p in ema.parameters()) / 1e6:.2f}M parameters")
    shipped = TokenModel(vqvae, ema, tokenizer, layout)

    # 4. The loop: next-token prediction on the image tokens
    began = time.time()
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, disable=not accelerator.is_main_process)
    for step in bar:
        g = torch.Generator().manual_seed(config.seed * 1_000_003 + step * 97 + accelerator.process_index)
        rng = random.Random(f"vqgpt/{config.seed}/{step}/{accelerator.process_index}")
        index = torch.randint(len(codes), (config.batch_size,), generator=g)
        prefix = model.caption_ids(captions_for(meta, index, rng, config.caption_dropout, config.caption_omit))
        ids = torch.cat([prefix, codes[index].to(prefix.device) + layout.text_vocab], dim=1)
        labels = ids.clone()
        labels[:, :prefix.shape[1]] = -100  # the caption is given, not predicted
        loss = transformer(input_ids=ids, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(transformer.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        ema_update(ema, accelerator.unwrap_model(transformer), min(config.ema_decay, (1 + step) / (10 + step)))
        bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{schedule.get_last_lr()[0]:.1e}")
        done = step + 1
        if on_step is not None:
            on_step(config.vq_steps + config.decoder_steps + done, config.total_steps, {"loss": loss.item()})
        stop = should_stop is not None and should_stop()

        # 5. Now and then: measure with the checker, save a grid, checkpoint, ship when better
        if accelerator.is_main_process and (done % config.eval_every == 0 or done == config.steps or stop):
            scores, images = evaluate(shipped.eval(), config)
            score = scores["train/color+shape"] + scores["full/all"]
            seconds = earlier + time.time() - began
            accelerator.print(f"step {done} ({seconds:.0f} s): "
                              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(scores.items())))
            samples = imaging.grid(images[:40], columns=8)
            samples.save(run_dir / f"samples_{done:06d}.png")
            extra = {"step": done, "scores": scores, "vq": vq, "config": asdict(config), "seconds": seconds}
            save_checkpoint(run_dir / "checkpoint", modules={"transformer": accelerator.unwrap_model(transformer),
                                                             "ema": ema},
                            optimizers={"adamw": optimizer}, step=done, extra={"best": max(best, score), **extra})
            if score > best:
                best = score
                shipped.save_pretrained(out, transformer_dtype=getattr(torch, config.ship_dtype))
                (out / "training_state.json").write_text(json.dumps(extra, indent=1))
                samples.save(out / "samples.png")
                accelerator.print(f"saved {out} (score {score:.3f})")
        if stop:
            break
    return out


if __name__ == "__main__":
    main()
