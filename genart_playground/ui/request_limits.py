"""Limits on requests, checked before the app does anything with them (ASGI middleware).

- `BodyLimit`: request bodies over a limit get HTTP 413 before the app reads or parses them. Gradio
  caps each uploaded file (`max_file_size`) but not a JSON body: four 200 MB bodies were parsed and
  held for twenty minutes. The bytes are counted as they arrive (a Content-Length that is too large
  is refused at once), so a body is never held whole beyond the limit.
- `UploadBudget`: an upload is let in only when its bytes fit under the disk budget of the files Gradio
  keeps (limits.MAX_CACHE_BYTES), after the oldest unused files have gone; else HTTP 507. The hourly
  sweep alone let 64 uploads of 40 MB fill 2.6 GB in 14 s.
- `ClosedRoutes`: Gradio routes that a running app does not need answer 404 at once, in one short line:
  `/dev/reload` outside development, and `/queue/data` for a session the queue does not know (Gradio
  logs a 5 KB traceback for each).
- `OneJobPerVisitor` (public deployments): a visitor who already has a model job waiting or running
  gets HTTP 429 for another, so one visitor cannot fill the queue that everybody shares. A visitor is
  the connection's address; `X-Forwarded-For` is read only from proxies the operator names
  (`settings.TRUSTED_PROXIES`), and then from its right, where the nearest proxy wrote it.
"""

import asyncio
import functools
import ipaddress
import json
import os
import re
from urllib.parse import parse_qs

import anyio

from .. import limits, settings
from . import gradio_internals
from .lanes import MODEL_LANES


class Refused(Exception):
    """A body this server will not take: its status and what to say (sent instead of the app's answer)."""

    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status, self.error = status, error


BODY_TIMEOUT = "The request body stopped arriving; send it whole, without pauses of {seconds} s."
SERVER_BUSY = "The server is reading too many request bodies at once; try again in a moment."
TOO_MANY_ITEMS = ("The request body holds too many values: at most {:,} (no event here takes more than a few "
                  "dozen).").format


def body_limit(content_type: bytes) -> int:
    """The largest body of this kind: an upload's files, or anything else (JSON, forms)."""
    if content_type.startswith(b"multipart/form-data"):
        return limits.MAX_UPLOAD_REQUEST_BYTES
    return limits.MAX_BODY_BYTES


def _blocks_of(scope):
    """The Gradio app a request reached (None outside one: a test's bare Starlette app)."""
    app = scope.get("app")
    return app.get_blocks() if hasattr(app, "get_blocks") else None


def first_headers(scope) -> dict[bytes, bytes]:
    """The request's headers, the first of each name winning, as Starlette's `request.headers[...]` reads
    them (a dict of the raw list would keep the last: a second Content-Type would name another boundary)."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope.get("headers") or []:
        headers.setdefault(name.lower(), value)
    return headers


class BodyLimit:
    """Bodies within their size and count of values, arriving without long pauses, and (for the bodies the
    app holds in memory: all but uploads, which Gradio streams to disk) within caps on how many arrive at
    once and the bytes they hold together. 150 sockets that stopped 10 bytes short of a 4 MB body held
    600 MB for as long as they stayed open."""

    held = 0  # bytes of in-memory bodies received and not yet complete, all requests together
    arriving = 0  # in-memory bodies still arriving: uvicorn buffers each one's first bytes before any app reads

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = first_headers(scope)
        limit = body_limit(headers.get(b"content-type", b"").lower())
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _refuse(send, limit)
        in_memory = not headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        if in_memory and has_body and BodyLimit.arriving >= limits.MAX_BODIES_ARRIVING:
            return await _answer(send, 503, SERVER_BUSY, close=True)  # closed: its buffered bytes go at once
        counted = in_memory and has_body
        BodyLimit.arriving += counted
        received, held, refused, started, commas, whole = 0, 0, None, False, 0, False
        parts = _PartCounter(headers.get(b"content-type", b""))

        async def counted_receive():
            nonlocal received, held, refused, commas, whole, counted
            if whole:  # the body is in: what is left is waiting for the client to go (an event stream's minutes)
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout=limits.BODY_IDLE_SECONDS)
            except asyncio.TimeoutError:
                refused = Refused(408, BODY_TIMEOUT.format(seconds=limits.BODY_IDLE_SECONDS))
                raise refused from None
            whole = message["type"] != "http.request" or not message.get("more_body")
            if whole and counted:
                BodyLimit.arriving -= 1
                counted = False
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > limit or parts.feed(body) > limits.MAX_UPLOAD_FILES:
                    refused = Refused(413, _too_large(limit))
                    raise refused
                # The shape before anyone parses it: 1.4 million empty lists in 4 MB held the event loop
                # for seconds per request. Every comma is counted (one in a string too: a bound, not a parse).
                commas += body.count(b",") if in_memory else 0
                if commas > limits.MAX_BODY_ITEMS:
                    refused = Refused(413, TOO_MANY_ITEMS(limits.MAX_BODY_ITEMS))
                    raise refused
                if in_memory and message.get("more_body"):
                    if BodyLimit.held + len(body) > limits.MAX_BODY_BYTES_HELD:
                        refused = Refused(503, SERVER_BUSY)
                        raise refused
                    BodyLimit.held += len(body)
                    held += len(body)
                elif held:  # the body is whole: the app holds it from here, as it does any request
                    BodyLimit.held -= held
                    held = 0
            return message

        async def watched_send(message):
            # The app may catch the error and answer it itself (FastAPI: 400, "error parsing the body"):
            # whatever it answers once the body is refused, the client gets the refusal.
            nonlocal started
            if refused is not None:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _answer(send, refused.status, refused.error, close=True)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except Refused as error:
            if not started:
                await _answer(send, error.status, error.error, close=True)
        finally:
            BodyLimit.held -= held
            BodyLimit.arriving -= counted


class _PartCounter:
    """How many parts (files) a multipart body has begun so far: its boundary lines, counted as they stream.
    The boundary is read as Gradio's parser reads it (python-multipart's parse_options_header): `BOUNDARY=`,
    `boundary =x` and a second `boundary=` all name the boundary the parser will split on."""

    def __init__(self, content_type: bytes):
        from python_multipart.multipart import parse_options_header

        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary") if kind.startswith(b"multipart/") else None
        self.marker = b"--" + boundary if boundary else None
        self.count, self.tail = 0, b""

    def feed(self, chunk: bytes) -> int:
        if self.marker is None:
            return 0
        data = self.tail + chunk
        self.count += data.count(self.marker) - self.tail.count(self.marker)
        self.tail = data[-(len(self.marker) - 1):]
        return self.count - 1 if self.count else 0  # the last boundary closes the body; it opens no part


def _too_large(limit: int) -> str:
    return (f"The request is over this server's limits: a body of at most {limit // 2**20} MB, and at most "
            f"{limits.MAX_UPLOAD_FILES} files in one upload.")


async def _refuse(send, limit: int) -> None:
    await _answer(send, 413, _too_large(limit), close=True)


UPLOAD_SPACE_FULL = "The server's space for uploads is full just now; try again in a minute."


class UploadBudget:
    def __init__(self, app):
        self.app = app
        self.reserved = 0  # bytes of the uploads let in and still arriving
        self.lock = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope.get("path", "").rstrip("/").endswith(
                "/upload"):
            return await self.app(scope, receive, send)
        length = first_headers(scope).get(b"content-length", b"")
        size = int(length) if length.isdigit() else limits.MAX_UPLOAD_REQUEST_BYTES  # chunked: at most this
        blocks = _blocks_of(scope)
        self.lock = self.lock or asyncio.Lock()
        async with self.lock:  # one at a time: each sees what the others let in
            fits = blocks is None or await anyio.to_thread.run_sync(gradio_internals.make_room, blocks,
                                                                    self.reserved + size)
            if fits:
                self.reserved += size
        if not fits:
            return await _answer(send, 507, UPLOAD_SPACE_FULL)
        try:
            return await self.app(scope, receive, send)
        finally:
            self.reserved -= size


class ClosedRoutes:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") == "GET":
            path = scope.get("path", "")
            if path.endswith("/dev/reload") and not os.environ.get("GRADIO_WATCH_DIRS"):  # set by `gradio app.py`
                return await _answer(send, 404, "Not found: this server does not reload.")
            if path.endswith("/queue/data"):
                blocks = _blocks_of(scope)
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                session = (query.get("session_hash") or [""])[0]
                if blocks is not None and not gradio_internals.session_known(blocks, session):
                    return await _answer(send, 404, "No such session: join the queue first.")
        return await self.app(scope, receive, send)


# The routes that start a job, as Gradio's router matches them: a trailing slash, and /call/v2/, included.
# (The direct routes, /run/ and /api/, refuse queued events: ui/app.py opens no API outside the queue.)
_JOB_ROUTE = re.compile(rb"/(?:queue/join|call(?:/v2)?/(?P<name>[^/]+))/?$")
BUSY_VISITOR = "You have a job waiting or running already; wait for it (or stop it) before starting another."
TOO_DEEP = "The request body nests too deeply to be read."


def _in(address: str, entries) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in entries:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def visitor_of(headers: dict, client) -> str:
    """Who sent a request: the connection's address; behind a proxy the operator trusts
    (settings.TRUSTED_PROXIES), the first address from the right of X-Forwarded-For that is not one of
    the trusted proxies (what a client writes itself is on the left, and is never believed)."""
    peer = client[0] if client else ""
    proxies = settings.TRUSTED_PROXIES
    if not ("*" in proxies or _in(peer, proxies)):
        return peer
    hops = [hop.strip() for hop in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _in(hop, proxies):
            return hop
    return hops[0] if hops else peer


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
        route = _JOB_ROUTE.search(path)
        if not settings.PUBLIC or scope["type"] != "http" or scope.get("method") != "POST" or not route:
            return await self.app(scope, receive, send)
        body, messages = await _read_body(receive)  # at most MAX_BODY_BYTES: BodyLimit runs first

        async def replay():
            return messages.pop(0) if messages else await receive()

        blocks = _blocks_of(scope)
        try:
            fn = _target(blocks, route, body)
        except RecursionError:  # json.loads of 200,000 nested brackets
            return await _answer(send, 400, TOO_DEEP)
        headers = first_headers(scope)  # every proxy's X-Forwarded-For, in order, as uvicorn joins them
        headers[b"x-forwarded-for"] = b", ".join(value for name, value in scope.get("headers") or []
                                                 if name.lower() == b"x-forwarded-for")
        visitor = visitor_of(headers, scope.get("client"))
        if fn is not None and fn.concurrency_id in MODEL_LANES and \
                gradio_internals.jobs_of(blocks, visitor, MODEL_LANES, visitor_of) >= limits.MAX_JOBS_PER_VISITOR:
            return await _answer(send, 429, BUSY_VISITOR)
        return await self.app(scope, replay, send)


async def _answer(send, status: int, error: str, *, close: bool = False) -> None:
    """A short JSON answer; `close`: and the connection closed after it (a body left unread stays unread)."""
    payload = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status,
                "headers": headers + ([(b"connection", b"close")] if close else [])})
    await send({"type": "http.response.body", "body": payload})


@functools.cache
def _index_reader():
    from pydantic import TypeAdapter

    return TypeAdapter(int | None)


def _fn_index(value) -> int | None:
    """`fn_index` as Gradio reads it (pydantic, lax: "87" and 87.0 are 87); None if Gradio would refuse it."""
    from pydantic import ValidationError

    try:
        return _index_reader().validate_python(value)
    except ValidationError:
        return None


def _target(blocks, route: re.Match, body: bytes):
    """The event function a join or a call names; None when it names none (the app answers that itself)."""
    if blocks is None:
        return None
    if route.group("name") is not None:
        name = route.group("name").decode("latin-1")
        return next((fn for fn in blocks.fns.values() if fn.api_name == name), None)
    try:
        request = json.loads(body)
    except ValueError:
        return None
    index = _fn_index(request.get("fn_index")) if isinstance(request, dict) else None
    return blocks.fns.get(index) if index is not None else None
