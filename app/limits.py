"""Limits on what one request may cost: the body it sends and the CPU it asks for.

`read_body`, the request body limit, enforced before any route reads a byte (by app/front.py,
the app's one pure-ASGI layer): a declared Content-Length over the limit is refused at once
(413, unread); otherwise the body is read chunk by chunk and counted, so a chunked or lying
client is cut off at the limit too. The body is then replayed to the app (`replay`), which
therefore never buffers more than `limit` bytes.

`CostGate`, the concurrency limit on expensive requests (a 20-step gradient, the drawing at
every snapshot of the training run, a large convolution): at most `slots` run at once in this
worker process, at most `queue` more wait, each for at most `wait_s`, and the rest are refused
at once with `Busy` (503 + Retry-After, app/errors.py). Admission is decided on the event loop
before any work, so a refusal costs microseconds; the work itself runs in the thread pool.
The gate is a `threading` semaphore, not an asyncio one, because one app object may be served
by several event loops in one process (the tests' in-process client beside a live server).
Each worker process has its own gate: `--workers N` runs up to N × slots at once.
"""
from __future__ import annotations

import threading
from typing import Annotated, Callable, TypeVar

import orjson
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


class Busy(Exception):
    """Too many expensive requests in this worker right now; app/errors.py makes it a 503."""

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class CostGate:
    def __init__(self, slots: int, queue: int, wait_s: float, retry_after: int):
        if slots < 1 or queue < 0:
            raise ValueError(f"the cost gate needs slots ≥ 1 and queue ≥ 0, got {slots}, {queue}")
        self.slots, self.queue, self.wait_s, self.retry_after = slots, queue, wait_s, retry_after
        self._running = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._admitted = 0          # running + waiting

    @property
    def admitted(self) -> int:
        return self._admitted

    @property
    def full(self) -> bool:
        return self._admitted >= self.slots + self.queue

    def busy(self, what: str, why: str) -> Busy:
        return Busy(f"the server is busy with other {what} requests ({why}; this worker runs "
                    f"{self.slots} at a time and queues {self.queue}); retry in "
                    f"{self.retry_after} s", self.retry_after)

    async def run(self, what: str, work: Callable[..., T], *args) -> T:
        """`work(*args)` in the thread pool once a slot is free; Busy if the queue is full or
        no slot frees within wait_s."""
        with self._lock:
            if self._admitted >= self.slots + self.queue:
                raise self.busy(what, f"{self._admitted} running or waiting")
            self._admitted += 1
        try:
            return await run_in_threadpool(self._run, what, work, args)
        finally:
            with self._lock:
                self._admitted -= 1

    def _run(self, what, work, args):
        if not self._running.acquire(timeout=self.wait_s):
            raise self.busy(what, f"no slot freed within {self.wait_s:g} s")
        try:
            return work(*args)
        finally:
            self._running.release()


async def refuse_when_full(gate: CostGate, scope, receive, send, limit: int) -> None:
    """The early refusal of a request to an always-gated path while the gate is full, before
    its body is parsed (app/front.py asks `gate.full` first): an attacker retrying a 20-step
    gradient hundreds of times a second then costs the worker a header check and a read of
    the bytes, not a JSON parse and validation. The route's own `gate.run` still decides
    admission; this only answers the sure refusals early (the gate can only be fuller by the
    time the route would have asked). The body is read (up to `limit` bytes) and dropped, so
    the connection stays usable and the client, still sending, sees the 503 rather than a
    reset."""
    size, more = 0, True
    while more and size <= limit:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    busy = gate.busy(scope["path"].rsplit("/", 1)[-1], "the queue is full")
    await _send_error(send, 503, busy.detail,
                      [(b"retry-after", str(busy.retry_after).encode())], close=more)


def cost_gate(settings) -> CostGate:
    return CostGate(settings.costly_slots, settings.costly_queue, settings.costly_wait_s,
                    settings.busy_retry_after_s)


async def get_gate(request: Request) -> CostGate:
    return request.app.state.cost_gate


GateDep = Annotated[CostGate, Depends(get_gate)]


async def read_body(scope, receive, send, limit: int) -> bytes | None:
    """The request's whole body, at most `limit` bytes; None when it was refused (413, or 415
    for a compressed body: answered here) or the client went away."""
    coding = _header(scope, b"content-encoding")
    if coding is not None and coding.strip().lower() not in (b"", b"identity"):
        # Nothing here inflates a body: a gzip bomb would pass the size check and expand
        # 1000-fold. Say so rather than fail on binary "JSON".
        await _send_error(send, 415, (
            f"Content-Encoding {coding.decode('latin-1')!r} is not accepted: send the JSON "
            "body uncompressed (no Content-Encoding, or identity); the largest body "
            f"accepted is {limit} bytes"))
        return None
    declared = _content_length(scope)
    if declared is not None and declared > limit:
        await _refuse_size(send, f"request body is {declared} bytes", limit)
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _refuse_size(send, f"request body exceeds {limit} bytes", limit)
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def replay(body: bytes, receive):
    """A receive that gives the app `body` as one message, then whatever `receive` says."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse_size(send, what: str, limit: int):
    await _send_error(send, 413, (
        f"{what}; the limit is {limit} bytes (an image up to 2 MB as base64 or a pixel "
        "array up to 512×512, plus JSON)"))


async def _send_error(send, status: int, detail: str, extra=(), close: bool = True):
    body = orjson.dumps({"detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            *([(b"connection", b"close")] if close else []), *extra]})
    await send({"type": "http.response.body", "body": body})


def _header(scope, wanted: bytes) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return value
    return None


def _content_length(scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None
