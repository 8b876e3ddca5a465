"""engine.gradient.learn against independent references: central finite differences on a
float64 copy, PyTorch autograd on the same weights, and the loss going down when it should."""
from pathlib import Path

import numpy as np
import pytest

from engine.errors import BadInput
from engine.gradcheck import rel_error
from engine.gradient import MAX_STEPS, float64_copy, learn
from engine.network import build_reference
from engine.preprocess import to_network_input

SAMPLES = Path(__file__).resolve().parents[2] / "models" / "samples.npz"


@pytest.fixture(scope="module")
def net():
    """A seeded net with small random biases: with init's zero biases, blank input regions sit
    exactly on ReLU's kink, where finite differences see half a slope and no gradient exists."""
    network = build_reference(seed=3)
    rng = np.random.default_rng(1)
    for params in network.parameters().values():
        params["bias"][...] = rng.uniform(-0.05, 0.05, params["bias"].shape)
    return network


@pytest.fixture(scope="module")
def digit():
    """A real test digit (shipped samples) when present, else a stroke-like bar, plus faint
    seeded noise: in a blank region every conv1 output equals its bias, each max-pool window
    is a four-way tie, and there the loss has a kink (one-sided slopes differ) that finite
    differences cannot check."""
    if SAMPLES.is_file():
        with np.load(SAMPLES) as s:
            img = to_network_input(s["images"][7, 0], preprocess=False)
    else:
        img = np.zeros((1, 32, 32), np.float32)
        img[0, 8:24, 14:18] = 1.0
    noise = np.random.default_rng(2).uniform(0, 0.02, img.shape)
    return (img + noise).astype(np.float32)


def cross_entropy(net64, image, target) -> float:
    logits = net64.logits(image)[0]
    z = logits - logits.max()
    return float(np.log(np.exp(z).sum()) - z[target])


def test_parameter_gradients_match_central_differences(net, digit):
    result = learn(net, digit, target=2, learning_rate=0.01)
    net64 = float64_copy(net)
    rng = np.random.default_rng(0)
    image = digit.astype(np.float64)
    for name, params in net64.parameters().items():
        for key, array in params.items():
            flat = array.reshape(-1)
            analytic = result.parameter_gradients[name][key].reshape(-1)
            # The largest-gradient entries plus random ones: never a sample of only zeros.
            picks = set(np.argsort(-np.abs(analytic))[:3]) | set(rng.integers(0, flat.size, 3))
            for i in picks:
                old = flat[i]
                flat[i] = old + 1e-6
                up = cross_entropy(net64, image, 2)
                flat[i] = old - 1e-6
                down = cross_entropy(net64, image, 2)
                flat[i] = old
                numeric = (up - down) / 2e-6
                assert abs(numeric - analytic[i]) <= 1e-6 + 1e-5 * abs(numeric), \
                    f"{name}.{key}[{i}]: analytic {analytic[i]} vs numeric {numeric}"


def test_input_gradient_matches_central_differences(net, digit):
    result = learn(net, digit, target=5, learning_rate=0.01)
    grad_input = dict((n, g) for n, _, g in result.stage_gradients)["input"]
    net64 = float64_copy(net)
    image = digit.astype(np.float64).copy()
    for idx in [(0, 16, 16), (0, 12, 15), (0, 20, 10), tuple(np.unravel_index(
            np.abs(grad_input).argmax(), grad_input.shape))]:
        old = image[idx]
        image[idx] = old + 1e-6
        up = cross_entropy(net64, image, 5)
        image[idx] = old - 1e-6
        down = cross_entropy(net64, image, 5)
        image[idx] = old
        numeric = (up - down) / 2e-6
        assert abs(numeric - grad_input[idx]) <= 1e-6 + 1e-5 * abs(numeric), idx


def test_matches_pytorch_autograd_stages_parameters_and_steps(net, digit):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    params = {name: {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                     for k, v in p.items()} for name, p in net.parameters().items()}
    x = torch.tensor(digit[None], dtype=torch.float64, requires_grad=True)

    def run(params, x, keep):
        stages = {"input": x}
        h = stages["conv1"] = F.conv2d(x, params["conv1"]["weight"], params["conv1"]["bias"])
        h = stages["relu1"] = F.relu(h)
        h = stages["pool1"] = F.max_pool2d(h, 2)
        h = stages["conv2"] = F.conv2d(h, params["conv2"]["weight"], params["conv2"]["bias"])
        h = stages["relu2"] = F.relu(h)
        h = stages["pool2"] = F.max_pool2d(h, 2)
        h = stages["flatten"] = torch.flatten(h, 1)
        for i, name in enumerate(("fc1", "fc2", "fc3")):
            h = stages[name] = F.linear(h, params[name]["weight"], params[name]["bias"])
            if name != "fc3":
                h = stages[f"relu{i + 3}"] = F.relu(h)
        stages["softmax"] = torch.softmax(h, 1)
        if keep:
            for t in stages.values():
                t.retain_grad()
        return stages

    target = 4
    stages = run(params, x, keep=True)
    loss = -torch.log(stages["softmax"][0, target])    # through softmax: its grad is −t/p
    loss.backward()
    result = learn(net, digit, target=target, learning_rate=0.05, steps=3)
    assert result.before.cross_entropy == pytest.approx(loss.item(), rel=1e-10)
    for name, shape, grad in result.stage_gradients:
        expected = stages[name].grad[0].numpy()
        assert grad.shape == expected.shape == shape, name
        assert rel_error(grad, expected, floor=1e-12) < 1e-5, name
    for name, p in params.items():
        for key, t in p.items():
            assert rel_error(result.parameter_gradients[name][key], t.grad.numpy(),
                             floor=1e-12) < 1e-5, f"{name}.{key}"

    # Three plain SGD steps on the cross-entropy of the logits, in PyTorch.
    with torch.no_grad():
        for p in params.values():
            for t in p.values():
                t.grad = None
    for _ in range(3):
        logits = run(params, x.detach(), keep=False)["fc3"]
        F.cross_entropy(logits, torch.tensor([target])).backward()
        with torch.no_grad():
            for p in params.values():
                for t in p.values():
                    t -= 0.05 * t.grad
                    t.grad = None
    with torch.no_grad():
        probs = torch.softmax(run(params, x.detach(), keep=False)["fc3"], 1)[0].numpy()
    np.testing.assert_allclose(result.after.probabilities, probs, rtol=1e-8, atol=1e-12)
    for name in ("conv1", "conv2"):
        np.testing.assert_allclose(result.kernels[name]["after"],
                                   params[name]["weight"].detach().numpy(), rtol=1e-8, atol=1e-12)


def test_figures_are_the_articles_total_error_and_cross_entropy(net, digit):
    result = learn(net, digit, target=1, learning_rate=0.01)
    p = result.before.probabilities
    naive = sum(0.5 * ((1.0 if k == 1 else 0.0) - p[k]) ** 2 for k in range(len(p)))
    assert result.before.total_error == pytest.approx(naive, rel=1e-12)
    assert result.before.cross_entropy == pytest.approx(-np.log(p[1]), rel=1e-12)
    assert result.before.prediction == int(np.argmax(p))
    grads = dict((n, g) for n, _, g in result.stage_gradients)
    t = np.eye(len(p))[1]
    np.testing.assert_allclose(grads["fc3"], p - t, atol=1e-15)        # logits: p − t
    np.testing.assert_allclose(grads["softmax"], -t / p[1], rtol=1e-12)  # −t/p


def test_a_positive_step_lowers_the_loss_and_raises_the_target(net, digit):
    for target in (0, 7, 9):
        result = learn(net, digit, target=target, learning_rate=0.005, steps=5)
        ce = [h["cross_entropy"] for h in result.history]
        prob = [h["probability"] for h in result.history]
        assert [h["step"] for h in result.history] == list(range(6))
        assert ce[0] == result.before.cross_entropy and ce[-1] == result.after.cross_entropy
        assert all(b < a for a, b in zip(ce, ce[1:])), f"target {target}: loss {ce}"
        assert all(b > a for a, b in zip(prob, prob[1:])), f"target {target}: p {prob}"
        assert result.after.total_error < result.before.total_error
        moved = np.abs(result.kernels["conv1"]["after"] - result.kernels["conv1"]["before"])
        assert moved.max() > 0, "conv1's kernels did not change"


def test_same_call_gives_identical_numbers_and_leaves_the_network_alone(net, digit):
    weights = {n: {k: v.copy() for k, v in p.items()} for n, p in net.parameters().items()}
    a = learn(net, digit, target=3, learning_rate=0.1, steps=4)
    b = learn(net, digit, target=3, learning_rate=0.1, steps=4)
    assert a.history == b.history
    for (_, _, ga), (_, _, gb) in zip(a.stage_gradients, b.stage_gradients):
        assert np.array_equal(ga, gb)
    assert np.array_equal(a.after.probabilities, b.after.probabilities)
    assert np.array_equal(a.kernels["conv2"]["after"], b.kernels["conv2"]["after"])
    for n, p in net.parameters().items():
        for k, v in p.items():
            assert np.array_equal(v, weights[n][k]), f"{n}.{k} changed"


@pytest.mark.parametrize("kwargs, words", [
    ({"target": 10}, "0..9"), ({"target": -1}, "0..9"), ({"target": True}, "0..9"),
    ({"target": 2.0}, "0..9"),
    ({"learning_rate": 0}, "0 < learning_rate"), ({"learning_rate": 1.5}, "≤ 1"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"steps": 0}, f"1..{MAX_STEPS}"), ({"steps": MAX_STEPS + 1}, f"1..{MAX_STEPS}"),
])
def test_bad_arguments_are_refused_with_what_is_accepted(net, digit, kwargs, words):
    args = {"target": 1, "learning_rate": 0.1, "steps": 1, **kwargs}
    with pytest.raises(BadInput, match=words.replace(".", r"\.")):
        learn(net, digit, **args)


def test_dense_weight_gradient_is_the_outer_product_of_its_factors(net, digit):
    result = learn(net, digit, target=6, learning_rate=0.01)
    for name in ("fc1", "fc2", "fc3"):
        rows, cols = result.dense_factors(name)
        np.testing.assert_allclose(np.outer(rows, cols),
                                   result.parameter_gradients[name]["weight"], rtol=1e-12,
                                   atol=1e-15, err_msg=name)


def test_harley_net_tanh_and_connection_table_learn_too(digit):
    """The scaled-tanh, C3-table net: its absent conv2 connections get no gradient and stay
    exactly zero after steps, and the loss still falls."""
    from engine.network import Network
    from engine.zoo import get_spec
    net = Network(get_spec("harley"), seed=2)
    mask = net.layer("conv2").mask
    assert mask is not None and (mask == 0).any()
    result = learn(net, digit, target=4, learning_rate=0.01, steps=3)
    absent = np.broadcast_to(mask == 0, result.kernels["conv2"]["after"].shape)
    assert np.all(result.kernels["conv2"]["after"][absent] == 0)
    assert np.all(result.parameter_gradients["conv2"]["weight"][absent] == 0)
    ce = [h["cross_entropy"] for h in result.history]
    assert all(b < a for a, b in zip(ce, ce[1:])), ce
