"""The contract's ink rules for images, checked on synthetic PNGs/JPEGs of known ink."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from app.config import Settings
from app.inputs import decode_data_url, ink_from_image

S = Settings()


def ink_of(array, mode, fmt="PNG"):
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, fmt)
    return ink_from_image(buf.getvalue(), S)


@pytest.fixture(scope="module")
def stroke():
    ink = np.zeros((40, 30), np.uint8)
    ink[10:30, 12:16] = 255
    ink[9, 12:16] = 128            # anti-aliased edge
    return ink


def test_light_ink_on_transparency_is_brightness_times_alpha(stroke):
    rgba = np.zeros(stroke.shape + (4,), np.uint8)
    rgba[..., :3] = 200                           # light grey ink
    rgba[..., 3] = stroke
    expected = (200 * stroke.astype(int) + 127) // 255
    np.testing.assert_array_equal(ink_of(rgba, "RGBA"), expected)


def test_white_ink_on_opaque_black_is_used_as_is(stroke):
    np.testing.assert_array_equal(ink_of(np.stack([stroke] * 3, -1), "RGB"), stroke)


def test_dark_ink_on_white_paper_is_inverted(stroke):
    paper = 255 - stroke
    np.testing.assert_array_equal(ink_of(paper, "L"), stroke)
    np.testing.assert_array_equal(ink_of(np.stack([paper] * 3, -1), "RGB"), stroke)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_white_ink_on_transparency_is_the_alpha(stroke, mode):
    """The pad: white ink, alpha = coverage (RGBA from toDataURL, gray + alpha from png.js)."""
    bands = 4 if mode == "RGBA" else 2
    img = np.full(stroke.shape + (bands,), 255, np.uint8)
    img[..., -1] = stroke
    np.testing.assert_array_equal(ink_of(img, mode), stroke)
    np.testing.assert_array_equal(ink_of(img, mode), (255 * stroke.astype(int) + 127) // 255)


def test_light_gray_ink_with_alpha_is_brightness_times_alpha(stroke):
    la = np.zeros(stroke.shape + (2,), np.uint8)
    la[..., 0] = 200
    la[..., 1] = stroke
    np.testing.assert_array_equal(ink_of(la, "LA"), (200 * stroke.astype(int) + 127) // 255)


def test_a_pad_inked_along_its_border_is_not_inverted():
    """Opaque images with a mostly light border are taken as paper and inverted; the pad's
    image has alpha, so a student who inks a frame round the pad keeps their ink."""
    ink = np.zeros((60, 60), np.uint8)
    ink[:4], ink[-4:], ink[:, :4], ink[:, -4:] = 255, 255, 255, 255
    ink[25:35, 28:32] = 255
    la = np.stack([np.full_like(ink, 255), ink], -1)
    np.testing.assert_array_equal(ink_of(la, "LA"), ink)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_an_image_with_alpha_but_every_pixel_opaque_follows_the_opaque_rules(stroke, mode):
    """Screenshots and photos are often saved with an alpha channel that is 255 everywhere
    (this raised UnboundLocalError, a 500, before)."""
    bands = 4 if mode == "RGBA" else 2
    for gray, expected in ((255 - stroke, stroke), (stroke, stroke)):   # paper, then black
        img = np.full(stroke.shape + (bands,), 255, np.uint8)
        img[..., :-1] = gray[..., None]
        np.testing.assert_array_equal(ink_of(img, mode), expected)


def test_dark_ink_on_transparency_is_not_lost(stroke):
    rgba = np.zeros(stroke.shape + (4,), np.uint8)   # black ink, alpha = ink
    rgba[..., 3] = stroke
    np.testing.assert_array_equal(ink_of(rgba, "RGBA"), stroke)


def test_jpeg_of_paper_is_inverted_within_compression_error(stroke):
    ink = ink_of(np.stack([255 - stroke] * 3, -1), "RGB", "JPEG").astype(int)
    assert np.abs(ink - stroke).mean() < 6
    assert ink[20, 14] > 200 and ink[0, 0] < 20


def test_blank_transparent_image_has_no_ink():
    assert not ink_of(np.zeros((50, 50, 4), np.uint8), "RGBA").any()


def test_data_url_prefixes():
    png = base64.b64encode(b"xyz").decode()
    assert decode_data_url(f"data:image/png;base64,{png}", S) == b"xyz"
    assert decode_data_url(f"data:image/jpeg;base64,{png}", S) == b"xyz"
