"""Array operations, each fast version beside a slow, obviously-correct loop version.

Layout: arguments and results are (N, C, H, W) for maps and (N, D) for vectors, weights in
PyTorch layout (conv (F, C, k, k), dense (units, inputs), out = W @ x + b). Internally the
fast map ops work channel-major, (C, N, H, W) in memory, and hand back `.transpose(1, 0, 2, 3)`
views: then im2col of a whole batch is one strided copy and the convolution one matrix product
(F, C·k·k) @ (C·k·k, N·H'·W') with no reordering between layers. NumPy reads any strides, so
callers never notice; they see (N, C, H, W).

The naive versions loop over output units and read their definition straight off the page.
They are the references the tests compare against; keep them dumb.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


# --------------------------------------------------------------------------- helpers
def out_size(size: int, window: int, stride: int, padding: int = 0) -> int:
    """(W - F + 2P) // S + 1, floored like PyTorch (engine.kinds.output_size states the rule
    for specs and the lab; this is its array-side twin, kept free of the range check)."""
    return (size + 2 * padding - window) // stride + 1


def channel_major(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> the same data seen as (C, N, H, W); a free view for our own outputs."""
    return x.transpose(1, 0, 2, 3)


def strided_view(base: np.ndarray, shape, strides, writeable: bool = False) -> np.ndarray:
    """A view of `base` with the given shape and byte strides (bounds-checked by NumPy).

    The ndarray constructor costs ~1 µs where `as_strided` costs ~10: it matters on the
    one-image path, where the whole forward pass has a budget of 100 µs.
    """
    if base.flags.c_contiguous:
        view = np.ndarray(shape, base.dtype, buffer=base, strides=strides)
        if not writeable:
            view.flags.writeable = False
        return view
    return as_strided(base, shape=shape, strides=strides, writeable=writeable)


def _pad_cn(xc: np.ndarray, padding: int) -> np.ndarray:
    if not padding:
        return xc
    C, N, H, W = xc.shape
    xp = np.zeros((C, N, H + 2 * padding, W + 2 * padding), dtype=xc.dtype)
    xp[:, :, padding:padding + H, padding:padding + W] = xc
    return xp


def _windows_cn(xc: np.ndarray, k: int, stride: int, oh: int, ow: int) -> np.ndarray:
    """Strided view (C, k, k, N, oh, ow) of a (C, N, H, W) array: every window, no copy."""
    sc, sn, sh, sw = xc.strides
    C, N = xc.shape[:2]
    return as_strided(xc, shape=(C, k, k, N, oh, ow),
                      strides=(sc, sh, sw, sn, sh * stride, sw * stride), writeable=False)


def im2col(x: np.ndarray, k: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """(N, C, H, W) -> columns (C·k·k, N·H'·W'), rows ordered (c, i, j) like a flat kernel."""
    N, C, H, W = x.shape
    oh, ow = out_size(H, k, stride, padding), out_size(W, k, stride, padding)
    xp = _pad_cn(channel_major(x), padding)
    cols = np.empty((C * k * k, N * oh * ow), dtype=x.dtype)
    cols.reshape(C, k, k, N, oh, ow)[...] = _windows_cn(xp, k, stride, oh, ow)
    return cols


def col2im(cols: np.ndarray, x_shape, k: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Adjoint of im2col: scatter-add columns back onto an (N, C, H, W) map.

    k·k strided adds (one per kernel offset), each covering the whole batch and all channels.
    """
    N, C, H, W = x_shape
    oh, ow = out_size(H, k, stride, padding), out_size(W, k, stride, padding)
    dxp = np.zeros((C, N, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    c6 = cols.reshape(C, k, k, N, oh, ow)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += c6[:, i, j]
    if padding:
        dxp = dxp[:, :, padding:padding + H, padding:padding + W]
    return dxp.transpose(1, 0, 2, 3)


# --------------------------------------------------------------------------- convolution
# Stride-1 convolutions (every conv of the reference net) use "full-width" columns: on the
# flattened padded map (Hp·Wp per channel and image), kernel offset (i, j) reads one contiguous
# run starting at i·Wp + j. Column m of that run is output (y, x) = divmod(m, Wp); columns with
# x >= W' straddle a row end and are junk, dropped from the output (and given zero gradient).
# The run is L = (H'-1)·Wp + W' long, so nothing is read past the map. Copying long runs
# (136-892 floats here) instead of W'-long rows (10-28) is what makes im2col cheap, at the cost
# of Wp/W' more columns in the matrix product (1.14× for conv1, 1.4× for conv2).

COL_BLOCK_BYTES = 256 << 10     # about half of a core's L2 here


def _flat_padded(x, padding):
    """(N, C, H, W) -> channel-major (C, N, Hp·Wp) contiguous, zero-padded."""
    N, C, H, W = x.shape
    xc = channel_major(x)
    if padding:
        xc = _pad_cn(xc, padding)
    elif not xc.flags.c_contiguous:
        xc = np.ascontiguousarray(xc)
    return xc.reshape(C, N, -1)


def _weight_grad(d2, cols, chunk=4096):
    """d2 @ cols.T for d2 (F, M), cols (R, M) with M in the tens of thousands.

    Summed over column blocks, each computed as (cols_b @ d2_b.T).T: OpenBLAS handles these
    long, thin products 2-4× faster when a block of `cols` stays in cache and the big operand
    is the untransposed left one (measured: conv1's 6×57k·57k×25 1.15 -> 0.25 ms CPU).
    """
    total = None
    for s in range(0, cols.shape[1], chunk):
        part = cols[:, s:s + chunk] @ d2[:, s:s + chunk].T
        if total is None:
            total = part
        else:
            total += part
    return total.T


def conv2d(x, weight, bias, stride=1, padding=0):
    """Cross-correlation. x (N, C, H, W), weight (F, C, k, k), bias (F,) -> (N, F, H', W').

    Returns (out, cols); keep `cols` for conv2d_backward. `out` may be a strided view (stride-1
    path); NumPy reads it like any array. A connection table is just a weight whose unconnected
    (filter, map) slices are zero, so nothing here needs to know about it.
    """
    N, C, H, W = x.shape
    F, _, k, _ = weight.shape
    oh, ow = out_size(H, k, stride, padding), out_size(W, k, stride, padding)
    if stride != 1:
        cols = im2col(x, k, stride, padding)
        out = weight.reshape(F, -1) @ cols
        out += bias[:, None]
        return out.reshape(F, N, oh, ow).transpose(1, 0, 2, 3), cols
    wp = W + 2 * padding
    run = (oh - 1) * wp + ow
    xf = _flat_padded(x, padding)
    sc, sn, se = xf.strides
    cols = np.empty((C * k * k, N * run), dtype=x.dtype)
    full = np.empty((F, N * run), dtype=x.dtype)
    windows = strided_view(xf, (C, k, k, N, run), (sc, se * wp, se, sn, se))
    cols5 = cols.reshape(C, k, k, N, run)
    w2, b2 = weight.reshape(F, -1), bias[:, None]
    # A few images at a time, so each block of columns is multiplied while still in cache
    # (measured: batch-256 conv1 4.9 -> 3.3 ms, conv2 5.5 -> 4.7 ms CPU).
    per = max(1, COL_BLOCK_BYTES // (C * k * k * run * cols.itemsize))
    for a in range(0, N, per):
        b = min(N, a + per)
        cols5[:, :, :, a:b] = windows[:, :, :, a:b]
        block = full[:, a * run:b * run]
        np.matmul(w2, cols[:, a * run:b * run], out=block)
        block += b2
    e = full.itemsize
    out = strided_view(full, (F, N, oh, ow), (N * run * e, run * e, wp * e, e))
    return out.transpose(1, 0, 2, 3), cols


def conv2d_backward(dout, cols, x_shape, weight, stride=1, padding=0, input_grad=True):
    """Gradients of conv2d: (dx or None, dweight, dbias) given dout (N, F, H', W')."""
    N, C, H, W = x_shape
    F, _, k, _ = weight.shape
    oh, ow = dout.shape[2:]
    if stride != 1:
        d2 = channel_major(dout).reshape(F, -1)
        dweight = (d2 @ cols.T).reshape(weight.shape)
        dbias = d2.sum(axis=1)
        dx = None
        if input_grad:
            dx = col2im(weight.reshape(F, -1).T @ d2, x_shape, k, stride, padding)
        return dx, dweight, dbias
    hp, wp = H + 2 * padding, W + 2 * padding
    run = (oh - 1) * wp + ow
    # dout laid out like the full-width output, zeros in the junk columns.
    d2 = np.zeros((F, N * run), dtype=dout.dtype)
    e = d2.itemsize
    strided_view(d2, (F, N, oh, ow), (N * run * e, run * e, wp * e, e),
                 writeable=True)[...] = channel_major(dout)
    dweight = _weight_grad(d2, cols).reshape(weight.shape)
    dbias = d2.sum(axis=1)
    dx = None
    if input_grad:
        dcols = (weight.reshape(F, -1).T @ d2).reshape(C, k, k, N, run)
        dxf = np.zeros((C, N, hp * wp), dtype=dout.dtype)
        for i in range(k):
            for j in range(k):
                start = i * wp + j
                dxf[:, :, start:start + run] += dcols[:, i, j]
        dx = dxf.reshape(C, N, hp, wp)[:, :, padding:padding + H, padding:padding + W]
        dx = dx.transpose(1, 0, 2, 3)
    return dx, dweight, dbias


def conv2d_naive(x, weight, bias, stride=1, padding=0, connections=None):
    """Loops over every output unit: out[n,f,y,x] = Σ_c∈maps(f) Σ_ij w[f,c,i,j]·xpad[n,c,..]+b."""
    N, C, H, W = x.shape
    F, _, k, _ = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = out_size(H, k, stride, padding), out_size(W, k, stride, padding)
    out = np.zeros((N, F, oh, ow), dtype=np.result_type(x, weight))
    for n in range(N):
        for f in range(F):
            maps = range(C) if connections is None else connections[f]
            for y in range(oh):
                for x_ in range(ow):
                    total = bias[f]
                    for c in maps:
                        window = xp[n, c, y * stride:y * stride + k, x_ * stride:x_ * stride + k]
                        total = total + np.sum(window * weight[f, c])
                    out[n, f, y, x_] = total
    return out


def conv2d_backward_naive(dout, x, weight, stride=1, padding=0, connections=None):
    """Each output unit's gradient flows back to the inputs and weights it read."""
    N, C, H, W = x.shape
    F, _, k, _ = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dweight = np.zeros_like(weight)
    dbias = np.zeros(F, dtype=weight.dtype)
    for n in range(N):
        for f in range(F):
            maps = range(C) if connections is None else connections[f]
            for y in range(dout.shape[2]):
                for x_ in range(dout.shape[3]):
                    g = dout[n, f, y, x_]
                    dbias[f] += g
                    ys, xs = y * stride, x_ * stride
                    for c in maps:
                        dweight[f, c] += g * xp[n, c, ys:ys + k, xs:xs + k]
                        dxp[n, c, ys:ys + k, xs:xs + k] += g * weight[f, c]
    dx = dxp[:, :, padding:padding + H, padding:padding + W]
    return dx, dweight, dbias


# --------------------------------------------------------------------------- pooling
def _pool_windows(xc, window, stride):
    """View (C, N, oh, ow, window, window) of a (C, N, H, W) array."""
    C, N, H, W = xc.shape
    oh, ow = out_size(H, window, stride), out_size(W, window, stride)
    sc, sn, sh, sw = xc.strides
    return as_strided(xc, shape=(C, N, oh, ow, window, window),
                      strides=(sc, sn, sh * stride, sw * stride, sh, sw), writeable=False)


def pool2d(x, op="max", window=2, stride=2):
    """Pooling over window×window patches. x (N, C, H, W) -> (N, C, H', W').

    One NumPy call per window offset (4 for 2×2) over the whole batch, on strided slices,
    instead of a reduction over two tiny trailing axes, which NumPy does slowly.
    """
    xc = channel_major(x)
    H, W = xc.shape[2:]
    oh, ow = out_size(H, window, stride), out_size(W, window, stride)
    ye, xe = stride * (oh - 1) + 1, stride * (ow - 1) + 1
    out = xc[:, :, 0:ye:stride, 0:xe:stride].copy()
    reduce = np.maximum if op == "max" else np.add
    for i in range(window):
        for j in range(window):
            if i or j:
                reduce(out, xc[:, :, i:i + ye:stride, j:j + xe:stride], out=out)
    if op == "avg":
        out *= 1.0 / (window * window)
    return out.transpose(1, 0, 2, 3)


def pool2d_backward(dout, x, out, op="max", window=2, stride=2):
    """dx for pool2d. Max routes each gradient to the first maximum in row-major window order
    (PyTorch's choice too), so ties (e.g. all-zero ReLU patches) never double-count."""
    xc = channel_major(x)
    C, N, H, W = xc.shape
    if op == "max" and window == stride and H % window == 0 and W % window == 0:
        return _max_pool_backward_tiled(dout, xc, out, window)
    dc = channel_major(dout)
    dxc = np.zeros(xc.shape, dtype=dout.dtype)
    v = _pool_windows(xc, window, stride)
    oh, ow = dc.shape[2:]
    if op == "max":
        oc = channel_major(out)
        taken = np.zeros(oc.shape, dtype=bool)
    scale = 1.0 / (window * window) if op == "avg" else 1.0
    for i in range(window):
        for j in range(window):
            target = dxc[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
            if op == "max":
                hit = v[..., i, j] == oc
                hit &= ~taken
                taken |= hit
                target += np.where(hit, dc, 0)
            else:
                target += dc * scale
    return dxc.transpose(1, 0, 2, 3)


def _max_pool_backward_tiled(dout, xc, out, window):
    """Non-overlapping max pool (window == stride, exact tiling), the reference net's case.

    Every input position belongs to exactly one window, so each offset's gradient is written
    once (no zero fill, no scatter-add); `hit > taken` keeps only the first maximum.
    """
    C, N, H, W = xc.shape
    oh, ow = H // window, W // window
    x6 = xc.reshape(C, N, oh, window, ow, window)    # a view when xc is contiguous
    oc, dc = channel_major(out), channel_major(dout)
    dx6 = np.empty((C, N, oh, window, ow, window), dtype=dout.dtype)
    taken = None
    for i in range(window):
        for j in range(window):
            hit = x6[:, :, :, i, :, j] == oc
            if taken is None:
                taken = hit
            else:
                np.greater(hit, taken, out=hit)       # hit and not already taken
                taken |= hit
            np.multiply(dc, hit, out=dx6[:, :, :, i, :, j])
    return dx6.reshape(C, N, H, W).transpose(1, 0, 2, 3)


def pool2d_argmax(x, op="max", window=2, stride=2):
    """Per output unit, the (dy, dx) offset of its first maximum: (N, C, H', W') each."""
    v = _pool_windows(channel_major(x), window, stride)
    flat = v.reshape(v.shape[:4] + (window * window,))
    arg = flat.argmax(axis=-1)
    return (arg // window).transpose(1, 0, 2, 3), (arg % window).transpose(1, 0, 2, 3)


def pool2d_naive(x, op="max", window=2, stride=2):
    N, C, H, W = x.shape
    oh, ow = out_size(H, window, stride), out_size(W, window, stride)
    out = np.zeros((N, C, oh, ow), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for y in range(oh):
                for x_ in range(ow):
                    patch = x[n, c, y * stride:y * stride + window, x_ * stride:x_ * stride + window]
                    out[n, c, y, x_] = {"max": np.max, "avg": np.mean, "sum": np.sum}[op](patch)
    return out


def pool2d_backward_naive(dout, x, op="max", window=2, stride=2):
    dx = np.zeros_like(x, dtype=dout.dtype)
    N, C, oh, ow = dout.shape
    for n in range(N):
        for c in range(C):
            for y in range(oh):
                for x_ in range(ow):
                    ys, xs = y * stride, x_ * stride
                    g = dout[n, c, y, x_]
                    if op == "max":
                        patch = x[n, c, ys:ys + window, xs:xs + window]
                        i, j = np.unravel_index(np.argmax(patch), patch.shape)  # first max
                        dx[n, c, ys + i, xs + j] += g
                    else:
                        share = g / (window * window) if op == "avg" else g
                        dx[n, c, ys:ys + window, xs:xs + window] += share
    return dx


# --------------------------------------------------------------------------- dense
def dense(x, weight, bias):
    """x (N, D) @ weight.T (D, U) + bias -> (N, U)."""
    out = x @ weight.T
    out += bias
    return out


def dense_backward(dout, x, weight, input_grad=True):
    """(dx or None, dweight, dbias) for dense, dout (N, U)."""
    return (dout @ weight if input_grad else None), dout.T @ x, dout.sum(axis=0)


def dense_naive(x, weight, bias):
    N, D = x.shape
    out = np.zeros((N, weight.shape[0]), dtype=np.result_type(x, weight))
    for n in range(N):
        for u in range(weight.shape[0]):
            out[n, u] = bias[u] + sum(weight[u, d] * x[n, d] for d in range(D))
    return out


# --------------------------------------------------------------------------- activations
def relu(x):
    return np.maximum(x, 0)


def relu_backward(dout, x):
    return dout * (x > 0)


def relu_naive(x):
    return np.vectorize(lambda v: v if v > 0 else 0.0, otypes=[x.dtype])(x)


def leaky_relu(x, alpha=0.01):
    """x where x > 0, alpha·x elsewhere (PyTorch's LeakyReLU / ONNX LeakyRelu)."""
    return np.where(x > 0, x, x * x.dtype.type(alpha))


def leaky_relu_backward(dout, x, alpha=0.01):
    return np.where(x > 0, dout, dout * dout.dtype.type(alpha))


def leaky_relu_naive(x, alpha=0.01):
    return np.vectorize(lambda v: v if v > 0 else alpha * v, otypes=[x.dtype])(x)


def tanh(x, scale=1.0, slope=1.0):
    """scale·tanh(slope·x); LeCun's squashing function is scale 1.7159, slope 2/3."""
    y = np.tanh(x * slope) if slope != 1.0 else np.tanh(x)
    return y * scale if scale != 1.0 else y


def tanh_backward(dout, x, scale=1.0, slope=1.0):
    t = np.tanh(x * slope)
    return dout * (scale * slope) * (1 - t * t)


def sigmoid(x):
    # 0.5·(1 + tanh(x/2)) is the logistic function without exp overflow for large |x|.
    return 0.5 * (1 + np.tanh(0.5 * x))


def sigmoid_backward(dout, x):
    y = sigmoid(x)
    return dout * y * (1 - y)


def tanh_naive(x, scale=1.0, slope=1.0):
    import math
    return np.vectorize(lambda v: scale * math.tanh(slope * v), otypes=[x.dtype])(x)


def sigmoid_naive(x):
    import math

    def logistic(v):
        return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
    return np.vectorize(logistic, otypes=[x.dtype])(x)


def activation(x, function, scale=1.0, slope=1.0):
    if function == "relu":
        return relu(x)
    if function == "tanh":
        return tanh(x, scale, slope)
    return sigmoid(x)


def activation_backward(dout, x, function, scale=1.0, slope=1.0):
    if function == "relu":
        return relu_backward(dout, x)
    if function == "tanh":
        return tanh_backward(dout, x, scale, slope)
    return sigmoid_backward(dout, x)


# --------------------------------------------------------------------------- softmax
def softmax(z):
    """Row-wise softmax of (N, K); shifting by the row max keeps exp from overflowing."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_backward(dout, y):
    """Jacobian-vector product: dz = y ⊙ (dout − Σ dout·y)."""
    return y * (dout - (dout * y).sum(axis=-1, keepdims=True))


def softmax_naive(z):
    import math
    out = np.zeros_like(z)
    for n in range(z.shape[0]):
        m = max(z[n])
        exps = [math.exp(v - m) for v in z[n]]
        total = sum(exps)
        for i, e in enumerate(exps):
            out[n, i] = e / total
    return out
