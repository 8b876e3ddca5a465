"""The page's binary forward wire (static/js/wire.js) must decode to the JSON answer exactly.

This file asks the real app (TestClient, shipped models) for both answers to the same bodies,
the binary one (`Accept: application/octet-stream`) and the contract's JSON, and stores them in
tests/js/fixtures/wire.json.gz; tests/js/wire.test.mjs decodes every binary answer in node and
compares every stage's float32 bits with the JSON answer's. The test here fails when the
checked-in fixture no longer matches what the server sends (regenerate with
`python tests/js/test_wire_fixture.py`), so the node comparison can never go stale.

Cases: a drawn 7 and a blank pad as the page sends them (280×280 gray + alpha PNG) through the
ReLU LeNet (relu, max_pool, copy and u8/255 rebuilds), a 28×28 digit with preprocess=false
(no preprocessing key), and a drawn 3 through lenet-harley (tanh, sent as float32, with
max pools of negative values rebuilt).
"""
from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "wire.json.gz"
WIRE = {"accept": "application/octet-stream", "accept-encoding": "identity"}


def _page_body(ink: np.ndarray) -> dict:
    from PIL import Image

    from app.padpng import white_ink_png
    big = np.asarray(Image.fromarray(ink).resize((280, 280), Image.BILINEAR))
    return {"image": "data:image/png;base64," + base64.b64encode(white_ink_png(big)).decode()}


def cases() -> list[tuple[str, str, dict]]:
    with np.load(ROOT / "models" / "samples.npz") as f:   # images[digit, index]: 28×28
        seven, three = f["images"][7, 0], f["images"][3, 0]
    return [
        ("drawn 7, lenet-mnist", "lenet-mnist", _page_body(seven)),
        ("blank pad, lenet-mnist", "lenet-mnist", _page_body(np.zeros((28, 28), np.uint8))),
        ("28x28 pixels, preprocess false, lenet-mnist", "lenet-mnist",
         {"pixels": seven.ravel().tolist(), "width": 28, "height": 28, "preprocess": False}),
        ("drawn 3, lenet-harley (tanh)", "lenet-harley", _page_body(three)),
    ]


def generate() -> dict:
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    settings = Settings(model_path=ROOT / "models" / "lenet-mnist.npz",
                        extra_models=(ROOT / "models" / "lenet-harley.npz",))
    out = []
    with TestClient(create_app(settings)) as client:
        for name, model, body in cases():
            binary = client.post(f"/api/forward?model={model}", json=body, headers=WIRE)
            answer = client.post(f"/api/forward?model={model}", json=body)
            assert binary.status_code == answer.status_code == 200, (binary.text, answer.text)
            assert binary.headers["content-type"] == "application/octet-stream", name
            out.append({"name": name, "json": answer.json(),
                        "wire": base64.b64encode(binary.content).decode()})
    return {"cases": out}


def test_checked_in_fixture_matches_the_server():
    assert FIXTURE.is_file(), f"missing {FIXTURE}; run python {Path(__file__).name}"
    stored = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    fresh = generate()
    assert [c["name"] for c in stored["cases"]] == [c["name"] for c in fresh["cases"]]
    for old, new in zip(stored["cases"], fresh["cases"]):
        assert old == new, (f"tests/js/fixtures/wire.json.gz is stale for {old['name']!r}: the "
                            "server answers differently now; regenerate it with python "
                            "tests/js/test_wire_fixture.py and make static/js/wire.js pass "
                            "tests/js/wire.test.mjs")


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(ROOT))
    text = json.dumps(generate(), separators=(",", ":")).encode()
    FIXTURE.write_bytes(gzip.compress(text, 9, mtime=0))
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size:,} bytes)")
