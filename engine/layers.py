"""Layers: small classes with forward(x) / backward(dout), `.params` and `.grads` dicts.

Each layer keeps a cache of its *last* forward call only (what backward needs, by name), so a
long-running server never accumulates anything. Layers compute in whatever float dtype they
are given: float32 for speed, float64 for gradient checks.

Shapes: maps are (N, C, H, W), vectors (N, D). `backward(dout, input_grad=True)` returns the
gradient with respect to the input (or None when `input_grad` is False: the first layer's input
is the image, and skipping its col2im saves a good part of a training step) and fills `.grads`.
"""
from __future__ import annotations

import numpy as np

from engine import ops


class Layer:
    kind = "layer"

    def __init__(self, name: str):
        self.name = name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.cache: dict = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, input_grad: bool = True):
        raise NotImplementedError

    def forward_one(self, x: np.ndarray) -> np.ndarray:
        """One image without the batch axis -> its contiguous output, leaving the same cache
        as `forward(x[None])` (so backward works after it). Layers override this with a lean
        version: the one-image forward pass has a budget of 100 µs for all 13 layers."""
        return np.ascontiguousarray(self.forward(x[None])[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Conv2D(Layer):
    """Cross-correlation. x (N, C, H, W) -> (N, F, H', W'), H' = (H + 2p - k) // s + 1.

    `connections` (LeCun's C3 table: for each filter, the input maps it reads) becomes `mask`
    (F, C, 1, 1): unconnected weight slices are held at exactly zero and get zero gradient, so
    the fast dense convolution computes the sparse one.
    """
    kind = "conv"

    def __init__(self, name, in_channels, filters, kernel, stride=1, padding=0,
                 connections=None, dtype=np.float32):
        super().__init__(name)
        self.stride, self.padding, self.kernel = stride, padding, kernel
        self.connections = connections
        self.params = {"weight": np.zeros((filters, in_channels, kernel, kernel), dtype),
                       "bias": np.zeros(filters, dtype)}
        self.mask = None
        self._plan = None
        if connections is not None:
            self.mask = np.zeros((filters, in_channels, 1, 1), dtype)
            for f, maps in enumerate(connections):
                self.mask[f, list(maps)] = 1
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def fan_in(self) -> int:
        w = self.params["weight"]
        maps = w.shape[1] if self.mask is None else int(self.mask.sum(axis=1).max())
        return maps * w.shape[2] * w.shape[3]

    def apply_mask(self) -> None:
        """Re-zero unconnected weights (after loading or an outside update)."""
        if self.mask is not None:
            self.params["weight"] *= self.mask

    def forward(self, x):
        out, cols = ops.conv2d(x, self.params["weight"], self.params["bias"],
                               self.stride, self.padding)
        self.cache = {"cols": cols, "x_shape": x.shape}
        return out

    def forward_one(self, x):
        """(C, H, W) -> (F, H', W'): the stride-1 full-width im2col of ops.conv2d, with the
        geometry worked out once per input shape instead of on every call."""
        if self.stride != 1 or not x.flags.c_contiguous:
            return super().forward_one(x)
        plan = self._plan
        if plan is None or plan[0] != x.shape or plan[1] != x.dtype:
            plan = self._plan = self._make_plan(x.shape, x.dtype)
        _, _, rows_shape, run, src_strides, out_shape, out_strides = plan
        if self.padding:
            p = self.padding
            xp = np.zeros((x.shape[0], x.shape[1] + 2 * p, x.shape[2] + 2 * p), x.dtype)
            xp[:, p:-p, p:-p] = x
            x = xp
        cols = np.empty(rows_shape, x.dtype)
        cols[...] = np.ndarray(rows_shape, x.dtype, buffer=x, strides=src_strides)
        weight, bias = self.params["weight"], self.params["bias"]
        full = weight.reshape(weight.shape[0], -1) @ cols.reshape(-1, run)
        self.cache = {"cols": full_cols(cols, run), "x_shape": (1,) + plan[0]}
        # Adding the bias while gathering the valid columns: one pass, a contiguous result.
        return np.add(np.ndarray(out_shape, x.dtype, buffer=full, strides=out_strides),
                      bias[:, None, None])

    def _make_plan(self, shape, dtype):
        C, H, W = shape
        k, p = self.kernel, self.padding
        wp = W + 2 * p
        oh, ow = H + 2 * p - k + 1, wp - k + 1
        run = (oh - 1) * wp + ow
        e = np.dtype(dtype).itemsize
        F = self.params["weight"].shape[0]
        return (shape, np.dtype(dtype), (C, k, k, run), run,
                ((H + 2 * p) * wp * e, wp * e, e, e), (F, oh, ow), (run * e, wp * e, e))

    def backward(self, dout, input_grad=True):
        dx, dw, db = ops.conv2d_backward(dout, self.cache["cols"], self.cache["x_shape"],
                                         self.params["weight"], self.stride, self.padding,
                                         input_grad)
        if self.mask is not None:
            dw *= self.mask
        self.grads = {"weight": dw, "bias": db}
        return dx


class Activation(Layer):
    """Element-wise nonlinearity; any shape in, same shape out."""
    kind = "activation"
    function = "relu"

    def __init__(self, name, scale=1.0, slope=1.0):
        super().__init__(name)
        self.scale, self.slope = scale, slope

    def forward(self, x):
        self.cache = {"x": x}
        return ops.activation(x, self.function, self.scale, self.slope)

    def backward(self, dout, input_grad=True):
        return ops.activation_backward(dout, self.cache["x"], self.function,
                                       self.scale, self.slope)

    def forward_one(self, x):
        self.cache = {"x": x[None]}
        return ops.activation(x, self.function, self.scale, self.slope)


class ReLU(Activation):
    function = "relu"

    def forward(self, x):
        out = np.maximum(x, 0)
        self.cache = {"out": out}     # out > 0 exactly where x > 0: no need to keep x
        return out

    def backward(self, dout, input_grad=True):
        return dout * (self.cache["out"] > 0)

    def forward_one(self, x):
        out = np.maximum(x, 0)
        self.cache = {"out": out[None]}
        return out


class Tanh(Activation):
    """scale·tanh(slope·x); LeCun 1998 uses scale 1.7159, slope 2/3."""
    function = "tanh"


class Sigmoid(Activation):
    function = "sigmoid"


class LeakyReLU(Activation):
    """x for x > 0, alpha·x otherwise (PyTorch's nn.LeakyReLU, ONNX LeakyRelu)."""
    function = "leaky_relu"

    def __init__(self, name, alpha=0.01):
        super().__init__(name)
        self.alpha = alpha

    def forward(self, x):
        self.cache = {"x": x}
        return ops.leaky_relu(x, self.alpha)

    def backward(self, dout, input_grad=True):
        return ops.leaky_relu_backward(dout, self.cache["x"], self.alpha)

    def forward_one(self, x):
        self.cache = {"x": x[None]}
        return ops.leaky_relu(x, self.alpha)


class Pool2D(Layer):
    """max / avg / sum over window×window patches. (N, C, H, W) -> (N, C, H', W')."""
    kind = "pool"

    def __init__(self, name, op="max", window=2, stride=2):
        super().__init__(name)
        self.op, self.window, self.stride = op, window, stride

    def forward(self, x):
        out = ops.pool2d(x, self.op, self.window, self.stride)
        self.cache = {"x": x, "out": out}
        return out

    def backward(self, dout, input_grad=True):
        return ops.pool2d_backward(dout, self.cache["x"], self.cache["out"],
                                   self.op, self.window, self.stride)

    def forward_one(self, x):
        """2×2/2 max pooling of one image as two pairwise maxima: rows, then columns."""
        C, H, W = x.shape
        if (self.op != "max" or self.window != 2 or self.stride != 2 or H % 2 or W % 2
                or not x.flags.c_contiguous):
            return super().forward_one(x)
        rows = x.reshape(C, H // 2, 2, W)
        half = np.maximum(rows[:, :, 0], rows[:, :, 1]).reshape(C, H // 2, W // 2, 2)
        out = np.maximum(half[..., 0], half[..., 1])
        self.cache = {"x": x[None], "out": out[None]}
        return out


class Flatten(Layer):
    """(N, C, H, W) -> (N, C·H·W) in row-major (c, y, x) order, as PyTorch's flatten."""
    kind = "flatten"

    def forward(self, x):
        self.cache = {"x_shape": x.shape}
        return x.reshape(x.shape[0], -1)

    def backward(self, dout, input_grad=True):
        return dout.reshape(self.cache["x_shape"])

    def forward_one(self, x):
        self.cache = {"x_shape": (1,) + x.shape}
        return x.reshape(-1)


class Dense(Layer):
    """x (N, D) -> x @ W.T + b, W (units, D) in PyTorch's layout."""
    kind = "dense"

    def __init__(self, name, inputs, units, dtype=np.float32):
        super().__init__(name)
        self.params = {"weight": np.zeros((units, inputs), dtype), "bias": np.zeros(units, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def fan_in(self) -> int:
        return self.params["weight"].shape[1]

    def forward(self, x):
        self.cache = {"x": x}
        return ops.dense(x, self.params["weight"], self.params["bias"])

    def forward_one(self, x):
        out = self.params["weight"] @ x
        out += self.params["bias"]
        self.cache = {"x": x[None]}
        return out

    def backward(self, dout, input_grad=True):
        dx, dw, db = ops.dense_backward(dout, self.cache["x"], self.params["weight"], input_grad)
        self.grads = {"weight": dw, "bias": db}
        return dx


class Softmax(Layer):
    """(N, K) -> probabilities (N, K). Training skips it: the loss takes the logits."""
    kind = "softmax"

    def forward(self, x):
        out = ops.softmax(x)
        self.cache = {"out": out}
        return out

    def backward(self, dout, input_grad=True):
        return ops.softmax_backward(dout, self.cache["out"])

    def forward_one(self, x):
        out = np.exp(x - x.max())
        out /= out.sum()
        self.cache = {"out": out[None]}
        return out


def full_cols(cols: np.ndarray, run: int) -> np.ndarray:
    """(C, k, k, run) one-image columns as the (C·k·k, 1·run) matrix conv2d_backward takes."""
    return cols.reshape(-1, run)


ACTIVATION_CLASSES = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "leaky_relu": LeakyReLU}


def _activation(stage, in_shape, dtype):
    cls = ACTIVATION_CLASSES[stage["function"]]
    if cls is LeakyReLU:
        return LeakyReLU(stage["name"], stage["alpha"])
    return cls(stage["name"], stage.get("scale", 1.0), stage.get("slope", 1.0))


# One builder per kind of engine.kinds.KINDS but the input (tests/engine/test_kinds.py checks
# the two agree, and that each has a naive reference and a gradient check).
BUILDERS = {
    "conv": lambda st, in_shape, dtype: Conv2D(
        st["name"], st["in_channels"], st["filters"], st["kernel"], st["stride"],
        st["padding"], st.get("connections"), dtype),
    "activation": _activation,
    "pool": lambda st, in_shape, dtype: Pool2D(st["name"], st["op"], st["window"], st["stride"]),
    "flatten": lambda st, in_shape, dtype: Flatten(st["name"]),
    "dense": lambda st, in_shape, dtype: Dense(st["name"], in_shape[0], st["units"], dtype),
    "softmax": lambda st, in_shape, dtype: Softmax(st["name"]),
}


def build_layer(stage: dict, in_shape, dtype=np.float32) -> Layer:
    """One layer from a validated stage entry (see engine.spec.infer_shapes)."""
    try:
        builder = BUILDERS[stage["kind"]]
    except KeyError:
        raise ValueError(f"no layer for kind {stage['kind']!r}") from None
    return builder(stage, in_shape, dtype)
