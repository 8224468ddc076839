"""Hand-written HTTP requests to a served app, as a hostile client would send them (no gradio_client)."""

import json
from pathlib import Path

import httpx


def call(app, api_name: str, body: bytes | str, **headers) -> tuple[int, dict | None]:
    """POST a hand-written body to /gradio_api/call/<api_name>: the HTTP status, and the final event
    ({"event", "data"}) when the call was accepted."""
    base = app.local_url.rstrip("/") + f"/gradio_api/call/{api_name}"
    response = httpx.post(base, content=body, headers={"content-type": "application/json", **headers}, timeout=60)
    if response.status_code != 200:
        return response.status_code, None
    with httpx.stream("GET", f"{base}/{response.json()['event_id']}", timeout=60) as stream:
        lines = list(stream.iter_lines())
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    return 200, {"event": events[-1], "data": json.loads(data[-1])}


def error_of(final: dict) -> str:
    assert final["event"] == "error", final
    message = (final["data"] or {}).get("error") if isinstance(final["data"], dict) else final["data"]
    assert message, "a blank error"
    return message


def upload(app, path: Path) -> dict:
    response = httpx.post(app.local_url.rstrip("/") + "/gradio_api/upload",
                          files={"files": (path.name, path.read_bytes(), "image/png")}, timeout=60)
    response.raise_for_status()
    return {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def join(app, fn_index: int, data: list) -> dict:
    """An event called by its fn_index through /gradio_api/queue/join, as the page does: the final message."""
    import uuid

    base = app.local_url.rstrip("/")
    session = uuid.uuid4().hex
    response = httpx.post(f"{base}/gradio_api/queue/join", json={"data": data, "fn_index": fn_index,
                                                                   "session_hash": session}, timeout=60)
    if response.status_code != 200:
        return {"msg": "http", "status": response.status_code, "body": response.text}
    with httpx.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                message = json.loads(line.removeprefix("data: "))
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event never completed")


def t2i_body(tiny: str, **changes) -> dict:
    """A text-to-image call's body with the tiny model, as the API page lists its inputs."""
    data = {"prompt": "a red circle", "negative_prompt": "", "model": tiny, "scheduler": "model default",
            "num_images": 1, "steps": 2, "guidance": 3.0, "width": None, "height": None, "seed": 0}
    data.update(changes)
    return {"data": list(data.values())}
