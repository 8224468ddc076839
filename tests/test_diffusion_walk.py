"""The diffusion walk on the tiny random pipeline and the built-in model: its ends are text_to_image's
own images, pixel for pixel, and the frames between them move from one to the other."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from genart_playground import limits, text_to_image
from genart_playground.families.text_to_image.diffusion_walk import diffusion_walk, walk

BUILTIN = "builtin/shapes-t2i"


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def same(a, b) -> bool:
    return np.array_equal(pixels(a), pixels(b))


def gif_frame_count(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as gif:
        return gif.n_frames


def mp4_frame_count(source) -> int:
    import av

    with av.open(source) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize("scheduler", [None, "euler", "euler-ancestral", "dpm++"])
def test_the_ends_are_text_to_images_images(tiny_t2i, scheduler):
    # euler-ancestral draws fresh noise at every step: the ends match only because the generator
    # is handed to the pipeline in the state its own noise draw would have left it in.
    settings = dict(model=tiny_t2i, negative_prompt="blurry", steps=3, guidance=3.0, scheduler=scheduler)
    result = diffusion_walk("a red circle", "a blue square", seed_a=1, seed_b=2, frames=4, **settings)
    first = text_to_image("a red circle", seed=1, **settings).images[0]
    last = text_to_image("a blue square", seed=2, **settings).images[0]
    assert len(result.images) == 4
    assert same(result.images[0], first) and same(result.images[-1], last)
    assert not same(result.images[1], first) and not same(result.images[1], last)  # it moves


def test_without_guidance_the_ends_are_still_text_to_images(tiny_t2i):
    result = diffusion_walk("a red circle", "a blue square", seed_a=3, seed_b=4, frames=3, model=tiny_t2i,
                            guidance=0.0)
    assert same(result.images[0], text_to_image("a red circle", model=tiny_t2i, seed=3, guidance=0.0).images[0])
    assert same(result.images[-1], text_to_image("a blue square", model=tiny_t2i, seed=4, guidance=0.0).images[0])


@pytest.mark.slow  # runs a shipped model
def test_the_built_in_models_ends_are_text_to_images():
    result = diffusion_walk("a red circle on the left", "a yellow triangle at the top", seed_a=0, seed_b=5,
                            frames=3, model=BUILTIN, steps=3)
    assert all(image.size == (64, 64) for image in result.images)
    assert same(result.images[0], text_to_image("a red circle on the left", model=BUILTIN, seed=0, steps=3).images[0])
    assert same(result.images[-1],
                text_to_image("a yellow triangle at the top", model=BUILTIN, seed=5, steps=3).images[0])


def test_one_prompt_two_seeds(tiny_t2i):
    result = diffusion_walk("a red circle", seed_a=1, seed_b=9, frames=3, model=tiny_t2i)
    assert result.metadata["prompt_b"] == "a red circle"
    assert same(result.images[-1], text_to_image("a red circle", model=tiny_t2i, seed=9).images[0])


def test_one_seed_two_prompts(tiny_t2i):
    result = diffusion_walk("a red circle", "a green diamond", seed_a=6, frames=3, model=tiny_t2i)
    assert result.metadata["seed_b"] == 6
    assert same(result.images[-1], text_to_image("a green diamond", model=tiny_t2i, seed=6).images[0])


def test_sizes_animation_and_video(tiny_t2i):
    result = diffusion_walk("a red circle", "a blue square", seed_a=0, seed_b=1, frames=5, model=tiny_t2i,
                            width=48, height=32)
    assert len(result.images) == 5 and all(image.size == (48, 32) for image in result.images)
    assert gif_frame_count(result.gif) == 5
    assert mp4_frame_count(io.BytesIO(result.mp4)) == 5
    m = result.metadata
    assert m["task"] == "diffusion_walk" and m["frames"] == 5 and (m["seed_a"], m["seed_b"]) == (0, 1)
    assert (m["width"], m["height"]) == (48, 32) and m["noise_path"] == "slerp"
    norms = result.latent_norms  # the starting noise's length per frame: slerp keeps it level
    assert len(norms) == 5 and max(norms) / min(norms) < 1.1


def test_progress_counts_every_step_of_every_frame(tiny_t2i):
    calls = []
    diffusion_walk("a red circle", seed_a=0, seed_b=1, frames=3, model=tiny_t2i, steps=2,
                   progress=lambda f, msg: calls.append((f, msg)))
    steps = [(f, msg) for f, msg in calls if msg.startswith("Frame")]
    assert len(steps) == 6 and steps[-1] == (1.0, "Frame 3/3, step 2/2")
    assert [f for f, _ in steps] == sorted(f for f, _ in steps)


def test_the_noise_path_keeps_its_ends_exactly_and_its_norm_between_them():
    a = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    b = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    path = walk(a, b, 5, "slerp")
    assert len(path) == 5 and path[0] is a and path[-1] is b
    middle = path[2].norm() / ((a.norm() + b.norm()) / 2)
    straight = torch.lerp(a, b, 0.5).norm() / ((a.norm() + b.norm()) / 2)
    assert abs(float(middle) - 1) < 0.05 and float(straight) < 0.85  # lerp would wash the middle frame out


@pytest.mark.parametrize("args, kwargs, message", [
    (("a red circle",), {"seed_a": 3}, "`prompt_b` or `seed_b` must differ"),
    (("a red circle", "a red circle"), {"seed_a": 3, "seed_b": 3}, "`prompt_b` or `seed_b` must differ"),
    (("a red circle",), {"seed_b": 1, "frames": 1}, "`frames` must be between 2"),
    (("a red circle",), {"seed_b": 1, "frames": limits.MAX_FRAMES + 1}, "`frames` must be between 2"),
    (("a red circle",), {"seed_b": -1}, "`seed_b` must be between"),
    (("a red circle",), {"seed_a": 1.5, "seed_b": 1}, "`seed_a` must be a whole number"),
    ((None, "a blue square"), {}, "`prompt_a` must be text"),
    (("a red circle", 3), {}, "`prompt_b` must be text"),
    (("a red circle",), {"seed_b": 1, "steps": 0}, "`steps` must be between"),
    (("a red circle",), {"seed_b": 1, "height": 36}, "`height` must be a multiple of 8"),
    (("a red circle",), {"seed_b": 1, "scheduler": "magic"}, "`scheduler` must be one of"),
])
def test_bad_options_are_refused(tiny_t2i, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        diffusion_walk(*args, model=tiny_t2i, **kwargs)


# Through the app --------------------------------------------------------------------------------

def test_the_api_returns_the_animation_the_video_and_the_frames(api_client, tiny_t2i, no_network_attempts):
    gif, video, frames, metadata = api_client.predict(
        "a red circle", "", tiny_t2i, "model default", 2, 3.0, None, None, 0, "a blue square", 1, 3,
        api_name="/diffusion_walk")
    assert len(frames) == 3
    with open(gif, "rb") as handle:
        assert gif_frame_count(handle.read()) == 3
    assert str(video).endswith(".mp4") and mp4_frame_count(video) == 3
    assert metadata["task"] == "diffusion_walk" and metadata["prompt_b"] == "a blue square"
    assert same(Image.open(frames[0]["image"]).convert("RGB"),
                text_to_image("a red circle", model=tiny_t2i, steps=2, guidance=3.0, seed=0).images[0])


def test_the_api_refuses_a_walk_that_goes_nowhere(api_client, tiny_t2i):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="`prompt_b` or `seed_b` must differ"):
        api_client.predict("a red circle", "", tiny_t2i, "model default", 2, 3.0, None, None, 0, "", None, 3,
                           api_name="/diffusion_walk")


def test_new_controls_explain_themselves(served_app):
    labels = {"Prompt B", "Seed B", "Step"}
    found = {block.label: block for block in served_app.blocks.values()
             if getattr(block, "label", None) in labels}
    assert set(found) == labels
    assert all(block.info for block in found.values())
