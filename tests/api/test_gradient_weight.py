"""POST /api/gradient with `weight`: one conv weight's gradient written out as Σ over positions
of input window value × upstream gradient (lesson 6), checked against naive loops over the
served model and central finite differences, and the one-step arithmetic w − η·g."""
from __future__ import annotations

import numpy as np
import pytest

from engine.gradient import float64_copy
from engine.preprocess import preprocess


@pytest.fixture(scope="module")
def body(digit):
    return {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}


def cross_entropy(net64, image, target):
    z = net64.logits(image[None])[0]
    z = z - z.max()
    return float(np.log(np.exp(z).sum()) - z[target])


def test_weight_terms_add_up_to_the_finite_difference_gradient(client, network, body, digit):
    target = 3
    r = client.post("/api/gradient", json={**body, "target": target, "learning_rate": 0.05,
                                           "weight": {"layer": "conv1", "index": [2, 0, 1, 3]}})
    assert r.status_code == 200, r.text
    w = r.json()["weight_terms"]
    f, c, i, j = w["index"]
    assert [f, c, i, j] == [2, 0, 1, 3]
    image = preprocess(digit.astype(np.float64) / 255).input
    # Naive reference: the input value under W[f,c,i,j] at every output position.
    oh, ow = w["positions"]
    window = np.array([[image[c, y + i, x + j] for x in range(ow)] for y in range(oh)])
    np.testing.assert_allclose(np.reshape(w["window"], (oh, ow)), window, atol=1e-6)
    # upstream × window summed is the weight's gradient, which is the finite difference.
    products = np.reshape(w["window"], (oh, ow)) * np.reshape(w["upstream"], (oh, ow))
    np.testing.assert_allclose(np.reshape(w["products"], (oh, ow)), products, rtol=1e-5, atol=1e-9)
    assert w["sum"] == pytest.approx(w["gradient"], rel=1e-9, abs=1e-15)
    net = float64_copy(network)
    weight = net.layer("conv1").params["weight"]
    h = 1e-5
    weight[f, c, i, j] += h
    up = cross_entropy(net, image, target)
    weight[f, c, i, j] -= 2 * h
    down = cross_entropy(net, image, target)
    assert w["gradient"] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)
    assert w["before"] == pytest.approx(float(network.layer("conv1").params["weight"][f, c, i, j]))
    assert w["after_one_step"] == pytest.approx(w["before"] - 0.05 * w["gradient"], abs=1e-15)
    # One step is exactly what the `after` kernel holds.
    after = np.reshape(r.json()["kernels"]["conv1"]["after"], r.json()["kernels"]["conv1"]["shape"])
    assert after[f, c, i, j] == pytest.approx(w["after_one_step"], abs=1e-6)
    # The top terms are the largest |products|, and with the rest they make the sum.
    tops = [t["product"] for t in w["top"]]
    assert tops == sorted(tops, key=abs, reverse=True)
    assert abs(tops[-1]) >= np.sort(np.abs(products).ravel())[-len(tops)] - 1e-12
    assert sum(tops) + w["rest"] == pytest.approx(w["sum"], abs=1e-12)
    assert w["rest_count"] == oh * ow - len(tops)


def test_weight_omitted_index_is_the_largest_gradient(client, body):
    r = client.post("/api/gradient", json={**body, "target": 1, "learning_rate": 0.01,
                                           "weight": {"layer": "conv1"}}).json()
    g = np.reshape(r["parameter_gradients"]["conv1"]["weight"], r["parameter_gradients"]["conv1"]["weight_shape"])
    assert list(np.unravel_index(np.argmax(np.abs(g)), g.shape)) == r["weight_terms"]["index"]
    plain = client.post("/api/gradient", json={**body, "target": 1, "learning_rate": 0.01}).json()
    assert plain.get("weight_terms") is None


def test_an_unconnected_c3_weight_is_refused(client, body):
    """Harley's conv2 follows LeCun's table: filter 0 reads maps 0, 1, 2 only."""
    r = client.post("/api/gradient?model=lenet-harley", json={
        **body, "target": 1, "learning_rate": 0.01, "weight": {"layer": "conv2", "index": [0, 5, 0, 0]}})
    if r.status_code == 404:
        pytest.skip("lenet-harley is not served")
    assert r.status_code == 422 and "does not read map 5" in r.text, r.text
    ok = client.post("/api/gradient?model=lenet-harley", json={
        **body, "target": 1, "learning_rate": 0.01, "weight": {"layer": "conv2", "index": [0, 1, 0, 0]}})
    assert ok.status_code == 200 and ok.json()["weight_terms"]["sum"] == pytest.approx(
        ok.json()["weight_terms"]["gradient"], rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("weight, words", [
    ({"layer": "fc1"}, "conv layer"),
    ({"layer": "nope"}, "conv layer"),
    ({"layer": "conv1", "index": [99, 0, 0, 0]}, "within"),
    ({"layer": "conv1", "index": [0, 0, 0]}, "index"),
    ({"layer": "conv1", "extra": 1}, "extra"),
])
def test_bad_weight_pick_is_a_worded_422(client, body, weight, words):
    r = client.post("/api/gradient", json={**body, "target": 1, "learning_rate": 0.01, "weight": weight})
    assert r.status_code == 422, r.text
    assert words in r.text
