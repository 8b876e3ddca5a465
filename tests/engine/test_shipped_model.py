"""The shipped model: loads, carries honest metadata, and scores its recorded accuracy."""
from pathlib import Path

import numpy as np
import pytest

from engine.data import MNIST_CLASSES, load_mnist
from engine.history import History
from engine.network import Network
from engine.train import evaluate

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "lenet-mnist.npz"
HISTORY = ROOT / "models" / "lenet-mnist.history.npz"
MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def network():
    assert MODEL.is_file(), f"{MODEL} is not in the repository"
    return Network.load(MODEL)


def test_metadata_is_complete(network):
    meta = network.metadata
    assert meta["name"] == "lenet-mnist" and meta["dataset"] == "mnist"
    assert meta["classes"] == MNIST_CLASSES
    assert meta["accuracy"]["test"] >= 0.993, meta["accuracy"]
    assert meta["train_count"] == 10000 and meta["test_count"] == 5000
    for key in ("seed", "epochs", "data_digest", "training_seconds", "spec"):
        assert key in meta, key
    assert [s["name"] for s in network.stages][-1] == "softmax"
    assert MODEL.stat().st_size < 1_000_000


@pytest.mark.skipif(not MNIST.is_dir(), reason="shared MNIST not present")
def test_scores_its_recorded_accuracy_on_the_test_split(network):
    data = load_mnist(MNIST)
    assert data.digest == network.metadata["data_digest"], "trained on other data files"
    accuracy, confusion = evaluate(network, data.test_x, data.test_y)
    # Same weights, same batches: only a float32 tie could flip a digit.
    assert abs(accuracy - network.metadata["accuracy"]["test"]) <= 2 / 5000, accuracy
    recall = confusion.diagonal() / confusion.sum(axis=1)
    assert confusion.sum() == 5000 and recall.min() > 0.97, recall


def test_history_matches_the_model(network):
    history = History.load(HISTORY)
    assert HISTORY.stat().st_size <= 3_000_000
    assert len(history.curves["test_accuracy"]) == network.metadata["epochs"]
    assert history.curves["test_accuracy"][-1] == pytest.approx(
        network.metadata["accuracy"]["test"], abs=1e-6)
    assert len(history.snapshots) >= 20
    steps = [info["snapshot_step"] for info, _ in history.snapshots]
    assert steps[0] == 0 and steps == sorted(steps)
    assert steps[-1] == network.metadata["epochs"] * history.steps_per_epoch
    init = Network(network.spec, seed=network.metadata["seed"]).parameters()
    for name, params in network.parameters().items():
        for key in ("weight", "bias"):
            np.testing.assert_array_equal(history.weights_at(-1)[name][key],
                                          params[key].astype(np.float16).astype(np.float32))
            np.testing.assert_array_equal(history.weights_at(0)[name][key],
                                          init[name][key].astype(np.float16).astype(np.float32))
