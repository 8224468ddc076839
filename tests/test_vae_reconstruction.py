"""The vae_reconstruction adapter on tiny random autoencoders, and the metrics it reports."""

import numpy as np
import pytest
import torch
from PIL import Image

from genart_playground import limits, metrics, vae_reconstruction


def picture(width=32, height=32, mode="RGB"):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    return image.convert(mode)


@pytest.mark.parametrize("fixture", ["tiny_vae", "tiny_taesd"])
def test_reconstruction_keeps_the_size_and_reports_metrics(fixture, request):
    model = request.getfixturevalue(fixture)
    result = vae_reconstruction(picture(40, 24), model=model)
    assert result.images[0].size == (40, 24)
    assert result.error_map.size == (40, 24)
    assert result.latent_channels is not None
    assert set(result.metrics) == {"psnr", "ssim", "compression_ratio"}
    assert -1.0 <= result.metrics["ssim"] <= 1.0 and np.isfinite(result.metrics["psnr"])


def test_compression_ratio_follows_the_latent_shape(tiny_vae):
    result = vae_reconstruction(picture(32, 32), model=tiny_vae)
    channels, height, width = result.metadata["latent_shape"]
    assert (height, width) == (8, 8)  # three blocks: 4× down
    assert result.metrics["compression_ratio"] == pytest.approx(3 * 32 * 32 / (channels * height * width))


def test_odd_sizes_are_padded_and_say_so(tiny_vae):
    result = vae_reconstruction(picture(37, 50), model=tiny_vae)
    assert result.images[0].size == (37, 50)
    assert any("padded from 37×50 to 40×52" in note for note in result.metadata["notes"])


def test_large_images_are_resized_and_say_so(tiny_vae, monkeypatch):
    monkeypatch.setattr(limits, "MAX_MODEL_PIXELS", 32 * 32)
    result = vae_reconstruction(picture(64, 64), model=tiny_vae)
    assert result.images[0].size == (32, 32)
    assert any("resized from 64×64 to 32×32" in note for note in result.metadata["notes"])


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "CMYK", "I;16"])
def test_other_image_modes_work(tiny_vae, mode):
    image = picture(32, 32).convert("L").convert("I;16") if mode == "I;16" else picture(32, 32, mode)
    assert vae_reconstruction(image, model=tiny_vae).images[0].mode == "RGB"


def test_same_input_same_output(tiny_vae):
    a = vae_reconstruction(picture(), model=tiny_vae)
    b = vae_reconstruction(picture(), model=tiny_vae)
    assert np.array_equal(np.asarray(a.images[0]), np.asarray(b.images[0]))


def test_bad_inputs_are_refused(tiny_vae, monkeypatch):
    with pytest.raises(ValueError, match="`image` must be an image"):
        vae_reconstruction(np.zeros((8, 8, 3)), model=tiny_vae)
    with pytest.raises(ValueError, match="at least 8×8"):
        vae_reconstruction(picture(4, 4), model=tiny_vae)
    monkeypatch.setattr(limits, "MAX_UPLOAD_PIXELS", 16 * 16)
    with pytest.raises(ValueError, match="the limit is 256 pixels"):
        vae_reconstruction(picture(32, 32), model=tiny_vae)


def test_psnr_and_ssim_on_known_cases():
    x = torch.rand(1, 3, 32, 32) * 1.6 - 0.8
    assert metrics.psnr(x, x) == float("inf")
    assert metrics.ssim(x, x) == pytest.approx(1.0, abs=1e-5)
    shifted = x + 0.1  # 0.05 on a [0, 1] scale: MSE 0.0025, 26.02 dB
    assert metrics.psnr(x, shifted) == pytest.approx(26.02, abs=0.01)
    noise = x + 0.5 * torch.randn_like(x)
    assert metrics.ssim(x, noise) < metrics.ssim(x, shifted) < 1.0
