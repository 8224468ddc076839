"""A RealNVP trained live on 2-D points: its density and its bent grid after training, and the density as it learns.

The network and its loop are the training lab's flow (`toy_lab(["flow"], ...)`, reached through the public
API): the same RealNVP the lab sets beside a GAN, a VAE and two diffusion models.
"""

from ... import checks, imaging
from . import MAX_POINT_STEPS, POINT_SETS
from .flow_result import FlowResult

FRAMES = 16  # density maps along the way, for the animation


def flow_points(dataset="two moons", *, steps=400, seed=0, progress=None) -> FlowResult:
    """Train a RealNVP on `dataset` ("two moons" or "rings") for `steps` steps. `.images`: the density p(x),
    a square grid of z bent into x, and training points (gray) beside samples (orange); `.frames`: the density
    as it learnt; `.metrics["nll"]`: the negative log-likelihood (nats per point) at the first and last step."""
    # 1. Check inputs
    dataset = checks.check_choice("dataset", dataset, POINT_SETS)
    steps = checks.check_int("steps", steps, 10, MAX_POINT_STEPS)
    seed = checks.check_seed("seed", seed)

    # 2. Train in FRAMES stretches, keeping the density after each; the user's Stop arrives as a report raising
    import genart_playground as gp

    if progress is not None:
        progress(0.0, "Building the flow")
    lab = gp.toy_lab(["flow"], dataset, seed=seed)
    flow, frames, done = lab.runs["flow"], [], 0
    for frame in range(1, FRAMES + 1):
        stretch = steps * frame // FRAMES - done
        lab.advance(stretch)
        done += stretch
        frames.append(dict(lab.views_of("flow"))["density"])
        if progress is not None:
            progress(done / steps, f"Step {done}/{steps}: {flow.losses['nll'][-1][1]:.3f} nats per point")

    # 3. What it learnt
    views = dict(lab.views_of("flow"))
    images = [views["density"], views["warped grid"], views["points"]]
    first, last = flow.losses["nll"][0][1], flow.losses["nll"][-1][1]
    metadata = {"task": "flow_points", "dataset": dataset, "steps": steps, "seed": seed,
                "nll_first": round(first, 4), "nll_last": round(last, 4)}
    return FlowResult(images=images, metadata=metadata, metrics={"nll": [round(first, 4), round(last, 4)]},
                      frames=frames, gif=imaging.gif_bytes(frames))
