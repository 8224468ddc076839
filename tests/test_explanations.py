"""Every tab explains itself: a "How it works" panel on its key ideas, and a hint on every input control."""

import inspect

import gradio as gr
import pytest

from genart_playground import families
from genart_playground.ui import explanations

TABS = [family for family in families.FAMILIES if family.tab]
JUDGED_BY = ["Quality", "Match to the prompt", "Diversity", "Controllability", "checker.py"]


@pytest.fixture(scope="module")
def demo():
    from genart_playground.ui.app import build_demo

    return build_demo()


def _descendants(block):
    for child in getattr(block, "children", []):
        yield child
        yield from _descendants(child)


def _tabs(demo) -> dict:
    tabs = {block.id: block for block in demo.blocks.values() if isinstance(block, gr.Tab)}
    assert {family.id for family in TABS} <= set(tabs), f"tabs found: {sorted(tabs)}"
    return tabs


def _input_ids(demo) -> set[int]:
    """Components some event reads: the app's input controls (outputs only are left out)."""
    return {component._id for fn in demo.fns.values() for component in fn.inputs}


def _takes_info(component) -> bool:
    return "info" in inspect.signature(type(component).__init__).parameters


def test_every_input_control_has_a_hint(demo):
    inputs = _input_ids(demo)
    missing = []
    for tab_id, tab in _tabs(demo).items():
        for block in _descendants(tab):
            if block._id in inputs and block.interactive is not False and _takes_info(block):
                if not (isinstance(block.info, str) and block.info.strip()):
                    missing.append(f"{tab_id}: {type(block).__name__} {block.label!r}")
    assert not missing, "input controls without an info= hint:\n" + "\n".join(missing)


def test_the_check_sees_the_controls_it_should(demo):
    # A guard on the test above: it must find the style tab's controls, hints and all.
    inputs = _input_ids(demo)
    labels = {block.label for block in _descendants(_tabs(demo)["style_transfer"])
              if block._id in inputs and _takes_info(block)}
    assert {"Style prompt", "Method", "Model", "Steps", "Size", "Strength", "Seed",
            "Keep the content's colours"} <= labels


@pytest.mark.parametrize("family", TABS, ids=lambda family: family.id)
def test_each_tab_has_its_how_it_works_panel(demo, family):
    assert family.key_ideas, f"{family.id} names no key ideas its panel must teach"
    task = family.id
    tab = _tabs(demo)[task]
    panels = [block for block in _descendants(tab) if isinstance(block, gr.Accordion) and block.label == "How it works"]
    assert len(panels) == 1
    text = "\n".join(block.value for block in _descendants(panels[0]) if isinstance(block, gr.Markdown))
    missing = [idea for idea in [*family.key_ideas, *JUDGED_BY] if idea not in text]
    assert not missing, f"{task}'s panel does not mention {missing}"


def test_the_texts_are_short():
    for family in families.FAMILIES:
        assert len(family.explanation.split()) < 400, f"{family.id}: {len(family.explanation.split())} words"
    assert len(explanations.JUDGING.split()) < 400
