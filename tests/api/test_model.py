"""GET /api/health, /api/model and /api/model/weights."""
from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
from fastapi.testclient import TestClient

from app.main import create_app


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


def test_model_serves_the_engines_lab_and_learn_limits(client):
    """The page builds the Lab's and Learn's controls from these: they must be the engine's own
    bounds (the ones the server checks), not a copy."""
    from engine import gradient, lab
    limits = client.get("/api/model").json()["limits"]
    assert limits["lab"] == {
        "kernel_sizes": list(lab.KERNEL_SIZES), "strides": list(lab.STRIDES),
        "paddings": list(lab.PADDINGS), "pool_ops": list(lab.POOL_OPS),
        "pool_windows": list(lab.POOL_WINDOWS), "activations": list(lab.ACTIVATIONS),
        "max_abs_weight": lab.MAX_ABS_WEIGHT}
    assert limits["learn"] == {"max_steps": gradient.MAX_STEPS,
                               "max_learning_rate": gradient.MAX_LEARNING_RATE}
    # The served bound is the checked one: one step past it is refused with a 422.
    body = {"pixels": [0] * 4, "width": 2, "height": 2, "target": 0,
            "learning_rate": 0.1, "steps": limits["learn"]["max_steps"] + 1}
    r = client.post("/api/gradient", json=body)
    assert r.status_code == 422 and "steps" in r.json()["detail"]


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


def test_model_says_whether_a_training_history_is_beside_it(client, settings, tmp_path):
    """`history` is true exactly when GET /api/history answers (the page asks only then);
    `imported` is null for a model trained here. A copy of the model without its history
    file says false, and /api/history agrees with a 404."""
    info = client.get("/api/model").json()
    has = settings.model_path.with_name(settings.model_path.stem + ".history.npz").is_file()
    assert info["history"] is has and info["imported"] is None
    assert client.get("/api/history").status_code == (200 if has else 404)
    lonely = tmp_path / "lonely.npz"
    shutil.copy(settings.model_path, lonely)
    with TestClient(create_app(replace(settings, model_path=lonely, extra_models=()))) as c:
        info = c.get("/api/model").json()
        assert info["history"] is False and info["imported"] is None
        assert c.get("/api/history").status_code == 404
