"""MNIST-format datasets: the IDX reader, the loader and class names.

IDX (LeCun's format, big-endian): two zero bytes, a dtype code, the number of dimensions, then
one uint32 per dimension and the data. Files may be gzipped. Every fault a real download can
have (wrong file, truncated transfer, mismatched images/labels) becomes a `DataError` that names
the file and what is wrong, because a bare `ValueError: cannot reshape` says neither.
"""
from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import DataError

# IDX dtype codes -> big-endian NumPy dtypes.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

# (split, kind) -> accepted base names, first match wins. `t10k-` is the original MNIST and
# Fashion-MNIST name; `test-` is what /work/shared/data/mnist uses.
_NAMES = {
    ("train", "images"): ["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
    ("train", "labels"): ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
    ("test", "images"): ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte",
                         "test-images-idx3-ubyte", "test-images.idx3-ubyte"],
    ("test", "labels"): ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte",
                         "test-labels-idx1-ubyte", "test-labels.idx1-ubyte"],
}


@dataclass(frozen=True)
class Dataset:
    """Images uint8 (N, 28, 28), 255 = ink; labels uint8 (N,)."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    name: str = "mnist"
    classes: tuple = tuple(MNIST_CLASSES)
    digest: str = ""            # sha256 over the four files, for model metadata
    files: tuple = ()


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if raw[:2] == b"\x1f\x8b":          # gzip magic, whatever the file is called
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: corrupt or truncated gzip stream ({exc})") from exc
    return raw


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip or raw) into a native-endian array of its declared shape."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path}: only {len(raw)} bytes, too short for an IDX header (4 bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"{path}: bad magic number 0x{raw[:4].hex()} (an IDX file starts with two zero "
            "bytes, a dtype code and the number of dimensions, e.g. 0x00000803 for images)")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise DataError(f"{path}: unknown IDX dtype code 0x{code:02x} (known: {known})")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, "
                        f"file has {len(raw)}")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise DataError(f"{path}: {what}: header declares shape {dims} ({expected} data "
                        f"bytes) but the file holds {actual}")
    data = np.frombuffer(raw, dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def _find(directory: Path, split: str, kind: str) -> Path:
    tried = []
    for base in _NAMES[(split, kind)]:
        for name in (base + ".gz", base):
            candidate = directory / name
            tried.append(name)
            if candidate.is_file():
                return candidate
    raise DataError(f"{directory}: no {split} {kind} file (looked for {', '.join(tried)})")


def _sha256(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()


def _check_images(path: Path, x: np.ndarray) -> None:
    if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
        raise DataError(f"{path}: expected uint8 images of shape (N, 28, 28), "
                        f"got {x.dtype} {x.shape}")


def _check_labels(path: Path, y: np.ndarray, n_images: int, n_classes: int) -> None:
    if y.ndim != 1 or y.dtype != np.uint8:
        raise DataError(f"{path}: expected uint8 labels of shape (N,), got {y.dtype} {y.shape}")
    if len(y) != n_images:
        raise DataError(f"{path}: {len(y)} labels but the images file holds {n_images} images")
    if len(y) and int(y.max()) >= n_classes:
        raise DataError(f"{path}: label {int(y.max())} out of range 0..{n_classes - 1}")


def dataset_name(directory) -> str:
    """'fashion-mnist' when the directory says so, else 'mnist'."""
    return "fashion-mnist" if "fashion" in str(Path(directory).resolve()).lower() else "mnist"


def load_mnist(directory, require_train: bool = True) -> Dataset:
    """Load the four MNIST-format files of `directory` (MNIST, full MNIST or Fashion-MNIST).

    require_train=False (evaluation): a directory with only the test pair is accepted and the
    train arrays are empty, e.g. a class's own digits exported by the classroom dashboard."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: data directory not found (it should hold "
                        "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] and the "
                        "t10k-* or test-* pair)")
    name = dataset_name(directory)
    classes = FASHION_MNIST_CLASSES if name == "fashion-mnist" else MNIST_CLASSES
    arrays, files = {}, []
    for split in ("train", "test"):
        if split == "train" and not require_train:
            try:
                _find(directory, split, "images")
            except DataError:
                arrays[split] = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
                continue
        ipath, lpath = _find(directory, split, "images"), _find(directory, split, "labels")
        x, y = read_idx(ipath), read_idx(lpath)
        _check_images(ipath, x)
        _check_labels(lpath, y, len(x), len(classes))
        arrays[split] = (x, y)
        files += [ipath, lpath]
    return Dataset(*arrays["train"], *arrays["test"], name=name, classes=tuple(classes),
                   digest=_sha256(files), files=tuple(str(f) for f in files))
