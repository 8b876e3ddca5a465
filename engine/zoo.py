"""Named network specs: the architectures ConvScope ships weights for.

    from engine.zoo import get_spec
    net = Network(get_spec("harley"))

- `reference`: the ReLU LeNet of `engine.spec.REFERENCE_SPEC` (the default MNIST model).
- `harley`: the same sizes with LeCun's (1998) and Harley's (2015) choices: every activation is
  the scaled tanh 1.7159·tanh(2/3·x) (LeCun's Appendix A: f(±1) = ±1, and the gain is largest
  where the targets sit), and conv2 uses C3's sparse connection table (`LECUN_C3_CONNECTIONS`):
  filters 0–5 read 3 consecutive maps, 6–11 read 4 consecutive, 12–14 two non-consecutive
  pairs, 15 reads all 6. LeCun's reasons: fewer connections, and the broken symmetry makes
  the 16 filters learn different features. Activations are named `tanh1..4`, not `relu1..4`:
  the page shows stage names, and a name must not lie about its function.
- `fashion`: the reference architecture, trained on Fashion-MNIST (the class names come from
  the data, `engine.data.FASHION_MNIST_CLASSES`, not from the spec).

Each call returns a fresh deep copy, so callers may edit what they get.
"""
from __future__ import annotations

import copy

from engine.errors import SpecError
from engine.spec import LECUN_C3_CONNECTIONS, REFERENCE_SPEC

# LeCun 1998, Appendix A: f(a) = A·tanh(S·a) with A = 1.7159, S = 2/3.
LECUN_TANH = {"function": "tanh", "scale": 1.7159, "slope": 2.0 / 3.0}


def _harley_spec() -> list[dict]:
    spec = []
    n_act = 0
    for stage in copy.deepcopy(REFERENCE_SPEC):
        if stage["kind"] == "activation":
            n_act += 1
            stage = {"name": f"tanh{n_act}", "kind": "activation", **LECUN_TANH}
        elif stage["name"] == "conv2":
            stage["connections"] = copy.deepcopy(LECUN_C3_CONNECTIONS)
        spec.append(stage)
    return spec


SPECS: dict[str, list[dict]] = {
    "reference": copy.deepcopy(REFERENCE_SPEC),
    "harley": _harley_spec(),
    "fashion": copy.deepcopy(REFERENCE_SPEC),
}

# The dataset each named spec is meant to be trained on (for commands and metadata).
DATASETS = {"reference": "mnist", "harley": "mnist", "fashion": "fashion-mnist"}


def names() -> list[str]:
    return list(SPECS)


def get_spec(name: str) -> list[dict]:
    """A fresh copy of the named spec. Raises SpecError naming the known specs."""
    if name not in SPECS:
        raise SpecError(f"unknown spec {name!r}; known specs: {', '.join(SPECS)}")
    return copy.deepcopy(SPECS[name])
