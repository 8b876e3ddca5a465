"""The named specs: Harley's tanh + C3 table, its sparse conv, masks held through training."""
from pathlib import Path

import numpy as np
import pytest

from engine.errors import SpecError
from engine.explain import explain
from engine.network import Network
from engine.spec import REFERENCE_SPEC, infer_shapes
from engine.zoo import get_spec, names

# LeCun et al. 1998, Table I, copied as printed: rows are S2 maps 0-5, columns C3 filters 0-15.
TABLE_I = """
X...XXX..XXXX.XX
XX...XXX..XXXX.X
XXX...XXX..X.XXX
.XXX..XXXX..X.XX
..XXX..XXXX.XX.X
...XXX..XXXX.XXX
"""


def table_i_columns():
    rows = TABLE_I.split()
    return [[m for m in range(6) if rows[m][f] == "X"] for f in range(16)]


def test_known_names_and_unknown_spec_message():
    assert names() == ["reference", "harley", "fashion"]
    with pytest.raises(SpecError, match="reference, harley, fashion"):
        get_spec("lenet7")


def test_copies_are_independent():
    a = get_spec("harley")
    a[4]["connections"][0].append(5)
    assert get_spec("harley")[4]["connections"][0] == [0, 1, 2]


def test_reference_and_fashion_are_the_reference_net():
    assert get_spec("reference") == REFERENCE_SPEC
    assert get_spec("fashion") == REFERENCE_SPEC


def test_harley_has_reference_shapes_and_scaled_tanh_everywhere():
    harley = infer_shapes(get_spec("harley"))
    ref = infer_shapes(REFERENCE_SPEC)
    assert [s["shape"] for s in harley] == [s["shape"] for s in ref]
    acts = [s for s in harley if s["kind"] == "activation"]
    assert [s["name"] for s in acts] == ["tanh1", "tanh2", "tanh3", "tanh4"]
    for s in acts:
        assert (s["function"], s["scale"], s["slope"]) == ("tanh", 1.7159, pytest.approx(2 / 3))


def test_harley_conv2_table_is_lecun_table_i():
    conv2 = next(s for s in infer_shapes(get_spec("harley")) if s["name"] == "conv2")
    table = conv2["connections"]
    assert table == table_i_columns()
    sizes = [len(m) for m in table]
    assert sizes == [3] * 6 + [4] * 9 + [6]
    for f in range(6):                                    # 3 consecutive (wrapping) maps
        assert sorted((f + d) % 6 for d in range(3)) == table[f]
    for f in range(6, 12):                                # 4 consecutive (wrapping) maps
        assert sorted((f - 6 + d) % 6 for d in range(4)) == table[f]
    for f in range(12, 15):                               # two non-adjacent pairs
        assert not any(table[f] == sorted((s + d) % 6 for d in range(4)) for s in range(6))


def test_harley_forward_matches_naive_sparse_conv_and_scaled_tanh():
    net = Network(get_spec("harley"), seed=3, dtype=np.float64)
    x = np.random.default_rng(0).random((1, 32, 32))
    trace = net.forward(x)
    pool1 = trace["pool1"].values
    w = net.layer("conv2").params["weight"]
    b = net.layer("conv2").params["bias"]
    table = table_i_columns()
    expected = np.zeros((16, 10, 10))
    for f in range(16):
        for y in range(10):
            for xx in range(10):
                expected[f, y, xx] = b[f] + sum(
                    np.sum(pool1[m, y:y + 5, xx:xx + 5] * w[f, m]) for m in table[f])
    np.testing.assert_allclose(trace["conv2"].values, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(trace["tanh2"].values,
                               1.7159 * np.tanh(2 / 3 * trace["conv2"].values), rtol=1e-12)


def masked_slices(net):
    table = table_i_columns()
    w = net.layer("conv2").params["weight"]
    return [w[f, m] for f in range(16) for m in range(6) if m not in table[f]]


def test_masked_weights_stay_exactly_zero_through_training():
    train = pytest.importorskip("engine.train")
    from engine.data import Dataset
    rng = np.random.default_rng(1)
    data = Dataset(train_x=(rng.random((64, 28, 28)) * 255).astype(np.uint8),
                   train_y=rng.integers(0, 10, 64).astype(np.uint8),
                   test_x=(rng.random((16, 28, 28)) * 255).astype(np.uint8),
                   test_y=rng.integers(0, 10, 16).astype(np.uint8))
    net, _ = train.train(get_spec("harley"), data, epochs=1)
    before = Network(get_spec("harley"), seed=0).layer("conv2").params["weight"]
    after = net.layer("conv2").params["weight"]
    assert not np.allclose(before, after), "training did not move conv2 at all"
    for s in masked_slices(net):
        assert np.all(s == 0.0), "an unconnected conv2 weight moved off zero"


def test_masked_weights_get_zero_gradient():
    net = Network(get_spec("harley"), seed=0, dtype=np.float64)
    x = np.random.default_rng(2).random((4, 1, 32, 32))
    net.logits(x)
    net.backward(np.random.default_rng(3).standard_normal((4, 10)))
    g = net.layer("conv2").grads["weight"]
    table = table_i_columns()
    for f in range(16):
        for m in range(6):
            if m in table[f]:
                assert np.any(g[f, m] != 0)
            else:
                assert np.all(g[f, m] == 0)


def test_conv2_explain_lists_only_connected_maps():
    net = Network(get_spec("harley"), seed=0)
    trace = net.forward(np.random.default_rng(4).random((1, 32, 32)))
    for f in (0, 7, 13, 15):
        out = explain(net, trace, "conv2", [f, 2, 3])
        assert out["channels"] == table_i_columns()[f]
        weight = np.array(out["weight"]).reshape(out["source"]["shape"])
        for m in range(6):
            assert np.any(weight[m] != 0) == (m in out["channels"])
        assert out["sum"] == pytest.approx(out["value"], rel=1e-5, abs=1e-6)


# ---- the shipped models (skipped until they are trained and committed) -----------------------
MODELS = Path(__file__).resolve().parents[2] / "models"
DATA = {"mnist": Path("/work/shared/data/mnist"),
        "fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}


def shipped(name):
    path = MODELS / f"{name}.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not trained yet")
    return Network.load(path)


def measured_accuracy(net):
    """Test accuracy re-measured on the test split (the metadata is a claim, this is a check)."""
    from engine.data import load_mnist
    from engine.train import evaluate
    folder = DATA[net.metadata["dataset"]]
    if not folder.is_dir():
        pytest.skip(f"no {folder} to re-measure on")
    data = load_mnist(folder)
    return evaluate(net, data.test_x, data.test_y)[0]


def test_shipped_harley_model_is_the_harley_spec_with_exact_zeros():
    net = shipped("lenet-harley")
    assert net.stages == infer_shapes(get_spec("harley"))
    zeros = masked_slices(net)
    assert len(zeros) == 16 * 6 - 60          # LeCun: 60 of the 96 map-filter pairs connected
    for s in zeros:
        assert np.all(s == 0.0), "an unconnected conv2 weight is not exactly zero"
    assert (net.metadata["dataset"], net.metadata["spec"]) == ("mnist", "harley")
    acc = measured_accuracy(net)
    assert acc == pytest.approx(net.metadata["accuracy"]["test"], abs=1e-9)
    assert acc >= 0.988, f"Harley model test accuracy {acc:.4f} < 98.8%"


def test_shipped_fashion_model_names_its_classes_and_reaches_90_percent():
    from engine.data import FASHION_MNIST_CLASSES
    net = shipped("lenet-fashion")
    assert net.stages == infer_shapes(get_spec("fashion"))
    assert net.metadata["classes"] == FASHION_MNIST_CLASSES
    assert net.metadata["dataset"] == "fashion-mnist"
    acc = measured_accuracy(net)
    assert acc == pytest.approx(net.metadata["accuracy"]["test"], abs=1e-9)
    assert acc >= 0.90, f"Fashion model test accuracy {acc:.4f} < 90%"


def test_shipped_model_files_stay_under_2_mb_together():
    files = [p for p in MODELS.glob("*.npz") if not p.name.endswith(".history.npz")]
    total = sum(p.stat().st_size for p in files)
    assert total < 2_000_000, f"{total} bytes in {[p.name for p in files]}"
