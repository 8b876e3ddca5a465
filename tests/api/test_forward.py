"""POST /api/forward: every stage equals the engine's own Trace, float32 for float32."""
from __future__ import annotations

import re

import numpy as np
import pytest

from engine.preprocess import preprocess, to_network_input


def as_f32(values) -> np.ndarray:
    # JSON numbers parse as float64; shortest float32 digits round-trip exactly through it.
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def assert_matches_trace(body: dict, trace, pre=None):
    assert [l["name"] for l in body["layers"]] == [r.name for r in trace.records]
    for layer, rec in zip(body["layers"], trace.records):
        assert layer["kind"] == rec.kind and layer["shape"] == list(rec.shape), layer["name"]
        for k, v in rec.params.items():
            assert layer[k] == v, f"{layer['name']}.{k}"
        got = as_f32(layer["values"]).reshape(rec.shape)
        np.testing.assert_array_equal(got, rec.values, err_msg=layer["name"])
    assert body["prediction"] == trace.prediction
    np.testing.assert_array_equal(as_f32(body["probabilities"]), trace.probabilities)
    assert body["layers"][0]["kind"] == "input" and body["layers"][-1]["kind"] == "softmax"


def test_pixels_with_preprocessing_equal_the_engine(client, network, digit):
    r = client.post("/api/forward", json={"pixels": digit.ravel().tolist(),
                                          "width": 28, "height": 28})
    assert r.status_code == 200, r.text
    pre = preprocess(digit)
    body = r.json()
    assert_matches_trace(body, network.forward(pre.input))
    p = body["preprocessing"]
    y0, y1, x0, x1 = pre.bbox
    assert p["crop_box"] == [x0, y0, x1, y1]
    assert p["centre_of_mass"] == pytest.approx(list(pre.centre_of_mass))
    assert [s["name"] for s in p["steps"]] == ["fitted", "centred", "input"]
    for step in p["steps"]:
        np.testing.assert_array_equal(as_f32(step["values"]).reshape(step["shape"]),
                                      pre.steps[step["name"]], err_msg=step["name"])


def test_without_preprocessing_28_is_only_scaled_and_padded(client, network, digit):
    r = client.post("/api/forward", json={"pixels": digit.ravel().tolist(), "width": 28,
                                          "height": 28, "preprocess": False})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "preprocessing" not in body
    x = to_network_input(digit, preprocess=False)
    np.testing.assert_allclose(x[0, 2:30, 2:30], digit / 255, rtol=1e-6)   # k/255, 1 ulp
    assert not x[0, :2].any() and not x[0, :, 30:].any()
    assert_matches_trace(body, network.forward(x))


def test_png_from_the_pad_equals_its_ink(client, network, pad_drawing, data_url):
    r = client.post("/api/forward", json={"image": data_url(pad_drawing, "RGBA")})
    assert r.status_code == 200, r.text
    ink = pad_drawing[..., 3]            # white ink: brightness 255 × alpha = alpha
    assert_matches_trace(r.json(), network.forward(preprocess(ink).input))
    ys, xs = np.nonzero(ink)
    assert r.json()["preprocessing"]["crop_box"] == [xs.min(), ys.min(), xs.max() + 1,
                                                     ys.max() + 1]


def test_blank_image_gives_an_all_zero_input(client, data_url):
    blank = np.zeros((200, 200, 4), np.uint8)
    r = client.post("/api/forward", json={"image": data_url(blank, "RGBA")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert not any(body["layers"][0]["values"])
    assert body["preprocessing"]["crop_box"] is None
    assert len(body["probabilities"]) == 10


def test_values_are_shortest_float32_digits(client, digit):
    r = client.post("/api/forward", json={"pixels": digit.ravel().tolist(),
                                          "width": 28, "height": 28})
    layers = r.text[r.text.index('"layers"'):r.text.index('"probabilities"')]
    numbers = re.findall(r"-?\d+\.\d+(?:e-?\d+)?", layers)
    assert len(numbers) > 1000
    for tok in numbers:   # a float32 needs at most 9 significant digits, float64 up to 17
        assert tok == repr(float(np.float32(tok))) or len(tok.strip("-0.").split("e")[0]) <= 10, tok
        assert float(np.float32(tok)) == float(np.float32(float(tok)))
        assert len(tok) <= len(f"{np.float32(tok)!r}") + 12
    longest = max(len(t.split("e")[0].lstrip("-").replace(".", "").lstrip("0")) for t in numbers)
    assert longest <= 9, f"a value has {longest} significant digits"


def test_gzip_only_when_accepted(client, digit):
    body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    zipped = client.post("/api/forward", json=body, headers={"accept-encoding": "gzip"})
    plain = client.post("/api/forward", json=body, headers={"accept-encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.json() == plain.json()
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3


@pytest.mark.parametrize("mode,fmt", [("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"),
                                      ("RGB", "PNG"), ("RGBA", "PNG"), ("I;16", "PNG"),
                                      ("L", "JPEG"), ("RGB", "JPEG"), ("CMYK", "JPEG")])
def test_every_colour_mode_is_read_as_its_ink(client, network, digit, mode, fmt):
    """Light ink on black in each mode a PNG or JPEG can carry gives the digit's own input: RGBA
    and LA here have alpha 255 everywhere, as screenshots are saved (that was a 500 once);
    16-bit gray is scaled, not clipped (every pixel above 1/257 read as full ink once)."""
    import base64
    import io

    from PIL import Image

    img = Image.fromarray(digit)
    img = img.point(lambda v: 255 if v >= 128 else 0) if mode == "1" else img
    img = Image.fromarray(np.asarray(img).astype(np.uint16) * 257) if mode == "I;16" \
        else img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": 100} if fmt == "JPEG" else {}))
    url = f"data:image/{fmt.lower()};base64,{base64.b64encode(buf.getvalue()).decode()}"
    r = client.post("/api/forward", json={"image": url, "preprocess": False})
    assert r.status_code == 200, r.text
    got = as_f32(r.json()["layers"][0]["values"]).reshape(32, 32)[2:30, 2:30] * 255
    expected = np.where(digit >= 128, 255, 0) if mode == "1" else digit
    tolerance = 12 if fmt == "JPEG" else 0.01
    assert np.abs(got - expected).mean() < tolerance, (mode, fmt)
