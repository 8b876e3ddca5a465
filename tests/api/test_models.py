"""GET /api/models and `?model=` on every model endpoint: each model answers with its own
layers, classes and weights; no `model` is the default; an unknown id is a 422 naming the ids.

Uses the shipped models when all three exist (so their metadata is checked too), otherwise
seeded untrained networks saved under the shipped names, so this never waits on training.
"""
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from engine.data import FASHION_MNIST_CLASSES, MNIST_CLASSES
from engine.network import Network
from engine.spec import LECUN_C3_CONNECTIONS
from engine.zoo import get_spec

ROOT = Path(__file__).resolve().parents[2]
IDS = ["lenet-mnist", "lenet-harley", "lenet-fashion"]
WANT = {  # id -> (spec, dataset, classes)
    "lenet-mnist": ("reference", "mnist", MNIST_CLASSES),
    "lenet-harley": ("harley", "mnist", MNIST_CLASSES),
    "lenet-fashion": ("fashion", "fashion-mnist", FASHION_MNIST_CLASSES),
}
BLANK = {"pixels": [0] * 784, "width": 28, "height": 28}


def _model_files(tmp_path_factory) -> dict[str, Path]:
    shipped = {mid: ROOT / "models" / f"{mid}.npz" for mid in IDS}
    if all(p.is_file() for p in shipped.values()):
        return shipped
    folder = tmp_path_factory.mktemp("zoo")
    for mid, (spec, dataset, classes) in WANT.items():
        Network(get_spec(spec), seed=IDS.index(mid)).save(folder / f"{mid}.npz", {
            "name": mid, "dataset": dataset, "classes": list(classes),
            "accuracy": {"test": 0.1}})
    return {mid: folder / f"{mid}.npz" for mid in IDS}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return _model_files(tmp_path_factory)


@pytest.fixture(scope="module")
def zoo(files):
    from app.config import Settings
    from app.main import create_app
    settings = Settings(model_path=files["lenet-mnist"],
                        extra_models=(files["lenet-harley"], files["lenet-fashion"]))
    with TestClient(create_app(settings)) as c:
        yield c


def test_models_lists_all_three_default_first(zoo):
    r = zoo.get("/api/models")
    assert r.status_code == 200
    listing = r.json()
    assert [m["id"] for m in listing] == IDS
    assert [m["default"] for m in listing] == [True, False, False]
    for m in listing:
        _, dataset, classes = WANT[m["id"]]
        assert m["dataset"] == dataset
        assert m["classes"] == list(classes)
        assert 0 <= m["accuracy"]["test"] <= 1
        assert m["label"] and isinstance(m["description"], str)


@pytest.mark.parametrize("mid", IDS)
def test_model_info_is_the_models_own(zoo, files, mid):
    r = zoo.get("/api/model", params={"model": mid})
    assert r.status_code == 200
    info = r.json()
    spec, dataset, classes = WANT[mid]
    net = Network.load(files[mid])
    assert info["layers"] == [dict(s) for s in net.stages]
    assert [s["name"] for s in info["layers"]] == [s["name"] for s in get_spec(spec)]
    assert (info["dataset"], info["classes"]) == (dataset, list(classes))
    assert info["accuracy"]["test"] == pytest.approx(net.metadata["accuracy"]["test"])


def test_no_model_is_the_default_unchanged(zoo):
    assert zoo.get("/api/model").json() == zoo.get("/api/model",
                                                   params={"model": "lenet-mnist"}).json()


def test_harley_layers_carry_tanh_and_the_c3_table(zoo):
    layers = {s["name"]: s for s in zoo.get("/api/model", params={"model": "lenet-harley"})
              .json()["layers"]}
    assert layers["conv2"]["connections"] == LECUN_C3_CONNECTIONS
    assert layers["tanh1"]["function"] == "tanh"
    assert layers["tanh1"]["scale"] == pytest.approx(1.7159)
    assert "relu1" not in layers


@pytest.mark.parametrize("mid", IDS)
def test_weights_are_the_models_own(zoo, files, mid):
    r = zoo.get("/api/model/weights", params={"model": mid})
    assert r.status_code == 200
    body = r.json()
    net = Network.load(files[mid])
    for name, p in net.parameters().items():
        np.testing.assert_array_equal(np.array(body[name]["weight"], np.float32),
                                      p["weight"].ravel(), err_msg=f"{mid} {name}")
        assert body[name]["weight_shape"] == list(p["weight"].shape)


@pytest.mark.parametrize("mid", IDS)
def test_forward_runs_the_chosen_model(zoo, files, mid):
    rng = np.random.default_rng(5)
    pixels = (rng.random(784) * 255).astype(int).tolist()
    body = {"pixels": pixels, "width": 28, "height": 28, "preprocess": False}
    r = zoo.post("/api/forward", params={"model": mid}, json=body)
    assert r.status_code == 200
    out = r.json()
    net = Network.load(files[mid])
    x = np.pad(np.array(pixels, np.float32).reshape(28, 28) / 255, 2)[None]
    trace = net.forward(x)
    assert [l["name"] for l in out["layers"]] == [rec.name for rec in trace.records]
    np.testing.assert_allclose(out["probabilities"], trace.probabilities, rtol=1e-4, atol=1e-6)
    assert out["prediction"] == trace.prediction


def test_harley_conv2_explain_lists_only_connected_maps(zoo):
    for f in range(16):
        r = zoo.post("/api/explain", params={"model": "lenet-harley"},
                     json={**BLANK, "layer": "conv2", "unit": [f, 4, 4]})
        assert r.status_code == 200
        e = r.json()
        assert e["channels"] == LECUN_C3_CONNECTIONS[f]
        weight = np.array(e["weight"]).reshape(e["source"]["shape"])
        for m in range(6):
            assert np.any(weight[m] != 0) == (m in e["channels"]), (f, m)
    full = zoo.post("/api/explain", json={**BLANK, "layer": "conv2", "unit": [0, 4, 4]}).json()
    assert full["channels"] == list(range(6))


def test_explain_layer_names_follow_the_model(zoo):
    r = zoo.post("/api/explain", params={"model": "lenet-harley"},
                 json={**BLANK, "layer": "relu1", "unit": [0, 0, 0]})
    assert r.status_code == 422
    assert "tanh1" in r.json()["detail"]
    r = zoo.post("/api/explain", params={"model": "lenet-harley"},
                 json={**BLANK, "layer": "tanh1", "unit": [0, 0, 0]})
    assert r.status_code == 200 and r.json()["function"] == "tanh"


def test_samples_come_from_the_models_dataset(zoo):
    digit = zoo.get("/api/samples", params={"digit": 8, "index": 0}).json()
    bag = zoo.get("/api/samples", params={"digit": 8, "index": 0, "model": "lenet-fashion"})
    assert bag.status_code == 200
    assert bag.json()["pixels"] != digit["pixels"]
    shipped = np.load(ROOT / "models" / "samples-fashion-mnist.npz")
    assert bag.json()["pixels"] == shipped["images"][8, 0].ravel().tolist()
    # A Fashion image is fed as it is (not re-centred like a digit): the body says so.
    assert "preprocess" not in digit
    assert bag.json()["preprocess"] is False


def test_a_fashion_sample_forwards_exactly_as_the_test_image(zoo, files):
    body = zoo.get("/api/samples", params={"digit": 9, "index": 0, "model": "lenet-fashion"}).json()
    out = zoo.post("/api/forward", params={"model": "lenet-fashion"}, json=body).json()
    image = np.array(body["pixels"], np.float32).reshape(28, 28) / 255
    expected = Network.load(files["lenet-fashion"]).forward(np.pad(image, 2)[None])
    np.testing.assert_allclose(out["probabilities"], expected.probabilities, rtol=1e-4,
                               atol=1e-6)


@pytest.mark.parametrize("method,path,body", [
    ("get", "/api/model", None), ("get", "/api/model/weights", None),
    ("post", "/api/forward", BLANK),
    ("post", "/api/explain", {**BLANK, "layer": "conv1", "unit": [0, 0, 0]}),
    ("get", "/api/samples?digit=1&index=0", None)])
@pytest.mark.parametrize("bad", ["lenet-7", "", "LENET-MNIST"])
def test_unknown_model_is_422_naming_the_ids(zoo, method, path, body, bad):
    r = getattr(zoo, method)(path, params={"model": bad},
                             **({"json": body} if body is not None else {}))
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert repr(bad) in detail
    for mid in IDS:
        assert mid in detail
