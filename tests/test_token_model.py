"""An autoregressive token model (a VQModel and a GPT-2, kind token-transformer) through text_to_image,
the token timeline and the codebook explorer, on a tiny random model built and saved by the test."""

import numpy as np
import pytest
from PIL import Image

from genart_playground import (codebook_explorer, denoising_timeline, recipes, text_to_image, token_timeline)
from genart_playground.data import shapes
from genart_playground.models import registry


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_it_loads_through_the_real_path_as_a_token_model(tiny_vqgpt, fresh_cache):
    model = fresh_cache.load("text_to_image", tiny_vqgpt)
    assert type(model).__name__ == "TokenModel" and model.layout.grid == 8 and model.layout.codebook == 16
    assert type(model.vqvae).__name__ == "VQModel" and type(model.transformer).__name__ == "GPT2LMHeadModel"
    assert fresh_cache.load("text_to_image", tiny_vqgpt) is model and fresh_cache.loads == 1


def test_same_seed_same_pixels_and_seeds_differ(tiny_vqgpt):
    a = text_to_image("a red circle", model=tiny_vqgpt, seed=3, num_images=2)
    b = text_to_image("a red circle", model=tiny_vqgpt, seed=3, num_images=2)
    assert [image.size for image in a.images] == [(64, 64)] * 2
    assert all(np.array_equal(pixels(x), pixels(y)) for x, y in zip(a.images, b.images))
    assert not np.array_equal(pixels(a.images[0]), pixels(a.images[1]))  # image 1 is seed 4
    assert a.metadata["network_evaluations"] == 128  # 64 tokens, twice each with guidance
    assert a.metadata["temperature"] == 1.0 and a.metadata["top_k"] == 8 and "steps" not in a.metadata


@pytest.mark.parametrize("option, value, message", [
    ("steps", 20, "`steps` has no meaning for tests/tiny-vqgpt"),
    ("scheduler", "dpm++", "`scheduler` has no meaning"),
    ("width", 128, "draws 64×64 pictures only"),
    ("temperature", 0.0, "`temperature` must be between 0.05 and 5.0"),
    ("temperature", float("nan"), "`temperature` must be between"),
    ("top_k", 0, "`top_k` must be between 1 and 4096"),
    ("guidance", -1.0, "`guidance` must be between"),
    ("negative_prompt", "x" * 100_000, "`negative_prompt` must be at most"),
])
def test_every_bad_setting_is_refused_before_the_model_loads(tiny_vqgpt, fresh_cache, option, value, message):
    with pytest.raises(ValueError, match=message):
        text_to_image("a red circle", model=tiny_vqgpt, **{option: value})
    assert fresh_cache.loads == 0


def test_top_k_beyond_the_codebook_is_refused_by_the_model(tiny_vqgpt):
    with pytest.raises(ValueError, match="`top_k` must be at most 16 for tests/tiny-vqgpt"):
        text_to_image("a red circle", model=tiny_vqgpt, top_k=17)


def test_a_diffusion_model_refuses_token_settings_and_a_token_model_diffusion_views(tiny_t2i, tiny_vqgpt, fresh_cache):
    with pytest.raises(ValueError, match="`temperature` is a setting of token models"):
        text_to_image("a red circle", model=tiny_t2i, temperature=0.5)
    with pytest.raises(ValueError, match="has no denoising steps"):
        denoising_timeline("a red circle", model=tiny_vqgpt)
    with pytest.raises(ValueError, match="for token models"):
        token_timeline("a red circle", model=tiny_t2i)
    assert fresh_cache.loads == 0


def test_the_token_timeline_ends_on_the_adapters_picture(tiny_vqgpt):
    picture = text_to_image("a blue square", model=tiny_vqgpt, seed=7).images[0]
    timeline = token_timeline("a blue square", model=tiny_vqgpt, seed=7)
    assert len(timeline.frames) == 65 and len(timeline.codes) == 8 and len(timeline.codes[0]) == 8
    assert np.array_equal(pixels(timeline.frames[-1]), pixels(picture))
    assert np.array_equal(pixels(timeline.images[0]), pixels(picture))
    first = pixels(timeline.frames[0])  # nothing written: every cell grey, the first one outlined as the next
    assert (first[8:] == 128).all() and (first[1:7, 1:7] == 128).all() and (first[0, 0] == (255, 0, 255)).all()
    # Frame 9: the first row and one cell of the second are written; the rest of the second row is grey.
    assert not (pixels(timeline.frames[9])[:8] == 128).all() and (pixels(timeline.frames[9])[12:16, 24:] == 128).all()
    assert timeline.gif[:6] == b"GIF89a"


def test_the_codebook_explorer_round_trip_is_the_models(tiny_vqgpt, fresh_cache):
    import torch

    from genart_playground import imaging

    scene = shapes.sample_scene(__import__("random").Random(1))
    picture = shapes.render(scene)
    result = codebook_explorer(picture, model=tiny_vqgpt)
    model = fresh_cache.load("text_to_image", tiny_vqgpt)
    codes = model.encode(imaging.to_tensor(picture))
    assert result.codes == codes[0].tolist()
    assert np.array_equal(pixels(result.images[1]), pixels(imaging.to_pil(model.decode(codes))[0]))
    assert result.atlas.size == (32 * 9 + 1, 1 * 9 + 1) or result.atlas.width > result.atlas.height
    assert result.metrics["psnr"] > 0 and result.metadata["warnings"] == []

    # A swap changes that one token: the decoded picture differs, and the grid reports the new code.
    old = result.codes[2][3]
    swapped = codebook_explorer(picture, model=tiny_vqgpt, row=2, column=3, code=(old + 1) % 16)
    assert len(swapped.images) == 3 and swapped.metrics["changed_pixels"] > 0
    assert not np.array_equal(pixels(swapped.images[2]), pixels(swapped.images[1]))
    assert torch.equal(torch.tensor(swapped.codes), torch.tensor(result.codes))  # the picture's own codes


def test_the_explorer_crops_other_sizes_and_checks_the_swap(tiny_vqgpt):
    wide = Image.new("RGB", (200, 100), (245, 245, 245))
    result = codebook_explorer(wide, model=tiny_vqgpt)
    assert result.images[0].size == (64, 64) and "cropped to its centre square" in result.metadata["warnings"][0]
    with pytest.raises(ValueError, match="give `row`, `column` and `code` together"):
        codebook_explorer(wide, model=tiny_vqgpt, row=1)
    with pytest.raises(ValueError, match="`row` must be between 0 and 7"):
        codebook_explorer(wide, model=tiny_vqgpt, row=8, column=0, code=0)
    with pytest.raises(ValueError, match="`code` must be between 0 and 15"):
        codebook_explorer(wide, model=tiny_vqgpt, row=0, column=0, code=16)
    with pytest.raises(ValueError, match="Upload an image first"):
        codebook_explorer(None, model=tiny_vqgpt)


def test_show_code_makes_the_same_pixels(tiny_vqgpt, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the snippet saves its pictures
    result = text_to_image("a red circle", model=tiny_vqgpt, seed=2, temperature=0.7, top_k=5, guidance=1.5)
    namespace: dict = {}
    exec(recipes.code_snippet(result.metadata), namespace)  # noqa: S102 - our own snippet
    assert np.array_equal(pixels(namespace["result"].images[0]), pixels(result.images[0]))
    timeline = token_timeline("a red circle", model=tiny_vqgpt, seed=2)
    namespace = {}
    code = recipes.code_snippet(timeline.metadata).replace("frame.save", "str")
    exec(code, namespace)  # noqa: S102
    assert namespace["result"].codes == timeline.codes


def test_the_built_in_token_model_is_registered_with_its_sampler_defaults():
    spec = registry.resolve("text_to_image", "builtin/shapes-vqgpt")
    assert spec.kind == "token-transformer" and spec.is_builtin
    assert {"temperature", "top_k", "guidance"} <= set(spec.defaults) and "steps" not in spec.defaults
