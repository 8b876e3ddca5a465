"""The convolution lab: one 2-D map, one kernel, and every number a student may ask about.

    result = convolve_map(image, KERNELS["sharpen"].values, stride=2, padding=1)
    result.output                 # (H', W'), H' = (H - k + 2P) // S + 1
    result.sizes["conv"]["text"]  # "(32 − 3 + 2·1) / 2 + 1 = 16.5 → 16"
    result.products()             # (H', W', k, k): window × kernel at every position

It runs the engine's own ops (`conv2d`, `activation`, `pool2d`) on a batch of one map, so the lab
shows exactly what the network's layers compute. A window that does not tile the map is
floored like PyTorch, here as in `engine.spec` (one rule, `engine.kinds.output_size`): seeing
the uncovered border is the lesson. Computed in float64 so Σ products + bias matches the output cell to the last digit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import ops
from engine.errors import BadInput
from engine.kinds import output_size

# Accepted ranges; the app states them in its 4xx messages, the page in its controls.
KERNEL_SIZES = (1, 3, 5, 7)           # odd, so a window has a centre pixel
STRIDES = (1, 2, 3)
PADDINGS = (0, 1, 2, 3)
POOL_OPS = ("max", "avg", "sum")
# ReLU sets negatives to zero; tanh and sigmoid are the classic alternatives (plain, scale 1,
# slope 1); "none" pools the raw output, to show what the nonlinearity changes.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "none")
POOL_WINDOWS = (1, 2, 3, 4)
MAX_ABS_WEIGHT = 1000.0               # keeps Σ of 49 terms far from float32 overflow
MAX_SIDE = 64                         # the lab shows 28×28 / 32×32 / 64×64 inputs; anything small
# A normalised input ((x − mean) / std) leaves [0, 1]: ImageNet's std 0.225 takes 0..1 to about
# −2.1..2.6. 100 admits any std ≥ 0.01 and keeps Σ of 49 products far from float32 overflow.
MAX_ABS_INPUT = 100.0


def limits() -> dict:
    """The ranges above as /api/model serves them (`limits.lab`): the page builds its controls
    from this, so a bound changed here changes the server's checks and the page's choices."""
    return {"kernel_sizes": list(KERNEL_SIZES), "strides": list(STRIDES), "paddings": list(PADDINGS),
            "pool_ops": list(POOL_OPS), "pool_windows": list(POOL_WINDOWS),
            "activations": list(ACTIVATIONS), "max_abs_weight": MAX_ABS_WEIGHT}


@dataclass(frozen=True)
class Kernel:
    name: str
    label: str
    values: np.ndarray                # (k, k) float64
    note: str


def _kernel(name, label, rows, note, scale=1.0):
    return Kernel(name, label, np.asarray(rows, dtype=np.float64) * scale, note)


# The classic image-processing kernels of Wikipedia's "Kernel (image processing)" table, as
# reproduced in the ConvNet primers students read next to Harley's visualisation.
KERNELS: dict[str, Kernel] = {k.name: k for k in (
    _kernel("identity", "Identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
            "copies each pixel: the output is the input (shrunk by the border)"),
    _kernel("edge_diagonal", "Edge detection (diagonal)", [[1, 0, -1], [0, 0, 0], [-1, 0, 1]],
            "responds where brightness changes along the diagonals"),
    _kernel("edge_cross", "Edge detection (4-neighbour)", [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
            "Laplacian: zero on flat areas, strong on both sides of a stroke"),
    _kernel("edge_all", "Edge detection (8-neighbour)", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
            "outline: a pixel minus all 8 neighbours, bright on stroke edges"),
    _kernel("sharpen", "Sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
            "the pixel plus its difference from the neighbours: crisper strokes"),
    _kernel("box_blur", "Box blur", [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
            "the mean of the 3×3 window", scale=1 / 9),
    _kernel("gaussian_blur", "Gaussian blur 3×3", [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
            "a weighted mean, centre counts most", scale=1 / 16),
    _kernel("gaussian_blur_5", "Gaussian blur 5×5",
            [[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, 36, 24, 6], [4, 16, 24, 16, 4],
             [1, 4, 6, 4, 1]], "a wider weighted mean (binomial 5×5)", scale=1 / 256),
)}


def size_arithmetic(size: int, window: int, stride: int, padding: int) -> dict:
    """(W − F + 2P) / S + 1 with the numbers in, and what happens when it is not whole."""
    span = size - window + 2 * padding
    out = output_size(size, window, stride, padding)   # the spec's own rule (engine.kinds)
    exact = span >= 0 and span % stride == 0
    text = f"({size} − {window} + 2·{padding}) / {stride} + 1 = "
    if exact:
        text += str(out)
    elif span < 0:
        text += f"{span / stride + 1:g} → 0 (the window is larger than the padded map)"
    else:
        text += f"{span / stride + 1:g} → {out}"
    return {"input": size, "window": window, "stride": stride, "padding": padding,
            "output": out, "exact": exact, "uncovered": span % stride if span >= 0 else 0,
            "text": text}


@dataclass
class LabResult:
    """Everything the lab page shows; maps are 2-D float64, `padded` includes its zero ring."""
    padded: np.ndarray
    kernel: np.ndarray
    bias: float
    stride: int
    padding: int
    output: np.ndarray
    relu: np.ndarray                 # the output after `activation` (named for the default)
    pool: dict                       # {"op", "window", "stride"}
    pooled: np.ndarray
    sizes: dict = field(default_factory=dict)
    activation: str = "relu"

    def products(self) -> np.ndarray:
        """(H', W', k, k): window × kernel for every output position (step mode).

        The windows are the engine's own im2col columns of the padded map, so position
        (y, x) reads rows y·S .. y·S + k − 1 and columns x·S .. x·S + k − 1 of `padded`.
        """
        k = self.kernel.shape[0]
        oh, ow = self.output.shape
        cols = ops.im2col(self.padded[None, None], k, self.stride, 0)     # (k·k, H'·W')
        prods = cols * self.kernel.reshape(-1, 1)
        return prods.T.reshape(oh, ow, k, k)

    def window(self, y: int, x: int) -> tuple[np.ndarray, np.ndarray]:
        """(window values, products) at output position (y, x)."""
        k, s = self.kernel.shape[0], self.stride
        win = self.padded[y * s:y * s + k, x * s:x * s + k]
        return win, win * self.kernel


def check_kernel(kernel) -> np.ndarray:
    """A square, odd, finite kernel of a size in KERNEL_SIZES, as float64 (k, k)."""
    try:
        k = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError):
        raise BadInput("kernel must be a square list of rows of numbers, e.g. [[0, 1, 0], "
                       "[1, -4, 1], [0, 1, 0]]") from None
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] not in KERNEL_SIZES:
        raise BadInput(f"kernel has shape {list(k.shape)}; accepted: k×k with k one of "
                       f"{', '.join(map(str, KERNEL_SIZES))} (at most 7×7)")
    if not np.isfinite(k).all() or np.abs(k).max() > MAX_ABS_WEIGHT:
        raise BadInput(f"kernel values must be finite numbers between −{MAX_ABS_WEIGHT:g} and "
                       f"{MAX_ABS_WEIGHT:g}")
    return k


def _check_choice(name: str, value, accepted) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value not in accepted:
        raise BadInput(f"{name} is {value!r}; accepted: {', '.join(map(str, accepted))}")
    return value


def convolve_map(image, kernel, stride: int = 1, padding: int = 0, bias: float = 0.0,
                 pool_op: str = "max", pool_window: int = 2, pool_stride: int | None = None,
                 activation: str = "relu") -> LabResult:
    """Zero-pad, cross-correlate with `kernel` (+ bias), apply `activation` (one of
    ACTIVATIONS), then pool the activated map.

    image (H, W) with 1 ≤ H, W ≤ MAX_SIDE; kernel (k, k). Pool stride defaults to the window
    (non-overlapping, like the network's pools).
    """
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2 or not (1 <= x.shape[0] <= MAX_SIDE and 1 <= x.shape[1] <= MAX_SIDE):
        raise BadInput(f"image has shape {list(x.shape)}; accepted: one 2-D map up to "
                       f"{MAX_SIDE}×{MAX_SIDE} (e.g. the 28×28 or 32×32 input)")
    if not np.isfinite(x).all() or np.abs(x).max() > MAX_ABS_INPUT:
        raise BadInput(f"image values must be finite numbers between −{MAX_ABS_INPUT:g} and "
                       f"{MAX_ABS_INPUT:g}")
    k = check_kernel(kernel)
    stride = _check_choice("stride", stride, STRIDES)
    padding = _check_choice("padding", padding, PADDINGS)
    pool_op = _check_choice("pool op", pool_op, POOL_OPS)
    activation = _check_choice("activation", activation, ACTIVATIONS)
    pool_window = _check_choice("pool window", pool_window, POOL_WINDOWS)
    pool_stride = pool_window if pool_stride is None else _check_choice(
        "pool stride", pool_stride, POOL_WINDOWS)
    if not np.isfinite(bias) or abs(bias) > MAX_ABS_WEIGHT:
        raise BadInput(f"bias must be a finite number between −{MAX_ABS_WEIGHT:g} and "
                       f"{MAX_ABS_WEIGHT:g}")
    size = k.shape[0]
    conv_h = size_arithmetic(x.shape[0], size, stride, padding)
    conv_w = size_arithmetic(x.shape[1], size, stride, padding)
    if conv_h["output"] < 1 or conv_w["output"] < 1:
        raise BadInput(f"a {size}×{size} kernel does not fit a {x.shape[0]}×{x.shape[1]} map "
                       f"padded by {padding}: {conv_h['text']}")

    out, _ = ops.conv2d(x[None, None], k[None, None], np.array([bias], dtype=np.float64),
                        stride, padding)
    output = out[0, 0]
    relu = output.copy() if activation == "none" else ops.activation(output, activation)
    pool_h = size_arithmetic(output.shape[0], pool_window, pool_stride, 0)
    pool_w = size_arithmetic(output.shape[1], pool_window, pool_stride, 0)
    if pool_h["output"] >= 1 and pool_w["output"] >= 1:
        pooled = ops.pool2d(np.ascontiguousarray(relu)[None, None], pool_op, pool_window,
                            pool_stride)[0, 0]
    else:   # a 3×3 output under a 4×4 pool: nothing to pool, say so through the sizes
        pooled = np.zeros((max(pool_h["output"], 0), max(pool_w["output"], 0)))
    padded = np.pad(x, padding)
    return LabResult(padded=padded, kernel=k, bias=float(bias), stride=stride, padding=padding,
                     output=output, relu=relu, activation=activation,
                     pool={"op": pool_op, "window": pool_window, "stride": pool_stride},
                     pooled=np.ascontiguousarray(pooled),
                     sizes={"conv": {"height": conv_h, "width": conv_w},
                            "pool": {"height": pool_h, "width": pool_w}})


def learned_layers(network) -> list[dict]:
    """The conv stages whose filters the lab can convolve a map with: those that read the
    network's input (the lab's maps are its channels) and, as before, any reading one map."""
    stages = network.stages
    return [s for i, s in enumerate(stages) if s["kind"] == "conv"
            and (s["in_channels"] == 1 or (i > 0 and stages[i - 1]["kind"] == "input"))]


def learned_kernel(network, layer: str, filter_index: int,
                   channel: int | None = None) -> tuple[np.ndarray, float]:
    """(k×k kernel, bias): one input channel's slice of a trained filter.

    `channel` picks the slice of a filter that reads several channels (Tiny VGG's conv1 reads
    red, green and blue); it may be left out (= 0) only when the filter reads one map. The
    bias is the filter's own when the slice is the whole filter, else 0: the layer adds its
    bias once, to the sum over channels, so slice × channel alone is exactly that channel's
    subtotal in the network's conv explanation (engine.explain).
    """
    convs = learned_layers(network)
    stage = next((s for s in convs if s["name"] == layer), None)
    if stage is None:
        raise BadInput(f"learned filter layer {layer!r} is not a conv layer reading the input or "
                       f"a single map in this model; accepted: "
                       f"{', '.join(s['name'] for s in convs) or 'none'}")
    if isinstance(filter_index, bool) or not 0 <= filter_index < stage["filters"]:
        raise BadInput(f"filter {filter_index!r} is out of range for {layer}; accepted: 0.."
                       f"{stage['filters'] - 1}")
    c = stage["in_channels"]
    if channel is None and c > 1:
        raise BadInput(f"learned.channel is needed: {layer} reads {c} input channels; accepted: "
                       f"0..{c - 1}")
    channel = 0 if channel is None else channel
    if isinstance(channel, bool) or not 0 <= channel < c:
        raise BadInput(f"learned.channel {channel!r} is out of range for {layer} (it reads {c} "
                       f"channel{'s' if c > 1 else ''}); accepted: "
                       f"{'0' if c == 1 else f'0..{c - 1}'}")
    if stage["kernel"] not in KERNEL_SIZES:
        raise BadInput(f"{layer}'s filters are {stage['kernel']}×{stage['kernel']}; the lab takes "
                       f"k×k kernels with k one of {', '.join(map(str, KERNEL_SIZES))}")
    params = network.parameters()[layer]
    weight = np.asarray(params["weight"][filter_index, channel], dtype=np.float64)
    return weight, float(params["bias"][filter_index]) if c == 1 else 0.0
