"""Live updates to the pages by Server-Sent Events, the same in every worker process.

Every change to the session is a row in the `events` table (app/classroom/store.py), written in
the same transaction as the change. Each worker runs one `Hub`: a task that checks
`PRAGMA data_version` on its own connection every `poll` seconds (a counter SQLite bumps when
any other connection commits: no table is read while the class is idle), reads the new events
and hands each to the connected pages whose audience it names ("all", "teacher",
"student:<id>"). So a submit handled by worker 1 reaches a dashboard connected to worker 2
within one poll (50 ms).

The stream: `retry: 1000` (EventSource reconnects after 1 s), each event with `id: <seq>`. A
page that reconnects sends `Last-Event-ID`; when the log still holds everything after it, the
missed events are replayed, otherwise (or on a first connect) the page first gets a `snapshot`
of the whole state for its role. A comment every 15 s keeps proxies and dead peers honest.
Connections are bounded per worker (`max_clients`, then 503 with Retry-After) and a page that
cannot keep up (its queue of 256 events fills) is cut off, and resyncs by reconnecting.
"""
from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import dataclass, field

from starlette.responses import Response

from app.classroom.store import Store

HEARTBEAT = 15.0
QUEUE = 256
CLOSE = object()          # put in a queue: end that stream


@dataclass(eq=False)
class Client:
    audiences: frozenset
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE))
    after: int = 0            # events up to this seq were already sent (snapshot or replay)


class Hub:
    def __init__(self, store: Store, poll: float = 0.05, max_clients: int = 250):
        self.store, self.poll, self.max_clients = store, poll, max_clients
        self.clients: set[Client] = set()
        self.seq = store.latest_seq()
        self._version = None
        self._task: asyncio.Task | None = None
        self.closing = False

    @property
    def full(self) -> bool:
        return len(self.clients) >= self.max_clients

    def add(self, audiences) -> Client:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
            self._watch_signals()
        client = Client(frozenset(audiences))
        self.clients.add(client)
        return client

    def remove(self, client: Client) -> None:
        self.clients.discard(client)

    def close(self) -> None:
        """End every stream (the server is stopping): pages reconnect to whoever serves next."""
        self.closing = True
        for c in list(self.clients):
            _put(c, CLOSE)

    def _watch_signals(self) -> None:
        # uvicorn waits for open responses before it stops, and an event stream never ends by
        # itself: on SIGTERM/SIGINT, end the streams first, then let uvicorn's handler run.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous = signal.getsignal(sig)
            except ValueError:
                return
            if getattr(previous, "_convscope_hub", False) or not callable(previous):
                continue

            def handler(signum, frame, previous=previous):
                loop.call_soon_threadsafe(self.close)
                previous(signum, frame)
            handler._convscope_hub = True
            try:
                signal.signal(sig, handler)
            except ValueError:      # not the main thread (tests serve uvicorn in a thread)
                return

    async def _run(self) -> None:
        while self.clients or not self.closing:
            await asyncio.sleep(self.poll)
            if not self.clients:
                continue
            try:
                self.pump()
            except Exception:       # a locked or briefly unreadable file: try on the next poll
                continue

    def pump(self) -> None:
        """Deliver every event committed since the last call (any process's)."""
        version = self.store.data_version()
        if version == self._version:
            return
        self._version = version
        while True:
            events = self.store.events_after(self.seq, raw=True)
            if not events:
                return
            for e in events:
                self.seq = e["seq"]
                wire = None                     # encoded once, however many pages get it
                for c in list(self.clients):
                    if e["audience"] in c.audiences and e["seq"] > c.after:
                        wire = wire or frame_text(e["kind"], e["data"], e["seq"])
                        _put(c, wire)


def _put(client: Client, item) -> None:
    try:
        client.queue.put_nowait(item)
    except asyncio.QueueFull:
        # Too far behind: drop its backlog and end the stream; it reconnects and resyncs.
        while not client.queue.empty():
            client.queue.get_nowait()
        client.queue.put_nowait(CLOSE)


def frame(kind: str, data, seq: int | None = None) -> bytes:
    return frame_text(kind, json.dumps(data, separators=(",", ":")), seq)


def frame_text(kind: str, text: str, seq: int | None = None) -> bytes:
    """One SSE event; `text` is JSON on one line (json.dumps never writes a raw newline)."""
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {text}\n\n".encode()


class EventStream(Response):
    """An ASGI response that streams one client's events and stops at once when the client
    goes (it listens for http.disconnect itself, whatever the server's ASGI version)."""

    def __init__(self, hub: Hub, client: Client, first: list[bytes]):
        super().__init__(status_code=200, media_type="text/event-stream")
        self.hub, self.client, self.first = hub, client, first

    async def __call__(self, scope, receive, send):
        async def watch():
            while (await receive())["type"] != "http.disconnect":
                pass
            _put(self.client, CLOSE)

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")]})
            await send({"type": "http.response.body", "body": b"retry: 1000\n\n" + b"".join(
                self.first), "more_body": True})
            while True:
                try:
                    item = await asyncio.wait_for(self.client.queue.get(), HEARTBEAT)
                except asyncio.TimeoutError:
                    await send({"type": "http.response.body", "body": b": ping\n\n",
                                "more_body": True})
                    continue
                if item is CLOSE:
                    break
                await send({"type": "http.response.body", "body": item, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass                     # the peer went away mid-write
        finally:
            watcher.cancel()
            self.hub.remove(self.client)
