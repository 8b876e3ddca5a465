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

`of` always names an earlier layer. A stage is only ever described by a rebuild after the
server has computed that rebuild itself, from the float32 values the client will hold, exactly
as the client computes it, and found every bit equal (`_same`); otherwise its values are sent.
So the decoded trace is bit for bit the JSON answer's (tests/api/test_forward_wire.py, and
tests/js/wire.test.mjs decoding a server-made fixture with static/js/wire.js).

What is not rebuilt, and why: tanh and sigmoid (JavaScript's Math.tanh/Math.exp are not
correctly rounded, so a rebuild could be one float32 ulp off), avg/sum pools (float64 sums in
the engine's order), conv, dense and softmax (they need the weights and the engine's summation
order). For the shipped ReLU LeNet the data is ~27 KB (conv1 19 KB of it); ISA-L gzip level 1
takes it to ~17 KB in ~0.1 ms, measured worth it (bench/api.py), so it is sent gzipped when the
client accepts gzip.
"""
from __future__ import annotations

import struct

import numpy as np
import orjson

from app.serialize import STEP_NAMES, preprocessing_info
from engine.preprocess import Preprocessed

MAGIC = b"CSW1"
MEDIA_TYPE = "application/octet-stream"
_ONE_255 = np.float32(1 / 255)
_U8_TABLE = np.arange(256, dtype=np.float32) * _ONE_255   # k -> float32(k × float32(1/255))


def _f32(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float32).ravel()


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equal float32 arrays (so +0 and -0 differ, as they would on the page).
    Comparing the bytes is ~5x faster than np.array_equal on the uint32 views."""
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _as_u8(v: np.ndarray) -> np.ndarray | None:
    """v as bytes k with v == float32(k × float32(1/255)) exactly, or None if it is not that."""
    if not v.size or v.min() < 0 or v.max() > 1:
        return None
    k = np.rint(v * np.float32(255)).astype(np.uint8)
    return k if _same(_U8_TABLE[k], v) else None


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
    the order a window is visited in (a -0 beside a +0: the only equal floats whose bits differ).
    """
    if len(shape) != 3 or np.any(src.view(np.int32) == _NEGATIVE_ZERO):
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
        self.f32.append(values)
        self.f32_bytes += 4 * values.size
        return d

    def bytes(self) -> bytes:
        offset = self.f32_bytes
        for d, k in zip(self.descriptors_u8, self.u8):
            d["offset"] = offset
            offset += k.size
        parts = [a.astype("<f4", copy=False).tobytes() for a in self.f32]
        return b"".join(parts + [k.tobytes() for k in self.u8])


def _rebuild(entry: dict, values: np.ndarray, prev: tuple[str, np.ndarray, list] | None):
    """The descriptor of a stage the page can rebuild from the stage before it, or None."""
    if prev is None:
        return None
    name, src, shape = prev
    kind = entry["kind"]
    if kind == "activation" and entry.get("function") == "relu":
        rebuilt = relu(src)
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


def encode_forward(trace, pre: Preprocessed | None) -> bytes:
    """The binary form of app.serialize.forward_payload(trace, pre) (see the module docstring)."""
    data = _Data()
    header: dict = {}
    layer_values: dict[str, np.ndarray] = {}
    if pre is not None:
        info = preprocessing_info(pre)
        steps = []
        for name in (n for n in STEP_NAMES if n in pre.steps):   # resize-and-crop: no centred
            values = _f32(pre.steps[name])
            steps.append({"name": name, "shape": list(pre.steps[name].shape), "values": values})
        header["preprocessing"] = {**info, "steps": steps}
    header["prediction"] = int(trace.prediction)
    layers, prev = [], None
    for rec in trace.records:
        entry = {"name": rec.name, "kind": rec.kind, "shape": list(rec.shape)}
        entry.update({k: v for k, v in (rec.params or {}).items() if k not in entry})
        values = _f32(rec.values)
        entry["values"] = (_rebuild(entry, values, prev)
                           or data.add(values, try_u8=rec.kind == "input"))
        layer_values[rec.name] = values
        prev = (rec.name, values, list(rec.shape))
        layers.append(entry)
    header["layers"] = layers
    probabilities = _f32(trace.probabilities)
    last = trace.records[-1]
    header["probabilities"] = ({"encoding": "copy", "of": last.name}
                               if _same(probabilities, layer_values[last.name])
                               else data.add(probabilities))
    if pre is not None:   # after the layers, so a step can be a copy of the input layer
        first = trace.records[0]
        for step in header["preprocessing"]["steps"]:
            values = step["values"]
            if step["name"] == "input" and _same(values, layer_values[first.name]):
                step["values"] = {"encoding": "copy", "of": first.name}
            else:
                step["values"] = data.add(values, try_u8=True)
    blob = data.bytes()
    head = orjson.dumps(header)
    head += b" " * (-len(head) % 4)
    return MAGIC + struct.pack("<I", len(head)) + head + blob


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
