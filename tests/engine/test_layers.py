"""Central finite-difference gradient checks for every layer (float64, rel err < 1e-6)."""
import numpy as np
import pytest

from engine.gradcheck import eval_numerical_gradient_array, rel_error
from engine.layers import (Conv2D, Dense, Flatten, Pool2D, ReLU, Sigmoid, Softmax, Tanh)
from engine.spec import LECUN_C3_CONNECTIONS

TOL = 1e-6


def _check(layer, x, rng, label):
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    num = eval_numerical_gradient_array(lambda v: layer.forward(v), x.copy(), dout)
    err = rel_error(num, dx)
    assert err < TOL, f"{label}: input gradient rel err {err:.2e} >= {TOL}"
    analytic = {k: v.copy() for k, v in layer.grads.items()}
    for key, p in layer.params.items():
        num = eval_numerical_gradient_array(lambda _: layer.forward(x), p, dout)
        if getattr(layer, "mask", None) is not None and key == "weight":
            num *= layer.mask          # weights held at zero are not free parameters
        err = rel_error(num, analytic[key])
        assert err < TOL, f"{label}: {key} gradient rel err {err:.2e} >= {TOL}"


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, 2)])
def test_conv2d_gradcheck(stride, padding):
    rng = np.random.default_rng(stride * 3 + padding)
    layer = Conv2D("c", 3, 4, 3, stride, padding, dtype=np.float64)
    layer.params["weight"][...] = rng.standard_normal((4, 3, 3, 3))
    layer.params["bias"][...] = rng.standard_normal(4)
    x = rng.standard_normal((2, 3, 7, 7))
    _check(layer, x, rng, f"Conv2D s={stride} p={padding}")


def test_conv2d_connection_table_gradcheck():
    rng = np.random.default_rng(3)
    layer = Conv2D("c3", 6, 16, 3, connections=LECUN_C3_CONNECTIONS, dtype=np.float64)
    layer.params["weight"][...] = rng.standard_normal((16, 6, 3, 3))
    layer.apply_mask()
    x = rng.standard_normal((1, 6, 5, 5))
    _check(layer, x, rng, "Conv2D with LeCun C3 table")


@pytest.mark.parametrize("layer", [ReLU("r"), Tanh("t"), Tanh("lecun", 1.7159, 2 / 3),
                                   Sigmoid("s")], ids=lambda l: l.name)
def test_activation_gradcheck(layer):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 4))
    x[np.abs(x) < 1e-3] = 0.5            # keep clear of ReLU's kink at 0
    _check(layer, x, rng, type(layer).__name__)


@pytest.mark.parametrize("op", ["max", "avg", "sum"])
@pytest.mark.parametrize("window,stride", [(2, 2), (3, 1)])
def test_pool2d_gradcheck(op, window, stride):
    rng = np.random.default_rng(11)
    # Distinct, well separated values so a ±1e-5 step never changes which entry is the max.
    x = rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) * 0.1
    if (6 - window) % stride:
        pytest.skip("window does not tile")
    _check(Pool2D("p", op, window, stride), x.astype(np.float64), rng, f"Pool2D {op}")


def test_flatten_dense_softmax_gradcheck():
    rng = np.random.default_rng(13)
    _check(Flatten("f"), rng.standard_normal((2, 3, 2, 2)), rng, "Flatten")
    dense = Dense("d", 7, 5, dtype=np.float64)
    dense.params["weight"][...] = rng.standard_normal((5, 7))
    dense.params["bias"][...] = rng.standard_normal(5)
    _check(dense, rng.standard_normal((3, 7)), rng, "Dense")
    _check(Softmax("s"), rng.standard_normal((3, 10)), rng, "Softmax")


def test_layer_keeps_only_last_call():
    rng = np.random.default_rng(17)
    layer = Dense("d", 4, 2, dtype=np.float64)
    first, second = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    layer.forward(first)
    layer.forward(second)
    assert list(layer.cache) == ["x"] and layer.cache["x"] is second
    assert layer.backward(np.ones((5, 2))).shape == (5, 4)
