"""GET /api/health, /api/model and /api/model/weights."""
from __future__ import annotations

import numpy as np


def test_health(client):
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_model_lists_every_stage_without_values(client, network):
    r = client.get("/api/model")
    assert r.status_code == 200
    info = r.json()
    assert info["classes"] == [str(c) for c in network.metadata["classes"]]
    assert info["dataset"] == network.metadata["dataset"]
    assert info["accuracy"]["test"] == network.metadata["accuracy"]["test"]
    assert [l["name"] for l in info["layers"]] == [s["name"] for s in network.stages]
    for entry, stage in zip(info["layers"], network.stages):
        assert entry == {**stage, "shape": list(stage["shape"])}
        assert "values" not in entry


def test_weights_are_pytorch_layout_and_exact(client, network):
    r = client.get("/api/model/weights", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    got = r.json()
    params = network.parameters()
    assert set(got) == {s["name"] for s in network.stages if s["kind"] in ("conv", "dense")}
    for name, p in params.items():
        w = np.asarray(got[name]["weight"], np.float64).astype(np.float32)
        assert got[name]["weight_shape"] == list(p["weight"].shape)
        np.testing.assert_array_equal(w.reshape(p["weight"].shape), p["weight"], err_msg=name)
        np.testing.assert_array_equal(np.float32(got[name]["bias"]), p["bias"], err_msg=name)
    assert got["conv1"]["weight_shape"][:2] == [6, 1]    # (filters, in_channels, k, k)
    assert got["fc1"]["weight_shape"] == [120, 400]      # (units, inputs): out = W @ x + b
