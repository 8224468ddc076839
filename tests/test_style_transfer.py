"""Style transfer: both methods, both feature networks, every validation error."""

import math
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

from genart_playground import diffusion, limits, recipes, style_transfer
from genart_playground.models.cache import cache
from genart_playground.models.registry import ModelSpec, register, unregister
from genart_playground.families.style_transfer.random_filters import RandomFilterBank
from genart_playground.families.style_transfer.vgg19 import TORCHVISION_INDICES, VGG19Features

from pictures import house, stripes

FAST = {"steps": 4, "size": 48}  # enough to exercise every path in a few milliseconds


# --- images and tiny models ------------------------------------------------------------------------

def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def _write_tiny_vgg19(path, widths=(4, 4, 8, 8, 8), drop=()):
    """Random VGG19 weights in timm's layout (features.{i}.*, plus classifier keys to be ignored)."""
    torch.manual_seed(0)
    state, channels, n = {}, 3, 0
    for block, count in enumerate((2, 2, 4, 4, 4)):
        for _ in range(count):
            index = TORCHVISION_INDICES[n]
            state[f"features.{index}.weight"] = torch.randn(widths[block], channels, 3, 3) * (2 / (channels * 9)) ** 0.5
            state[f"features.{index}.bias"] = torch.randn(widths[block]) * 0.01
            channels, n = widths[block], n + 1
    state["pre_logits.fc1.weight"] = torch.randn(16, channels, 7, 7)
    state["head.fc.weight"] = torch.randn(10, 16)
    for key in drop:
        del state[key]
    save_file(state, str(path))
    return state


@pytest.fixture(scope="module")
def tiny_vgg19(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models") / "tiny-vgg19"
    folder.mkdir()
    _write_tiny_vgg19(folder / "model.safetensors")
    name = register(ModelSpec("tests/tiny-vgg19", "style_transfer", "vgg19", str(folder),
                              defaults={"size": 48, "steps": 4})).name
    yield name
    cache.evict(name)
    unregister(name)


# --- gatys with the built-in random filters ---------------------------------------------------------

def test_the_longest_side_is_size_and_the_aspect_is_kept():
    result = style_transfer(house(60, 40), stripes(), **FAST)
    assert [image.size for image in result.images] == [(48, 32)]
    assert result.images[0].mode == "RGB"
    tall = style_transfer(house(30, 90), stripes(), steps=2, size=96).images[0]
    assert tall.size == (32, 96)


def test_the_default_is_the_random_filter_bank_and_the_metadata_says_how_to_reproduce():
    result = style_transfer(house(), stripes(), **FAST, seed=5, strength=0.3)
    meta = result.metadata
    assert meta["model"] == "builtin/random-filters"
    assert (meta["method"], meta["steps"], meta["size"], meta["strength"], meta["seed"],
            meta["preserve_color"]) == ("gatys", 4, 48, 0.3, 5, False)
    assert meta["style_weight"] == pytest.approx(10 ** (4 * 0.3 - 1))
    assert "input" in meta["style"] and meta["generator_device"] == "cpu"


def test_same_seed_same_pixels_another_seed_another_image():
    a = style_transfer(house(), stripes(), **FAST, seed=3).images[0]
    b = style_transfer(house(), stripes(), **FAST, seed=3).images[0]
    c = style_transfer(house(), stripes(), **FAST, seed=4).images[0]
    assert np.array_equal(_pixels(a), _pixels(b))
    assert not np.array_equal(_pixels(a), _pixels(c))


def test_the_style_loss_falls_and_the_image_takes_the_style_palette():
    content, style = house(64, 64), stripes(64)
    result = style_transfer(content, style, steps=40, size=64, strength=0.75)
    losses = result.losses
    assert set(losses) == {"content", "style", "total"} and all(len(v) == 40 for v in losses.values())
    assert losses["style"][-1] < 0.5 * losses["style"][0]
    assert losses["total"][-1] < losses["total"][0]
    assert losses["content"][0] < losses["content"][-1]  # the image moved away from the plain content
    # The sky was light blue; the style is mostly navy: the mean colour moves towards the style's.
    mean = lambda image: _pixels(image).reshape(-1, 3).mean(0)  # noqa: E731
    assert np.abs(mean(result.images[0]) - mean(style)).sum() < np.abs(mean(content) - mean(style)).sum()


def test_more_strength_means_more_style():
    weak = style_transfer(house(), stripes(), steps=20, size=48, strength=0.1).losses
    strong = style_transfer(house(), stripes(), steps=20, size=48, strength=0.9).losses
    assert strong["style"][-1] < weak["style"][-1]
    assert strong["content"][-1] > weak["content"][-1]


def test_intermediates_start_at_the_first_step_and_end_at_the_result():
    result = style_transfer(house(), stripes(), steps=10, size=48)
    assert 3 <= len(result.intermediates) <= 8
    assert all(image.size == result.images[0].size for image in result.intermediates)
    assert np.array_equal(_pixels(result.intermediates[-1]), _pixels(result.images[0]))


def _chroma(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("YCbCr"), dtype=np.float64)[..., 1:]


def test_preserve_color_keeps_the_contents_chroma():
    content = house(48, 48)
    kept = style_transfer(content, stripes(), steps=20, size=48, strength=0.9, preserve_color=True).images[0]
    free = style_transfer(content, stripes(), steps=20, size=48, strength=0.9, preserve_color=False).images[0]
    target = _chroma(content)
    assert np.abs(_chroma(kept) - target).mean() < 4  # rounding, and clipping where new luma + old chroma leave RGB
    assert np.abs(_chroma(free) - target).mean() > 4 * np.abs(_chroma(kept) - target).mean()
    # ...while the texture (luminance) still changed.
    luma = lambda image: np.asarray(image.convert("L"), dtype=np.float64)  # noqa: E731
    assert np.abs(luma(kept) - luma(content)).mean() > 5


def test_progress_is_called_every_step_with_increasing_fractions():
    calls = []
    style_transfer(house(), stripes(), steps=6, size=48, progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert len(calls) == 6
    assert all(a < b for a, b in zip(fractions[:-1], fractions[1:], strict=True))
    assert fractions[-1] == pytest.approx(1.0)
    assert all(isinstance(m, str) and m for _, m in calls)


def test_it_runs_under_inference_mode(fresh_cache):
    # A caller may wrap everything in inference mode; the optimisation needs gradients, and the
    # feature network must not be loaded as inference tensors (empty cache: it loads in there).
    with torch.inference_mode():
        result = style_transfer(house(), stripes(), **FAST)
    assert result.losses["style"][-1] < result.losses["style"][0]


def test_an_rgba_or_greyscale_input_is_accepted():
    content = house().convert("RGBA")
    style = stripes().convert("L")
    assert style_transfer(content, style, **FAST).images[0].mode == "RGB"


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "cartoon"}, "`method` must be one of gatys, img2img"),
    ({"steps": 0}, "`steps` must be between 1"),
    ({"steps": 10_000}, f"`steps` must be between 1 and {limits.MAX_STYLE_STEPS}"),
    ({"steps": 2.5}, "`steps` must be a whole number"),
    ({"size": 16}, f"`size` must be between {limits.MIN_SIZE}"),
    ({"size": limits.MAX_STYLE_SIZE + 1}, f"and {limits.MAX_STYLE_SIZE}"),
    ({"strength": float("nan")}, "`strength` must be between 0.0 and 1.0, got nan"),
    ({"strength": 1.5}, "`strength` must be between 0.0 and 1.0"),
    ({"strength": -0.1}, "`strength` must be between 0.0 and 1.0"),
    ({"strength": "strong"}, "`strength` must be a number"),
    ({"seed": -1}, "`seed` must be between 0"),
    ({"seed": 2**40}, "`seed` must be between 0"),
    ({"preserve_color": "yes"}, "`preserve_color` must be True or False"),
    ({"progress": 3}, "`progress` must be a callable"),
    ({"model": "timm/not-registered"}, "not in the registry"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        style_transfer(house(), stripes(), **{**FAST, **kwargs})


@pytest.mark.parametrize("content, style, message", [
    (None, stripes(), "Upload an image first: `content` is empty"),
    ("house.png", stripes(), "`content` must be an image, got str"),
    (np.zeros((32, 32, 3)), stripes(), "`content` must be an image, got ndarray"),
    (Image.new("RGB", (4, 4)), stripes(), "`content` must be at least 8×8"),
    (house(), None, "Upload an image first: `style` is empty"),
    (house(), Image.new("RGB", (600, 80)), "`style` is too elongated"),  # 48 × 6 px at FAST's size
    (Image.new("RGB", (400, 50)), stripes(), "`content` is too elongated"),
    (Image.new("RGB", (400, 9)), stripes(), "longer side may be at most 8 times its shorter side"),
])
def test_bad_images_are_refused(content, style, message):
    with pytest.raises(ValueError, match=message):
        style_transfer(content, style, method="gatys", **FAST)


def test_a_text_style_with_gatys_is_refused():
    with pytest.raises(ValueError, match="`style` must be an image for method 'gatys'"):
        style_transfer(house(), "a watercolour", method="gatys", **FAST)


def test_a_text_to_image_model_for_gatys_is_refused(tiny_t2i):
    with pytest.raises(ValueError, match="is a text_to_image model, not a style_transfer model"):
        style_transfer(house(), stripes(), model=tiny_t2i, **FAST)


def test_checks_come_before_any_model_work(fresh_cache):
    with pytest.raises(ValueError):
        style_transfer(house(), stripes(), steps=0)
    assert fresh_cache.loads == 0


# --- the feature networks ----------------------------------------------------------------------------

def test_the_random_filter_bank_is_fixed_by_its_seed():
    a, b, c = RandomFilterBank(0), RandomFilterBank(0), RandomFilterBank(1)
    assert all(torch.equal(x, y) for x, y in zip(a.buffers(), b.buffers(), strict=True))
    assert not torch.equal(a.weight0, c.weight0)
    features = a(torch.rand(1, 3, 40, 64) * 2 - 1)
    assert set(a.content_layers) | set(a.style_layers) <= set(features)
    assert features["scale1"].shape[-2:] == (40, 64) and features["scale4"].shape[-2:] == (5, 8)
    assert list(a.parameters()) == []  # nothing to train, nothing to ship


def test_vgg19_loads_timm_weights_into_the_right_layers(tmp_path):
    path = tmp_path / "model.safetensors"
    state = _write_tiny_vgg19(path)
    net = VGG19Features.from_safetensors(path)
    assert not any(p.requires_grad for p in net.parameters())
    images = torch.rand(1, 3, 32, 32) * 2 - 1
    features = net(images)
    assert set(features) == {"conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv4_2", "conv5_1"}
    # conv2_1 by hand, from torchvision's indices: conv 0, ReLU, conv 2, ReLU, max pool, conv 5, ReLU.
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = ((images + 1) / 2 - mean) / std

    def conv(x, i):
        return F.relu(F.conv2d(x, state[f"features.{i}.weight"], state[f"features.{i}.bias"], padding=1))

    conv1_1 = conv(x, 0)
    conv2_1 = conv(F.max_pool2d(conv(conv1_1, 2), 2), 5)
    assert torch.allclose(features["conv1_1"], conv1_1, atol=1e-5)
    assert torch.allclose(features["conv2_1"], conv2_1, atol=1e-5)
    assert features["conv5_1"].shape == (1, 8, 2, 2) and features["conv4_2"].shape == (1, 8, 4, 4)


def test_vgg19_average_pooling_is_an_option(tmp_path):
    path = tmp_path / "model.safetensors"
    _write_tiny_vgg19(path)
    images = torch.rand(1, 3, 32, 32) * 2 - 1
    max_pooled = VGG19Features.from_safetensors(path)(images)
    avg_pooled = VGG19Features.from_safetensors(path, pooling="avg")(images)
    assert torch.equal(max_pooled["conv1_1"], avg_pooled["conv1_1"])  # before the first pool
    assert not torch.allclose(max_pooled["conv2_1"], avg_pooled["conv2_1"])


def test_vgg19_refuses_a_file_missing_keys(tmp_path):
    path = tmp_path / "model.safetensors"
    _write_tiny_vgg19(path, drop=["features.21.weight"])
    with pytest.raises(ValueError, match=r"not a VGG19 checkpoint in timm's layout: missing features\.21\.weight"):
        VGG19Features.from_safetensors(path)


def test_vgg19_refuses_shapes_that_do_not_chain(tmp_path):
    path = tmp_path / "model.safetensors"
    state = _write_tiny_vgg19(path)
    state["features.7.weight"] = torch.randn(4, 5, 3, 3)  # conv2_2 expecting 5 input channels
    save_file(state, str(path))
    with pytest.raises(ValueError, match="does not have VGG19's layer shapes"):
        VGG19Features.from_safetensors(path)


def test_gatys_with_vgg19_through_the_registry(tiny_vgg19, fresh_cache):
    name = tiny_vgg19
    result = style_transfer(house(), stripes(), model=name, steps=15, seed=1)
    assert result.images[0].size == (48, 32)  # the spec's default size
    assert result.metadata["model"] == name and result.metadata["steps"] == 15
    assert result.metadata["style_layers"] == ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
    assert result.losses["style"][-1] < result.losses["style"][0]
    assert isinstance(fresh_cache.load("style_transfer", name), VGG19Features) and fresh_cache.loads == 1


def test_the_default_is_vgg19_once_its_weights_are_in_the_local_cache(hf_cache, tmp_path, fresh_cache):
    from conftest import populate_hub_cache

    folder = tmp_path / "vgg19"
    folder.mkdir()
    _write_tiny_vgg19(folder / "model.safetensors")
    repo = hf_cache / "models--timm--vgg19.tv_in1k"
    assert style_transfer(house(), stripes(), **FAST).metadata["model"] == "builtin/random-filters"
    populate_hub_cache(hf_cache, "timm/vgg19.tv_in1k", folder)
    try:
        result = style_transfer(house(), stripes(), **FAST)
        assert result.metadata["model"] == "timm/vgg19.tv_in1k"
        assert isinstance(fresh_cache.load("style_transfer", "timm/vgg19.tv_in1k"), VGG19Features)
        explicit = style_transfer(house(), stripes(), model="builtin/random-filters", **FAST)
        assert explicit.metadata["model"] == "builtin/random-filters"
    finally:
        shutil.rmtree(repo, ignore_errors=True)


# --- img2img on a text-to-image pipeline ------------------------------------------------------------

def test_img2img_shares_the_loaded_pipeline(tiny_t2i, fresh_cache):
    pipe = fresh_cache.load("text_to_image", tiny_t2i)
    assert fresh_cache.loads == 1
    calls = []
    result = style_transfer(house(60, 40), "a red circle", model=tiny_t2i, size=32, seed=2,
                            progress=lambda f, m: calls.append(f))
    assert fresh_cache.loads == 1  # from_pipe: no second load
    img2img = diffusion.runtime(pipe).image_to_image()
    assert img2img.unet is pipe.unet and img2img.vae is pipe.vae and img2img.text_encoder is pipe.text_encoder
    assert result.images[0].size == (32, 24) and result.images[0].mode == "RGB"  # 32 × 21.3 -> a multiple of 8
    meta = result.metadata
    assert (meta["method"], meta["style"], meta["strength"], meta["seed"]) == ("img2img", "a red circle", 0.6, 2)
    assert meta["denoising_steps"] == int(meta["steps"] * 0.6) >= 1
    assert calls and calls[-1] == pytest.approx(1.0)


def test_img2img_same_seed_same_pixels(tiny_t2i):
    run = lambda seed: style_transfer(house(), "a red circle", model=tiny_t2i, size=32, seed=seed,  # noqa: E731
                                      steps=4, strength=0.5).images[0]
    assert np.array_equal(_pixels(run(7)), _pixels(run(7)))
    assert not np.array_equal(_pixels(run(7)), _pixels(run(8)))


def test_img2img_is_the_default_for_a_text_style_and_keeps_colours(tiny_t2i):
    content = house(32, 32)
    result = style_transfer(content, "a red circle", model=tiny_t2i, preserve_color=True)
    assert result.metadata["method"] == "img2img" and result.images[0].size == (32, 32)  # the model's width
    assert np.abs(_chroma(result.images[0]) - _chroma(content)).mean() < 4
    # The PNG's A1111 line starts with the text the pipeline was prompted with, as any tool reads it.
    assert recipes.a1111_parameters(result.metadata).startswith("a red circle\n")


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 0}, "`steps` must be between 1"),
    ({"steps": limits.MAX_STEPS + 1}, f"`steps` must be between 1 and {limits.MAX_STEPS}"),
    ({"steps": 1, "strength": 0.5}, "`steps` × `strength` must be at least 1"),
    ({"strength": math.inf}, "`strength` must be between"),
    ({"size": 36}, "`size` must be a multiple of 8"),
    ({"size": limits.MAX_SIZE + 8}, "`size` must be between"),
])
def test_img2img_bad_options_are_refused(tiny_t2i, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        style_transfer(house(), "a red circle", model=tiny_t2i, **kwargs)


def test_img2img_needs_a_text_style_and_a_text_to_image_model(tiny_vgg19):
    with pytest.raises(ValueError, match="`style` must be text"):
        style_transfer(house(), stripes(), method="img2img")
    with pytest.raises(ValueError, match="`style` must not be empty"):
        style_transfer(house(), "   ", method="img2img")
    with pytest.raises(ValueError, match="is a style_transfer model, not a text_to_image model"):
        style_transfer(house(), "a red circle", model=tiny_vgg19)
