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
    fixture["preprocessing"] = _preprocessing_case()
    return json.loads(json.dumps(fixture))   # plain JSON types, as the checked-in file


def _preprocessing_case() -> dict:
    """An off-centre, slanted stroke through engine.preprocess, as the forward response reports
    it, with the ink's centre of mass in the drawing and in the 32×32 input: the page's
    back-projection (static/js/preprocessing.js) must carry one onto the other."""
    from engine.preprocess import centre_of_mass, preprocess

    drawing = np.zeros((280, 280), np.float32)
    for t in np.linspace(0, 1, 400):
        y, x = int(30 + 150 * t), int(170 + 60 * t)
        drawing[y - 9:y + 9, x - 9:x + 9] = 1.0
    drawing[150:170, 60:200] = 1.0    # a crossbar makes the shape asymmetric
    p = preprocess(drawing)
    y0, y1, x0, x1 = p.bbox
    return {"crop_box": [x0, y0, x1, y1], "centre_of_mass": list(p.centre_of_mass),
            "steps": [{"name": n, "shape": list(p.steps[n].shape),
                       "values": [round(float(v), 6) for v in p.steps[n].ravel()] if n == "fitted" else []}
                      for n in ("fitted", "centred", "input")],
            "drawing_com": list(centre_of_mass(drawing)),
            "input_com": list(centre_of_mass(p.steps["input"]))}


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
