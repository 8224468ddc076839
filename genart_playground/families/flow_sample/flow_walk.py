"""A walk between two pictures: encode both exactly, walk the straight line between their z, decode each step."""

import torch

from ... import checks, imaging, limits
from ...results import InterpolationResult, base_metadata
from .classes import caption
from .likelihood import encode_exactly
from .pictures import as_bytes, device_of, load, open_picture, to_model_size, to_pictures


def point(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """a + t·(b - a), exactly a and b at the ends (lerp's rounding would move the end pictures)."""
    return a if t == 0.0 else b if t == 1.0 else torch.lerp(a, b, t)


@torch.inference_mode()
def flow_walk(image_a, image_b, *, model=None, frames=8, progress=None) -> InterpolationResult:
    """Both ends are the pictures themselves (up to float rounding): a flow needs no inversion search, unlike
    a GAN. Each picture is encoded under its most likely class; the walk blends the two classes' embeddings
    along with z."""
    # 1. Check inputs
    frames = checks.check_int("frames", frames, 2, limits.MAX_WALK_FRAMES)
    image_a, image_b = open_picture("image_a", image_a), open_picture("image_b", image_b)

    # 2. The cached flow; both pictures at its size, encoded under their most likely classes
    spec, flow = load(model, progress)
    (picture_a, notes_a), (picture_b, notes_b) = (to_model_size(image, flow.image_size, name)
                                                  for image, name in ((image_a, "image A"), (image_b, "image B")))
    _, labels, embeddings, _, zs = encode_exactly(flow, as_bytes([picture_a, picture_b]))

    # 3. Decode each point of the straight line (lerp: the ends are encodings, not draws from the prior)
    ts = torch.linspace(0.0, 1.0, frames).tolist()
    decoded = []
    for i, t in enumerate(ts):
        decoded.append(flow.decode(point(embeddings[:1], embeddings[1:], t), [point(z[:1], z[1:], t) for z in zs]))
        if progress is not None:
            progress((i + 1) / (frames + 1), f"Decoded frame {i + 1}/{frames}")
    images, warnings = to_pictures(torch.cat(decoded), spec.name)

    ends = [caption(flow.codes, row) for row in labels.tolist()]
    metadata = base_metadata("flow_walk", spec, device_of(flow), next(flow.parameters()).dtype, frames=frames,
                             size=[flow.image_size, flow.image_size], classes=ends, notes=notes_a + notes_b,
                             warnings=warnings)
    return InterpolationResult(images=images, metadata=metadata, gif=imaging.gif_bytes(images),
                               labels=[ends[0] if t < 0.5 else ends[1] for t in ts])
