"""Fixtures for the API tests: a real test digit and ways to send it."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from app.config import ROOT


@pytest.fixture(scope="session")
def digit() -> np.ndarray:
    """A shipped MNIST test 7 (28×28 uint8, 255 = ink)."""
    with np.load(ROOT / "models" / "samples.npz") as f:
        return f["images"][7, 0]


def to_data_url(array: np.ndarray, mode: str, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, fmt)
    mime = "png" if fmt == "PNG" else "jpeg"
    return f"data:image/{mime};base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="session")
def data_url():
    return to_data_url


@pytest.fixture(scope="session")
def pad_drawing(digit) -> np.ndarray:
    """The digit as the page's pad sends it: 280×280 RGBA, white ink, alpha = ink."""
    big = np.asarray(Image.fromarray(digit).resize((280, 280), Image.BILINEAR))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = big
    return rgba
