"""The lab's activation choice (relu, tanh, sigmoid, none) against per-cell math and a pooling
loop written here, and PyTorch when installed."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine import lab
from engine.errors import BadInput
from tests.engine.test_lab import pool_loop

RNG = np.random.default_rng(5)
IMAGE = RNG.random((12, 12))
KERNEL = RNG.normal(size=(3, 3)) * 2   # outputs of both signs, some beyond tanh's linear part

NAIVE = {
    "relu": lambda v: v if v > 0 else 0.0,
    "tanh": math.tanh,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "none": lambda v: v,
}


@pytest.mark.parametrize("fn", lab.ACTIVATIONS)
@pytest.mark.parametrize("op", lab.POOL_OPS)
def test_each_activation_is_applied_cell_by_cell_before_pooling(fn, op):
    r = lab.convolve_map(IMAGE, KERNEL, 1, 1, bias=-0.3, pool_op=op, pool_window=2, activation=fn)
    assert r.activation == fn
    assert (r.output < 0).any() and (r.output > 0).any(), "the test needs both signs"
    expect = np.vectorize(NAIVE[fn])(r.output)
    np.testing.assert_allclose(r.relu, expect, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.pooled, pool_loop(expect, op, 2, 2), rtol=1e-12, atol=1e-12)


def test_the_default_is_relu():
    r = lab.convolve_map(IMAGE, KERNEL)
    assert r.activation == "relu"
    np.testing.assert_array_equal(r.relu, np.maximum(r.output, 0))


def test_none_pools_the_raw_output_without_aliasing_it():
    r = lab.convolve_map(IMAGE, KERNEL, activation="none")
    np.testing.assert_array_equal(r.relu, r.output)
    assert r.relu is not r.output


@pytest.mark.parametrize("bad", ["softmax", "ReLU", "", None, 1, True])
def test_an_unknown_activation_is_refused_naming_the_choices(bad):
    with pytest.raises(BadInput, match="activation.*accepted: relu, tanh, sigmoid, none"):
        lab.convolve_map(IMAGE, KERNEL, activation=bad)


def test_tanh_and_sigmoid_match_torch():
    torch = pytest.importorskip("torch")
    for fn, ref in (("tanh", torch.tanh), ("sigmoid", torch.sigmoid)):
        r = lab.convolve_map(IMAGE, KERNEL, 1, 0, bias=0.1, activation=fn)
        t = torch.nn.functional.conv2d(torch.tensor(IMAGE)[None, None], torch.tensor(KERNEL)[None, None],
                                       torch.tensor([0.1], dtype=torch.float64))
        a = ref(t)
        np.testing.assert_allclose(r.relu, a[0, 0].numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(r.pooled, torch.nn.functional.max_pool2d(a, 2)[0, 0].numpy(),
                                   rtol=1e-10, atol=1e-12)
