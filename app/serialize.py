"""Engine objects -> contract JSON payloads (dicts holding float32 NumPy arrays, and in the
forward answer an orjson.Fragment where a value list repeats another: `forward_payload`).

Arrays stay NumPy until app/responses.py writes them: flat (row-major `ravel`) float32 with
`shape` beside them, so every value on the wire is exactly the engine's float32.
"""
from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import orjson

from app.responses import dumps
from engine import gradient, kinds, lab
from engine.preprocess import Preprocessed

STEP_NAMES = ("fitted", "centred", "input")   # what the page shows between drawing and input


def flat(values) -> np.ndarray:
    """values as flat contiguous float32: a view when they already are (the engine's are)."""
    if type(values) is np.ndarray and values.dtype == np.float32 and values.flags.c_contiguous:
        return values.reshape(-1)
    return np.ascontiguousarray(values, dtype=np.float32).ravel()


def stage_entry(stage: dict) -> dict:
    """A stage record without values: name, kind, shape and the kind's parameters."""
    entry = {"name": stage["name"], "kind": stage["kind"], "shape": list(stage["shape"])}
    entry.update({k: v for k, v in stage.items() if k not in entry})
    return entry


def model_info(network, declared: dict | None = None) -> dict:
    """/api/model. Added fields beside the contract's: `input` (the model's input declaration:
    shape, preprocessing, the pad's words), `kinds` (each layer kind's parameters and rules,
    from engine.kinds), `limits` (the Lab's and Learn's accepted ranges, from engine.lab and
    engine.gradient: the page builds its controls from them), `notes` (what an importer did,
    e.g. folded BatchNorm) and `imported` (imported_card)."""
    meta = network.metadata or {}
    info = {
        "name": meta.get("name", "unnamed"),
        "dataset": meta.get("dataset", "unknown"),
        "classes": [str(c) for c in meta.get("classes", range(network.stages[-1]["shape"][0]))],
        "accuracy": {k: float(v) for k, v in (meta.get("accuracy") or {}).items()},
        "layers": [stage_entry(s) for s in network.stages],
    }
    if declared is not None:
        info["input"] = declared
    info["kinds"] = kinds.describe()
    info["limits"] = {"lab": lab.limits(), "learn": gradient.limits()}
    info["notes"] = [str(n) for n in meta.get("notes", [])]
    info["imported"] = imported_card(meta)
    return info


def imported_card(meta: dict) -> dict | None:
    """Where `convscope import` took the model from: {source: onnx | torch, file: its name (no
    folder: the server's paths are not the page's business), stages: {stage: what the import
    changed there} (said on that stage's numbers panel)}, or None for a model trained here."""
    imported = meta.get("imported")
    if not isinstance(imported, dict):
        return None
    stages = imported.get("stages")
    return {"source": str(imported.get("source", "")),
            "file": Path(str(imported.get("file", ""))).name,
            "stages": ({str(k): str(v) for k, v in stages.items()}
                       if isinstance(stages, dict) else {})}


def weights(network) -> dict:
    return {
        name: {"weight": flat(p["weight"]), "weight_shape": list(p["weight"].shape),
               "bias": flat(p["bias"])}
        for name, p in network.parameters().items()
    }


def entry_head(name: str, kind: str, shape, params: dict | None) -> dict:
    """A trace record's layer entry without its values: name, kind, shape, the kind's params."""
    entry = {"name": name, "kind": kind, "shape": list(shape)}
    if params:
        entry.update({k: v for k, v in params.items() if k not in entry})
    return entry


_HEADS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def network_heads(network) -> list[dict]:
    """`entry_head` of each of `network`'s stages, made once per network. Shared between
    answers, so never mutated: an answer's entry is `{**head, "values": ...}`."""
    heads = _HEADS.get(network)
    if heads is None:
        heads = _HEADS[network] = [entry_head(*h) for h in network.record_heads]
    return heads


def trace_heads(trace, network=None) -> list[dict]:
    """The entry heads of `trace`'s records: `network`'s cached ones when the trace is that
    network's one-image forward (its records carry the network's own params dicts), else
    made from the records."""
    records = trace.records
    if network is not None and not trace.batched:
        known = network.record_heads
        if len(known) == len(records) and all(r.params is h[3] for r, h in zip(records, known)):
            return network_heads(network)
    return [entry_head(r.name, r.kind, r.shape, r.params) for r in records]


def trace_layers(trace, network=None) -> list[dict]:
    return [{**head, "values": flat(rec.values)}
            for head, rec in zip(trace_heads(trace, network), trace.records)]


def preprocessing_info(pre: Preprocessed) -> dict:
    """The preprocessing answer without its steps: the ink's box and the centre of mass."""
    if pre.bbox is None:
        crop_box = None
    else:
        y0, y1, x0, x1 = pre.bbox
        crop_box = [int(x0), int(y0), int(x1), int(y1)]
    com = None if pre.centre_of_mass is None else [float(v) for v in pre.centre_of_mass]
    return {"crop_box": crop_box, "centre_of_mass": com}


def preprocessing(pre: Preprocessed) -> dict:
    steps = [{"name": n, "shape": list(pre.steps[n].shape), "values": flat(pre.steps[n])}
             for n in STEP_NAMES if n in pre.steps]    # resize-and-crop has no `centred`
    return {**preprocessing_info(pre), "steps": steps}


def forward_payload(trace, pre: Preprocessed | None, network=None) -> dict:
    """The contract's forward answer; `network`, the one that made `trace`, lets the layer
    entries' fixed parts be reused (`trace_heads`)."""
    # Key order is for gzip, whose matches reach back only 32 KB: the preprocessing steps end
    # with the 32×32 input, so they go just before `layers`, whose first entry repeats it; the
    # probabilities go just after the softmax stage they repeat. Together ~1 KB less gzipped.
    payload = {}
    if pre is not None:
        payload["preprocessing"] = preprocessing(pre)
    payload["prediction"] = int(trace.prediction)
    payload["layers"] = layers = trace_layers(trace, network)
    payload["probabilities"] = flat(trace.probabilities)
    # Value lists that repeat another bit for bit are written once (an orjson.Fragment held in
    # both places: the same bytes out, ~12 µs less per LeNet answer): a flatten stage repeats
    # the stage before it, the probabilities the softmax stage, the input step the input layer.
    for i, entry in enumerate(layers[1:], 1):
        if entry["kind"] == "flatten":
            _share(layers[i - 1], entry)
    _share(layers[-1], payload, "probabilities")
    if pre is not None and pre.steps and "input" in pre.steps:
        _share(layers[0], payload["preprocessing"]["steps"][-1])
    return payload


def _share(source: dict, entry: dict, key: str = "values") -> None:
    """entry[key] := source's values, serialised once for both, when their bits are equal."""
    a, b = source["values"], entry[key]
    if isinstance(a, orjson.Fragment):
        same = False
    else:
        same = a is b or (a.shape == b.shape and a.tobytes() == b.tobytes())
    if same:
        source["values"] = entry[key] = orjson.Fragment(dumps(a))


# Explain fields that are copies of float32 engine values (trace entries, weights): written
# as float32 so they read exactly like the forward response. Sums and products are computed
# in float64 by the engine and stay float64.
_F32_FIELDS = ("value", "bias", "input", "weight", "logits")


def explain_payload(result: dict, shape, receptive_field) -> dict:
    payload = dict(result)
    for key in _F32_FIELDS:
        if key in payload and payload[key] is not None:
            payload[key] = np.float32(payload[key]) if np.ndim(payload[key]) == 0 \
                else flat(payload[key])
    source = payload.get("source")
    if isinstance(source, dict) and "values" in source:
        payload["source"] = {**source, "values": flat(source["values"])}
    if isinstance(payload.get("top"), list):
        payload["top"] = [{**t, "input": np.float32(t["input"]), "weight": np.float32(t["weight"])}
                          for t in payload["top"]]
    payload["shape"] = list(shape)
    payload["receptive_field"] = [[int(a), int(b)] for a, b in receptive_field]
    return payload
