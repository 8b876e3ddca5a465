"""Every stage and every gradient of the reference net equals PyTorch's, same weights."""
import numpy as np
import pytest

from engine.network import build_reference
from engine.spec import LECUN_C3_CONNECTIONS

torch = pytest.importorskip("torch")
nn = torch.nn


def _torch_stages(net):
    """The reference net as torch modules holding our weights (same layout, no reshuffling)."""
    modules = {}
    for stage in net.stages[1:]:
        kind, name = stage["kind"], stage["name"]
        if kind == "conv":
            m = nn.Conv2d(stage["in_channels"], stage["filters"], stage["kernel"],
                          stage["stride"], stage["padding"])
        elif kind == "dense":
            m = nn.Linear(net.layer(name).params["weight"].shape[1], stage["units"])
        elif kind == "activation":
            m = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}[stage["function"]]
        elif kind == "pool":
            m = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[stage["op"]](stage["window"],
                                                                        stage["stride"])
        elif kind == "flatten":
            m = nn.Flatten()
        else:
            m = nn.Softmax(dim=1)
        m = m.double()                 # before copying, so float64 weights stay exact
        if kind in ("conv", "dense"):
            p = net.layer(name).params
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(np.array(p["weight"])))
                m.bias.copy_(torch.from_numpy(np.array(p["bias"])))
        modules[name] = m
    return modules


def _digits(n, seed):
    """Stroke-like images (a few thick random lines on black), not uniform noise."""
    rng = np.random.default_rng(seed)
    img = np.zeros((n, 1, 32, 32))
    yy, xx = np.mgrid[0:32, 0:32]
    for i in range(n):
        for _ in range(3):
            (y0, x0), (y1, x1) = rng.uniform(6, 26, size=(2, 2))
            t = np.clip(((yy - y0) * (y1 - y0) + (xx - x0) * (x1 - x0))
                        / ((y1 - y0) ** 2 + (x1 - x0) ** 2 + 1e-9), 0, 1)
            dist = np.hypot(yy - (y0 + t * (y1 - y0)), xx - (x0 + t * (x1 - x0)))
            img[i, 0] = np.maximum(img[i, 0], np.clip(2.0 - dist, 0, 1))
    return img


def test_every_stage_and_gradient_matches_pytorch():
    net = build_reference(seed=11, dtype=np.float64)
    modules = _torch_stages(net)
    x = _digits(4, seed=0)
    trace = net.forward(x)
    h = torch.from_numpy(x).requires_grad_(True)
    outputs = {"input": h}
    for name, m in modules.items():
        outputs[name] = m(list(outputs.values())[-1])
    for rec in trace.records:
        np.testing.assert_allclose(rec.values, outputs[rec.name].detach().numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=f"stage {rec.name} differs from PyTorch")
    d = np.random.default_rng(1).standard_normal((4, 10))
    net.logits(x)
    dx = net.backward(d, input_grad=True)
    (outputs["fc3"] * torch.from_numpy(d)).sum().backward()
    np.testing.assert_allclose(dx, h.grad.numpy(), rtol=1e-9, atol=1e-12,
                               err_msg="input gradient differs from PyTorch")
    for name, m in modules.items():
        if name in net.parameters():
            for key in ("weight", "bias"):
                np.testing.assert_allclose(
                    net.layer(name).grads[key], getattr(m, key).grad.numpy(), rtol=1e-9,
                    atol=1e-12, err_msg=f"{name}.{key} gradient differs from PyTorch")


def test_float32_forward_matches_pytorch_float32():
    net = build_reference(seed=2)               # float32, as served
    modules = _torch_stages(net)
    x = _digits(1, seed=3)[0].astype(np.float32)
    trace = net.forward(x)
    h = torch.from_numpy(x[None])
    for rec in trace.records[1:]:
        h = modules[rec.name].float()(h)
        np.testing.assert_allclose(rec.values, h[0].detach().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=f"float32 stage {rec.name} differs from PyTorch")


def test_connection_table_conv_matches_pytorch_with_masked_weights():
    from engine.layers import Conv2D
    rng = np.random.default_rng(4)
    layer = Conv2D("c3", 6, 16, 5, connections=LECUN_C3_CONNECTIONS, dtype=np.float64)
    layer.params["weight"][...] = rng.standard_normal((16, 6, 5, 5))
    layer.apply_mask()
    x = rng.standard_normal((2, 6, 14, 14))
    out = layer.forward(x)
    ref = nn.functional.conv2d(torch.from_numpy(x),
                               torch.from_numpy(layer.params["weight"].copy()),
                               torch.from_numpy(layer.params["bias"].copy()))
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-10, atol=1e-12)
