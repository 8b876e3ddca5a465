"""GET /api/history, POST /api/history/forward: the recorded run as written, 404 without one.

A tiny real training run (engine.train on the 200 shipped sample digits, a few steps) writes
the history in its own temporary models directory, so these tests never depend on the shipped
training having happened; the shipped file, when present, is checked against its documented
format and size.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app.config import ROOT
from engine.history import CURVES, History, snapshot_steps
from tests.tiny_run import write_tiny_run



def f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.float32)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """models dir with run.npz, run.history.npz (seed 0) and run.seed1.history.npz."""
    folder = tmp_path_factory.mktemp("models")
    write_tiny_run(folder, "run", epochs=2, snapshots=5)
    return folder


@pytest.fixture(scope="module")
def tiny_client(tiny_run, settings):
    from fastapi.testclient import TestClient

    from app.main import create_app
    app = create_app(replace(settings, model_path=tiny_run / "run.npz", extra_models=()))
    with TestClient(app) as c:
        yield c


def test_history_is_the_file_as_recorded(tiny_client, tiny_run):
    r = tiny_client.get("/api/history")
    assert r.status_code == 200, r.text
    out = r.json()
    hist = History.load(tiny_run / "run.history.npz")
    for name in CURVES:
        np.testing.assert_array_equal(f32(out["curves"][name]), f32(hist.curves[name]), name)
    assert out["curves"]["epoch"] == [1, 2]
    assert out["steps_per_epoch"] == hist.steps_per_epoch == 4
    expected = snapshot_steps(8, 5)                  # 2 epochs × 4 steps, cube-spaced
    assert [s["step"] for s in out["snapshots"]] == expected
    assert len(out["snapshots"]) == len(hist.snapshots) == len(expected)
    assert out["snapshots"][0]["step"] == 0 and out["snapshots"][0]["label"] == "random init"
    assert out["snapshots"][-1]["step"] == 8        # 2 epochs × 4 steps: the end is recorded
    steps = [s["step"] for s in out["snapshots"]]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    kernels = out["kernels"]
    assert kernels["layer"] == "conv1" and kernels["shape"] == [len(expected), 6, 1, 5, 5]
    stacked = np.stack([w["conv1"]["weight"].astype(np.float32) for _, w in hist.snapshots])
    np.testing.assert_array_equal(f32(kernels["values"]), stacked.ravel())
    # the per-step curve: one point per step here (8 steps ≪ 600), equal to the recording
    np.testing.assert_array_equal(f32(out["step_curves"]["loss"]), f32(hist.step_loss))


def test_seed_runs_start_different_and_change(tiny_client):
    seeds = tiny_client.get("/api/history").json()["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1]
    a, b = seeds
    assert a["shape"] == b["shape"] == [6, 1, 5, 5]
    assert not np.allclose(f32(a["init"]), f32(b["init"])), "two seeds gave the same init"
    for s in seeds:
        assert np.abs(f32(s["final"]) - f32(s["init"])).max() > 1e-4, s["label"]


def test_run_differences_names_what_else_differs_in_words():
    from engine.seeds import run_differences
    from engine.spec import REFERENCE_SPEC
    recipe = {"epochs": 60, "lr": 0.05, "weight_decay": 0.001, "seed": 0, "snapshots": 24,
              "blas_threads": 1}
    data = {"digest": "abc", "train_count": 10000, "test_count": 5000}
    main = History(REFERENCE_SPEC, 157, recipe, data=data)
    same = History(REFERENCE_SPEC, 157, {**recipe, "seed": 1, "snapshots": 16, "blas_threads": 2},
                   data=dict(data))
    assert run_differences(main, same) == []           # seed and recording are not the recipe
    short = History(REFERENCE_SPEC, 157, {**recipe, "seed": 1, "epochs": 5, "weight_decay": 5e-4},
                    data=dict(data))
    assert run_differences(main, short) == ["5 epochs instead of 60",
                                            "weight decay 0.0005 instead of 0.001"]
    assert run_differences(main, History(REFERENCE_SPEC, 157, recipe, data={**data, "digest": "x"})) \
        == ["different training data"]
    undated = History(REFERENCE_SPEC, 157, recipe)     # recorded before histories named their data
    assert run_differences(main, undated) == ["training data not recorded"]
    assert run_differences(undated, same, main_digest="abc") == []   # the model file's digest
    other_net = [dict(s, units=50) if s.get("name") == "fc2" else s for s in REFERENCE_SPEC]
    assert run_differences(main, History(other_net, 157, recipe, data=data)) == ["a different network"]


def test_the_seed_caption_says_what_the_recordings_say(tiny_client, tiny_run):
    seeds = tiny_client.get("/api/history").json()["seeds"]
    main, other = History.load(tiny_run / "run.history.npz"), History.load(tiny_run / "run.seed1.history.npz")
    assert main.data["digest"] == other.data["digest"] != ""
    assert (main.config["epochs"], other.config["epochs"]) == (2, 1)
    assert seeds[0]["differs"] == [] and "this model" in seeds[0]["label"]
    assert seeds[1]["differs"] == ["1 epoch instead of 2"]
    assert seeds[1]["label"] == "seed 1 (also differs: 1 epoch instead of 2)"
    assert "same network, data and recipe" not in seeds[1]["label"]


def test_history_forward_equals_each_snapshots_network(tiny_client, tiny_run, digit):
    from engine.network import Network
    from engine.preprocess import preprocess
    body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    r = tiny_client.post("/api/history/forward", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    hist = History.load(tiny_run / "run.history.npz")
    k = len(hist.snapshots)
    assert out["count"] == k and [s["index"] for s in out["snapshots"]] == list(range(k))
    image = preprocess(digit).input
    for snap in out["snapshots"]:
        net = Network(hist.spec)
        net.set_parameters(hist.weights_at(snap["index"]))
        trace = net.forward(image)
        np.testing.assert_array_equal(f32(snap["probabilities"]), trace.probabilities)
        assert snap["prediction"] == trace.prediction
        assert [l["name"] for l in snap["layers"]] == ["relu1", "relu2"]
        np.testing.assert_array_equal(f32(snap["layers"][0]["values"]),
                                      trace["relu1"].values.ravel())
    # the network changes between init and the end, so the same drawing reads differently
    first, last = out["snapshots"][0], out["snapshots"][-1]
    assert first["probabilities"] != last["probabilities"]
    some = tiny_client.post("/api/history/forward",
                            json={**body, "snapshots": [k - 1, 0], "stages": ["pool2", "softmax"]})
    assert [s["index"] for s in some.json()["snapshots"]] == [k - 1, 0]
    assert [l["name"] for l in some.json()["snapshots"][0]["layers"]] == ["pool2", "softmax"]


@pytest.mark.parametrize("extra, words", [
    ({"snapshots": [99]}, "out of range; this history has"),
    ({"snapshots": [-1]}, "out of range; this history has"),
    ({"stages": ["conv9"]}, "valid names"), ({"snapshots": [1, 1, 1]}, "distinct"), ({"snapshots": "all"}, "snapshots"),
])
def test_history_forward_bad_input_is_422(tiny_client, digit, extra, words):
    body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28, **extra}
    r = tiny_client.post("/api/history/forward", json=body)
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]


def test_no_history_file_is_404_naming_it(tmp_path, settings, digit):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from engine.network import build_reference
    build_reference(seed=0).save(tmp_path / "bare.npz", {"name": "bare",
                                                         "classes": [str(d) for d in range(10)]})
    app = create_app(replace(settings, model_path=tmp_path / "bare.npz", extra_models=()))
    with TestClient(app) as c:
        r = c.get("/api/history")
        assert r.status_code == 404 and "bare.history.npz" in r.json()["detail"], r.text
        body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
        r = c.post("/api/history/forward", json=body)
        assert r.status_code == 404 and "convscope train" in r.json()["detail"]


SHIPPED_HISTORIES = sorted(p for p in (ROOT / "models").glob("*.history.npz")
                           if ".seed" not in p.name)
SEED_HISTORIES = sorted((ROOT / "models").glob("*.seed*.history.npz"))


@pytest.mark.parametrize("path", SHIPPED_HISTORIES or [None], ids=lambda p: p.name if p else "none")
def test_shipped_history_format_size_and_curves(path):
    if path is None:
        pytest.skip("no shipped training history yet")
    size = path.stat().st_size
    assert size <= 3 * 1024 * 1024, f"{size} bytes: the history must stay ≤ 3 MB"
    hist = History.load(path)
    epochs = len(hist.curves["test_accuracy"])
    assert len(hist.step_loss) == epochs * hist.steps_per_epoch
    # as documented in engine/history.py: cube-spaced steps from 0 (init) to the last step
    steps = [info["snapshot_step"] for info, _ in hist.snapshots]
    assert steps == snapshot_steps(len(hist.step_loss), hist.config["snapshots"])
    assert steps[0] == 0 and steps[-1] == len(hist.step_loss)
    for _, w in hist.snapshots:
        assert w["conv1"]["weight"].dtype == np.float16 and w["conv1"]["weight"].shape == (6, 1, 5, 5)
    acc, loss = hist.curves["test_accuracy"], hist.curves["test_loss"]
    # monotone-ish as recorded: the end beats the start, and the best is near the end
    assert acc[-1] > acc[0] and loss[-1] < loss[0]
    assert acc[-1] >= max(acc) - 0.01
    probe = [info["snapshot_test_accuracy"] for info, _ in hist.snapshots]
    assert probe[-1] > probe[0] + 0.5, probe


@pytest.mark.parametrize("path", SEED_HISTORIES or [None], ids=lambda p: p.name if p else "none")
def test_shipped_seed_history_is_conv1_only_and_small(path):
    if path is None:
        pytest.skip("no second-seed history recorded")
    assert path.stat().st_size < 100_000
    hist = History.load(path)
    assert hist.layers == ["conv1"] and hist.config["seed"] != 0
    assert hist.curves["test_accuracy"][-1] > 0.9
    main = path.with_name(path.name.split(".seed")[0] + ".npz")
    if main.is_file():           # the same network as the model it sits beside
        from engine.network import Network
        assert hist.spec == Network.load(main).spec
    main_history = path.with_name(path.name.split(".seed")[0] + ".history.npz")
    if main_history.is_file():   # ... and the same recipe and length: only which run it is differs
        recipe = {k: v for k, v in History.load(main_history).config.items()
                  if k not in ("seed", "snapshots", "blas_threads")}
        assert {k: hist.config.get(k) for k in recipe} == recipe
        assert len(hist.curves["test_accuracy"]) == recipe["epochs"]
        assert len(hist.step_loss) == recipe["epochs"] * hist.steps_per_epoch
    if main.is_file():           # ... on the same data as the model it sits beside
        from engine.network import Network
        assert hist.data["digest"] == Network.load(main).metadata["data_digest"]
        assert hist.data["train_count"] == Network.load(main).metadata["train_count"]


@pytest.mark.parametrize("path", SEED_HISTORIES or [None], ids=lambda p: p.name if p else "none")
def test_shipped_seed_caption_claims_only_what_the_files_show(path, settings):
    if path is None:
        pytest.skip("no second-seed history recorded")
    from fastapi.testclient import TestClient

    from app.main import create_app
    model = path.with_name(path.name.split(".seed")[0] + ".npz")
    with TestClient(create_app(replace(settings, model_path=model, extra_models=()))) as c:
        seeds = c.get("/api/history").json()["seeds"]
    assert seeds[1]["seed"] == History.load(path).config["seed"]
    assert seeds[1]["differs"] == [], seeds[1]["differs"]
    assert seeds[1]["label"].endswith("(same network, data and recipe)")
    assert seeds[1]["epochs"] == seeds[0]["epochs"]


def test_default_stages_follow_the_models_own_names():
    from app.routes.history import default_stages
    from engine.network import Network
    from engine.zoo import get_spec
    assert default_stages(Network(get_spec("reference")).stages) == ["relu1", "relu2"]
    assert default_stages(Network(get_spec("harley")).stages) == ["tanh1", "tanh2"]
