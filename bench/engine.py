"""Engine speed, printed beside PyTorch's (when importable) with the ratio, in one run.

    python bench/engine.py [--quick] [--threads N]

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


def parse_args(argv=None):
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args.add_argument("--threads", type=int, default=2,
                      help="BLAS threads for NumPy and PyTorch alike (default 2, the core "
                           "count); on a loaded machine 1 is often faster for both")
    args.add_argument("--whole", action="store_true",
                      help="run every batch whole on one core (no split across both cores, "
                           "engine.parallel): the before/after comparison")
    return args.parse_args(argv)


OPTS = parse_args()
# OpenBLAS reads its thread count once, when NumPy loads: set it before the imports below.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(OPTS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from engine import network as _network  # noqa: E402
from engine.network import build_reference  # noqa: E402
from engine.ops import conv2d, conv2d_naive  # noqa: E402

try:
    import torch
    torch.set_num_threads(OPTS.threads)
except ImportError:  # the comparison column is left empty
    torch = None


class Timing:
    """Per-call seconds over `repeat` runs: wall-clock median and best, and our CPU time."""

    def __init__(self, fn, repeat: int, inner: int = 1):
        fn()                                        # warm up: plans, allocator, caches
        walls, cpus = [], []
        for _ in range(repeat):
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(inner):
                fn()
            walls.append((time.perf_counter() - w0) / inner)
            cpus.append((time.process_time() - c0) / inner)
        self.median, self.best = statistics.median(walls), min(walls)
        self.cpu = statistics.median(cpus)


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


def row(label, ours: Timing, theirs: Timing | None = None, unit="ms", target=""):
    """Two lines: wall-clock median / best, then CPU time (the load-independent figure when
    BLAS runs one thread); torch beside ours with the ratio ours / torch for each."""
    scale = 1e3 if unit == "ms" else 1.0
    f = lambda v: f"{v * scale:9.3f} {unit}"   # noqa: E731
    lines = [("wall median", ours.median, theirs and theirs.median),
             ("wall best", ours.best, theirs and theirs.best),
             ("cpu", ours.cpu, theirs and theirs.cpu)]
    print(f"{label}" + (f"   [{target}]" if target else ""))
    for name, a, b in lines:
        text = f"    {name:<12} ours {f(a)}"
        if b:
            text += f"   torch {f(b)}   ratio {a / b:5.2f}×"
        print(text)


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


def main() -> None:
    opts = OPTS
    if opts.whole:
        _network.parallel.default_split = lambda: None     # every net built below runs whole
    reps = 5 if opts.quick else 30
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
          f"{os.cpu_count()} cores, BLAS threads {opts.threads}, load average "
          f"{os.getloadavg()[0]:.2f}, batches {'whole' if opts.whole else 'split over 2 threads'} (shared machine: figures are noisy; 'best' is the least "
          f"disturbed run)")
    print("per call; ratio = ours / torch. With --threads 1, CPU time is the fair figure when "
          "the machine is busy")
    net = build_reference(seed=0)
    model = torch_net(net) if torch else None
    one, _ = digits(1)

    # 1. One image, full record (every stage's values kept).
    ours = Timing(lambda: net.forward(one[0]), reps * 4, 200)
    theirs = None
    if torch:
        t1 = torch.from_numpy(one)
        with torch.no_grad():
            theirs = Timing(lambda: model(t1), reps * 4, 200)
    row("one-image forward, full record", ours, theirs, "ms", "target ≤ 0.100 ms median")

    # 2. Batch of 256.
    xb, _ = digits(256, seed=1)
    ours_logits = Timing(lambda: net.logits(xb), reps, 5)
    ours_trace = Timing(lambda: net.forward(xb), reps, 5)
    theirs = None
    if torch:
        tb = torch.from_numpy(xb)
        with torch.no_grad():
            theirs = Timing(lambda: model(tb), reps, 5)
    row("batch-256 forward (logits only)", ours_logits, theirs, "ms", "target ≤ 1.5×")
    row("batch-256 forward (full record)", ours_trace, theirs, "ms")

    # 3. Training epoch, 10k digits, batch 64.
    n = 2_000 if opts.quick else 10_000
    x, y = digits(n, seed=2)
    train_net = build_reference(seed=0)
    epochs = 1 if opts.quick else 3
    ours = Timing(lambda: sgd_epoch(train_net, x, y), epochs)
    theirs = None
    if torch:
        tmodel = torch_net(build_reference(seed=0))
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        theirs = Timing(lambda: torch_epoch(tmodel, tx, ty), epochs)
    row(f"training epoch, {n} digits, batch 64", ours, theirs, "s", "target ≤ 1.3×")

    # 4. Naive vs fast, the readable definition beside the one we run.
    rng = np.random.default_rng(0)
    xs = rng.random((1, 6, 14, 14), dtype=np.float32)
    w = rng.random((16, 6, 5, 5), dtype=np.float32)
    b = np.zeros(16, np.float32)
    slow = Timing(lambda: conv2d_naive(xs, w, b), 3).median
    fast = Timing(lambda: conv2d(xs, w, b), reps, 100).median
    print(f"{'conv2 one image: naive loops vs im2col':<40} naive {slow * 1e3:9.3f} ms   "
          f"im2col {fast * 1e3:9.3f} ms   speed-up {slow / fast:7.0f}×")


if __name__ == "__main__":
    main()
