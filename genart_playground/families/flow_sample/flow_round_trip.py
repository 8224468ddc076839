"""Invertibility: a picture → z → the same picture, and what z holds at each scale."""

import torch
from PIL import Image

from ... import imaging
from ...results import base_metadata
from .classes import caption
from .flow_result import FlowResult
from .likelihood import encode_exactly
from .pictures import as_bytes, device_of, load, open_picture, to_model_size, to_pictures

VIEW_SIDE = 128  # z maps are enlarged to this for viewing (nearest: one square per z position)


def z_map(z: torch.Tensor) -> Image.Image:
    """One level's z (C, H, W) as a heat map of its size per position: √(mean over channels of z²)."""
    size = z.float().pow(2).mean(0).sqrt().cpu()
    return imaging.heat_map(size).resize((VIEW_SIDE, VIEW_SIDE), Image.NEAREST)


@torch.inference_mode()
def flow_round_trip(image, *, model=None, progress=None) -> FlowResult:
    """Encode a picture to z and decode it back: `.metrics["max_abs_error"]` is the largest pixel change
    (pixels in 0..1; float rounding, about 1e-6, since every layer is inverted exactly)."""
    # 1. Check inputs
    image = open_picture("image", image)

    # 2. The cached flow; the picture at its size; the class it is most likely under
    spec, flow = load(model, progress)
    picture, notes = to_model_size(image, flow.image_size)
    log_p, labels, embedding, x, zs = encode_exactly(flow, as_bytes([picture]))

    # 3. Back: the picture's own pixel values (no dequantisation noise) were encoded; decode them
    if progress is not None:
        progress(0.5, "Decoding z back")
    back = flow.decode(embedding, zs)
    error = float((back.float() - x.float()).abs().max())
    images, warnings = to_pictures(back, spec.name)

    # 4. What each scale holds: the picture rebuilt from the coarsest levels' z alone, the rest at their
    #    prior's mean (temperature 0); with every level it is the picture again
    from_levels = [to_pictures(flow.decode(embedding, [None] * (flow.levels - kept) + zs[flow.levels - kept:],
                                           temperature=0.0), spec.name)[0][0]
                   for kept in range(1, flow.levels + 1)]

    bits = round(float(flow.bits_per_dim(log_p)[0]), 4)
    metadata = base_metadata("flow_round_trip", spec, device_of(flow), next(flow.parameters()).dtype,
                             size=[flow.image_size, flow.image_size], max_abs_error=error, bits_per_dim=bits,
                             most_likely_class=caption(flow.codes, labels[0].tolist()),
                             z_shapes=[list(z.shape[1:]) for z in zs], notes=notes, warnings=warnings)
    if progress is not None:
        progress(1.0, "Done")
    return FlowResult(images=images, metadata=metadata, metrics={"max_abs_error": error, "bits_per_dim": bits},
                      z_maps=[z_map(z[0]) for z in zs], from_levels=from_levels)
