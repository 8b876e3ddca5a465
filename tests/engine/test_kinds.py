"""engine.kinds: one description per layer kind, and every tier that dispatches on the kind
covers exactly those kinds. New kinds and rules (LeakyReLU, PyTorch's floored output size)
against naive loops, finite differences and PyTorch."""
import numpy as np
import pytest

from engine import ops
from engine.explain import EXPLAINERS, explain, receptive_field
from engine.gradcheck import eval_numerical_gradient_array, rel_error
from engine.kinds import KINDS, describe, output_size
from engine.lab import size_arithmetic
from engine.layers import BUILDERS, LeakyReLU
from engine.network import Network
from engine.spec import infer_shapes

CONVNETJS = [  # the ConvNetJS MNIST demo: pool 3 on 14×14 does not tile (floored to 4)
    {"name": "input", "kind": "input", "shape": [1, 28, 28]},
    {"name": "conv1", "kind": "conv", "filters": 8, "kernel": 5, "padding": 2},
    {"name": "relu1", "kind": "activation", "function": "relu"},
    {"name": "pool1", "kind": "pool", "window": 2},
    {"name": "conv2", "kind": "conv", "filters": 16, "kernel": 5, "padding": 2},
    {"name": "relu2", "kind": "activation", "function": "leaky_relu", "alpha": 0.1},
    {"name": "pool2", "kind": "pool", "op": "avg", "window": 3},
    {"name": "flatten", "kind": "flatten"},
    {"name": "fc", "kind": "dense", "units": 10},
]


def test_every_tier_covers_exactly_the_described_kinds():
    kinds = set(KINDS) - {"input"}
    assert set(BUILDERS) == kinds and set(EXPLAINERS) == kinds
    served = describe()
    assert set(served) == set(KINDS)
    conv = {p["name"]: p for p in served["conv"]["params"]}
    assert conv["kernel"]["required"] and conv["stride"]["default"] == 1
    act = {p["name"]: p for p in served["activation"]["params"]}
    assert "leaky_relu" in act["function"]["choices"]
    assert act["alpha"]["only_with"] == {"function": ["leaky_relu"]}


@pytest.mark.parametrize("size,window,stride,padding", [
    (14, 3, 3, 0), (28, 5, 2, 2), (7, 2, 2, 0), (64, 3, 1, 1), (5, 5, 1, 0)])
def test_one_output_size_rule_for_spec_lab_and_pytorch(size, window, stride, padding):
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 1, size, size)
    want = torch.nn.functional.max_pool2d(
        torch.nn.functional.pad(x, [padding] * 4), window, stride).shape[-1]
    assert output_size(size, window, stride, padding) == want
    assert size_arithmetic(size, window, stride, padding)["output"] == want
    spec = [{"name": "in", "kind": "input", "shape": [1, size, size]},
            {"name": "c", "kind": "conv", "filters": 1, "kernel": window, "stride": stride,
             "padding": padding}]
    assert infer_shapes(spec)[1]["shape"][1:] == [want, want]


def test_leaky_relu_fast_naive_and_gradient():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 4))
    x[np.abs(x) < 1e-3] = 0.5
    np.testing.assert_array_equal(ops.leaky_relu(x, 0.2), ops.leaky_relu_naive(x, 0.2))
    layer = LeakyReLU("l", 0.2)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    num = eval_numerical_gradient_array(lambda v: layer.forward(v), x.copy(), dout)
    assert rel_error(num, dx) < 1e-6
    one = LeakyReLU("l", 0.2).forward_one(x[0])
    np.testing.assert_array_equal(one, out[0])


def test_floored_net_equals_pytorch_stage_by_stage():
    torch = pytest.importorskip("torch")
    net = Network(CONVNETJS, seed=4)
    shapes = {s["name"]: s["shape"] for s in net.stages}
    assert shapes["pool2"] == [16, 4, 4] and shapes["flatten"] == [256]
    p = net.parameters()
    conv1 = torch.nn.Conv2d(1, 8, 5, padding=2)
    conv2 = torch.nn.Conv2d(8, 16, 5, padding=2)
    fc = torch.nn.Linear(256, 10)
    for mod, name in ((conv1, "conv1"), (conv2, "conv2"), (fc, "fc")):
        mod.weight.data = torch.from_numpy(p[name]["weight"].copy())
        mod.bias.data = torch.from_numpy(np.random.default_rng(2).standard_normal(
            p[name]["bias"].shape).astype(np.float32))
        p[name]["bias"][...] = mod.bias.data.numpy()
    seq = torch.nn.Sequential(conv1, torch.nn.ReLU(), torch.nn.MaxPool2d(2), conv2,
                              torch.nn.LeakyReLU(0.1), torch.nn.AvgPool2d(3),
                              torch.nn.Flatten(), fc)
    x = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    trace = net.forward(x)
    h = torch.from_numpy(x[None])
    for stage, module in zip(net.stages[1:], seq):
        h = module(h)
        want = h.detach().numpy()[0]
        got = trace[stage["name"]].values
        scale = max(1e-6, float(np.abs(want).max()))
        assert np.abs(got - want).max() / scale < 1e-5, stage["name"]
    # A pool2 unit's explanation adds up, and its receptive field stays on the 28×28 input.
    e = explain(net, trace, "pool2", [3, 3, 3])
    assert e["count"] == 9 and e["sum"] / 9 == pytest.approx(e["value"], rel=1e-6)
    rf = receptive_field(net, "pool2", [3, 3, 3])
    assert rf[1][1] <= 28 and rf[2][1] <= 28


def test_leaky_relu_alpha_in_record_and_explanation():
    net = Network(CONVNETJS, seed=1)
    assert net.stages[5]["alpha"] == 0.1
    x = np.random.default_rng(3).random((1, 28, 28), dtype=np.float32)
    e = explain(net, net.forward(x), "relu2", [0, 1, 1])
    assert e["function"] == "leaky_relu" and e["alpha"] == 0.1
    want = e["input"] if e["input"] > 0 else 0.1 * e["input"]
    assert e["value"] == pytest.approx(want, rel=1e-6)
