"""Network: spec validation, the Trace, whole-network gradients, save/load."""
import numpy as np
import pytest

from engine.errors import BadInput, EngineError, ModelFileError, SpecError
from engine.gradcheck import eval_numerical_gradient, rel_error
from engine.network import Network, build_reference
from engine.spec import LECUN_C3_CONNECTIONS, REFERENCE_SPEC, infer_shapes

NAMES = ["input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1",
         "relu3", "fc2", "relu4", "fc3", "softmax"]

# Same geometry family as the reference, but smooth (tanh, sigmoid, avg/sum pooling) so finite
# differences never straddle a kink, plus a connection table, padding and a stride.
SMOOTH_SPEC = [
    {"name": "input", "kind": "input", "shape": [1, 14, 14]},
    {"name": "c1", "kind": "conv", "filters": 6, "kernel": 3, "stride": 1, "padding": 1,
     "in_channels": 1},
    {"name": "t1", "kind": "activation", "function": "tanh", "scale": 1.7159, "slope": 2 / 3},
    {"name": "p1", "kind": "pool", "op": "avg", "window": 2, "stride": 2},
    {"name": "c2", "kind": "conv", "filters": 16, "kernel": 3, "stride": 2, "padding": 1,
     "in_channels": 6, "connections": LECUN_C3_CONNECTIONS},
    {"name": "s2", "kind": "activation", "function": "sigmoid"},
    {"name": "p2", "kind": "pool", "op": "sum", "window": 2, "stride": 1},
    {"name": "flat", "kind": "flatten"},
    {"name": "fc", "kind": "dense", "units": 7},
    {"name": "t3", "kind": "activation", "function": "tanh"},
    {"name": "out", "kind": "dense", "units": 4},
    {"name": "prob", "kind": "softmax"},
]


def test_reference_stages_and_shapes():
    net = build_reference()
    assert [s["name"] for s in net.stages] == NAMES
    shapes = {s["name"]: s["shape"] for s in net.stages}
    assert shapes["conv1"] == [6, 28, 28] and shapes["pool1"] == [6, 14, 14]
    assert shapes["conv2"] == [16, 10, 10] and shapes["pool2"] == [16, 5, 5]
    assert shapes["flatten"] == [400] and shapes["fc1"] == [120] and shapes["softmax"] == [10]
    conv1 = net.stages[1]
    assert conv1 == {"name": "conv1", "kind": "conv", "shape": [6, 28, 28], "filters": 6,
                     "kernel": 5, "stride": 1, "padding": 0, "in_channels": 1}
    assert net.parameters()["fc1"]["weight"].shape == (120, 400)   # PyTorch layout
    assert net.parameters()["conv2"]["weight"].shape == (16, 6, 5, 5)


@pytest.mark.parametrize("change,words", [
    ({3: {"name": "pool1", "kind": "pool", "op": "max", "window": 30, "stride": 3}},
     r"window 30 is larger than the height 28"),
    ({1: {"name": "conv1", "kind": "deconv"}}, "supported kinds"),
    ({2: {"name": "relu1", "kind": "activation", "function": "gelu"}}, "relu, tanh, sigmoid"),
    ({3: {"name": "pool1", "kind": "pool", "op": "median", "window": 2}}, "max, avg, sum"),
    ({4: {"name": "conv2", "kind": "conv", "filters": 16, "kernel": 5, "in_channels": 3}},
     "in_channels is 3"),
    ({7: {"name": "flatten", "kind": "dense", "units": 3}}, "add a 'flatten'"),
    ({2: {"name": "conv1", "kind": "activation", "function": "relu"}}, "used twice"),
    ({1: {"name": "conv1", "kind": "conv", "filters": 6, "kernel": 5, "dilation": 2}},
     "unsupported parameter"),
])
def test_bad_specs_raise_spec_error_naming_the_fault(change, words):
    spec = [dict(s) for s in REFERENCE_SPEC]
    for i, stage in change.items():
        spec[i] = stage
    with pytest.raises(SpecError, match=words):
        infer_shapes(spec)


def test_forward_trace_one_image_and_batch_agree():
    net = build_reference(seed=3)
    rng = np.random.default_rng(0)
    batch = rng.random((3, 1, 32, 32), dtype=np.float32)
    bt = net.forward(batch)
    assert bt.batched and bt.prediction.shape == (3,)
    for n in range(3):
        one = net.forward(batch[n])
        assert [r.name for r in one.records] == NAMES
        assert one.prediction == int(bt.prediction[n])
        for rec in one.records:
            assert rec.values.dtype == np.float32, rec.name
            assert rec.values.shape == rec.shape, rec.name
            assert rec.values.flags.c_contiguous, f"{rec.name} values must serialise directly"
            np.testing.assert_allclose(rec.values, bt[rec.name].values[n], rtol=1e-5, atol=1e-6,
                                       err_msg=rec.name)
        assert abs(float(one.probabilities.sum()) - 1) < 1e-5
    np.testing.assert_allclose(net.logits(batch), bt["fc3"].values, rtol=1e-6)


def test_trace_does_not_alias_the_caller_array():
    net = build_reference()
    x = np.zeros((1, 32, 32), np.float32)
    trace = net.forward(x)
    x[...] = 1
    assert not trace["input"].values.any()


@pytest.mark.parametrize("bad", [np.zeros((28, 28)), np.zeros((2, 32, 32)),
                                 np.zeros((0, 1, 32, 32)), "digit"])
def test_wrong_input_shape_is_bad_input(bad):
    with pytest.raises(BadInput, match=r"expected one image \[1, 32, 32\]|numeric array"):
        build_reference().forward(bad)


def test_smooth_network_gradcheck_input_and_every_parameter():
    net = Network(SMOOTH_SPEC, seed=1, dtype=np.float64)
    rng = np.random.default_rng(2)
    x = rng.random((2, 1, 14, 14))
    d = rng.standard_normal((2, 4))
    loss = lambda _: float(np.sum(net.logits(x) * d))   # noqa: E731
    net.logits(x)
    dx = net.backward(d, input_grad=True)
    grads = {n: {k: g.copy() for k, g in net.layer(n).grads.items()} for n in net.parameters()}
    err = rel_error(eval_numerical_gradient(loss, x), dx)
    assert err < 1e-6, f"input gradient rel err {err:.2e}"
    for name, params in net.parameters().items():
        for key, p in params.items():
            num = eval_numerical_gradient(loss, p)
            if key == "weight" and getattr(net.layer(name), "mask", None) is not None:
                num *= net.layer(name).mask
            err = rel_error(num, grads[name][key])
            assert err < 1e-6, f"{name}.{key} gradient rel err {err:.2e}"


def test_reference_network_gradcheck_on_sampled_entries():
    # ReLU and max pooling have kinks, so check a sample of entries away from them, in float64.
    net = build_reference(seed=4, dtype=np.float64)
    rng = np.random.default_rng(5)
    x = rng.random((2, 1, 32, 32))
    d = rng.standard_normal((2, 10))
    net.logits(x)
    dx = net.backward(d, input_grad=True)
    loss = lambda: float(np.sum(net.logits(x) * d))     # noqa: E731
    arrays = {"input": (x, dx)}
    for name, params in net.parameters().items():
        for key, p in params.items():
            arrays[f"{name}.{key}"] = (p, net.layer(name).grads[key].copy())
    h = 1e-6
    for label, (arr, grad) in arrays.items():
        for flat in rng.choice(arr.size, size=min(8, arr.size), replace=False):
            i = np.unravel_index(flat, arr.shape)
            old = arr[i]
            arr[i] = old + h
            up = loss()
            arr[i] = old - h
            down = loss()
            arr[i] = old
            num = (up - down) / (2 * h)
            assert abs(num - grad[i]) <= 1e-6 * max(1.0, abs(num)), (label, i, num, grad[i])


def test_backward_without_input_grad_fills_grads_and_returns_none():
    net = build_reference()
    x = np.random.default_rng(0).random((4, 1, 32, 32), dtype=np.float32)
    net.logits(x)
    assert net.backward(np.ones((4, 10), np.float32)) is None
    for name, layer_params in net.parameters().items():
        for key, value in layer_params.items():
            g = net.layer(name).grads[key]
            assert g.shape == value.shape and g.dtype == np.float32, (name, key)


def test_seeded_init_is_reproducible_and_seed_dependent():
    a, b, c = build_reference(seed=0), build_reference(seed=0), build_reference(seed=1)
    for name in a.parameters():
        np.testing.assert_array_equal(a.parameters()[name]["weight"],
                                      b.parameters()[name]["weight"])
    assert not np.array_equal(a.parameters()["fc1"]["weight"], c.parameters()["fc1"]["weight"])


def test_save_load_round_trip_and_copy(tmp_path):
    net = Network(SMOOTH_SPEC, seed=9)
    path = tmp_path / "m.npz"
    meta = {"name": "test", "accuracy": {"test": 0.5}, "classes": list("abcd")}
    net.save(path, meta)
    assert path.stat().st_size < 60_000
    loaded = Network.load(path)
    assert loaded.metadata == meta and loaded.stages == net.stages
    x = np.random.default_rng(1).random((1, 14, 14), dtype=np.float32)
    np.testing.assert_array_equal(loaded.forward(x).probabilities, net.forward(x).probabilities)
    twin = net.copy()
    twin.parameters()["fc"]["weight"][...] = 0
    assert net.parameters()["fc"]["weight"].any(), "copy() must not share weights"
    assert twin.metadata == net.metadata and twin.metadata is not net.metadata


def _corrupt(tmp_path, kind):
    good = tmp_path / "good.npz"
    build_reference().save(good, {"name": "x"})
    bad = tmp_path / f"{kind}.npz"
    if kind == "missing":
        return tmp_path / "nope.npz"
    if kind == "garbage":
        bad.write_bytes(b"not a zip at all")
    elif kind == "truncated":
        bad.write_bytes(good.read_bytes()[:2000])
    elif kind == "no-meta":
        np.savez(bad, **{"conv1.weight": np.zeros((6, 1, 5, 5), np.float32)})
    elif kind == "wrong-shape" or kind == "missing-array" or kind == "nan":
        with np.load(good) as z:
            arrays = {k: z[k] for k in z.files}
        if kind == "wrong-shape":
            arrays["fc1.weight"] = np.zeros((120, 399), np.float32)
        elif kind == "nan":
            arrays["fc2.bias"] = np.full(100, np.nan, np.float32)
        else:
            del arrays["conv2.bias"]
        np.savez(bad, **arrays)
    return bad


@pytest.mark.parametrize("kind,words", [
    ("missing", "does not exist"), ("garbage", "cannot be read"),
    ("truncated", "cannot be read"), ("no-meta", "no valid 'meta'"),
    ("wrong-shape", r"'fc1.weight' is float32 \[120, 399\], expected float \[120, 400\]"),
    ("missing-array", "lacks 'conv2.bias'"), ("nan", "NaN"),
])
def test_bad_model_files_raise_model_file_error(tmp_path, kind, words):
    path = _corrupt(tmp_path, kind)
    with pytest.raises(ModelFileError, match=words) as info:
        Network.load(path)
    assert str(path) in str(info.value), "the message must name the file"
    assert isinstance(info.value, EngineError)


@pytest.mark.parametrize("spec", [SMOOTH_SPEC, REFERENCE_SPEC], ids=["smooth", "reference"])
def test_one_image_path_matches_batch_of_one_including_backward(spec):
    """forward(image) takes a lean per-layer path; it must leave the same numbers and the same
    caches as a batch of one, so backward after it (engine.gradient does this) is exact."""
    net = Network(spec, seed=6, dtype=np.float64)
    shape = tuple(net.stages[0]["shape"])
    image = np.random.default_rng(3).random(shape)
    d = np.random.default_rng(4).standard_normal((1, net.stages[-2]["shape"][0]))
    one = net.forward(image)
    dx_one = net.backward(d, input_grad=True)
    grads_one = {n: {k: g.copy() for k, g in net.layer(n).grads.items()} for n in net.parameters()}
    batch = net.forward(image[None])
    dx_batch = net.backward(d, input_grad=True)
    for rec in one.records:
        np.testing.assert_allclose(rec.values, batch[rec.name].values[0], rtol=1e-12, atol=1e-14,
                                   err_msg=f"one-image {rec.name} differs from the batch path")
    np.testing.assert_allclose(dx_one, dx_batch, rtol=1e-12, atol=1e-14)
    for name, grads in grads_one.items():
        for key, g in grads.items():
            np.testing.assert_allclose(g, net.layer(name).grads[key], rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name}.{key} after a one-image forward")


def test_save_accepts_numpy_metadata_values(tmp_path):
    net = build_reference()
    net.save(tmp_path / "m.npz", {"accuracy": {"test": np.float32(0.99)}, "epochs": np.int64(3),
                                  "confusion": np.eye(2, dtype=np.int64)})
    meta = Network.load(tmp_path / "m.npz").metadata
    assert meta == {"accuracy": {"test": pytest.approx(0.99)}, "epochs": 3,
                    "confusion": [[1, 0], [0, 1]]}
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        net.save(tmp_path / "n.npz", {"bad": object()})
