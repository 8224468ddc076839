"""The gan_interpolation adapter on a tiny random generator."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from genart_playground import gan_interpolation
from genart_playground.families.gan_interpolation.gan_interpolation import latent
from genart_playground.latents import slerp


def close(a: Image.Image, b: Image.Image, tolerance: int = 1) -> bool:
    """Equal up to one 8-bit level: batched convolutions may round differently from a batch of one."""
    return np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int)).max() <= tolerance


def test_frames_count_size_and_gif(tiny_gan):
    result = gan_interpolation(0, 1, model=tiny_gan, frames=7)
    assert len(result.images) == 7 and all(image.size == (64, 64) for image in result.images)
    gif = Image.open(io.BytesIO(result.gif))
    assert gif.format == "GIF" and gif.n_frames == 7


def test_endpoints_are_the_seeds_own_samples(tiny_gan):
    forward = gan_interpolation(3, 8, model=tiny_gan, frames=5)
    other = gan_interpolation(3, 21, model=tiny_gan, frames=9)
    backward = gan_interpolation(8, 3, model=tiny_gan, frames=2)
    assert close(forward.images[0], other.images[0])
    assert close(forward.images[-1], backward.images[0])
    assert close(forward.images[0], backward.images[-1])
    assert not close(forward.images[0], forward.images[-1], tolerance=10)


def test_same_seeds_same_frames(tiny_gan):
    a = gan_interpolation(4, 5, model=tiny_gan, frames=4)
    b = gan_interpolation(4, 5, model=tiny_gan, frames=4)
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.images, b.images))


def test_slerp_keeps_the_latent_norm_where_lerp_shrinks_it():
    a, b = latent(1, 512), latent(2, 512)
    assert torch.allclose(slerp(a, b, 0.0), a) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    middle_slerp, middle_lerp = slerp(a, b, 0.5), torch.lerp(a, b, 0.5)
    assert abs(middle_slerp.norm() - a.norm()) / a.norm() < 0.05
    assert middle_lerp.norm() < 0.8 * a.norm()  # near-orthogonal Gaussians: about 1/√2 of the norm


def test_slerp_and_lerp_differ_in_the_middle_only(tiny_gan):
    s = gan_interpolation(0, 1, model=tiny_gan, frames=3, method="slerp")
    l = gan_interpolation(0, 1, model=tiny_gan, frames=3, method="lerp")  # noqa: E741
    assert close(s.images[0], l.images[0]) and close(s.images[2], l.images[2])
    assert not np.array_equal(np.asarray(s.images[1]), np.asarray(l.images[1]))


def test_truncation_changes_the_sample_and_is_recorded(tiny_gan):
    full = gan_interpolation(0, 1, model=tiny_gan, frames=2)
    truncated = gan_interpolation(0, 1, model=tiny_gan, frames=2, truncation=0.5)
    assert not np.array_equal(np.asarray(full.images[0]), np.asarray(truncated.images[0]))
    assert truncated.metadata["truncation"] == 0.5 and truncated.metadata["seed_a"] == 0


def test_progress_ends_at_one(tiny_gan):
    calls = []
    gan_interpolation(0, 1, model=tiny_gan, frames=3, progress=lambda f, m: calls.append(f))
    assert calls[0] == 0.0 and calls[-1] == 1.0


@pytest.mark.parametrize("kwargs, message", [
    ({"frames": 1}, "`frames` must be between"),
    ({"frames": -5}, "`frames` must be between"),
    ({"frames": 100000}, "`frames` must be between"),
    ({"method": "cubic"}, "`method` must be one of"),
    ({"truncation": 0.0}, "`truncation` must be above 0"),
    ({"truncation": 1.5}, "`truncation` must be between"),
    ({"truncation": float("nan")}, "`truncation` must be between"),
])
def test_bad_options_are_refused(tiny_gan, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gan_interpolation(0, 1, model=tiny_gan, **kwargs)


@pytest.mark.parametrize("seed_a, seed_b", [(-1, 0), (0, 2**64), ("7", 0)])
def test_bad_seeds_are_refused(tiny_gan, seed_a, seed_b):
    with pytest.raises(ValueError, match="`seed_"):
        gan_interpolation(seed_a, seed_b, model=tiny_gan)
