"""Request body limit, enforced before any route reads a byte.

A pure ASGI middleware: a declared Content-Length over the limit is refused at once (413,
unread); otherwise the body is read chunk by chunk and counted, so a chunked or lying client
is cut off at the limit too. The body is then replayed to the app, which therefore never
buffers more than `limit` bytes.
"""
from __future__ import annotations

import orjson


class BodyLimit:
    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            return await self._refuse(send, f"request body is {declared} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await self._refuse(send, f"request body exceeds {self.limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send, what: str):
        detail = (f"{what}; the limit is {self.limit} bytes (an image up to 2 MB as base64 or "
                  "a pixel array up to 512×512, plus JSON)")
        body = orjson.dumps({"detail": detail})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
