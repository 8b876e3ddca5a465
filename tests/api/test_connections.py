"""Bounded connections (app/protocol.py) against a real uvicorn on 127.0.0.1, with short limits.

Each test is one defect a hostile or careless client on the classroom LAN could cause: an
endless header, an endless URL, a connection that never speaks, a half-sent head or body,
more connections than a worker keeps, a 413 the client never read. Raw sockets, because
HTTP client libraries refuse to send most of these.
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import replace

import pytest

from tests.serving import serve

TIMEOUT = 0.4     # header and body timeouts of the server under test (the default is 10 s)


@pytest.fixture(scope="module")
def server(settings):
    from app.main import create_app
    app = create_app(replace(settings, header_timeout_s=TIMEOUT, body_timeout_s=TIMEOUT,
                             linger_s=1.0))
    with serve(app) as url:
        yield url.rsplit(":", 1)[1]


def connect(port: str, timeout: float = 5) -> socket.socket:
    return socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    """Status, headers and body of the one response the server sends before closing."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def assert_security_headers(headers: dict) -> None:
    """The headers every app response carries (app/security.py), on an answer from the
    protocol level too."""
    from app.security import PAGE_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["permissions-policy"] == "camera=(self), microphone=(), geolocation=()"
    assert headers["content-security-policy"] == PAGE_POLICY


def health(port: str, timeout: float = 2.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=timeout)
    conn.request("GET", "/api/health")
    status = conn.getresponse().status
    conn.close()
    return status


def test_an_endless_header_gets_431_and_the_server_stops_reading_it(server):
    flood = connect(server)
    flood.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ")
    sent, refused = 0, None
    chunk = b"a" * 65536

    def send_forever():
        nonlocal sent, refused
        try:
            while sent < 80 * 2**20:        # the 80 MB header
                flood.sendall(chunk)
                sent += len(chunk)
        except OSError as exc:
            refused = exc

    sender = threading.Thread(target=send_forever, daemon=True)
    sender.start()
    # Health is answered while the flood runs (before: 3.3 s median, the worker at 98% CPU).
    assert [health(server) for _ in range(5)] == [200] * 5
    sender.join(10)
    # The server read the head limit, answered, drained 1 MiB more and closed: the sender was
    # cut off after a few MB (socket buffers included), not after 80.
    assert refused is not None and sent < 16 * 2**20, (sent, refused)
    flood.settimeout(2)
    status, headers, body = read_response(flood)
    assert status == 431 and headers["connection"] == "close"
    assert "32768 bytes" in json.loads(body)["detail"]


def test_a_head_over_the_limit_in_one_piece_gets_431(server):
    sock = connect(server)
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 + b"".join(b"X-%d: %s\r\n" % (i, b"b" * 1000) for i in range(40)) + b"\r\n")
    status, headers, body = read_response(sock)
    assert status == 431 and "request head" in json.loads(body)["detail"]
    assert_security_headers(headers)


def test_a_head_under_the_limit_is_served(server):
    sock = connect(server)
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + b"c" * 20000
                 + b"\r\nConnection: close\r\n\r\n")
    assert read_response(sock)[0] == 200


def test_an_overlong_url_gets_414(server):
    sock = connect(server)
    sock.sendall(b"GET /api/health?" + b"q" * 20000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, headers, body = read_response(sock)
    assert status == 414 and "8192 bytes" in json.loads(body)["detail"]
    assert_security_headers(headers)


def test_a_connection_that_never_speaks_is_closed_after_the_timeout(server):
    sock = connect(server)
    start = time.monotonic()
    assert sock.recv(100) == b""            # before: open forever (recv timed out)
    assert TIMEOUT * 0.8 < time.monotonic() - start < TIMEOUT + 3


def test_a_kept_alive_connection_that_starts_a_head_and_stalls_is_closed(server):
    conn = http.client.HTTPConnection("127.0.0.1", int(server), timeout=5)
    conn.request("GET", "/api/health")
    assert conn.getresponse().read() == b'{"status":"ok"}'
    conn.sock.sendall(b"GET /api/health HTTP/1.1\r\nHo")      # a slowloris, once served
    status, _, body = read_response(conn.sock)
    assert status == 408 and "did not arrive within" in json.loads(body)["detail"]


@pytest.mark.parametrize("drip", [False, True])
def test_a_half_sent_head_gets_408_even_if_it_drips(server, drip):
    sock = connect(server)
    sock.sendall(b"GET / HTTP/1.1\r\n")
    start = time.monotonic()
    if drip:    # slowloris: a header byte well within any per-read timeout, forever
        for _ in range(int(TIMEOUT / 0.1) + 3):
            try:
                sock.sendall(b"X-a: b\r\n")
            except OSError:
                break
            time.sleep(0.1)
    status, _, body = read_response(sock)
    assert status == 408 and "did not arrive within" in json.loads(body)["detail"]
    assert time.monotonic() - start < TIMEOUT + 3


def test_a_stalled_body_gets_408(server):
    sock = connect(server)
    sock.sendall(b"POST /api/forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 b"application/json\r\nContent-Length: 1000\r\n\r\n{\"pixels\": [")
    status, _, body = read_response(sock)
    assert status == 408 and "body stalled" in json.loads(body)["detail"]


def test_http_client_posting_6_mb_reads_the_413_and_its_detail(server):
    # Before: ConnectionResetError / BrokenPipeError, the server having closed with the body
    # still arriving. http.client sends the whole body before it reads anything.
    conn = http.client.HTTPConnection("127.0.0.1", int(server), timeout=10)
    conn.request("POST", "/api/forward", body=b"x" * 6_000_000,
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 413
    assert "6000000 bytes" in json.loads(response.read())["detail"]


def test_a_chunked_body_over_the_limit_reads_the_413(server):
    def chunks():
        for _ in range(100):
            yield b"y" * 65536        # 6.5 MB, no Content-Length: counted as it arrives
    conn = http.client.HTTPConnection("127.0.0.1", int(server), timeout=10)
    conn.request("POST", "/api/forward", body=chunks(), encode_chunked=True,
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 413 and "exceeds" in json.loads(response.read())["detail"]


def test_garbage_is_a_400_with_a_detail(server):
    sock = connect(server)
    sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64)   # TLS hello
    status, _, body = read_response(sock)
    assert status == 400 and "HTTP/1.1" in json.loads(body)["detail"]


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/model", "/static/js/api.js"])
def test_head_is_answered_wherever_get_is(server, path):
    conn = http.client.HTTPConnection("127.0.0.1", int(server), timeout=5)
    conn.request("GET", path)
    got = conn.getresponse()
    body = got.read()
    conn.request("HEAD", path)          # same keep-alive connection: HEAD must send no body
    head = conn.getresponse()
    assert head.status == 200 == got.status       # before: HEAD / was a 405
    assert head.read() == b""
    assert head.getheader("content-type") == got.getheader("content-type")
    if got.getheader("content-length"):
        assert head.getheader("content-length") == got.getheader("content-length") == str(len(body))
    conn.request("GET", "/api/health")  # and the connection still works after it
    assert conn.getresponse().read() == b'{"status":"ok"}'


def test_head_where_get_is_not_allowed_is_still_405(server):
    conn = http.client.HTTPConnection("127.0.0.1", int(server), timeout=5)
    conn.request("HEAD", "/api/forward")
    assert conn.getresponse().status == 405


def test_beyond_max_connections_idle_ones_make_room_and_busy_ones_get_503(settings):
    from app.main import create_app
    cap = 6
    app = create_app(replace(settings, max_connections=cap, header_timeout_s=3.0))
    with serve(app) as url:
        port = url.rsplit(":", 1)[1]
        idle = [connect(port) for _ in range(cap)]
        time.sleep(0.2)
        # At the cap with every connection idle: a new client is served, the longest-idle
        # connection is closed to make room.
        assert health(port) == 200
        idle[0].settimeout(2)
        assert idle[0].recv(10) == b""
        # Every connection busy mid-head (none to close): the newcomer gets a clean 503.
        busy = [connect(port) for _ in range(cap)]
        for sock in busy:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.3)
        extra = connect(port)
        extra.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, body = read_response(extra)
        assert status == 503 and headers["retry-after"] == "1"
        assert_security_headers(headers)
        assert f"{cap} connections" in json.loads(body)["detail"]
        for sock in busy:       # the busy ones finish their requests normally
            sock.sendall(b"Connection: close\r\n\r\n")
            assert read_response(sock)[0] == 200
        for sock in idle + busy + [extra]:
            sock.close()
