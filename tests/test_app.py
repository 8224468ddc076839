"""The app, launched on a free local port and driven through gradio_client for every api_name."""

import asyncio
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genart_playground import families
from runs import RUN

# Every function of every family is an endpoint of the same name (the teaching views too).
API_NAMES = {name for family in families.FAMILIES if family.tab for name in family.api if name not in family.python_only}


@pytest.fixture(scope="module")
def app(served_app):
    return served_app  # one server for every app-level test file (tests/conftest.py)


@pytest.fixture(scope="module")
def client(api_client):
    return api_client


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    paths = {}
    for name, (width, height) in {"content": (32, 32), "style": (32, 32), "odd": (40, 24), "tiny": (4, 4)}.items():
        paths[name] = str(folder / f"{name}.png")
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(paths[name])
    return paths


def run(client, *args, api_name):
    """Submit a job; return its outputs and every progress unit the server sent while it ran."""
    job = client.submit(*args, api_name=api_name)
    outputs = job.result(timeout=60)

    async def updates():
        return [update async for update in job]

    progress = [unit for update in asyncio.run(updates()) for unit in (getattr(update, "progress_data", None) or [])]
    return outputs, progress


def assert_progress(units) -> None:
    # Gradio sends the latest progress of a running job a few times a second, so a fast job's
    # intermediate steps may be skipped; that some arrived, well-formed, is what the client can rely on.
    assert units, "no progress updates reached the client"
    assert all(0.0 <= unit.progress <= 1.0 and unit.desc for unit in units), units


def size_of(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def assert_png(path) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG", f"{path} is {image.format}, not PNG"


def test_every_tab_is_an_api_endpoint(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert API_NAMES <= {name.lstrip("/") for name in endpoints}


def test_text_to_image(client, tiny_t2i, no_network_attempts):
    (gallery, metadata), progress = run(client, "a red circle", "", tiny_t2i, "model default", 2, None, None,
                                        None, None, 5, api_name="/text_to_image")
    assert len(gallery) == 2
    for item in gallery:
        assert size_of(item["image"]) == (32, 32)  # the tiny model's default size
        assert_png(item["image"])
    assert metadata["model"] == tiny_t2i and metadata["seed"] == 5 and metadata["steps"] == 2
    assert_progress(progress)


def test_style_transfer_gatys(client, pictures, no_network_attempts):
    from gradio_client import handle_file

    (image, losses, intermediates, metadata), progress = run(
        client, handle_file(pictures["content"]), handle_file(pictures["style"]), "", "gatys",
        "builtin/random-filters", 3, 32, 0.6, 0, False, api_name="/style_transfer")
    assert size_of(image) == (32, 32)
    assert_png(image)
    assert metadata["model"] == "builtin/random-filters"
    assert losses is not None  # the loss curves of the optimisation
    assert_progress(progress)


def test_style_transfer_img2img(client, tiny_t2i, pictures, no_network_attempts):
    from gradio_client import handle_file

    (image, losses, intermediates, metadata), progress = run(
        client, handle_file(pictures["content"]), None, "a red circle", "img2img", tiny_t2i, 2, 32, 0.6, 0, False,
        api_name="/style_transfer")
    assert size_of(image) == (32, 32)
    assert_png(image)
    assert metadata["method"] == "img2img" and metadata["model"] == tiny_t2i
    assert_progress(progress)


def test_gan_interpolation(client, tiny_gan, no_network_attempts):
    (frames, gif, metadata), progress = run(client, 3, 4, tiny_gan, 5, "slerp", 1.0, api_name="/gan_interpolation")
    assert len(frames) == 5
    assert all(size_of(frame["image"]) == (64, 64) for frame in frames)
    with Image.open(gif) as animation:
        assert animation.format == "GIF" and animation.n_frames == 5
    assert metadata["seed_a"] == 3 and metadata["seed_b"] == 4
    assert_progress(progress)
    assert all(frame["caption"] is None for frame in frames)  # an unconditional generator names no classes


def test_gan_frames_are_captioned_with_their_classes(client, no_network_attempts):
    import genart_playground as gp

    frames, _, _ = client.predict(3, 4, "builtin/shapes-gan", 4, "slerp", 1.0, api_name="/gan_interpolation")
    expected = gp.gan_interpolation(3, 4, model="builtin/shapes-gan", frames=4).labels
    assert [frame["caption"] for frame in frames] == expected
    assert expected[0].endswith(("white", "black", "gray"))


def test_vae_reconstruction(client, tiny_vae, pictures, no_network_attempts):
    from gradio_client import handle_file

    (recon, error_map, latents, metrics, metadata), progress = run(
        client, handle_file(pictures["odd"]), tiny_vae, api_name="/vae_reconstruction")
    assert size_of(recon) == (40, 24)  # padded for the autoencoder, cropped back
    assert size_of(error_map) == (40, 24)
    assert_png(recon)
    assert size_of(latents)[0] > 0
    assert set(metrics) == {"psnr", "ssim", "compression_ratio"}
    assert metrics["compression_ratio"] == pytest.approx(3 * 16 / 4)  # 4× down each side, 4 latent channels
    assert_progress(progress)


class FakeProgress:
    """Stands in for gr.Progress: records what the tab's handler reports."""

    def __init__(self):
        self.calls = []

    def __call__(self, fraction, desc=None, **kwargs):
        self.calls.append((fraction, desc))


def test_adapter_progress_reaches_the_progress_bar(tiny_t2i, tiny_vae, pictures):
    from genart_playground.ui import tab_text_to_image, tab_vae_reconstruction

    progress = FakeProgress()
    tab_text_to_image.generate(RUN["text_to_image"], "a red circle", "", tiny_t2i, "model default", 1, 3, None, 0, 0, 0,
                               progress=progress)
    assert [desc for _, desc in progress.calls][-3:] == [f"Denoising step {i}/3" for i in (1, 2, 3)]
    progress = FakeProgress()
    tab_vae_reconstruction.reconstruct(RUN["vae_reconstruction"], Image.open(pictures["odd"]), tiny_vae, progress=progress)
    fractions = [fraction for fraction, _ in progress.calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 3


def test_bad_input_reaches_the_client_as_its_message(client, tiny_t2i, tiny_vae, pictures):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="multiple of 8"):
        client.predict("a red circle", "", tiny_t2i, "model default", 1, None, None, 36, None, 0,
                       api_name="/text_to_image")
    with pytest.raises(AppError, match="at least 8×8"):
        client.predict(handle_file(pictures["tiny"]), tiny_vae, api_name="/vae_reconstruction")


def test_missing_model_reaches_the_client_as_its_message(client, tmp_path):
    from gradio_client.exceptions import AppError

    from genart_playground.models import registry

    spec = registry.register(registry.ModelSpec("tests/missing-gan", "gan_interpolation", "gan-generator",
                                                str(tmp_path / "not-there")))
    try:
        with pytest.raises(AppError, match="does not exist"):
            client.predict(0, 1, spec.name, 4, "slerp", 1.0, api_name="/gan_interpolation")
    finally:
        registry.unregister(spec.name)


def test_model_dropdown_marks_what_can_run(tiny_gan, tmp_path):
    from genart_playground.models import registry
    from genart_playground.ui import model_menu

    spec = registry.register(registry.ModelSpec("tests/absent-gan", "gan_interpolation", "gan-generator",
                                                str(tmp_path / "not-there")))
    try:
        labels = dict((name, label) for label, name in model_menu.model_choices("gan_interpolation"))
    finally:
        registry.unregister(spec.name)
    assert "✓" in labels[tiny_gan] and "✗" in labels["tests/absent-gan"]
    assert model_menu.model_name(labels[tiny_gan]) == tiny_gan


def test_building_the_app_imports_no_model_code():
    """The page is served before any model code loads: importing every UI module and building the whole
    app (every tab) imports neither torch nor diffusers nor transformers, directly or through what a tab
    imports. Tabs reach model code only through the functions they are given, at request time. Run in a
    fresh interpreter: this test session has imported torch long ago."""
    probe = ("import sys, pkgutil, importlib, genart_playground.ui as ui\n"
             "for module in pkgutil.iter_modules(ui.__path__): importlib.import_module(f'genart_playground.ui.{module.name}')\n"
             "from genart_playground.ui import app\n"
             "app.build_demo()\n"
             "print(sorted(name for name in ('torch', 'diffusers', 'transformers', 'accelerate') if name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_example_inputs_ship_with_the_repo():
    from genart_playground.ui import example_sets, tab_style_transfer, tab_vae_reconstruction

    names = set(tab_vae_reconstruction.EXAMPLES)
    names |= {name for row in tab_style_transfer.EXAMPLES for name in row[:2] if name}
    for name in names:
        with Image.open(example_sets.example_image(name)) as image:
            assert image.format in ("PNG", "JPEG") and image.size[0] >= 32  # a photo (grace_hopper) is a JPEG


def test_zero_gpu_wraps_with_a_duration_from_the_request(monkeypatch):
    import sys
    import types

    from genart_playground.ui import tab_text_to_image, zero_gpu

    def handler(*args):
        return "ran"

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert zero_gpu.gpu(tab_text_to_image.seconds_needed)(handler) is handler  # elsewhere: unchanged

    asked = []
    fake = types.ModuleType("spaces")
    fake.GPU = lambda duration: (lambda fn: (lambda *args: (asked.append(duration(*args)), fn(*args))[1]))
    monkeypatch.setitem(sys.modules, "spaces", fake)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    wrapped = zero_gpu.gpu(tab_text_to_image.seconds_needed)(handler)
    args = ("a red circle", "", None, "model default")
    assert wrapped(*args, 1, 4, None, 512, 512, 0) == "ran"
    assert wrapped(*args, 4, 50, None, 1024, 1024, 0) == "ran"
    assert 10 <= asked[0] < asked[1] <= 300  # more steps, images and pixels ask for more time, within bounds
