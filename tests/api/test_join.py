"""GET /api/join: the join URLs and a QR code that encodes the first one."""
from __future__ import annotations

import pytest

from app.config import Settings


def test_join_defaults_to_the_address_used(client):
    r = client.get("/api/join")
    assert r.status_code == 200
    body = r.json()
    assert body["urls"] == ["http://testserver/"]
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"].rstrip().endswith("</svg>")


def test_join_lists_classroom_urls_and_the_qr_encodes_the_first(model_path):
    import segno
    from fastapi.testclient import TestClient
    from app.main import create_app
    urls = ("http://192.168.1.20:8000/", "http://10.0.0.5:8000/")
    with TestClient(create_app(Settings(model_path=model_path, join_urls=urls))) as c:
        body = c.get("/api/join").json()
    assert body["urls"] == list(urls)
    expected = segno.make(urls[0], error="m").svg_inline(scale=4, dark="#000", light="#fff")
    assert body["qr_svg"] == expected
    assert body["qr_svg"] != segno.make(urls[1], error="m").svg_inline(scale=4)


def test_a_3000_character_host_is_a_400_naming_the_header(client):
    # Before: ~300 ms of QR drawing per request on the event loop, and a 500 from 2,324 up.
    r = client.get("/api/join", headers={"host": "a" * 3000})
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert "Host header" in detail and "3000 characters" in detail and len(detail) < 300


@pytest.mark.parametrize("host", ["evil.example:80", "testserver:8080", "10.9.8.7"])
def test_a_host_that_names_another_server_is_a_421_and_no_qr(client, host):
    r = client.get("/api/join", headers={"host": host})
    assert r.status_code == 421
    assert "does not name this server" in r.json()["detail"]


@pytest.mark.parametrize("host", [b"bad host", b"a:b:c", b"x:999999", "ex\u00e4mple".encode()])
def test_a_malformed_host_is_a_400(client, host):
    r = client.get("/api/join", headers={"host": host})
    assert r.status_code == 400 and "host[:port]" in r.json()["detail"]


def test_the_machines_own_names_are_accepted_on_the_servers_port(live_server):
    import httpx
    port = live_server.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        r = httpx.get(live_server + "/api/join", headers={"host": host})
        assert r.status_code == 200, (host, r.text)
        assert r.json()["urls"] == [f"http://{host.lower()}/"]
    r = httpx.get(live_server + "/api/join", headers={"host": "127.0.0.1:1"})
    assert r.status_code == 421, r.text


def test_classroom_urls_are_served_whatever_the_host(model_path):
    from fastapi.testclient import TestClient
    from app.main import create_app
    urls = ("http://192.168.1.20:8000/",)
    with TestClient(create_app(Settings(model_path=model_path, join_urls=urls))) as c:
        assert c.get("/api/join", headers={"host": "x" * 3000}).json()["urls"] == list(urls)
