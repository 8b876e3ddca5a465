"""Preprocessing: centres by mass like MNIST, keeps an MNIST digit in place, survives odd input."""
from pathlib import Path

import numpy as np
import pytest

from engine.data import load_mnist
from engine.preprocess import (MNIST_CENTRE, BadInput, centre_of_mass, preprocess,
                               to_network_input)

MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
STEPS = ["drawing", "cropped", "fitted", "centred", "input"]


@pytest.fixture(scope="module")
def mnist():
    if not MNIST.is_dir():
        pytest.skip("shared MNIST not present")
    return load_mnist(MNIST)


def stroke_drawing(side=280, seed=0):
    """A thick off-centre stroke on a big pad, like a user's drawing."""
    rng = np.random.default_rng(seed)
    pad = np.zeros((side, side), np.uint8)
    y0, x0 = rng.integers(10, side // 3, 2)
    pad[y0:y0 + side // 2, x0:x0 + 18] = 255                 # a long bar
    pad[y0:y0 + 20, x0:x0 + side // 3] = 200                 # a shorter arm: mass is lopsided
    return pad


def test_steps_are_ordered_shaped_and_in_range():
    p = preprocess(stroke_drawing())
    assert list(p.steps) == STEPS
    assert [p.steps[n].shape for n in STEPS[2:]] == [(20, 20), (28, 28), (32, 32)]
    assert p.input.shape == (1, 32, 32) and p.input.dtype == np.float32
    for name, image in p.steps.items():
        assert image.min() >= 0 and image.max() <= 1, name
    assert np.array_equal(p.input[0], p.steps["input"])
    assert np.all(p.input[0, :2] == 0) and np.all(p.input[0, :, -2:] == 0)   # the 2-px pad
    assert np.allclose(p.input * 255, np.rint(p.input * 255), atol=1e-4)      # k/255 values


def test_fitted_longer_side_is_twenty_and_keeps_aspect():
    pad = np.zeros((300, 200), np.uint8)
    pad[20:260, 50:110] = 255          # 240 tall, 60 wide: 4:1
    fitted = preprocess(pad).steps["fitted"]
    rows = np.flatnonzero(fitted.max(1) > 0.5)
    cols = np.flatnonzero(fitted.max(0) > 0.5)
    assert len(rows) == 20 and len(cols) == 5, (len(rows), len(cols))


@pytest.mark.parametrize("seed", range(5))
def test_centre_of_mass_lands_on_measured_mnist_centre(seed):
    p = preprocess(stroke_drawing(seed=seed))
    cy, cx = centre_of_mass(p.steps["centred"])
    assert abs(cy - MNIST_CENTRE[0]) < 0.05 and abs(cx - MNIST_CENTRE[1]) < 0.05, (cy, cx)
    assert p.centre_of_mass == pytest.approx((cy, cx))


def test_measured_centre_matches_the_training_set(mnist):
    x = mnist.train_x[:2000].astype(np.float64)
    centres = np.array([centre_of_mass(img) for img in x])
    assert np.allclose(centres.mean(0), MNIST_CENTRE, atol=0.03), centres.mean(0)


def test_an_mnist_digit_comes_back_where_it_was(mnist):
    corr, shift = [], []
    for image in mnist.test_x[:300]:
        out = preprocess(image).steps["centred"]
        ref = image / 255.0
        corr.append(np.corrcoef(out.ravel(), ref.ravel())[0, 1])
        shift.append(np.hypot(*np.subtract(centre_of_mass(out), centre_of_mass(ref))))
    assert np.median(corr) > 0.95 and min(corr) > 0.8, (np.median(corr), min(corr))
    assert max(shift) < 0.75, max(shift)     # MNIST's own centres are within ±0.5 of 14


def test_same_drawing_at_two_pad_sizes_gives_nearly_the_same_input():
    small = stroke_drawing(side=140, seed=3)
    big = np.kron(small, np.ones((2, 2), np.uint8))   # the same drawing on a 280 pad
    a, b = preprocess(small).input, preprocess(big).input
    assert np.abs(a - b).max() < 0.1


def test_blank_gives_all_zero_input_without_crash():
    for blank in (np.zeros((280, 280), np.uint8), np.zeros((8, 13))):
        p = preprocess(blank)
        assert p.blank and p.input.shape == (1, 32, 32) and not p.input.any()
        assert list(p.steps) == STEPS


def test_tiny_and_odd_sized_drawings():
    dot = np.zeros((9, 500), np.uint8)
    dot[4, 250] = 255                         # one pixel of ink on a strip
    p = preprocess(dot)
    assert p.input.sum() > 0 and p.input.shape == (1, 32, 32)
    cy, cx = centre_of_mass(p.steps["centred"])
    assert abs(cy - MNIST_CENTRE[0]) < 0.1 and abs(cx - MNIST_CENTRE[1]) < 0.1


@pytest.mark.parametrize("bad, needle", [
    (np.zeros((3, 4, 4)), "2-D"),
    (np.full((10, 10), np.nan), "finite"),
    (np.full((10, 10), 2.0), "[0, 1]"),
    (np.full((10, 10), 300), "0..255"),
    (np.array([["a"]]), "integers"),
])
def test_bad_pixels_raise_badinput_naming_the_fault(bad, needle):
    with pytest.raises(BadInput) as info:
        preprocess(bad)
    assert needle in str(info.value)


def test_no_preprocess_path_scales_and_pads(mnist):
    digit = mnist.test_x[0]
    out = to_network_input(digit, preprocess=False)
    assert out.shape == (1, 32, 32)
    assert np.allclose(out[0, 2:30, 2:30], digit / 255) and out[0, :2].sum() == 0
    full = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    assert np.array_equal(to_network_input(full, preprocess=False)[0], full)
    with pytest.raises(BadInput, match="28×28 or 32×32"):
        to_network_input(np.zeros((30, 30), np.uint8), preprocess=False)
    assert np.array_equal(to_network_input(digit), preprocess(digit).input)
