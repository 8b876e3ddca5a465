"""Random affine augmentation of a batch of images, vectorised, with bilinear sampling.

Small shifts, rotations and scalings are what lift the net from ~98.5% to ~99.4% on 10k
training digits: a hand-drawn "7" is never placed, tilted or sized exactly like MNIST's.

Every image gets its own transform about the image centre. For each output pixel p we sample
the input at  q = R(-angle) (p - centre) / scale + centre - shift  (the inverse map, so every
output pixel has exactly one source point and nothing is left unfilled); outside the image is 0.
"""
from __future__ import annotations

import numpy as np


def affine(images: np.ndarray, angle, scale, shift_y, shift_x) -> np.ndarray:
    """Transform a batch (N, H, W) or (N, 1, H, W); angle in degrees, per-image arrays (N,)."""
    shape = images.shape
    x = images.reshape(shape[0], shape[-2], shape[-1])
    n, h, w = x.shape
    # One pass over the whole batch: chunking into cache-sized pieces measured slower here.
    angle, scale, shift_y, shift_x = (np.broadcast_to(np.asarray(p, np.float64), (n,))
                                      for p in (angle, scale, shift_y, shift_x))
    theta = np.deg2rad(np.asarray(angle, np.float64)).reshape(n, 1)
    inv_s = 1.0 / np.asarray(scale, np.float64).reshape(n, 1)
    cos, sin = (np.cos(theta) * inv_s).astype(np.float32), (np.sin(theta) * inv_s).astype(np.float32)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    gy, gx = np.meshgrid(np.arange(h, dtype=np.float32) - cy,
                         np.arange(w, dtype=np.float32) - cx, indexing="ij")
    gy, gx = gy.reshape(1, -1), gx.reshape(1, -1)
    # Inverse map: rotate the output grid back and undo the scale, then undo the shift.
    # (In place, one (N, H·W) temporary at a time: this runs on 10k images every epoch.)
    # The order of operations is that of the shipped model's run: keep it, or float32 rounding
    # changes and `convscope train` no longer reproduces models/lenet-mnist.npz bit for bit.
    sy = cos * gy
    sy -= sin * gx
    sy += np.float32(cy)
    sy -= np.asarray(shift_y, np.float32).reshape(n, 1)
    sx = sin * gy
    sx += cos * gx
    sx += np.float32(cx)
    sx -= np.asarray(shift_x, np.float32).reshape(n, 1)
    return _bilinear(x, sy, sx).reshape(shape).astype(images.dtype, copy=False)


def _bilinear(x: np.ndarray, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
    """Sample x (N, H, W) at float32 coordinates (N, P); zero outside. Overwrites sy and sx.

    Two rings of zero padding, and coordinates clipped to [-2, side]: a clipped point then reads
    only zeros with both of its taps, so no mask and no bounds checks are needed, and the four
    taps sit at flat offsets 0, 1, W+4, W+5 from one index. In-place arithmetic and one integer
    cast keep this at ~0.19 s for 10k 32×32 images (0.25 s with fresh temporaries).
    """
    n, h, w = x.shape
    ph, pw = h + 4, w + 4
    padded = np.zeros((n, ph, pw), np.float32)
    padded[:, 2:-2, 2:-2] = x
    flat = padded.ravel()
    np.clip(sy, -2, h, out=sy)
    np.clip(sx, -2, w, out=sx)
    y0, x0 = np.floor(sy), np.floor(sx)
    fy, fx = np.subtract(sy, y0, out=sy), np.subtract(sx, x0, out=sx)
    y0 *= pw                        # the flat index, in float32: exact, as it is < 2**24
    y0 += x0
    y0 += 2 * pw + 2
    index = y0.astype(np.intp)      # intp: narrower indices get converted again by NumPy
    index += (np.arange(n, dtype=np.intp) * (ph * pw))[:, None]
    top = flat[index]
    index += 1
    right = flat[index]
    right -= top
    right *= fx
    top += right                    # top = a + fx (b - a)
    index += pw - 1
    bot = flat[index]
    index += 1
    right = flat[index]
    right -= bot
    right *= fx
    bot += right
    bot -= top
    bot *= fy
    bot += top                      # top + fy (bot - top)
    return bot


def affine_naive(image: np.ndarray, angle: float, scale: float, shift_y: float,
                 shift_x: float) -> np.ndarray:
    """One (H, W) image, pixel by pixel: the readable definition `affine` is tested against."""
    h, w = image.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    t = np.deg2rad(angle)
    out = np.zeros((h, w), np.float64)

    def at(y, x):
        return float(image[y, x]) if 0 <= y < h and 0 <= x < w else 0.0

    for oy in range(h):
        for ox in range(w):
            dy, dx = oy - cy, ox - cx
            sy = (np.cos(t) * dy - np.sin(t) * dx) / scale + cy - shift_y
            sx = (np.sin(t) * dy + np.cos(t) * dx) / scale + cx - shift_x
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            fy, fx = sy - y0, sx - x0
            out[oy, ox] = ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
                           + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))
    return out


def random_affine(images: np.ndarray, rng: np.random.Generator, shift: float = 2.5,
                  rotate: float = 12.0, scale: tuple = (0.9, 1.1)) -> np.ndarray:
    """Each image gets a uniform random shift (±shift px per axis), rotation (±rotate degrees)
    and scale (in `scale`), drawn from `rng` so a seeded run is reproducible."""
    n = images.shape[0]
    return affine(images, rng.uniform(-rotate, rotate, n), rng.uniform(*scale, n),
                  rng.uniform(-shift, shift, n), rng.uniform(-shift, shift, n))
