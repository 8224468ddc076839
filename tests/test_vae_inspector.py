"""The VAE inspector: per-channel heat maps, noise added to the latents, and two autoencoders side by side."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genart_playground import imaging, vae_reconstruction
from runs import RUN


def picture(width=32, height=32, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=int)


@pytest.fixture(scope="module")
def picture_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("pictures") / "picture.png"
    picture(40, 24).save(path)
    return str(path)


# Latent noise --------------------------------------------------------------------------------

def test_no_noise_is_a_plain_encode_and_decode(tiny_vae):
    from diffusers import AutoencoderKL

    from genart_playground.models import registry

    vae = AutoencoderKL.from_pretrained(registry.resolve("vae_reconstruction", tiny_vae).source)
    with torch.inference_mode():
        x = imaging.to_tensor(picture())
        expected = imaging.to_pil(vae.decode(vae.encode(x).latent_dist.mode()).sample.clamp(-1, 1))[0]
    for result in (vae_reconstruction(picture(), model=tiny_vae),
                   vae_reconstruction(picture(), model=tiny_vae, latent_noise=0.0, seed=123)):
        assert np.array_equal(pixels(result.images[0]), pixels(expected))


def test_noise_changes_the_pixels_and_the_seed_picks_which(tiny_vae):
    clean = vae_reconstruction(picture(), model=tiny_vae).images[0]
    a = vae_reconstruction(picture(), model=tiny_vae, latent_noise=0.5, seed=1)
    again = vae_reconstruction(picture(), model=tiny_vae, latent_noise=0.5, seed=1)
    other = vae_reconstruction(picture(), model=tiny_vae, latent_noise=0.5, seed=2)
    assert not np.array_equal(pixels(a.images[0]), pixels(clean))
    assert np.array_equal(pixels(a.images[0]), pixels(again.images[0]))
    assert not np.array_equal(pixels(a.images[0]), pixels(other.images[0]))
    assert a.metadata["latent_noise"] == 0.5 and a.metadata["seed"] == 1


def test_noise_is_recorded_even_when_zero(tiny_vae):
    result = vae_reconstruction(picture(), model=tiny_vae)
    assert result.metadata["latent_noise"] == 0.0 and result.metadata["seed"] == 0


@pytest.mark.slow  # runs a shipped model
def test_more_noise_loses_more_of_the_image():
    # The built-in autoencoder is trained: noise in its latents costs fidelity (a random one may not show it).
    image = Image.open(Path(__file__).resolve().parents[1] / "examples" / "images" / "shapes.png")
    scores = [vae_reconstruction(image, latent_noise=amount, seed=0).metrics["psnr"] for amount in (0.0, 1.0, 2.0)]
    assert scores[0] > scores[1] > scores[2]


@pytest.mark.parametrize("kwargs, message", [
    ({"latent_noise": -0.1}, "`latent_noise` must be between 0.0 and 2.0"),
    ({"latent_noise": 2.5}, "`latent_noise` must be between 0.0 and 2.0"),
    ({"latent_noise": float("nan")}, "`latent_noise` must be between"),
    ({"latent_noise": "0.5"}, "`latent_noise` must be a number"),
    ({"seed": -1}, "`seed` must be between"),
    ({"seed": 2**32}, "`seed` must be between"),
    ({"seed": 1.5}, "`seed` must be a whole number"),
])
def test_bad_noise_options_are_refused_before_any_work(tiny_vae, fresh_cache, kwargs, message):
    with pytest.raises(ValueError, match=message):
        vae_reconstruction(None, model=tiny_vae, **kwargs)  # the options are checked before the image
    assert fresh_cache.loads == 0


# Channel heat maps ---------------------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["tiny_vae", "tiny_taesd"])
def test_one_heat_map_per_latent_channel(fixture, request):
    result = vae_reconstruction(picture(32, 32), model=request.getfixturevalue(fixture))
    channels, height, width = result.metadata["latent_shape"]
    assert len(result.channel_maps) == channels
    scale = max(1, 128 // max(height, width))
    assert all(tile.size == (width * scale, height * scale) for tile in result.channel_maps)
    grid = imaging.grid(result.channel_maps, min(4, channels))
    assert np.array_equal(pixels(result.latent_channels), pixels(grid))  # the old picture, made of the maps


def test_heat_maps_show_the_noisy_latents_the_decoder_saw(tiny_vae):
    clean = vae_reconstruction(picture(), model=tiny_vae).channel_maps
    noisy = vae_reconstruction(picture(), model=tiny_vae, latent_noise=1.0, seed=0).channel_maps
    assert not np.array_equal(pixels(clean[0]), pixels(noisy[0]))


# Two autoencoders ----------------------------------------------------------------------------

def test_comparison_gives_both_reconstructions_and_both_metric_sets(tiny_vae, tiny_taesd, picture_file):
    from genart_playground.ui import tab_vae_reconstruction

    *images, both = tab_vae_reconstruction.compare(RUN["vae_reconstruction"], picture_file, tiny_vae, tiny_taesd, 0.0, 0)
    assert len(images) == 6
    with Image.open(images[0]) as first, Image.open(images[3]) as second:
        assert first.size == second.size == (40, 24)
        assert not np.array_equal(pixels(first), pixels(second))
    assert [entry["model"] for entry in both] == [tiny_vae, tiny_taesd]
    assert all({"psnr", "ssim", "compression_ratio"} <= set(entry) for entry in both)
    alone = vae_reconstruction(picture(40, 24), model=tiny_taesd)
    assert both[1]["psnr"] == pytest.approx(alone.metrics["psnr"], abs=1e-3)


def test_comparison_needs_a_second_autoencoder(tiny_vae, picture_file):
    import gradio as gr

    from genart_playground.ui import tab_vae_reconstruction

    with pytest.raises(gr.Error, match="Compare with"):
        tab_vae_reconstruction.compare(RUN["vae_reconstruction"], picture_file, tiny_vae, tab_vae_reconstruction.NONE, 0.0, 0)


def test_the_tab_names_its_new_controls_like_the_adapter():
    import gradio as gr

    from genart_playground import families

    with gr.Blocks():
        controls = families.by_id("vae_reconstruction").build_tab(run=RUN["vae_reconstruction"]).controls
    assert {"model", "latent_noise", "seed"} <= set(controls)
    assert controls["latent_noise"].value == 0.0 and controls["latent_noise"].info
    assert controls["seed"].info


# Through the API -----------------------------------------------------------------------------

def test_latent_noise_through_the_api(api_client, tiny_vae, picture_file, no_network_attempts):
    from gradio_client import handle_file

    def reconstruction(*options):
        recon, error_map, latents, metrics, metadata = api_client.predict(
            handle_file(picture_file), tiny_vae, *options, api_name="/vae_reconstruction")
        with Image.open(recon) as image:
            return pixels(image), metadata

    old_client, metadata = reconstruction()  # a client that sends only the image and the model
    clean, _ = reconstruction(0.0, 0)
    noisy, noisy_metadata = reconstruction(0.5, 3)
    again, _ = reconstruction(0.5, 3)
    assert np.array_equal(old_client, clean) and metadata["latent_noise"] == 0.0
    assert not np.array_equal(clean, noisy) and np.array_equal(noisy, again)
    assert noisy_metadata["latent_noise"] == 0.5 and noisy_metadata["seed"] == 3


def test_comparison_through_the_api(api_client, tiny_vae, tiny_taesd, picture_file, no_network_attempts):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError, ValidationError

    *images, both = api_client.predict(handle_file(picture_file), tiny_vae, tiny_taesd, 0.0, 0,
                                       api_name="/vae_compare")
    assert len(images) == 6 and all(Image.open(path).format == "PNG" for path in images)
    assert [entry["model"] for entry in both] == [tiny_vae, tiny_taesd]
    assert both[0]["compression_ratio"] != both[1]["compression_ratio"] or both[0]["psnr"] != both[1]["psnr"]
    with pytest.raises(ValidationError, match="compare_model: Choose a second autoencoder"):  # before the queue
        api_client.predict(handle_file(picture_file), tiny_vae, "none", 0.0, 0, api_name="/vae_compare")
    with pytest.raises(AppError, match="greater than maximum value 2.0"):  # Gradio's own slider bound
        api_client.predict(handle_file(picture_file), tiny_vae, tiny_taesd, 9.0, 0, api_name="/vae_compare")
