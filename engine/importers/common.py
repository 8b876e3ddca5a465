"""What both importers build, and the checks and writing they share.

An importer turns a source graph into an `Imported`: a ConvScope spec, its parameters, notes
for the model card (BatchNorm folded, Dropout dropped) and a `reference(x)` function running
the *source framework* on a batch, returning the tensor each stage must equal. `verify` runs
both and refuses a model whose stages differ beyond float32 tolerance.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from engine.errors import ImportRefused, SpecError
from engine.network import Network

# Relative to the stage's largest |value|: float32 rounding in a different summation order
# stays near 1e-7; a wrong layout, a missed bias or a lost BatchNorm is 1e-2 and more.
TOLERANCE = 1e-5
VERIFY_INPUTS = 4


@dataclass
class Imported:
    source: str                     # "onnx" or "torch"
    path: str
    spec: list[dict]
    params: dict[str, dict[str, np.ndarray]]
    reference: Callable[[np.ndarray], dict[str, np.ndarray]]   # (N, C, H, W) -> stage -> (N, ...)
    notes: list[str] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)       # stage -> source node / module
    # stage -> what the import changed there, said on that stage's numbers panel (a folded
    # BatchNorm in its weights, a LogSoftmax shown as softmax)
    stage_notes: dict[str, str] = field(default_factory=dict)

    def network(self) -> Network:
        try:
            net = Network(self.spec)
        except SpecError as exc:
            raise ImportRefused(f"{self.path}: the imported layers do not make a valid "
                                f"ConvScope network: {exc}") from None
        net.set_parameters(self.params)
        return net


class Namer:
    """Stage names by kind, as the shipped models have them: conv1, relu1, pool1, fc1, ..."""

    PREFIX = {"conv": "conv", "pool": "pool", "dense": "fc", "flatten": "flatten",
              "softmax": "softmax"}

    def __init__(self):
        self.counts: dict[str, int] = {}

    def __call__(self, kind: str, function: str | None = None) -> str:
        prefix = function.replace("leaky_relu", "lrelu") if function else self.PREFIX[kind]
        n = self.counts[prefix] = self.counts.get(prefix, 0) + 1
        if kind in ("flatten", "softmax") and n == 1:
            return prefix
        return f"{prefix}{n}"


def folded_note(stage: str, kind: str, norm: str) -> str:
    """The numbers panel's sentence for a stage with a BatchNorm folded into its weights."""
    what = "kernels" if kind == "conv" else "weights"
    return (f"{norm} is folded into {stage}: these {what} are the file's {kind} weights × "
            f"γ/√(σ² + ε) and the bias is (b − μ)·γ/√(σ² + ε) + β, so {stage} already shows "
            f"the normalised value (the numbers differ from the file's own {kind} weights).")


def log_softmax_note(stage: str, op: str) -> str:
    return (f"The model file ends in {op}: it outputs ln p(i) = zᵢ − max z − ln Σⱼ exp(zⱼ − "
            f"max z). The {stage} stage here shows p(i) itself (the import checked it as exp "
            f"of the file's output).")


def log_softmax_card(source: str, stage: str) -> str:
    """The model card's sentence for a final LogSoftmax (`source`: its node or module)."""
    return (f"LogSoftmax {source!r} is shown as {stage}: the page shows the class probabilities "
            f"p, and the file's output is ln p (checked as exp of it).")


def fold_batchnorm(weight, bias, gamma, beta, mean, var, eps):
    """W' = W·γ/√(σ²+ε) per output, b' = (b − μ)·γ/√(σ²+ε) + β: the conv/dense that, in
    inference, computes exactly BatchNorm(conv(x)). Computed in float64, stored float32."""
    s = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
    w = np.asarray(weight, np.float64) * s.reshape((-1,) + (1,) * (np.ndim(weight) - 1))
    b = (np.asarray(bias, np.float64) - mean) * s + beta
    return w.astype(np.float32), b.astype(np.float32)


def two_class_binary(imported: Imported) -> Imported:
    """A one-output binary classifier (a dense layer of 1 unit, with or without a final
    Sigmoid: BCELoss / BCEWithLogitsLoss) as the two classes it tells apart. The unit's z
    becomes two outputs −z/2 and z/2, whose softmax is exactly (1 − σ(z), σ(z)); the file's
    Sigmoid, if any, becomes that softmax stage. Anything else is returned as it is."""
    spec = imported.spec
    last = spec[-1]
    sig = last if last["kind"] == "activation" and last.get("function") == "sigmoid" else None
    dense = spec[-2] if sig else last
    if dense["kind"] != "dense" or dense["units"] != 1:
        return imported
    p = imported.params[dense["name"]]
    w, b = np.asarray(p["weight"], np.float64), np.asarray(p["bias"], np.float64)
    imported.params[dense["name"]] = {"weight": np.concatenate([-w / 2, w / 2]).astype(np.float32),
                                      "bias": np.concatenate([-b / 2, b / 2]).astype(np.float32)}
    spec = [dict(s) for s in (spec[:-1] if sig else spec)]
    spec[-1]["units"] = 2
    spec.append({"name": "softmax", "kind": "softmax"})
    source = imported.origin.pop(sig["name"]) if sig else imported.origin[dense["name"]]
    imported.origin["softmax"] = source
    old = imported.reference

    def reference(x):
        r = dict(old(x))
        z = np.asarray(r[dense["name"]], np.float64).reshape(len(x), 1)
        r[dense["name"]] = np.concatenate([-z / 2, z / 2], axis=1)
        s = (np.asarray(r.pop(sig["name"]), np.float64).reshape(len(x), 1) if sig
             else 1 / (1 + np.exp(-z)))
        r["softmax"] = np.concatenate([1 - s, s], axis=1)
        return r
    text = (f"The file has one output, p(class 1) = σ(z) of {dense['name']}'s single unit (a "
            f"binary classifier). ConvScope shows its two classes: {dense['name']} outputs −z/2 "
            f"and z/2, whose softmax is exactly (1 − σ(z), σ(z)).")
    imported.spec, imported.reference = spec, reference
    imported.notes.append(text)
    imported.stage_notes[dense["name"]] = text
    imported.stage_notes["softmax"] = text
    return imported


def add_softmax(imported: Imported) -> Imported:
    """A classifier that ends on its scores (logits: CrossEntropyLoss applies the softmax in
    training, so most PyTorch nets stop at the last Linear) gains that softmax as a stage of
    its own, so the page shows the class probabilities. Its reference is the softmax of the
    file's scores, computed here in float64. Anything else is returned as it is."""
    last = imported.spec[-1]
    if last["kind"] != "dense" or last["units"] < 2:
        return imported
    imported.spec = [*imported.spec, {"name": "softmax", "kind": "softmax"}]
    imported.origin["softmax"] = f"added by ConvScope: softmax of {last['name']}"
    old = imported.reference

    def reference(x):
        r = dict(old(x))
        z = np.asarray(r[last["name"]], np.float64).reshape(len(x), -1)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        r["softmax"] = e / e.sum(axis=1, keepdims=True)
        return r
    text = (f"The file ends on {last['name']}'s scores (logits; CrossEntropyLoss applies the "
            f"softmax in training). ConvScope adds that softmax, p(i) = exp(zᵢ − max z) / "
            f"Σⱼ exp(zⱼ − max z), so the page shows the class probabilities.")
    imported.reference = reference
    imported.notes.append(f"{text} `convscope import --logits` leaves it out.")
    imported.stage_notes["softmax"] = text    # the students' panel: no command line
    return imported


@dataclass
class StageCheck:
    name: str
    kind: str
    worst_abs: float
    scale: float

    @property
    def relative(self) -> float:
        return self.worst_abs / self.scale

    @property
    def ok(self) -> bool:
        return self.relative <= TOLERANCE


def sample_inputs(shape, count: int = VERIFY_INPUTS, seed: int = 0) -> np.ndarray:
    """Inputs that exercise every unit: uniform [0, 1] noise, a smooth blob, all ones..."""
    rng = np.random.default_rng(seed)
    c, h, w = shape
    xs = [rng.random((c, h, w), dtype=np.float32)]
    yy, xx = np.mgrid[0:h, 0:w]
    blob = np.exp(-((yy - h / 2) ** 2 + (xx - w / 3) ** 2) / (0.1 * h * w)).astype(np.float32)
    xs.append(np.repeat(blob[None], c, axis=0))
    xs.append(rng.standard_normal((c, h, w)).astype(np.float32))
    xs.append(np.ones((c, h, w), np.float32))
    return np.stack(xs[:count] + [rng.random((c, h, w), dtype=np.float32)
                                  for _ in range(count - len(xs))])


def verify(imported: Imported, inputs: np.ndarray | None = None):
    """(network, [StageCheck per stage after the input], seconds): ConvScope against the
    source framework on `inputs` (default `sample_inputs`), stage by stage."""
    start = time.perf_counter()
    net = imported.network()
    if inputs is None:
        inputs = sample_inputs(net.stages[0]["shape"])
    want = imported.reference(inputs)
    checks = []
    for stage in net.stages[1:]:
        got = np.stack([net.forward(x)[stage["name"]].values for x in inputs])
        ref = np.asarray(want[stage["name"]], np.float32).reshape(got.shape)
        scale = max(float(np.abs(ref).max()), 1e-6)
        checks.append(StageCheck(stage["name"], stage["kind"],
                                 float(np.abs(got.astype(np.float64) - ref).max()), scale))
    return net, checks, time.perf_counter() - start


def report(checks) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"  {'stage':<{width}}  kind        worst |Δ|    relative   (tolerance {TOLERANCE:g})"]
    for c in checks:
        lines.append(f"  {c.name:<{width}}  {c.kind:<10}  {c.worst_abs:9.2e}  {c.relative:9.2e}"
                     f"  {'ok' if c.ok else 'DIFFERS'}")
    return "\n".join(lines)


def metadata(imported: Imported, net: Network, checks, classes, declaration: dict,
             name: str, dataset: str) -> dict:
    outputs = net.stages[-1]["shape"][0]
    if classes is None:
        classes = [str(i) for i in range(outputs)]
    if len(classes) != outputs:
        raise ImportRefused(f"--classes lists {len(classes)} names but the model has "
                            f"{outputs} outputs")
    return {
        "name": name, "dataset": dataset, "classes": list(classes), "accuracy": {},
        "input": declaration, "notes": list(imported.notes),
        "imported": {"source": imported.source, "file": imported.path,
                     "origin": dict(imported.origin),
                     "stages": dict(imported.stage_notes),
                     "verified": {c.name: c.relative for c in checks}},
    }
