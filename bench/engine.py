"""Engine speed, printed beside PyTorch's (when importable) with the ratio, in one run.

    python bench/engine.py [--quick]

Figures (issue 3 targets): one-image forward with the full record ≤ 0.1 ms median; batch-256
forward ≤ 1.5× PyTorch; a training epoch on 10k digits at batch 64 (forward + backward +
SGD-momentum update, no augmentation) ≤ 1.3× PyTorch. PyTorch runs with 2 threads, eager.
The machine has 2 cores shared with other work: medians are quoted, and still noisy.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from engine.network import build_reference  # noqa: E402
from engine.ops import conv2d, conv2d_naive  # noqa: E402

try:
    import torch
    torch.set_num_threads(2)
except ImportError:  # the comparison column is left empty
    torch = None


def median_time(fn, repeat: int, inner: int = 1) -> float:
    """Median over `repeat` runs of the mean over `inner` calls, in seconds."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def torch_net(net):
    nn = torch.nn
    p = net.parameters()
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 100), nn.ReLU(), nn.Linear(100, 10))
    with torch.no_grad():
        for module, name in zip([model[0], model[3], model[7], model[9], model[11]],
                                ["conv1", "conv2", "fc1", "fc2", "fc3"]):
            module.weight.copy_(torch.from_numpy(p[name]["weight"]))
            module.bias.copy_(torch.from_numpy(p[name]["bias"]))
    return model


def row(label, ours, theirs=None, unit="ms", scale=1e3, target=""):
    text = f"{label:<44} {ours * scale:9.3f} {unit}"
    if theirs is not None:
        text += f"   torch {theirs * scale:9.3f} {unit}   ratio {ours / theirs:5.2f}×"
    print(text + (f"   ({target})" if target else ""))


def digits(n, seed=0):
    """Stand-in digits (blurred random strokes) when MNIST is not at hand; speed is the same."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, 32, 32), np.float32)
    x[:, :, 6:26, 6:26] = rng.random((n, 1, 20, 20)) > 0.8
    return x, rng.integers(0, 10, n)


def sgd_epoch(net, x, y, batch=64, lr=0.05, momentum=0.9):
    """One epoch of plain SGD with momentum on softmax cross-entropy (the bench's own copy of
    the loop, so it measures the engine and nothing else)."""
    velocity = {(n, k): np.zeros_like(v) for n, p in net.parameters().items()
                for k, v in p.items()}
    layers = [(net.layer(n), k, velocity[(n, k)]) for n, k in velocity]
    for i in range(0, len(x), batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        z = net.logits(xb)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(yb)), yb] -= 1
        p /= len(yb)
        net.backward(p)
        for layer, key, v in layers:
            v *= momentum
            v -= lr * layer.grads[key]
            layer.params[key] += v


def torch_epoch(model, x, y, batch=64, lr=0.05, momentum=0.9):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    for i in range(0, len(x), batch):
        opt.zero_grad()
        loss_fn(model(x[i:i + batch]), y[i:i + batch]).backward()
        opt.step()


def main(argv=None) -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    opts = args.parse_args(argv)
    reps = 5 if opts.quick else 30
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared machine: noisy)")
    net = build_reference(seed=0)
    model = torch_net(net) if torch else None
    one, _ = digits(1)

    # 1. One image, full record (every stage's values kept).
    ours = median_time(lambda: net.forward(one[0]), reps, 200)
    theirs = None
    if torch:
        t1 = torch.from_numpy(one)
        with torch.no_grad():
            theirs = median_time(lambda: model(t1), reps, 200)
    row("one-image forward, full record", ours, theirs, "ms", target="target ≤ 0.100 ms")

    # 2. Batch of 256.
    xb, _ = digits(256, seed=1)
    ours_logits = median_time(lambda: net.logits(xb), reps, 5)
    ours_trace = median_time(lambda: net.forward(xb), reps, 5)
    theirs = None
    if torch:
        tb = torch.from_numpy(xb)
        with torch.no_grad():
            theirs = median_time(lambda: model(tb), reps, 5)
    row("batch-256 forward (logits only)", ours_logits, theirs, target="target ≤ 1.5×")
    row("batch-256 forward (full record)", ours_trace, theirs)

    # 3. Training epoch, 10k digits, batch 64.
    n = 2_000 if opts.quick else 10_000
    x, y = digits(n, seed=2)
    train_net = build_reference(seed=0)
    epochs = 1 if opts.quick else 3
    ours = min(median_time(lambda: sgd_epoch(train_net, x, y), 1) for _ in range(epochs))
    theirs = None
    if torch:
        tmodel = torch_net(build_reference(seed=0))
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        theirs = min(median_time(lambda: torch_epoch(tmodel, tx, ty), 1) for _ in range(epochs))
    row(f"training epoch, {n} digits, batch 64 (best of {epochs})", ours, theirs, "s", 1.0,
        "target ≤ 1.3×")

    # 4. Naive vs fast, the readable definition beside the one we run.
    rng = np.random.default_rng(0)
    xs = rng.random((1, 6, 14, 14), dtype=np.float32)
    w = rng.random((16, 6, 5, 5), dtype=np.float32)
    b = np.zeros(16, np.float32)
    slow = median_time(lambda: conv2d_naive(xs, w, b), 3)
    fast = median_time(lambda: conv2d(xs, w, b), reps, 100)
    print(f"{'conv2 one image: naive loops vs im2col':<44} {slow * 1e3:9.3f} ms   "
          f"im2col {fast * 1e3:9.3f} ms   speed-up {slow / fast:7.0f}×")


if __name__ == "__main__":
    main()
