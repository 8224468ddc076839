"""A model says what it does not know (issue 14 §3): words outside a closed vocabulary, a prompt longer
than its tokenizer reads, a size far from the one it was trained at; in the result, and beside the
pictures on the page."""

import re

import pytest

import genart_playground as gp
from genart_playground import settings
from genart_playground.data import shapes

BUILTIN = (settings.BUILTIN_DIR / "shapes-t2i" / "model_index.json").exists()
builtin_only = pytest.mark.skipif(not BUILTIN, reason="shapes-t2i is not shipped")


@pytest.mark.slow  # runs a shipped model
@builtin_only
def test_words_the_builtin_does_not_know_are_named():
    warnings = gp.text_to_image("a purple cat on a red sofa", steps=1).metadata["warnings"]
    assert len(warnings) == 1 and "'cat'" in warnings[0] and "'sofa'" in warnings[0]
    assert "'purple'" not in warnings[0] and "'red'" not in warnings[0]


@pytest.mark.slow  # runs a shipped model
@builtin_only
def test_a_prompt_the_builtin_knows_gets_no_warning():
    assert gp.text_to_image("a large blue square at the top on a gray background", steps=1).metadata["warnings"] == []


@pytest.mark.slow  # runs a shipped model
@builtin_only
def test_a_long_prompt_says_where_it_was_cut():
    prompt = "a small red circle on the left on a white background " * 3
    warnings = gp.text_to_image(prompt, steps=1).metadata["warnings"]
    cut = next(w for w in warnings if "tokens" in w)
    assert "reads 14" in cut and 'used only "a small red circle on the left on a white background a small red' in cut


@pytest.mark.slow  # runs a shipped model
@builtin_only
def test_a_size_far_from_training_is_named_and_a_near_one_is_not():
    far = gp.text_to_image("a red circle", steps=1, width=256, height=256).metadata["warnings"]
    assert any("trained at 64×64; at 256×256" in w for w in far)
    assert gp.text_to_image("a red circle", steps=1, width=80, height=64).metadata["warnings"] == []


@pytest.mark.slow  # runs a shipped model
@builtin_only
def test_the_timeline_carries_the_same_warnings():
    warnings = gp.denoising_timeline("a red cat", steps=2).metadata["warnings"]
    assert any("'cat'" in w for w in warnings)


def test_an_open_vocabulary_model_warns_of_size_but_not_of_words(tiny_t2i):
    warnings = gp.text_to_image("a zebra", model=tiny_t2i, width=64, height=64).metadata["warnings"]
    assert warnings == [f"{tiny_t2i} was trained at 32×32; at 64×64 it draws things at the wrong scale (often a "
                        "repeating pattern or a cropped fragment)."]


def test_the_tab_lists_every_word_the_builtin_knows():
    from genart_playground.ui.tab_text_to_image import KNOWN_WORDS

    listed = set(re.findall(r"[a-z]+", KNOWN_WORDS.lower()))
    assert set(shapes.vocabulary()) <= listed


def test_the_note_beside_the_pictures_shows_warnings_and_hides_without():
    from genart_playground.ui import recipe_views

    shown = recipe_views.warnings_note({"warnings": ["the model does not know the word 'cat'"]})
    assert shown["visible"] is True and "'cat'" in shown["value"]
    assert recipe_views.warnings_note({"warnings": []})["visible"] is False
    assert recipe_views.warnings_note(None)["visible"] is False
