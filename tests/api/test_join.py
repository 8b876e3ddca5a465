"""GET /api/join: the join URLs and a QR code that encodes the first one."""
from __future__ import annotations

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
