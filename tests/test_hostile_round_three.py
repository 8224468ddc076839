"""Hostile requests, round three (issue 30): each sent by hand over loopback HTTP, as a red team sent them,
and each followed by a normal request that must still work."""

import json
import time

import httpx
import pytest

from raw_http import call, error_of, t2i_body


# 2. Direct routes skip the queue ---------------------------------------------------------------------

def queued_api_names(app) -> list[str]:
    return sorted({fn.api_name for fn in app.fns.values() if fn.api_name and fn.queue})


@pytest.mark.parametrize("route", ["run", "api"])
def test_no_direct_route_runs_a_queued_event(served_app, route, still_serves):
    names = queued_api_names(served_app)
    assert "text_to_image" in names and "vae_reconstruction" in names  # the model events among them
    base = served_app.local_url.rstrip("/")
    for name in names:
        for slash in ("", "/"):
            response = httpx.post(f"{base}/gradio_api/{route}/{name}{slash}", json={"data": []}, timeout=60)
            assert response.status_code == 404 and "join the queue" in response.text, (name, response.text[:200])


def test_a_well_formed_direct_call_is_refused_too(served_app, tiny_t2i):
    response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/run/text_to_image",
                          json=t2i_body(tiny_t2i), timeout=60)
    assert response.status_code == 404 and "join the queue" in response.text


# 9. Blank errors: every refusal says what is allowed ----------------------------------------------------

def vae_body(image, model, noise=0.0, seed=0) -> str:
    return json.dumps({"data": [image, model, noise, seed]})


@pytest.mark.parametrize("case", ["a 401-digit seed", "a model that is a number", "an image that is a string",
                                  "an image that is a number", "an image that is a list",
                                  "a FileData with meta at /etc/passwd", "too few inputs", "too many inputs"])
def test_every_malformed_input_gets_a_message(served_app, tiny_vae, still_serves, case):
    fake_file = {"path": "/etc/passwd", "orig_name": "x.png", "meta": {"_type": "gradio.FileData"}}
    body = {
        "a 401-digit seed": '{"data": [null, "%s", 0, %s]}' % (tiny_vae, "7" * 401),
        "a model that is a number": vae_body(None, 5),
        "an image that is a string": vae_body("/etc/passwd", tiny_vae),
        "an image that is a number": vae_body(5, tiny_vae),
        "an image that is a list": vae_body([1, 2], tiny_vae),
        "a FileData with meta at /etc/passwd": vae_body(fake_file, tiny_vae),
        "too few inputs": json.dumps({"data": [None, tiny_vae]}),
        "too many inputs": json.dumps({"data": [None, tiny_vae, 0, 0, 0, 0]}),
    }[case]
    status, final = call(served_app, "vae_reconstruction", body)
    assert status == 200
    message = error_of(final)  # never blank
    assert len(message) < 300 and "Traceback" not in message and "root:x" not in message


# 11. Logs and monitoring; 12. /dev/reload outside development -------------------------------------------

def test_an_unknown_session_gets_a_404_and_no_traceback_in_the_log(served_app):
    import logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage() + (record.exc_text or ""))

    handler = Keep()
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn", "gradio", "")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        for i in range(5):
            response = httpx.get(served_app.local_url.rstrip("/") + "/gradio_api/queue/data",
                                 params={"session_hash": f"no-such-session-{i}"}, timeout=30)
            assert response.status_code == 404 and "session" in response.json()["error"]
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert not [record for record in records if "Exception in ASGI application" in record or "Traceback" in record]


def test_monitoring_is_closed_and_prints_nothing(served_app, capsys):
    base = served_app.local_url.rstrip("/")
    for path in ("/monitoring", "/gradio_api/monitoring", "/monitoring/summary", "/gradio_api/monitoring/summary"):
        response = httpx.get(base + path, timeout=30)
        assert response.status_code in (403, 404), (path, response.status_code, response.text[:100])
    assert "Monitoring URL" not in capsys.readouterr().out


def test_the_reload_stream_is_closed_outside_development(served_app):
    with httpx.stream("GET", served_app.local_url.rstrip("/") + "/gradio_api/dev/reload", timeout=10) as response:
        assert response.status_code == 404


# 7. The files-per-upload limit, whatever way the boundary is written ---------------------------------------

@pytest.mark.parametrize("content_type", ["multipart/form-data; BOUNDARY={b}", "multipart/form-data; boundary =\"{b}\"",
                                          "multipart/form-data; boundary=decoy; boundary={b}"])
def test_an_upload_of_too_many_files_is_refused_however_its_boundary_is_written(served_app, content_type, tmp_path):
    from genart_playground import limits

    boundary = "genartboundary7"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{i}.png"\r\n'
             f"Content-Type: image/png\r\n\r\n".encode() + b"x" * 100 + b"\r\n" for i in range(40)]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/upload", content=body, timeout=60,
                          headers={"content-type": content_type.format(b=boundary)})
    assert response.status_code == 413, (response.status_code, response.text[:200])
    assert 40 > limits.MAX_UPLOAD_FILES


# 5. The disk budget holds at every upload -------------------------------------------------------------------

def uploaded_bytes(app) -> int:
    from pathlib import Path

    return sum(Path(file).stat().st_size for files in app.temp_file_sets for file in list(files) if Path(file).exists())


def test_uploads_never_pass_the_disk_budget(served_app, monkeypatch):
    from genart_playground import limits

    base = served_app.local_url.rstrip("/")
    budget = uploaded_bytes(served_app) + 3 * 2**20  # what the session's app holds now, and 3 MB more
    monkeypatch.setattr(limits, "MAX_CACHE_BYTES", budget)
    paths = []
    for i in range(8):  # 8 MB in 1 MB files: the oldest go to make room for each
        response = httpx.post(f"{base}/gradio_api/upload", files={"files": (f"{i}.png", bytes([i]) * 2**20,
                                                                             "image/png")}, timeout=60)
        assert response.status_code == 200
        paths.append(response.json()[0])
        assert uploaded_bytes(served_app) <= budget
    from pathlib import Path

    assert Path(paths[-1]).exists() and not Path(paths[0]).exists()


def test_an_upload_that_cannot_fit_is_refused_with_a_message(served_app, monkeypatch):
    from genart_playground import limits
    from genart_playground.ui import gradio_internals
    from genart_playground.ui.request_limits import UPLOAD_SPACE_FULL

    monkeypatch.setattr(limits, "MAX_CACHE_BYTES", uploaded_bytes(served_app) + 2**20)
    monkeypatch.setattr(gradio_internals, "files_in_use", lambda blocks: {str(f) for s in blocks.temp_file_sets
                                                                          for f in list(s)})  # nothing may go
    response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/upload",
                          files={"files": ("big.png", b"x" * 2 * 2**20, "image/png")}, timeout=60)
    assert response.status_code == 507 and response.json()["error"] == UPLOAD_SPACE_FULL


# 4. Unfinished bodies; 6. bodies of many tiny values ----------------------------------------------------------

def half_sent(app, length: int, sent: bytes, path="/gradio_api/queue/join"):
    """A socket that sends the headers of a `length`-byte JSON body and then only `sent`, and waits."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(app.local_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=60)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {url.hostname}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {length}\r\n\r\n".encode() + sent)
    return sock


def answer_of(sock) -> bytes:
    """The server's answer, up to the end of its JSON body (or until it closes)."""
    answer = b""
    while not answer.endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer


def status_of(sock) -> int:
    answer = answer_of(sock)
    return int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_a_body_that_stops_arriving_is_answered_408_and_let_go(served_app, monkeypatch, still_serves):
    from genart_playground import limits

    monkeypatch.setattr(limits, "BODY_IDLE_SECONDS", 1)
    sock = half_sent(served_app, 4000, b'{"data": [' + b"1," * 100)
    try:
        assert status_of(sock) == 408  # without the bound it waits as long as the socket stays open
    finally:
        sock.close()


def test_the_pause_limit_ends_with_the_body_not_with_the_stream_after_it(served_app, tiny_t2i, monkeypatch):
    """An event stream waits for its client to leave for as long as the run takes: only a body's pauses count."""
    from genart_playground import limits

    monkeypatch.setattr(limits, "BODY_IDLE_SECONDS", 0.05)
    status, final = call(served_app, "text_to_image", json.dumps(t2i_body(tiny_t2i, steps=30, num_images=4)))
    assert status == 200 and final["event"] == "complete", final


def wait_until(condition) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def third_is_turned_away(app, first_bytes: bytes, waiting, third_bytes: bytes) -> bytes:
    """Two sockets send the start of a 1 MB body and wait; once `waiting()` says the server counts them, a third
    starts one: its answer. All three are closed afterwards."""
    first = [half_sent(app, 1_000_000, first_bytes) for _ in range(2)]
    try:
        wait_until(waiting)
        third = half_sent(app, 1_000_000, third_bytes)
        try:
            return answer_of(third)
        finally:
            third.close()
    finally:
        for sock in first:
            sock.close()


def test_bodies_held_in_memory_are_capped_across_requests(served_app, monkeypatch, still_serves):
    from genart_playground import limits
    from genart_playground.ui.request_limits import SERVER_BUSY, BodyLimit

    monkeypatch.setattr(limits, "MAX_BODY_BYTES_HELD", 300_000)
    answer = third_is_turned_away(served_app, b'{"data": ["' + b"x" * 100_000, lambda: BodyLimit.held >= 200_000,
                                  b'{"data": ["' + b"x" * 200_000)
    assert answer.startswith(b"HTTP/1.1 503") and SERVER_BUSY.encode() in answer
    wait_until(lambda: BodyLimit.held == 0)
    assert BodyLimit.held == 0  # what the closed sockets held is counted no more


def test_bodies_arriving_at_once_are_capped_and_the_next_is_closed_at_once(served_app, monkeypatch, still_serves):
    """uvicorn buffers the first bytes of every body before any app reads them: the count is bounded too."""
    from genart_playground import limits
    from genart_playground.ui.request_limits import SERVER_BUSY, BodyLimit

    monkeypatch.setattr(limits, "MAX_BODIES_ARRIVING", 2)
    answer = third_is_turned_away(served_app, b'{"data": ["' + b"x" * 1000, lambda: BodyLimit.arriving >= 2,
                                  b'{"data": ["')
    assert answer.startswith(b"HTTP/1.1 503") and SERVER_BUSY.encode() in answer
    assert b"connection: close" in answer.lower()
    wait_until(lambda: BodyLimit.arriving == 0)
    assert BodyLimit.arriving == 0


def test_a_body_of_a_million_tiny_values_is_refused_before_it_is_parsed(served_app, still_serves):
    from genart_playground import limits

    body = b'{"data": [' + b"[]," * 1_000_000 + b'[]], "fn_index": 0, "session_hash": "x"}'
    assert len(body) < limits.MAX_BODY_BYTES
    response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/queue/join", content=body,
                          headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code == 413 and "too many values" in response.json()["error"]


# 8. Every event's whole request within one work measure ---------------------------------------------------

@pytest.fixture
def public(monkeypatch, fresh_cache):
    from genart_playground import devices, limits

    monkeypatch.setattr(limits, "PUBLIC", True)
    monkeypatch.setattr(devices, "pick_device", lambda: __import__("torch").device("cpu"))  # the CPU's budget
    return fresh_cache


def test_a_steps_sweep_is_bounded_as_a_whole(public, tiny_t2i, tiny_dit):
    from genart_playground import steps_sweep

    with pytest.raises(ValueError, match="sweep is .* step-pixels"):
        steps_sweep(models=[tiny_t2i, tiny_dit], prompts=16)  # 63 steps × 16 prompts × 2 models: no check before
    assert public.loads == 0


def test_an_xy_grid_is_bounded_as_a_whole_not_cell_by_cell(public, tiny_t2i):
    from genart_playground import limits, xy_grid

    cell = {"x": "seed", "x_values": list(range(6)), "y": "steps", "y_values": [100, 110, 120, 130, 140, 150]}
    work = 150 * (64 * 64 + limits.STEP_OVERHEAD_PIXELS)
    assert work <= limits.MAX_PUBLIC_WORK["cpu"] < 36 * 100 * limits.STEP_OVERHEAD_PIXELS  # each cell fits; 36 do not
    with pytest.raises(ValueError, match="grid of 36 pictures is .* step-pixels"):
        xy_grid(tiny_t2i, **cell)
    assert public.loads == 0


def test_small_pictures_count_their_fixed_cost_per_step(public, tiny_t2i):
    from genart_playground import diffusion_walk, limits

    # 64 frames × 25 steps of 64² was exactly the CPU budget by pixels, and took 93 s where the largest
    # text-to-image request takes 40 s: each step now counts its fixed cost too.
    assert 64 * 25 * 64 * 64 <= limits.MAX_PUBLIC_WORK["cpu"]
    with pytest.raises(ValueError, match="walk is .* step-pixels"):
        diffusion_walk("a red circle", "a blue square", model=tiny_t2i, frames=64, steps=25, width=64, height=64)
    assert public.loads == 0


def test_the_drawing_store_stays_closed_to_a_form_written_boundary_upper_case(served_app):
    """§7's second half: through the BOUNDARY= bypass a script stored drawings under ids of its own on
    /component_server (and another session translated them; 64 junk ids evicted a page's). Read as the
    parser reads it, such a form has more parts than a request may: refused, nothing held."""
    import gradio as gr

    editor = next(block for block in served_app.blocks.values() if isinstance(block, gr.ImageEditor))
    boundary = "genartboundary9"
    fields = {"component_id": str(editor._id), "session_hash": "hostile", "fn_name": "accept_blobs",
              "id": "made-up", "type": "composite", "index": "null"}
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    for name, value in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="composite.png"\r\n'
             f"Content-Type: image/png\r\n\r\n").encode() + b"\x89PNG" + b"x" * 1000 + f"\r\n--{boundary}--\r\n".encode()
    for header in (f"multipart/form-data; BOUNDARY={boundary}", f"multipart/form-data; boundary =\"{boundary}\""):
        response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/component_server", content=body,
                              headers={"content-type": header}, timeout=30)
        assert response.status_code == 413
    assert len(editor.blob_storage) == 0


# 4. Headers that never finish ---------------------------------------------------------------------------------

def test_a_connection_whose_headers_never_finish_is_closed(served_app, monkeypatch, still_serves):
    import socket
    from urllib.parse import urlparse

    from genart_playground import limits

    monkeypatch.setattr(limits, "HEADER_SECONDS", 1)
    url = urlparse(served_app.local_url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Ty")  # and then nothing
        assert sock.recv(4096) == b""  # closed by the server; without the deadline this waits 30 s and fails
