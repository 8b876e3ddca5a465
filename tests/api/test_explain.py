"""POST /api/explain: the engine's explanation of the same trace, plus shape and receptive field."""
from __future__ import annotations

import numpy as np
import pytest

from engine.explain import explain, receptive_field
from engine.preprocess import preprocess

UNITS = [("input", [0, 10, 12]), ("conv1", [2, 9, 11]), ("relu1", [2, 9, 11]),
         ("pool1", [3, 5, 6]), ("conv2", [7, 4, 4]), ("pool2", [5, 2, 2]), ("flatten", [130]),
         ("fc1", [17]), ("relu3", [17]), ("fc3", [4]), ("softmax", [7])]


def close(a, b):
    """Float32 copies compare exactly; float64 sums to float64 precision."""
    if isinstance(b, dict):
        assert a.keys() >= b.keys()
        for k in b:
            close(a[k], b[k])
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            close(x, y)
    elif isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-7, abs=1e-12)
    else:
        assert a == b


@pytest.mark.parametrize("layer, unit", UNITS)
def test_explain_equals_the_engine(client, network, digit, layer, unit):
    body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    r = client.post("/api/explain", json={**body, "layer": layer, "unit": unit})
    assert r.status_code == 200, r.text
    got = r.json()
    trace = network.forward(preprocess(digit).input)
    close(got, explain(network, trace, layer, unit))
    assert got["shape"] == list(trace[layer].shape)
    assert got["receptive_field"] == receptive_field(network, layer, unit)
    # The explained value is the forward response's value, bit for bit.
    flat = np.ravel_multi_index(unit, trace[layer].shape)
    assert np.float32(got["value"]) == trace[layer].values.ravel()[flat]


def test_conv_sum_reproduces_the_value(client, digit):
    r = client.post("/api/explain", json={"pixels": digit.ravel().tolist(), "width": 28,
                                          "height": 28, "layer": "conv1", "unit": [0, 10, 10]})
    got = r.json()
    window = np.asarray(got["source"]["values"]) * np.asarray(got["weight"])
    assert got["sum"] == pytest.approx(window.sum() + got["bias"], rel=1e-6)
    assert got["sum"] == pytest.approx(got["value"], rel=1e-5, abs=1e-6)
