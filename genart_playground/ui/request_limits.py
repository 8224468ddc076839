"""Limits on requests, checked before the app does anything with them (ASGI middleware).

- `BodyLimit`: request bodies over a limit get HTTP 413 before the app reads or parses them. Gradio
  caps each uploaded file (`max_file_size`) but not a JSON body: four 200 MB bodies were parsed and
  held for twenty minutes. The bytes are counted as they arrive (a Content-Length that is too large
  is refused at once), so a body is never held whole beyond the limit.
- `OneJobPerVisitor` (public deployments): a visitor who already has a model job waiting or running
  gets HTTP 429 for another, so one visitor cannot fill the queue that everybody shares.
"""

import json
import re

from .. import limits, settings
from . import gradio_internals
from .lanes import MODEL_LANES


class BodyTooLarge(Exception):
    pass


def body_limit(content_type: bytes) -> int:
    """The largest body of this kind: an upload's files, or anything else (JSON, forms)."""
    if content_type.startswith(b"multipart/form-data"):
        return limits.MAX_UPLOAD_REQUEST_BYTES
    return limits.MAX_BODY_BYTES


class BodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        limit = body_limit(headers.get(b"content-type", b"").lower())
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _refuse(send, limit)
        received, over, started = 0, False, False
        parts = _PartCounter(headers.get(b"content-type", b""))

        async def counted_receive():
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > limit or parts.feed(body) > limits.MAX_UPLOAD_FILES:
                    over = True
                    raise BodyTooLarge()
            return message

        async def watched_send(message):
            # The app may catch the error and answer it itself (FastAPI: 400, "error parsing the body"):
            # whatever it answers once the body is over the limit, the client gets the 413.
            nonlocal started
            if over:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(send, limit)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, limit)


class _PartCounter:
    """How many parts (files) a multipart body has begun so far: its boundary lines, counted as they stream."""

    def __init__(self, content_type: bytes):
        found = re.search(rb'boundary="?([^";]+)"?', content_type) if content_type.lower().startswith(
            b"multipart/") else None
        self.marker = b"--" + found.group(1) if found else None
        self.count, self.tail = 0, b""

    def feed(self, chunk: bytes) -> int:
        if self.marker is None:
            return 0
        data = self.tail + chunk
        self.count += data.count(self.marker) - self.tail.count(self.marker)
        self.tail = data[-(len(self.marker) - 1):]
        return self.count - 1 if self.count else 0  # the last boundary closes the body; it opens no part


async def _refuse(send, limit: int) -> None:
    body = json.dumps({"error": f"The request is over this server's limits: a body of at most {limit // 2**20} "
                                f"MB, and at most {limits.MAX_UPLOAD_FILES} files in one upload."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


_JOIN = re.compile(rb"/queue/join$")
_CALL = re.compile(rb"/call/([^/]+)$")
BUSY_VISITOR = "You have a job waiting or running already; wait for it (or stop it) before starting another."


def visitor_of(headers: dict, client) -> str:
    """Who sent a request: the first address a proxy names (a Space's), else the connection's."""
    forwarded = headers.get(b"x-forwarded-for", b"").split(b",")[0].strip().decode("latin-1")
    return forwarded or (client[0] if client else "")


async def _read_body(receive) -> tuple[bytes, list]:
    chunks, messages = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks), messages


class OneJobPerVisitor:
    """Public deployments only: at most `limits.MAX_JOBS_PER_VISITOR` model jobs (in any lane) per visitor."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "").encode()
        if not settings.PUBLIC or scope["type"] != "http" or scope.get("method") != "POST" or \
                not (_JOIN.search(path) or _CALL.search(path)):
            return await self.app(scope, receive, send)
        body, messages = await _read_body(receive)  # at most MAX_BODY_BYTES: BodyLimit runs first

        async def replay():
            return messages.pop(0) if messages else await receive()

        blocks = scope["app"].get_blocks() if hasattr(scope.get("app"), "get_blocks") else None
        fn = _target(blocks, path, body)
        visitor = visitor_of(dict(scope.get("headers") or []), scope.get("client"))
        if fn is not None and fn.concurrency_id in MODEL_LANES and \
                gradio_internals.jobs_of(blocks, visitor, MODEL_LANES, visitor_of) >= limits.MAX_JOBS_PER_VISITOR:
            payload = json.dumps({"error": BUSY_VISITOR}).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(payload)).encode())]})
            return await send({"type": "http.response.body", "body": payload})
        return await self.app(scope, replay, send)


def _target(blocks, path: bytes, body: bytes):
    """The event function a join or a call names; None when it names none (the app answers that itself)."""
    if blocks is None:
        return None
    call = _CALL.search(path)
    if call:
        name = call.group(1).decode("latin-1")
        return next((fn for fn in blocks.fns.values() if fn.api_name == name), None)
    try:
        index = json.loads(body).get("fn_index")
    except (ValueError, AttributeError):
        return None
    return blocks.fns.get(index) if isinstance(index, int) else None
