"""explain() reproduces every unit's value from the record; receptive fields are right."""
import numpy as np
import pytest

from engine.errors import UnitOutOfRange, UnknownLayer
from engine.explain import explain, receptive_field
from engine.network import Network, build_reference
from engine.spec import LECUN_C3_CONNECTIONS


def _digit():
    """A synthetic '0': a thick ellipse ring, centred like MNIST in the 32×32 frame."""
    yy, xx = np.mgrid[0:32, 0:32]
    r = np.hypot((yy - 16) / 9.0, (xx - 16) / 6.0)
    return np.clip(1.6 - np.abs(r - 1) * 6, 0, 1)[None].astype(np.float32)


@pytest.fixture(scope="module")
def net():
    return build_reference(seed=21)


@pytest.fixture(scope="module")
def trace(net):
    return net.forward(_digit())


def _check_unit(net, trace, stage, unit):
    r = explain(net, trace, stage["name"], unit)
    value = float(trace[stage["name"]].values[tuple(unit)])
    label = f"{stage['name']} {unit}"
    assert r["layer"] == stage["name"] and r["kind"] == stage["kind"] and r["unit"] == unit
    assert r["value"] == value, label
    src = r["source"]
    assert len(src["values"]) == int(np.prod(src["shape"])), label
    assert src["shape"] == [b - a for a, b in src["window"]], label
    if src["layer"] != stage["name"]:
        rec = trace[src["layer"]]
        window = rec.values[tuple(slice(a, b) for a, b in src["window"])]
        np.testing.assert_array_equal(np.float32(src["values"]), window.ravel(), err_msg=label)
    kind = stage["kind"]
    tol = dict(rel=2e-6, abs=2e-6)
    if kind == "conv":
        assert len(r["weight"]) == len(src["values"])
        total = np.dot(src["values"], r["weight"]) + r["bias"]
        assert r["sum"] == pytest.approx(total, rel=1e-12) and r["sum"] == pytest.approx(value, **tol)
    elif kind == "activation":
        assert r["input"] == src["values"][0]
        assert max(r["input"], 0.0) == pytest.approx(value, **tol), label
    elif kind == "pool":
        assert r["op"] == "max" and max(src["values"]) == value
        c, y, x = r["argmax"]
        assert trace[src["layer"]].values[c, y, x] == value, label
    elif kind == "flatten":
        assert src["values"] == [value]
    elif kind == "dense":
        assert r["sum"] == pytest.approx(value, **tol), label
        products = [t["product"] for t in r["top"]]
        assert len(products) == 10 and products == sorted(products, key=abs, reverse=True)
        every = np.abs(np.multiply(src["values"], r["weight"]))
        assert abs(products[-1]) >= np.sort(every)[-10] - 1e-12, "top must be the 10 largest"
        for t in r["top"]:
            assert t["product"] == pytest.approx(t["input"] * t["weight"], rel=1e-12)
            assert src["values"][t["index"]] == t["input"]
    elif kind == "softmax":
        assert r["logits"] == src["values"]
        assert r["probability"] == pytest.approx(value, **tol)
    elif kind == "input":
        assert src["layer"] == "input" and src["values"] == [value]


def test_every_stage_random_units_reproduce_their_value(net, trace):
    rng = np.random.default_rng(0)
    for stage in net.stages:
        for _ in range(6):
            unit = [int(rng.integers(0, n)) for n in stage["shape"]]
            _check_unit(net, trace, stage, unit)


def test_explain_is_json_ready(net, trace):
    import json
    for stage in net.stages:
        r = explain(net, trace, stage["name"], [0] * len(stage["shape"]))
        json.dumps(r, allow_nan=False)     # plain floats/ints/lists only


def test_conv_with_padding_and_connection_table():
    spec = [{"name": "input", "kind": "input", "shape": [1, 12, 12]},
            {"name": "c1", "kind": "conv", "filters": 6, "kernel": 3, "padding": 1},
            {"name": "r1", "kind": "activation", "function": "relu"},
            {"name": "c2", "kind": "conv", "filters": 16, "kernel": 3, "stride": 3,
             "connections": LECUN_C3_CONNECTIONS}]
    net = Network(spec, seed=5)
    trace = net.forward(np.random.default_rng(1).random((1, 12, 12), dtype=np.float32))
    corner = explain(net, trace, "c1", [2, 0, 0])
    assert corner["source"]["window"] == [[0, 1], [0, 2], [0, 2]], "padding is clipped off"
    assert corner["sum"] == pytest.approx(corner["value"], rel=2e-6, abs=2e-6)
    assert corner["weight"] == np.asarray(net.layer("c1").params["weight"][2, :, 1:, 1:],
                                          np.float64).ravel().tolist()
    r = explain(net, trace, "c2", [0, 1, 2])
    assert r["channels"] == [0, 1, 2] and r["source"]["window"] == [[0, 6], [3, 6], [6, 9]]
    w = np.reshape(r["weight"], r["source"]["shape"])
    assert not w[3:].any(), "unconnected maps carry weight 0"
    assert r["sum"] == pytest.approx(r["value"], rel=2e-6, abs=2e-6)


def test_batch_trace_explains_a_chosen_sample(net):
    batch = np.stack([_digit(), np.zeros((1, 32, 32), np.float32)])
    trace = net.forward(batch)
    r = explain(net, trace, "fc3", [4], sample=1)
    assert r["value"] == float(trace["fc3"].values[1, 4])
    with pytest.raises(UnitOutOfRange, match="sample 2 is out of range for a batch of 2"):
        explain(net, trace, "fc3", [4], sample=2)


def test_unknown_layer_and_unit_out_of_range_messages(net, trace):
    with pytest.raises(UnknownLayer, match="valid names: input, conv1, relu1, pool1"):
        explain(net, trace, "conv3", [0, 0, 0])
    with pytest.raises(UnitOutOfRange) as info:
        explain(net, trace, "conv1", [7, 0, 0])
    assert str(info.value) == ("unit [7, 0, 0] is out of range for conv1 of shape [6, 28, 28]: "
                               "c in 0..5, y in 0..27, x in 0..27")
    for bad in ([0, 0], [120], [-1], [1.5], [True], "3", None):
        with pytest.raises(UnitOutOfRange, match="i in 0..119"):
            explain(net, trace, "fc1", bad)
    with pytest.raises(UnitOutOfRange, match=r"must be 3 integer\(s\) \[c, y, x\]"):
        receptive_field(net, "pool2", [1])


def test_receptive_field_by_hand(net):
    # conv2 unit (y, x) reads pool1 rows y..y+5 -> conv1 rows 2y..2y+10 -> input 2y..2y+14.
    assert receptive_field(net, "conv2", [3, 2, 5]) == [[0, 1], [4, 18], [10, 24]]
    assert receptive_field(net, "pool2", [0, 4, 0]) == [[0, 1], [16, 32], [0, 16]]
    assert receptive_field(net, "relu2", [0, 9, 9]) == [[0, 1], [18, 32], [18, 32]]
    assert receptive_field(net, "flatten", [16 * 25 - 1]) == [[0, 1], [16, 32], [16, 32]]
    assert receptive_field(net, "fc1", [0]) == [[0, 1], [0, 32], [0, 32]]
    assert receptive_field(net, "conv1", [5, 0, 27]) == [[0, 1], [0, 5], [27, 32]]
    assert receptive_field(net, "input", [0, 3, 4]) == [[0, 1], [3, 4], [4, 5]]


@pytest.mark.parametrize("name,unit", [("c2", [1, 0, 0]), ("c2", [3, 1, 2]), ("p2", [0, 2, 1]),
                                       ("flat", [13]), ("c1", [0, 0, 9])])
def test_receptive_field_equals_pixels_that_change_the_unit(name, unit):
    """Independent check: with smooth activations, average pooling and random weights, a unit
    depends on exactly the pixels of its receptive field. Perturb each pixel and watch it."""
    spec = [{"name": "input", "kind": "input", "shape": [1, 14, 14]},
            {"name": "c1", "kind": "conv", "filters": 3, "kernel": 3, "padding": 2},
            {"name": "t1", "kind": "activation", "function": "tanh"},
            {"name": "p1", "kind": "pool", "op": "avg", "window": 2, "stride": 2},
            {"name": "c2", "kind": "conv", "filters": 4, "kernel": 4, "stride": 2, "padding": 1},
            {"name": "p2", "kind": "pool", "op": "avg", "window": 2, "stride": 1},
            {"name": "flat", "kind": "flatten"}]
    net = Network(spec, seed=3, dtype=np.float64)
    base = np.random.default_rng(0).random((1, 14, 14))
    batch = np.repeat(base[None], 14 * 14, axis=0)
    batch.reshape(196, 196)[np.arange(196), np.arange(196)] += 0.5    # one pixel per image
    ref = net.forward(base)[name].values[tuple(unit)]
    moved = net.forward(batch)[name].values[(slice(None),) + tuple(unit)]
    changed = np.abs(moved - ref).reshape(14, 14) > 1e-12
    ys, xs = np.nonzero(changed)
    observed = [[0, 1], [int(ys.min()), int(ys.max()) + 1], [int(xs.min()), int(xs.max()) + 1]]
    assert receptive_field(net, name, unit) == observed
    (y0, y1), (x0, x1) = observed[1:]
    assert changed[y0:y1, x0:x1].all(), "the field is a full rectangle"
