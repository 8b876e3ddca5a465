"""The page's unit -> source-window geometry (static/js/tensor.js) must equal the engine's
provenance. This file generates that ground truth from engine.explain / receptive_field into
tests/js/fixtures/provenance.json, which tests/js/provenance.test.mjs compares against in node.

The test here fails when the checked-in fixture no longer matches the engine (regenerate with
`python tests/js/test_provenance_fixture.py`), so the node comparison can never go stale.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "provenance.json"
SPECS = ("reference", "harley")


def _units(shape, rng, extra=3):
    """First, last, middle and a few seeded random units of a stage."""
    last = [n - 1 for n in shape]
    units = [[0] * len(shape), last, [n // 2 for n in shape]]
    units += [[int(rng.integers(n)) for n in shape] for _ in range(extra)]
    out = []
    for u in units:
        if u not in out:
            out.append(u)
    return out


def generate() -> dict:
    from engine.explain import explain, receptive_field
    from engine.network import Network
    from engine.zoo import get_spec

    rng = np.random.default_rng(5)
    fixture = {}
    for name in SPECS:
        net = Network(get_spec(name), seed=0)
        trace = net.forward(rng.random((1, 32, 32)).astype(np.float32))
        stages = [{k: v for k, v in s.items()} for s in net.stages]
        cases = []
        for stage in net.stages:
            for unit in _units(stage["shape"], rng):
                e = explain(net, trace, stage["name"], unit)
                cases.append({"layer": stage["name"], "unit": unit,
                              "source": {"layer": e["source"]["layer"], "window": e["source"]["window"]},
                              "receptive_field": receptive_field(net, stage["name"], unit)})
        fixture[name] = {"stages": stages, "cases": cases}
    return json.loads(json.dumps(fixture))   # plain JSON types, as the checked-in file


def test_checked_in_fixture_matches_the_engine():
    assert FIXTURE.is_file(), f"missing {FIXTURE}; run python {Path(__file__).name}"
    fresh = generate()
    stored = json.loads(FIXTURE.read_text())
    assert stored == fresh, ("tests/js/fixtures/provenance.json no longer matches the engine's "
                             "provenance; regenerate it with python tests/js/test_provenance_fixture.py "
                             "and make static/js/tensor.js pass tests/js/provenance.test.mjs")
    assert {c["layer"] for c in fresh["reference"]["cases"]} == {s["name"] for s in fresh["reference"]["stages"]}


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    FIXTURE.write_text(json.dumps(generate(), indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {FIXTURE}")
