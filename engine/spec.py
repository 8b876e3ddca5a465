"""Network specs: the ordered stage list that is both the engine's build plan and `/api/model`.

A spec is a list of dicts, exactly the contract's layer entries without `shape`:
`{"name", "kind", ...params}`. `infer_shapes` validates it and adds each stage's `shape`
(per image: `[C, H, W]` for maps, `[n]` for vectors), so every tier reads sizes from the
record instead of hard-coding 28s and 784s.
"""
from __future__ import annotations

import copy
import numbers

from engine.errors import SpecError

from engine.kinds import (ACTIVATIONS, KIND_NAMES, KINDS, LEAKY_DEFAULT_ALPHA,  # noqa: F401
                          POOL_OPS, read_params)

DEFAULT_INPUT_SHAPE = (1, 32, 32)

REFERENCE_SPEC = [
    {"name": "input", "kind": "input"},
    {"name": "conv1", "kind": "conv", "filters": 6, "kernel": 5, "stride": 1, "padding": 0,
     "in_channels": 1},
    {"name": "relu1", "kind": "activation", "function": "relu"},
    {"name": "pool1", "kind": "pool", "op": "max", "window": 2, "stride": 2},
    {"name": "conv2", "kind": "conv", "filters": 16, "kernel": 5, "stride": 1, "padding": 0,
     "in_channels": 6},
    {"name": "relu2", "kind": "activation", "function": "relu"},
    {"name": "pool2", "kind": "pool", "op": "max", "window": 2, "stride": 2},
    {"name": "flatten", "kind": "flatten"},
    {"name": "fc1", "kind": "dense", "units": 120},
    {"name": "relu3", "kind": "activation", "function": "relu"},
    {"name": "fc2", "kind": "dense", "units": 100},
    {"name": "relu4", "kind": "activation", "function": "relu"},
    {"name": "fc3", "kind": "dense", "units": 10},
    {"name": "softmax", "kind": "softmax"},
]

# LeCun (1998) C3: which of S2's 6 maps each of the 16 C3 filters reads. Not used by the
# reference net (it is fully connected like Harley's), but a spec may carry it.
LECUN_C3_CONNECTIONS = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
    [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
    [0, 1, 2, 3, 4, 5],
]


def _check_connections(stage: dict, filters: int, in_channels: int) -> list[list[int]]:
    table = stage["connections"]
    if not isinstance(table, (list, tuple)) or len(table) != filters:
        raise SpecError(f"stage {stage['name']!r}: 'connections' must list, for each of the "
                        f"{filters} filters, the input maps it reads")
    clean = []
    for f, maps in enumerate(table):
        ok = (isinstance(maps, (list, tuple)) and maps
              and all(isinstance(m, numbers.Integral) and not isinstance(m, bool)
                      and 0 <= m < in_channels for m in maps)
              and len(set(maps)) == len(maps))
        if not ok:
            raise SpecError(f"stage {stage['name']!r}: connections[{f}] = {maps!r} must be a "
                            f"non-empty list of distinct map indices in 0..{in_channels - 1}")
        clean.append(sorted(int(m) for m in maps))
    return clean


def infer_shapes(spec: list[dict], input_shape=None) -> list[dict]:
    """Validate `spec` and return a copy whose entries gain `shape` (per image, no batch).

    The input shape comes from `input_shape`, else the input entry's own `shape`, else
    1×32×32 (the reference net's MNIST digit padded 28→32, as in LeNet-5).
    Raises SpecError naming the stage, the fault and what is accepted.
    """
    if not isinstance(spec, (list, tuple)) or not spec:
        raise SpecError("a spec is a non-empty list of stage dicts, 'input' first")
    stages = copy.deepcopy(list(spec))
    seen: set[str] = set()
    shape: list[int] = []
    out = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict):
            raise SpecError(f"stage {i} must be a dict with 'name' and 'kind', got {stage!r}")
        name, kind = stage.get("name"), stage.get("kind")
        if not isinstance(name, str) or not name:
            raise SpecError(f"stage {i}: 'name' must be a non-empty string, got {name!r}")
        if name in seen:
            raise SpecError(f"stage {i}: name {name!r} is used twice; names must be unique")
        seen.add(name)
        if kind not in KINDS:
            raise SpecError(f"stage {name!r}: kind {kind!r} is not supported; "
                            f"supported kinds: {', '.join(KIND_NAMES)}")
        if (i == 0) != (kind == "input"):
            raise SpecError(f"stage {name!r}: the first stage, and only the first, must be "
                            f"kind 'input'")
        description = KINDS[kind]
        params = read_params(stage)
        if description.needs == "maps" and len(shape) != 3:
            raise SpecError(f"stage {name!r}: {kind} needs a [C, H, W] input, got {shape}; "
                            f"put it before any flatten/dense stage")
        if description.needs == "vector" and len(shape) != 1:
            hint = "; add a 'flatten' stage before it" if kind == "dense" else ""
            raise SpecError(f"stage {name!r}: {kind} needs a vector input, got shape "
                            f"{shape}{hint}")
        if kind == "input":
            given = input_shape if input_shape is not None else stage.get("shape",
                                                                          DEFAULT_INPUT_SHAPE)
            if (not isinstance(given, (list, tuple)) or len(given) != 3
                    or not all(isinstance(d, numbers.Integral) and d >= 1 for d in given)):
                raise SpecError(f"stage {name!r}: input shape must be [C, H, W] of positive "
                                f"integers, got {given!r}")
            shape = [int(d) for d in given]
        elif kind == "conv":
            params.setdefault("in_channels", shape[0])
            if params["in_channels"] != shape[0]:
                raise SpecError(f"stage {name!r}: in_channels is {params['in_channels']} but "
                                f"the previous stage has {shape[0]} channels")
            connections = params.pop("connections", None)
            # Key order as records have always had it: connections last.
            params = {k: params[k] for k in ("filters", "kernel", "stride", "padding",
                                             "in_channels")}
            if connections is not None:
                params["connections"] = _check_connections(stage, params["filters"],
                                                           params["in_channels"])
        elif kind == "pool":
            params.setdefault("stride", params["window"])
            params = {k: params[k] for k in ("op", "window", "stride")}
        elif kind == "activation" and params["function"] == "leaky_relu":
            params.setdefault("alpha", LEAKY_DEFAULT_ALPHA)
        if description.shape is not None:
            shape = description.shape({"name": name, **params}, shape)
        entry = {"name": name, "kind": kind, "shape": list(shape)}
        entry.update(params)
        out.append(entry)
    return out


def strip_shapes(stages: list[dict]) -> list[dict]:
    """The spec back from stage entries (drops `shape` except the input's, which fixes sizes)."""
    spec = []
    for stage in stages:
        entry = {k: copy.deepcopy(v) for k, v in stage.items() if k != "shape"}
        if stage["kind"] == "input" and "shape" in stage:
            entry["shape"] = list(stage["shape"])
        spec.append(entry)
    return spec


def names_of_kind(stages: list[dict], kind: str) -> list[str]:
    """The names of every stage of `kind`, in order: stages are picked by kind, never by a
    name like 'conv1' (an imported model names its stages as its author did)."""
    return [s["name"] for s in stages if s["kind"] == kind]
