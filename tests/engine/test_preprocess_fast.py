"""The fast paths of engine.preprocess (issue 12's cheaper preprocessing) change no number:
8-bit ink searched as bytes, the float check in two reductions, the 28 -> 32 zero pad."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import BadInput
from engine.preprocess import _pad, as_ink, ink_box, preprocess


def _same(a, b):
    assert a.bbox == b.bbox and a.centre_of_mass == b.centre_of_mass and a.blank == b.blank
    assert list(a.steps) == list(b.steps)
    for name in a.steps:
        assert a.steps[name].dtype == b.steps[name].dtype == np.float32, name
        assert a.steps[name].tobytes() == b.steps[name].tobytes(), name
    assert a.input.tobytes() == b.input.tobytes()


def _inks(rng):
    yield np.zeros((28, 28), np.uint8)                                     # blank
    one = np.zeros((280, 280), np.uint8)
    one[5, 270] = 1                                                        # one faint pixel
    yield one
    for _ in range(20):
        h, w = rng.integers(8, 300, 2)
        ink = np.zeros((h, w), np.uint8)
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        y1, x1 = rng.integers(y0 + 1, h + 1), rng.integers(x0 + 1, w + 1)
        ink[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0))
        yield ink


def test_byte_ink_gives_the_float_inks_record_bit_for_bit():
    rng = np.random.default_rng(12)
    for ink in _inks(rng):
        _same(preprocess(ink), preprocess(as_ink(ink)))


def test_ink_box_is_the_same_on_bytes_and_floats():
    rng = np.random.default_rng(1)
    for ink in _inks(rng):
        assert ink_box(ink) == ink_box(as_ink(ink))
    assert ink_box(np.zeros((9, 9), np.uint8)) is None
    faint = np.zeros((9, 9), np.float32)
    faint[3, 4] = 0.4 / 255          # under half an 8-bit step: paper
    assert ink_box(faint) is None
    faint[3, 4] = 0.6 / 255
    assert ink_box(faint) == (3, 4, 4, 5)


def test_pad_equals_numpy_pad():
    a = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    assert _pad(a, 2).tobytes() == np.pad(a, 2).tobytes()


@pytest.mark.parametrize("bad, words", [
    (np.float32([[0.5, np.nan]]), "finite"), (np.float32([[np.inf, 0]]), "finite"),
    (np.float32([[-np.inf, 0]]), "finite"), (np.float32([[1.5, 0]]), "in [0, 1]"),
    (np.float32([[-0.1, 0]]), "in [0, 1]"),
])
def test_float_checks_still_refuse_with_their_words(bad, words):
    with pytest.raises(BadInput, match=words.replace("[", r"\[").replace("]", r"\]")):
        as_ink(bad)


def test_uint8_needs_no_range_check_but_wider_ints_keep_it():
    assert as_ink(np.uint8([[255, 0]])).tolist() == [[1.0, 0.0]]
    with pytest.raises(BadInput, match="0..255"):
        as_ink(np.int64([[256, 0]]))
