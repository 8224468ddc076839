"""Exact likelihood: the bits per dimension a flow gives any picture (a shapes picture, a photo, noise)."""

import torch

from ... import checks
from ...results import base_metadata
from .classes import caption
from .flow_result import FlowResult
from .likelihood import all_labels, log_likelihood
from .pictures import as_bytes, device_of, load, open_picture, to_model_size

MAX_PICTURES = 8  # each costs one encode per class (600 for the built-in): about a second each on a CPU


@torch.inference_mode()
def flow_likelihood(images, *, model=None, progress=None) -> FlowResult:
    """Bits/dim of each picture under the flow: -log2 p(x) / dimensions, exact (summed over every class, the
    classes equally likely as in training). `images` is one picture or a list (PIL, paths, uploads)."""
    # 1. Check inputs (a path or bytes is opened here, its pixel count checked before decoding)
    images = list(images) if isinstance(images, (list, tuple)) else [images]
    checks.check_int("the number of images", len(images), 1, MAX_PICTURES)
    images = [open_picture(f"images[{i}]", image) for i, image in enumerate(images)]

    # 2. The cached flow; each picture at its size
    spec, flow = load(model, progress)
    notes, pictures = [], []
    for i, image in enumerate(images):
        picture, picture_notes = to_model_size(image, flow.image_size, f"image {i}")
        pictures.append(picture)
        notes += picture_notes

    # 3. log p(x) of the 8-bit pictures, and the class each is most likely under
    if progress is not None:
        progress(0.1, f"Encoding {len(pictures)} pictures under every class")
    log_p, best = log_likelihood(flow, as_bytes(pictures))
    bits = [round(float(b), 4) for b in flow.bits_per_dim(log_p)]
    classes = all_labels(flow)[best].tolist()

    metadata = base_metadata("flow_likelihood", spec, device_of(flow), next(flow.parameters()).dtype,
                             num_images=len(pictures), size=[flow.image_size, flow.image_size], bits_per_dim=bits,
                             likelihood=f"exact, summed over the model's {len(all_labels(flow))} classes "
                                        "(uniform dequantisation, seed 0)",
                             most_likely_class=[caption(flow.codes, row) for row in classes], notes=notes)
    if progress is not None:
        progress(1.0, "Done")
    return FlowResult(images=pictures, metadata=metadata, metrics={"bits_per_dim": bits})
