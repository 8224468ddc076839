"""StyleGAN style mixing: the coarse layers take one seed's style, the fine layers another's.

The grid is laid out as in the StyleGAN paper's figure: the fine seeds' own pictures along the top,
the coarse seeds' down the left, each mixed picture where its row and column meet. For shapes-world
generators the project's checker reads every picture, and each attribute of a mixed picture is traced
to the seed it came from, at the chosen crossover and at every other one (`.controls`).
"""

import torch
from PIL import Image

from ... import checks, imaging, limits
from ...data import checker, shapes
from ...models import registry
from ...models.cache import cache
from ...results import StyleMixingResult, base_metadata
from .gan_interpolation import latent

ATTRIBUTES = ("shape", "color", "size", "position", "background")
MAX_CROSSOVER = 17  # the last crossover of a 1024×1024 StyleGAN (18 styles): a bound checked before any model loads
DEFAULT_MODEL = "builtin/shapes-stylegan"
# By default the fine seed's styles start at the last 16×16 layer: in builtin/shapes-stylegan the coarse seed
# then gives the shape (85 % of mixes where the seeds differ) and position (82 %), the fine seed the colour and
# the background (100 %); see its card for every crossover.
DEFAULT_RESOLUTION = 16


def check_seeds(name: str, seeds) -> list[int]:
    if isinstance(seeds, (int, str, bytes)) or not hasattr(seeds, "__len__"):
        raise ValueError(f"`{name}` must be a list of 1 to {limits.MAX_MIX_SEEDS} seeds, got {seeds!r}.")
    if not 1 <= len(seeds) <= limits.MAX_MIX_SEEDS:
        raise ValueError(f"`{name}` must hold 1 to {limits.MAX_MIX_SEEDS} seeds, got {len(seeds)}.")
    return [checks.check_seed(name, seed) for seed in seeds]


@torch.inference_mode()
def style_mixing(coarse_seeds, fine_seeds, *, model=None, crossover=None, truncation=1.0,
                 progress=None) -> StyleMixingResult:
    # 1. Check inputs, and that the model has styles to mix, before it loads
    coarse_seeds = check_seeds("coarse_seeds", coarse_seeds)
    fine_seeds = check_seeds("fine_seeds", fine_seeds)
    if crossover is not None:
        crossover = checks.check_int("crossover", crossover, 1, MAX_CROSSOVER)
    truncation = checks.check_float("truncation", truncation, 0.0, 1.0)
    spec = registry.resolve("gan_interpolation", model or DEFAULT_MODEL)
    if not registry.can(spec, "w_space"):
        raise ValueError(f"`model` {spec.name} has one latent for all its layers (a {spec.kind}); style mixing "
                         f"needs a StyleGAN, e.g. builtin/shapes-stylegan.")

    # 2. Get the cached generator; the crossover against its layers
    generator = cache.load("gan_interpolation", spec.name, progress=progress)
    device, dtype = next(generator.parameters()).device, next(generator.parameters()).dtype
    resolutions = generator.layer_resolutions
    if crossover is None:
        crossover = (len(resolutions) - 1 - resolutions[::-1].index(DEFAULT_RESOLUTION)
                     if DEFAULT_RESOLUTION in resolutions else len(resolutions) // 2)
    if crossover >= generator.num_ws:
        raise ValueError(f"`crossover` must be between 1 and {generator.num_ws - 1} for {spec.name}, got {crossover}.")

    # 3. Styles: each seed's w, pulled towards the mean by truncation
    seeds = coarse_seeds + fine_seeds
    z = torch.stack([latent(seed, generator.latent_dim) for seed in seeds]).to(device, dtype)
    w = generator.map(z, truncation=truncation)
    w_coarse, w_fine = w[: len(coarse_seeds)], w[len(coarse_seeds):]
    if progress is not None:
        progress(0.1, f"Mixing {len(coarse_seeds)} × {len(fine_seeds)} pictures")

    # 4. The seeds' own pictures, then the mix at the chosen crossover and at every other one
    own = imaging.to_pil(generator.synthesis(generator.broadcast(w)))
    layers = range(1, generator.num_ws)
    pixels = {k: generator.synthesis(mix(generator, w_coarse, w_fine, k)) for k in layers}
    warnings = checks.check_output(pixels[crossover], spec.name, low=-1.0, high=1.0)
    images = imaging.to_pil(pixels[crossover])
    if progress is not None:
        progress(0.6, "Reading every picture with the checker")

    # 5. What each attribute of each mixed picture came from (shapes-world pictures only)
    readable = generator.image_size == shapes.IMAGE_SIZE
    own_read = [checker.judge(image) for image in own] if readable else []
    traced = {k: trace(own_read, images if k == crossover else imaging.to_pil(pixels[k]), len(coarse_seeds),
                       len(fine_seeds)) for k in layers} if readable else {}
    sources = traced.get(crossover, [])
    controls = [control_row(k, resolutions[k], traced[k]) for k in traced]
    metadata = base_metadata("style_mixing", spec, device, dtype, coarse_seeds=coarse_seeds, fine_seeds=fine_seeds,
                             crossover=crossover, crossover_resolution=resolutions[crossover],
                             layer_resolutions=resolutions, truncation=truncation, warnings=warnings)
    result = StyleMixingResult(images=images, metadata=metadata,
                               grid=paper_grid(own[: len(coarse_seeds)], own[len(coarse_seeds):], images),
                               seed_images=own, sources=sources, controls=controls)
    if progress is not None:
        progress(1.0, "Done")
    return result


def mix(generator, w_coarse: torch.Tensor, w_fine: torch.Tensor, crossover: int) -> torch.Tensor:
    """Every (coarse, fine) pair, row-major: layers before `crossover` take the coarse style, the rest the fine."""
    rows, columns = len(w_coarse), len(w_fine)
    coarse = w_coarse[:, None].expand(-1, columns, -1).reshape(rows * columns, -1)
    fine = w_fine[None].expand(rows, -1, -1).reshape(rows * columns, -1)
    return torch.cat([generator.broadcast(coarse)[:, :crossover], generator.broadcast(fine)[:, crossover:]], dim=1)


def trace(own: list, images: list, rows: int, columns: int) -> list[dict]:
    """For each mixed picture, per attribute: "coarse", "fine", "both" (the two seeds agree) or "neither"."""
    traced = []
    for i, image in enumerate(images):
        mixed, coarse, fine = checker.judge(image), own[i // columns], own[rows + i % columns]
        row = {}
        for name in ATTRIBUTES:
            value = getattr(mixed, name)
            from_coarse, from_fine = value == getattr(coarse, name), value == getattr(fine, name)
            row[name] = "both" if from_coarse and from_fine else "coarse" if from_coarse else "fine" if from_fine \
                else "neither"
        row["clean"] = mixed.clean
        traced.append(row)
    return traced


def control_row(crossover: int, resolution: int, traced: list[dict]) -> dict:
    """One crossover's summary: for each attribute, the share of pictures (where the two seeds differ in
    it) that took it from the coarse seed; 0 means the fine layers decide it."""
    row = {"crossover": crossover, "resolution": resolution}
    for name in ATTRIBUTES:
        decided = [t[name] for t in traced if t[name] in ("coarse", "fine", "neither")]
        row[name] = round(sum(s == "coarse" for s in decided) / len(decided), 3) if decided else None
    row["clean"] = round(sum(t["clean"] for t in traced) / len(traced), 3)  # one clean shape: no chimera
    return row


def paper_grid(coarse: list, fine: list, mixed: list):
    """The StyleGAN paper's layout: a blank corner, the fine seeds across the top, the coarse seeds down
    the left, the mixes in between."""
    blank = Image.new("RGB", mixed[0].size, (255, 255, 255))
    cells = [blank, *fine]
    for r, picture in enumerate(coarse):
        cells += [picture, *mixed[r * len(fine):(r + 1) * len(fine)]]
    return imaging.grid(cells, columns=len(fine) + 1)
