"""The text_to_image adapter on a tiny random Stable Diffusion pipeline."""

import math

import numpy as np
import pytest

from genart_playground import text_to_image
from genart_playground.checks import check_output
from genart_playground.diffusion import SCHEDULERS


def pixels(result, i=0):
    return np.asarray(result.images[i])


def test_size_and_count(tiny_t2i):
    result = text_to_image("a red circle", model=tiny_t2i, num_images=3, width=48, height=32, seed=1)
    assert len(result.images) == 3
    assert all(image.size == (48, 32) and image.mode == "RGB" for image in result.images)


def test_same_seed_same_pixels_other_seed_other_image(tiny_t2i):
    a = text_to_image("a red circle", model=tiny_t2i, seed=3)
    b = text_to_image("a red circle", model=tiny_t2i, seed=3)
    c = text_to_image("a red circle", model=tiny_t2i, seed=4)
    assert np.array_equal(pixels(a), pixels(b))
    assert not np.array_equal(pixels(a), pixels(c))


def test_image_i_of_a_batch_is_the_image_of_seed_plus_i(tiny_t2i):
    batch = text_to_image("a blue square", model=tiny_t2i, num_images=2, seed=10)
    alone = text_to_image("a blue square", model=tiny_t2i, seed=11)
    assert np.array_equal(pixels(batch, 1), pixels(alone))


def test_the_prompt_changes_the_image(tiny_t2i):
    a = text_to_image("a red circle", model=tiny_t2i, seed=0)
    b = text_to_image("a blue square", model=tiny_t2i, seed=0)
    assert not np.array_equal(pixels(a), pixels(b))


def test_hub_id_resolved_offline_gives_the_folders_pixels(tiny_t2i, tiny_hub_t2i):
    from_folder = text_to_image("a red circle", model=tiny_t2i, seed=5)
    from_hub_cache = text_to_image("a red circle", model=tiny_hub_t2i, seed=5)
    assert np.array_equal(pixels(from_folder), pixels(from_hub_cache))


@pytest.mark.parametrize("scheduler", ["euler", "dpm++", "ddim", "unipc"])
def test_each_scheduler_runs_and_is_recorded(tiny_t2i, scheduler):
    result = text_to_image("a red circle", model=tiny_t2i, scheduler=scheduler, seed=0)
    assert result.metadata["scheduler"] == scheduler
    assert result.metadata["scheduler_class"] == SCHEDULERS[scheduler][0]


def test_a_chosen_scheduler_does_not_leak_into_the_next_default_run(tiny_t2i):
    before = text_to_image("a red circle", model=tiny_t2i, seed=2)
    text_to_image("a red circle", model=tiny_t2i, seed=2, scheduler="dpm++-karras")
    after = text_to_image("a red circle", model=tiny_t2i, seed=2)
    assert after.metadata["scheduler_class"] == before.metadata["scheduler_class"]
    assert np.array_equal(pixels(before), pixels(after))


def test_metadata_reproduces_the_image(tiny_t2i):
    first = text_to_image("a green diamond", model=tiny_t2i, negative_prompt="blurry", steps=3, guidance=2.0,
                          seed=9, scheduler="euler")
    m = first.metadata
    again = text_to_image(m["prompt"], model=m["model"], negative_prompt=m["negative_prompt"], steps=m["steps"],
                          guidance=m["guidance"], width=m["width"], height=m["height"], seed=m["seed"],
                          scheduler=m["scheduler"])
    assert np.array_equal(pixels(first), pixels(again))
    assert m["generator_device"] == "cpu" and "torch" in m["versions"] and "diffusers" in m["versions"]


def test_progress_reports_every_step_and_ends_at_one(tiny_t2i):
    calls = []
    text_to_image("a red circle", model=tiny_t2i, steps=3, progress=lambda f, msg: calls.append((f, msg)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and len(fractions) == 3 and fractions[-1] == 1.0
    assert calls[0][1] == "Denoising step 1/3"


@pytest.mark.parametrize("kwargs, message", [
    ({"num_images": 0}, "`num_images` must be between"),
    ({"num_images": 1000}, "`num_images` must be between"),
    ({"steps": 0}, "`steps` must be between"),
    ({"steps": 10000}, "`steps` must be between"),
    ({"guidance": math.nan}, "`guidance` must be between"),
    ({"guidance": math.inf}, "`guidance` must be between"),
    ({"guidance": -1.0}, "`guidance` must be between"),
    ({"width": 100000}, "`width` must be between"),
    ({"height": 33}, "`height` must be a multiple of 8"),
    ({"seed": 2**64}, "`seed` must be between"),
    ({"seed": -1}, "`seed` must be between"),
    ({"seed": 1.5}, "`seed` must be a whole number"),
    ({"scheduler": "magic"}, "`scheduler` must be one of"),
    ({"negative_prompt": 3}, "`negative_prompt` must be text"),
])
def test_bad_options_are_refused(tiny_t2i, kwargs, message):
    with pytest.raises(ValueError, match=message):
        text_to_image("a red circle", model=tiny_t2i, **kwargs)


def test_bad_prompts_are_refused(tiny_t2i):
    with pytest.raises(ValueError, match="`prompt` must be at most"):
        text_to_image("a" * 1_000_000, model=tiny_t2i)
    with pytest.raises(ValueError, match="`prompt` must be text"):
        text_to_image(None, model=tiny_t2i)


def test_a_model_of_another_task_is_refused(tiny_vae):
    with pytest.raises(ValueError, match="not a text_to_image model"):
        text_to_image("a red circle", model=tiny_vae)


def test_nan_pixels_are_an_error_and_black_images_are_reported():
    good = np.full((2, 8, 8, 3), 0.5, dtype=np.float32)
    assert check_output(good, "m") == []
    black = good.copy()
    black[1] = 0.0
    assert check_output(black, "m") == ["image 1 is completely black"]
    broken = good.copy()
    broken[0, 0, 0, 0] = np.nan
    with pytest.raises(RuntimeError, match="NaN"):
        check_output(broken, "m")
