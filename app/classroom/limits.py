"""A tighter body limit for /api/class/... than the app's 3 MiB (app/limits.py): a pad PNG is
~6 KB and a nickname 24 characters, so 256 KiB refuses abuse early with a 413 that says so.

Installed inside the app's own body limit (app/front.py), which has already read (at most
3 MiB of) the body, so this one only counts what it is replayed; the connection stays usable
after the 413."""
from __future__ import annotations

import orjson


class ClassBodyLimit:
    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/api/class") \
                or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                return await self._refuse(send, size)
            if not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send, size: int):
        body = orjson.dumps({"detail": f"request body exceeds {self.limit} bytes (got {size} "
                                       "so far); the class session accepts at most that per "
                                       "request (a drawing is ~6 KB)"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
