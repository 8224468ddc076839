"""The app's file routes serve Gradio's cache (uploads, outputs, example inputs) and nothing else."""

import os
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "genart_playground"

SECRETS = {
    "/etc/passwd": "/etc/passwd",
    "../ to /etc/passwd": "../../../../../../etc/passwd",
    "../ from the cache": "/tmp/gradio/../../etc/passwd",
    "encoded ../": quote("../../../../etc/passwd", safe=""),
    "app.py": "app.py",
    "app.py, absolute": str(ROOT / "app.py"),
    ".env": ".env",
    ".env, absolute": str(ROOT / ".env"),
    "the Hugging Face token": os.path.expanduser("~/.cache/huggingface/token"),
    "the Hugging Face token (HF_HOME)": str(Path(os.environ["HF_HOME"]) / "token"),
    "the built-in models": str(PACKAGE / "builtin"),
    "a built-in model's config": str(PACKAGE / "builtin" / "shapes-gan" / "config.json"),
    "the settings module": str(PACKAGE / "settings.py"),
    "an example input, from disk": str(ROOT / "examples" / "images" / "shapes.png"),
}


def get(app, route: str):
    import httpx

    return httpx.get(app.local_url.rstrip("/") + route, timeout=10, follow_redirects=False)


def test_launch_options_allow_nothing_beyond_gradios_cache():
    from genart_playground import limits
    from genart_playground.ui.app import launch_options

    options = launch_options()
    assert options["allowed_paths"] == []
    assert options["max_file_size"] == limits.MAX_UPLOAD_BYTES
    assert str(PACKAGE) in options["blocked_paths"]


@pytest.mark.parametrize("name", list(SECRETS))
@pytest.mark.parametrize("prefix", ["/gradio_api/file=", "/file="])
def test_files_outside_the_cache_are_not_served(served_app, prefix, name):
    response = get(served_app, prefix + SECRETS[name])
    assert response.status_code in (403, 404), (name, response.status_code, response.text[:200])
    assert "root:" not in response.text


def test_generated_outputs_are_served(served_app, tiny_gan):
    import httpx
    from gradio_client import Client

    # download_files=False: the client returns the server's FileData (path and URL) instead of fetching.
    client = Client(served_app.local_url, verbose=False, analytics_enabled=False, download_files=False)
    frames, gif, metadata = client.predict(0, 1, tiny_gan, 3, "slerp", 1.0, api_name="/gan_interpolation")
    assert gif["url"] and len(frames) == 3
    response = httpx.get(gif["url"], timeout=10)
    assert response.status_code == 200 and response.content[:6] in (b"GIF87a", b"GIF89a")
    for frame in frames:
        response = httpx.get(frame["image"]["url"], timeout=10)
        assert response.status_code == 200 and response.content[:4] == b"\x89PNG"


def test_example_inputs_are_served_from_gradios_cache(served_app):
    import json

    config = get(served_app, "/config").json()
    urls = {url for url in _strings(config) if url.startswith("http") and "/gradio_api/file=" in url
            and url.endswith(".png")}
    local = [url for url in urls if url.startswith(served_app.local_url.rstrip("/"))]
    assert local, json.dumps(config)[:500]
    for url in local:
        assert "/examples/images/" not in url  # copied into the cache, not served from the repository
        response = get(served_app, url[len(served_app.local_url.rstrip("/")):])
        assert response.status_code == 200 and response.content[:4] == b"\x89PNG"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("path", ["/etc/passwd", str(ROOT / "app.py"), "../../../../etc/passwd"])
def test_an_input_file_outside_the_cache_is_not_read(served_app, tiny_vae, path):
    """A hand-written client names a server file as its upload: Gradio refuses it before the handler."""
    import httpx

    base = served_app.local_url.rstrip("/") + "/gradio_api/call/vae_reconstruction"
    body = {"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}, tiny_vae]}
    response = httpx.post(base, json=body, timeout=30)
    if response.status_code == 200:
        with httpx.stream("GET", f"{base}/{response.json()['event_id']}", timeout=30) as stream:
            text = "".join(stream.iter_text())
        assert "event: error" in text and "event: complete" not in text
        assert "root:" not in text and "build_demo" not in text
    else:
        assert response.status_code in (400, 403, 404, 422)
