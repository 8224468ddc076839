"""Shared fixtures: no network, and tiny random models registered like real ones.

Every test runs offline. The Hugging Face cache points at an empty temporary folder, the Hub is
in offline mode, and any socket connection to a non-loopback address raises at once, so a test
that would reach the network fails loudly instead of hanging or passing on a lucky download.
Loopback stays open: the app tests launch Gradio on a local port and drive it with gradio_client.

The tiny models are built the way diffusers' own tests build theirs (a few channels, two blocks,
a seed before each), saved with `save_pretrained` as safetensors and registered under a name, so
they load through exactly the code real models use: `registry.resolve` -> `loading.load` -> cache.
"""

import hashlib
import ipaddress
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

# Before anything imports huggingface_hub, transformers, diffusers or gradio: they read these
# once, at import.
_HF_HOME = Path(tempfile.mkdtemp(prefix="genart-tests-hf-"))
os.environ.update({
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HOME": str(_HF_HOME),
    "HF_HUB_CACHE": str(_HF_HOME / "hub"),
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
})

import huggingface_hub.constants as hf_constants  # noqa: E402
import pytest  # noqa: E402

# A pytest plugin may have imported huggingface_hub before this file: set what it already read.
hf_constants.HF_HUB_OFFLINE = True
hf_constants.HF_HOME = str(_HF_HOME)
hf_constants.HF_HUB_CACHE = str(_HF_HOME / "hub")


# ---------------------------------------------------------------------------------------------
# No network
# ---------------------------------------------------------------------------------------------

_LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
                socket.gethostname().lower()}
_original = {}
network_attempts: list[str] = []  # what was blocked, for the summary and for tests that assert none


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").split("%")[0].lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # 0.0.0.0 and :: are where Gradio binds; connecting to them reaches this machine.
    return address.is_loopback or address.is_unspecified


def _refuse(what: str, host) -> None:
    message = f"network access in tests: {what} to {host!r} is blocked (tests run offline; see tests/conftest.py)"
    network_attempts.append(message)
    raise RuntimeError(message)


def _guarded_connect(self, address, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _refuse("socket.connect", address[0])
    return _original["connect"](self, address, *args)


def _guarded_connect_ex(self, address, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _refuse("socket.connect_ex", address[0])
    return _original["connect_ex"](self, address, *args)


def _guarded_create_connection(address, *args, **kwargs):
    if not _is_local(address[0]):
        _refuse("socket.create_connection", address[0])
    return _original["create_connection"](address, *args, **kwargs)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _refuse("socket.getaddrinfo (DNS)", host)
    return _original["getaddrinfo"](host, *args, **kwargs)


def _guarded_gethostbyname(host):
    if not _is_local(host):
        _refuse("socket.gethostbyname (DNS)", host)
    return _original["gethostbyname"](host)


def pytest_configure(config):
    import torch

    # Tiny models run fastest on one thread; on a shared 2-core machine more threads spin against
    # each other and the Gradio server's thread (measured: 0.05 s vs 0.3-8 s per tiny text_to_image).
    torch.set_num_threads(1)
    _original.update(connect=socket.socket.connect, connect_ex=socket.socket.connect_ex,
                     create_connection=socket.create_connection, getaddrinfo=socket.getaddrinfo,
                     gethostbyname=socket.gethostbyname)
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.create_connection = _guarded_create_connection
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.gethostbyname = _guarded_gethostbyname


def pytest_collection_modifyitems(config, items):
    """Marks from what a test uses, so `-m "not server and not browser"` picks the in-process ones. `slow`
    (training, benches, the shipped models) is marked where the test is written, and `shipped_model_guard`
    below fails a quick test that loads a shipped model without it."""
    for item in items:
        module = item.module.__name__.rpartition(".")[2]
        if module == "test_browser":
            item.add_marker(pytest.mark.browser)
        serves = {"served_app", "api_client"} & set(getattr(item, "fixturenames", ()))
        if serves or module in {"test_soak", "test_public"}:  # these two start servers of their own
            item.add_marker(pytest.mark.server)


QUICK_EXCLUDES = ("slow", "server", "browser")


@pytest.fixture(autouse=True)
def shipped_model_guard(request, monkeypatch):
    """A quick test (none of the marks above) that asks the model cache for a shipped model's weights fails:
    it belongs under `slow`, and the quick selection stays quick. Every request from the test's own thread
    counts, loaded or already cached, so what is caught does not depend on the order tests run in (a served
    app's worker threads, busy with some earlier test's request, are not this test's). Weightless built-ins
    (the random filter bank) are free."""
    if any(request.node.get_closest_marker(mark) for mark in QUICK_EXCLUDES):
        yield
        return
    from genart_playground.models import registry
    from genart_playground.models.cache import ModelCache

    asked, load, own = [], ModelCache.load, threading.get_ident()

    def watched(self, task, name=None, **options):
        if threading.get_ident() != own:
            return load(self, task, name, **options)
        try:
            spec = registry.resolve(task, name)
        except ValueError:
            spec = None
        if spec is not None and spec.is_builtin and registry.kinds()[spec.kind].config_file is not None:
            asked.append(spec.name)
        return load(self, task, name, **options)

    monkeypatch.setattr(ModelCache, "load", watched)
    yield
    assert not asked, f"this test runs shipped model(s) {sorted(set(asked))}: mark it @pytest.mark.slow"


def pytest_unconfigure(config):
    if _original:
        socket.socket.connect = _original["connect"]
        socket.socket.connect_ex = _original["connect_ex"]
        socket.create_connection = _original["create_connection"]
        socket.getaddrinfo = _original["getaddrinfo"]
        socket.gethostbyname = _original["gethostbyname"]
    shutil.rmtree(_HF_HOME, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    # Blocked attempts that some library caught and swallowed would otherwise go unseen.
    if network_attempts:
        terminalreporter.section("blocked network access", sep="!", red=True, bold=True)
        for message in dict.fromkeys(network_attempts):
            terminalreporter.line(message)


@pytest.fixture
def expect_network_blocked():
    """For tests that try the network on purpose: yields the list of blocked attempts made during
    the test, and forgets them afterwards so the session summary shows only unexpected ones."""
    before = len(network_attempts)
    attempts = []
    yield attempts
    attempts.extend(network_attempts[before:])
    del network_attempts[before:]


@pytest.fixture
def no_network_attempts():
    """Fails the test if anything tried to reach the network during it, even if it was caught."""
    before = len(network_attempts)
    yield
    assert network_attempts[before:] == [], f"network access attempted: {network_attempts[before:]}"


# ---------------------------------------------------------------------------------------------
# Tiny models
# ---------------------------------------------------------------------------------------------

from genart_playground.testing import (build_tiny_flux, build_tiny_sd3, build_tiny_taesd,  # noqa: E402
                                       build_tiny_token_model)

TINY_T2I_DEFAULTS = {"steps": 2, "guidance": 3.0, "width": 32, "height": 32, "scheduler": None}
HUB_COMMIT = hashlib.sha1(b"tiny-org/tiny-sd").hexdigest()  # any 40-hex string names a snapshot


@pytest.fixture(scope="session")
def hf_cache() -> Path:
    """The Hugging Face hub cache every test reads: a temporary folder, empty but for tiny_hub_t2i."""
    return Path(hf_constants.HF_HUB_CACHE)


def _register(spec):
    from genart_playground.models import registry

    return registry.register(spec).name


def _unregister(name: str) -> None:
    from genart_playground.models import registry
    from genart_playground.models.cache import cache

    cache.evict(name)
    registry.unregister(name)


def populate_hub_cache(cache_dir: Path, repo_id: str, source: Path, commit: str = HUB_COMMIT) -> Path:
    """Lay `source` out as huggingface_hub does: blobs named by hash, a snapshot of links, refs/main."""
    repo = cache_dir / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        blob = repo / "blobs" / hashlib.sha256(file.read_bytes()).hexdigest()
        shutil.copyfile(file, blob)
        link = snapshot / file.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


def _tiny(family_id: str, folder: Path):
    """The family's own tiny model (its `tiny` factory), registered for the session."""
    from genart_playground import families

    name = _register(families.by_id(family_id).make_tiny(folder))
    yield name
    _unregister(name)


@pytest.fixture(scope="session")
def tiny_t2i(tmp_path_factory) -> str:
    yield from _tiny("text_to_image", tmp_path_factory.mktemp("models") / "tiny-t2i")


@pytest.fixture(scope="session")
def tiny_t2i_folder(tiny_t2i) -> Path:
    from genart_playground.models import registry

    return Path(registry.resolve("text_to_image", tiny_t2i).source)


@pytest.fixture(scope="session")
def tiny_dit(tmp_path_factory) -> str:
    """A tiny SD3 pipeline: a diffusion transformer (`pipe.transformer`) sampled with rectified flow."""
    from genart_playground.models.registry import ModelSpec

    folder = build_tiny_sd3(tmp_path_factory.mktemp("models") / "tiny-dit")
    name = _register(ModelSpec("tests/tiny-dit", "text_to_image", "diffusers-pipeline", str(folder),
                               defaults=dict(TINY_T2I_DEFAULTS), description="Tiny random SD3 pipeline (tests)."))
    yield name
    _unregister(name)


@pytest.fixture(scope="session")
def tiny_vqgpt(tmp_path_factory) -> str:
    """A tiny token model: a VQModel over an 8×8 grid and a one-layer GPT-2 (kind token-transformer)."""
    from genart_playground.models.registry import ModelSpec

    folder = build_tiny_token_model(tmp_path_factory.mktemp("models") / "tiny-vqgpt")
    name = _register(ModelSpec("tests/tiny-vqgpt", "text_to_image", "token-transformer", str(folder),
                               defaults={"width": 64, "height": 64, "temperature": 1.0, "top_k": 8, "guidance": 2.0},
                               description="Tiny random token model (tests)."))
    yield name
    _unregister(name)


@pytest.fixture(scope="session")
def tiny_flux(tmp_path_factory) -> str:
    """A tiny FluxPipeline (FLUX.1-schnell's layout: CLIP + T5, packed latents, no guidance)."""
    from genart_playground.models.registry import ModelSpec

    folder = build_tiny_flux(tmp_path_factory.mktemp("models") / "tiny-flux")
    name = _register(ModelSpec("tests/tiny-flux", "text_to_image", "diffusers-pipeline", str(folder),
                               defaults={**TINY_T2I_DEFAULTS, "guidance": 0.0,
                                         "pipeline_options": {"max_sequence_length": 16}},
                               description="Tiny random FLUX pipeline (tests)."))
    yield name
    _unregister(name)


@pytest.fixture(scope="session")
def tiny_hub_t2i(tiny_t2i_folder, hf_cache) -> str:
    """The tiny pipeline as the Hub id tiny-org/tiny-sd, resolved offline from the local HF cache."""
    from genart_playground.models.registry import ModelSpec

    repo_id = "tiny-org/tiny-sd"
    populate_hub_cache(hf_cache, repo_id, tiny_t2i_folder)
    name = _register(ModelSpec(repo_id, "text_to_image", "diffusers-pipeline", repo_id,
                               defaults=dict(TINY_T2I_DEFAULTS), description="Tiny random SD pipeline, as a Hub id."))
    yield name
    _unregister(name)
    shutil.rmtree(hf_cache / f"models--{repo_id.replace('/', '--')}", ignore_errors=True)


def _registered(name: str, task: str, kind: str, folder: Path, description: str):
    """Register a tiny model folder for the session; unregister (and evict) it afterwards."""
    from genart_playground.models.registry import ModelSpec

    registered = _register(ModelSpec(name, task, kind, str(folder), description=description))
    yield registered
    _unregister(registered)


@pytest.fixture(scope="session")
def tiny_vae(tmp_path_factory) -> str:
    yield from _tiny("vae_reconstruction", tmp_path_factory.mktemp("models") / "tiny-vae")


@pytest.fixture(scope="session")
def tiny_taesd(tmp_path_factory) -> str:
    folder = build_tiny_taesd(tmp_path_factory.mktemp("models") / "tiny-taesd")
    yield from _registered("tests/tiny-taesd", "vae_reconstruction", "autoencoder", folder,
                           "Tiny random AutoencoderTiny (tests).")


@pytest.fixture(scope="session")
def tiny_gan(tmp_path_factory) -> str:
    yield from _tiny("gan_interpolation", tmp_path_factory.mktemp("models") / "tiny-gan")


@pytest.fixture(scope="session")
def tiny_stylegan(tmp_path_factory) -> str:
    from genart_playground.testing import build_tiny_stylegan

    folder = build_tiny_stylegan(tmp_path_factory.mktemp("models") / "tiny-stylegan")
    yield from _registered("tests/tiny-stylegan", "gan_interpolation", "stylegan-generator", folder,
                           "Tiny random StyleGAN generator, 64×64 (tests).")


@pytest.fixture
def fresh_cache():
    """The process-wide model cache, emptied before and after the test, with its load count at 0."""
    from genart_playground.models.cache import cache

    def empty():
        if cache.loaded():  # clear() runs a full gc.collect (about 0.5 s here): skip it when empty
            cache.clear()
        cache.loads = 0

    empty()
    yield cache
    empty()


# ---------------------------------------------------------------------------------------------
# The app, served once per session
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def served_app(tiny_t2i, tiny_vae, tiny_gan):
    """The app as `python app.py` serves it (its launch options included), on a free loopback port."""
    from served import serve_app

    demo = serve_app()
    yield demo
    demo.close()


@pytest.fixture
def still_serves(served_app, tiny_t2i):
    """After a hostile request: a normal one to `served_app` is answered."""
    from raw_http import call, t2i_body

    yield
    status, final = call(served_app, "text_to_image", json.dumps(t2i_body(tiny_t2i, seed=5)))
    assert status == 200 and final["event"] == "complete", final


@pytest.fixture(scope="session")
def api_client(served_app, tmp_path_factory):
    """A gradio_client for `served_app`; downloaded outputs go to a temporary folder."""
    from gradio_client import Client

    return Client(served_app.local_url, verbose=False, analytics_enabled=False,
                  download_files=str(tmp_path_factory.mktemp("downloads")))
