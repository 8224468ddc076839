"""The family contract: what every family in families.FAMILIES gives the rest of the app. A new family
gets these checks by being in the list."""

import ast
import importlib
import json
import re

import gradio as gr
import numpy as np
import pytest

import genart_playground as gp
from genart_playground import families, recipes
from genart_playground.families.base import IMAGE, MODEL
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
            settings = family.build_tab(run=fakes)
    assert settings.controls and all(isinstance(name, str) for name in settings.controls)  # the lesson links' keys
    for cascade in settings.cascades:  # what a setting fills in when it changes names the tab's own components
        assert {cascade.source, *cascade.reads} <= set(settings.controls)
        assert all(settings.component(name) is not None for name in cascade.writes)
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


# --- the contract on each family's own tiny model ---------------------------------------------------

@pytest.fixture(scope="module")
def tinies(tmp_path_factory):
    """Each family's tiny model, registered for this module: {family id: model name}."""
    names = {}
    for family in FAMILIES:
        if family.tiny is not None and family.example is not None:
            names[family.id] = registry.register(family.make_tiny(tmp_path_factory.mktemp("families") /
                                                                  f"tiny-{family.id}")).name
    yield names
    from genart_playground.models.cache import cache

    for name in names.values():
        cache.evict(name)
        registry.unregister(name)


WITH_EXAMPLES = [f for f in FAMILIES if f.tiny is not None and f.example is not None]


def picture():
    from PIL import Image

    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))


def example_call(family, model, **changes):
    args = [picture() if arg == IMAGE else arg for arg in family.example.args]
    return getattr(gp, family.id)(*args, **{**family.example.options, "model": model, **changes})


def pixels(result) -> list:
    return [np.asarray(image) for image in result.images]


@pytest.mark.parametrize("family", WITH_EXAMPLES, ids=lambda f: f.id)
def test_same_seed_same_pixels(family, tinies):
    first, second = example_call(family, tinies[family.id]), example_call(family, tinies[family.id])
    assert first.images and all(np.array_equal(a, b) for a, b in zip(pixels(first), pixels(second)))
    assert first.metadata["model"] == tinies[family.id] and first.metadata["task"] == family.id


@pytest.mark.parametrize("family", WITH_EXAMPLES, ids=lambda f: f.id)
def test_every_bound_is_checked_before_any_model_loads(family, tinies, fresh_cache):
    assert family.example.refused, "an example names the values its function must refuse"
    for option, value in family.example.refused.items():
        with pytest.raises(ValueError, match=f"`{option}`"):
            example_call(family, tinies[family.id], **{option: value})
    assert fresh_cache.loads == 0 and fresh_cache.loaded() == {}


def _poison(model) -> None:
    import torch

    components = getattr(model, "components", None)
    modules = [m for m in components.values() if isinstance(m, torch.nn.Module)] if components else [model]
    with torch.no_grad():
        for module in modules:
            for tensor in [*module.parameters(), *module.buffers()]:
                if tensor.is_floating_point():
                    tensor.fill_(float("nan"))


@pytest.mark.parametrize("family", WITH_EXAMPLES, ids=lambda f: f.id)
def test_nan_output_is_reported_not_returned(family, tinies, fresh_cache):
    from genart_playground.checks import OutputError

    _poison(fresh_cache.load(family.id, tinies[family.id]))
    with pytest.raises(OutputError, match="NaN"):
        example_call(family, tinies[family.id])


@pytest.mark.parametrize("family", WITH_EXAMPLES, ids=lambda f: f.id)
def test_show_code_and_the_png_recipe_reproduce_the_pixels(family, tinies, tmp_path, monkeypatch):
    from PIL import Image

    result = example_call(family, tinies[family.id])
    png = tmp_path / "result.png"
    png.write_bytes(recipes.png_with_recipe(result.images[0], result.metadata))
    recipe = recipes.read_recipe(png)
    assert recipe == json.loads(json.dumps(result.metadata, default=str))
    code = recipes.code_snippet(recipe)
    monkeypatch.chdir(tmp_path)
    for name in re.findall(r'Image\.open\("([^"]+)"\)', code):  # the inputs the snippet opens: the same picture
        picture().save(tmp_path / name)
    namespace = {}
    exec(compile(code, "snippet", "exec"), namespace)  # noqa: S102 - our own generated code
    assert all(np.array_equal(a, b) for a, b in zip(pixels(namespace["result"]), pixels(result)))
    assert Image.open(png).size == result.images[0].size


@pytest.mark.server
@pytest.mark.parametrize("family", WITH_EXAMPLES, ids=lambda f: f.id)
def test_the_endpoint_works_through_gradio_client(family, tinies, api_client, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "input.png"
    picture().save(path)
    inputs = [tinies[family.id] if value == MODEL else handle_file(str(path)) if value == IMAGE else value
              for value in family.example.endpoint]
    outputs = api_client.predict(*inputs, api_name=f"/{family.id}")
    metadata = next(output for output in outputs if isinstance(output, dict) and "task" in output)
    assert metadata["model"] == tinies[family.id] and metadata["task"] == family.id


@pytest.mark.parametrize("family", [f for f in FAMILIES if f.tab], ids=lambda f: f.id)
def test_the_explanation_covers_every_control(family):
    """Every setting of the tab (the lesson links' keys) is named in bold in its "How it works" text."""
    with gr.Blocks():
        with gr.Tabs():
            settings = family.build_tab(run={name: None for name in family.api})
    missing = [component.label for name, component in settings.controls.items()
               if name != "model" and not re.search(rf"\*\*{re.escape(component.label)}\.?\*\*", family.explanation)]
    assert not missing, f"{family.id}'s explanation does not name {missing}"


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.id)
def test_python_only_names_are_its_own_and_not_its_main_function(family):
    assert set(family.python_only) <= set(family.api) and family.id not in family.python_only
