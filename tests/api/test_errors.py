"""Every error of the contract: a 4xx whose `detail` names the problem. Never a 500."""
from __future__ import annotations

import base64

import numpy as np
import pytest

OK = {"pixels": [0] * 64, "width": 8, "height": 8}
JSON = {"content-type": "application/json"}


# Unparseable JSON is 400 ("could not read it"); parseable but wrong is 422. Python's JSON
# reader accepts the NaN/Infinity extensions, so those arrive as numbers and are refused as 422.
@pytest.mark.parametrize("raw, status, words", [
    (b"{bad", 400, ["malformed JSON", "character 1"]),
    (b'{"pixels": [1, 2', 400, ["malformed JSON"]),
    (b"\xff\xfe", 400, ["malformed JSON"]),
    (b"", 422, ["empty"]),
    (b'{"pixels": [NaN], "width": 8, "height": 8}', 422, ["pixels[0]", "NaN"]),
    (b'{"pixels": [Infinity], "width": 8, "height": 8}', 422, ["inf"]),
    (b'{"pixels": [1e999], "width": 8, "height": 8}', 422, ["inf"]),
    (b'{"preprocess": NaN, "image": ""}', 422, ["preprocess", "NaN"]),
    (b"[1, 2, 3]", 422, ["JSON object"]),
    (b'"pixels"', 422, ["JSON object"]),
])
def test_unreadable_bodies(client, raw, status, words):
    r = client.post("/api/forward", content=raw, headers=JSON)
    assert r.status_code == status, r.text
    for w in words:
        assert w.lower() in r.json()["detail"].lower(), r.json()


def test_non_json_content_type_is_422_saying_json(client):
    r = client.post("/api/forward", content=b'{"pixels": [0]}', headers={"content-type": "text/plain"})
    assert r.status_code == 422 and "application/json" in r.json()["detail"]


@pytest.mark.parametrize("body, words", [
    ({}, ["exactly one input"]),
    ({"pixels": [0] * 64}, ["width", "height"]),
    ({**OK, "image": "data:image/png;base64,AAAA"}, ["exactly one input"]),
    ({**OK, "colour": "red"}, ["colour", "unknown field", "accepted"]),
    ({**OK, "pixels": [0] * 63}, ["63 values", "8 × 8 = 64"]),
    ({**OK, "pixels": [256] + [0] * 63}, ["pixels[0]", "255"]),
    ({**OK, "pixels": [-1] + [0] * 63}, ["pixels[0]", "0"]),
    ({**OK, "pixels": [1.5] + [0] * 63}, ["pixels[0]", "integer"]),
    ({**OK, "pixels": ["1"] + [0] * 63}, ["pixels[0]", "integer"]),
    ({**OK, "pixels": [True] + [0] * 63}, ["pixels[0]", "integer"]),
    ({**OK, "pixels": 5}, ["pixels", "list"]),
    ({**OK, "width": 7, "pixels": [0] * 56}, ["width", "8"]),
    ({"pixels": [0] * (513 * 8), "width": 513, "height": 8}, ["width", "512"]),
    ({**OK, "width": "8"}, ["width", "integer"]),
    ({**OK, "preprocess": "yes"}, ["preprocess", "bool"]),
    ({**OK, "preprocess": False}, ["28×28 or 32×32"]),
    ({"image": 12}, ["image", "string"]),
    ({"image": "http://example.com/x.png"}, ["data:image/png;base64"]),
    ({"image": "data:image/png;base64,!!!!"}, ["base64"]),
    ({"image": "data:image/png;base64," + base64.b64encode(b"not a png").decode()},
     ["PNG or JPEG"]),
    ({"image": "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()},
     ["PNG or JPEG"]),
])
def test_bad_forward_bodies(client, body, words):
    r = client.post("/api/forward", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str)
    for w in words:
        assert w.lower() in detail.lower(), detail


def test_truncated_png_is_422(client, pad_drawing, data_url):
    url = data_url(pad_drawing, "RGBA")
    raw = base64.b64decode(url.split(",", 1)[1])
    cut = "data:image/png;base64," + base64.b64encode(raw[: len(raw) // 2]).decode()
    r = client.post("/api/forward", json={"image": cut})
    assert r.status_code == 422 and "decoded" in r.json()["detail"], r.text


def test_image_over_1024_pixels_is_refused_before_decoding(client, data_url):
    r = client.post("/api/forward", json={"image": data_url(np.zeros((8, 1025), np.uint8), "L")})
    assert r.status_code == 422 and "1025×8" in r.json()["detail"] and "1024×1024" in r.json()["detail"]


def test_gif_is_not_accepted(client):
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (10, 10)).save(buf, "GIF")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    r = client.post("/api/forward", json={"image": url})
    assert r.status_code == 422 and "GIF" in r.json()["detail"]


def test_image_over_2mb_is_413(client):
    url = "data:image/png;base64," + "A" * (2 * 1024 * 1024 * 4 // 3 + 100)
    r = client.post("/api/forward", json={"image": url})
    assert r.status_code == 413 and "2 MB" in r.json()["detail"], r.text


def test_body_over_the_limit_is_413_by_content_length(client, settings):
    r = client.post("/api/forward", content=b"x" * (settings.max_body_bytes + 1), headers=JSON)
    assert r.status_code == 413 and str(settings.max_body_bytes) in r.json()["detail"]


def test_body_over_the_limit_is_413_when_streamed_without_length(client, settings):
    def chunks():   # chunked transfer: no Content-Length, the limit is counted as it arrives
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b" " * 65536
    r = client.post("/api/forward", content=chunks(), headers=JSON)
    assert r.status_code == 413, r.text


@pytest.mark.parametrize("extra, words", [
    ({"layer": "conv9", "unit": [0, 0, 0]}, ["conv9", "conv1", "softmax"]),
    ({"layer": "conv1", "unit": [6, 0, 0]}, ["[6, 0, 0]", "0..5", "0..27"]),
    ({"layer": "conv1", "unit": [0, 0, 28]}, ["0..27"]),
    ({"layer": "conv1", "unit": [0, 0]}, ["conv1", "3"]),
    ({"layer": "fc1", "unit": [120]}, ["0..119"]),
    ({"layer": "softmax", "unit": [-1]}, ["0..9"]),
    ({"layer": "conv1", "unit": []}, ["unit"]),
    ({"layer": "conv1", "unit": [0, 0, 0, 0]}, ["unit"]),
    ({"layer": "conv1", "unit": [0.5, 0, 0]}, ["unit[0]", "integer"]),
    ({"layer": "conv1"}, ["unit", "required"]),
    ({"unit": [0]}, ["layer", "required"]),
    ({"layer": 3, "unit": [0]}, ["layer", "string"]),
])
def test_bad_explain_bodies(client, extra, words):
    r = client.post("/api/explain", json={**OK, **extra})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    for w in words:
        assert w in detail, detail


def test_unknown_paths_and_methods_are_4xx(client):
    assert client.get("/api/nothing").status_code == 404
    assert client.get("/api/forward").status_code == 405
    assert client.post("/api/health").status_code == 405
