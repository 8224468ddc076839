"""Request bodies over a limit get HTTP 413 before the app reads or parses them.

Gradio caps each uploaded file (`max_file_size`) but not a JSON body: four 200 MB bodies were parsed
and held for twenty minutes. An ASGI middleware counts the bytes as they arrive (a Content-Length
that is too large is refused at once), so a body is never held whole beyond the limit.
"""

import json

from .. import limits


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

        async def counted_receive():
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
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


async def _refuse(send, limit: int) -> None:
    body = json.dumps({"error": f"The request body is over {limit // 2**20} MB, this server's limit."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
