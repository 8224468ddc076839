"""Dropping an output PNG onto its tab puts that tab's settings back (issue 5 §6), for every tab."""

import gradio as gr
import numpy as np
import pytest
from PIL import Image

import genart_playground as gp
from genart_playground import families, recipes
from genart_playground.ui import recipe_views, tab_style_transfer


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(recipe_views.gr, "Warning", lambda message, *args, **kwargs: shown.append(message))
    return shown


def png_of(result, tmp_path, name="out.png") -> str:
    path = tmp_path / name
    path.write_bytes(recipes.png_with_recipe(result.images[0], result.metadata))
    return str(path)


@pytest.mark.slow  # runs a shipped model
def test_a_gan_frame_gives_back_the_walks_settings(tmp_path):
    result = gp.gan_interpolation(3, 9, frames=5, method="lerp", truncation=0.7)
    values = recipe_views.recipe_values(recipe_views.tab_recipe(png_of(result, tmp_path), "gan_interpolation"),
                                  ["seed_a", "seed_b", "model", "frames", "method", "truncation"], model_task="gan_interpolation")
    assert values == {"seed_a": 3, "seed_b": 9, "model": "builtin/shapes-gan", "frames": 5, "method": "lerp",
                      "truncation": 0.7}


@pytest.mark.slow  # runs a shipped model
def test_a_vae_reconstruction_gives_back_its_noise_and_seed(tmp_path):
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    result = gp.vae_reconstruction(image, latent_noise=0.4, seed=12)
    values = recipe_views.recipe_values(recipe_views.tab_recipe(png_of(result, tmp_path), "vae_reconstruction"),
                                  ["model", "latent_noise", "seed"], model_task="vae_reconstruction")
    assert values == {"model": "builtin/photo-vae", "latent_noise": 0.4, "seed": 12}  # the default autoencoder


@pytest.mark.slow  # runs a shipped model
def test_another_tabs_png_or_a_plain_png_fills_nothing_and_says_why(tmp_path, warnings):
    result = gp.gan_interpolation(0, 1, frames=2)
    assert recipe_views.tab_recipe(png_of(result, tmp_path), "vae_reconstruction") == {}
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    assert recipe_views.tab_recipe(str(tmp_path / "plain.png"), "gan_interpolation") == {}
    assert warnings == ["That image was made by another tab; load it there instead.",
                        "That image carries no recipe."]


@pytest.mark.slow  # runs a shipped model
def test_an_unlisted_model_is_left_out(tmp_path):
    result = gp.gan_interpolation(0, 1, frames=2)
    result.metadata["model"] = "somebody/else"
    values = recipe_views.recipe_values(recipe_views.tab_recipe(png_of(result, tmp_path), "gan_interpolation"), ["seed_a", "model"],
                                  model_task="gan_interpolation")
    assert values == {"seed_a": 0}


def style_settings():
    with gr.Blocks():
        with gr.Tabs():
            return families.by_id("style_transfer").build_tab(run={"style_transfer": None})


@pytest.mark.slow  # runs a shipped model
def test_a_style_recipe_survives_the_method_and_model_cascades(tmp_path):
    """img2img's recipe names a method, a model, strength, steps and size; the tab's own events for a
    new method and model would reset those to their defaults, unless they take the recipe's."""
    content = Image.new("RGB", (64, 64), (200, 40, 40))
    result = gp.style_transfer(content, "a blue square on a black background", method="img2img", steps=3,
                               size=64, strength=0.35, seed=4)
    settings = style_settings()
    values = settings.from_recipe(recipe_views.tab_recipe(png_of(result, tmp_path), "style_transfer"))
    updates, pending = settings.apply(values, {"method": "gatys", "model": "builtin/random-filters"})
    filled = {name: update["value"] for name, update in updates.items()}
    assert filled == {"method": "img2img", "style_prompt": "a blue square on a black background",
                      "model": "builtin/shapes-t2i", "steps": 3, "size": 64, "strength": 0.35, "seed": 4,
                      "preserve_color": False}
    assert pending is not None  # the method changes, so its events must see the recipe
    # What the tab's cascades then do: the recipe's strength and model, then its steps and size.
    updates, pending = settings.cascade("method", {"method": "img2img"}, pending)
    assert (updates["strength"]["value"], updates["model"]["value"]) == (0.35, "builtin/shapes-t2i")
    assert updates["style_prompt"]["visible"] and not updates["style_image"]["visible"]
    updates, pending = settings.cascade("model", {"method": "img2img", "model": "builtin/shapes-t2i"}, pending)
    assert (updates["steps"]["value"], updates["size"]["value"]) == (3, 64) and pending is None
    # Without a recipe the same events give the method's and the model's own settings.
    updates, _ = settings.cascade("method", {"method": "img2img"}, None)
    assert updates["strength"]["value"] == tab_style_transfer.DEFAULT_STRENGTH["img2img"]
    updates, _ = settings.cascade("model", {"method": "img2img", "model": "builtin/shapes-t2i"}, None)
    assert updates["steps"]["value"] == tab_style_transfer.model_settings("img2img", "builtin/shapes-t2i")["steps"]


def test_a_style_recipe_of_the_current_method_and_model_leaves_no_pending_state(tmp_path):
    content = Image.new("RGB", (64, 64), (200, 40, 40))
    result = gp.style_transfer(content, Image.new("RGB", (64, 64), (0, 0, 255)), method="gatys", steps=2, size=64)
    settings = style_settings()
    values = settings.from_recipe(recipe_views.tab_recipe(png_of(result, tmp_path), "style_transfer"))
    _, pending = settings.apply(values, {"method": "gatys", "model": "builtin/random-filters"})
    assert pending is None  # nothing will cascade, so nothing may linger for a later model change


def test_every_tab_has_a_load_settings_box():
    from genart_playground.ui.app import build_demo

    demo = build_demo()
    boxes = [block for block in demo.blocks.values()
             if isinstance(block, gr.File) and block.label == "Load settings from a PNG"]
    tabs = set()
    for box in boxes:
        parent = box.parent
        while not isinstance(parent, gr.Tab):
            parent = parent.parent
        tabs.add(parent.id)
    # Every tab whose main function draws pictures from settings (a family with an example call); the
    # evaluation lab's outputs are tables.
    assert tabs == {family.id for family in families.FAMILIES if family.tab and family.example is not None}
