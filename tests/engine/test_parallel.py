"""Batches split across both cores (engine.parallel) give the whole batch's numbers: forward
records, logits, parameter and input gradients, and seeded training run to run."""
import numpy as np
import pytest

from engine import parallel
from engine.losses import cross_entropy
from engine.network import build_reference
from engine.spec import REFERENCE_SPEC
from engine.train import train
from engine.data import Dataset

N = 37          # odd: the halves differ in size (19 + 18)


def pair(dtype=np.float32):
    """The same weights twice: one net splits its batches, the other runs them whole."""
    split, whole = build_reference(seed=3, dtype=dtype), build_reference(seed=3, dtype=dtype)
    split.split_from, whole.split_from = 2, None
    return split, whole


def batch(n=N, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 32, 32), dtype=np.float32), rng.integers(0, 10, n)


def test_cut_point_leaves_small_batches_whole():
    assert parallel.cut_point(1, 2) is None and parallel.cut_point(31, 32) is None
    assert parallel.cut_point(64, 32) == 32 and parallel.cut_point(37, 2) == 19
    assert parallel.cut_point(1000, None) is None


def test_split_forward_records_equal_whole_batch():
    split, whole = pair()
    x, _ = batch()
    a, b = split.forward(x), whole.forward(x)
    assert split._cut == 19 and whole._cut is None      # the split path really ran
    for ra, rb in zip(a.records, b.records):
        assert ra.values.shape == rb.values.shape and len(ra.values) == N, ra.name
        # float32 summation order differs between the halves and the whole batch: allow a few
        # ulps of the stage's own scale (a unit that cancels to ~0 keeps the absolute error).
        scale = float(np.abs(rb.values).max()) or 1.0
        np.testing.assert_allclose(ra.values, rb.values, rtol=1e-5, atol=2e-6 * scale,
                                   err_msg=f"stage {ra.name}")
    np.testing.assert_array_equal(a.prediction, b.prediction)
    logits = whole.logits(x)
    np.testing.assert_allclose(split.logits(x), logits, rtol=1e-5,
                               atol=2e-6 * float(np.abs(logits).max()))


def test_split_gradients_equal_whole_batch_float64():
    """float64, so a difference would be a real bug, not summation order."""
    split, whole = pair(np.float64)
    x, y = batch()
    grads_in = []
    for net in (split, whole):
        _, d = cross_entropy(net.logits(x), y)
        grads_in.append(net.backward(d, input_grad=True))
    assert split._cut == 19
    np.testing.assert_allclose(grads_in[0], grads_in[1], rtol=1e-10, atol=1e-14)
    for ls, lw in zip(split.layers, whole.layers):
        for key in lw.params:
            np.testing.assert_allclose(ls.grads[key], lw.grads[key], rtol=1e-9, atol=1e-13,
                                       err_msg=f"{lw.name}.{key}")


def test_split_gradients_match_at_float32_tolerance():
    split, whole = pair()
    x, y = batch(64, seed=1)
    for net in (split, whole):
        _, d = cross_entropy(net.logits(x), y)
        net.backward(d)
    for ls, lw in zip(split.layers, whole.layers):
        for key in lw.params:
            np.testing.assert_allclose(ls.grads[key], lw.grads[key], rtol=1e-4, atol=1e-6,
                                       err_msg=f"{lw.name}.{key}")


def test_worker_taken_gives_the_same_numbers():
    """When another call holds the worker, the halves run in turn here: identical bits (at
    the same BLAS thread count: OpenBLAS's sums differ between 1 and 2 threads)."""
    with parallel.blas_threads(1):
        _check_worker_taken()


def _check_worker_taken():
    net, _ = pair()
    x, y = batch()
    free = net.logits(x)
    _, d = cross_entropy(free, y)
    net.backward(d)
    free_grads = {l.name: l.grads["weight"].copy() for l in net.layers if l.params}
    assert parallel._busy.acquire(blocking=False)
    try:
        taken = net.logits(x)
        net.backward(d)
    finally:
        parallel._busy.release()
    np.testing.assert_array_equal(free, taken)
    for layer in net.layers:
        if layer.params:
            np.testing.assert_array_equal(layer.grads["weight"], free_grads[layer.name])


def test_weight_updates_reach_the_second_half():
    """The twin layers share the parameter arrays: an in-place update changes both halves."""
    split, whole = pair()
    x, _ = batch()
    split.logits(x)                        # makes the twins
    halved = {k: {kk: vv * 0.5 for kk, vv in v.items()} for k, v in whole.parameters().items()}
    for net in (split, whole):
        net.set_parameters(halved)
        net.layer("fc3").params["bias"] += 1.5
    assert split._twins()[-2].params["bias"] is split.layer("fc3").params["bias"]
    logits = whole.logits(x)
    np.testing.assert_allclose(split.logits(x), logits, rtol=1e-5,
                               atol=2e-6 * float(np.abs(logits).max()))


def test_one_image_after_a_split_batch_backpropagates_whole():
    split, whole = pair()
    x, y = batch()
    split.logits(x)
    image = x[:1]
    for net in (split, whole):
        _, d = cross_entropy(net.logits(image), y[:1])
        net.backward(d)
    assert split._cut is None
    np.testing.assert_allclose(split.layer("conv1").grads["weight"],
                               whole.layer("conv1").grads["weight"], rtol=1e-5, atol=1e-7)


def test_seeded_split_training_is_deterministic_and_learns():
    rng = np.random.default_rng(0)
    # Two separable "digits": a bright left half vs a bright right half, with noise.
    y = rng.integers(0, 2, 256)
    x = rng.random((256, 28, 28)).astype(np.float32) * 0.3
    x[y == 0, :, :14] += 0.7
    x[y == 1, :, 14:] += 0.7
    data = Dataset((x * 255).astype(np.uint8), y.astype(np.uint8), (x[:64] * 255)
                   .astype(np.uint8), y[:64].astype(np.uint8))
    runs = [train(REFERENCE_SPEC, data, epochs=2, progress=None, augment=False, snapshots=2,
                  lr=0.05) for _ in range(2)]
    (net_a, hist_a), (net_b, _) = runs
    assert net_a.split_from is not None or parallel.default_split() is None
    for name, params in net_a.parameters().items():
        for key, value in params.items():
            assert np.array_equal(value, net_b.parameters()[name][key]), f"{name}.{key}"
    assert hist_a.curves["test_accuracy"][-1] > 0.9, hist_a.curves["test_accuracy"]


def test_backward_rejects_dlogits_shorter_than_the_split():
    from engine.errors import BadInput
    net, _ = pair()
    x, _ = batch()
    net.logits(x)
    with pytest.raises(BadInput, match="dlogits has 5 rows"):
        net.backward(np.zeros((5, 10), np.float32))
