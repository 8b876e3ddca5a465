"""The fast path for the page's own PNG (app/padpng.py): the same ink as Pillow and the
contract's rules give, and None (so Pillow decides) for anything that is not exactly that PNG."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from app.config import Settings
from app.inputs import flatten_to_ink, ink_from_image
from app.padpng import white_ink, white_ink_png
from engine.errors import BadInput

SIDE = Settings().max_image_side
rng = np.random.default_rng(7)


def pillow_ink(png: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(png))
    img.load()
    return flatten_to_ink(img)


def stroke(h=280, w=280):
    """A thick anti-aliased ring, like a drawn 0."""
    y, x = np.mgrid[:h, :w]
    r = np.hypot((y - h / 2) / (h / 3), (x - w / 2) / (w / 4))
    return np.clip(255 * (1 - np.abs(r - 1) * 8), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("ink", [
    stroke(), stroke(40, 90), np.zeros((9, 9), np.uint8),
    rng.integers(0, 256, (1, 1), dtype=np.uint8) & 0x7f,
    rng.integers(0, 256, (31, 17), dtype=np.uint8),      # every byte value, wrapping differences
], ids=["ring", "wide ring", "blank", "one pixel", "noise"])
def test_equals_pillow_and_the_ink_rules(ink):
    png = white_ink_png(ink)
    fast = white_ink(png, SIDE)
    assert fast is not None, "the page's format must take the fast path"
    np.testing.assert_array_equal(fast, ink)
    np.testing.assert_array_equal(fast, pillow_ink(png))
    np.testing.assert_array_equal(ink_from_image(png, Settings()), ink)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(ihdr_fields, rows: np.ndarray, extra=b"", tail=b"") -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">II5B", *ihdr_fields)) + extra
            + chunk(b"IDAT", zlib.compress(rows.tobytes()) + tail) + chunk(b"IEND", b""))


def _raw(la: np.ndarray, filt: int) -> np.ndarray:
    h = la.shape[0]
    flat = la.reshape(h, -1)
    if filt == 2:
        flat = np.diff(flat, axis=0, prepend=np.zeros((1, flat.shape[1]), np.uint8))
    return np.concatenate([np.full((h, 1), filt, np.uint8), flat], axis=1)


def la_of(ink, gray=255):
    return np.stack([np.full_like(ink, gray), ink], -1)


def test_other_pngs_go_to_pillow_with_the_same_ink():
    ink = stroke(30, 30)
    cases = {
        "filter None": _png((30, 30, 8, 4, 0, 0, 0), _raw(la_of(ink), 0)),
        "grey ink": _png((30, 30, 8, 4, 0, 0, 0), _raw(la_of(ink, gray=200), 2)),
        "Pillow's own LA": None,
        "RGBA": None,
        "gray, no alpha": None,
    }
    buf = io.BytesIO()
    Image.fromarray(la_of(ink), "LA").save(buf, "PNG")
    cases["Pillow's own LA"] = buf.getvalue()
    rgba = np.full((30, 30, 4), 255, np.uint8)
    rgba[..., 3] = ink
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    cases["RGBA"] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(ink, "L").save(buf, "PNG")
    cases["gray, no alpha"] = buf.getvalue()
    for name, png in cases.items():
        if name != "Pillow's own LA":    # Pillow may or may not pick Up for every row
            assert white_ink(png, SIDE) is None, name
        np.testing.assert_array_equal(ink_from_image(png, Settings()), pillow_ink(png), name)


def test_a_fully_inked_pad_follows_the_opaque_rule_through_pillow():
    full = np.full((20, 20), 255, np.uint8)
    png = white_ink_png(full)
    assert white_ink(png, SIDE) is None
    assert not ink_from_image(png, Settings()).any()   # opaque, light border: paper, inverted


def test_malformed_variants_are_left_to_pillow():
    ink = stroke(20, 20)
    good = white_ink_png(ink)
    bad_crc = bytearray(good)
    bad_crc[30] ^= 0xFF                                   # inside IHDR: its CRC no longer holds
    la = _raw(la_of(ink), 2)
    variants = {
        "bad CRC": bytes(bad_crc),
        "truncated": good[:-20],
        "not a PNG": b"GIF89a" + good[6:],
        "too wide": _png((SIDE + 1, 20, 8, 4, 0, 0, 0), la),
        "interlaced": _png((20, 20, 8, 4, 0, 0, 1), la),
        "16-bit": _png((20, 20, 16, 4, 0, 0, 0), la),
        "palette chunk": _png((20, 20, 8, 4, 0, 0, 0), la, extra=chunk(b"PLTE", b"\xff" * 3)),
        "short data": _png((20, 21, 8, 4, 0, 0, 0), la),
        "data after the image": _png((20, 20, 8, 4, 0, 0, 0), np.concatenate([la, la[:1]])),
    }
    variants["corrupt deflate"] = good[:33] + chunk(b"IDAT", b"\x78\x9c\xff\xff garbage") + good[-12:]
    for name, png in variants.items():
        assert white_ink(png, SIDE) is None, name
    # Pillow words the refusals, as for any PNG.
    for name in ("bad CRC", "too wide", "corrupt deflate"):
        with pytest.raises(BadInput):
            ink_from_image(variants[name], Settings())


def test_ancillary_chunks_are_allowed():
    ink = stroke(20, 20)
    good = white_ink_png(ink)
    png = good[:33] + chunk(b"tEXt", b"Comment\x00drawn") + good[33:]   # after IHDR (8 + 25 bytes)
    np.testing.assert_array_equal(white_ink(png, SIDE), ink)


# A mutated header can claim 150 M pixels: Pillow warns on opening it, the size check refuses it.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_mutated_page_pngs_never_escape_as_anything_but_a_refusal():
    """Random damage to the page's PNG, CRCs made right again so it reaches the inflate and the
    checks: every result is an ink image or a worded BadInput (a 4xx), never another error."""
    from fastapi import HTTPException

    rng = np.random.default_rng(11)
    ink = stroke(24, 24)
    la = _raw(la_of(ink), 2)
    outcomes = {"ink": 0, "refused": 0}
    for _ in range(300):
        ihdr = bytearray(struct.pack(">II5B", 24, 24, 8, 4, 0, 0, 0))
        data = bytearray(zlib.compress(la.tobytes()))
        what = rng.integers(3)
        if what == 0:      # damaged deflate stream
            for i in rng.integers(0, len(data), rng.integers(1, 6)):
                data[i] = rng.integers(256)
        elif what == 1:    # cut short
            data = data[:rng.integers(0, len(data))]
        else:              # header fields
            i = rng.integers(0, 13)
            ihdr[i] = rng.integers(256)
        png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", bytes(ihdr)) + chunk(b"IDAT", bytes(data))
               + chunk(b"IEND", b""))
        try:
            out = ink_from_image(png, Settings())
            assert out.dtype == np.uint8 and out.ndim == 2
            outcomes["ink"] += 1
        except (BadInput, HTTPException):
            outcomes["refused"] += 1
    assert outcomes["refused"] > 50, outcomes       # the damage was real
