"""The training history: learning curves and weight snapshots, for the Learn view to scrub.

File format (`models/lenet-mnist.history.npz`, written by `History.save`, plain arrays, no
pickles; K snapshots, E epochs, T optimisation steps):

  meta                  JSON string: {"format": "convscope-history", "version": 1,
                        "spec": [...stage entries...], "layers": ["conv1", ...],
                        "steps_per_epoch": int, "config": {...training settings...},
                        "probe": "what snapshot_test_accuracy is measured on",
                        "data": {"digest": sha256 of the IDX files, "train_count": int,
                                 "test_count": int}}   (optional: runs recorded since
                        issue 16; says which data trained it, so two runs can be compared)
  epoch                 (E,) int32, 1..E
  train_loss            (E,) float32  mean cross-entropy over the epoch's (augmented) batches
  train_total_error     (E,) float32  mean Σ½(target − softmax)² over the same batches
  train_accuracy        (E,) float32  fraction right on those batches (while learning)
  test_loss             (E,) float32  cross-entropy on the whole test split after the epoch
  test_total_error      (E,) float32
  test_accuracy         (E,) float32  fraction in [0, 1]
  lr                    (E,) float32  learning rate at the end of the epoch
  seconds               (E,) float32  wall time since training started, at the epoch's end
  step_loss             (T,) float32  every mini-batch's cross-entropy (the raw curve)
  step_total_error      (T,) float32
  snapshot_step         (K,) int32    optimisation steps done at the snapshot (0 = random init)
  snapshot_epoch        (K,) float32  the same in (fractional) epochs
  snapshot_test_accuracy (K,) float32 accuracy on the probe (the first 1,000 test digits)
  snapshot_test_loss    (K,) float32  cross-entropy on the probe
  <layer>.weight        (K, *weight shape) float16, e.g. conv1.weight (K, 6, 1, 5, 5)
  <layer>.bias          (K, units) float16

Snapshots are spaced as a cube law in steps (dense at the start, where the filters change
fastest, sparse at the end) and the last one is the final network. Weights are float16 to stay
under ~3 MB: 64k parameters × 2 bytes × a couple of dozen moments.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import ModelFileError


def history_path(model_path) -> Path:
    """Where a model's recorded training run sits: models/lenet-mnist.npz ->
    models/lenet-mnist.history.npz (`convscope train` writes both; the server reads it)."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(".npz") + ".history.npz")

FORMAT = "convscope-history"
VERSION = 1
CURVES = ("train_loss", "train_total_error", "train_accuracy", "test_loss",
          "test_total_error", "test_accuracy", "lr", "seconds")
SNAPSHOT_FIELDS = ("snapshot_step", "snapshot_epoch", "snapshot_test_accuracy",
                   "snapshot_test_loss")


def snapshot_steps(total_steps: int, count: int) -> list[int]:
    """Up to `count` distinct steps from 0 (random init) to total_steps (the end), spaced as
    (i / (count − 1))³: dense early, where the weights change fastest, sparse later."""
    if total_steps <= 0:
        return [0]
    t = np.linspace(0, 1, max(2, count)) ** 3
    return [int(s) for s in np.unique(np.round(t * total_steps).astype(int))]


@dataclass
class History:
    spec: list
    steps_per_epoch: int = 0
    config: dict = field(default_factory=dict)
    curves: dict = field(default_factory=lambda: {name: [] for name in CURVES})
    step_loss: list = field(default_factory=list)
    step_total_error: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)    # [(info dict, {layer: {weight, bias}})]
    probe: str = "the first 1,000 test digits"
    data: dict = field(default_factory=dict)           # {digest, train_count, test_count}

    def add_epoch(self, **values) -> None:
        for name in CURVES:
            self.curves[name].append(float(values[name]))

    def add_snapshot(self, step: int, epoch: float, accuracy: float, loss: float,
                     parameters: dict) -> None:
        weights = {name: {k: v.astype(np.float16) for k, v in p.items()}
                   for name, p in parameters.items()}
        self.snapshots.append(({"snapshot_step": step, "snapshot_epoch": epoch,
                                "snapshot_test_accuracy": accuracy,
                                "snapshot_test_loss": loss}, weights))

    @property
    def layers(self) -> list[str]:
        return list(self.snapshots[0][1]) if self.snapshots else []

    def weights_at(self, k: int) -> dict:
        """Snapshot k's parameters as float32 {layer: {"weight", "bias"}} (Network.set_parameters
        takes this directly)."""
        return {name: {key: v.astype(np.float32) for key, v in p.items()}
                for name, p in self.snapshots[k][1].items()}

    def save(self, path) -> None:
        meta = {"format": FORMAT, "version": VERSION, "spec": self.spec, "layers": self.layers,
                "steps_per_epoch": self.steps_per_epoch, "config": self.config,
                "probe": self.probe, **({"data": self.data} if self.data else {})}
        arrays = {"meta": np.array(json.dumps(meta)),
                  "epoch": np.arange(1, len(self.curves["lr"]) + 1, dtype=np.int32),
                  "step_loss": np.asarray(self.step_loss, np.float32),
                  "step_total_error": np.asarray(self.step_total_error, np.float32)}
        arrays.update({name: np.asarray(self.curves[name], np.float32) for name in CURVES})
        for fname in SNAPSHOT_FIELDS:
            dtype = np.int32 if fname == "snapshot_step" else np.float32
            arrays[fname] = np.array([info[fname] for info, _ in self.snapshots], dtype)
        for name in self.layers:
            for key in ("weight", "bias"):
                arrays[f"{name}.{key}"] = np.stack([w[name][key] for _, w in self.snapshots])
        with open(path, "wb") as fh:      # a file object: numpy would append .npz to a str
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path) -> "History":
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
            meta = json.loads(str(arrays["meta"]))
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise ModelFileError(f"history file {str(path)!r} cannot be read ({exc}); expected "
                                 "a .npz written by engine.history.History.save") from None
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ModelFileError(f"history file {str(path)!r} is not a {FORMAT} version "
                                 f"{VERSION} file")
        h = cls(meta["spec"], meta["steps_per_epoch"], meta["config"], probe=meta["probe"],
                data=meta.get("data") or {})
        h.curves = {name: arrays[name].tolist() for name in CURVES}
        h.step_loss = arrays["step_loss"].tolist()
        h.step_total_error = arrays["step_total_error"].tolist()
        for k in range(len(arrays["snapshot_step"])):
            info = {f: arrays[f][k].item() for f in SNAPSHOT_FIELDS}
            weights = {name: {key: arrays[f"{name}.{key}"][k] for key in ("weight", "bias")}
                       for name in meta["layers"]}
            h.snapshots.append((info, weights))
        return h
