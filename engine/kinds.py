"""One description per layer kind: its parameters, shape rule, receptive-field rule and what
its explanation says. Every tier reads it instead of repeating it:

- `engine.spec` validates a stage's parameters and computes its shape from `KINDS[kind]`;
- `engine.layers.build_layer` and `engine.explain` dispatch on the kind through tables that a
  test checks cover exactly `KINDS` (with a naive reference and a gradient check each);
- `app.schemas` takes the list of kind names from `KIND_NAMES`;
- `/api/model` serves `describe()` as `kinds`, so the page reads kind -> params from the server.

The output-size rule is `output_size` below, for the spec and for the lab: PyTorch's floor,
(W − F + 2P) // S + 1, refusing only a window larger than the padded map.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Callable

from engine.errors import SpecError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
POOL_OPS = ("max", "avg", "sum")
LEAKY_DEFAULT_ALPHA = 0.01       # PyTorch's and ONNX's default negative slope


def output_size(size: int, window: int, stride: int, padding: int = 0) -> int:
    """(W − F + 2P) // S + 1, floored like PyTorch (a border the last window does not reach is
    left out); 0 when the window is larger than the padded map."""
    span = size - window + 2 * padding
    return span // stride + 1 if span >= 0 else 0


@dataclass(frozen=True)
class Param:
    name: str
    type: str                      # "int", "float", "choice" or "table"
    doc: str
    required: bool = False
    default: object = None         # None with required=False: absent unless given
    minimum: float | None = None
    choices: tuple = ()
    only_with: dict = field(default_factory=dict)   # {"function": ("tanh",)}: a dependent param

    def describe(self) -> dict:
        out = {"name": self.name, "type": self.type, "doc": self.doc, "required": self.required}
        if self.default is not None:
            out["default"] = self.default
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.choices:
            out["choices"] = list(self.choices)
        if self.only_with:
            out["only_with"] = {k: list(v) for k, v in self.only_with.items()}
        return out


@dataclass(frozen=True)
class LayerKind:
    name: str
    doc: str
    params: tuple[Param, ...]
    needs: str                     # "maps" ([C, H, W] in), "vector" ([n] in), "any", "none"
    # How a unit's footprint on the previous stage is found (engine.explain.receptive_field):
    # "window" (kernel/window, stride, padding), "same" (the same position), "unflatten"
    # (the flat index back to [c, y, x]) or "whole" (every input).
    receptive_field: str
    explanation: str               # what /api/explain's answer for this kind adds up
    shape_rule: str
    trainable: bool = False
    shape: Callable | None = None  # (params, in_shape) -> out_shape; None keeps the shape

    def describe(self) -> dict:
        return {"kind": self.name, "doc": self.doc, "params": [p.describe() for p in self.params],
                "needs": self.needs, "receptive_field": self.receptive_field,
                "explanation": self.explanation, "shape_rule": self.shape_rule,
                "trainable": self.trainable}


def _window_shape(stage: dict, shape: list[int], window: int, channels: int) -> list[int]:
    stride, padding = stage["stride"], stage.get("padding", 0)
    sizes = []
    for axis, size in (("height", shape[1]), ("width", shape[2])):
        out = output_size(size, window, stride, padding)
        if out < 1:
            raise SpecError(f"stage {stage['name']!r}: window {window} is larger than the "
                            f"{axis} {size} + 2·{padding} padding; (W − F + 2P) // S + 1 = "
                            f"({size} − {window} + {2 * padding}) // {stride} + 1 must be ≥ 1")
        sizes.append(out)
    return [channels] + sizes


def _conv_shape(stage, shape):
    return _window_shape(stage, shape, stage["kernel"], stage["filters"])


def _pool_shape(stage, shape):
    return _window_shape(stage, shape, stage["window"], shape[0])


def _flatten_shape(stage, shape):
    size = 1
    for d in shape:
        size *= d
    return [size]


_SIZE_RULE = "(W − F + 2P) // S + 1 per side, floored like PyTorch"

KINDS: dict[str, LayerKind] = {k.name: k for k in (
    LayerKind("input", "The image the network reads, after the model's own preprocessing.",
              (), "none", "same", "A pixel of the network's input.", "[C, H, W] as declared"),
    LayerKind(
        "conv", "Cross-correlation: each filter slides over every input map.",
        (Param("filters", "int", "output maps", required=True, minimum=1),
         Param("kernel", "int", "square window side k", required=True, minimum=1),
         Param("stride", "int", "step between windows", default=1, minimum=1),
         Param("padding", "int", "rings of zeros around every side", default=0, minimum=0),
         Param("in_channels", "int", "maps read (the previous stage's channels)", minimum=1),
         Param("connections", "table", "for each filter, the input maps it reads (LeCun's C3)")),
        "maps", "window",
        "value = Σ over the maps read and the k×k window of input × weight, + bias",
        f"[filters, H', W'], {_SIZE_RULE}", trainable=True, shape=_conv_shape),
    LayerKind(
        "activation", "An element-wise nonlinearity.",
        (Param("function", "choice", "the nonlinearity", required=True, choices=ACTIVATIONS),
         Param("scale", "float", "a in a·tanh(b·x)", only_with={"function": ("tanh",)}),
         Param("slope", "float", "b in a·tanh(b·x)", only_with={"function": ("tanh",)}),
         Param("alpha", "float", "negative slope: alpha·x for x ≤ 0",
               only_with={"function": ("leaky_relu",)})),
        "any", "same", "value = function(input) for the one input at the same position",
        "the input's shape"),
    LayerKind(
        "pool", "Each window of one map reduced to one number.",
        (Param("op", "choice", "the reduction", default="max", choices=POOL_OPS),
         Param("window", "int", "square window side", required=True, minimum=1),
         Param("stride", "int", "step between windows (default: the window)", minimum=1)),
        "maps", "window", "max: the largest value of the window; avg: Σ window / count; sum: Σ",
        f"[C, H', W'], {_SIZE_RULE}", shape=_pool_shape),
    LayerKind("flatten", "Maps laid out as one vector in (c, y, x) row-major order.", (),
              "any", "unflatten", "value = the input unit at [c, y, x] of the flat index",
              "[C·H·W]", shape=_flatten_shape),
    LayerKind("dense", "Every output reads every input: out = W @ x + b.",
              (Param("units", "int", "outputs", required=True, minimum=1),),
              "vector", "whole", "value = Σ input × weight over all inputs, + bias",
              "[units]", trainable=True, shape=lambda stage, shape: [stage["units"]]),
    LayerKind("softmax", "Scores turned into probabilities that add up to 1.", (),
              "vector", "whole", "value = exp(logit − max) / Σ exp(logit_j − max)",
              "the input's shape"),
)}
KIND_NAMES = tuple(KINDS)


def _check_param(stage: dict, param: Param):
    name, value = stage.get("name"), stage[param.name]
    where = f"stage {name!r}: {param.name!r}"
    if param.type == "int":
        low = int(param.minimum or 0)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise SpecError(f"{where} must be an integer >= {low}, got {value!r}")
        return int(value)
    if param.type == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise SpecError(f"{where} must be a number, got {value!r}")
        return float(value)
    if param.type == "choice":
        if value not in param.choices:
            what = "function" if param.name == "function" else f"{stage['kind']} {param.name}"
            raise SpecError(f"stage {name!r}: {what} {value!r} is not supported; supported: "
                            f"{', '.join(param.choices)}")
        return value
    return value    # "table": checked by the kind's own rule (conv connections)


def read_params(stage: dict) -> dict:
    """The kind's parameters of `stage`, typed and defaulted (only_with params only when their
    condition holds). Raises SpecError naming the stage, the parameter and what is accepted."""
    kind = KINDS[stage["kind"]]
    allowed = {p.name for p in kind.params}
    extra = set(stage) - {"name", "kind", "shape"} - allowed
    if extra:
        raise SpecError(f"stage {stage['name']!r}: unsupported parameter(s) {sorted(extra)} for "
                        f"kind {kind.name!r}; accepted: {sorted(allowed) or 'none'}")
    params = {}
    for p in kind.params:
        present = stage.get(p.name) is not None
        if p.only_with:
            key, values = next(iter(p.only_with.items()))
            if params.get(key) not in values:
                if present:
                    raise SpecError(f"stage {stage['name']!r}: {p.name!r} applies only to "
                                    f"{key} {' or '.join(values)}")
                continue
        if not present:
            if p.required:
                raise SpecError(f"stage {stage['name']!r}: {p.name!r} is required for kind "
                                f"{kind.name!r} ({p.doc})")
            if p.default is None:
                continue
            params[p.name] = p.default
        else:
            params[p.name] = _check_param(stage, p)
    return params


def describe() -> dict:
    """Every kind's description, as `/api/model` serves it under `kinds`."""
    return {name: kind.describe() for name, kind in KINDS.items()}
