"""Losses on a batch of logits (N, K) and integer labels (N,).

Cross-entropy is what training minimises. The "total error" E = Σ ½ (target − output)² on the
softmax output, summed over classes and averaged over the batch, is what Harley's article (and
Rumelhart et al.) show; we report it beside the loss and give its gradient too, so a later view
can show the error falling step by step. Both return (value, dlogits), with dlogits the
gradient of the batch-mean value.
"""
from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax; subtracting the row max keeps exp() finite for any logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def one_hot(labels: np.ndarray, k: int, dtype=np.float32) -> np.ndarray:
    out = np.zeros((len(labels), k), dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean −log softmax(logits)[label] and its gradient (softmax − onehot) / N."""
    n = len(labels)
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))   # log-sum-exp: no log(0)
    loss = -float(log_p[np.arange(n), labels].mean())
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), labels] -= 1
    return loss, dlogits / n


def total_error(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over the batch of Σ_k ½ (t_k − p_k)², p = softmax(logits), and d/dlogits.

    Chain rule through the softmax Jacobian J = diag(p) − p pᵀ:
    dE/dz = J (p − t) = p ⊙ (g − p·g) with g = p − t.
    """
    n = len(labels)
    p = softmax(logits)
    g = p - one_hot(labels, logits.shape[1], p.dtype)
    value = float(0.5 * (g * g).sum() / n)
    dlogits = p * (g - (p * g).sum(axis=1, keepdims=True))
    return value, dlogits / n
