"""The forward answer as binary: the same exact float32 values as the JSON, for the page's wire.

The contract's JSON answer is ~153 KB (~35 KB gzipped) of shortest float32 digits; a classroom of
40 drawing students asks ~14 MB/s of it. `POST /api/forward` with `Accept:
application/octet-stream` gets this instead (the contract's "added representations"):

    bytes 0-3   b"CSW1"   (ConvScope wire, version 1)
    bytes 4-7   H, uint32 little-endian: the header's length in bytes
    8 .. 8+H    the header: UTF-8 JSON, padded with spaces so the data starts 4-byte aligned
    8+H ..      the data: the arrays the header points into

The header is the JSON answer itself (`preprocessing`, `prediction`, `layers`, `probabilities`,
same keys, same order) with every value array replaced by a descriptor saying how to get it:

    {"encoding": "f32",    "offset": o, "length": n}   n little-endian float32 at data + o
                                                        (o a multiple of 4)
    {"encoding": "u8/255", "offset": o, "length": n}   n bytes k, each the float32 k × (1/255)
                                                        computed in float32 (the preprocessed
                                                        images: MNIST's bytes, and the input)
    {"encoding": "relu",     "of": name}   v > 0 ? v : +0 of layer `name`'s values
    {"encoding": "max_pool", "of": name}   the max over each window×window patch at `stride`
                                           (this entry's own `window`, `stride`) of layer `name`
    {"encoding": "copy",     "of": name}   layer `name`'s values as they are (flatten; the
                                           probabilities = softmax; the input step = input)

`of` always names an earlier layer. A stage is only ever described by a rebuild that gives
the very bits the client would otherwise be sent; otherwise its values are sent. Either the
server computes the rebuild itself, from the float32 values the client will hold, exactly as
the client computes it, and finds every bit equal (`_same`); or, for a float32 network's own
forward, the stage's layer makes its values by the page's rule by construction (`_TRUSTED`:
ReLU, flatten, and max pooling of a ReLU's output, with one NaN check per ReLU stage), which
tests prove once against the page's rule instead of every request recomputing it. So the
decoded trace is bit for bit the JSON answer's (tests/api/test_forward_wire.py, and
tests/js/wire.test.mjs decoding a server-made fixture with static/js/wire.js).

What is not rebuilt, and why: tanh and sigmoid (JavaScript's Math.tanh/Math.exp are not
correctly rounded, so a rebuild could be one float32 ulp off), avg/sum pools (float64 sums in
the engine's order), conv, dense and softmax (they need the weights and the engine's summation
order). For the shipped ReLU LeNet the data is ~27 KB (conv1 19 KB of it); ISA-L gzip level 1
takes it to ~17 KB in ~0.06 ms, measured worth it (bench/api.py), so it is sent gzipped when the
client accepts gzip. Encoding it takes ~0.06 ms (in-process minimum; 0.095 ms when every
rebuild was recomputed and compared per request).
"""
from __future__ import annotations

import struct
import weakref

import numpy as np
import orjson

from app.serialize import STEP_NAMES, flat, network_heads, preprocessing_info, trace_heads
from engine.layers import Flatten, Pool2D, ReLU
from engine.preprocess import Preprocessed

MAGIC = b"CSW1"
MEDIA_TYPE = "application/octet-stream"
_ONE_255 = np.float32(1 / 255)
_U8_TABLE = np.arange(256, dtype=np.float32) * _ONE_255   # k -> float32(k × float32(1/255))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equal float32 arrays (so +0 and -0 differ, as they would on the page).
    Comparing the bytes is ~5x faster than np.array_equal on the uint32 views."""
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _as_u8(v: np.ndarray) -> np.ndarray | None:
    """v as bytes k with v == float32(k × float32(1/255)) exactly, or None if it is not that."""
    if not (v.size and v.min() >= 0 and v.max() <= 1):   # NaN fails too: none reach the cast
        return None
    k = np.rint(v * np.float32(255)).astype(np.uint8)
    return k if _same(_U8_TABLE.take(k), v) else None


def relu(src: np.ndarray) -> np.ndarray:
    """The page's ReLU: `v > 0 ? v : 0`, so every non-positive value (and -0) becomes +0.

    Done on the bits: a float32 is > 0 exactly when its bits as an int32 are > 0 (sign clear,
    not zero), so the integer maximum with 0 is that rule with no floating-point ambiguity
    about the sign of a zero (np.maximum(-0.0, 0.0) may give either), and ~4x faster than
    np.where.
    """
    return np.maximum(src.view(np.int32), 0).view(np.float32)


_NEGATIVE_ZERO = np.int32(-2 ** 31)   # the bits of -0.0 read as an int32


def max_pool(src: np.ndarray, shape, window: int, stride: int) -> np.ndarray | None:
    """The page's max pooling of src (flat, C×H×W = shape): out[c, y, x] is the max of
    src[c, y·stride + i, x·stride + j] over 0 ≤ i, j < window. None when that max could depend on
    the order a window is visited in (a -0 beside a +0: the only equal floats whose bits differ)
    or on how NaN is compared (NumPy's maximum keeps it, the page's `v > m` skips it).
    """
    if (len(shape) != 3 or np.any(src.view(np.int32) == _NEGATIVE_ZERO)
            or np.isnan(src.max())):
        return None
    c, h, w = shape
    oh, ow = (h - window) // stride + 1, (w - window) // stride + 1
    if oh < 1 or ow < 1:
        return None
    x = src.reshape(shape)
    out = None
    for i in range(window):        # window² strided slices: ~4x faster than a reshape + max
        for j in range(window):
            part = x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            out = part.copy() if out is None else np.maximum(out, part, out=out)
    return out.ravel()


# Rebuilds the engine's layers make by construction, so a float32 network's own trace needs
# no per-request recomputation of them (tests/api/test_forward_wire.py proves each against
# the page's rule): ReLU.forward(_one) is np.maximum(prev, 0), whose bits are `v > 0 ? v : +0`
# for every v but NaN (-0 and +0 give +0); Flatten's values are the previous stage's values
# reshaped. A max pool of a stage holding neither -0 nor NaN (a checked ReLU's output) is the
# one maximum of each window in whatever order it is visited, so the engine's equals the page's.
_TRUSTED = {ReLU: "relu", Flatten: "copy"}
_RULES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _pool_rule(layer, in_shape, out_shape) -> str | None:
    """"max_pool" when the engine's max pool has the page's output shape (no padding, floor)."""
    if not (isinstance(layer, Pool2D) and layer.op == "max" and len(in_shape) == 3):
        return None
    c, h, w = in_shape
    oh, ow = (h - layer.window) // layer.stride + 1, (w - layer.window) // layer.stride + 1
    return "max_pool" if tuple(out_shape) == (c, oh, ow) else None


def _network_rules(network) -> list[str | None]:
    """Per stage of a float32 network, the page rule its layer follows by construction."""
    rules = _RULES.get(network)
    if rules is None:
        shapes = [tuple(s["shape"]) for s in network.stages]
        rules = [None] + [_TRUSTED.get(type(layer)) or _pool_rule(layer, a, b)
                          for layer, a, b in zip(network.layers, shapes, shapes[1:])]
        _RULES[network] = rules
    return rules


def _rules(trace, network, heads) -> list[str | None]:
    """The trusted rules when `heads` are the network's own (the trace is its one-image
    forward: app.serialize.trace_heads), else none: every rebuild is then checked."""
    if network is not None and network.dtype == np.float32 and heads is network_heads(network):
        return _network_rules(network)
    return [None] * len(trace.records)


class _Data:
    """The data section: f32 arrays first (each 4-byte aligned by construction), then bytes."""

    def __init__(self):
        self.f32: list[np.ndarray] = []
        self.u8: list[np.ndarray] = []
        self.f32_bytes = 0
        self.descriptors_u8: list[dict] = []

    def add(self, values: np.ndarray, try_u8: bool = False) -> dict:
        k = _as_u8(values) if try_u8 else None
        if k is not None:
            d = {"encoding": "u8/255", "offset": 0, "length": int(k.size)}
            self.u8.append(k)
            self.descriptors_u8.append(d)   # offsets known once every f32 array is placed
            return d
        d = {"encoding": "f32", "offset": self.f32_bytes, "length": int(values.size)}
        self.f32.append(values.astype("<f4", copy=False))
        self.f32_bytes += 4 * values.size
        return d

    def place_u8(self) -> int:
        """Gives every byte array its offset (after the f32 ones); the data's length."""
        offset = self.f32_bytes
        for d, k in zip(self.descriptors_u8, self.u8):
            d["offset"] = offset
            offset += k.size
        return offset

    def write(self, out: bytearray, at: int) -> None:
        """Copies every array into `out` from `at` on: one copy each, no intermediate bytes."""
        for a in self.f32 + self.u8:
            n = a.nbytes
            out[at:at + n] = memoryview(a).cast("B")
            at += n


def _rebuild(entry: dict, values: np.ndarray, prev: tuple[str, np.ndarray, list] | None):
    """The descriptor of a stage the page can rebuild from the stage before it, or None:
    computed the page's way and compared bit for bit (for records no plan vouches for)."""
    if prev is None:
        return None
    name, src, shape = prev
    kind = entry["kind"]
    if kind == "activation" and entry.get("function") == "relu":
        # NaN: the bits rule keeps a positive one, the page's `v > 0 ? v : 0` makes it 0
        rebuilt = None if np.isnan(src.max()) else relu(src)
        encoding = "relu"
    elif kind == "pool" and entry.get("op") == "max":
        rebuilt = max_pool(src, shape, int(entry["window"]), int(entry["stride"]))
        encoding = "max_pool"
    elif kind == "flatten":
        rebuilt, encoding = src, "copy"
    else:
        return None
    if rebuilt is None or not _same(rebuilt, values):
        return None
    return {"encoding": encoding, "of": name}


def encode_forward(trace, pre: Preprocessed | None, network=None) -> bytes:
    """The binary form of app.serialize.forward_payload(trace, pre) (see the module docstring).
    Given the `network` whose one-image forward made `trace`, the stages its layers make by a
    page rule by construction are described without recomputing them (`_TRUSTED`)."""
    data = _Data()
    header: dict = {}
    if pre is not None:
        steps = [{"name": n, "shape": list(pre.steps[n].shape), "values": flat(pre.steps[n])}
                 for n in STEP_NAMES if n in pre.steps]    # resize-and-crop: no centred
        header["preprocessing"] = {**preprocessing_info(pre), "steps": steps}
    header["prediction"] = int(trace.prediction)
    heads = trace_heads(trace, network)
    layers = []
    prev, clean = None, False      # clean: the previous stage holds neither -0 nor NaN
    for head, rule, rec in zip(heads, _rules(trace, network, heads), trace.records):
        values = flat(rec.values)
        d = None
        if prev is not None:
            if rule == "relu":
                clean = not np.isnan(values.max())   # NaN: the one input max(v, 0) keeps
                d = {"encoding": "relu", "of": prev[0]} if clean else None
            elif rule == "copy":
                d = {"encoding": "copy", "of": prev[0]}
            elif rule == "max_pool" and clean:
                d = {"encoding": "max_pool", "of": prev[0]}
            else:
                clean = False
                d = _rebuild(head, values, prev)
        layers.append({**head, "values": d or data.add(values, try_u8=rec.kind == "input")})
        prev = (rec.name, values, head["shape"])
    header["layers"] = layers
    last, first = trace.records[-1], trace.records[0]
    probabilities = trace.probabilities
    header["probabilities"] = ({"encoding": "copy", "of": last.name}
                               if probabilities is last.values    # a softmax stage's own array
                               or _same(flat(probabilities), prev[1])
                               else data.add(flat(probabilities)))
    if pre is not None:   # after the layers, so a step can be a copy of the input layer
        for step in header["preprocessing"]["steps"]:
            values = step["values"]
            if step["name"] == "input" and _same(values, flat(first.values)):
                step["values"] = {"encoding": "copy", "of": first.name}
            else:
                step["values"] = data.add(values, try_u8=True)
    size = data.place_u8()
    head = orjson.dumps(header)
    head += b" " * (-len(head) % 4)
    out = bytearray(8 + len(head) + size)
    out[:4] = MAGIC
    struct.pack_into("<I", out, 4, len(head))
    out[8:8 + len(head)] = head
    data.write(out, 8 + len(head))
    return bytes(out)


# ------------------------------------------------------------------ the reference reader
def decode_forward(payload: bytes) -> dict:
    """Binary answer -> the JSON answer's dict, with float32 NumPy arrays for value lists.

    The page's reader is static/js/wire.js; this one is for tests and bench/api.py, and writes
    the rebuilds the same way (relu, max_pool above) so the two readers agree by construction.
    """
    if payload[:4] != MAGIC:
        raise ValueError(f"not a ConvScope wire answer (starts {payload[:4]!r})")
    (length,) = struct.unpack_from("<I", payload, 4)
    header = orjson.loads(payload[8:8 + length])
    data = memoryview(payload)[8 + length:]
    layers: dict[str, np.ndarray] = {}

    def read(d: dict, entry: dict | None = None) -> np.ndarray:
        enc = d["encoding"]
        if enc == "f32":
            return np.frombuffer(data, "<f4", d["length"], d["offset"]).astype(np.float32)
        if enc == "u8/255":
            return _U8_TABLE[np.frombuffer(data, np.uint8, d["length"], d["offset"])]
        src = layers[d["of"]]
        if enc == "copy":
            return src.copy()
        if enc == "relu":
            return relu(src)
        if enc == "max_pool":
            shape = next(l["shape"] for l in header["layers"] if l["name"] == d["of"])
            out = max_pool(src, shape, entry["window"], entry["stride"])
            if out is None:
                raise ValueError(f"{entry['name']}: max_pool of {d['of']}, which holds -0")
            return out
        raise ValueError(f"unknown encoding {enc!r}")

    for entry in header["layers"]:
        entry["values"] = layers[entry["name"]] = read(entry["values"], entry)
    header["probabilities"] = read(header["probabilities"])
    for step in (header.get("preprocessing") or {}).get("steps", []):
        step["values"] = read(step["values"])
    return header
