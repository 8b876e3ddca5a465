"""POST /api/convolve and GET /api/kernels against loops written here and the network itself."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from engine.preprocess import preprocess

RNG = np.random.default_rng(11)
IMAGE = RNG.random((32, 32)).astype(np.float32)


def body(**extra):
    b = {"input": {"values": IMAGE.ravel().tolist(), "shape": [1, 32, 32]}, "kernel_name": "edge_all"}
    if {"kernel", "learned"} & extra.keys():
        del b["kernel_name"]
    return b | extra


def loop(x, kernel, stride, padding, bias=0.0):
    """The definition: zero-pad, then Σ window × kernel + bias at every stride-th position."""
    k = kernel.shape[0]
    xp = np.zeros((x.shape[0] + 2 * padding, x.shape[1] + 2 * padding))
    xp[padding:padding + x.shape[0], padding:padding + x.shape[1]] = x
    oh, ow = (xp.shape[0] - k) // stride + 1, (xp.shape[1] - k) // stride + 1
    return np.array([[np.sum(xp[y * stride:y * stride + k, c * stride:c * stride + k] * kernel) + bias
                      for c in range(ow)] for y in range(oh)]), xp


def arr(m):
    """A wire map as float32: its shortest digits read back as float32 are the exact values."""
    return np.asarray(m["values"], dtype=np.float32).reshape(m["shape"])


@pytest.mark.parametrize("k", [1, 3, 5, 7])
def test_every_kernel_size_stride_and_padding_matches_the_loop(client, k):
    kernel = RNG.normal(size=(k, k)).round(3)
    for stride, padding in itertools.product((1, 2, 3), (0, 1, 2, 3)):
        r = client.post("/api/convolve", json=body(kernel=kernel.tolist(), stride=stride,
                                                    padding=padding, bias=0.5))
        where = f"k={k} stride={stride} padding={padding}"
        assert r.status_code == 200, f"{where}: {r.text}"
        got = r.json()
        expect, xp = loop(IMAGE.astype(np.float64), kernel, stride, padding, 0.5)
        side = (32 - k + 2 * padding) // stride + 1           # (W − F + 2P) / S + 1, floored
        assert got["output"]["shape"] == [side, side] == list(expect.shape), where
        np.testing.assert_allclose(arr(got["output"]), expect, rtol=1e-5, atol=1e-5, err_msg=where)
        np.testing.assert_array_equal(arr(got["padded"]), xp.astype(np.float32), err_msg=where)
        np.testing.assert_array_equal(arr(got["relu"]), np.maximum(arr(got["output"]), 0))
        h = got["sizes"]["conv"]["height"]
        assert (h["output"], h["exact"]) == (side, (32 - k + 2 * padding) % stride == 0), where
        assert h["text"].startswith(f"(32 − {k} + 2·{padding}) / {stride} + 1 = "), where
        assert h["text"].endswith(str(side)), where


def test_edge_kernel_stride_2_padding_1_size_text(client):
    got = client.post("/api/convolve", json=body(stride=2, padding=1)).json()
    assert got["sizes"]["conv"]["width"]["text"] == "(32 − 3 + 2·1) / 2 + 1 = 16.5 → 16"
    assert got["output"]["shape"] == [16, 16]
    assert got["kernel"] | {"values": None} == {
        "name": "edge_all", "label": "Edge detection (8-neighbour)", "source": "classic",
        "note": got["kernel"]["note"], "shape": [3, 3], "bias": 0.0, "values": None}
    padded = arr(got["padded"])
    assert padded.shape == (34, 34) and not padded[0].any() and not padded[:, -1].any()


@pytest.mark.parametrize("op", ["max", "avg", "sum"])
def test_pooling_of_the_relu_map(client, op):
    got = client.post("/api/convolve", json=body(pool={"op": op, "window": 3})).json()
    relu = arr(got["relu"])
    n = relu.shape[0] // 3
    blocks = relu[:3 * n, :3 * n].reshape(n, 3, n, 3).transpose(0, 2, 1, 3).reshape(n, n, 9)
    expect = {"max": blocks.max(-1), "avg": blocks.mean(-1), "sum": blocks.sum(-1)}[op]
    np.testing.assert_allclose(arr(got["pooled"]), expect, rtol=1e-5, atol=1e-6)
    assert got["pool"] == {"op": op, "window": 3, "stride": 3}
    assert got["sizes"]["pool"]["height"]["output"] == n


def test_pixels_are_the_networks_quantised_values(client, digit):
    """The compact form: 0..255 ints become exactly the float32 input the network was fed."""
    drawing = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    net_input = preprocess(digit).input[0]
    pixels = np.rint(net_input * 255).astype(int).ravel().tolist()
    got = client.post("/api/convolve", json={"input": {"pixels": pixels, "shape": [32, 32]},
                                             "kernel_name": "identity", "padding": 1}).json()
    np.testing.assert_array_equal(arr(got["output"]), net_input)
    via_drawing = client.post("/api/convolve", json={**drawing, "kernel_name": "sharpen"}).json()
    via_pixels = client.post("/api/convolve", json={"input": {"pixels": pixels, "shape": [32, 32]},
                                                    "kernel_name": "sharpen"}).json()
    assert via_pixels["output"] == via_drawing["output"]


def test_step_mode_products_sum_to_each_cell(client):
    kernel = RNG.normal(size=(5, 5)).round(2)
    got = client.post("/api/convolve", json=body(kernel=kernel.tolist(), stride=2, padding=1,
                                                 bias=-0.25, products=True)).json()
    prods, padded, out = arr(got["products"]), arr(got["padded"]), arr(got["output"])
    assert prods.shape == out.shape + (5, 5)
    for y, x in [(0, 0), (7, 3), (14, 14)]:
        np.testing.assert_allclose(prods[y, x], padded[2 * y:2 * y + 5, 2 * x:2 * x + 5] * kernel,
                                   rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(prods.sum(axis=(2, 3)) - 0.25, out, rtol=1e-5, atol=1e-5)
    assert client.post("/api/convolve", json=body()).json()["products"] is None


def test_a_drawing_is_convolved_as_the_network_sees_it(client, digit):
    drawing = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    got = client.post("/api/convolve", json={**drawing, "kernel_name": "identity",
                                             "padding": 1}).json()
    np.testing.assert_array_equal(arr(got["output"]), preprocess(digit).input[0])
    raw = client.post("/api/convolve", json={**drawing, "preprocess": False,
                                             "kernel_name": "identity", "padding": 1}).json()
    assert raw["input_shape"] == [32, 32]          # 28×28 zero-padded to the network's 32×32
    np.testing.assert_allclose(arr(raw["output"])[2:30, 2:30], digit / 255, rtol=1e-6)


def test_learned_filter_reproduces_the_networks_conv1_map(client, digit):
    drawing = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    trace = client.post("/api/forward", json=drawing).json()
    conv1 = next(l for l in trace["layers"] if l["name"] == "conv1")
    maps = np.asarray(conv1["values"]).reshape(conv1["shape"])
    got = client.post("/api/convolve", json={**drawing, "learned": {"layer": "conv1", "filter": 4}}).json()
    assert got["kernel"]["source"] == "learned" and got["kernel"]["shape"] == [5, 5]
    np.testing.assert_allclose(arr(got["output"]), maps[4], rtol=1e-4, atol=1e-5)


def test_kernels_lists_the_classics(client):
    r = client.get("/api/kernels")
    assert r.status_code == 200
    names = [k["name"] for k in r.json()]
    assert names[:7] == ["identity", "edge_diagonal", "edge_cross", "edge_all", "sharpen",
                         "box_blur", "gaussian_blur"]
    sharpen = r.json()[4]
    assert sharpen["values"] == [0, -1, 0, -1, 5, -1, 0, -1, 0] and sharpen["shape"] == [3, 3]


BAD = [
    (body(stride=0), "`stride` is 0; accepted: an integer 1..3"),
    (body(stride=4), "accepted: an integer 1..3"),
    (body(stride="2"), "accepted: an integer 1..3"),
    (body(stride=True), "accepted: an integer 1..3"),
    (body(padding=-1), "`padding` is -1; accepted: an integer 0..3"),
    (body(padding=4), "accepted: an integer 0..3"),
    (body(kernel=[[1, 2], [3, 4]]), "`kernel` is 2×2; accepted: k rows of k numbers with k = 1, 3, 5 or 7"),
    (body(kernel=[[1] * 9] * 9), "at most 7×7"),
    (body(kernel=[[1, 2, 3], [4, 5], [6, 7, 8]]), "accepted: k rows of k numbers"),
    (body(kernel=[[0, 0, 0], [0, float("nan"), 0], [0, 0, 0]]), "finite numbers"),
    (body(kernel=[[0, 0, 0], [0, float("inf"), 0], [0, 0, 0]]), "finite numbers"),
    (body(kernel=[[0, 0, 0], [0, "x", 0], [0, 0, 0]]), "finite numbers"),
    (body(kernel=[[1e6]]), "between −1000 and 1000"),
    (body(kernel=[1, 2, 3]), "list of rows"),
    (body(kernel_name="sobel"), "accepted: identity, edge_diagonal"),
    (body(learned={"layer": "conv2", "filter": 0}), "accepted: conv1"),
    (body(learned={"layer": "conv1", "filter": 6}), "accepted: 0..5"),
    (body(kernel=[[1]], kernel_name="identity"), "exactly one kernel"),
    ({"input": body()["input"]}, "exactly one kernel"),
    ({"kernel_name": "identity"}, "exactly one map"),
    (body(width=32), "`width` and `height` go with `pixels` only"),
    ({"pixels": [0] * 10, "width": 28, "height": 28, "kernel_name": "identity"},
     "`pixels` has 10 values but width × height = 28 × 28 = 784"),
    (body(pool={"op": "median"}), "'max', 'avg' or 'sum'"),
    (body(pool={"window": 5}), "`pool.window` is 5; accepted: an integer 1..4"),
    (body(bias=float("inf")), "finite numbers"),
    (body(colour=1), "unknown field 'colour'; accepted fields: pixels"),
    (body(input={"values": [0.5] * 16, "shape": [4, 4]}), "8 ≤ H, W ≤ 64"),
    (body(input={"values": [0.5] * 10, "shape": [32, 32]}), "H × W = 1024"),
    (body(input={"values": [101.0] * 1024, "shape": [32, 32]}), "finite numbers between −100 and 100"),
    (body(learned={"layer": "conv1", "filter": 0, "channel": 1}), "accepted: 0"),
    (body(learned={"layer": "conv1", "filter": 0, "channel": -1}), "`learned.channel` is -1; accepted: an integer"),
    (body(learned={"layer": "conv1", "filter": 0, "channel": True}), "`learned.channel` is True"),
    (body(learned={"layer": "conv1", "filter": 0, "channel": "0"}), "`learned.channel` is '0'"),
    (body(products="yes"), "products"),
    (body(input={"pixels": [300] * 1024, "shape": [32, 32]}), "less than or equal to 255"),
    (body(input={"pixels": [1] * 1024, "values": [0.1] * 1024, "shape": [32, 32]}), "exactly one of"),
    (body(input={"values": ["0.5"] * 1024, "shape": [32, 32]}), "valid number"),
]


@pytest.mark.parametrize("payload, words", BAD, ids=[w[:30] for _, w in BAD])
def test_bad_requests_get_422_naming_what_is_accepted(client, payload, words):
    r = client.post("/api/convolve", content=json.dumps(payload),
                    headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]


def test_a_kernel_larger_than_the_map_is_refused(client):
    small = {"values": [0.5] * 64, "shape": [8, 8]}
    r = client.post("/api/convolve", json={"input": small, "kernel": [[1] * 7] * 7, "stride": 3})
    assert r.status_code == 200           # (8 − 7) / 3 + 1 = 1.33 → 1: fits once
    r = client.post("/api/convolve", json={"input": small, "kernel": [[1] * 7] * 7,
                                            "pool": {"window": 4}})
    assert r.status_code == 200 and r.json()["pooled"]["shape"] == [0, 0]
    assert client.post("/api/convolve?model=nope", json=body()).status_code == 422


# --- a model reading three normalised channels: Tiny VGG as imported (tests/conftest.py) ------

@pytest.fixture(scope="module")
def tiny(imported_models):
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    settings = Settings(model_path=imported_models / "tinyvgg.npz", extra_models=())
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def photo(data_url):
    """A 64×48 colour picture whose three channels differ (tests/api/conftest.py data_url)."""
    yy, xx = np.mgrid[0:48, 0:64]
    rgb = np.stack([xx * 4 % 256, yy * 5 % 256, (255 - xx * 3) % 256], -1).astype(np.uint8)
    return {"image": data_url(rgb, "RGB")}


def test_a_channel_slice_of_tiny_vggs_conv1_is_that_channels_subtotal(tiny, photo):
    """Channel c of the normalised input, convolved with filter f's slice c, is the loop's
    Σ window × weight; the three slices plus the bias make the network's own conv1 map."""
    picture = photo
    fwd = tiny.post("/api/forward", json=picture).json()
    x = np.asarray(fwd["layers"][0]["values"], dtype=np.float32).reshape(3, 64, 64)
    assert x.min() < 0 < 1 < x.max(), "a mean/std-normalised input leaves [0, 1]"
    conv1 = next(l for l in fwd["layers"] if l["kind"] == "conv")
    w = np.asarray(tiny.get("/api/model/weights").json()[conv1["name"]]["weight"]).reshape(10, 3, 3, 3)
    b = np.asarray(tiny.get("/api/model/weights").json()[conv1["name"]]["bias"])
    f, total = 4, np.zeros((62, 62))
    for c in range(3):
        got = tiny.post("/api/convolve", json={
            "input": {"values": x[c].ravel().tolist(), "shape": [64, 64]},
            "learned": {"layer": conv1["name"], "filter": f, "channel": c}})
        assert got.status_code == 200, got.text
        got = got.json()
        assert got["kernel"]["bias"] == 0.0 and got["kernel"]["shape"] == [3, 3]
        assert got["kernel"]["label"] == f"Learned: {conv1['name']} filter {f}, input channel {c}"
        assert f"then its bias {b[f]:.3f}".replace("-", "\u2212") in got["kernel"]["note"]
        expect, _ = loop(x[c].astype(np.float64), w[f, c], 1, 0)
        np.testing.assert_allclose(arr(got["output"]), expect, rtol=1e-5, atol=1e-5)
        # The same map from the photo itself: the drawing body's channel is the learned one.
        via_photo = tiny.post("/api/convolve", json={**picture, "learned": {
            "layer": conv1["name"], "filter": f, "channel": c}}).json()
        assert via_photo["output"] == got["output"]
        total += arr(got["output"])
    maps = np.asarray(conv1["values"]).reshape(conv1["shape"])
    np.testing.assert_allclose(total + b[f], maps[f], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("learned, words", [
    ({"layer": "conv1", "filter": 0}, "learned.channel is needed: conv1 reads 3 input channels; accepted: 0..2"),
    ({"layer": "conv1", "filter": 0, "channel": 3}, "accepted: 0..2"),
    ({"layer": "conv1", "filter": 10, "channel": 0}, "accepted: 0..9"),
    ({"layer": "conv2", "filter": 0, "channel": 0}, "accepted: conv1"),
])
def test_tiny_vgg_learned_slices_name_their_ranges(tiny, learned, words):
    r = tiny.post("/api/convolve", json={"input": {"values": [0.5] * 4096, "shape": [64, 64]},
                                         "learned": learned})
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]
