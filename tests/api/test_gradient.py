"""POST /api/gradient: gradients equal finite differences and PyTorch on the served weights, a
step lowers the loss, the same body gives the same bytes, bad input gets a 4xx."""
from __future__ import annotations

import numpy as np
import pytest

from engine.gradient import float64_copy
from engine.preprocess import preprocess


def f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.float32)


@pytest.fixture(scope="module")
def body(digit):
    return {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}


def post(client, body, **fields):
    return client.post("/api/gradient", json={**body, **fields})


def cross_entropy(net64, image, target):
    z = net64.logits(image)[0]
    z = z - z.max()
    return float(np.log(np.exp(z).sum()) - z[target])


def test_parameter_gradients_equal_central_differences_of_the_served_model(client, network,
                                                                           body, digit):
    r = post(client, body, target=3, learning_rate=0.01)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["loss"] == "cross_entropy" and out["target"] == 3 and out["steps"] == 1
    image = preprocess(digit).input.astype(np.float64)
    net64 = float64_copy(network)
    for name, params in net64.parameters().items():
        got = out["parameter_gradients"][name]
        w = params["weight"].reshape(-1)
        grad = f32(got["weight"])
        assert got["weight_shape"] == list(params["weight"].shape)
        for i in set(np.argsort(-np.abs(grad))[:2]) | {0, w.size // 2}:
            old = w[i]
            w[i] = old + 1e-6
            up = cross_entropy(net64, image, 3)
            w[i] = old - 1e-6
            down = cross_entropy(net64, image, 3)
            w[i] = old
            numeric = (up - down) / 2e-6
            # float32 on the wire: ~1e-7 relative, plus float64 FD noise ~1e-9
            assert abs(grad[i] - numeric) <= 1e-7 + 1e-5 * abs(numeric), f"{name}[{i}]"


def test_stage_and_parameter_gradients_equal_pytorch_autograd(client, network, body, digit):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    out = post(client, body, target=8, learning_rate=0.01).json()
    t = {n: {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
         for n, p in network.parameters().items()}
    x = torch.tensor(preprocess(digit).input[None], dtype=torch.float64, requires_grad=True)
    h1 = F.max_pool2d(F.relu(F.conv2d(x, t["conv1"]["weight"], t["conv1"]["bias"])), 2)
    h1.retain_grad()
    h2 = F.max_pool2d(F.relu(F.conv2d(h1, t["conv2"]["weight"], t["conv2"]["bias"])), 2)
    h = F.relu(F.linear(torch.flatten(h2, 1), t["fc1"]["weight"], t["fc1"]["bias"]))
    h = F.relu(F.linear(h, t["fc2"]["weight"], t["fc2"]["bias"]))
    logits = F.linear(h, t["fc3"]["weight"], t["fc3"]["bias"])
    loss = F.cross_entropy(logits, torch.tensor([8]))
    loss.backward()
    assert out["before"]["cross_entropy"] == pytest.approx(loss.item(), rel=1e-9)
    stages = {s["name"]: s for s in out["stage_gradients"]}
    for name, ref in (("input", x.grad[0]), ("pool1", h1.grad[0])):
        assert stages[name]["shape"] == list(ref.shape)
        np.testing.assert_allclose(f32(stages[name]["values"]), ref.numpy().ravel(),
                                   rtol=1e-5, atol=1e-9, err_msg=name)
    for name, p in t.items():
        for key, tensor in p.items():
            np.testing.assert_allclose(f32(out["parameter_gradients"][name][key]),
                                       tensor.grad.numpy().ravel(), rtol=1e-5, atol=1e-9,
                                       err_msg=f"{name}.{key}")


def test_steps_lower_the_loss_and_raise_the_target_and_report_every_step(client, body):
    out = post(client, body, target=2, learning_rate=0.01, steps=4).json()
    hist = out["history"]
    assert [h["step"] for h in hist] == [0, 1, 2, 3, 4]
    ce = [h["cross_entropy"] for h in hist]
    p = [h["probability"] for h in hist]
    assert all(b < a for a, b in zip(ce, ce[1:])), ce
    assert all(b > a for a, b in zip(p, p[1:])), p
    assert out["after"]["total_error"] < out["before"]["total_error"]
    assert hist[0]["cross_entropy"] == out["before"]["cross_entropy"]
    assert f32(out["before"]["probabilities"])[2] == pytest.approx(p[0], rel=1e-6)
    assert out["target_vector"] == [1.0 if k == 2 else 0.0 for k in range(10)]
    before, after = (f32(out["kernels"]["conv1"][k]) for k in ("before", "after"))
    assert out["kernels"]["conv1"]["shape"] == [6, 1, 5, 5] and before.size == 150
    assert np.abs(after - before).max() > 0
    assert set(out["kernels"]) == {"conv1", "conv2"}


def test_same_body_same_bytes_and_the_served_model_is_untouched(client, body):
    weights = client.get("/api/model/weights").content
    a = post(client, body, target=5, learning_rate=0.5, steps=6)
    b = post(client, body, target=5, learning_rate=0.5, steps=6)
    assert a.status_code == 200 and a.content == b.content
    assert client.get("/api/model/weights").content == weights


def test_outer_option_sends_the_two_factors_of_each_dense_gradient(client, body):
    full = post(client, body, target=1, learning_rate=0.01).json()
    outer = post(client, body, target=1, learning_rate=0.01, dense_weights="outer").json()
    for name in ("fc1", "fc2", "fc3"):
        entry = outer["parameter_gradients"][name]
        assert "weight" not in entry or entry["weight"] is None
        rows, cols = f32(entry["outer"]["rows"]), f32(entry["outer"]["cols"])
        assert [len(rows), len(cols)] == entry["weight_shape"]
        np.testing.assert_allclose(np.outer(rows, cols).ravel(),
                                   f32(full["parameter_gradients"][name]["weight"]),
                                   rtol=1e-5, atol=1e-9, err_msg=name)
    assert outer["parameter_gradients"]["conv2"]["weight"] == \
        full["parameter_gradients"]["conv2"]["weight"]


@pytest.mark.parametrize("fields, status, words", [
    ({"target": 10, "learning_rate": 0.1}, 422, "0..9"),
    ({"target": -1, "learning_rate": 0.1}, 422, "target"),
    ({"target": "3", "learning_rate": 0.1}, 422, "target"),
    ({"learning_rate": 0.1}, 422, "target"),
    ({"target": 1, "learning_rate": 0}, 422, "learning_rate"),
    ({"target": 1, "learning_rate": 1.5}, 422, "learning_rate"),
    ({"target": 1, "learning_rate": 0.1, "steps": 0}, 422, "steps"),
    ({"target": 1, "learning_rate": 0.1, "steps": 21}, 422, "steps"),
    ({"target": 1, "learning_rate": 0.1, "steps": 2.5}, 422, "steps"),
    ({"target": 1, "learning_rate": 0.1, "dense_weights": "half"}, 422, "dense_weights"),
    ({"target": 1, "learning_rate": 0.1, "momentum": 0.9}, 422, "unknown field"),
])
def test_bad_requests_get_a_4xx_naming_the_field(client, body, fields, status, words):
    r = post(client, body, **fields)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"], r.json()["detail"]


def test_non_finite_rate_and_bad_image_are_4xx(client, body):
    r = client.post("/api/gradient", content=b'{"pixels": [0], "width": 8, "height": 8, '
                                              b'"target": 1, "learning_rate": NaN}',
                    headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and "learning_rate" in r.json()["detail"], r.text
    r = post(client, {"image": "data:image/png;base64,AAAA"}, target=1, learning_rate=0.1)
    assert r.status_code == 422 and "image" in r.json()["detail"]


def test_openapi_types_the_learn_endpoints(client):
    spec = client.get("/openapi.json").json()
    post_ = spec["paths"]["/api/gradient"]["post"]
    ref = post_["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    props = spec["components"]["schemas"][ref.split("/")[-1]]["properties"]
    assert {"target", "learning_rate", "steps", "pixels", "image"} <= set(props)
    assert props["steps"]["maximum"] == 20 and props["learning_rate"]["maximum"] == 1
    assert "422" in post_["responses"]
    assert "/api/history" in spec["paths"] and "/api/history/forward" in spec["paths"]
