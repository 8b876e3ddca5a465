"""Fast ops against their naive loop definitions, over random shapes, strides and paddings."""
import numpy as np
import pytest

from engine import ops
from engine.layers import Conv2D
from engine.spec import LECUN_C3_CONNECTIONS

RNG = np.random.default_rng(1234)


def _conv_case(rng):
    """A random conv geometry whose windows tile the padded input exactly."""
    while True:
        N, C, F = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 5)
        k, s, p = rng.integers(1, 5), rng.integers(1, 4), rng.integers(0, 3)
        H, W = rng.integers(k, 12), rng.integers(k, 12)
        if (H + 2 * p - k) % s == 0 and (W + 2 * p - k) % s == 0:
            return int(N), int(C), int(F), int(H), int(W), int(k), int(s), int(p)


@pytest.mark.parametrize("trial", range(12))
def test_conv2d_forward_and_backward_match_naive(trial):
    rng = np.random.default_rng(trial)
    N, C, F, H, W, k, s, p = _conv_case(rng)
    case = f"N={N} C={C} F={F} H={H} W={W} k={k} s={s} p={p}"
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, k, k))
    b = rng.standard_normal(F)
    out, cols = ops.conv2d(x, w, b, s, p)
    np.testing.assert_allclose(out, ops.conv2d_naive(x, w, b, s, p), rtol=1e-10, atol=1e-12,
                               err_msg=f"conv2d forward differs from the loop version ({case})")
    dout = rng.standard_normal(out.shape)
    dx, dw, db = ops.conv2d_backward(dout, cols, x.shape, w, s, p)
    dxn, dwn, dbn = ops.conv2d_backward_naive(dout, x, w, s, p)
    for name, fast, slow in (("dx", dx, dxn), ("dweight", dw, dwn), ("dbias", db, dbn)):
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12,
                                   err_msg=f"conv2d backward {name} differs ({case})")


def test_conv_with_connection_table_matches_naive_sparse_loops():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 14, 14))
    layer = Conv2D("c3", 6, 16, 5, connections=LECUN_C3_CONNECTIONS, dtype=np.float64)
    layer.params["weight"][...] = rng.standard_normal((16, 6, 5, 5))
    layer.params["bias"][...] = rng.standard_normal(16)
    layer.apply_mask()
    w, b = layer.params["weight"], layer.params["bias"]
    out = layer.forward(x)
    # The naive loop reads only the connected maps; it never sees the zeroed weights' role.
    full = rng.standard_normal(w.shape)
    full[w != 0] = w[w != 0]         # unconnected slices hold garbage the loop must ignore
    naive = ops.conv2d_naive(x, full, b, connections=LECUN_C3_CONNECTIONS)
    np.testing.assert_allclose(out, naive, rtol=1e-10, atol=1e-12,
                               err_msg="masked dense conv differs from the sparse loop")
    dout = rng.standard_normal(out.shape)
    layer.backward(dout)
    _, dwn, dbn = ops.conv2d_backward_naive(dout, x, full, connections=LECUN_C3_CONNECTIONS)
    np.testing.assert_allclose(layer.grads["weight"], dwn, rtol=1e-10, atol=1e-12,
                               err_msg="connection-table weight gradient differs")
    for f, maps in enumerate(LECUN_C3_CONNECTIONS):
        off = [c for c in range(6) if c not in maps]
        assert not layer.params["weight"][f, off].any(), f"filter {f}: unconnected weight != 0"
        assert not layer.grads["weight"][f, off].any(), f"filter {f}: unconnected grad != 0"


@pytest.mark.parametrize("op", ["max", "avg", "sum"])
@pytest.mark.parametrize("window,stride,size", [(2, 2, 8), (3, 1, 7), (3, 2, 9), (2, 1, 5)])
def test_pool2d_matches_naive(op, window, stride, size):
    rng = np.random.default_rng(window * 10 + stride)
    x = rng.standard_normal((3, 4, size, size))
    out = ops.pool2d(x, op, window, stride)
    np.testing.assert_allclose(out, ops.pool2d_naive(x, op, window, stride), rtol=1e-12,
                               err_msg=f"pool2d {op} w={window} s={stride} forward differs")
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(ops.pool2d_backward(dout, x, out, op, window, stride),
                               ops.pool2d_backward_naive(dout, x, op, window, stride),
                               rtol=1e-12, atol=1e-14,
                               err_msg=f"pool2d {op} w={window} s={stride} backward differs")


def test_max_pool_backward_routes_ties_to_first_maximum_only():
    x = np.zeros((1, 1, 4, 4))                      # a dead ReLU patch: every entry ties
    out = ops.pool2d(x, "max", 2, 2)
    dx = ops.pool2d_backward(np.ones_like(out), x, out, "max", 2, 2)
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(dx[0, 0], expected, err_msg="ties must not double-count")
    np.testing.assert_array_equal(dx, ops.pool2d_backward_naive(np.ones_like(out), x))


def test_float32_in_float32_out():
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    out, _ = ops.conv2d(x, w, np.zeros(4, np.float32))
    assert out.dtype == np.float32
    assert ops.pool2d(x).dtype == np.float32
    assert ops.softmax(x[:, 0, 0]).dtype == np.float32
    assert ops.sigmoid(x).dtype == np.float32 and ops.tanh(x, 1.7159, 2 / 3).dtype == np.float32


def test_dense_and_activations_match_naive():
    x = RNG.standard_normal((3, 7))
    w, b = RNG.standard_normal((5, 7)), RNG.standard_normal(5)
    np.testing.assert_allclose(ops.dense(x, w, b), ops.dense_naive(x, w, b), rtol=1e-12)
    z = RNG.standard_normal((4, 6)) * 5
    np.testing.assert_array_equal(ops.relu(z), ops.relu_naive(z))
    np.testing.assert_allclose(ops.tanh(z, 1.7159, 2 / 3), ops.tanh_naive(z, 1.7159, 2 / 3),
                               rtol=1e-12)
    np.testing.assert_allclose(ops.sigmoid(z), ops.sigmoid_naive(z), rtol=1e-12)
    np.testing.assert_allclose(ops.softmax(z), ops.softmax_naive(z), rtol=1e-12)


def test_softmax_and_sigmoid_survive_extreme_inputs():
    z = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(ops.softmax(z), [[1.0, 0.0, 0.0]])
    with np.errstate(all="raise"):
        np.testing.assert_allclose(ops.sigmoid(np.array([-800.0, 800.0])), [0.0, 1.0])


def test_im2col_col2im_are_adjoint():
    # <im2col(x), c> == <x, col2im(c)> for any x, c: col2im is exactly the transpose.
    x = RNG.standard_normal((2, 3, 9, 9))
    cols = ops.im2col(x, 3, 2, 1)
    c = RNG.standard_normal(cols.shape)
    lhs = float(np.sum(cols * c))
    rhs = float(np.sum(x * ops.col2im(c, x.shape, 3, 2, 1)))
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs)), (lhs, rhs)


@pytest.mark.parametrize("padding", [0, 2])
def test_conv2d_in_column_blocks_matches_naive(monkeypatch, padding):
    # The fast path multiplies a few images' columns at a time; force one image per block.
    monkeypatch.setattr(ops, "COL_BLOCK_BYTES", 1)
    rng = np.random.default_rng(99)
    x = rng.standard_normal((5, 2, 7, 6))
    w, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    out, cols = ops.conv2d(x, w, b, 1, padding)
    np.testing.assert_allclose(out, ops.conv2d_naive(x, w, b, 1, padding), rtol=1e-10,
                               atol=1e-12, err_msg="blocked conv2d differs from the loops")
    dout = rng.standard_normal(out.shape)
    dx, dw, db = ops.conv2d_backward(dout, cols, x.shape, w, 1, padding)
    dxn, dwn, dbn = ops.conv2d_backward_naive(dout, x, w, 1, padding)
    np.testing.assert_allclose(dx, dxn, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, dwn, rtol=1e-10, atol=1e-12)
