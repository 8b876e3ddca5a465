"""The stage records (name, kind, shape) of every shipped model, for the node layout tests
(tests/js/layout-blocks.test.mjs): JS cannot read a model's .npz, so this file writes the
records into tests/js/fixtures/shipped_stages.json, and the test here fails when the checked-in
fixture no longer matches the shipped models (regenerate with
`python tests/js/test_shipped_stages_fixture.py`), so the node test never checks stale shapes.
"""
from __future__ import annotations

import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "shipped_stages.json"
KEYS = ("name", "kind", "shape", "function")


def shipped_models() -> list[Path]:
    from app.config import ROOT, SHIPPED_EXTRAS, Settings

    default = Settings.__dataclass_fields__["model_path"].default   # not the environment's
    return [p for p in (default, *(ROOT / "models" / n for n in SHIPPED_EXTRAS)) if p.is_file()]


def generate() -> dict:
    from engine.network import Network

    return {p.stem: [{k: s[k] for k in KEYS if k in s} for s in Network.load(p).stages]
            for p in shipped_models()}


def test_checked_in_fixture_matches_the_shipped_models():
    assert FIXTURE.is_file(), f"missing {FIXTURE}; run python {Path(__file__).name}"
    fresh = json.loads(json.dumps(generate()))
    assert fresh, "no shipped model found"
    stored = json.loads(FIXTURE.read_text())
    assert stored == fresh, ("tests/js/fixtures/shipped_stages.json no longer matches the "
                             "shipped models; regenerate it with "
                             "python tests/js/test_shipped_stages_fixture.py")


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    models = generate()   # one stage a line: a diff shows which stage changed
    FIXTURE.write_text("{\n" + ",\n".join(
        f"{json.dumps(m)}: [\n" + ",\n".join("  " + json.dumps(s) for s in stages) + "\n]"
        for m, stages in models.items()) + "\n}\n")
    print(f"wrote {FIXTURE}")
