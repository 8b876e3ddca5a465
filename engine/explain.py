"""Provenance: where one unit's value comes from, read from a Trace (nothing is rerun).

`explain(network, trace, layer, unit)` returns exactly the contract's /api/explain response:
`{layer, kind, unit, value, source: {layer, window, values, shape}, ...per kind}` with plain
Python numbers. The terms are recomputed in float64 from the recorded float32 values, so the
shown `sum` equals `value` to float32 precision: the page can show the arithmetic honestly.

Choices the contract leaves open:
- conv: `window` is clipped to the source map (zero padding contributes nothing), and `weight`
  is the kernel slice over the same window (same shape). With a connection table the window
  still spans every input map and unconnected maps carry weight exactly 0; `channels` lists
  the maps the filter actually reads (all of them without a table).
- input: the image is its own source: `source.layer` is "input" and the window is the pixel.
- flatten: the source is the single unit of the previous stage that the element copies.
- dense: `values` (and `weight`) are the whole input vector (and weight row); `top` has the
  10 largest |input·weight| terms, largest first.
- pool: `argmax` is the first maximum in row-major window order, the one backprop uses.
"""
from __future__ import annotations

import numbers

import numpy as np

from engine.errors import BadInput, UnitOutOfRange, UnknownLayer
from engine.kinds import KINDS
from engine.trace import Trace

TOP_TERMS = 10
_AXES = {3: ("c", "y", "x"), 1: ("i",)}


def _stage_index(network, layer: str) -> int:
    for i, stage in enumerate(network.stages):
        if stage["name"] == layer:
            return i
    names = ", ".join(s["name"] for s in network.stages)
    raise UnknownLayer(f"unknown layer {layer!r}; valid names: {names}")


def _check_unit(name: str, shape, unit) -> tuple[int, ...]:
    axes = _AXES.get(len(shape), tuple(f"d{i}" for i in range(len(shape))))
    ranges = ", ".join(f"{a} in 0..{n - 1}" for a, n in zip(axes, shape))
    if (not isinstance(unit, (list, tuple, np.ndarray)) or len(unit) != len(shape)
            or not all(isinstance(u, numbers.Integral) and not isinstance(u, bool)
                       for u in unit)):
        raise UnitOutOfRange(f"unit {_show(unit)} for {name} must be {len(shape)} integer(s) "
                             f"[{', '.join(axes)}] with {ranges}")
    unit = tuple(int(u) for u in unit)
    if not all(0 <= u < n for u, n in zip(unit, shape)):
        raise UnitOutOfRange(f"unit {list(unit)} is out of range for {name} of shape "
                             f"{list(shape)}: {ranges}")
    return unit


def _show(unit) -> str:
    return str(list(unit)) if isinstance(unit, (list, tuple)) else repr(unit)


def _one_image(trace: Trace, name: str, sample: int) -> np.ndarray:
    values = trace[name].values
    if trace.batched:
        if not 0 <= sample < values.shape[0]:
            raise UnitOutOfRange(f"sample {sample} is out of range for a batch of "
                                 f"{values.shape[0]}")
        values = values[sample]
    return values


def _flat(a) -> list[float]:
    return np.asarray(a, dtype=np.float64).ravel().tolist()


def _source(name: str, window, values) -> dict:
    return {"layer": name, "window": [list(w) for w in window], "values": _flat(values),
            "shape": list(np.shape(values))}


def _explain_conv(network, stage, unit, out, src, result):
    c_in, H, W = src.shape
    k, s, p = stage["kernel"], stage["stride"], stage["padding"]
    f, y, x = unit
    y0, x0 = y * s - p, x * s - p
    ya, yb, xa, xb = max(y0, 0), min(y0 + k, H), max(x0, 0), min(x0 + k, W)
    window_vals = src[:, ya:yb, xa:xb]
    params = network.layer(stage["name"]).params
    weight = params["weight"][f, :, ya - y0:yb - y0, xa - x0:xb - x0].astype(np.float64)
    bias = float(params["bias"][f])
    result["source"] = _source(result["source_layer"], [[0, c_in], [ya, yb], [xa, xb]],
                               window_vals)
    result["weight"] = _flat(weight)
    result["bias"] = bias
    result["sum"] = float(np.sum(window_vals * weight) + bias)
    conn = stage.get("connections")
    result["channels"] = list(conn[f]) if conn else list(range(c_in))


def _explain_activation(network, stage, unit, out, src, result):
    result["source"] = _source(result["source_layer"], [[u, u + 1] for u in unit],
                               src[tuple(slice(u, u + 1) for u in unit)])
    result["input"] = float(src[unit])
    result["function"] = stage["function"]
    for key in ("scale", "slope", "alpha"):
        if key in stage:
            result[key] = stage[key]


def _explain_pool(network, stage, unit, out, src, result):
    w, s = stage["window"], stage["stride"]
    c, y, x = unit
    ys, xs = y * s, x * s
    patch = src[c:c + 1, ys:ys + w, xs:xs + w]
    result["source"] = _source(result["source_layer"], [[c, c + 1], [ys, ys + w], [xs, xs + w]],
                               patch)
    result["op"] = stage["op"]
    if stage["op"] == "max":
        dy, dx = np.unravel_index(int(np.argmax(patch[0])), patch[0].shape)
        result["argmax"] = [c, ys + int(dy), xs + int(dx)]
    else:
        result["sum"] = float(patch.sum())
        result["count"] = int(patch.size)


def _explain_flatten(network, stage, unit, out, src, result):
    where = np.unravel_index(unit[0], src.shape)
    result["source"] = _source(result["source_layer"], [[int(u), int(u) + 1] for u in where],
                               src[tuple(slice(int(u), int(u) + 1) for u in where)])


def _explain_dense(network, stage, unit, out, src, result):
    (u,) = unit
    params = network.layer(stage["name"]).params
    row = params["weight"][u].astype(np.float64)
    bias = float(params["bias"][u])
    products = src * row
    order = np.argsort(-np.abs(products), kind="stable")[:TOP_TERMS]
    result["source"] = _source(result["source_layer"], [[0, src.shape[0]]], src)
    result["weight"] = _flat(row)
    result["bias"] = bias
    result["top"] = [{"index": int(j), "input": float(src[j]), "weight": float(row[j]),
                      "product": float(products[j])} for j in order]
    result["sum"] = float(products.sum() + bias)


def _explain_softmax(network, stage, unit, out, src, result):
    (u,) = unit
    shifted = np.exp(src - src.max())
    denominator = float(shifted.sum())
    result["source"] = _source(result["source_layer"], [[0, src.shape[0]]], src)
    result["logits"] = _flat(src)
    result["max_logit"] = float(src.max())
    result["denominator"] = denominator
    result["probability"] = float(shifted[u] / denominator)


# One explainer per kind of engine.kinds.KINDS but the input (tests/engine/test_kinds.py).
EXPLAINERS = {"conv": _explain_conv, "activation": _explain_activation, "pool": _explain_pool,
              "flatten": _explain_flatten, "dense": _explain_dense, "softmax": _explain_softmax}


def explain(network, trace: Trace, layer: str, unit, sample: int = 0) -> dict:
    """Where `unit` of stage `layer` comes from. See the module docstring for the shape.

    Raises UnknownLayer (lists valid names) or UnitOutOfRange (gives the valid ranges)."""
    i = _stage_index(network, layer)
    stage = network.stages[i]
    unit = _check_unit(layer, stage["shape"], unit)
    out = _one_image(trace, layer, sample)
    value = float(out[unit])
    result = {"layer": layer, "kind": stage["kind"], "unit": list(unit), "value": value}
    kind = stage["kind"]
    if kind == "input":
        c, y, x = unit
        result["source"] = _source(layer, [[c, c + 1], [y, y + 1], [x, x + 1]],
                                   out[c:c + 1, y:y + 1, x:x + 1])
        return result
    explainer = EXPLAINERS.get(kind)
    if explainer is None:  # pragma: no cover - infer_shapes admits no other kind
        raise BadInput(f"cannot explain kind {kind!r}")
    prev = network.stages[i - 1]
    src = _one_image(trace, prev["name"], sample).astype(np.float64)
    result["source_layer"] = prev["name"]
    explainer(network, stage, unit, out, src, result)
    del result["source_layer"]
    return result


def receptive_field(network, layer: str, unit) -> list[list[int]]:
    """The unit's footprint on the input image: [[c0, c1], [y0, y1], [x0, x1]], half-open.

    Walks back stage by stage following each kind's `receptive_field` rule (engine.kinds); at
    each window stage the window is clipped to the map, because beyond it there is only zero
    padding, which no input pixel feeds. Dense and softmax units (and anything after them)
    see the whole image.
    """
    i = _stage_index(network, layer)
    unit = _check_unit(layer, network.stages[i]["shape"], unit)
    c_in, H, W = network.stages[0]["shape"]
    if len(unit) == 3:
        window = [[unit[1], unit[1] + 1], [unit[2], unit[2] + 1]]
    else:
        window = None
    for j in range(i, 0, -1):
        stage, prev = network.stages[j], network.stages[j - 1]
        rule = KINDS[stage["kind"]].receptive_field
        if rule == "whole":
            return [[0, c_in], [0, H], [0, W]]
        if rule == "unflatten":
            if window is not None:        # a 1-D unit reached through flatten
                continue
            _, y, x = np.unravel_index(unit[0], prev["shape"])
            window = [[int(y), int(y) + 1], [int(x), int(x) + 1]]
            continue
        if window is None or rule == "same":
            continue
        k = stage["kernel"] if "kernel" in stage else stage["window"]
        s = stage["stride"]
        p = stage.get("padding", 0)
        _, h, w = prev["shape"]
        (ya, yb), (xa, xb) = window
        window = [[max(ya * s - p, 0), min((yb - 1) * s - p + k, h)],
                  [max(xa * s - p, 0), min((xb - 1) * s - p + k, w)]]
    if window is None:
        return [[0, c_in], [0, H], [0, W]]
    return [[0, c_in]] + window
