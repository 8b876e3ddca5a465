"""The page's own drawing PNG, read without Pillow: a fast path for the body a class sends.

static/js/png.js writes the pad as 8-bit gray + alpha (colour type 4), white everywhere with
alpha = ink, every row PNG filter 2 ("Up"). That is light ink on transparency, whose ink by the
contract is brightness × alpha = alpha. Pillow decodes it in ~0.3 ms and the ink rules take
~0.13 ms more; here one inflate (ISA-L when installed, ~0.05 ms), two uint8 casts and a
running sum down the columns give the same ink in ~0.11 ms (0.15 before issue 12's casts),
which is what lets two cores hold 120 students (bench/api.py).

`white_ink(data, max_side)` returns the ink (H, W) uint8, or None for anything that is not
exactly that format (another colour type, another filter, a grey that is not white, a fully
opaque pad, a bad CRC...): the caller then goes through Pillow, which decodes every PNG and
words every error, so this path never decides what is refused or how.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

try:   # ISA-L inflate: ~0.05 ms for the pad's 157 KB of scanlines, zlib ~0.13 ms
    from isal import isal_zlib as _inflate
except ImportError:   # pragma: no cover - zlib gives the same bytes, slower
    _inflate = zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LA8 = (8, 4, 0, 0, 0)    # bit depth, colour type (gray + alpha), compression, filter, interlace
_UP = 2


def _chunks(data: bytes):
    """(type, body) of each chunk up to IEND; None if the layout or a CRC is wrong."""
    pos, out = len(_SIGNATURE), []
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            return None
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(data[pos + 4:end - 4]) != crc:
            return None
        out.append((kind, data[pos + 8:end - 4]))
        if kind == b"IEND":
            return out
        pos = end
    return None


def white_ink(data: bytes, max_side: int) -> np.ndarray | None:
    if not data.startswith(_SIGNATURE):
        return None
    chunks = _chunks(data)
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        return None
    width, height, *layout = struct.unpack(">IIBBBBB", chunks[0][1])
    if tuple(layout) != _LA8 or not (1 <= width <= max_side and 1 <= height <= max_side):
        return None
    # Only IDAT among the critical chunks (an upper-case first letter); ancillary ones are free.
    if any(k not in (b"IHDR", b"IDAT", b"IEND") and k[0] < 97 for k, _ in chunks):
        return None
    row = 2 * width + 1
    try:
        inflater = _inflate.decompressobj()
        # One byte over the size it must have, so an image with more data shows it; no more,
        # so a deflate bomb costs nothing.
        raw = inflater.decompress(b"".join(b for k, b in chunks if k == b"IDAT"), row * height + 1)
    except (_inflate.error, zlib.error, ValueError, OSError):   # ISA-L's error is its own class
        return None
    if len(raw) != row * height:
        return None
    rows = np.frombuffer(raw, np.uint8).reshape(height, row)
    if rows[:, 0].min() != _UP or rows[:, 0].max() != _UP:
        return None
    # Up filter: each byte is stored minus the byte above. White gray is 255 in the first row
    # and 0 in every row after it. Read as little-endian uint16 (gray, alpha) pairs, the gray
    # byte is the low one, which a cast to uint8 keeps: one pass over the rows as they are
    # (NumPy views a row's pairs as uint16 though they start at an odd address), no copy.
    gray = rows[:, 1:].view("<u2").astype(np.uint8)
    if gray[0].min() != 255 or gray[1:].max(initial=0) != 0:
        return None
    ink = _prefix_sum_rows(_alpha(rows, width))
    if ink.min() == 255:
        return None   # fully opaque: not "ink on transparency"; Pillow's path has the rule
    return ink


def _alpha(rows: np.ndarray, width: int) -> np.ndarray:
    """The alpha bytes of (filter, gray, alpha, gray, alpha, ...) rows, as a (H, W) array.

    Pairs read one byte later, (alpha, next gray), have the alpha as the low byte: the same
    one-pass uint8 cast as the gray's (a strided byte gather measured ~4x slower). The last
    alpha of a row has no gray after it, so it is copied on its own."""
    out = np.empty((rows.shape[0], width), np.uint8)
    np.copyto(out[:, :width - 1], rows[:, 2:2 * width].view("<u2"), casting="unsafe")
    out[:, width - 1] = rows[:, 2 * width]
    return out


def _prefix_sum_rows(a: np.ndarray) -> np.ndarray:
    """Undo the Up filter: row y becomes the sum (mod 256) of rows 0..y (`a` is reused).

    By doubling (row y += row y - s for s = 1, 2, 4, ...): log2(H) whole-array uint8 adds,
    which NumPy vectorises, ~3x faster than np.cumsum(axis=0). Each step writes into a second
    buffer (the rows above s copied, the others summed), which NumPy need not copy first as it
    does for an in-place add whose operands overlap: 49 -> 34 us for the 280×280 pad."""
    b = np.empty_like(a)
    step = 1
    while step < a.shape[0]:
        np.add(a[step:], a[:-step], out=b[step:])
        b[:step] = a[:step]
        a, b = b, a
        step *= 2
    return a


def white_ink_png(ink: np.ndarray, level: int = 6) -> bytes:
    """The PNG static/js/png.js writes for `ink` (H, W) uint8, at zlib's default level as the
    browser's CompressionStream does: for tests and bench/api.py, which stand in for the page."""
    height, width = ink.shape
    la = np.stack([np.full_like(ink, 255), ink], axis=-1).reshape(height, 2 * width)
    up = np.diff(la, axis=0, prepend=np.zeros((1, 2 * width), np.uint8))   # uint8: mod 256
    rows = np.concatenate([np.full((height, 1), _UP, np.uint8), up], axis=1)
    return (_SIGNATURE + _chunk(b"IHDR", struct.pack(">II5B", width, height, *_LA8))
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
