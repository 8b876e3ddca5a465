"""POST /api/forward with `Accept: application/octet-stream`: the binary wire of app/wire.py.

The binary answer must carry the JSON answer's float32 values bit for bit, every stage (the
rebuilt ones included), with the JSON contract unchanged for every client that does not ask.
"""
from __future__ import annotations

import gzip

import numpy as np
import orjson
import pytest

from app import wire
from app.padpng import white_ink_png
from engine.trace import StageRecord, Trace

BINARY = {"accept": "application/octet-stream"}


def bits(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.float32).view(np.uint32)


def assert_same_answer(decoded: dict, answer: dict):
    """Decoded binary == JSON answer: same keys in order, entries, and float32 bits."""
    assert list(decoded) == list(answer)
    assert decoded["prediction"] == answer["prediction"]
    for got, want in zip(decoded["layers"], answer["layers"], strict=True):
        assert {k: v for k, v in got.items() if k != "values"} == \
               {k: v for k, v in want.items() if k != "values"}
        assert got["values"].dtype == np.float32, got["name"]
        np.testing.assert_array_equal(got["values"].view(np.uint32), bits(want["values"]),
                                      err_msg=got["name"])
    np.testing.assert_array_equal(decoded["probabilities"].view(np.uint32),
                                  bits(answer["probabilities"]))
    if "preprocessing" in answer:
        got, want = decoded["preprocessing"], answer["preprocessing"]
        assert got["crop_box"] == want["crop_box"]
        assert got["centre_of_mass"] == want["centre_of_mass"]
        for g, w in zip(got["steps"], want["steps"], strict=True):
            assert (g["name"], g["shape"]) == (w["name"], w["shape"])
            np.testing.assert_array_equal(g["values"].view(np.uint32), bits(w["values"]),
                                          err_msg=g["name"])


def both(client, body, path="/api/forward"):
    binary = client.post(path, json=body, headers=BINARY)
    answer = client.post(path, json=body)
    assert binary.status_code == 200 and answer.status_code == 200, (binary.text, answer.text)
    assert binary.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-type"] == "application/json"
    return wire.decode_forward(binary.content), answer.json(), binary


def page_body(digit):
    from PIL import Image
    big = np.asarray(Image.fromarray(digit).resize((280, 280), Image.BILINEAR))
    import base64
    return {"image": "data:image/png;base64," + base64.b64encode(white_ink_png(big)).decode()}


def header_of(payload: bytes) -> dict:
    n = int.from_bytes(payload[4:8], "little")
    return orjson.loads(payload[8:8 + n])


def test_the_page_drawing_decodes_to_the_json_answer(client, digit):
    decoded, answer, r = both(client, page_body(digit))
    assert_same_answer(decoded, answer)
    encodings = {l["name"]: l["values"]["encoding"] for l in header_of(r.content)["layers"]}
    kinds = {l["name"]: (l["kind"], l.get("function"), l.get("op")) for l in answer["layers"]}
    for name, (kind, function, op) in kinds.items():
        if function == "relu":
            assert encodings[name] == "relu", name
        if kind == "pool" and op == "max":
            assert encodings[name] == "max_pool", name
        if kind == "flatten":
            assert encodings[name] == "copy", name
        if kind in ("conv", "dense", "softmax"):
            assert encodings[name] == "f32", name
    assert encodings["input"] == "u8/255"


@pytest.mark.parametrize("body", [
    {"preprocess": False}, {"preprocess": True},
])
def test_pixel_bodies_decode_to_the_json_answer(client, digit, body):
    decoded, answer, _ = both(client, {"pixels": digit.ravel().tolist(), "width": 28,
                                       "height": 28, **body})
    assert ("preprocessing" in answer) is body["preprocess"]
    assert_same_answer(decoded, answer)


def test_a_blank_pad_decodes_to_the_json_answer(client):
    decoded, answer, _ = both(client, {"pixels": [0] * 28 * 28, "width": 28, "height": 28})
    assert answer["preprocessing"]["crop_box"] is None
    assert_same_answer(decoded, answer)


def test_every_shipped_model_decodes_to_its_json_answer(client, digit):
    models = [m["id"] for m in client.get("/api/models").json()]
    for model in models:
        decoded, answer, r = both(client, page_body(digit), f"/api/forward?model={model}")
        assert_same_answer(decoded, answer)
        for layer in header_of(r.content)["layers"]:
            if layer.get("function") in ("tanh", "sigmoid"):   # not bit-exact in JS: sent
                assert layer["values"]["encoding"] == "f32", (model, layer["name"])


def test_the_page_drawing_is_under_20_kb_on_the_wire(client, digit):
    r = client.post("/api/forward", json=page_body(digit),
                    headers={**BINARY, "accept-encoding": "gzip"})
    # httpx undoes the gzip; what went over the wire is the compressed length.
    wire_bytes = int(r.headers["content-length"])
    assert r.headers["content-encoding"] == "gzip"
    assert wire_bytes <= 20_000, wire_bytes
    json_r = client.post("/api/forward", json=page_body(digit), headers={"accept-encoding": "gzip"})
    assert wire_bytes < 0.6 * int(json_r.headers["content-length"])


def test_gzip_only_when_accepted(client, digit):
    body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    plain = client.post("/api/forward", json=body, headers={**BINARY, "accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content[:4] == wire.MAGIC
    zipped = client.post("/api/forward", json=body, headers={**BINARY, "accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content       # httpx inflated it: the same bytes


@pytest.mark.parametrize("accept, binary", [
    (None, False), ("*/*", False), ("application/json", False),
    ("application/octet-stream", True), ("application/octet-stream, */*;q=0.1", True),
    ("application/json, application/octet-stream;q=0.5", False),
    ("application/octet-stream;q=0.9, application/json;q=0.5", True),
    ("application/octet-stream;q=0", False), ("text/html, application/xhtml+xml", False),
])
def test_the_binary_answer_is_only_for_clients_that_ask(client, digit, accept, binary):
    headers = {} if accept is None else {"accept": accept}
    r = client.post("/api/forward", json={"pixels": digit.ravel().tolist(), "width": 28,
                                          "height": 28}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == ("application/octet-stream" if binary
                                         else "application/json")
    assert "accept" in r.headers["vary"].lower()     # caches must key on Accept too


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400), (b'{"pixels": [1, 2], "width": 28, "height": 28}', 422),
    (b'{"image": "data:image/gif;base64,AAAA"}', 422),
])
def test_refusals_stay_json_with_the_binary_accept(client, body, status):
    r = client.post("/api/forward", content=body,
                    headers={**BINARY, "content-type": "application/json"})
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]


# ---- the lean route: the same answers and refusals as FastAPI's own handling
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/vnd.test+json"])
def test_fast_and_standard_paths_give_the_same_answer(client, digit, content_type):
    """A plain application/json body takes the lean path; a +json type goes through FastAPI's
    own body handling (tests/api/test_errors.py covers its refusals): same bytes out."""
    body = orjson.dumps({"pixels": digit.ravel().tolist(), "width": 28, "height": 28})
    ref = client.post("/api/forward", content=body,
                      headers={"content-type": "application/vnd.test+json"})
    r = client.post("/api/forward", content=body, headers={"content-type": content_type})
    assert r.status_code == ref.status_code == 200
    assert r.content == ref.content


@pytest.mark.parametrize("body", [
    b'{"pixels": [0], "pixels": [1], "width": 8, "height": 8}',     # duplicate key
    b'{"pixels": [NaN], "width": 8, "height": 8}',                  # NaN literal (not JSON)
    b'\xef\xbb\xbf{"pixels": [], "width": 8, "height": 8}',         # a UTF-8 BOM
    b'{"pixels": [1e400], "width": 8, "height": 8}',
    b'[1, 2, 3]', b'"x"', b"",
])
def test_odd_bodies_are_refused_as_fastapi_words_them(client, body):
    fast = client.post("/api/forward", content=body, headers={"content-type": "application/json"})
    slow = client.post("/api/forward", content=body,
                       headers={"content-type": "application/vnd.test+json"})
    assert fast.status_code == slow.status_code and 400 <= fast.status_code < 500, fast.text
    assert fast.json() == slow.json()


def test_unknown_model_is_the_same_422_on_the_lean_path(client, digit):
    r = client.post("/api/forward?model=nope", json={"pixels": digit.ravel().tolist(),
                                                     "width": 28, "height": 28})
    assert r.status_code == 422 and "valid ids" in r.json()["detail"]


# ---- the server omits a stage only when the page's rebuild gives its very bits
def _trace(records):
    return Trace([StageRecord(n, k, tuple(np.shape(v)), p, np.asarray(v, np.float32))
                  for n, k, p, v in records], False)


def test_a_stage_is_sent_when_its_rebuild_would_differ():
    x = np.array([[[1.5, -2.0], [0.25, -0.0]]], np.float32)            # 1×2×2, a -0 in it
    relu_ok = np.maximum(x, 0).astype(np.float32)
    relu_ok[relu_ok == 0] = 0.0                                         # +0 everywhere
    wrong = relu_ok.copy()
    wrong[0, 0, 0] = np.nextafter(np.float32(1.5), np.float32(2))      # one ulp off
    negzero = relu_ok.copy()
    negzero[0, 1, 1] = -0.0                                             # a -0 the page would not make
    probs = np.array([0.25, 0.75], np.float32)
    trace = _trace([
        ("input", "input", {}, x),
        ("a", "activation", {"function": "relu"}, relu_ok),
        ("b", "activation", {"function": "relu"}, wrong),
        ("c", "activation", {"function": "relu"}, negzero),
        ("p", "pool", {"op": "max", "window": 2, "stride": 2}, [[[1.5]]]),    # source holds -0
        ("f", "flatten", {}, [1.5]),
        ("s", "softmax", {}, probs),
    ])
    payload = wire.encode_forward(trace, None)
    enc = {l["name"]: l["values"]["encoding"] for l in header_of(payload)["layers"]}
    assert enc == {"input": "f32", "a": "relu", "b": "f32", "c": "f32", "p": "f32",
                   "f": "copy", "s": "f32"}
    decoded = wire.decode_forward(payload)
    for rec, layer in zip(trace.records, decoded["layers"]):
        np.testing.assert_array_equal(layer["values"].view(np.uint32),
                                      np.asarray(rec.values, np.float32).ravel().view(np.uint32))


def test_max_pool_rebuild_matches_a_naive_loop():
    rng = np.random.default_rng(3)
    for shape, window, stride in [((3, 8, 8), 2, 2), ((2, 7, 9), 3, 2), ((1, 5, 5), 2, 1)]:
        src = rng.standard_normal(shape).astype(np.float32)
        c, h, w = shape
        oh, ow = (h - window) // stride + 1, (w - window) // stride + 1
        naive = np.array([[[src[k, y * stride:y * stride + window, x * stride:x * stride + window].max()
                            for x in range(ow)] for y in range(oh)] for k in range(c)], np.float32)
        np.testing.assert_array_equal(wire.max_pool(src.ravel(), shape, window, stride),
                                      naive.ravel())


def test_u8_encoding_only_for_exact_k_over_255():
    k = np.arange(256, dtype=np.uint8)
    exact = k.astype(np.float32) * np.float32(1 / 255)
    assert wire._as_u8(exact) is not None
    off = exact.copy()
    off[7] = np.nextafter(off[7], np.float32(1))
    assert wire._as_u8(off) is None
    assert wire._as_u8(np.float32([0.5])) is None     # 127.5 / 255 is no k / 255


def test_decoder_refuses_what_is_not_a_wire_answer():
    with pytest.raises(ValueError, match="not a ConvScope"):
        wire.decode_forward(b"{}")
    assert gzip.decompress(gzip.compress(b"x")) == b"x"


# ---- a network's own trace: rebuilds its layers make by construction, not recomputed
def _page_rule_relu(values: np.ndarray) -> np.ndarray:
    """static/js/wire.js relu, one value at a time: v > 0 ? v : +0."""
    return np.array([v if v > 0 else np.float32(0.0) for v in values.ravel()], np.float32)


def test_the_engine_relu_is_the_page_rule_bit_for_bit():
    """What lets app/wire.py trust a ReLU stage: np.maximum(x, 0) as ReLU computes it gives
    the page's bits for every non-NaN float, -0, denormals and infinities included, at every
    length (NumPy's SIMD body and scalar tail)."""
    from engine.layers import ReLU
    tiny = np.float32(1e-45)
    special = np.array([-0.0, 0.0, tiny, -tiny, np.inf, -np.inf, 3.4e38, -3.4e38, 1.5, -1.5],
                       np.float32)
    rng = np.random.default_rng(0)
    layer = ReLU("r")
    for n in (1, 7, 8, 15, 16, 17, 33, 64, 101, 4704):
        x = np.concatenate([np.resize(special, n // 2), rng.standard_normal(n - n // 2)
                            .astype(np.float32)])
        rng.shuffle(x)
        want = _page_rule_relu(x).view(np.uint32)
        np.testing.assert_array_equal(layer.forward_one(x).view(np.uint32), want)
        np.testing.assert_array_equal(layer.forward(x[None])[0].view(np.uint32), want)


@pytest.mark.parametrize("model", ["lenet-mnist", "lenet-harley", "lenet-fashion"])
def test_trusting_a_network_sends_the_bytes_checking_would(digit, model):
    """The per-network shortcut changes nothing: the same bytes as every rebuild recomputed
    and compared, for shipped models of ReLU and of tanh (whose max pools see negatives)."""
    from app.config import ROOT
    from engine.network import Network
    from engine.preprocess import preprocess
    net = Network.load(ROOT / "models" / f"{model}.npz")
    rng = np.random.default_rng(1)
    for image in (digit, np.zeros_like(digit), rng.integers(0, 256, digit.shape, np.uint8)):
        pre = preprocess(image)
        trace = net.forward(pre.input)
        assert wire.encode_forward(trace, pre, net) == wire.encode_forward(trace, pre)


def test_trusted_stages_stay_exact_with_negative_zero_and_nan():
    """A net fed -0, NaN and negatives: the max pool of the input itself is checked (it holds
    -0: sent), the ReLU of -0 is rebuilt (+0 on both sides) and so is the max pool of that
    ReLU; a ReLU holding NaN is sent (the page would make 0 of it), and so is the max pool
    after it. Every stage decodes to the engine's own bits."""
    from engine.network import Network
    spec = [{"name": "input", "kind": "input", "shape": [2, 8, 8]},
            {"name": "p0", "kind": "pool", "op": "max", "window": 2, "stride": 2},
            {"name": "r1", "kind": "activation", "function": "relu"},
            {"name": "p1", "kind": "pool", "op": "max", "window": 2, "stride": 2},
            {"name": "flat", "kind": "flatten"},
            {"name": "fc", "kind": "dense", "units": 3},
            {"name": "softmax", "kind": "softmax"}]
    net = Network(spec, seed=0)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 8, 8)).astype(np.float32)
    x[0, ::2, ::2] = -0.0
    for nan in (False, True):
        if nan:
            x[1, 0, 0] = np.nan
        trace = net.forward(x)
        payload = wire.encode_forward(trace, None, net)
        enc = {l["name"]: l["values"]["encoding"] for l in header_of(payload)["layers"]}
        rebuilt = "f32" if nan else None
        assert enc["p0"] == "f32" and enc["flat"] == "copy", enc
        assert enc["r1"] == (rebuilt or "relu") and enc["p1"] == (rebuilt or "max_pool"), enc
        decoded = wire.decode_forward(payload)
        for rec, layer in zip(trace.records, decoded["layers"]):
            np.testing.assert_array_equal(layer["values"].view(np.uint32),
                                          rec.values.ravel().view(np.uint32), err_msg=rec.name)
        assert payload == wire.encode_forward(trace, None)


@pytest.mark.parametrize("model", ["lenet-mnist", "lenet-harley"])
def test_the_json_answer_writes_shared_value_lists_byte_for_byte(digit, model):
    """forward_payload writes a repeated value list once (orjson.Fragment): the same bytes as
    every list written out where it stands."""
    from app import serialize
    from app.config import ROOT
    from app.responses import dumps
    from engine.network import Network
    from engine.preprocess import preprocess
    net = Network.load(ROOT / "models" / f"{model}.npz")
    for image, pre_on in ((digit, True), (np.zeros_like(digit), True), (digit, False)):
        pre = preprocess(image)
        trace = net.forward(pre.input)
        pre = pre if pre_on else None
        plain = {**({"preprocessing": serialize.preprocessing(pre)} if pre else {}),
                 "prediction": int(trace.prediction), "layers": serialize.trace_layers(trace),
                 "probabilities": serialize.flat(trace.probabilities)}
        shared = serialize.forward_payload(trace, pre, net)
        assert any(isinstance(e["values"], orjson.Fragment) for e in shared["layers"])
        assert dumps(shared) == dumps(plain)
