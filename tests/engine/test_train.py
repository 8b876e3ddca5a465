"""Augmentation, losses and the training loop: against naive loops, finite differences and the
one property that matters (training lowers the loss)."""
import io
from pathlib import Path

import numpy as np
import pytest

from engine.augment import affine, affine_naive, random_affine
from engine.commands import format_confusion
from engine.data import Dataset, load_mnist
from engine.history import History, history_path, snapshot_steps
from engine.losses import cross_entropy, softmax, total_error
from engine.network import Network
from engine.spec import REFERENCE_SPEC
from engine.train import SGD, evaluate, learning_rate, to_batch, train

MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def mnist():
    if not MNIST.is_dir():
        pytest.skip("shared MNIST not present")
    return load_mnist(MNIST)


# ---------------------------------------------------------------- augmentation
def test_affine_identity_returns_input_exactly():
    x = np.random.default_rng(0).random((7, 1, 32, 32)).astype(np.float32)
    assert np.array_equal(affine(x, np.zeros(7), np.ones(7), np.zeros(7), np.zeros(7)), x)


def test_affine_matches_naive_loop_per_image():
    rng = np.random.default_rng(1)
    x = rng.random((4, 12, 10)).astype(np.float32)
    params = [rng.uniform(-40, 40, 4), rng.uniform(0.6, 1.3, 4), rng.uniform(-6, 6, 4),
              rng.uniform(-6, 6, 4)]
    fast = affine(x, *params)
    for i in range(4):
        slow = affine_naive(x[i], *(p[i] for p in params))
        np.testing.assert_allclose(fast[i], slow, atol=1e-5, err_msg=f"image {i}")


def test_integer_shift_moves_pixels_and_fills_zeros():
    x = np.random.default_rng(2).random((1, 8, 8)).astype(np.float32)
    out = affine(x, [0.0], [1.0], [2.0], [-1.0])      # down 2, left 1
    assert np.array_equal(out[0, 2:, :-1], x[0, :-2, 1:])
    assert not out[0, :2].any() and not out[0, :, -1].any()


def test_random_affine_is_seeded_and_keeps_ink_roughly(mnist):
    x = to_batch(mnist.train_x[:64])
    a = random_affine(x, np.random.default_rng(5))
    b = random_affine(x, np.random.default_rng(5))
    assert np.array_equal(a, b) and a.shape == x.shape and a.dtype == np.float32
    assert not np.array_equal(a, x)
    ratio = a.sum((1, 2, 3)) / x.sum((1, 2, 3))      # scale 0.9–1.1 changes area by ≤ ~20%
    assert ratio.min() > 0.75 and ratio.max() < 1.3, (ratio.min(), ratio.max())


# ---------------------------------------------------------------- losses
def numeric_grad(f, z, eps=1e-6):
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        old = z[idx]
        z[idx] = old + eps
        hi = f(z)
        z[idx] = old - eps
        lo = f(z)
        z[idx] = old
        g[idx] = (hi - lo) / (2 * eps)
    return g


@pytest.mark.parametrize("loss", [cross_entropy, total_error])
def test_loss_gradients_match_finite_differences(loss):
    rng = np.random.default_rng(3)
    z, y = rng.normal(0, 2, (5, 10)), rng.integers(0, 10, 5)
    value, grad = loss(z, y)
    num = numeric_grad(lambda t: loss(t, y)[0], z.copy())
    rel = np.abs(grad - num).max() / max(np.abs(num).max(), 1e-12)
    assert rel < 1e-6, rel


def test_loss_values_against_direct_formulas():
    z = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 1000.0]])
    y = np.array([0, 2])
    p = softmax(z)
    assert np.isfinite(p).all() and p[1, 2] == pytest.approx(1.0)
    assert cross_entropy(z, y)[0] == pytest.approx(-np.log(p[0, 0]) / 2)
    t = np.eye(3)[y]
    assert total_error(z, y)[0] == pytest.approx(0.5 * ((t - p) ** 2).sum() / 2)


# ---------------------------------------------------------------- optimiser and schedule
def test_schedule_warms_up_then_decays_to_zero():
    lrs = [learning_rate(s, 100, 0.1, 10) for s in range(100)]
    assert lrs[0] == pytest.approx(0.01) and lrs[9] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:])) and lrs[-1] < 1e-3


def test_nesterov_step_matches_pytorch_formula():
    net = Network(REFERENCE_SPEC, seed=0, dtype=np.float64)
    opt = SGD(net, momentum=0.9, nesterov=True, weight_decay=0.01)
    layer = net.layer("fc3")
    w0 = layer.params["weight"].copy()
    g = np.full_like(w0, 0.5)
    layer.grads = {"weight": g, "bias": np.zeros(10)}
    for other in net.layers:
        if other.params and other is not layer:
            other.grads = {k: np.zeros_like(v) for k, v in other.params.items()}
    opt.step(0.1)
    d = g + 0.01 * w0                 # v = d after one step from zero velocity
    np.testing.assert_allclose(layer.params["weight"], w0 - 0.1 * (d + 0.9 * d))


# ---------------------------------------------------------------- training
def test_one_epoch_on_1000_digits_lowers_the_loss(mnist):
    data = Dataset(mnist.train_x[:1000], mnist.train_y[:1000], mnist.test_x[:500],
                   mnist.test_y[:500])
    before = Network(REFERENCE_SPEC, seed=0)
    loss0 = cross_entropy(before.logits(to_batch(data.test_x)), data.test_y.astype(int))[0]
    stream = io.StringIO()
    net, history = train(REFERENCE_SPEC, data, epochs=1, lr=0.05, snapshots=4, progress=stream)
    loss1 = history.curves["test_loss"][-1]
    assert loss1 < 0.7 * loss0, (loss0, loss1)
    assert history.step_loss[-1] < 0.8 * history.step_loss[0]
    assert history.curves["test_accuracy"][-1] > 0.4       # chance is 0.1
    assert "epoch   1/1" in stream.getvalue() and "total error" in stream.getvalue()
    assert [s[0]["snapshot_step"] for s in history.snapshots] == snapshot_steps(16, 4)
    np.testing.assert_array_equal(history.weights_at(-1)["fc3"]["weight"],
                                  net.layer("fc3").params["weight"].astype(np.float16))


def test_history_roundtrip(tmp_path, mnist):
    data = Dataset(mnist.train_x[:256], mnist.train_y[:256], mnist.test_x[:100],
                   mnist.test_y[:100])       # 4 steps an epoch: snapshots at steps 0, 1, 8
    _, history = train(REFERENCE_SPEC, data, epochs=2, snapshots=3, progress=None)
    path = tmp_path / "h.npz"
    history.save(path)
    back = History.load(path)
    for name, curve in history.curves.items():
        np.testing.assert_allclose(back.curves[name], curve, rtol=1e-6, err_msg=name)
    assert len(back.snapshots) == 3 and back.layers == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert back.weights_at(1)["conv1"]["weight"].shape == (6, 1, 5, 5)
    with np.load(path) as arrays:
        assert arrays["conv1.weight"].shape == (3, 6, 1, 5, 5)
        assert arrays["conv1.weight"].dtype == np.float16
        assert arrays["test_accuracy"].shape == (2,) and arrays["step_loss"].shape == (8,)


def test_evaluate_counts_and_confusion():
    net = Network(REFERENCE_SPEC, seed=1)
    x = np.random.default_rng(0).integers(0, 256, (37, 28, 28), dtype=np.uint8)
    pred = net.logits(to_batch(x)).argmax(1)
    y = pred.copy()
    y[:5] = (y[:5] + 1) % 10                          # five known mistakes
    acc, confusion = evaluate(net, x, y, batch_size=8)
    assert acc == pytest.approx(32 / 37)
    assert confusion.sum() == 37 and confusion.trace() == 32
    assert confusion[y[0], pred[0]] >= 1
    assert "true\\pred" in format_confusion(confusion, [str(i) for i in range(10)])


def test_history_path_sits_beside_the_model():
    assert history_path(Path("models/lenet-mnist.npz")) == Path("models/lenet-mnist.history.npz")


def test_seeded_training_is_deterministic(mnist):
    """What lets `convscope train` reproduce the shipped model: same seed, same weights."""
    data = Dataset(mnist.train_x[:256], mnist.train_y[:256], mnist.test_x[:50], mnist.test_y[:50])
    runs = [train(REFERENCE_SPEC, data, epochs=1, seed=s, snapshots=2, progress=None)[0]
            for s in (3, 3, 4)]
    w = [r.layer("conv2").params["weight"] for r in runs]
    assert np.array_equal(w[0], w[1]) and not np.allclose(w[0], w[2])
