"""One example, one target: the loss, its gradient everywhere, and a few SGD steps on a copy.

This is the Learn view's engine. Given the served network, one input image and the class the
student says it is, `learn` returns:

  - `before` / `after`: probabilities, prediction, the article's total error Σ½(t − p)² and
    the cross-entropy −log p[target], for the starting network and after `steps` SGD steps;
  - `history`: the same three figures at step 0 (the start) and after every step;
  - `stage_gradients`: d(cross-entropy)/d(every stage's values) for the *starting* network,
    one array per stage in the forward trace's order and shapes (input first, softmax last);
  - `parameter_gradients`: d(cross-entropy)/d(weight, bias) of every conv and dense layer, for
    the starting network (the gradient the first step follows);
  - `kernels`: every conv layer's weights before and after the steps.

The loss that is differentiated and descended is the cross-entropy (what training minimises);
the total error is reported beside it because the article shows that one.

Nothing here touches the network it is given: the work runs on a float64 copy, so the served
model never changes, no state survives a call, and the same call gives bit-identical numbers.
float64 also makes the gradients comparable with finite differences and PyTorch at 1e-10
rather than float32's 1e-4, at a cost of well under a millisecond for one 32×32 image.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import losses
from engine.errors import BadInput
from engine.network import Network
from engine.trace import Trace

MAX_STEPS = 20             # bounded work per call: 20 forward + backward passes of one image
MAX_LEARNING_RATE = 1.0    # beyond this one step overshoots wildly on a single example

P_FLOOR = 1e-30            # d(−log p)/dp = −1/p: keep it finite (and float32-representable)


def limits() -> dict:
    """The bounds above as /api/model serves them (`limits.learn`), read by the Learn tab."""
    return {"max_steps": MAX_STEPS, "max_learning_rate": MAX_LEARNING_RATE}


@dataclass
class Figures:
    """How well the network fits the target at one moment."""
    probabilities: np.ndarray      # (K,)
    prediction: int
    total_error: float             # Σ_k ½ (t_k − p_k)², t the one-hot target
    cross_entropy: float           # −log p[target]

    def as_dict(self) -> dict:
        return {"probabilities": self.probabilities, "prediction": self.prediction,
                "total_error": self.total_error, "cross_entropy": self.cross_entropy}


@dataclass
class LearnResult:
    target: int
    learning_rate: float
    steps: int
    before: Figures
    after: Figures
    history: list[dict]                       # steps + 1 entries: step, figures, p_target
    stage_gradients: list[tuple[str, tuple, np.ndarray]]   # (name, shape, d loss / d values)
    parameter_gradients: dict[str, dict[str, np.ndarray]]  # layer -> {"weight", "bias"}
    kernels: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # before/after
    trace: Trace | None = None     # the starting network's forward record (float64)

    def dense_factors(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(d loss/d output, input) of dense layer `name`: for one example its weight gradient
        is exactly their outer product, 1/(units·inputs) of the numbers to send."""
        names = [rec.name for rec in self.trace.records]
        i = names.index(name)
        return self.stage_gradients[i][2], self.trace.records[i - 1].values


def float64_copy(network: Network) -> Network:
    """An independent float64 twin of `network` (same spec and weights)."""
    twin = Network(network.spec, seed=network.seed, dtype=np.float64)
    twin.set_parameters(network.parameters())
    return twin


def figures(probabilities: np.ndarray, target: int) -> Figures:
    p = np.asarray(probabilities, np.float64)
    t = np.zeros_like(p)
    t[target] = 1
    return Figures(probabilities=p, prediction=int(p.argmax()),
                   total_error=float(0.5 * np.sum((t - p) ** 2)),
                   # + 0.0 turns −log(1) = −0.0 into 0.0 for the page
                   cross_entropy=float(-np.log(max(p[target], np.finfo(np.float64).tiny))) + 0.0)


def check_request(network: Network, target, learning_rate, steps) -> None:
    """Refuse what `learn` cannot do, naming what is accepted (BadInput -> 422 in the app)."""
    classes = network.stages[-1]["shape"][0]
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) \
            or not 0 <= target < classes:
        raise BadInput(f"target must be a class index 0..{classes - 1}, got {target!r}")
    if not (isinstance(learning_rate, (int, float)) and np.isfinite(learning_rate)
            and 0 < learning_rate <= MAX_LEARNING_RATE):
        raise BadInput(f"learning_rate must be a number with 0 < learning_rate ≤ "
                       f"{MAX_LEARNING_RATE}, got {learning_rate!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) \
            or not 1 <= steps <= MAX_STEPS:
        raise BadInput(f"steps must be an integer 1..{MAX_STEPS}, got {steps!r}")


def _backward_all_stages(net: Network, probabilities: np.ndarray, target: int) -> list:
    """d(cross-entropy)/d(each stage) after `net.forward`, input first; fills layer grads.

    The softmax stage's own gradient is −t/p (only the target's entry is non-zero); the
    logits' is p − t, computed directly rather than through the softmax Jacobian so it stays
    exact when p[target] is tiny.
    """
    p = probabilities[None]
    dlogits = p.copy()
    dlogits[0, target] -= 1
    dsoftmax = np.zeros_like(p)
    dsoftmax[0, target] = -1.0 / max(p[0, target], P_FLOOR)
    layers = net.layers
    has_softmax = layers[-1].kind == "softmax"
    grads = [dsoftmax] if has_softmax else []
    d = dlogits if has_softmax else dsoftmax     # a net without softmax: the last stage is p
    body = layers[:-1] if has_softmax else layers
    for layer in reversed(body):
        grads.append(d)
        d = layer.backward(d, input_grad=True)
    grads.append(d)
    grads.reverse()
    return [g[0] for g in grads]


def _sgd(net: Network, learning_rate: float) -> None:
    for layer in net.layers:
        for key, value in layer.params.items():
            value -= learning_rate * layer.grads[key]
        if hasattr(layer, "apply_mask"):
            layer.apply_mask()


def _step_gradient(net: Network, batch: np.ndarray, target: int) -> Figures:
    """Forward without a record, cross-entropy gradient into every layer's .grads."""
    logits = net.logits(batch)
    _, dlogits = losses.cross_entropy(logits, np.array([target]))
    net.backward(dlogits)
    return figures(losses.softmax(logits)[0], target)


def learn(network: Network, image, target: int, learning_rate: float,
          steps: int = 1) -> LearnResult:
    """Loss, gradients and `steps` SGD steps of the cross-entropy for one image (C, H, W).

    Deterministic: the same network, image and arguments give bit-identical results.
    """
    check_request(network, target, learning_rate, steps)
    target, steps, learning_rate = int(target), int(steps), float(learning_rate)
    net = float64_copy(network)
    conv_names = [layer.name for layer in net.layers if layer.kind == "conv"]
    kernels = {name: {"before": net.layer(name).params["weight"].copy()} for name in conv_names}

    trace = net.forward(image)
    batch = trace.records[0].values[None]
    before = figures(trace.probabilities, target)
    stage_grads = _backward_all_stages(net, trace.probabilities, target)
    stage_gradients = [(rec.name, tuple(rec.shape), g) for rec, g in zip(trace.records,
                                                                        stage_grads)]
    parameter_gradients = {layer.name: {k: v.copy() for k, v in layer.grads.items()}
                           for layer in net.layers if layer.params}

    history = [_history_entry(0, before, target)]
    now = before
    for step in range(1, steps + 1):
        _sgd(net, learning_rate)
        if step < steps:
            now = _step_gradient(net, batch, target)     # figures now + the next gradient
        else:
            now = figures(losses.softmax(net.logits(batch))[0], target)
        history.append(_history_entry(step, now, target))
    for name in conv_names:
        kernels[name]["after"] = net.layer(name).params["weight"].copy()
    return LearnResult(target, learning_rate, steps, before, now, history, stage_gradients,
                       parameter_gradients, kernels, trace)


def _history_entry(step: int, fig: Figures, target: int) -> dict:
    return {"step": step, "total_error": fig.total_error, "cross_entropy": fig.cross_entropy,
            "probability": float(fig.probabilities[target])}


TOP_TERMS = 6     # the largest terms of a weight's gradient shown one by one (the rest summed)


def weight_terms(result: LearnResult, network: Network, layer: str, index=None) -> dict:
    """One conv weight's gradient written out as the sum it is:

        d loss / d W[f, c, i, j] = Σ over output positions (y, x) of
            input window value x_pad[c, y·s + i, x·s + j]  ×  upstream d loss / d out[f, y, x]

    read from the record of `result` (its forward trace and stage gradients, never a second
    backward pass), with the weight's value before, the learning rate and the value after ONE
    step (value − learning rate × gradient), so a student can check w ← w − η·∂L/∂w by hand.
    `index` (f, c, i, j) or None for the weight with the largest |gradient|. BadInput names
    what is accepted.
    """
    names = [rec.name for rec in result.trace.records]
    conv = [lay.name for lay in network.layers if lay.kind == "conv"]
    if layer not in conv:
        raise BadInput(f"weight.layer must be a conv layer ({', '.join(conv)}), got {layer!r}")
    spec = network.layer(layer)
    grad = result.parameter_gradients[layer]["weight"]
    if index is None:
        index = tuple(int(v) for v in np.unravel_index(np.argmax(np.abs(grad)), grad.shape))
    index = tuple(index)
    if len(index) != 4 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  and 0 <= v < n for v, n in zip(index, grad.shape)):
        raise BadInput(f"weight.index must be [f, c, i, j] within {list(grad.shape)}, got "
                       f"{list(index)!r}")
    f, c, i, j = index
    at = names.index(layer)
    x = result.trace.records[at - 1].values          # the conv's input, (C, H, W)
    upstream = result.stage_gradients[at][2][f]      # d loss / d conv output, (H', W')
    s, p = spec.stride, spec.padding
    xp = np.pad(x[c], p) if p else x[c]
    oh, ow = upstream.shape
    window = xp[i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s]   # the value under W[f,c,i,j] at each position
    products = window * upstream
    order = np.argsort(-np.abs(products), axis=None, kind="stable")[:TOP_TERMS]
    top = [{"position": [int(y), int(xx)], "input": float(window[y, xx]),
            "upstream": float(upstream[y, xx]), "product": float(products[y, xx])}
           for y, xx in (np.unravel_index(k, products.shape) for k in order)]
    before = float(result.kernels[layer]["before"][index])
    g = float(grad[index])
    if spec.mask is not None and not spec.mask[f, c, 0, 0]:
        raise BadInput(f"{layer} filter {f} does not read map {c} (its connection table): that "
                       f"weight is held at zero and never learns; pick a connected one")
    return {
        "layer": layer, "index": [int(v) for v in index],
        "before": before, "gradient": g, "learning_rate": result.learning_rate,
        # one step exactly (the `after` kernels hold `steps` steps): what the arithmetic says
        "after_one_step": before - result.learning_rate * g,
        "source": result.trace.records[at - 1].name, "stride": s, "padding": p,
        "positions": [int(oh), int(ow)],
        "window": window.ravel(), "upstream": upstream.ravel(), "products": products.ravel(),
        "sum": float(products.sum()),
        "top": top,
        "rest": float(products.sum() - sum(t["product"] for t in top)),
        "rest_count": int(products.size - len(top)),
    }
