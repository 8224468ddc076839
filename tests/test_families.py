"""The family contract: what every family in families.FAMILIES gives the rest of the app. A new family
gets these checks by being in the list."""

import ast
import importlib

import gradio as gr
import pytest

import genart_playground as gp
from genart_playground import families, recipes
from genart_playground.models import loading, registry

FAMILIES = families.FAMILIES


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.id)
def test_its_functions_are_the_packages(family):
    assert family.id in family.api  # the family's main function has the family's id
    for name in family.api:
        assert name in gp.__all__ and callable(getattr(gp, name))


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.id)
def test_its_models_and_kinds_are_registered(family):
    kinds = families.kinds()
    assert registry.default_model(family.id) in {spec.name for spec in registry.models_for(family.id)}
    for spec in family.models:
        assert registry.resolve(family.id, spec.name) == spec and spec.kind in kinds


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.tiny], ids=lambda f: f.id)
def test_its_tiny_model_loads_through_the_real_path(family, tmp_path, fresh_cache):
    spec = family.make_tiny(tmp_path / f"tiny-{family.id}")
    registry.register(spec)
    try:
        assert loading.availability(spec) in ("local", "built-in")
        model = fresh_cache.load(family.id, spec.name)
        assert fresh_cache.load(family.id, spec.name) is model and fresh_cache.loads == 1
    finally:
        fresh_cache.evict(spec.name)
        registry.unregister(spec.name)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.id)
def test_its_tab_calls_only_the_functions_it_is_given(family):
    """build_tab(run=fakes): every API event of the tab is wired, and none reaches the package."""
    fakes = {name: (lambda *args, **kwargs: pytest.fail("a fake was called while building")) for name in family.api}
    with gr.Blocks() as demo:
        with gr.Tabs():
            controls = family.build_tab(run=fakes)
    assert controls and all(isinstance(name, str) for name in controls)  # the lesson links' keys
    api_names = {fn.api_name for fn in demo.fns.values() if fn.api_name and fn.api_visibility != "private"}
    assert family.id in api_names
    tabs = [block for block in demo.blocks.values() if isinstance(block, gr.Tab)]
    assert [tab.id for tab in tabs] == [family.id] and tabs[0].label == family.title


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.id)
def test_its_show_code_snippets_compile(family):
    for task in family.snippets:
        code = recipes.code_snippet({"task": task, "model": family.default_model, "seed": 0, "seed_a": 0, "seed_b": 1})
        ast.parse(code)
        assert f"from genart_playground import {task}" in code


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.id)
def test_its_explanation_names_controls_in_bold(family):
    assert family.explanation.count("**") >= 4 and len(family.explanation.split()) < 400


@pytest.mark.parametrize("name, module", sorted(families.trainers().items()))
def test_its_training_scripts_have_a_command_line(name, module):
    script = importlib.import_module(module)
    assert callable(script.main)
    with pytest.raises(SystemExit) as done:
        script.main(["--help"])
    assert done.value.code == 0


def test_the_ids_are_unique_and_the_tabs_are_the_apps():
    from genart_playground.ui.app import build_demo

    ids = [family.id for family in FAMILIES]
    assert len(set(ids)) == len(ids)
    tabs = [block.id for block in build_demo().blocks.values() if isinstance(block, gr.Tab)]
    assert tabs == [family.id for family in FAMILIES if family.tab]
