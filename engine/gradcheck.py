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


def rel_error(a, b, floor: float = 1e-8) -> float:
    """max |a − b| / max(|a| + |b|, floor), elementwise; 0 for identical arrays."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))
