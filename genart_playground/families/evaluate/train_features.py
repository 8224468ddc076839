"""Train the evaluation lab's feature network: a small classifier of shapes-world pictures.

    python -m genart_playground.train features          # about 3 minutes on 2 CPU cores

Its last hidden layer is the feature space of FID, KID, precision/recall and diversity
(genart_playground/metrics/distribution.py), the way FID on MNIST uses a small MNIST classifier.
It is a judge, not a generator, so it sees every colour×shape combination, the held-out ones too:
a generator's held-out pictures are judged in a space that knows them.
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
from .shapes_features import HEADS, QUALITY, ShapesFeatures
from ...train.common import parse_config


@dataclass
class FeaturesConfig:
    """Train the shapes-world classifier whose features the evaluation lab measures in."""

    out: str = "runs/features/model"  # save_pretrained folder; copy it into builtin/shapes-features to ship
    steps: int = 3000  # every head is above 99 % on fresh scenes well before this
    batch_size: int = 64  # scenes are rendered on the fly (0.15 ms each): data is never the bottleneck
    lr: float = 2e-3  # a small network with GroupNorm takes a high rate; cosine decay settles it
    width: int = 32  # channels of the first convolution (32, 64, 128, 128): 0.4M parameters
    num_features: int = 64  # FID's covariance is 64×64: estimable from a few hundred pictures, not thousands
    degrade: float = 0.5  # the share of pictures blurred, and independently the share made noisy
    max_blur: float = 2.0  # Gaussian blur σ in pixels, up to: at 2 a small shape is a smudge
    max_noise: float = 0.2  # Gaussian noise σ on the [-1, 1] scale, up to: at 0.2 the background is speckled
    seed: int = 0  # one seed fixes the start, the data and the test scenes
    threads: int = 2  # torch CPU threads
    test_scenes: int = 2048  # fresh scenes (another seed) for the accuracy figures in the model card


def scenes(rng: random.Random, n: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """n rendered scenes of every combination and their labels, one index per head."""
    drawn = [shapes.sample_scene(rng, "all") for _ in range(n)]
    images = torch.cat([imaging.to_tensor(shapes.render(scene)) for scene in drawn])
    labels = {name: torch.tensor([classes.index(getattr(s, name)) for s in drawn]) for name, classes in HEADS.items()}
    return images, labels


def degrade(images: torch.Tensor, config: FeaturesConfig, generator: torch.Generator):
    """Blur some pictures and add noise to some (each picture its own σ); returns them and the targets
    of the quality head: blur σ / max_blur and noise σ / max_noise, 0 for an untouched picture."""
    n = len(images)
    blur = (torch.rand(n, generator=generator) < config.degrade) * torch.rand(n, generator=generator) * config.max_blur
    noise = (torch.rand(n, generator=generator) < config.degrade) * torch.rand(n, generator=generator) * config.max_noise
    images = gaussian_blur(images, blur) + noise[:, None, None, None] * torch.randn(images.shape, generator=generator)
    return images, torch.stack([blur / config.max_blur, noise / config.max_noise], dim=1)


def gaussian_blur(images: torch.Tensor, sigma: torch.Tensor, radius: int = 4) -> torch.Tensor:
    """Each picture blurred with its own σ (0: unchanged), one depthwise convolution for the batch."""
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernel = torch.exp(-offsets**2 / (2 * sigma.clamp_min(1e-3)[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # (N, k); σ near 0 leaves only the centre tap
    kernel2d = (kernel[:, :, None] * kernel[:, None, :]).repeat_interleave(3, dim=0)[:, None]  # (3N, 1, k, k)
    n, c, h, w = images.shape
    padded = F.pad(images.reshape(1, n * c, h, w), [radius] * 4, mode="replicate")
    return F.conv2d(padded, kernel2d, groups=n * c).reshape(n, c, h, w)


@torch.no_grad()
def accuracy(model: ShapesFeatures, images: torch.Tensor, labels: dict[str, torch.Tensor]) -> dict[str, float]:
    logits = {name: torch.cat([model.classify(chunk)[name] for chunk in images.split(256)]) for name in HEADS}
    right = {name: logits[name].argmax(1) == labels[name] for name in HEADS}
    return {**{name: float(r.float().mean()) for name, r in right.items()},
            "all": float(torch.stack(list(right.values())).all(0).float().mean())}


def main(argv: list[str] | None = None) -> Path:
    return train(parse_config(FeaturesConfig, argv))


def train(config: FeaturesConfig, on_step=None, should_stop=None) -> Path:
    """Train; `on_step(step, total, logs)` after every step, `should_stop()` ends early. Returns the model folder."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(f"features/{config.seed}")
    test_images, test_labels = scenes(random.Random(f"features/{config.seed}/test"), config.test_scenes)
    augment = torch.Generator().manual_seed(config.seed)

    # 1. Model, optimizer, schedule
    model = ShapesFeatures(width=config.width, num_features=config.num_features)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    print(f"parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M")

    # 2. The loop: one cross-entropy per head and the quality head's squared error, summed
    began = time.time()
    for step in (bar := tqdm(range(config.steps))):
        images, labels = scenes(rng, config.batch_size)
        images, quality = degrade(images, config, augment)
        logits = model.classify(images)
        loss = sum(F.cross_entropy(logits[name], labels[name]) for name in HEADS)
        loss = loss + F.mse_loss(logits["quality"], quality) * len(QUALITY)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if on_step is not None:
            on_step(step + 1, config.steps, {"loss": loss.item()})
        if should_stop is not None and should_stop():
            break

    # 3. Standardise the features by clean training pictures', measure, save with the figures beside the weights
    model.eval()
    with torch.no_grad():
        clean = torch.cat([model.embedding(chunk) for chunk in scenes(rng, 4096)[0].split(256)])
        model.feature_mean.copy_(clean.mean(0))
        model.feature_std.copy_(clean.std(0).clamp_min(1e-4))
    figures = accuracy(model, test_images, test_labels)
    degraded, targets = degrade(test_images, config, torch.Generator().manual_seed(config.seed + 1))
    with torch.no_grad():
        estimate = torch.cat([model.classify(chunk)["quality"] for chunk in degraded.split(256)])
        figures["degraded"] = accuracy(model, degraded, test_labels)["all"]
    error = (estimate - targets).abs().mean(0)
    figures["blur_error_px"] = float(error[0] * config.max_blur)
    figures["noise_error"] = float(error[1] * config.max_noise)
    print("on fresh scenes: " + ", ".join(f"{k} {v:.4g}" for k, v in figures.items()) + f"; wall {time.time() - began:.0f} s")
    out = Path(config.out)
    model.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(
        {"config": asdict(config), "accuracy": figures, "seconds": round(time.time() - began)}, indent=1))
    return out


if __name__ == "__main__":
    main()
