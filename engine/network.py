"""Network: a spec turned into layers, run forward into a Trace, backward for training.

    net = Network(REFERENCE_SPEC, seed=0)
    trace = net.forward(image)          # image (1, 32, 32) -> Trace with every stage
    trace["pool1"].values               # (6, 14, 14)
    logits = net.logits(batch)          # batch (N, 1, 32, 32) -> (N, 10), no record kept
    net.backward(dlogits)               # fills every layer's .grads
"""
from __future__ import annotations

import copy
import json
import math
import os
import zipfile

import numpy as np

from engine import parallel
from engine.errors import BadInput, ModelFileError, SpecError
from engine.layers import Conv2D, Dense, Layer, build_layer
from engine.spec import infer_shapes, strip_shapes
from engine.trace import StageRecord, Trace

FORMAT = "convscope-model"
FORMAT_VERSION = 1


class Network:
    def __init__(self, spec, seed: int = 0, dtype=np.float32):
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise SpecError(f"dtype must be a float type (float32 or float64), got {self.dtype}")
        self.stages: list[dict] = infer_shapes(spec)
        self.spec: list[dict] = strip_shapes(self.stages)
        self.seed = seed
        self.metadata: dict = {}
        self.layers: list[Layer] = []
        for prev, stage in zip(self.stages, self.stages[1:]):
            self.layers.append(build_layer(stage, prev["shape"], self.dtype))
        self._by_name = {layer.name: layer for layer in self.layers}
        # Every stage's fixed params as the Trace carries them (no name/kind/shape).
        self._record_params = [{k: v for k, v in s.items() if k not in ("name", "kind", "shape")}
                               for s in self.stages]
        self._shapes = [tuple(s["shape"]) for s in self.stages]
        # (name, kind, shape, params) per stage: a record is this plus the values.
        self._record_heads = [(s["name"], s["kind"], shape, params) for s, shape, params
                              in zip(self.stages, self._shapes, self._record_params)]
        # logits() stops before a final softmax: the loss takes logits (stabler, cheaper).
        self._n_logit_layers = len(self.layers) - (self.layers and
                                                   self.layers[-1].kind == "softmax")
        self._one_plan = list(zip(self.layers, self._record_heads[1:]))
        # Batches of at least this many run as two halves on both cores (engine.parallel);
        # None runs every batch whole. `_twin` is the second half's layers: shallow copies
        # sharing the parameter arrays, each with its own cache. `_cut` is where the last
        # forward/logits call cut its batch (None: whole), so backward follows it.
        self.split_from = parallel.default_split()
        self._twin: list[Layer] | None = None
        self._cut: int | None = None
        self.initialize(seed)

    # ------------------------------------------------------------------ parameters
    def initialize(self, seed: int = 0) -> None:
        """Seeded uniform init: He (√(6/fan_in)) before a ReLU, LeCun (√(3/fan_in)) otherwise;
        zero biases. Connection-table convs count only the maps they read as fan-in."""
        rng = np.random.default_rng(seed)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (Conv2D, Dense)):
                continue
            following = self.layers[i + 1] if i + 1 < len(self.layers) else None
            gain = 6.0 if getattr(following, "function", None) == "relu" else 3.0
            bound = math.sqrt(gain / layer.fan_in())
            w = layer.params["weight"]
            w[...] = rng.uniform(-bound, bound, size=w.shape)
            layer.params["bias"][...] = 0
            if isinstance(layer, Conv2D):
                layer.apply_mask()

    def parameters(self) -> dict[str, dict[str, np.ndarray]]:
        """{layer name: {"weight", "bias"}} for conv and dense stages: the live arrays (update
        them in place to train; copy them to keep)."""
        return {layer.name: layer.params for layer in self.layers if layer.params}

    def set_parameters(self, params: dict) -> None:
        """Copy weights in from {name: {"weight", "bias"}} (shapes must match exactly)."""
        for name, own in self.parameters().items():
            if name not in params:
                raise BadInput(f"parameters for layer {name!r} are missing")
            for key, target in own.items():
                value = np.asarray(params[name][key])
                if value.shape != target.shape:
                    raise BadInput(f"{name}.{key} has shape {list(value.shape)}, expected "
                                   f"{list(target.shape)}")
                target[...] = value
            layer = self._by_name[name]
            if isinstance(layer, Conv2D):
                layer.apply_mask()

    @property
    def record_heads(self) -> list[tuple]:
        """Per stage, (name, kind, shape, params) as every one-image Trace record carries them:
        the same params dict objects each time, so a record's `params is` this one's marks it
        as made by this network (app/serialize.py and app/wire.py reuse what they derive)."""
        return self._record_heads

    def layer(self, name: str) -> Layer:
        return self._by_name[name]

    def copy(self) -> "Network":
        """An independent network with the same spec, weights and metadata."""
        twin = Network(self.spec, seed=self.seed, dtype=self.dtype)
        twin.set_parameters(self.parameters())
        twin.metadata = copy.deepcopy(self.metadata)
        return twin

    # ------------------------------------------------------------------ forward / backward
    def _as_batch(self, x) -> tuple[np.ndarray, bool]:
        shape = self._shapes[0]
        try:
            x = np.asarray(x, dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise BadInput(f"input must be a numeric array of shape {list(shape)} or "
                           f"(N, {', '.join(map(str, shape))}): {exc}") from None
        if x.shape == shape:
            return x[None], False
        if x.ndim == len(shape) + 1 and x.shape[1:] == shape and x.shape[0] > 0:
            return x, True
        raise BadInput(f"input has shape {list(x.shape)}; expected one image {list(shape)} or a "
                       f"batch (N, {', '.join(map(str, shape))})")

    def forward(self, x) -> Trace:
        """Run every stage and record it. One image (C, H, W) -> per-image values; a batch
        (N, C, H, W) -> values with the leading N. Layer caches hold this call (for backward).
        """
        batch, batched = self._as_batch(x)
        if not batched:
            self._cut = None
            return self._forward_one(batch[0])
        first = batch.copy() if batch is x else batch    # the record must not alias x
        cut = self._cut = parallel.cut_point(len(batch), self.split_from)
        if cut is None:
            outs = [first] + _run(self.layers, first, keep=True)
        else:
            a, b = parallel.run_pair(lambda: _run(self.layers, first[:cut], keep=True),
                                     lambda: _run(self._twins(), first[cut:], keep=True))
            outs = [first] + [_join(u, v) for u, v in zip(a, b)]
        return Trace([StageRecord(stage["name"], stage["kind"], shape, params, values)
                      for stage, shape, params, values
                      in zip(self.stages, self._shapes, self._record_params, outs)], True)

    def _forward_one(self, image: np.ndarray) -> Trace:
        """The one-image path the page calls on every stroke: each layer's lean forward_one
        (same numbers, same caches as a batch of one), values contiguous and ready to serialise."""
        h = image.copy()
        records = [StageRecord(*self._record_heads[0], h)]
        for layer, head in self._one_plan:
            h = layer.forward_one(h)
            records.append(StageRecord(*head, h))
        return Trace(records, False)

    def logits(self, x) -> np.ndarray:
        """(N, C, H, W) or one image -> the last stage before softmax, (N, K). No record."""
        h, _ = self._as_batch(x)
        n = self._n_logit_layers
        cut = self._cut = parallel.cut_point(len(h), self.split_from)
        if cut is None:
            return _run(self.layers[:n], h)[-1]
        a, b = parallel.run_pair(lambda: _run(self.layers[:n], h[:cut]),
                                 lambda: _run(self._twins()[:n], h[cut:]))
        return np.concatenate([a[-1], b[-1]])

    def backward(self, dlogits, input_grad: bool = False):
        """Backpropagate d(loss)/d(logits) (N, K) from the last forward/logits call, filling
        every conv/dense layer's `.grads`. Returns d(loss)/d(input) if `input_grad`, else None
        (the image needs no gradient in training, and the first conv's col2im is costly)."""
        d = np.asarray(dlogits, dtype=self.dtype)
        n, cut = self._n_logit_layers, self._cut
        if cut is None:
            return _back(self.layers[:n], d, input_grad)
        if len(d) <= cut:
            raise BadInput(f"dlogits has {len(d)} rows; the last forward had more than {cut}")
        da, db = parallel.run_pair(lambda: _back(self.layers[:n], d[:cut], input_grad),
                                   lambda: _back(self._twins()[:n], d[cut:], input_grad))
        # d(batch-mean loss) is the sum of the halves' parts (dlogits already carries 1/N).
        for layer, twin in zip(self.layers[:n], self._twins()):
            if layer.params:
                layer.grads = {k: g + twin.grads[k] for k, g in layer.grads.items()}
        return _join(da, db) if input_grad else None

    def _twins(self) -> list[Layer]:
        """The second half's layers, made on first use: `copy.copy` shares `params` (the same
        dict of the same arrays, so every in-place update reaches both); forward/backward
        rebind their own `cache` and `grads`."""
        if self._twin is None:
            self._twin = [copy.copy(layer) for layer in self.layers]
        return self._twin

    # ------------------------------------------------------------------ save / load
    def save(self, path, metadata: dict | None = None) -> None:
        """Write a small .npz: float32 weights as `<layer>.weight` / `<layer>.bias` and one
        JSON string `meta` holding the format, the spec and `metadata` (accuracy, seed, ...)."""
        if metadata is not None:
            self.metadata = copy.deepcopy(dict(metadata))
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "spec": self.spec,
                "metadata": self.metadata}
        arrays = {"meta": np.array(json.dumps(meta, default=_plain))}
        for name, params in self.parameters().items():
            for key, value in params.items():
                arrays[f"{name}.{key}"] = value.astype(np.float32)
        with open(path, "wb") as fh:       # a file object: numpy would append .npz to a str
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path, dtype=np.float32) -> "Network":
        """Read a file written by `save`. Raises ModelFileError naming the path and what was
        expected when it is missing, not a ConvScope model, corrupt or of another shape."""
        where = os.fspath(path)
        expected = ("a ConvScope .npz model (written by Network.save: a 'meta' JSON entry and "
                    "float32 '<layer>.weight'/'<layer>.bias' arrays)")
        if not os.path.isfile(where):
            raise ModelFileError(f"model file {where!r} does not exist; expected {expected}")
        try:
            with np.load(where, allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
            raise ModelFileError(f"model file {where!r} cannot be read ({exc}); "
                                 f"expected {expected}") from None
        try:
            meta = json.loads(str(arrays.pop("meta")))
        except (KeyError, ValueError) as exc:
            raise ModelFileError(f"model file {where!r} has no valid 'meta' entry ({exc}); "
                                 f"expected {expected}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ModelFileError(f"model file {where!r} is not a ConvScope model; "
                                 f"expected {expected}")
        if meta.get("version") != FORMAT_VERSION:
            raise ModelFileError(f"model file {where!r} has format version "
                                 f"{meta.get('version')!r}; this engine reads version "
                                 f"{FORMAT_VERSION}")
        try:
            net = cls(meta.get("spec"), dtype=dtype)
        except SpecError as exc:
            raise ModelFileError(f"model file {where!r} holds an unusable spec: {exc}") from None
        for name, params in net.parameters().items():
            for key, target in params.items():
                value = arrays.get(f"{name}.{key}")
                if value is None:
                    raise ModelFileError(f"model file {where!r} lacks '{name}.{key}' "
                                         f"(shape {list(target.shape)}) required by its spec")
                if value.shape != target.shape or value.dtype.kind != "f":
                    raise ModelFileError(f"model file {where!r}: '{name}.{key}' is "
                                         f"{value.dtype} {list(value.shape)}, expected float "
                                         f"{list(target.shape)}")
                if not np.all(np.isfinite(value)):
                    raise ModelFileError(f"model file {where!r}: '{name}.{key}' contains NaN "
                                         f"or infinite values")
                target[...] = value
            layer = net.layer(name)
            if isinstance(layer, Conv2D):
                layer.apply_mask()
        net.metadata = meta.get("metadata") or {}
        return net

    def __repr__(self) -> str:
        return "Network(" + " → ".join(s["name"] for s in self.stages) + ")"


def _run(layers, h, keep=False) -> list[np.ndarray]:
    """h through `layers`: every output if `keep` (for a record), else just the last."""
    outs = []
    for layer in layers:
        h = layer.forward(h)
        if keep:
            outs.append(h)
    return outs if keep else [h]


def _back(layers, d, input_grad):
    for i in range(len(layers) - 1, -1, -1):
        d = layers[i].backward(d, input_grad=input_grad or i > 0)
    return d if input_grad else None


def _join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two halves' (N, ...) arrays as one. Maps keep the channel-major memory the layers
    produce ((C, N, H, W) seen as (N, C, H, W)), so the copy streams and the next op reads it
    as it would the whole batch's output."""
    if a.ndim != 4:
        return np.concatenate([a, b])
    n = len(a) + len(b)
    out = np.empty((a.shape[1], n) + a.shape[2:], a.dtype).transpose(1, 0, 2, 3)
    out[:len(a)] = a
    out[len(a):] = b
    return out


def _plain(value):
    """JSON for NumPy values in metadata (an accuracy computed as np.float32, a digest array)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"metadata value {value!r} ({type(value).__name__}) is not JSON-serialisable")


def build_reference(seed: int = 0, dtype=np.float32) -> Network:
    """The reference LeNet (REFERENCE_SPEC), freshly initialised."""
    from engine.spec import REFERENCE_SPEC
    return Network(REFERENCE_SPEC, seed=seed, dtype=dtype)
