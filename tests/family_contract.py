"""The family contract, as mixins (diffusers' PipelineTesterMixin is the model): `FamilyContract`, what a
family declares for the rest of the app; `ModelContract`, what each of its model families does, on its own
tiny model (`Family.all_tinies()`: the UNet pipeline, the DiT and the token model of text to image, the
DCGAN and StyleGAN, CycleGAN and Pix2Pix, ...).

`tests/test_families.py` makes a class of each for every family in families.FAMILIES;
`tests/test_throwaway_family.py` runs both on a family declared inside that test. A class names its
`family` (and `tiny_model`); a family that is not in the list is added for the class's tests and removed
after them.
"""

import ast
import importlib
import json
import re

import gradio as gr
import numpy as np
import pytest

import genart_playground as gp
from genart_playground import families, recipes
from genart_playground.families.base import IMAGE, MODEL, Example, Tiny
from genart_playground.models import loading, registry
from genart_playground.refs import resolve_ref


def picture():
    from PIL import Image

    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))


def pixels(result) -> list:
    return [np.asarray(image) for image in result.images]


def _poison(model) -> None:
    import torch

    components = getattr(model, "components", None)
    modules = [m for m in components.values() if isinstance(m, torch.nn.Module)] if components else [model]
    with torch.no_grad():
        for module in modules:
            for tensor in [*module.parameters(), *module.buffers()]:
                if tensor.is_floating_point():
                    tensor.fill_(float("nan"))


class Registered:
    family: families.Family  # set by the class that mixes this in

    @pytest.fixture(scope="class", autouse=True)
    def registered(self):
        """The family, in the list while the class runs (added if it is not one of the listed families)."""
        added = self.family not in families.FAMILIES
        if added:
            families.add(self.family)
        yield self.family
        if added:
            families.remove(self.family.id)


class FamilyContract(Registered):
    """What a family declares: its functions, models and kinds, tab, snippets, explanation, training scripts."""

    # --- what it declares ----------------------------------------------------------------------------------

    def test_its_functions_are_the_packages(self):
        assert self.family.id in self.family.api  # the family's main function has the family's id
        for name in self.family.api:
            assert name in dir(gp) and callable(getattr(gp, name))

    def test_its_models_and_kinds_are_registered(self):
        kinds = families.kinds()
        if not self.family.default_model:  # its networks are built in the request (the training lab)
            assert not self.family.models and not self.family.kinds
            with pytest.raises(ValueError, match="loads no stored models"):
                registry.default_model(self.family.id)
            return
        assert registry.default_model(self.family.id) in {spec.name for spec in registry.models_for(self.family.id)}
        for spec in self.family.models:
            assert registry.resolve(self.family.id, spec.name) == spec and spec.kind in kinds

    def test_its_tab_calls_only_the_functions_it_is_given(self):
        """build_tab(run=fakes): every API event of the tab is wired, and none reaches the package."""
        family = self.family
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
        # Its header comes from its declaration (ui/tab_page.py): the summary first, then "How it works".
        texts = [block.value for block in demo.blocks.values() if isinstance(block, gr.Markdown)]
        assert family.summary and texts[0].startswith(family.summary) and texts[1] == family.explanation

    def test_its_show_code_snippets_compile(self):
        for task in self.family.snippets:
            code = recipes.code_snippet({"task": task, "model": self.family.default_model, "seed": 0, "seed_a": 0,
                                         "seed_b": 1})
            ast.parse(code)
            assert f"from genart_playground import {task}" in code

    def test_its_explanation_names_controls_in_bold(self):
        assert self.family.explanation.count("**") >= 4 and len(self.family.explanation.split()) < 400

    def test_its_training_scripts_have_a_command_line(self):
        for module in self.family.trainers.values():
            script = importlib.import_module(module)
            assert callable(script.main)
            with pytest.raises(SystemExit) as done:
                script.main(["--help"])
            assert done.value.code == 0

    def test_the_explanation_covers_every_control(self):
        """Every setting of the tab (the lesson links' keys) is named in bold in its "How it works" text."""
        if not self.family.tab:
            pytest.skip(f"{self.family.id} has no tab")
        with gr.Blocks():
            with gr.Tabs():
                settings = self.family.build_tab(run={name: None for name in self.family.api})
        missing = [component.label for name, component in settings.controls.items()
                   if name != "model" and not re.search(rf"\*\*{re.escape(component.label)}\.?\*\*",
                                                        self.family.explanation)]
        assert not missing, f"{self.family.id}'s explanation does not name {missing}"

    def test_python_only_names_are_its_own_and_not_its_main_function(self):
        assert set(self.family.python_only) <= set(self.family.api) and self.family.id not in self.family.python_only


class ModelContract(Registered):
    """What one of its model families does, on its tiny model: loads through the real path, same seed same
    pixels, bounds refused first, NaN reported, a cancel stops it, its recipe and code reproduce it, its
    endpoint answers."""

    tiny_model: Tiny  # one of family.all_tinies()

    @property
    def example(self) -> Example:
        return self.tiny_model.example

    @pytest.fixture(scope="class")
    def tiny(self, registered, tmp_path_factory):
        """The tiny model, registered for the class: its name."""
        from genart_playground.models.cache import cache

        name = registry.register(resolve_ref(self.tiny_model.build)(tmp_path_factory.mktemp("families") /
                                                                   f"contract-{self.tiny_model.name}")).name
        yield name
        cache.evict(name)
        registry.unregister(name)

    @pytest.fixture(scope="class")
    def client(self, request):
        """A gradio_client of the app that serves this family's tab (the session's app for a listed family)."""
        return request.getfixturevalue("api_client")

    def example_call(self, model, **changes):
        args = [picture() if arg == IMAGE else arg for arg in self.example.args]
        return getattr(gp, self.family.id)(*args, **{**self.example.options, "model": model, **changes})

    def test_its_tiny_model_loads_through_the_real_path(self, tmp_path, fresh_cache):
        spec = resolve_ref(self.tiny_model.build)(tmp_path / f"loads-{self.tiny_model.name}")
        registry.register(spec)
        try:
            assert loading.availability(spec) in ("local", "built-in")
            model = fresh_cache.load(self.family.id, spec.name)
            assert fresh_cache.load(self.family.id, spec.name) is model and fresh_cache.loads == 1
        finally:
            fresh_cache.evict(spec.name)
            registry.unregister(spec.name)

    def test_same_seed_same_pixels(self, tiny):
        first, second = self.example_call(tiny), self.example_call(tiny)
        assert first.images and all(np.array_equal(a, b) for a, b in zip(pixels(first), pixels(second)))
        assert first.metadata["model"] == tiny and first.metadata["task"] == self.family.id

    def test_every_bound_is_checked_before_any_model_loads(self, tiny, fresh_cache):
        assert self.example.refused, "an example names the values its function must refuse"
        for option, value in self.example.refused.items():
            with pytest.raises(ValueError, match=f"`{option}`"):
                self.example_call(tiny, **{option: value})
        assert fresh_cache.loads == 0 and fresh_cache.loaded() == {}

    def test_a_cancel_stops_it_at_once(self, tiny):
        """The user's Stop reaches the function as its progress callback raising (serving.Cancelled): it must
        report progress, and the first report that raises ends the run, nothing swallowed, no report after."""
        from genart_playground.serving import Cancelled

        reports = []

        def progress(fraction, message=""):
            reports.append(fraction)
            raise Cancelled("Cancelled.")

        with pytest.raises(Cancelled):
            self.example_call(tiny, progress=progress)
        assert len(reports) == 1

    def test_nan_output_is_reported_not_returned(self, tiny, fresh_cache):
        from genart_playground.checks import OutputError

        _poison(fresh_cache.load(self.family.id, tiny))
        with pytest.raises(OutputError, match="NaN"):
            self.example_call(tiny)

    def test_show_code_and_the_png_recipe_reproduce_the_pixels(self, tiny, tmp_path, monkeypatch):
        from PIL import Image

        result = self.example_call(tiny)
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
    def test_the_endpoint_works_through_gradio_client(self, tiny, client, tmp_path):
        from gradio_client import handle_file

        if not self.example.endpoint:
            pytest.skip(f"{self.family.id}'s example names no endpoint inputs")
        path = tmp_path / "input.png"
        picture().save(path)
        inputs = [tiny if value == MODEL else handle_file(str(path)) if value == IMAGE else value
                  for value in self.example.endpoint]
        outputs = client.predict(*inputs, api_name=f"/{self.family.id}")
        metadata = next(output for output in outputs if isinstance(output, dict) and "task" in output)
        assert metadata["model"] == tiny and metadata["task"] == self.family.id
