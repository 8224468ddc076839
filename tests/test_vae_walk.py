"""The vae_walk adapter: a straight line between two images' latents, decoded frame by frame."""

import io

import numpy as np
import pytest
from PIL import Image

from genart_playground import vae_reconstruction
from genart_playground.families.vae_reconstruction import vae_walk as walk_module
from genart_playground.families.vae_reconstruction.vae_walk import vae_walk


def picture(width=32, height=32, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=int)


def mp4_frame_count(data_or_path) -> int:
    import av

    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else str(data_or_path)
    with av.open(source) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize("fixture", ["tiny_vae", "tiny_taesd"])
def test_the_ends_are_each_image_s_own_reconstruction(fixture, request):
    model = request.getfixturevalue(fixture)
    a, b = picture(32, 32, seed=1), picture(32, 32, seed=2)
    result = vae_walk(a, b, model=model, frames=5)
    assert np.array_equal(pixels(result.images[0]), pixels(vae_reconstruction(a, model=model).images[0]))
    assert np.array_equal(pixels(result.images[-1]), pixels(vae_reconstruction(b, model=model).images[0]))
    middle = pixels(result.images[2])
    assert not np.array_equal(middle, pixels(result.images[0]))
    assert not np.array_equal(middle, pixels(result.images[-1]))


def test_frames_gif_and_mp4_agree(tiny_vae):
    result = vae_walk(picture(seed=1), picture(seed=2), model=tiny_vae, frames=6)
    assert len(result.images) == 6 and all(image.size == (32, 32) for image in result.images)
    with Image.open(io.BytesIO(result.gif)) as gif:
        assert gif.format == "GIF" and gif.n_frames == 6
    assert mp4_frame_count(result.mp4) == 6
    assert result.metadata["task"] == "vae_walk" and result.metadata["frames"] == 6


def test_image_b_takes_image_a_s_size_and_it_is_said(tiny_vae):
    a, b = picture(40, 24, seed=1), picture(50, 50, seed=2)
    result = vae_walk(a, b, model=tiny_vae, frames=3)
    assert result.metadata["size"] == [40, 24]  # already a multiple of 4, the tiny autoencoder's factor
    assert all(image.size == (40, 24) for image in result.images)
    assert any(note.startswith("image B resized from 50×50 to 40×24") for note in result.metadata["notes"])
    assert not any(note.startswith("image A") for note in result.metadata["notes"])
    resized_b = b.resize((40, 24), Image.LANCZOS)
    assert np.array_equal(pixels(result.images[-1]), pixels(vae_reconstruction(resized_b, model=tiny_vae).images[0]))


def test_odd_and_large_sizes_become_one_the_autoencoder_takes(tiny_vae, monkeypatch):
    monkeypatch.setattr(walk_module, "MAX_WALK_PIXELS", 32 * 32)
    result = vae_walk(picture(74, 37, seed=1), picture(32, 32, seed=2), model=tiny_vae, frames=2)
    width, height = result.metadata["size"]
    assert width * height <= 32 * 32 and width % 4 == 0 and height % 4 == 0
    assert any(note.startswith("image A resized from 74×37") for note in result.metadata["notes"])


def test_same_inputs_same_frames(tiny_vae):
    a = vae_walk(picture(seed=1), picture(seed=2), model=tiny_vae, frames=3)
    b = vae_walk(picture(seed=1), picture(seed=2), model=tiny_vae, frames=3)
    assert all(np.array_equal(pixels(x), pixels(y)) for x, y in zip(a.images, b.images))


def test_files_and_bytes_are_opened_safely(tiny_vae, tmp_path):
    path = tmp_path / "a.png"
    picture(seed=1).save(path)
    buffer = io.BytesIO()
    picture(seed=2).save(buffer, format="PNG")
    result = vae_walk(str(path), buffer.getvalue(), model=tiny_vae, frames=2)
    expected = vae_reconstruction(picture(seed=1), model=tiny_vae).images[0]
    assert np.array_equal(pixels(result.images[0]), pixels(expected))


def test_progress_rises_to_one(tiny_vae):
    calls = []
    vae_walk(picture(seed=1), picture(seed=2), model=tiny_vae, frames=4, progress=lambda f, m: calls.append(f))
    assert calls == sorted(calls) and calls[0] == 0.0 and calls[-1] == 1.0 and len(calls) >= 5


@pytest.mark.parametrize("kwargs, message", [
    ({"frames": 1}, "`frames` must be between 2 and 32"),
    ({"frames": 33}, "`frames` must be between 2 and 32"),
    ({"frames": 2.5}, "`frames` must be a whole number"),
    ({"image_a": None}, "Upload an image first: `image_a` is empty"),
    ({"image_b": np.zeros((8, 8, 3))}, "`image_b` must be an image"),
    ({"image_b": picture(4, 4)}, "`image_b` must be at least 8×8"),
])
def test_bad_inputs_are_refused(tiny_vae, kwargs, message):
    args = {"image_a": picture(seed=1), "image_b": picture(seed=2), **kwargs}
    with pytest.raises(ValueError, match=message):
        vae_walk(args.pop("image_a"), args.pop("image_b"), model=tiny_vae, **args)


def test_walk_through_the_api(api_client, tiny_vae, tmp_path, no_network_attempts):
    from gradio_client import handle_file
    from gradio_client.exceptions import ValidationError

    paths = []
    for seed in (1, 2):
        paths.append(str(tmp_path / f"{seed}.png"))
        picture(40, 24, seed=seed).save(paths[-1])
    gif, video, frames, metadata = api_client.predict(handle_file(paths[0]), handle_file(paths[1]), tiny_vae, 4,
                                                      api_name="/vae_walk")
    with Image.open(gif) as animation:
        assert animation.n_frames == 4 and animation.size == (40, 24)
    assert mp4_frame_count(video["video"] if isinstance(video, dict) else video) == 4
    assert len(frames) == 4 and metadata["frames"] == 4 and metadata["model"] == tiny_vae
    with Image.open(frames[0]["image"]) as first:
        expected = vae_reconstruction(picture(40, 24, seed=1), model=tiny_vae).images[0]
        assert np.array_equal(pixels(first.convert("RGB")), pixels(expected))
    # A missing picture is refused before the queue, with the message shown under its control on the page
    with pytest.raises(ValidationError, match="image_b: Upload image B first"):
        api_client.predict(handle_file(paths[0]), None, tiny_vae, 4, api_name="/vae_walk")
