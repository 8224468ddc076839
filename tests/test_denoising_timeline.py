"""The denoising timeline on the tiny random pipeline and the built-in model: one text_to_image run,
recorded step by step, whose final image is text_to_image's own."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from genart_playground import imaging, text_to_image
from genart_playground.devices import make_generator
from genart_playground.diffusion import decode_latents
from genart_playground.families.text_to_image import denoising_timeline as timeline_module
from genart_playground.families.text_to_image.denoising_timeline import denoising_timeline
from genart_playground.models.cache import cache

BUILTIN = "builtin/shapes-t2i"


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def gif_frames(data: bytes) -> list[Image.Image]:
    with Image.open(io.BytesIO(data)) as gif:
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(gif.convert("RGB"))
    return frames


def test_one_picture_of_each_kind_per_step_at_the_requested_size(tiny_t2i):
    result = denoising_timeline("a red circle", model=tiny_t2i, steps=3, guidance=3.0, width=48, height=32, seed=1)
    assert len(result.images) == 1 and result.images[0].size == (48, 32)
    for pictures in (result.noisy, result.predicted, result.guidance_maps):
        assert len(pictures) == 3
        assert all(picture.size == (48, 32) and picture.mode == "RGB" for picture in pictures)
    assert len(result.timesteps) == 3 and result.timesteps == sorted(result.timesteps, reverse=True)
    m = result.metadata
    assert m["task"] == "denoising_timeline" and m["model"] == tiny_t2i and m["seed"] == 1 and m["steps"] == 3
    assert (m["width"], m["height"], m["guidance"]) == (48, 32, 3.0)
    assert m["decoder"] == "pipeline VAE"  # TAESD is not in the empty test cache
    assert m["generator_device"] == "cpu" and "diffusers" in m["versions"]


@pytest.mark.parametrize("scheduler", [None, "euler", "euler-ancestral", "dpm++"])
def test_the_final_image_is_text_to_images_pixel_for_pixel(tiny_t2i, scheduler):
    settings = dict(model=tiny_t2i, negative_prompt="blurry", steps=3, guidance=2.5, seed=7, scheduler=scheduler)
    result = denoising_timeline("a green diamond", **settings)
    alone = text_to_image("a green diamond", **settings)
    assert np.array_equal(pixels(result.images[0]), pixels(alone.images[0]))
    assert result.metadata["scheduler_class"] == alone.metadata["scheduler_class"]


@pytest.mark.slow  # runs a shipped model
def test_the_built_in_models_final_image_is_text_to_images():
    result = denoising_timeline("a red circle on the left", model=BUILTIN, steps=3, seed=2)
    alone = text_to_image("a red circle on the left", model=BUILTIN, steps=3, seed=2)
    assert np.array_equal(pixels(result.images[0]), pixels(alone.images[0]))
    assert result.metadata["prediction_type"] == "v_prediction" and result.images[0].size == (64, 64)


@pytest.mark.parametrize("model, prediction_type", [("tiny_t2i", "epsilon"),
                                                    pytest.param(BUILTIN, "v_prediction", marks=pytest.mark.slow)])
def test_eulers_last_step_lands_on_the_predicted_clean_image(request, model, prediction_type):
    # Euler's last step goes to σ = 0, which is exactly the x0 it predicted there: a wrong x0 formula
    # (for either prediction type) or a wrong ᾱ would show here as a different picture.
    model = request.getfixturevalue(model) if model == "tiny_t2i" else model
    result = denoising_timeline("a blue square", model=model, steps=4, seed=3, scheduler="euler")
    assert result.metadata["prediction_type"] == prediction_type
    assert np.abs(pixels(result.predicted[-1]) - pixels(result.images[0])).max() <= 2
    assert np.abs(pixels(result.predicted[0]) - pixels(result.noisy[0])).mean() > 2  # early on they differ


@pytest.mark.parametrize("scheduler", [None, "euler"])
def test_the_timeline_starts_at_step_0_the_pure_noise(tiny_t2i, scheduler):
    """Step 0 shows the seed's starting noise, as the denoiser sees it (Euler's scaled to unit variance)."""
    result = denoising_timeline("a red circle", model=tiny_t2i, steps=3, seed=6, width=32, height=32,
                                scheduler=scheduler)
    pipe = cache.load("text_to_image", tiny_t2i)
    shape = (1, pipe.vae.config.latent_channels, 32 // pipe.vae_scale_factor, 32 // pipe.vae_scale_factor)
    noise = torch.randn(shape, generator=make_generator(6))  # the pipeline's draw, scaled back to unit variance
    with torch.no_grad():
        expected = imaging.to_pil(decode_latents(pipe.vae, noise).float())[0]
    assert np.abs(pixels(result.noisy[0]) - pixels(expected)).max() <= 2
    assert np.abs(pixels(result.noisy[1]) - pixels(expected)).max() > 2  # the next step has moved on


def test_the_hook_is_removed_and_later_runs_are_unchanged(tiny_t2i):
    pipe = cache.load("text_to_image", tiny_t2i)
    before = text_to_image("a red circle", model=tiny_t2i, seed=4)
    hooks = len(pipe.unet._forward_hooks)
    denoising_timeline("a red circle", model=tiny_t2i, seed=4)
    assert len(pipe.unet._forward_hooks) == hooks
    after = text_to_image("a red circle", model=tiny_t2i, seed=4)
    assert np.array_equal(pixels(before.images[0]), pixels(after.images[0]))


def test_the_hook_is_removed_when_the_run_fails(tiny_t2i):
    pipe = cache.load("text_to_image", tiny_t2i)
    hooks = len(pipe.unet._forward_hooks)

    def cancel(fraction, message):
        raise RuntimeError("cancelled mid-run")

    with pytest.raises(RuntimeError, match="cancelled mid-run"):
        denoising_timeline("a red circle", model=tiny_t2i, steps=3, progress=cancel)
    assert len(pipe.unet._forward_hooks) == hooks


@pytest.mark.parametrize("guidance", [0.0, 1.0])
def test_no_guidance_maps_without_guidance(tiny_t2i, guidance):
    result = denoising_timeline("a red circle", model=tiny_t2i, steps=2, guidance=guidance)
    assert result.guidance_maps == [] and len(result.noisy) == 2


def test_guidance_maps_show_where_the_prompt_pulls(tiny_t2i):
    result = denoising_timeline("a red circle", model=tiny_t2i, steps=3, guidance=5.0)
    assert len(result.guidance_maps) == 3
    assert any(len(np.unique(pixels(m).reshape(-1, 3), axis=0)) > 1 for m in result.guidance_maps)  # not flat


def test_the_gif_has_one_side_by_side_frame_per_step(tiny_t2i):
    result = denoising_timeline("a red circle", model=tiny_t2i, steps=3, width=32, height=40)
    frames = gif_frames(result.gif)
    assert len(frames) == 3
    assert frames[0].size == (2 * 32 + 2, 40)  # noisy | predicted, 2 px apart


def test_progress_rises_to_one(tiny_t2i):
    calls = []
    denoising_timeline("a red circle", model=tiny_t2i, steps=3, progress=lambda f, msg: calls.append((f, msg)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "Denoising step 3/3" in [msg for _, msg in calls]


def test_taesd_decodes_the_previews_when_it_fits(tiny_t2i, tiny_taesd, monkeypatch):
    monkeypatch.setattr(timeline_module, "PREVIEW_DECODER", tiny_taesd)
    result = denoising_timeline("a red circle", model=tiny_t2i, steps=2, seed=5)
    assert result.metadata["decoder"] == tiny_taesd
    assert all(picture.size == (32, 32) for picture in result.noisy + result.predicted)
    alone = text_to_image("a red circle", model=tiny_t2i, steps=2, seed=5)
    assert np.array_equal(pixels(result.images[0]), pixels(alone.images[0]))  # the final image is the VAE's


@pytest.mark.slow  # runs a shipped model
def test_taesd_is_not_used_for_latents_it_cannot_read(tiny_taesd, monkeypatch):
    monkeypatch.setattr(timeline_module, "PREVIEW_DECODER", tiny_taesd)
    result = denoising_timeline("a red circle", model=BUILTIN, steps=2)  # its latents are not SD's
    assert result.metadata["decoder"] == "pipeline VAE"


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 0}, "`steps` must be between"),
    ({"guidance": math.nan}, "`guidance` must be between"),
    ({"width": 33}, "`width` must be a multiple of 8"),
    ({"seed": -1}, "`seed` must be between"),
    ({"scheduler": "magic"}, "`scheduler` must be one of"),
    ({"negative_prompt": 3}, "`negative_prompt` must be text"),
])
def test_bad_options_are_refused(tiny_t2i, kwargs, message):
    with pytest.raises(ValueError, match=message):
        denoising_timeline("a red circle", model=tiny_t2i, **kwargs)


def test_bad_prompts_and_models_are_refused(tiny_vae):
    with pytest.raises(ValueError, match="`prompt` must be text"):
        denoising_timeline(None)
    with pytest.raises(ValueError, match="not a text_to_image model"):
        denoising_timeline("a red circle", model=tiny_vae)


# Through the app --------------------------------------------------------------------------------

def test_the_api_returns_every_step_and_the_gif(api_client, tiny_t2i, no_network_attempts):
    noisy, predicted, guidance_maps, gif, metadata = api_client.predict(
        "a red circle", "", tiny_t2i, "model default", 3, 3.0, None, None, 4, api_name="/denoising_timeline")
    assert len(noisy) == len(predicted) == len(guidance_maps) == 3
    with Image.open(noisy[0]["image"]) as first:
        assert first.size == (32, 32)
    with open(gif, "rb") as handle:
        assert len(gif_frames(handle.read())) == 3
    assert metadata["task"] == "denoising_timeline" and metadata["seed"] == 4


def test_the_api_refuses_bad_input_with_its_message(api_client, tiny_t2i):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="`width` must be a multiple of 8"):
        api_client.predict("a red circle", "", tiny_t2i, "model default", 2, 3.0, 36, None, 0,
                           api_name="/denoising_timeline")


def test_the_step_slider_reads_pictures_already_made():
    from genart_playground.ui.tab_text_to_image import show_step

    steps = {"noisy": ["n0.png", "n1.png"], "predicted": ["p0.png", "p1.png"], "guidance": []}
    assert show_step(1, steps) == ("n1.png", "p1.png", None)
    assert show_step(0, {**steps, "guidance": ["g0.png", "g1.png"]}) == ("n0.png", "p0.png", "g0.png")
    assert show_step(5, steps) == (None, None, None)
    assert show_step(0, None) == (None, None, None)  # no timeline made yet in this session


def test_the_step_slider_spans_the_timeline_and_starts_at_its_end():
    from genart_playground.ui.tab_text_to_image import last_step

    update = last_step({"noisy": ["n0.png", "n1.png", "n2.png"]})  # step 0 is the pure noise
    assert (update["maximum"], update["value"], update["interactive"]) == (2, 2, True)
    assert last_step({"noisy": ["n0.png"]})["interactive"] is False  # one step: nothing to move through
