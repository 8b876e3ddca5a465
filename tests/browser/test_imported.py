"""Imported models in the page: Tiny VGG (64×64×3: the pad becomes an image picker, conv1's
explanation shows all three colour channels and adds up) and LeNet-5 (28×28 input, pad 2, avg
pooling: drawn and explained); each model's pad words are its own (Fashion: clothing).
Screenshots go to /tmp/convscope-imported-*.png."""
import numpy as np
import pytest

from app.config import ROOT
from tests.browser.conftest import ready
from tests.browser.helpers import (conv_panel_adds_up, draw_seven, opener, pick_picture,
                                   serve_models, strongest_unit)
from tests.browser.test_page import hover_unit


@pytest.fixture(scope="module")
def imported_url(imported_models):
    fashion = ROOT / "models" / "lenet-fashion.npz"
    extra = [imported_models / "lenet5.npz"] + ([fashion] if fashion.is_file() else [])
    with serve_models(imported_models / "tinyvgg.npz", *extra) as url:
        yield url


@pytest.fixture
def open_imported(browser, imported_url):
    with opener(browser, imported_url) as _open:
        yield _open


def _explained(page, layer, unit):
    hover_unit(page, layer, unit)
    page.wait_for_selector(f'#explain[data-layer="{layer}"][data-unit="{",".join(map(str, unit))}"]')
    return page.evaluate("() => window.convscope.store.get().explanation")


def test_tiny_vgg_picks_an_image_and_explains_three_channels(open_imported, tmp_path):
    page = open_imported("/?model=tinyvgg")
    ready(page)
    assert page.text_content("#pad-hint") == "Pick, drop or paste an image"
    assert page.is_visible("#pad-picker") and not page.is_visible("#pad-eraser")
    assert not page.is_visible("#sample-group"), "an imported model has no test images"
    yy, xx = np.mgrid[0:96, 0:128]
    picture = np.stack([xx * 2 % 256, yy * 2 % 256, (255 - xx) % 256], -1).astype(np.uint8)
    pick_picture(page, picture, tmp_path)
    shape = page.evaluate("() => window.convscope.store.get().trace.byName.get('input').shape")
    assert shape == [3, 64, 64]
    # The picture reached the network in colour: the three channels differ.
    spread = page.evaluate("""() => { const l = window.convscope.store.get().trace.byName.get('input');
        const n = 64 * 64; let d = 0; for (let i = 0; i < n; i++) d += Math.abs(l.values[i] - l.values[n + i]);
        return d / n; }""")
    assert spread > 0.1
    unit = strongest_unit(page, "conv1")
    e = _explained(page, "conv1", unit)
    assert e["channels"] == [0, 1, 2] and e["source"]["shape"] == [3, 3, 3]
    chans = page.eval_on_selector_all("#explain .channel", "bs => bs.map(b => +b.dataset.channel)")
    assert chans == [0, 1, 2]
    assert len(conv_panel_adds_up(page)) == 3
    prediction = page.text_content("#prediction")
    classes = page.evaluate("() => window.convscope.store.get().model.classes")
    assert any(c in prediction for c in classes) and "lifeboat" in classes
    page.screenshot(path="/tmp/convscope-imported-tinyvgg.png")


def test_lenet5_is_drawn_and_explained_at_28x28(open_imported):
    page = open_imported("/?model=lenet5")
    ready(page)
    assert page.text_content("#pad-hint") == "Draw a digit here"
    draw_seven(page)
    layers = page.evaluate("() => window.convscope.store.get().trace.layers.map(l => [l.name, l.shape])")
    assert layers[0] == ["input", [1, 28, 28]] and layers[1] == ["conv1", [6, 28, 28]]
    assert page.text_content("#prep-strip").count("input 28") == 1
    # A border unit of conv1: its 5×5 window hangs over the 28×28 input (padding 2) and is
    # clipped to it; the explanation still adds up.
    e = _explained(page, "conv1", [2, 0, 13])
    assert e["source"]["window"][1] == [0, 3]
    conv_panel_adds_up(page)
    pool = _explained(page, "pool1", strongest_unit(page, "pool1"))
    assert pool["op"] == "avg" and pool["count"] == 4
    assert pool["sum"] / 4 == pytest.approx(pool["value"], rel=1e-5, abs=1e-6)
    page.mouse.move(5, 5)
    page.screenshot(path="/tmp/convscope-imported-lenet5.png")


def test_fashion_pad_asks_for_clothing(open_imported):
    if not (ROOT / "models" / "lenet-fashion.npz").is_file():
        pytest.skip("models/lenet-fashion.npz is not shipped in this checkout")
    page = open_imported("/?model=lenet-fashion")
    ready(page)
    assert page.text_content("#pad-hint") == "Draw a piece of clothing"
    assert "clothing" in page.get_attribute("#pad", "aria-label")
    assert page.text_content("#sample-label") == "Test image"
