"""GENART_PUBLIC=1, the setting for public Spaces: registry only, smaller caps, a bounded queue; and a
Stable Diffusion checkpoint's safety checker is kept, with a visible notice when it blacks out an image.

The environment is read once, at import, so the public settings are checked in a fresh Python
process started with them.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from runs import RUN

ROOT = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent("""
    import json
    from genart_playground import limits, settings
    from genart_playground.models import registry

    refusals = {}
    for model in ["evil-org/unregistered", "/etc", "https://example.com/model"]:
        try:
            registry.resolve("text_to_image", model)
            refusals[model] = None
        except ValueError as error:
            refusals[model] = str(error)
    report = {"public": settings.PUBLIC, "allow_any": settings.ALLOW_ANY_MODEL, "refusals": refusals,
              "caps": {name: getattr(limits, name) for name in dir(limits) if name.startswith("MAX_")}}
    if {build_demo}:
        from genart_playground.ui.app import build_demo
        demo = build_demo()
        report["queue_max_size"] = demo._queue.max_size
        report["steps_maximum"] = [b.maximum for b in demo.blocks.values() if getattr(b, "label", None) == "Steps"]
    print("REPORT" + json.dumps(report))
""")


def probe(build_demo=False, **env) -> dict:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GENART_")}
    environment.update(env)  # the HF_HUB_OFFLINE and HF_HOME of tests/conftest.py are inherited
    output = subprocess.run([sys.executable, "-c", PROBE.replace("{build_demo}", str(build_demo))], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=120)
    assert output.returncode == 0, output.stderr[-2000:]
    line = next(line for line in output.stdout.splitlines() if line.startswith("REPORT"))
    return json.loads(line.removeprefix("REPORT"))


@pytest.fixture(scope="module")
def public() -> dict:
    return probe(build_demo=True, GENART_PUBLIC="1", GENART_ALLOW_ANY_MODEL="1", GENART_QUEUE_SIZE="5")


@pytest.fixture(scope="module")
def private() -> dict:
    return probe(GENART_ALLOW_ANY_MODEL="1")


def test_public_serves_the_registry_only_even_when_any_model_is_allowed(public, private):
    assert public["public"] is True and public["allow_any"] is False
    assert "not in the registry" in public["refusals"]["evil-org/unregistered"]
    assert "not in the registry" in public["refusals"]["/etc"]
    assert "looks like a URL" in public["refusals"]["https://example.com/model"]
    # The same environment without GENART_PUBLIC lets the Hub id through: the setting is what refuses it.
    assert private["allow_any"] is True and private["refusals"]["evil-org/unregistered"] is None


def test_public_lowers_the_costly_caps(public, private):
    for name in ("MAX_IMAGES", "MAX_STEPS", "MAX_SIZE", "MAX_FRAMES", "MAX_STYLE_SIZE", "MAX_STYLE_STEPS"):
        assert public["caps"][name] < private["caps"][name], name
    assert public["caps"]["MAX_UPLOAD_PIXELS"] <= private["caps"]["MAX_UPLOAD_PIXELS"]
    assert public["steps_maximum"] and min(public["steps_maximum"]) == public["caps"]["MAX_STEPS"]


def test_the_queue_is_bounded(public, served_app):
    from genart_playground import settings

    assert public["queue_max_size"] == 5  # GENART_QUEUE_SIZE
    assert served_app._queue.max_size == settings.QUEUE_SIZE > 0  # bounded without the setting too (16)


# ---------------------------------------------------------------------------------------------
# The safety checker of Stable Diffusion 1.x/2.x checkpoints
# ---------------------------------------------------------------------------------------------

def build_tiny_safe_pipeline(base: Path, folder: Path) -> Path:
    """The tiny SD pipeline with a tiny StableDiffusionSafetyChecker that flags every image.

    The checker flags an image when cos(image, concept) - weight > 0 for some concept; cosines are
    at least -1, so weights of -2 flag everything, whatever the random embeddings."""
    import torch
    from diffusers import StableDiffusionPipeline
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    small = dict(hidden_size=8, intermediate_size=16, num_attention_heads=2, num_hidden_layers=1)
    torch.manual_seed(0)
    checker = StableDiffusionSafetyChecker(CLIPConfig(
        text_config=dict(small, vocab_size=99, bos_token_id=0, eos_token_id=1, pad_token_id=1),
        vision_config=dict(small, image_size=32, patch_size=8), projection_dim=8))
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(-2.0)
    extractor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    components = StableDiffusionPipeline.from_pretrained(base).components
    pipe = StableDiffusionPipeline(**{**components, "safety_checker": checker, "feature_extractor": extractor},
                                   requires_safety_checker=True)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture(scope="module")
def tiny_safe_t2i(tiny_t2i_folder, tmp_path_factory):
    from conftest import TINY_T2I_DEFAULTS, _register, _unregister

    from genart_playground.models.registry import ModelSpec

    folder = build_tiny_safe_pipeline(tiny_t2i_folder, tmp_path_factory.mktemp("models") / "tiny-safe-t2i")
    index = json.loads((folder / "model_index.json").read_text())
    assert index["safety_checker"] == ["stable_diffusion", "StableDiffusionSafetyChecker"]  # as SD 1.5 ships it
    name = _register(ModelSpec("tests/tiny-safe-t2i", "text_to_image", "diffusers-pipeline", str(folder),
                               defaults=dict(TINY_T2I_DEFAULTS), description="Tiny SD with a safety checker."))
    yield name
    _unregister(name)


def test_a_shipped_safety_checker_is_kept(tiny_safe_t2i, fresh_cache):
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker

    pipe = fresh_cache.load("text_to_image", tiny_safe_t2i)
    assert isinstance(pipe.safety_checker, StableDiffusionSafetyChecker)
    assert pipe.feature_extractor is not None


def test_a_flagged_image_comes_with_a_notice(tiny_safe_t2i):
    from genart_playground import text_to_image

    result = text_to_image("a red circle", model=tiny_safe_t2i, num_images=2)
    assert all(np.asarray(image).max() == 0 for image in result.images)  # blacked out by the checker
    assert any("safety checker" in warning for warning in result.metadata["warnings"])


def test_the_notice_is_shown_in_the_ui(tiny_safe_t2i, tiny_t2i, monkeypatch):
    from genart_playground.ui import tab_text_to_image

    shown = []
    monkeypatch.setattr(tab_text_to_image.gr, "Warning", lambda message, *args, **kwargs: shown.append(message))
    images, metadata = tab_text_to_image.generate(RUN["text_to_image"], "a red circle", "", tiny_safe_t2i, "model default", 1, None, None,
                                                  None, None, 0, progress=lambda *args, **kwargs: None)
    assert any("safety checker" in message for message in shown)
    shown.clear()
    tab_text_to_image.generate(RUN["text_to_image"], "a red circle", "", tiny_t2i, "model default", 1, None, None, None, None, 0,
                               progress=lambda *args, **kwargs: None)
    assert not any("safety checker" in message for message in shown)  # no checker, no notice
