"""Safe loading: pickles never run, remote code never loads, URLs never reach the network.

Each hostile folder carries a canary: a pickle whose unpickling writes a file, or a Python module
that writes one when imported. A test passes only if the model is refused AND the canary file
was never written AND nothing called torch.load or pickle.
"""

import json
import pickle
import shutil
import sys
from pathlib import Path

import pytest
import torch

from genart_playground.models import loading, registry
from genart_playground.models.loading import UnsafeModelError
from genart_playground.models.registry import ModelSpec


class _Canary:
    """Unpickling this calls Path.write_text(path, "pwned"): proof that the pickle ran."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return Path.write_text, (self.path, "pwned")


def _payload(canary: Path) -> bytes:
    return pickle.dumps({"weight": _Canary(canary)})


def test_the_canary_payload_really_runs_when_unpickled(tmp_path):
    """Without this, 'the canary was never written' would prove nothing."""
    canary = tmp_path / "canary"
    pickle.loads(_payload(canary))  # our own payload, built just above
    assert canary.read_text() == "pwned"


@pytest.fixture
def no_unpickling(monkeypatch):
    """Records any call to torch.load or pickle's loaders during the test; the test asserts none."""
    calls = []

    def recorder(name, real):
        def record(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)
        return record

    monkeypatch.setattr(torch, "load", recorder("torch.load", torch.load))
    monkeypatch.setattr(pickle, "load", recorder("pickle.load", pickle.load))
    monkeypatch.setattr(pickle, "loads", recorder("pickle.loads", pickle.loads))
    return calls


@pytest.fixture
def hostile(tmp_path, fresh_cache):
    """Copies a tiny model's folder, lets the test spoil it, registers it; unregisters afterwards."""
    names = []

    def make(task: str, kind: str, source_name: str, spoil) -> str:
        folder = tmp_path / f"hostile-{len(names)}"
        shutil.copytree(registry.resolve(task, source_name).source, folder)
        spoil(folder)
        name = f"tests/hostile-{len(names)}"
        registry.register(ModelSpec(name, task, kind, str(folder)))
        names.append(name)
        return name

    yield make
    for name in names:
        registry.unregister(name)


def _pickles_only(canary: Path):
    """Every .safetensors file becomes the pickle the libraries would fall back to."""
    def spoil(folder: Path):
        for weights in list(folder.rglob("*.safetensors")):
            pickle_name = "pytorch_model.bin" if weights.name == "model.safetensors" else weights.stem + ".bin"
            weights.unlink()
            (weights.parent / pickle_name).write_bytes(_payload(canary))
    return spoil


# --- pickles -------------------------------------------------------------------------------------

@pytest.mark.parametrize("task, kind, fixture", [
    ("text_to_image", "diffusers-pipeline", "tiny_t2i"),
    ("vae_reconstruction", "autoencoder", "tiny_vae"),
    ("vae_reconstruction", "autoencoder", "tiny_taesd"),
    ("gan_interpolation", "gan-generator", "tiny_gan"),
])
def test_a_folder_holding_only_pickles_is_refused_and_never_unpickled(
        request, hostile, fresh_cache, no_unpickling, tmp_path, task, kind, fixture):
    canary = tmp_path / "canary"
    name = hostile(task, kind, request.getfixturevalue(fixture), _pickles_only(canary))
    assert list((tmp_path / "hostile-0").rglob("*.bin")), "the spoiled folder should hold pickles"
    with pytest.raises(UnsafeModelError, match="no .safetensors weights"):
        fresh_cache.load(task, name)
    assert not canary.exists()
    assert no_unpickling == []
    assert fresh_cache.loaded() == {}


def test_a_vgg19_folder_holding_only_a_pickle_is_refused(tmp_path, fresh_cache, no_unpickling):
    canary = tmp_path / "canary"
    folder = tmp_path / "vgg19"
    folder.mkdir()
    (folder / "pytorch_model.bin").write_bytes(_payload(canary))
    registry.register(ModelSpec("tests/hostile-vgg19", "style_transfer", "vgg19", str(folder)))
    try:
        with pytest.raises(UnsafeModelError):
            fresh_cache.load("style_transfer", "tests/hostile-vgg19")
    finally:
        registry.unregister("tests/hostile-vgg19")
    assert not canary.exists() and no_unpickling == []


def test_a_pipeline_with_one_pickled_component_never_unpickles_it(hostile, fresh_cache, no_unpickling, tmp_path,
                                                                  tiny_t2i):
    """The other components have safetensors, so the folder check passes; the pickle still never runs."""
    canary = tmp_path / "canary"

    def spoil(folder: Path):
        (folder / "text_encoder" / "model.safetensors").unlink()
        (folder / "text_encoder" / "pytorch_model.bin").write_bytes(_payload(canary))

    name = hostile("text_to_image", "diffusers-pipeline", tiny_t2i, spoil)
    with pytest.raises((UnsafeModelError, OSError)):
        fresh_cache.load("text_to_image", name)
    assert not canary.exists() and no_unpickling == []


@pytest.mark.parametrize("task, kind, fixture, weights", [
    ("vae_reconstruction", "autoencoder", "tiny_vae", "diffusion_pytorch_model"),
    ("gan_interpolation", "gan-generator", "tiny_gan", "model"),
])
def test_a_decoy_safetensors_elsewhere_does_not_let_a_pickle_load(request, hostile, fresh_cache, no_unpickling,
                                                                  tmp_path, task, kind, fixture, weights):
    """The real weights are a pickle; a harmless .safetensors file sits in a subfolder to pass the check."""
    canary = tmp_path / "canary"

    def spoil(folder: Path):
        (folder / "decoy").mkdir()
        (folder / f"{weights}.safetensors").rename(folder / "decoy" / "decoy.safetensors")
        pickle_name = "pytorch_model.bin" if weights == "model" else f"{weights}.bin"
        (folder / pickle_name).write_bytes(_payload(canary))

    name = hostile(task, kind, request.getfixturevalue(fixture), spoil)
    with pytest.raises((UnsafeModelError, OSError)):
        fresh_cache.load(task, name)
    assert not canary.exists() and no_unpickling == []


def test_a_pickle_named_safetensors_is_rejected_by_the_parser(hostile, fresh_cache, no_unpickling, tmp_path, tiny_gan):
    canary = tmp_path / "canary"
    name = hostile("gan_interpolation", "gan-generator", tiny_gan,
                   lambda folder: (folder / "model.safetensors").write_bytes(_payload(canary)))
    with pytest.raises(Exception, match="(?i)header|safetensor"):
        fresh_cache.load("gan_interpolation", name)
    assert not canary.exists() and no_unpickling == []


# --- remote code ---------------------------------------------------------------------------------

def _edit_json(path: Path, **changes):
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize("task, kind, fixture, config", [
    ("text_to_image", "diffusers-pipeline", "tiny_t2i", "text_encoder/config.json"),
    ("text_to_image", "diffusers-pipeline", "tiny_t2i", "unet/config.json"),
    ("vae_reconstruction", "autoencoder", "tiny_vae", "config.json"),
    ("gan_interpolation", "gan-generator", "tiny_gan", "config.json"),
])
def test_a_config_asking_for_remote_code_is_refused(request, hostile, fresh_cache, task, kind, fixture, config):
    name = hostile(task, kind, request.getfixturevalue(fixture),
                   lambda folder: _edit_json(folder / config, auto_map={"AutoModel": "evil_model.EvilModel"}))
    with pytest.raises(UnsafeModelError, match="remote code"):
        fresh_cache.load(task, name)


def test_a_custom_pipeline_is_refused(hostile, fresh_cache, tiny_t2i):
    name = hostile("text_to_image", "diffusers-pipeline", tiny_t2i,
                   lambda folder: _edit_json(folder / "model_index.json", custom_pipeline="evil_pipeline"))
    with pytest.raises(UnsafeModelError, match="remote code"):
        fresh_cache.load("text_to_image", name)


@pytest.mark.parametrize("component", ["unet", "scheduler", "_class_name"])
def test_a_component_from_an_untrusted_library_is_refused_and_never_imported(hostile, fresh_cache, monkeypatch,
                                                                            tmp_path, tiny_t2i, component):
    """The library is a real module on sys.path whose import writes the canary."""
    canary = tmp_path / "canary"
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "evil_lib.py").write_text(f"from pathlib import Path\nPath({str(canary)!r}).write_text('pwned')\n"
                                         "class EvilUNet: pass\n")
    monkeypatch.syspath_prepend(str(modules))
    monkeypatch.delitem(sys.modules, "evil_lib", raising=False)
    name = hostile("text_to_image", "diffusers-pipeline", tiny_t2i,
                   lambda folder: _edit_json(folder / "model_index.json", **{component: ["evil_lib", "EvilUNet"]}))
    with pytest.raises(UnsafeModelError, match="evil_lib"):
        fresh_cache.load("text_to_image", name)
    assert "evil_lib" not in sys.modules
    assert not canary.exists()


def test_a_pipeline_without_model_index_is_refused(hostile, fresh_cache, tiny_t2i):
    name = hostile("text_to_image", "diffusers-pipeline", tiny_t2i,
                   lambda folder: (folder / "model_index.json").unlink())
    with pytest.raises(UnsafeModelError, match="model_index.json"):
        fresh_cache.load("text_to_image", name)


def test_an_autoencoder_class_outside_the_list_is_refused(hostile, fresh_cache, tiny_vae):
    name = hostile("vae_reconstruction", "autoencoder", tiny_vae,
                   lambda folder: _edit_json(folder / "config.json", _class_name="AsymmetricAutoencoderKL"))
    with pytest.raises(UnsafeModelError, match="AsymmetricAutoencoderKL"):
        fresh_cache.load("vae_reconstruction", name)


def _link_weights_to(target: Path):
    def spoil(folder: Path):
        for weights in folder.rglob("*.safetensors"):
            weights.unlink()
            weights.symlink_to(target)
    return spoil


def test_weights_that_link_outside_the_folder_are_refused_unread(hostile, fresh_cache, tiny_gan, monkeypatch):
    """Issue 30 §13: a `model.safetensors` linking to /etc/passwd inside an allowed root was opened."""
    opened = []
    real_open = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(str(self)) or real_open(self, *a, **k))
    name = hostile("gan_interpolation", "gan-generator", tiny_gan, _link_weights_to(Path("/etc/passwd")))
    with pytest.raises(UnsafeModelError, match="is a link that leads outside the model's folder"):
        fresh_cache.load("gan_interpolation", name)
    assert "/etc/passwd" not in opened


def test_a_link_inside_the_folder_is_fine(hostile, fresh_cache, tiny_gan):
    def spoil(folder: Path):
        weights = next(folder.glob("*.safetensors"))
        weights.rename(folder / "kept.bin.safetensors")
        weights.symlink_to(folder / "kept.bin.safetensors")
    assert fresh_cache.load("gan_interpolation", hostile("gan_interpolation", "gan-generator", tiny_gan, spoil))


def test_a_folder_of_models_is_not_a_model_and_says_so(monkeypatch, tmp_path, fresh_cache, tiny_gan):
    """Issue 30 §13: a root holding model folders passed the check (a subfolder has weights), then failed blank."""
    from genart_playground import settings

    shutil.copytree(registry.resolve("gan_interpolation", tiny_gan).source, tmp_path / "models" / "a-gan")
    monkeypatch.setattr(settings, "ALLOW_ANY_MODEL", True)
    monkeypatch.setattr(settings, "MODEL_ROOTS", [tmp_path.resolve()])
    with pytest.raises(UnsafeModelError, match="is not a model's folder: it has neither config.json nor weights"):
        fresh_cache.load("gan_interpolation", str(tmp_path / "models"))
    assert fresh_cache.load("gan_interpolation", str(tmp_path / "models" / "a-gan")) is not None


def test_the_untouched_copies_load(hostile, fresh_cache, tiny_t2i, tiny_vae, tiny_gan):
    """The hostile fixture itself is sound: unspoiled copies of the same folders load."""
    for task, kind, source in [("text_to_image", "diffusers-pipeline", tiny_t2i), ("vae_reconstruction", "autoencoder", tiny_vae),
                               ("gan_interpolation", "gan-generator", tiny_gan)]:
        assert fresh_cache.load(task, hostile(task, kind, source, lambda folder: None)) is not None
    assert fresh_cache.loads == 3


# --- URLs ----------------------------------------------------------------------------------------

@pytest.fixture
def hub_online(monkeypatch):
    """Offline mode off, so only the checks stand between a bad id and the network (still guarded)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    loading.hub_reachable.cache_clear()
    yield
    loading.hub_reachable.cache_clear()


@pytest.mark.parametrize("source", ["https://evil.example/model", "http://127.0.0.1:9/model", "hf://evil/model",
                                    "evil/../../etc"])
def test_a_registered_url_is_refused_before_any_network_call(hub_online, no_network_attempts, source):
    with pytest.raises(ValueError, match="URL"):
        registry.register(ModelSpec("tests/url-model", "vae_reconstruction", "autoencoder", source))
    assert "tests/url-model" not in {spec.name for spec in registry.models_for("vae_reconstruction")}
    with pytest.raises(ValueError):  # the registry's refusal, or the registry-only rule
        registry.resolve("vae_reconstruction", "tests/url-model")


@pytest.mark.parametrize("source", ["https://evil.example/model", "hf://evil/model"])
def test_a_url_spec_that_skipped_the_registry_still_never_reaches_the_network(hub_online, no_network_attempts, source):
    with pytest.raises(ValueError):
        loading.load(ModelSpec("tests/url-model", "vae_reconstruction", "autoencoder", source))


@pytest.mark.parametrize("name", ["https://huggingface.co/stabilityai/sd-turbo", "http://10.0.0.1/model"])
def test_an_unregistered_url_is_refused_before_any_network_call(hub_online, no_network_attempts, monkeypatch,
                                                                fresh_cache, name):
    from genart_playground import settings

    monkeypatch.setattr(settings, "ALLOW_ANY_MODEL", True)
    with pytest.raises(ValueError, match="looks like a URL"):
        fresh_cache.load("text_to_image", name)
