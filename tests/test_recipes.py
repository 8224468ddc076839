"""Recipes: the PNG chunks (ours and AUTOMATIC1111's), the code snippets and the card."""

import io
import random
import re

import numpy as np
import pytest
from PIL import Image

from genart_playground import recipes, settings

T2I_METADATA = {
    "task": "text_to_image", "model": "builtin/shapes-t2i", "prompt": 'a "red" circle, on the left',
    "negative_prompt": "blurry", "num_images": 1, "steps": 20, "guidance": 4.0, "width": 64, "height": 48,
    "seed": 42, "scheduler": "euler", "scheduler_class": "EulerDiscreteScheduler", "device": "cpu",
    "dtype": "float32", "generator_device": "cpu", "warnings": [],
    "versions": {"genart_playground": "0.1.0", "torch": "2.x", "diffusers": "0.x", "python": "3.11"},
}


def picture() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8))


def test_the_json_chunk_round_trips(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(recipes.png_with_recipe(picture(), T2I_METADATA))
    assert recipes.read_recipe(path) == T2I_METADATA
    assert recipes.read_recipe(str(path)) == T2I_METADATA
    with Image.open(path) as image:
        assert np.array_equal(np.asarray(image), np.asarray(picture()))  # the pixels are untouched
        assert recipes.read_recipe(image) == T2I_METADATA


def test_an_image_without_a_recipe_reads_as_none(tmp_path):
    path = tmp_path / "plain.png"
    picture().save(path)
    assert recipes.read_recipe(path) is None
    assert recipes.read_recipe(tmp_path / "missing.png") is None


def test_the_parameters_chunk_has_automatic1111s_line_format(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(recipes.png_with_recipe(picture(), T2I_METADATA))
    with Image.open(path) as image:
        text = image.text["parameters"]
    assert text.split("\n") == [
        'a "red" circle, on the left',
        "Negative prompt: blurry",
        "Steps: 20, Sampler: Euler, CFG scale: 4.0, Seed: 42, Size: 64x48, Model: builtin/shapes-t2i, "
        "Version: genart_playground 0.1.0",
    ]


def test_the_parameters_text_parses_back():
    recipe = recipes.parse_a1111_parameters(recipes.a1111_parameters(T2I_METADATA))
    assert recipe == {"prompt": T2I_METADATA["prompt"], "negative_prompt": "blurry", "steps": 20, "guidance": 4.0,
                      "seed": 42, "model": "builtin/shapes-t2i", "sampler": "Euler", "width": 64, "height": 48}


def test_another_tools_parameters_chunk_is_read(tmp_path):
    # As AUTOMATIC1111 writes it: multi-line prompt, no negative prompt, a quoted value with a comma.
    text = ("masterpiece, a cat\nsitting on a mat\nSteps: 30, Sampler: DPM++ 2M, CFG scale: 7, Seed: 1234, "
            'Size: 512x768, Model hash: abc123, Model: v1-5, Lora hashes: "a: 1, b: 2", Version: v1.9.0')
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", text)
    picture().save(tmp_path / "a1111.png", pnginfo=info)
    recipe = recipes.read_recipe(tmp_path / "a1111.png")
    assert recipe["prompt"] == "masterpiece, a cat\nsitting on a mat" and recipe["negative_prompt"] == ""
    assert (recipe["steps"], recipe["guidance"], recipe["seed"]) == (30, 7.0, 1234)
    assert (recipe["width"], recipe["height"], recipe["model"]) == (512, 768, "v1-5")


# AUTOMATIC1111's own pattern for the settings line: the parser must read what it reads. (It backtracks in time
# quadratic in the line's length, so the server no longer uses it; here it runs on short lines only.)
A1111_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def test_the_settings_line_is_read_as_automatic1111_reads_it():
    rng = random.Random(0)  # a fixed sample of lines; the alphabet holds every character the grammar cares about
    for _ in range(5000):
        line = "".join(rng.choice('ab :,"\\-/ _1é\t') for _ in range(rng.randint(0, 30)))
        expected = [(key.strip(), value.strip()) for key, value in A1111_PAIR.findall(line)]
        assert [(key.strip(), value.strip()) for key, value in recipes.a1111_pairs(line)] == expected, repr(line)


def test_a_recipe_that_made_the_old_pattern_backtrack_reads_as_a_prompt():
    text = "a " * (recipes.MAX_PARAMETERS_CHARS // 2)  # no colon: 64 KB held the old parser for about a minute
    assert recipes.parse_a1111_parameters(text) == {"prompt": text.strip(), "negative_prompt": ""}


def test_a_megabyte_parameters_chunk_is_refused_before_it_is_parsed(monkeypatch):
    from PIL.PngImagePlugin import PngInfo

    monkeypatch.setattr(recipes, "a1111_pairs", lambda line: pytest.fail("parsed"))
    info = PngInfo()
    info.add_text("parameters", "a " * 2**19, zip=True)  # 1 MB of text in a few hundred bytes
    buffer = io.BytesIO()
    picture().save(buffer, format="PNG", pnginfo=info)
    assert len(buffer.getvalue()) < 5000
    with pytest.raises(ValueError, match="a recipe is at most 65,536"):
        recipes.read_recipe(buffer.getvalue())


def test_a_json_chunk_nested_past_the_stack_falls_back_to_the_parameters():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("genart_playground", "[" * 200_000, zip=True)
    info.add_text("parameters", "a red circle\nSteps: 3, Seed: 4, CFG scale: 2")
    buffer = io.BytesIO()
    picture().save(buffer, format="PNG", pnginfo=info)
    assert recipes.read_recipe(buffer.getvalue())["steps"] == 3


def test_the_package_snippet_reproduces_the_pixels(tiny_t2i, tmp_path, monkeypatch):
    import genart_playground as gp

    result = gp.text_to_image("a 'red' \"circle\"", model=tiny_t2i, negative_prompt="blue", num_images=2, steps=2,
                              guidance=3.0, seed=11, scheduler="euler")
    snippet = recipes.code_snippet(result.metadata)
    assert repr(tiny_t2i) in snippet and "scheduler='euler'" in snippet
    monkeypatch.chdir(tmp_path)  # the snippet saves its images in the working folder
    namespace = {}
    exec(compile(snippet, "<snippet>", "exec"), namespace)
    again = namespace["result"].images
    assert len(again) == 2
    for first, second in zip(result.images, again):
        assert np.array_equal(np.asarray(first), np.asarray(second))
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["image_0.png", "image_1.png"]


def test_the_diffusers_snippet_compiles_and_names_the_scheduler(tiny_t2i):
    metadata = {**T2I_METADATA, "model": tiny_t2i, "scheduler": "dpm++-karras",
                "scheduler_class": "DPMSolverMultistepScheduler"}
    snippet = recipes.diffusers_snippet(metadata)
    compile(snippet, "<diffusers>", "exec")
    assert "from diffusers import DiffusionPipeline, DPMSolverMultistepScheduler" in snippet
    assert "DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, use_karras_sigmas=True)" in snippet
    assert 'torch.Generator("cpu").manual_seed(42 + i)' in snippet
    assert repr(T2I_METADATA["prompt"]) in snippet
    assert recipes.diffusers_snippet({**T2I_METADATA, "task": "gan_interpolation"}) is None


@pytest.mark.parametrize("metadata", [
    {"task": "style_transfer", "model": "builtin/random-filters", "method": "gatys", "steps": 3, "size": 32,
     "strength": 0.6, "seed": 0, "preserve_color": False},
    {"task": "style_transfer", "model": "builtin/shapes-t2i", "method": "img2img", "steps": 3, "size": 32,
     "strength": 0.6, "seed": 0, "preserve_color": True, "style": "a 'watercolour'"},
    {"task": "gan_interpolation", "model": "builtin/shapes-gan", "seed_a": 3, "seed_b": 4, "frames": 5,
     "method": "slerp", "truncation": 0.7},
    {"task": "vae_reconstruction", "model": "builtin/shapes-vae", "size": [40, 24]},
    {"task": "vae_reconstruction", "model": "builtin/shapes-vae", "size": [40, 24], "latent_noise": 0.5, "seed": 3},
    {"task": "denoising_timeline", "model": "builtin/shapes-t2i", "prompt": "a red circle", "steps": 5,
     "guidance": 4.0, "width": 64, "height": 64, "seed": 2, "scheduler": "euler", "scheduler_class": "Euler"},
    {"task": "diffusion_walk", "model": "builtin/shapes-t2i", "prompt_a": "a red circle", "prompt_b": "a blue square",
     "seed_a": 0, "seed_b": 1, "frames": 4, "steps": 5, "guidance": 4.0, "width": 64, "height": 64},
    {"task": "vae_walk", "model": "builtin/shapes-vae", "frames": 4},
])
def test_every_task_has_a_snippet_that_compiles(metadata):
    snippet = recipes.code_snippet(metadata)
    compile(snippet, "<snippet>", "exec")
    assert f"from genart_playground import {metadata['task']}" in snippet and repr(metadata["model"]) in snippet


def test_the_card_lists_device_dtype_generator_and_versions():
    card = recipes.reproducibility_card(T2I_METADATA)
    for text in ["Device", "`cpu`", "Dtype", "`float32`", "Generator device", "torch", "diffusers", "`0.1.0`"]:
        assert text in card


def test_the_downloaded_png_still_carries_the_recipe(api_client, tiny_t2i, no_network_attempts):
    gallery, metadata = api_client.predict("a red circle", "", tiny_t2i, "model default", 2, 2, 3.0, None, None, 9,
                                           api_name="/text_to_image")
    for i, item in enumerate(gallery):
        recipe = recipes.read_recipe(item["image"])
        assert recipe is not None, "Gradio re-encoded the PNG and dropped its chunks"
        assert recipe["seed"] == 9 + i and recipe["num_images"] == 1 and recipe["model"] == tiny_t2i
        with Image.open(item["image"]) as image:
            assert image.format == "PNG"
            assert image.text["parameters"].startswith("a red circle\nSteps: 2, ")


def test_dropping_a_png_restores_the_text_to_image_settings(tmp_path, tiny_t2i):
    import gradio as gr

    from genart_playground import families
    from genart_playground.ui import recipe_views

    path = tmp_path / "recipe.png"
    path.write_bytes(recipes.png_with_recipe(picture(), {**T2I_METADATA, "model": tiny_t2i}))
    with gr.Blocks():
        with gr.Tabs():
            settings = families.by_id("text_to_image").build_tab(run={})
    values = settings.from_recipe(recipe_views.tab_recipe(str(path), "text_to_image"))
    updates, pending = settings.apply(values, {"model": "builtin/shapes-t2i"})
    assert {name: update["value"] for name, update in updates.items()} == {
        "prompt": T2I_METADATA["prompt"], "negative_prompt": "blurry", "model": tiny_t2i, "scheduler": "euler",
        "steps": 20, "guidance": 4.0, "width": 64, "height": 48, "seed": 42}
    # The model changes, so its change event must keep the recipe's steps and size, not the model's own.
    updates, pending = settings.cascade("model", {"model": tiny_t2i}, pending)
    assert [updates[name]["value"] for name in ("steps", "guidance", "width", "height", "scheduler")] == \
        [20, 4.0, 64, 48, "euler"]
    assert pending is None


def test_the_diffusers_snippet_reproduces_the_pixels(tiny_t2i, tmp_path, monkeypatch):
    import genart_playground as gp

    result = gp.text_to_image("a red circle", model=tiny_t2i, negative_prompt="blue", num_images=2, steps=2,
                              guidance=3.0, seed=5, scheduler="dpm++-karras")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(recipes.diffusers_snippet(result.metadata), "<diffusers>", "exec"), namespace)
    for first, second in zip(result.images, namespace["images"], strict=True):
        assert np.array_equal(np.asarray(first), np.asarray(second))


@pytest.mark.skipif(not (settings.BUILTIN_DIR / "shapes-t2i" / "model_index.json").is_file(),
                    reason="built-in weights not shipped")
@pytest.mark.slow  # runs a shipped model
def test_a_builtin_models_diffusers_snippet_finds_the_installed_package_not_this_machines_path(tmp_path, monkeypatch):
    import genart_playground as gp

    result = gp.text_to_image("a red circle", seed=1, steps=4)
    snippet = recipes.diffusers_snippet(result.metadata)
    assert str(settings.BUILTIN_DIR) not in snippet and "BUILTIN_DIR / 'shapes-t2i'" in snippet
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(snippet, "<diffusers>", "exec"), namespace)
    assert np.array_equal(np.asarray(result.images[0]), np.asarray(namespace["images"][0]))


@pytest.mark.slow  # runs a shipped model
@pytest.mark.parametrize("task", ["denoising_timeline", "diffusion_walk", "vae_noise"])
def test_the_teaching_views_snippets_reproduce_the_pixels(task, tmp_path, monkeypatch):
    import genart_playground as gp

    if task == "denoising_timeline":
        result = gp.denoising_timeline("a red circle at the top", steps=4, guidance=3.0, seed=5, scheduler="euler")
    elif task == "diffusion_walk":
        result = gp.diffusion_walk("a red circle", "a green square", seed_a=1, seed_b=2, frames=3, steps=3)
    else:
        picture().resize((32, 32)).save(tmp_path / "input.png")
        result = gp.vae_reconstruction(Image.open(tmp_path / "input.png"), latent_noise=0.7, seed=9)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(recipes.code_snippet(result.metadata), "<snippet>", "exec"), namespace)
    again = namespace["result"]
    assert len(again.images) == len(result.images)
    for first, second in zip(result.images, again.images):
        assert np.array_equal(np.asarray(first), np.asarray(second))
