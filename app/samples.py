"""Test-set digits for /api/samples, and the script that writes the shipped set.

`models/samples.npz` holds the first 20 test images of each class (uint8, 28×28, 255 = ink) of
MNIST's test split, so the pad can offer real digits with no data directory and no download.
Regenerate it with:

    python -m app.samples --data /work/shared/data/mnist --out models/samples.npz

A model trained on another dataset (Fashion-MNIST) gets its samples from `models/samples-<dataset>.npz`
when one exists, else from the test split in `CONVSCOPE_DATA_DIR`; otherwise /api/samples
answers 404 saying so, rather than handing out digits of the wrong dataset.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from engine.data import load_mnist
from engine.errors import DataError

PER_CLASS = 20


def pick(test_x: np.ndarray, test_y: np.ndarray, n_classes: int, per_class: int) -> np.ndarray:
    """The first `per_class` test images of each class -> (n_classes, per_class, 28, 28) uint8."""
    out = np.zeros((n_classes, per_class) + test_x.shape[1:], np.uint8)
    for c in range(n_classes):
        idx = np.flatnonzero(test_y == c)[:per_class]
        if len(idx) < per_class:
            raise DataError(f"the test split has only {len(idx)} images of class {c}; "
                            f"{per_class} needed")
        out[c] = test_x[idx]
    return out


def _read_npz(path: Path):
    with np.load(path, allow_pickle=False) as f:
        return f["images"].astype(np.uint8), str(f["dataset"]), str(f["source"])


def load_samples(settings, info: dict):
    """(Samples or None, why there are none) for the model described by `info`."""
    from app.deps import Samples

    dataset, n_classes = info["dataset"], len(info["classes"])
    candidates = [settings.samples_path.with_name(f"samples-{dataset}.npz"), settings.samples_path]
    seen = []
    for path in candidates:
        if not path.is_file():
            continue
        try:
            images, ds, source = _read_npz(path)
        except Exception as exc:   # corrupt file: say so at /api/samples, keep serving the rest
            seen.append(f"{path} is unreadable ({exc})")
            continue
        if ds == dataset and images.shape[0] == n_classes:
            return Samples(images, ds, source), ""
        seen.append(f"{path} holds {ds} digits")
    if settings.data_dir is not None:
        try:
            data = load_mnist(settings.data_dir)
            images = pick(data.test_x, data.test_y, n_classes, PER_CLASS)
            return Samples(images, data.name, f"test split of {settings.data_dir}"), ""
        except DataError as exc:
            seen.append(str(exc))
    return None, (f"no test samples for the model's dataset {dataset!r}"
                  + (f" ({'; '.join(seen)})" if seen else "")
                  + "; write one with `python -m app.samples --data DIR --out "
                    f"models/samples-{dataset}.npz` or set CONVSCOPE_DATA_DIR")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write the shipped /api/samples digits.")
    parser.add_argument("--data", required=True, help="MNIST-format directory (test split used)")
    parser.add_argument("--out", default="models/samples.npz")
    parser.add_argument("--per-class", type=int, default=PER_CLASS)
    args = parser.parse_args(argv)
    data = load_mnist(args.data)
    images = pick(data.test_x, data.test_y, len(data.classes), args.per_class)
    source = (f"first {args.per_class} test images of each class, {data.name} test split "
              f"(sha256 of the four files {data.digest[:16]}...)")
    np.savez_compressed(args.out, images=images, dataset=np.array(data.name),
                        source=np.array(source), classes=np.array(list(data.classes)))
    print(f"wrote {args.out}: {images.shape} uint8, {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
