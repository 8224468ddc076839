"""How smoothly a generator's pictures change along paths between latents (issue 16 §1).

- **Walk steps.** On a walk of `frames` pictures from one seed to another, the mean absolute change per
  pixel between neighbouring frames, and the largest: a walk that switches class within one frame has
  a largest step many times its mean; a smooth walk one near 1-2 times.
- **Perceptual path length** (PPL; Karras et al., 2019): the expected distance between the pictures at
  t and t + ε on random paths, divided by ε², the 1 % and 99 % tails discarded, as torchmetrics'
  PerceptualPathLength computes it. torchmetrics' needs torch-fidelity and torchvision for its LPIPS
  networks; here the distance is the squared distance of the project's own shapes-world features
  (builtin/shapes-features, unit length), the same "perceptual" space the evaluation lab's FID uses.
  Paths: slerp in Z (the DCGAN's only space) and lerp in W (a StyleGAN's), as the paper does.
"""

import torch

from ..latents import gaussian, slerp


def path_pictures(generator, z_a: torch.Tensor, z_b: torch.Tensor, ts: list[float], space: str) -> torch.Tensor:
    """The generator's pictures at the points `ts` (0 = z_a, 1 = z_b) of the path in `space` ("z": slerp,
    "w": lerp between the two seeds' styles); noise is the generator's fixed noise."""
    if space == "w":
        w_a, w_b = generator.map(torch.stack([z_a, z_b]))
        ws = torch.stack([torch.lerp(w_a, w_b, t) for t in ts])
        return generator.synthesis(generator.broadcast(ws))
    return generator(torch.stack([slerp(z_a, z_b, t) for t in ts]))


@torch.no_grad()
def walk_steps(generator, *, pairs: int = 16, frames: int = 32, space: str = "z") -> dict:
    """Per walk between seeds (2i, 2i + 1): the mean and the largest change between frames (0-255 per pixel)."""
    means, ratios, largest = [], [], []
    ts = torch.linspace(0, 1, frames).tolist()
    for pair in range(pairs):
        z_a, z_b = gaussian(2 * pair, generator.latent_dim), gaussian(2 * pair + 1, generator.latent_dim)
        pixels = (path_pictures(generator, z_a, z_b, ts, space).clamp(-1, 1) + 1) * 127.5
        change = (pixels[1:] - pixels[:-1]).abs().mean(dim=(1, 2, 3))
        means.append(change.mean().item())
        largest.append(change.max().item())
        ratios.append(largest[-1] / max(means[-1], 1e-6))
    return {"pairs": pairs, "frames": frames, "space": space, "mean_change": sum(means) / pairs,
            "largest_over_mean": ratios, "worst_ratio": max(ratios), "mean_ratio": sum(ratios) / pairs}


@torch.no_grad()
def perceptual_path_length(generator, features, *, samples: int = 512, space: str = "z", epsilon: float = 1e-4,
                           seed: int = 0) -> dict:
    """PPL in `space` with `features` (a network from pictures in [-1, 1] to feature vectors)."""
    noise = torch.Generator().manual_seed(seed)
    z = torch.randn(2, samples, generator.latent_dim, generator=noise)
    ts = torch.rand(samples, generator=noise).tolist()
    distances = []
    for z_a, z_b, t in zip(z[0], z[1], ts):
        pictures = path_pictures(generator, z_a, z_b, [t, t + epsilon], space).clamp(-1, 1)
        f = torch.nn.functional.normalize(features(pictures).float(), dim=1)
        distances.append((f[0] - f[1]).square().sum().item() / epsilon ** 2)
    kept = torch.tensor(distances)
    low, high = kept.quantile(0.01), kept.quantile(0.99)
    kept = kept[(kept >= low) & (kept <= high)]
    return {"ppl": kept.mean().item(), "std": kept.std().item(), "samples": samples, "space": space}
