"""The built-in photo autoencoder (issue 14 §1): on photos it never saw (scikit-learn's and matplotlib's,
the held-out set) it keeps at least 27 dB and beats the shapes VAE widely; it is the VAE tab's default;
its training script trains, resumes and saves a model the app loads; its training set holds no
held-out photo."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import genart_playground as gp
from genart_playground import metrics, settings
from genart_playground.data import photos
from genart_playground.models import registry
from genart_playground.families.vae_reconstruction import train_photo_vae as photo_vae

pytestmark = pytest.mark.slow  # trains and runs the photo autoencoder

SHIPPED = settings.BUILTIN_DIR / "photo-vae"


@pytest.fixture(scope="module")
def held_out():
    return photos.heldout_photos(256)


def psnr(a: Image.Image, b: Image.Image) -> float:
    from genart_playground import imaging

    return float(metrics.psnr(imaging.to_tensor(a), imaging.to_tensor(b)))


def test_the_held_out_photos_are_scikit_learns_and_matplotlibs(held_out):
    assert [photo.name for photo in held_out] == ["china.jpg", "flower.jpg", "grace_hopper.jpg"]
    assert all(photo.image.size == (256, 256) and photo.image.mode == "RGB" for photo in held_out)


def test_no_held_out_photo_was_trained_on(held_out):
    trained = json.loads((SHIPPED / "training.json").read_text())["training_photos"]
    assert len(trained) >= 20
    assert not any(photo.name.rsplit(".", 1)[0] in name for photo in held_out for name in trained)
    assert not any("sklearn" in name or "matplotlib" in name for name in trained)


def test_the_photo_vae_keeps_held_out_photos_and_the_shapes_vae_does_not(held_out):
    photo = [psnr(p.image, gp.vae_reconstruction(p.image, model="builtin/photo-vae").images[0]) for p in held_out]
    shapes = [psnr(p.image, gp.vae_reconstruction(p.image, model="builtin/shapes-vae").images[0]) for p in held_out]
    assert np.mean(photo) >= 27.0, photo
    assert np.mean(photo) >= np.mean(shapes) + 8.0, (photo, shapes)


def test_it_is_the_vae_tabs_default_and_the_shapes_vae_stays_selectable(held_out):
    assert registry.default_model("vae_reconstruction") == "builtin/photo-vae"
    names = [spec.name for spec in registry.models_for("vae_reconstruction")]
    assert "builtin/shapes-vae" in names
    result = gp.vae_reconstruction(held_out[2].image)
    assert result.metadata["model"] == "builtin/photo-vae" and result.metadata["downsample_factor"] == 4
    assert result.metrics["compression_ratio"] == 4.0  # 4×4×3 pixel values -> 12 latents


def test_the_card_names_each_source_with_its_licence_and_the_figures():
    card = (SHIPPED / "README.md").read_text()
    for source in ("scikit-image", "mate-backgrounds", "plasma-workspace-wallpapers", "CC0", "public domain",
                   "GPL", "LGPL", "python -m genart_playground.train photo-vae", "held-out"):
        assert source in card, source


def fake_photos(count: int, size=(96, 80)) -> list:
    rng = np.random.default_rng(0)
    return [photos.Photo(f"fake/{i}.png", Image.fromarray(rng.integers(0, 255, (*size[::-1], 3), dtype=np.uint8)))
            for i in range(count)]


def test_training_runs_resumes_and_saves_a_model_the_app_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(photos, "training_photos", lambda: fake_photos(3))
    monkeypatch.setattr(photos, "heldout_photos", lambda size=256: fake_photos(2, (32, 32)))
    options = ["--channels", "8", "--latent_channels", "4", "--crop", "16", "--batch_size", "2", "--threads", "1",
               "--warmup", "1", "--scales", "80", "--sample_every", "2", "--run_dir", str(tmp_path / "run"),
               "--out", str(tmp_path / "model")]
    seen = []
    photo_vae.train(photo_vae.parse_config(photo_vae.PhotoVaeConfig, [*options, "--steps", "2"]),
                    on_step=lambda step, total, logs: seen.append(step))
    assert seen == [1, 2]
    photo_vae.main([*options, "--steps", "3"])  # resumes at step 2: one more step
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 3
    info = json.loads((tmp_path / "model" / "training.json").read_text())
    assert info["training_photos"] == ["fake/0.png", "fake/1.png", "fake/2.png"] and len(info["held_out"]) == 2
    assert [stage["steps"] for stage in info["stages"]] == [2, 3]  # the resumed run is a second stage
    assert [entry["step"] for entry in info["history"]] == [2, 3]  # figures of both stages

    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(tmp_path / "model", use_safetensors=True)
    assert vae.config.latent_channels == 4 and vae.config.scaling_factor > 0
    with torch.no_grad():
        out = vae.decode(vae.encode(torch.zeros(1, 3, 24, 40)).latent_dist.mode()).sample
    assert out.shape == (1, 3, 24, 40)  # fully convolutional: any size that 4 divides
