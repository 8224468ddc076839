"""A model family is one declaration: a family declared entirely in this file, and added at run time, is
found everywhere a listed family is, without any shared file knowing its name.

The family is a "noise" model: it draws random pictures from a seed. It has a kind (how its models
load), two models, a public function, a tab, a "Show code" snippet, an explanation, a tiny model, an
example call and the `sample` capability. The two classes below run the whole family contract on it
(tests/family_contract.py); the tests below look for it in the registry, the public API, the app's tabs,
the lesson links and the evaluation lab, then check that no file of the package or the other tests names it.
"""

from pathlib import Path

import gradio as gr
import pytest

import genart_playground as gp
from family_contract import FamilyContract, ModelContract
from genart_playground import checks, families, limits, recipes
from genart_playground.families.base import MODEL, Example, Family, Kind
from genart_playground.models import registry
from genart_playground.models.spec import ModelSpec
from genart_playground.results import Result, Samples

FAMILY_ID = "throwaway_noise"
MAX_SIZE = 64


# --- the family: its model, function, tab, snippet and capability --------------------------------------------

def build_noise(folder, spec, device):
    """A model of no files: its source names its seed offset ("seed:N"), as the random filter bank's does."""
    import torch

    class Noise(torch.nn.Module):
        def __init__(self, offset: int):
            super().__init__()
            self.offset = offset
            self.register_buffer("scale", torch.ones(()))  # a weight, so a poisoned model draws NaN

        def forward(self, seed: int, size: int):
            from genart_playground.devices import make_generator

            noise = torch.rand(1, 3, size, size, generator=make_generator(seed + self.offset))
            return (noise * 2 - 1) * self.scale

    return Noise(int(spec.source.partition(":")[2])).to(device)


def throwaway_noise(seed=0, *, model=None, size=32, progress=None) -> Result:
    """Random pictures from a seed."""
    import torch

    from genart_playground import imaging
    from genart_playground.models.cache import cache

    # 1. Check inputs
    seed = checks.check_seed("seed", seed)
    size = checks.check_int("size", size, 8, MAX_SIZE)
    spec = registry.resolve(FAMILY_ID, model)
    # 2. Draw
    if progress is not None:
        progress(0.0, "Drawing")
    with torch.inference_mode():
        pixels = cache.load(FAMILY_ID, spec.name)(seed, size)
    checks.check_output(pixels, spec.name, low=-1.0, high=1.0)
    return Result(images=imaging.to_pil(pixels), metadata={"task": FAMILY_ID, "model": spec.name, "seed": seed,
                                                            "size": size})


def sample(spec, count, seed, progress) -> Samples:
    pictures = [throwaway_noise(seed + i, model=spec.name).images[0] for i in range(count)]
    return Samples(images=pictures, named=None, seconds=0.0, evaluations=1, settings={"samples": count})


def snippet(metadata: dict) -> str:
    options = {"model": metadata.get("model"), "size": metadata.get("size")}
    return "\n".join([f"from genart_playground import {FAMILY_ID}", "",
                      recipes.call(FAMILY_ID, [repr(metadata.get("seed"))], options)])


def build_tab(run: dict, family):
    from genart_playground.ui import handlers, lanes, model_menu, output_files, tab_page
    from genart_playground.ui.settings_flow import TabSettings

    def draw(run, seed, model, size):
        result = run[FAMILY_ID](int(seed), model=model_menu.model_name(model), size=int(size))
        return [output_files.recipe_png(image, result.metadata) for image in result.images], result.metadata

    with tab_page.family_tab(family):
        seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=limits.MAX_SEED)
        model = model_menu.model_dropdown(FAMILY_ID, label="Model")
        size = gr.Slider(label="Size", minimum=8, maximum=MAX_SIZE, step=8, value=32)
        button = gr.Button("Draw noise")
        gallery = gr.Gallery(label="Noise", type="filepath", format="png")
        metadata = gr.JSON(label="Recipe")
        button.click(handlers.bind(draw, run), [seed, model, size], [gallery, metadata], api_name=FAMILY_ID,
                     concurrency_id=lanes.GAN_LANE)
        settings = TabSettings({"seed": seed, "model": model, "size": size})
        settings.wire()
    return settings


def tiny(folder: Path) -> ModelSpec:
    return ModelSpec(f"tests/{folder.name}", FAMILY_ID, "throwaway-noise", "seed:7", description="Noise, seed + 7.")


NOISE = Family(
    id=FAMILY_ID, title="Noise", default_model="tests/noise", default_env="GENART_THROWAWAY_NOISE_MODEL",
    summary="Random pixels: what a model that learnt nothing draws.",
    kinds=(Kind("throwaway-noise", build_noise, config_file=None),),
    models=(ModelSpec("tests/noise", FAMILY_ID, "throwaway-noise", "seed:0", description="Noise."),),
    api={FAMILY_ID: f"{__name__}:{FAMILY_ID}"},
    snippets={FAMILY_ID: snippet},
    explanation="**Noise.** Every pixel is drawn at random: **Seed** picks the draw and **Size** the side. "
                "Nothing here was learnt, which is the point: the evaluation lab should judge it the worst.",
    tab=build_tab,
    tiny=tiny,
    example=Example(args=(3,), options={"size": 16}, refused={"size": 10_000},
                    endpoint=(3, MODEL, 16), seed_input=0),
    capabilities={"sample": sample},
)


# --- the contract, as every listed family gets it --------------------------------------------------------------

@pytest.fixture(scope="module")
def added():
    families.add(NOISE)
    yield NOISE
    families.remove(FAMILY_ID)


class TestThrowawayFamily(FamilyContract):
    family = NOISE


class TestThrowawayModel(ModelContract):
    family, tiny_model = NOISE, NOISE.all_tinies()[0]

    @pytest.fixture(scope="class")
    def client(self, registered, tmp_path_factory):
        """This family's tab is not in the session's served app (built before it was added): serve one."""
        from gradio_client import Client

        from served import serve_app

        demo = serve_app()
        yield Client(demo.local_url, verbose=False, analytics_enabled=False,
                     download_files=str(tmp_path_factory.mktemp("downloads")))
        demo.close()


# --- found where every family is found -----------------------------------------------------------------------

def test_it_is_in_the_registry_and_the_public_api(added):
    assert FAMILY_ID in registry.family_ids() and registry.resolve(FAMILY_ID).name == "tests/noise"
    assert registry.kinds()["throwaway-noise"].config_file is None
    assert FAMILY_ID in dir(gp) and gp.throwaway_noise(5, size=8).images[0].size == (8, 8)


def test_it_has_a_tab_in_the_app_and_lesson_links_open_it(added):
    from genart_playground.ui import lesson_links
    from genart_playground.ui.app import build_demo

    captured, original = {}, lesson_links.attach

    def spy(demo, tabs, tab_settings, link, notice):
        captured.update(tab_settings)
        return original(demo, tabs, tab_settings, link, notice)

    lesson_links.attach = spy
    try:
        demo = build_demo()
    finally:
        lesson_links.attach = original
    tabs = [block.id for block in demo.blocks.values() if isinstance(block, gr.Tab)]
    assert tabs[-1] == FAMILY_ID
    settings = lesson_links.settings_of({tab: found.controls for tab, found in captured.items()})
    link = lesson_links.parse({"tab": FAMILY_ID, "seed": "9", "size": "24"}, settings)
    assert link.tab == FAMILY_ID and link.values == {"seed": 9, "size": 24}


def test_the_evaluation_lab_judges_it(added, tmp_path):
    from genart_playground import evaluate

    features = registry.register(families.by_id("evaluate").make_tiny(tmp_path / "tiny-features")).name
    try:
        result = evaluate("tests/noise", task=FAMILY_ID, samples_per_prompt=1, features=features)
    finally:
        registry.unregister(features)
    assert len(result.images) == 20 and result.metadata["model_task"] == FAMILY_ID
    assert result.metrics["clean"] == 0.0  # noise is never one clean shape on a clean background
    with pytest.raises(ValueError, match="cannot be given"):  # it draws from seeds alone
        evaluate("tests/noise", task=FAMILY_ID, prompts=["a red circle", "a blue square"], features=features)


def test_the_load_test_would_send_it_requests(added):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import load_test

    assert NOISE in load_test.loaded_families()


def test_no_shared_file_names_it():
    root = Path(__file__).resolve().parents[1]
    places = [*(root / "genart_playground").rglob("*.py"), *(root / "tests").glob("*.py"),
              *(root / "bench").glob("*.py"), root / "README.md", root / "docs" / "architecture.md"]
    naming = [str(path.relative_to(root)) for path in places
              if path != Path(__file__).resolve() and FAMILY_ID in path.read_text()]
    assert naming == []
