"""GET /api/samples: shipped MNIST test digits as forward bodies; 422/404 say what is valid."""
from __future__ import annotations

import numpy as np
import pytest

from app.config import ROOT
from engine.data import load_mnist

MNIST = "/work/shared/data/mnist"


def test_sample_is_a_forward_body_from_the_test_split(client):
    r = client.get("/api/samples", params={"digit": 3, "index": 4})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"pixels", "width", "height"}
    image = np.array(body["pixels"], np.uint8).reshape(body["height"], body["width"])
    try:
        data = load_mnist(MNIST)
    except Exception:
        pytest.skip("no MNIST test split to compare with")
    np.testing.assert_array_equal(image, data.test_x[np.flatnonzero(data.test_y == 3)[4]])
    assert client.post("/api/forward", json=body).status_code == 200


@pytest.mark.parametrize("query, words", [
    ({"digit": 10, "index": 0}, ["digit must be 0..9", "got 10"]),
    ({"digit": -1, "index": 0}, ["digit must be 0..9"]),
    ({"digit": 1, "index": 20}, ["index must be 0..19", "got 20"]),
    ({"digit": "x", "index": 0}, ["digit", "integer"]),
    ({"index": 0}, ["digit", "required"]),
])
def test_bad_queries_name_the_valid_range(client, query, words):
    r = client.get("/api/samples", params=query)
    assert r.status_code == 422, r.text
    for w in words:
        assert w in r.json()["detail"], r.json()


def _app_for(tmp_path, model_path, dataset, classes):
    from app.config import Settings
    from app.main import create_app
    from engine.network import Network
    path = tmp_path / f"{dataset}.npz"
    Network.load(model_path).save(path, {"name": f"{dataset}-lenet", "dataset": dataset,
                                         "classes": classes, "accuracy": {"test": 0.5}})
    return create_app(Settings(model_path=path))


def test_a_fashion_model_gets_fashion_samples_and_class_names(tmp_path, model_path):
    from fastapi.testclient import TestClient
    from engine.data import FASHION_MNIST_CLASSES
    shipped = ROOT / "models" / "samples-fashion-mnist.npz"
    if not shipped.is_file():
        pytest.skip("no shipped Fashion-MNIST samples")
    with TestClient(_app_for(tmp_path, model_path, "fashion-mnist", FASHION_MNIST_CLASSES)) as c:
        assert c.get("/api/model").json()["classes"] == FASHION_MNIST_CLASSES
        r = c.get("/api/samples", params={"digit": 9, "index": 0})
        assert r.status_code == 200
        with np.load(shipped) as f:
            expected = f["images"][9, 0]
        np.testing.assert_array_equal(np.array(r.json()["pixels"]).reshape(28, 28), expected)


def test_a_dataset_without_samples_is_404_not_wrong_digits(tmp_path, model_path):
    from fastapi.testclient import TestClient
    with TestClient(_app_for(tmp_path, model_path, "kmnist", list("abcdefghij"))) as c:
        r = c.get("/api/samples", params={"digit": 0, "index": 0})
        assert r.status_code == 404 and "kmnist" in r.json()["detail"], r.text
