"""IDX reader and MNIST loader: real files load, corrupt ones fail with the file and the fault."""
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from engine.data import MNIST_CLASSES, DataError, load_mnist, read_idx

MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
FASHION = Path("/usr/share/datasets/fashion-mnist")


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_set(directory: Path, n_train=5, n_test=3, test_prefix="t10k", gz=True):
    rng = np.random.default_rng(0)
    parts = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        f"{test_prefix}-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        f"{test_prefix}-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in parts.items():
        data = idx_bytes(array)
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return parts


@pytest.mark.skipif(not MNIST.is_dir(), reason="shared MNIST not present")
def test_shared_mnist_loads_with_shapes_labels_and_digest():
    d = load_mnist(MNIST)
    assert d.train_x.shape == (10000, 28, 28) and d.train_x.dtype == np.uint8
    assert d.test_x.shape == (5000, 28, 28) and d.test_y.shape == (5000,)
    assert set(np.unique(d.train_y)) == set(range(10))
    assert d.train_x.max() == 255 and d.train_x.min() == 0
    assert d.name == "mnist" and list(d.classes) == MNIST_CLASSES
    assert len(d.digest) == 64 and load_mnist(MNIST).digest == d.digest


@pytest.mark.skipif(not FASHION.is_dir(), reason="apt package dataset-fashion-mnist not installed")
def test_fashion_mnist_loads_with_its_class_names():
    d = load_mnist(FASHION)
    assert d.train_x.shape == (60000, 28, 28) and d.test_x.shape == (10000, 28, 28)
    assert d.name == "fashion-mnist" and d.classes[9] == "Ankle boot"


@pytest.mark.parametrize("gz", [True, False])
def test_raw_and_gzip_and_both_test_prefixes_roundtrip(tmp_path, gz):
    parts = write_set(tmp_path, test_prefix="test" if gz else "t10k", gz=gz)
    d = load_mnist(tmp_path)
    assert np.array_equal(d.train_x, parts["train-images-idx3-ubyte"])
    assert np.array_equal(d.train_y, parts["train-labels-idx1-ubyte"])
    assert d.test_x.shape == (3, 28, 28)


def test_read_idx_other_dtypes_are_native_endian(tmp_path):
    a = np.arange(12, dtype=np.int32).reshape(3, 4) - 5
    (tmp_path / "a.idx").write_bytes(idx_bytes(a, code=0x0C))
    out = read_idx(tmp_path / "a.idx")
    assert out.dtype == np.int32 and out.dtype.isnative and np.array_equal(out, a)


def check_fault(path: Path, data: bytes, *needles):
    path.write_bytes(data)
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message, message
    for needle in needles:
        assert needle in message, message


def test_bad_magic_is_named(tmp_path):
    good = idx_bytes(np.zeros((2, 28, 28), np.uint8))
    check_fault(tmp_path / "x.idx", b"\x50\x4b" + good[2:], "bad magic")   # a zip, say


def test_unknown_dtype_code_is_named(tmp_path):
    good = bytearray(idx_bytes(np.zeros((2, 3), np.uint8)))
    good[2] = 0x42
    check_fault(tmp_path / "x.idx", bytes(good), "dtype code 0x42")


def test_truncated_data_and_header_are_named(tmp_path):
    good = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    check_fault(tmp_path / "a.idx", good[:-100], "truncated", "(4, 28, 28)")
    check_fault(tmp_path / "b.idx", good[:9], "truncated header")
    check_fault(tmp_path / "c.idx.gz", gzip.compress(good)[:-30], "gzip")


def test_trailing_bytes_are_named(tmp_path):
    check_fault(tmp_path / "x.idx", idx_bytes(np.zeros((2, 2), np.uint8)) + b"\0", "trailing")


def test_count_mismatch_between_images_and_labels(tmp_path):
    write_set(tmp_path, n_train=5)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    with pytest.raises(DataError, match="4 labels but the images file holds 5") as info:
        load_mnist(tmp_path)
    assert str(labels) in str(info.value)


def test_wrong_file_in_place_of_images(tmp_path):
    write_set(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(idx_bytes(np.zeros(5, np.uint8))))   # a labels file
    with pytest.raises(DataError, match=r"shape \(N, 28, 28\)") as info:
        load_mnist(tmp_path)
    assert str(images) in str(info.value)


def test_missing_directory_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_mnist(tmp_path / "nowhere")
    write_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="no test labels file"):
        load_mnist(tmp_path)
