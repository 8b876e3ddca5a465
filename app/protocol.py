"""Bounded HTTP connections: uvicorn's httptools protocol with limits a hostile LAN needs.

uvicorn's `HttpToolsProtocol` has no limit on a request head and no timeout before a request
completes: a connection that sends `X: aaaa…` forever made httptools grow the header value by
`bytes +=` on every read (quadratic: 98% of a core, +110 MB for 80 MB of header), and a
connection that sends nothing stayed open forever (1,100 of them exhausted the descriptors).
uvicorn's own knobs do not cover this: `limit_concurrency` answers 503 only once a head is
complete, `timeout_keep_alive` runs only between requests, and `h11_max_incomplete_event_size`
exists only for h11, which parses ~3× slower in Python. So this is a thin subclass: the parser,
the ASGI cycle and flow control stay uvicorn's; the subclass counts, times and closes.

- Head: at most `max_head_bytes` (431) with a URL of at most `max_url_bytes` (414), counted as
  bytes arrive, so an endless header costs one read (≤ 256 KiB) past the limit, never more.
- Timeouts: the head must be complete `header_timeout_s` after the connection opens or the
  previous response ends (a slowloris is closed: 408 if it sent something, silently if idle);
  a body may pause at most `body_timeout_s` (408; not counted while the app is not reading);
  a response may wait `send_timeout_s` on a client that does not read (then aborted).
- Connections: beyond `max_connections` per worker, the longest-idle connection is closed to
  make room; when none is idle, the new one is answered 503 with Retry-After.
- Early answers reach the client: a 413 (app/limits.py), 431, 408 or 400 sent while the client is
  still sending is followed by a half-close and a bounded drain (`linger_bytes`, `linger_s`),
  because closing a socket with unread input makes the kernel send a reset, which destroys
  the answer in flight (Python's http.client saw ConnectionResetError instead of the 413).
- Shutdown: idle and half-sent connections close at once; in-flight requests get
  `shutdown_timeout_s`, then their connections close (a stalled upload no longer blocks it).
"""
from __future__ import annotations

import asyncio
import itertools
import resource
from dataclasses import dataclass

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.config import Settings
from app.security import PLAIN_HEADERS

# Descriptors a worker needs besides its connections (listener, model and static files,
# the event loop's own, the thread pool's, logs).
FD_RESERVE = 128
HEAD_DRAIN_BYTES = 1024 * 1024
# Orders connections by when they last became idle (the loop's clock is cached per iteration,
# so many connections accepted in one iteration would tie).
_idle_order = itertools.count()


@dataclass(frozen=True)
class Limits:
    max_head_bytes: int
    max_url_bytes: int
    header_timeout_s: float
    body_timeout_s: float
    send_timeout_s: float
    max_connections: int
    linger_s: float
    linger_bytes: int
    shutdown_timeout_s: float

    @classmethod
    def from_settings(cls, s: Settings) -> "Limits":
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        cap = s.max_connections
        if soft != resource.RLIM_INFINITY:
            cap = max(1, min(cap, soft - FD_RESERVE))
        return cls(s.max_head_bytes, s.max_url_bytes, s.header_timeout_s, s.body_timeout_s,
                   s.send_timeout_s, cap, s.linger_s, s.linger_bytes, s.shutdown_timeout_s)


def raise_fd_limit(connections: int) -> int:
    """Raise this process's soft descriptor limit toward its hard limit (inherited by the
    workers), enough for `connections` plus the reserve; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = connections + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    return soft


def protocol_class(settings: Settings) -> type[HttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, carrying these limits."""
    return type("BoundedProtocol", (BoundedProtocol,), {"limits": Limits.from_settings(settings)})


class _Refusal(Exception):
    """Raised inside a parser callback: stops httptools at once, answered by data_received."""

    def __init__(self, status: int, detail: str, retry_after: int | None = None):
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after


class _Transport:
    """The transport as uvicorn's request cycle sees it: its close() lingers when the client
    is still sending (see BoundedProtocol._close_requested); everything else is the real one."""

    __slots__ = ("_real", "_protocol")

    def __init__(self, real: asyncio.Transport, protocol: "BoundedProtocol"):
        self._real, self._protocol = real, protocol

    def close(self) -> None:
        self._protocol._close_requested()

    def __getattr__(self, name):
        return getattr(self._real, name)


class BoundedProtocol(HttpToolsProtocol):
    limits: Limits

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._real: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None        # head or body deadline
        self._send_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._head_started = False      # bytes of a request head arrived, head not complete
        self._head_bytes = 0
        self._completed_in_read = False
        self._last_body = 0.0
        self._idle_since = 0
        self._over_capacity = False
        self._lingering = False
        self._linger_left = 0
        self._stopping = False

    # ------------------------------------------------------------------ connection
    def connection_made(self, transport) -> None:
        self._real = transport
        super().connection_made(_Transport(transport, self))
        self._idle_since = next(_idle_order)
        if len(self.connections) > self.limits.max_connections and not self._evict_idle():
            self._over_capacity = True
        self._arm(self.limits.header_timeout_s, self._head_expired)

    def connection_lost(self, exc) -> None:
        for timer in (self._timer, self._send_timer, self._linger_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._send_timer = self._linger_timer = None
        super().connection_lost(exc)

    def _is_idle(self) -> bool:
        return (not self._head_started and not self._lingering
                and (self.cycle is None or self.cycle.response_complete)
                and self._real is not None and not self._real.is_closing())

    def _evict_idle(self) -> bool:
        """Close the longest-idle other connection (a keep-alive or one that never spoke):
        its client reconnects if it needs to; refusing a student who is about to ask is worse."""
        idle = [c for c in self.connections
                if c is not self and isinstance(c, BoundedProtocol) and c._is_idle()]
        if not idle:
            return False
        min(idle, key=lambda c: c._idle_since)._close_now()
        return True

    # ------------------------------------------------------------------ reading
    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._linger_left -= len(data)
            if self._linger_left <= 0:
                self._close_now()
            return
        self._unset_keepalive_if_required()
        self._completed_in_read = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            refusal = exc.__context__
            if isinstance(refusal, _Refusal):
                self._refuse(refusal.status, refusal.detail, refusal.retry_after)
            else:
                self._refuse(400, f"the request is not valid HTTP/1.1 ({exc}); this server "
                                  "speaks HTTP/1.1 without TLS")
            return
        if self._head_started:
            # A head still incomplete after this read. If a message also ended in this read,
            # where the new head began is unknown: it is counted from the next read on.
            if not self._completed_in_read:
                self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse(431, self._head_detail(), None)

    def _head_detail(self) -> str:
        return (f"the request head (request line and headers) is over the limit of "
                f"{self.limits.max_head_bytes} bytes (the page sends a few hundred)")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True
        self._head_bytes = 0
        if self._timer is None:
            self._arm(self.limits.header_timeout_s, self._head_expired)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            raise _Refusal(414, f"the URL is over the limit of {self.limits.max_url_bytes} bytes")

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers) + 24
        if size > self.limits.max_head_bytes:
            raise _Refusal(431, self._head_detail())
        if self._over_capacity:
            raise _Refusal(503, f"this server has {self.limits.max_connections} connections "
                                "open, all busy; try again in a second", retry_after=1)
        self._head_started = False
        self._cancel_timer()
        super().on_headers_complete()
        self._last_body = self.loop.time()
        self._arm(self.limits.body_timeout_s, self._body_expired)

    def on_body(self, body: bytes) -> None:
        self._last_body = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel_timer()
        self._completed_in_read = True
        super().on_message_complete()
        if self.cycle is not None and self.cycle.response_complete and not self._lingering:
            # Answered before its body was all read (a refusal that keeps the connection):
            # the next head's deadline starts now, as on_response_complete could not arm it.
            self._arm(self.limits.header_timeout_s, self._head_expired)

    def on_response_complete(self) -> None:
        if self._lingering:
            self.server_state.total_requests += 1
            return
        super().on_response_complete()
        self._idle_since = next(_idle_order)
        if self._timer is None and not self._real.is_closing():
            self._arm(self.limits.header_timeout_s, self._head_expired)

    # ------------------------------------------------------------------ deadlines
    def _arm(self, delay: float, callback) -> None:
        self._cancel_timer()
        self._timer = self.loop.call_later(delay, callback)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_expired(self) -> None:
        self._timer = None
        if self._lingering or (self.cycle is not None and not self.cycle.response_complete):
            return      # a request is being answered; its end re-arms this deadline
        if not self._head_started:
            self._close_now()       # idle: nothing was asked, nothing to answer
            return
        self._refuse(408, f"the request head did not arrive within "
                          f"{self.limits.header_timeout_s:g} s; send the whole request at once")

    def _body_expired(self) -> None:
        self._timer = None
        cycle = self.cycle
        if cycle is None or not cycle.more_body or self._lingering:
            return
        waited = self.loop.time() - self._last_body
        if self.flow.read_paused or waited < self.limits.body_timeout_s:
            # Paused: the app is not reading yet (busy or queued), so the client is not late.
            self._arm(self.limits.body_timeout_s - (0 if self.flow.read_paused else waited),
                      self._body_expired)
            return
        self._refuse(408, f"the request body stalled: nothing arrived for "
                          f"{self.limits.body_timeout_s:g} s")

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.limits.send_timeout_s, self._close_now)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    # ------------------------------------------------------------------ answering, closing
    def _refuse(self, status: int, detail: str, retry_after: int | None = None) -> None:
        """Answer `status` from the protocol itself (no app involved), then close lingering."""
        if self._real is None or self._real.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:      # too late for a status: just end the connection
                self._close_now()
                return
            cycle.disconnected = True       # the app's receive() now says disconnect
            cycle.message_event.set()
        body = orjson.dumps({"detail": detail})
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        if retry_after is not None:
            head.append(b"retry-after: %d\r\n" % retry_after)
        head.append(b"content-type: application/json\r\n" + PLAIN_HEADERS +
                    b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self._real.write(b"".join(head) + body)
        self._linger()

    def _client_still_sending(self) -> bool:
        return self._head_started or (self.cycle is not None and self.cycle.more_body)

    def _close_requested(self) -> None:
        """uvicorn closes after a `Connection: close` response: linger if input is pending."""
        if self._lingering or self._stopping or not self._client_still_sending():
            self._close_now()
        else:
            self._linger()

    def _linger(self) -> None:
        self._cancel_timer()
        if self._lingering or self._real.is_closing():
            return
        self._lingering = True
        # After a refused head little is worth reading (a header flood is drained for at most
        # HEAD_DRAIN_BYTES); after a refused body, up to the declared size may still come.
        self._linger_left = HEAD_DRAIN_BYTES if self._head_started else self.limits.linger_bytes
        try:
            self._real.write_eof()      # FIN after the answer: the client reads it, then EOF
        except (NotImplementedError, OSError, RuntimeError):
            self._close_now()
            return
        self.flow.resume_reading()
        self._linger_timer = self.loop.call_later(self.limits.linger_s, self._close_now)

    def _close_now(self) -> None:
        real = self._real
        if real is None or real.is_closing():
            return
        if real.get_write_buffer_size():
            real.abort()        # close() would wait for a client that does not read
        else:
            real.close()

    def shutdown(self) -> None:
        self._stopping = True
        if self.cycle is None or self.cycle.response_complete or self._lingering:
            self._close_now()
        else:
            self.cycle.keep_alive = False
            self.loop.call_later(self.limits.shutdown_timeout_s, self._close_now)
