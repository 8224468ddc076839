"""The built-in flow's figures, as `bench/quality.py` prints them (the family's `bench`): bits/dim on held-out
pictures beside the field's reference figures, the checker's reading of samples at several temperatures,
the round trip's error, the likelihood of pictures that are not shapes, and the speed of a sample."""

import time

import numpy as np
import torch

FLOW_BUILTIN = "builtin/shapes-flow"
REFERENCE = "RealNVP 3.49 and Glow 3.35 bits/dim on CIFAR-10 (32×32 photos; Dinh et al. 2017, Kingma & Dhariwal 2018)"
MARGINAL_PICTURES = 16
HELDOUT_SEED = 2_000  # scenes drawn from another seed's stream than the training set (seed 0) and its eval (1,000)


def flow_figures(n: int, seed: int) -> None:
    """On 64·n held-out pictures, and n samples of every class (600 for the built-in) per temperature."""
    from ...models.cache import cache

    try:
        flow = cache.load("flow_sample", FLOW_BUILTIN)
    except (OSError, RuntimeError, ValueError) as error:  # not shipped, or weights from an older layout
        print(f"{FLOW_BUILTIN}: could not load ({type(error).__name__}: {str(error).splitlines()[0]})")
        return
    likelihood_figures(flow, 64 * n, seed)
    for temperature in (0.0, 0.5, 0.7, 1.0):
        sample_figures(flow, n, seed, temperature)
    reference_figures(flow)
    speed()


def likelihood_figures(flow, count: int, seed: int) -> None:
    from .likelihood import all_labels, log_likelihood
    from .train_flow import heldout_bits_per_dim, shapes_pictures

    pictures, labels = shapes_pictures(count, seed=HELDOUT_SEED + seed, size=flow.image_size)
    conditional = heldout_bits_per_dim(flow, pictures, labels)
    summed = min(count, MARGINAL_PICTURES)  # one encode per class each: 600 for the built-in
    log_p, best = log_likelihood(flow, pictures[:summed])
    exact = float(flow.bits_per_dim(log_p).mean())
    print(f"{FLOW_BUILTIN}: held-out shapes pictures ({flow.image_size}×{flow.image_size}, uniform dequantisation): "
          f"{conditional:.3f} bits/dim given each picture's classes ({count} pictures); {exact:.3f} bits/dim summed "
          f"over its {len(all_labels(flow))} classes ({summed} pictures; "
          f"{float(flow.bits_per_dim(given_classes(flow, pictures[:summed], labels[:summed])).mean()):.3f} given their "
          f"classes). For scale: {REFERENCE}.")
    right = float((best == all_rows(flow, labels[:summed])).float().mean())
    print(f"  the classes each picture is most likely under are its own for {right:.1%} of {summed}")
    x = (pictures.float() / 255)
    with torch.no_grad():
        embedding = flow.embed(labels)
        zs, _ = flow.encode(x, embedding)
        error = float((flow.decode(embedding, zs) - x).abs().max())
    print(f"  round trip picture → z → picture: largest pixel error {error:.2e} (pixels in 0..1)")


def given_classes(flow, pictures, labels) -> torch.Tensor:
    from .likelihood import conditional_log_likelihood

    return conditional_log_likelihood(flow, pictures, labels)


def all_rows(flow, labels: torch.Tensor) -> torch.Tensor:
    """Each picture's row in `all_labels` (the first code major, the last minor)."""
    rows = torch.zeros(len(labels), dtype=torch.long)
    for i, names in enumerate(flow.codes):
        rows = rows * len(names) + labels[:, i]
    return rows


def sample_figures(flow, n: int, seed: int, temperature: float) -> None:
    from ...devices import make_generator
    from ...metrics import world
    from .likelihood import all_labels
    from .pictures import to_pictures

    classes = all_labels(flow)
    labels = classes.repeat(n, 1)
    with torch.no_grad():
        pixels = flow.decode(flow.embed(labels), temperature=temperature, generator=make_generator(seed))
    images, _ = to_pictures(pixels, FLOW_BUILTIN)
    judged = world.judge(images)
    named = [[flow.codes[i][int(k)] for i, k in enumerate(row)] for row in labels]
    clean = np.mean([j.clean for j in judged])
    shape_right = np.mean([j.clean and f"{j.color} {j.shape}" == names[0] for j, names in zip(judged, named)])
    all_right = np.mean([j.clean and j.agrees(**world.named_attributes(names)) for j, names in zip(judged, named)])
    reached = {names[0] for j, names in zip(judged, named) if j.clean and f"{j.color} {j.shape}" == names[0]}
    print(f"  temperature {temperature}: {clean:.1%} of {len(images)} samples clean; the checker reads the requested "
          f"colour+shape in {shape_right:.1%} (and the background too in {all_right:.1%}); "
          f"{len(reached)}/{len(flow.codes[0])} colour×shape classes reached")


def reference_figures(flow) -> None:
    from .flow_likelihood import flow_likelihood
    from .references import reference_pictures

    pictures = reference_pictures()
    bits = flow_likelihood(list(pictures.values()), model=FLOW_BUILTIN).metrics["bits_per_dim"]
    print("  " + "; ".join(f"{name}: {b:.2f}" for name, b in zip(pictures, bits)) + " bits/dim")


def speed(count: int = 4) -> None:
    from .flow_sample import flow_sample

    timings = []
    for _ in range(6):  # the first call may load the flow into the cache
        began = time.perf_counter()
        flow_sample("a red circle", model=FLOW_BUILTIN, num_images=count)
        timings.append(time.perf_counter() - began)
    print(f"  flow_sample(num_images={count}) with bits/dim: median {np.median(timings[1:]):.3f} s "
          f"(of {len(timings) - 1}, after a first call of {timings[0]:.2f} s)")
