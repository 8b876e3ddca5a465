"""A tiny real training run for tests that need a model with a history beside it.

engine.train on the 200 shipped sample digits (a few steps, a second of CPU) writes
`<name>.npz`, `<name>.history.npz` (seed 0) and `<name>.seed1.history.npz` (conv1 only; one
epoch, so it differs from the main run in its length as well as its seed) into a folder, so the Learn/history tests never depend on the shipped training having happened.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from app.config import ROOT
from engine.seeds import keep_layers
from engine.spec import REFERENCE_SPEC
from engine.train import train


def write_tiny_run(folder: Path, name: str, epochs: int, snapshots: int) -> Path:
    """Train, save the model and both histories in `folder`; return the model's path."""
    with np.load(ROOT / "models" / "samples.npz") as s:
        images = s["images"]                          # (10, 20, 28, 28)
    y = np.repeat(np.arange(10), images.shape[1])
    data = SimpleNamespace(train_x=images.reshape(-1, 28, 28), train_y=y,
                           test_x=images[:, :5].reshape(-1, 28, 28),
                           test_y=np.repeat(np.arange(10), 5),
                           digest=hashlib.sha256(images.tobytes()).hexdigest())
    net, hist = train(REFERENCE_SPEC, data, epochs=epochs, batch_size=50, snapshots=snapshots,
                      progress=None)
    net.save(folder / f"{name}.npz", {"name": name, "dataset": "mnist",
                                      "classes": [str(d) for d in range(10)],
                                      "accuracy": {"test": 0.5}})
    hist.save(folder / f"{name}.history.npz")
    _, other = train(REFERENCE_SPEC, data, epochs=1, batch_size=50, snapshots=3, seed=1,
                     progress=None)
    keep_layers(other).save(folder / f"{name}.seed1.history.npz")
    return folder / f"{name}.npz"
