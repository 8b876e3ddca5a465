"""The model switch in real Chromium: the selector and the URL, the Harley model's connection
table (hovering a conv2 unit lights only the pool1 maps its filter reads, the matrix marks its
column, the panel sums only those maps), Fashion-MNIST's class names, and a screenshot.

Runs its own server with all three models (the shipped files when present, else seeded
stand-ins saved under the shipped names, as in tests/api/test_models.py).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from engine.data import FASHION_MNIST_CLASSES
from engine.spec import LECUN_C3_CONNECTIONS
from tests.api.test_models import _model_files
from tests.browser.conftest import SHOTS, settled
from tests.browser.helpers import assert_no_errors, conv_panel_adds_up, new_page, serve
from tests.browser.test_page import hover_unit, overlay_lit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """(base URL, model files) of a uvicorn serving the three models, on a free port."""
    from app.config import Settings
    from app.main import create_app
    files = _model_files(tmp_path_factory)
    app = create_app(Settings(model_path=files["lenet-mnist"],
                              extra_models=(files["lenet-harley"], files["lenet-fashion"])))
    with serve(app) as url:
        yield url, files


@pytest.fixture
def open_zoo(browser, zoo):
    url, _ = zoo
    contexts, pages = [], []

    def _open(path="/"):
        ctx, page = new_page(browser, url + path)
        contexts.append(ctx)
        pages.append(page)
        page.wait_for_function("() => window.convscope && window.convscope.store.get().trace"
                               " && window.convscope.store.get().model?.modelId")
        settled(page)
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
    assert_no_errors(pages)


def switch(page, model_id):
    page.select_option("#model-select", model_id)
    page.wait_for_function("(id) => { const s = window.convscope.store.get();"
                           " return s.model?.modelId === id && s.trace; }", arg=model_id)
    settled(page)


def load_sample(page, class_index):
    """Load a shipped test image of the class and wait until its trace is on screen."""
    page.select_option("#sample-digit", str(class_index))
    page.click("#sample-load")
    page.wait_for_function("() => { const s = window.convscope.store.get();"
                           " return s.trace && 'pixels' in s.trace.body; }")
    settled(page)


def veiled_maps(page):
    """Per pool1 map: the fraction of its area the overlay veils (light and mostly opaque)."""
    return page.evaluate("""async () => {
        const { mapRect } = await import('/static/js/layout.js');
        const v = window.convscope.net.view;
        const col = v.layout.columns[v.index.get('pool1').column];
        const c = document.getElementById('net-overlay'), k = c.width / c.getBoundingClientRect().width;
        const ctx = c.getContext('2d');
        return Array.from({ length: col.shape[0] }, (_, m) => {
            const r = mapRect(col, m);
            const d = ctx.getImageData(Math.floor(r.x * k) + 2, Math.floor(r.y * k) + 2,
                                       Math.max(1, Math.floor(r.w * k) - 4), Math.max(1, Math.floor(r.h * k) - 4)).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 150 && d[i - 3] > 200) n++;
            return n / (d.length / 4);
        }); }""")


def test_selector_lists_the_models_and_the_url_records_the_choice(open_zoo, zoo):
    page = open_zoo()
    options = page.eval_on_selector_all("#model-select option", "os => os.map(o => o.value)")
    assert options == ["lenet-mnist", "lenet-harley", "lenet-fashion"]
    assert "model=" not in page.url, "the default model keeps a clean URL"
    assert page.text_content("label:has(#fold-relu)").strip() == "Fold ReLU"
    load_sample(page, 3)
    ink = "() => Array.from(window.convscope.store.get().trace.byName.get('input').values)"
    before = page.evaluate(ink)
    assert page.locator("#prep-strip [data-skipped]").count() == 0 and page.is_hidden("#prep-strip .prep-note")
    switch(page, "lenet-harley")
    # The query names the model; the hash (issue 15's view state: the test digit) may follow it.
    assert urlsplit(page.url).query == "model=lenet-harley"
    names = page.evaluate("() => window.convscope.store.get().trace.layers.map(l => l.name)")
    assert "tanh1" in names and "relu1" not in names, "the trace is the Harley model's"
    assert page.text_content("label:has(#fold-relu)").strip() == "Fold tanh", "Harley's activations are tanh"
    assert page.evaluate(ink) == before, "switching re-runs the current drawing"
    page.reload()
    page.wait_for_function("() => window.convscope?.store.get().model?.modelId === 'lenet-harley'"
                           " && window.convscope.store.get().trace")
    assert page.input_value("#model-select") == "lenet-harley", "a reload keeps the choice"
    switch(page, "lenet-mnist")
    assert "model=" not in page.url


def test_an_unknown_model_in_the_url_falls_back_to_the_default_and_says_so(open_zoo):
    page = open_zoo("/?model=lenet-7")
    assert page.input_value("#model-select") == "lenet-mnist"
    assert "model=" not in page.url
    assert "lenet-7" in page.text_content("#model-slot .model-note")


def test_harley_conv2_hover_lights_only_the_connected_maps(open_zoo):
    page = open_zoo()
    assert page.is_hidden("#connections"), "the ReLU model has no connection table"
    switch(page, "lenet-harley")
    assert page.is_visible("#connections")
    load_sample(page, 3)
    for f in (13, 0, 15):           # two non-adjacent pairs, three consecutive, all six
        check_conv2_hover(page, [f, 4, 5])


def check_conv2_hover(page, unit):
    f = unit[0]
    windows = page.evaluate("([l, u]) => window.convscope.net.windowBoxes(l, u)", ["conv2", unit])
    assert [w["c"] for w in windows] == list(range(6))
    hover_unit(page, "conv2", unit)
    page.wait_for_selector(f'#explain[data-layer="conv2"][data-unit="{",".join(map(str, unit))}"]')
    reads = LECUN_C3_CONNECTIONS[f]
    assert overlay_lit(page, windows) == [m in reads for m in range(6)], \
        f"filter {f} reads maps {reads}: only their windows are outlined"
    veils = veiled_maps(page)
    assert [v > 0.9 for v in veils] == [m not in reads for m in range(6)], veils
    # The matrix marks the filter's column: its 6 cells, of which the connected ones are filled.
    assert page.eval_on_selector_all("#connections td.focus", "ts => ts.map(t => +t.dataset.map)") \
        == list(range(6))
    assert page.eval_on_selector_all("#connections td.on.focus",
                                     "ts => ts.map(t => +t.dataset.map)") == reads
    # The panel's terms are those maps only, and they still add up to the value.
    chans = page.eval_on_selector_all("#explain .channel", "bs => bs.map(b => +b.dataset.channel)")
    assert chans == reads
    conv_panel_adds_up(page)
    assert ("only" in page.text_content("#explain .note")) == (len(reads) < 6)


def test_pointing_at_a_matrix_column_focuses_that_filter(open_zoo):
    page = open_zoo("/?model=lenet-harley")
    page.hover('#connections td[data-filter="7"][data-map="2"]')
    focus = page.evaluate("() => window.convscope.store.get().hover")
    assert focus["layer"] == "conv2" and focus["unit"][0] == 7
    assert page.eval_on_selector_all("#connections td.on.focus",
                                     "ts => ts.map(t => +t.dataset.map)") == LECUN_C3_CONNECTIONS[7]
    page.mouse.move(5, 700)
    assert page.evaluate("() => window.convscope.store.get().hover") is None


def test_fashion_shows_its_class_names_and_a_screenshot(open_zoo, zoo):
    _, files = zoo
    page = open_zoo("/?model=lenet-fashion")
    names = page.eval_on_selector_all("#sample-digit option", "os => os.map(o => o.textContent)")
    assert names == FASHION_MNIST_CLASSES
    assert page.text_content("#sample-label") == "Test image", "clothes are not digits"
    load_sample(page, 1)                            # Trouser
    body = page.evaluate("() => window.convscope.store.get().trace.body")
    assert body["preprocess"] is False, "a Fashion image is fed as it is"
    lit = page.evaluate("""() => { const c = [...document.querySelectorAll('#prep-strip canvas')].pop();
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; }""")
    assert lit > 100, "the 'input 32' thumbnail shows the image fed as it is"
    skipped = page.eval_on_selector_all("#prep-strip .prep-step[data-skipped]",
                                        "fs => fs.map(f => f.querySelector('figcaption').textContent)")
    # Fashion's own pipeline (crop to the ink, fit the 28×28 frame; no centre of mass): its
    # steps, each saying it was skipped for a test image fed as it is.
    assert skipped == ["cropped", "fitted 28×28"], "the steps it skipped say so, not blank boxes"
    assert page.is_visible("#prep-strip .prep-note") and "not a digit" in page.text_content("#prep-strip .prep-note")
    assert page.locator("#prep-strip .prep-skip:visible").count() == 2
    assert page.evaluate("() => window.convscope.store.get().hover") is None
    assert "conv1" in page.text_content("#legend"), "with nothing hovered the legend reads conv1's column"
    shown = page.text_content("#prediction strong")
    assert shown in FASHION_MNIST_CLASSES
    if files["lenet-fashion"].parent == ROOT / "models":   # the shipped, trained model
        assert shown == "Trouser", "the trained Fashion model reads a test trouser"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "models-fashion.png"))


def test_screenshot_of_the_harley_model_hovering_conv2(open_zoo):
    page = open_zoo("/?model=lenet-harley")
    load_sample(page, 3)
    hover_unit(page, "conv2", [12, 4, 4])
    page.wait_for_selector('#explain[data-layer="conv2"][data-unit="12,4,4"]')
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "models-harley.png"))
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 720, \
        "the page with the connection table still fits 1280×720 without scrolling"
