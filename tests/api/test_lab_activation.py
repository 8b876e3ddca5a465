"""POST /api/convolve's `activation` field: each choice against per-cell math, 422 naming the
choices for anything else."""
from __future__ import annotations

import numpy as np
import pytest

from tests.api.test_lab import IMAGE, arr, body, loop

ACT = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
       "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "none": lambda z: z}


@pytest.mark.parametrize("fn", sorted(ACT))
def test_each_activation_is_applied_before_pooling(client, fn):
    r = client.post("/api/convolve", json=body(activation=fn, bias=-1.0))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["activation"] == fn
    expect, _ = loop(IMAGE.astype(np.float64), np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]), 1, 0, -1.0)
    assert (expect < 0).any() and (expect > 0).any()
    np.testing.assert_allclose(arr(got["relu"]), ACT[fn](expect), rtol=1e-5, atol=1e-5)
    a = ACT[fn](expect)
    pooled = a[:30, :30].reshape(15, 2, 15, 2).max(axis=(1, 3))
    np.testing.assert_allclose(arr(got["pooled"]), pooled, rtol=1e-5, atol=1e-5)


def test_without_the_field_it_is_relu(client):
    got = client.post("/api/convolve", json=body()).json()
    assert got["activation"] == "relu"
    np.testing.assert_array_equal(arr(got["relu"]), np.maximum(arr(got["output"]), 0))


@pytest.mark.parametrize("bad", ["softmax", "RELU", 3, None, ["relu"]])
def test_an_unknown_activation_is_a_422_naming_the_choices(client, bad):
    r = client.post("/api/convolve", json=body(activation=bad))
    assert r.status_code == 422, r.text
    text = r.text
    assert "activation" in text and "relu, tanh, sigmoid, none" in text
