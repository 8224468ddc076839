"""A RealNVP trained live on 2-D points: its density and its bent grid after training, and the density as it learns."""

import torch

from ... import checks, imaging
from ...devices import make_generator
from . import MAX_POINT_STEPS
from .flow_result import FlowResult
from .points import DATASETS, PointsConfig, density_map, new_model, points, scatter, train_points, warped_grid

FRAMES = 16  # density maps along the way, for the animation


def flow_points(dataset="two moons", *, steps=400, seed=0, progress=None) -> FlowResult:
    """Train a RealNVP on `dataset` ("two moons" or "rings") for `steps` steps. `.images`: the density p(x),
    a square grid of z bent into x, and training points (gray) beside samples (orange); `.frames`: the density
    as it learnt; `.metrics["nll"]`: the negative log-likelihood (nats per point) at the first and last step."""
    # 1. Check inputs
    dataset = checks.check_choice("dataset", dataset, DATASETS)
    steps = checks.check_int("steps", steps, 10, MAX_POINT_STEPS)
    seed = checks.check_seed("seed", seed)

    # 2. Train, keeping a density map every steps/FRAMES steps; the user's Stop arrives as a progress report raising
    config = PointsConfig(dataset=dataset, steps=steps, seed=seed)
    losses, frames, every = [], [], max(1, steps // FRAMES)
    model = new_model(config)

    def on_step(step, total, logs):
        losses.append(logs["nll"])
        if step % every == 0:
            with torch.no_grad():
                frames.append(density_map(model, resolution=64))
        if progress is not None and (step == 1 or step % every == 0):
            progress(step / total, f"Step {step}/{total}: {logs['nll']:.3f} nats per point")

    train_points(config, on_step=on_step, model=model)
    model.eval()

    # 3. Draw what it learnt
    with torch.no_grad():
        samples = model.inverse(torch.randn(600, 2, generator=make_generator(seed + 1)))
    data = points(dataset, 600, make_generator(seed + 2))
    images = [density_map(model), warped_grid(model), scatter(data, samples)]
    metadata = {"task": "flow_points", "dataset": dataset, "steps": steps, "seed": seed,
                "nll_first": round(losses[0], 4), "nll_last": round(losses[-1], 4)}
    return FlowResult(images=images, metadata=metadata,
                      metrics={"nll": [round(losses[0], 4), round(losses[-1], 4)]},
                      frames=frames, gif=imaging.gif_bytes(frames) if frames else b"")
