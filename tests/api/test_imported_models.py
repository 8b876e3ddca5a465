"""Imported models served: LeNet-5 (28×28, pad 2, avg pool), ConvNetJS (pool 3 floored),
Tiny VGG (64×64×3, normalised RGB) and a BatchNorm net with no final softmax. Each answers
/api/models, /api/model, forward and explain at every stage, and `convscope serve --model`
takes a folder of them beside a file."""
import numpy as np
import pytest
from fastapi.testclient import TestClient

pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from app.config import ROOT, Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from tests import import_nets  # noqa: E402
from tests.api.test_serve import free_port, serve, wait_healthy  # noqa: E402

IDS = ["lenet5", "convnetjs", "tinyvgg", "bn_dropout"]


@pytest.fixture(scope="module")
def folder(imported_models):
    return imported_models


@pytest.fixture(scope="module")
def client(folder):
    settings = Settings(model_path=folder / "lenet5.npz",
                        extra_models=tuple(folder / f"{n}.npz" for n in IDS[1:]))
    with TestClient(create_app(settings)) as c:
        yield c


def _body(name, data_url, pad_drawing):
    if name == "tinyvgg":
        rng = np.random.default_rng(1)
        photo = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
        return {"image": data_url(photo, "RGB", "JPEG")}
    return {"image": data_url(pad_drawing, "RGBA")}


def test_models_lists_the_imported_ones(client):
    listing = client.get("/api/models").json()
    assert [m["id"] for m in listing] == IDS and listing[0]["default"]
    assert listing[2]["classes"][2] == "pizza"
    assert listing[0]["description"].startswith("Imported from ONNX (lenet5.onnx)")
    assert "folded into conv1" in listing[3]["description"]


@pytest.mark.parametrize("name", IDS)
def test_model_forward_and_explain_every_stage(client, name, data_url, pad_drawing):
    info = client.get(f"/api/model?model={name}").json()
    shape = list(import_nets.SHAPES[name])
    assert info["layers"][0]["shape"] == shape and info["input"]["shape"] == shape
    assert {"name", "dataset", "classes", "accuracy", "layers"} <= set(info)
    body = _body(name, data_url, pad_drawing)
    r = client.post(f"/api/forward?model={name}", json=body)
    assert r.status_code == 200, r.text
    fwd = r.json()
    assert len(fwd["probabilities"]) == 10 and abs(sum(fwd["probabilities"]) - 1) < 1e-5
    assert fwd["prediction"] == int(np.argmax(fwd["probabilities"]))
    for layer in fwd["layers"][1:]:
        unit = [d // 2 for d in layer["shape"]]
        e = client.post(f"/api/explain?model={name}",
                        json={**body, "layer": layer["name"], "unit": unit})
        assert e.status_code == 200, (layer["name"], e.text)
        ex = e.json()
        values = np.asarray(layer["values"]).reshape(layer["shape"])
        assert ex["value"] == pytest.approx(float(values[tuple(unit)]), rel=1e-6, abs=1e-7)
        if "sum" in ex and layer["kind"] in ("conv", "dense"):
            assert ex["sum"] == pytest.approx(ex["value"], rel=1e-4, abs=1e-5)
        if layer["kind"] == "conv" and name == "tinyvgg" and layer["name"] == "conv1":
            assert ex["source"]["shape"] == [3, 3, 3] and ex["channels"] == [0, 1, 2]
        if layer["kind"] == "pool" and layer["op"] == "avg":
            assert ex["sum"] / ex["count"] == pytest.approx(ex["value"], rel=1e-5, abs=1e-6)


def test_lenet5_reads_the_mnist_pipelines_28x28_digit(client, pad_drawing, data_url):
    from engine.preprocess import preprocess
    fwd = client.post("/api/forward?model=lenet5",
                      json={"image": data_url(pad_drawing, "RGBA")}).json()
    got = np.asarray(fwd["layers"][0]["values"], np.float32).reshape(1, 28, 28)
    np.testing.assert_array_equal(got[0], preprocess(pad_drawing[..., 3]).steps["centred"])


def test_serve_takes_a_folder_and_a_file(folder):
    port = free_port()
    proc = serve("--port", str(port), "--model", str(ROOT / "models" / "lenet-mnist.npz"),
                 "--model", str(folder))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        import httpx
        ids = [m["id"] for m in httpx.get(f"http://127.0.0.1:{port}/api/models").json()]
        assert ids == ["lenet-mnist", "bn_dropout", "convnetjs", "lenet5", "tinyvgg"]
    finally:
        proc.terminate()
        proc.wait(15)



@pytest.mark.parametrize("name", IDS)
def test_an_imported_model_has_no_history_and_says_where_it_came_from(client, name):
    """/api/model `history: false` (so the page does not ask /api/history, which 404s) and
    `imported`: the importer's card, the source file's name without the folder it was in."""
    info = client.get(f"/api/model?model={name}").json()
    assert info["history"] is False
    stages = info["imported"].pop("stages")
    assert info["imported"] == {"source": "onnx", "file": f"{name}.onnx"}
    # What the import changed, per stage: only bn_dropout's three folded BatchNorms.
    if name == "bn_dropout":
        assert sorted(stages) == ["conv1", "conv2", "fc1"]
        assert stages["conv1"].startswith("BatchNormalization '/1/BatchNormalization' is folded "
                                          "into conv1: these kernels")
        assert "these weights are the file's dense weights" in stages["fc1"]
    else:
        assert stages == {}
    r = client.get(f"/api/history?model={name}")
    assert r.status_code == 404 and f"{name}.history.npz" in r.json()["detail"]
    assert "was imported" in r.json()["detail"] and "convscope train" not in r.json()["detail"]
