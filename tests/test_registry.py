"""The registry says which models exist; only those load, and offline a missing one fails at once."""

import importlib.util
import os
import socket
import time

import pytest

from genart_playground import families, settings
from genart_playground.models import loading, registry
from genart_playground.models.loading import ModelUnavailableError
from genart_playground.models.registry import ModelSpec


@pytest.fixture
def strict(monkeypatch):
    """The registry-only setting, whatever the environment running the tests says."""
    monkeypatch.setattr(settings, "ALLOW_ANY_MODEL", False)
    monkeypatch.setattr(settings, "MODEL_ROOTS", [])


@pytest.fixture
def allow_any(monkeypatch):
    monkeypatch.setattr(settings, "ALLOW_ANY_MODEL", True)
    monkeypatch.setattr(settings, "MODEL_ROOTS", [])


# --- defaults ----------------------------------------------------------------------------------

FAMILY_IDS = [family.id for family in families.FAMILIES if family.default_model]  # the lab loads no models


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_none_and_empty_resolve_to_the_configured_default(family):
    assert registry.resolve(family, None).name == registry.DEFAULT_MODELS[family]
    assert registry.resolve(family).name == registry.DEFAULT_MODELS[family]
    assert registry.resolve(family, "").name == registry.DEFAULT_MODELS[family]


def test_default_follows_the_setting(monkeypatch, tiny_t2i):
    monkeypatch.setitem(registry.DEFAULT_MODELS, "text_to_image", tiny_t2i)
    assert registry.resolve("text_to_image").name == tiny_t2i


def test_the_older_category_names_still_resolve():
    # "text-to-image", "vae", "gan", "style" named the categories before families had ids.
    for old, family in {"text-to-image": "text_to_image", "vae": "vae_reconstruction", "gan": "gan_interpolation",
                        "style": "style_transfer"}.items():
        assert registry.resolve(old).family == family
        assert ModelSpec("x/y", old, "autoencoder", "x/y").family == family


def _fresh_settings(monkeypatch, **env):
    """settings.py executed again under `env`, as a separate module (the real one is untouched)."""
    for key in [k for k in os.environ if k.startswith("GENART_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("_settings_under_test", settings.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _defaults(fresh) -> dict:
    return {family.id: fresh.default_model(family.default_env, family.default_model) for family in families.FAMILIES
            if family.default_model}  # the training lab builds its networks in the request: no stored model


def test_without_environment_the_defaults_are_builtins(monkeypatch):
    fresh = _fresh_settings(monkeypatch)
    # Each family's declared default (a family added later brings its own); these six were the first.
    assert _defaults(fresh) == {family.id: family.default_model for family in families.FAMILIES if family.default_model}
    assert _defaults(fresh).items() >= {"text_to_image": "builtin/shapes-t2i", "vae_reconstruction": "builtin/photo-vae",
                                        "gan_interpolation": "builtin/shapes-gan",
                                        "style_transfer": "builtin/random-filters",
                                        "translate_image": "builtin/shapes-pix2pix",
                                        "evaluate": "builtin/shapes-features"}.items()
    assert fresh.ALLOW_ANY_MODEL is False
    for family, name in _defaults(fresh).items():
        spec = registry.resolve(family, name)
        assert spec.is_builtin and spec.family == family


def test_environment_variables_set_the_defaults(monkeypatch):
    fresh = _fresh_settings(monkeypatch, GENART_T2I_MODEL="stabilityai/sd-turbo", GENART_VAE_MODEL="madebyollin/taesd",
                            GENART_ALLOW_ANY_MODEL="1", GENART_MEMORY_BUDGET_MB="512")
    assert _defaults(fresh)["text_to_image"] == "stabilityai/sd-turbo"
    assert _defaults(fresh)["vae_reconstruction"] == "madebyollin/taesd"
    assert _defaults(fresh)["gan_interpolation"] == "builtin/shapes-gan"
    assert fresh.ALLOW_ANY_MODEL is True
    assert fresh.MEMORY_BUDGET_BYTES == 512 * 2**20


# --- what is refused ---------------------------------------------------------------------------

def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="Unknown family 'video'"):
        registry.resolve("video", None)


@pytest.mark.parametrize("task, name", [("vae_reconstruction", "stabilityai/sd-turbo"), ("text_to_image", "madebyollin/taesd"),
                                        ("gan_interpolation", "timm/vgg19.tv_in1k"), ("style_transfer", "builtin/shapes-gan")])
def test_a_model_of_another_task_is_refused(strict, task, name):
    with pytest.raises(ValueError, match=r"is a \w+ model, not a \w+ model"):
        registry.resolve(task, name)


@pytest.mark.parametrize("name", [
    "https://huggingface.co/stabilityai/sd-turbo", "http://127.0.0.1:8000/model", "hf://stabilityai/sd-turbo",
    "www.example.com/model", "s3://bucket/model"])
def test_a_url_is_refused_even_when_any_model_is_allowed(allow_any, no_network_attempts, name):
    with pytest.raises(ValueError, match="looks like a URL"):
        registry.resolve("text_to_image", name)


def test_an_unregistered_hub_id_is_refused(strict):
    with pytest.raises(ValueError, match="not in the registry.*GENART_ALLOW_ANY_MODEL=1"):
        registry.resolve("text_to_image", "someone/some-model")


def test_an_unregistered_hub_id_is_allowed_when_any_model_is(allow_any):
    spec = registry.resolve("text_to_image", "someone/some-model")
    assert (spec.name, spec.source, spec.kind, spec.is_local) == (
        "someone/some-model", "someone/some-model", "diffusers-pipeline", False)


@pytest.mark.parametrize("name", ["someone", "a/b/c", "owner/../name", "-x/y", "owner/na me"])
def test_a_malformed_hub_id_is_refused(allow_any, name):
    with pytest.raises(ValueError):
        registry.resolve("vae_reconstruction", name)


def test_a_folder_outside_the_model_roots_is_refused(allow_any, monkeypatch, tmp_path):
    root, outside = tmp_path / "models", tmp_path / "elsewhere"
    (root / "mine").mkdir(parents=True)
    outside.mkdir()
    monkeypatch.setattr(settings, "MODEL_ROOTS", [root.resolve()])
    assert registry.resolve("vae_reconstruction", str(root / "mine")).source == str((root / "mine").resolve())
    for name in [str(outside), str(root / ".." / "elsewhere"), "/etc", "."]:
        with pytest.raises(ValueError, match="outside the allowed roots"):
            registry.resolve("vae_reconstruction", name)


def test_a_link_inside_a_root_that_points_outside_is_refused(allow_any, monkeypatch, tmp_path):
    root, outside = tmp_path / "models", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    monkeypatch.setattr(settings, "MODEL_ROOTS", [root.resolve()])
    with pytest.raises(ValueError, match="outside the allowed roots"):
        registry.resolve("vae_reconstruction", str(root / "link"))


def test_a_folder_is_refused_when_only_registered_models_may_load(strict, tmp_path):
    with pytest.raises(ValueError, match="not in the registry"):
        registry.resolve("vae_reconstruction", str(tmp_path))


@pytest.mark.parametrize("name", [42, ["stabilityai/sd-turbo"], b"stabilityai/sd-turbo"])
def test_a_model_that_is_not_a_string_is_refused(name):
    with pytest.raises(ValueError, match="must be a model name"):
        registry.resolve("text_to_image", name)


def test_register_refuses_unknown_tasks_and_kinds():
    with pytest.raises(ValueError, match="Unknown family"):
        registry.register(ModelSpec("x/y", "audio", "autoencoder", "x/y"))
    with pytest.raises(ValueError, match="Unknown kind"):
        registry.register(ModelSpec("x/y", "vae_reconstruction", "pickle", "x/y"))


def test_register_keeps_a_familys_own_models(tmp_path):
    shipped = registry.resolve("gan_interpolation", "builtin/shapes-gan")
    with pytest.raises(ValueError, match="the gan_interpolation family declares"):
        registry.register(ModelSpec("builtin/shapes-gan", "gan_interpolation", "gan-generator", str(tmp_path)))
    assert registry.resolve("gan_interpolation", "builtin/shapes-gan") == shipped
    assert registry.register(shipped) == shipped  # the same declaration again changes nothing


# --- the list per task -------------------------------------------------------------------------

def test_each_task_lists_its_required_models():
    names = {task: {spec.name for spec in registry.models_for(task)} for task in FAMILY_IDS}
    assert {"stabilityai/sd-turbo", "stabilityai/sdxl-turbo", "builtin/shapes-t2i"} <= names["text_to_image"]
    assert {"madebyollin/taesd", "stabilityai/sd-vae-ft-mse", "builtin/shapes-vae"} <= names["vae_reconstruction"]
    assert {"builtin/shapes-gan"} <= names["gan_interpolation"]
    assert {"timm/vgg19.tv_in1k", "builtin/random-filters"} <= names["style_transfer"]
    for family, specs in ((f, registry.models_for(f)) for f in FAMILY_IDS):
        assert all(spec.family == family for spec in specs)


@pytest.mark.parametrize("name", ["stabilityai/sd-turbo", "stabilityai/sdxl-turbo"])
def test_few_step_models_carry_their_own_settings(name):
    defaults = registry.resolve("text_to_image", name).defaults
    assert 1 <= defaults["steps"] <= 4
    assert defaults["guidance"] == 0.0
    assert defaults["timestep_spacing"] == "trailing"


def test_registered_tiny_models_are_listed(tiny_t2i, tiny_hub_t2i, tiny_vae, tiny_taesd, tiny_gan):
    assert {tiny_t2i, tiny_hub_t2i} <= {spec.name for spec in registry.models_for("text_to_image")}
    assert {tiny_vae, tiny_taesd} <= {spec.name for spec in registry.models_for("vae_reconstruction")}
    assert tiny_gan in {spec.name for spec in registry.models_for("gan_interpolation")}


# --- where the weights are, offline --------------------------------------------------------------

def test_availability_offline(tiny_t2i, tiny_hub_t2i, no_network_attempts):
    assert loading.availability(registry.resolve("text_to_image", tiny_hub_t2i)) == "cached"
    assert loading.availability(registry.resolve("text_to_image", tiny_t2i)) == "local"
    assert loading.availability(registry.resolve("text_to_image", "stabilityai/sd-turbo")) == "missing"
    assert loading.availability(registry.resolve("vae_reconstruction", "madebyollin/taesd")) == "missing"
    assert loading.availability(registry.resolve("style_transfer", "builtin/random-filters")) == "built-in"


def test_a_hub_id_resolves_offline_from_the_local_cache(tiny_hub_t2i, hf_cache, no_network_attempts):
    folder = loading.local_folder(registry.resolve("text_to_image", tiny_hub_t2i))
    assert folder.is_relative_to(hf_cache)
    assert (folder / "model_index.json").is_file()
    assert (folder / "unet" / "diffusion_pytorch_model.safetensors").is_file()


def test_the_same_pipeline_loads_as_a_folder_and_as_a_hub_id(fresh_cache, tiny_t2i, tiny_hub_t2i):
    import torch

    local = fresh_cache.load("text_to_image", tiny_t2i)
    hub = fresh_cache.load("text_to_image", tiny_hub_t2i)
    assert local is not hub and fresh_cache.loads == 2
    assert type(local).__name__ == type(hub).__name__ == "StableDiffusionPipeline"
    for (key, a), b in zip(local.unet.state_dict().items(), hub.unet.state_dict().values()):
        assert torch.equal(a, b), key


@pytest.mark.parametrize("task, name", [("text_to_image", "stabilityai/sd-turbo"), ("vae_reconstruction", "madebyollin/taesd"),
                                        ("vae_reconstruction", "stabilityai/sd-vae-ft-mse"), ("style_transfer", "timm/vgg19.tv_in1k")])
def test_an_uncached_hub_model_fails_at_once_offline(fresh_cache, no_network_attempts, task, name):
    with pytest.raises(ModelUnavailableError) as error:
        fresh_cache.load(task, name)
    message = str(error.value)
    assert name in message
    assert f"hf download {name}" in message
    assert fresh_cache.loads == 0


def test_an_unreachable_hub_without_offline_mode_also_fails_at_once(fresh_cache, monkeypatch):
    """No HF_HUB_OFFLINE, but the connection is refused: one quick check, then the same clear error."""
    from huggingface_hub import constants

    def refused(*args, **kwargs):
        raise ConnectionRefusedError("no route to the Hub (simulated)")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(socket, "create_connection", refused)
    loading.hub_reachable.cache_clear()
    try:
        with pytest.raises(ModelUnavailableError, match=r"hf download stabilityai/sdxl-turbo"):
            fresh_cache.load("text_to_image", "stabilityai/sdxl-turbo")
        assert fresh_cache.loads == 0
    finally:
        loading.hub_reachable.cache_clear()


def test_a_missing_local_folder_is_unavailable_not_a_crash(tmp_path, fresh_cache):
    spec = registry.register(ModelSpec("tests/gone", "vae_reconstruction", "autoencoder", str(tmp_path / "gone")))
    try:
        assert loading.availability(spec) == "missing"
        with pytest.raises(ModelUnavailableError, match="tests/gone"):
            fresh_cache.load("vae_reconstruction", "tests/gone")
    finally:
        registry.unregister("tests/gone")


# --- the test session's own guard -----------------------------------------------------------------

def test_the_network_is_blocked_loudly_but_loopback_works(expect_network_blocked):
    import http.server
    import threading
    import urllib.request

    with pytest.raises(RuntimeError, match="network access in tests"):
        socket.create_connection(("1.1.1.1", 443), timeout=1)
    with pytest.raises(RuntimeError, match="network access in tests"):
        socket.getaddrinfo("huggingface.co", 443)
    with pytest.raises(RuntimeError, match="network access in tests"):
        urllib.request.urlopen("https://huggingface.co/api/models/stabilityai/sd-turbo", timeout=1)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with raw, pytest.raises(RuntimeError, match="network access in tests"):
        raw.connect(("93.184.216.34", 80))

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://localhost:{server.server_port}/", timeout=5) as response:
            assert response.status == 200
    finally:
        server.server_close()


def test_the_hub_is_offline_and_its_cache_is_the_tests_own(hf_cache):
    from huggingface_hub import constants

    assert constants.is_offline_mode()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert not (hf_cache / "models--stabilityai--sd-turbo").exists()
