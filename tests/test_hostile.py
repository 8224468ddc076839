"""Hostile requests, round two (issue 13): each sent by hand over loopback HTTP, not through the UI, and
each followed by a normal request that must still work."""

import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

from raw_http import call, error_of, join, t2i_body, upload

from genart_playground import limits
from genart_playground.ui.gradio_internals import NOT_UPLOADED

ROOT = Path(__file__).resolve().parents[1]


# 8. Request bodies have a cap ------------------------------------------------------------------------

def test_a_json_body_over_the_cap_is_refused_unread(served_app, still_serves):
    body = b'{"data": ["' + b"x" * (limits.MAX_BODY_BYTES + 1) + b'"]}'
    status, _ = call(served_app, "text_to_image", body)
    assert status == 413


def test_a_chunked_body_over_the_cap_is_refused_too(served_app, still_serves):
    def chunks():
        yield b'{"data": ["'
        for _ in range(limits.MAX_BODY_BYTES // 2**16 + 2):
            yield b"x" * 2**16
        yield b'"]}'

    response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/call/text_to_image", content=chunks(),
                          headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code == 413 and "limit" in response.json()["error"]


def test_an_upload_request_over_its_cap_is_refused(served_app, still_serves):
    files = [("files", (f"{i}.png", b"x" * (limits.MAX_UPLOAD_BYTES - 10), "image/png"))
             for i in range(limits.MAX_UPLOAD_FILES + 1)]
    response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/upload", files=files, timeout=60)
    assert response.status_code == 413


# 3. A path given as an image is not read from the server's disk ---------------------------------------

@pytest.mark.parametrize("path", [str(ROOT / "genart_playground" / "builtin" / "shapes-t2i" / "samples.png"),
                                  "/etc/passwd", "/no/such/file.png", str(ROOT / "examples" / "images" / "shapes.png")])
def test_a_path_without_an_upload_is_refused_and_says_nothing_of_it(served_app, tiny_vae, still_serves, path):
    status, final = call(served_app, "vae_reconstruction", json.dumps({"data": [{"path": path}, tiny_vae, 0, 0]}))
    message = error_of(final)
    assert message == NOT_UPLOADED  # one message for all: nothing about existence or size


# 2. Thin images are refused by their aspect ratio, before decoding ------------------------------------

def test_a_thin_image_is_refused_by_its_aspect(served_app, tiny_vae, still_serves, tmp_path):
    path = tmp_path / "thin.png"
    Image.new("RGB", (8, 8 * (limits.MAX_ASPECT + 1)), (200, 0, 0)).save(path)
    status, final = call(served_app, "vae_reconstruction", json.dumps({"data": [upload(served_app, path), tiny_vae,
                                                                                0, 0]}))
    assert f"at most {limits.MAX_ASPECT} times its shorter side" in error_of(final)


# 10. No blank errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, says", [
    ({"prompt": "\ud800 a red circle"}, "valid Unicode"),
    ({"steps": "many"}, "`Steps` must be a number"),
    ({"seed": "NaN"}, "`Seed` must be a number"),
    ({"seed": True}, "`Seed` must be a number"),
    ({"num_images": [1]}, "`Images` must be a number"),
    ({"model": {"x": 1}}, "`Model` must be one of its choices"),
    ({"prompt": 42}, "`Prompt` must be text"),
])
def test_malformed_values_get_a_message(served_app, tiny_t2i, still_serves, changes, says):
    body = json.dumps(t2i_body(tiny_t2i, **changes)).replace('"NaN"', "NaN")
    status, final = call(served_app, "text_to_image", body)
    assert says in error_of(final)


# 6. Lesson links show no HTML -----------------------------------------------------------------------------

def test_a_links_unknown_keys_are_escaped_shortened_and_few():
    from genart_playground.ui import lesson_links

    evil = ('<a href="https://evil.example/login" style="font-size:40px">Session expired</a>'
            '<form action="https://evil.example/"><input name=pw placeholder=password></form>')
    link = lesson_links.parse({evil: "1", **{f"k{i}": "v" for i in range(6)}}, {"t": {}}, "t")
    warning = link.warning()
    assert "<" not in warning and ">" not in warning
    assert warning.count("not a setting") == lesson_links.WARNING_ITEMS and "and 4 more" in warning


# 7. A PNG's recipe is read without decoding its pixels ----------------------------------------------------

def _png_header_only(width: int, height: int, text: dict) -> bytes:
    """A PNG whose IHDR says width×height, with text chunks and one tiny IDAT: PIL would decode it all."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    chunks = [chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    chunks += [chunk(b"tEXt", key.encode() + b"\0" + value.encode()) for key, value in text.items()]
    chunks += [chunk(b"IDAT", zlib.compress(b"\0" * 64)), chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def test_a_recipe_png_over_the_pixel_cap_is_refused_from_its_header(monkeypatch):
    from genart_playground import recipes

    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("pixels were decoded"))
    with pytest.raises(ValueError, match="pixels; the limit is"):
        recipes.read_recipe(_png_header_only(13000, 13000, {"genart_playground": '{"task": "x"}'}))
    small = _png_header_only(64, 64, {"genart_playground": json.dumps({"task": "gan_interpolation", "seed_a": 3})})
    assert recipes.read_recipe(small) == {"task": "gan_interpolation", "seed_a": 3}


def test_a_text_chunk_that_inflates_too_far_is_refused():
    import struct
    import zlib

    from genart_playground import recipes

    bomb = b"genart_playground\0\0" + zlib.compress(b" " * (recipes.MAX_TEXT_BYTES * 4), 9)
    data = _png_header_only(8, 8, {})
    ztxt = struct.pack(">I", len(bomb)) + b"zTXt" + bomb + struct.pack(">I", zlib.crc32(b"zTXt" + bomb))
    data = data[:33] + ztxt + data[33:]  # after IHDR
    with pytest.raises(ValueError, match="inflates to more than"):
        recipes.read_recipe(data)


def test_the_recipe_box_refuses_a_bomb_with_a_message(served_app, still_serves, tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(13000, 13000, {"genart_playground": '{"task": "gan_interpolation"}'}))
    fn = next(i for i, fn in served_app.fns.items()
              if getattr(fn.fn, "__name__", "") == "load" and fn.inputs and fn.inputs[0].label.startswith("Load"))
    data = [upload(served_app, path), *(component.value for component in served_app.fns[fn].inputs[1:])]
    message = join(served_app, fn, data)
    assert not message["success"] and "pixels; the limit is" in message["output"]["error"]


# 9. Disk ----------------------------------------------------------------------------------------------

def test_an_upload_of_too_many_files_is_refused(served_app, still_serves, tmp_path):
    picture = tmp_path / "p.png"
    Image.new("RGB", (8, 8)).save(picture)
    files = [("files", (f"{i}.png", picture.read_bytes(), "image/png")) for i in range(limits.MAX_UPLOAD_FILES + 2)]
    response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/upload", files=files, timeout=60)
    assert response.status_code == 413 and f"at most {limits.MAX_UPLOAD_FILES} files" in response.json()["error"]
    files = files[:limits.MAX_UPLOAD_FILES]
    assert httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/upload", files=files, timeout=60).status_code == 200


def test_an_upload_cut_off_mid_body_leaves_nothing_behind(served_app):
    import socket
    import time
    from urllib.parse import urlparse

    from genart_playground.ui import gradio_internals

    folder = gradio_internals.upload_folder()
    before = {path for path in folder.glob("*") if path.is_file()}
    url = urlparse(served_app.local_url)
    boundary = "genartboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"cut.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode()
    with socket.create_connection((url.hostname, url.port)) as connection:
        connection.sendall((f"POST /gradio_api/upload HTTP/1.1\r\nHost: {url.hostname}\r\n"
                            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                            f"Content-Length: {5 * 2**20}\r\n\r\n").encode() + head + b"x" * 2**20)
        time.sleep(1.0)  # the server has begun writing the file
    deadline = time.monotonic() + 10
    while not ({path for path in folder.glob("*") if path.is_file()} - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    partial = {path for path in folder.glob("*") if path.is_file()} - before
    assert partial, "the cut-off upload left no file to clean up (Gradio changed how it writes uploads?)"
    time.sleep(1.1)
    gradio_internals.delete_files_created_by_app(served_app, 1)
    assert not any(path.exists() for path in partial)


def test_the_kept_files_stay_under_their_budget_oldest_first(tmp_path, monkeypatch):
    import os
    import time
    from types import SimpleNamespace

    from genart_playground.ui import gradio_internals

    monkeypatch.setattr(limits, "MAX_CACHE_BYTES", 2500)
    paths = []
    for i in range(4):
        path = tmp_path / f"{i}.bin"
        path.write_bytes(b"x" * 1000)
        os.utime(path, (time.time() - 100 + i, time.time() - 100 + i))
        paths.append(path)
        time.sleep(0.01)
    queue = SimpleNamespace(event_queue_per_concurrency_id={"gpu": SimpleNamespace(queue=[
        SimpleNamespace(data=SimpleNamespace(data=[{"path": str(paths[0])}]))])}, active_jobs=[])
    blocks = SimpleNamespace(_queue=queue, blocks={}, temp_file_sets=[{str(p) for p in paths}])
    gradio_internals.delete_files_created_by_app(blocks, 3600)  # none is old enough by age
    # Over 2,500 bytes: the oldest unused go, the one a waiting request holds stays.
    assert [path.exists() for path in paths] == [True, False, False, True]
