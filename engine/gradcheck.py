"""Central finite differences, the independent reference for every backward pass.

Use float64: with h = 1e-5 the truncation error is O(h²) ≈ 1e-10 and the rounding error
O(ε/h) ≈ 1e-11, so a correct analytic gradient agrees to a relative error well below 1e-6.
"""
from __future__ import annotations

import numpy as np


def eval_numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function f(x) at x (x is perturbed in place and restored)."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i].copy()
        x[i] = old + h
        fp = float(f(x))
        x[i] = old - h
        fm = float(f(x))
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def eval_numerical_gradient_array(f, x: np.ndarray, df: np.ndarray,
                                  h: float = 1e-5) -> np.ndarray:
    """Σ df · ∂f(x)/∂x for an array-valued f: the vector-Jacobian product backward computes."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i].copy()
        x[i] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[i] = old
        grad[i] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def rel_error(a, b, floor: float | None = None) -> float:
    """max over entries of |a − b| / max(|a| + |b|, floor).

    A finite difference's error is absolute (≈1e-11 of the loss's scale), so an entry 10⁴ times
    smaller than the largest would fail a purely elementwise test with a correct gradient. By
    default `floor` is 1% of the largest |a| + |b| (and at least 1e-8): tiny entries are judged
    against the array's scale, and an error of 1e-8 of that scale still gives 1e-6.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    total = np.abs(a) + np.abs(b)
    if floor is None:
        floor = max(1e-8, 1e-2 * float(total.max(initial=0.0)))
    return float(np.max(np.abs(a - b) / np.maximum(total, floor), initial=0.0))
