"""GET / and /static: only files under static/, whatever the path tries."""
from __future__ import annotations

import os
import socket

import pytest

from app.config import Settings


@pytest.fixture(scope="module")
def jail(tmp_path_factory, model_path):
    """An app whose static/ holds one file, beside a secret and a symlink pointing at it."""
    from fastapi.testclient import TestClient
    from app.main import create_app
    root = tmp_path_factory.mktemp("site")
    (root / "secret.txt").write_text("SECRET")
    static = root / "static"
    (static / "js").mkdir(parents=True)
    (static / "js" / "ok.js").write_text("export const ok = 1;\n")
    os.symlink(root / "secret.txt", static / "link.txt")
    os.symlink(root, static / "up")
    settings = Settings(model_path=model_path, static_dir=static)
    with TestClient(create_app(settings)) as c:
        yield c


def test_a_static_file_is_served(jail):
    r = jail.get("/static/js/ok.js")
    assert r.status_code == 200 and r.text == "export const ok = 1;\n"
    assert "javascript" in r.headers["content-type"]


@pytest.mark.parametrize("path", [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/js/%2e%2e/%2e%2e/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/js/..%5c..%5csecret.txt",
    "/static/..\\secret.txt",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/link.txt",
    "/static/up/secret.txt",
    "/static/js/ok.js%00.txt",
    "/static/",
    "/static/js/",
])
def test_nothing_outside_static_is_served(jail, path):
    r = jail.get(path)
    assert r.status_code == 404, (path, r.status_code, r.text[:80])
    assert "SECRET" not in r.text and "root:" not in r.text


def test_raw_dot_dot_on_the_wire_is_404(live_server):
    # A raw socket, because an HTTP client normalises `..` away before sending.
    host, port = live_server.removeprefix("http://").split(":")
    for target in ("/static/../app/config.py", "/static/js/../../app/config.py",
                   "/static/%2e%2e/app/config.py", "/static/..%2fapp%2fconfig.py"):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        status = data.split(b"\r\n", 1)[0]
        assert b" 404 " in status, (target, status)
        assert b"Settings" not in data


def test_index_page_is_rendered(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "<html" in r.text.lower()
