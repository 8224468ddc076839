"""Outputs: NaN pixels are an error the user sees, an all-black image is named in the warnings."""

import numpy as np
import pytest
import torch

from genart_playground import checks, gan_interpolation, text_to_image


@pytest.fixture
def broken_forward():
    """Replace a cached module's forward with one whose output is `fill` everywhere."""
    patched = []

    def install(module, fill: float):
        original = module.forward

        def forward(*args, **kwargs):
            out = original(*args, **kwargs)
            # A generator returns a tensor, a UNet a tuple (return_dict=False) or an output object.
            tensor = out if isinstance(out, torch.Tensor) else out[0] if isinstance(out, tuple) else out.sample
            tensor.fill_(fill)
            return out
        module.forward = forward
        patched.append(module)

    yield install
    for module in patched:
        del module.forward


def test_check_output_takes_arrays_and_tensors_in_any_range():
    good = torch.zeros(3, 3, 8, 8)  # mid-grey in [-1, 1]
    assert checks.check_output(good, "m", low=-1.0, high=1.0) == []
    good[2] = -1.0
    assert checks.check_output(good, "m", low=-1.0, high=1.0) == ["image 2 is completely black"]
    good[0, 0, 0, 0] = float("nan")
    with pytest.raises(checks.OutputError, match="NaN"):
        checks.check_output(good, "m", low=-1.0, high=1.0)
    with pytest.raises(checks.OutputError, match="NaN"):
        checks.check_output(np.full((1, 4, 4, 3), np.inf), "m")
    assert checks.check_output(np.full((1, 4, 4, 3), 0.03), "m") == []  # dark is not black


def test_gan_nan_is_an_error(fresh_cache, tiny_gan, broken_forward):
    broken_forward(fresh_cache.load("gan_interpolation", tiny_gan), float("nan"))
    with pytest.raises(checks.OutputError, match=f"{tiny_gan}.*NaN"):
        gan_interpolation(0, 1, model=tiny_gan, frames=3)


def test_gan_black_frames_are_reported(fresh_cache, tiny_gan, broken_forward):
    broken_forward(fresh_cache.load("gan_interpolation", tiny_gan), -1.0)
    result = gan_interpolation(0, 1, model=tiny_gan, frames=2)
    assert result.metadata["warnings"] == ["image 0 is completely black", "image 1 is completely black"]


def test_gan_normal_frames_have_no_warnings(tiny_gan):
    assert gan_interpolation(0, 1, model=tiny_gan, frames=2).metadata["warnings"] == []


def test_text_to_image_nan_is_an_error(fresh_cache, tiny_t2i, broken_forward):
    broken_forward(fresh_cache.load("text_to_image", tiny_t2i).unet, float("nan"))
    with pytest.raises(checks.OutputError, match="NaN"):
        text_to_image("a red circle", model=tiny_t2i, steps=1)


def test_nan_reaches_the_api_client_as_its_message(api_client, fresh_cache, tiny_gan, broken_forward):
    from gradio_client.exceptions import AppError

    broken_forward(fresh_cache.load("gan_interpolation", tiny_gan), float("nan"))
    with pytest.raises(AppError, match="NaN pixels"):
        api_client.predict(0, 1, tiny_gan, 2, "slerp", 1.0, api_name="/gan_interpolation")


def test_vae_reports_a_black_reconstruction_but_not_a_black_input(tiny_vae, monkeypatch):
    from PIL import Image

    from genart_playground import vae_reconstruction
    from genart_playground.models.cache import cache

    bright = Image.new("RGB", (32, 32), (200, 120, 40))
    dark = Image.new("RGB", (32, 32), (0, 0, 0))
    vae = cache.load("vae_reconstruction", tiny_vae)
    monkeypatch.setattr(type(vae), "decode", lambda self, z: type("Out", (), {"sample": -torch.ones(1, 3, 32, 32)})())
    assert vae_reconstruction(bright, model=tiny_vae).metadata["warnings"] == ["image 0 is completely black"]
    assert vae_reconstruction(dark, model=tiny_vae).metadata["warnings"] == []
    monkeypatch.setattr(type(vae), "decode", lambda self, z: type("Out", (), {"sample": torch.full((1, 3, 32, 32), float("nan"))})())
    with pytest.raises(checks.OutputError, match="NaN"):
        vae_reconstruction(bright, model=tiny_vae)


def test_style_transfer_reports_nan_pixels(monkeypatch):
    from PIL import Image

    from genart_playground.families.style_transfer import style_transfer as st

    monkeypatch.setattr(st, "_optimise", lambda net, c, s, **kw: (torch.full_like(c, float("nan")), {"content": [1.0], "style": [1.0], "total": [1.0]}, []))
    image = Image.new("RGB", (64, 64), (200, 120, 40))
    with pytest.raises(checks.OutputError, match="NaN"):
        st.style_transfer(image, image, steps=1, size=64)
