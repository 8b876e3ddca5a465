"""The Learn tab on models other than the shipped MNIST LeNets, in real Chromium.

Tiny VGG (64×64×3, mean/std-normalised RGB): the input is shown in colour, exactly the
forward answer's input de-normalised; conv1's kernels are a grid of 10 filters (columns) × R,
G, B (rows); a Step shows /api/gradient's own numbers; and, imported, it has no training run:
the page says so in one sentence and never asks /api/history (whose 404 would be a console
error). LeNet-5 (imported, one channel) says the same; a trained model without its history
file says the other sentence; Fashion-MNIST's single recorded run shows no seeds comparison,
and switching from it to Tiny VGG in place leaves nothing of its run on screen.
"""
from __future__ import annotations

import shutil

import httpx
import numpy as np
import pytest

from app.config import ROOT
from tests.browser.conftest import SHOTS, ready
from tests.browser.helpers import draw_seven, opener, pick_picture, serve_models

IMPORTED = ("This model was imported, so it has no recorded training run to replay; the "
            "shipped models have one.")
UNRECORDED = ("No training run was recorded for this model (convscope train records one "
              "beside the .npz).")
ONE_SEED = ("Only one training run was recorded for this model, so there is no second seed's "
            "filters to set beside its own.")
SHIPPED = ROOT / "models" / "lenet-mnist.npz"
FASHION = ROOT / "models" / "lenet-fashion.npz"


MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def normalised_lenet5(imported, folder):
    """LeNet-5 as a teacher's model normalised like torchvision's MNIST examples: one channel,
    (x − 0.1307) / 0.3081, so its input runs from −0.42 to 2.82 instead of [0, 1]."""
    from engine.network import Network
    net = Network.load(imported / "lenet5.npz")
    meta = dict(net.metadata, name="lenet5n")
    meta["input"] = {**meta["input"], "mean": [MNIST_MEAN], "std": [MNIST_STD]}
    path = folder / "lenet5n.npz"
    net.save(path, meta)
    return path


@pytest.fixture(scope="module")
def models_url(imported_models, tmp_path_factory):
    """Tiny VGG (default), LeNet-5, and when shipped: Fashion-MNIST (with its history) and a
    copy of the shipped LeNet in a folder of its own, without its history ("lonely")."""
    extra = [imported_models / "lenet5.npz", normalised_lenet5(imported_models,
                                                               tmp_path_factory.mktemp("norm"))]
    if FASHION.is_file():
        extra.append(FASHION)
    if SHIPPED.is_file():
        lonely = tmp_path_factory.mktemp("lonely") / "lonely.npz"
        shutil.copy(SHIPPED, lonely)
        extra.append(lonely)
    with serve_models(imported_models / "tinyvgg.npz", *extra) as url:
        yield url


@pytest.fixture
def open_page(browser, models_url):
    """Pages that also record the /api/ requests they make (page.api_requests)."""
    with opener(browser, models_url) as _open:
        def _open_recording(path, **kw):
            page = _open(path, **kw)
            page.api_requests = []
            page.on("request", lambda r: "/api/" in r.url and page.api_requests.append(r.url))
            return page
        yield _open_recording


def pick_gradient(page, tmp_path):
    yy, xx = np.mgrid[0:96, 0:128]
    picture = np.stack([xx * 2 % 256, yy * 2 % 256, (255 - xx) % 256], -1).astype(np.uint8)
    pick_picture(page, picture, tmp_path)


def open_learn(page):
    page.click("#tab-learn")
    page.wait_for_function("() => window.convscope.learn && window.convscope.learn.idle "
                           "&& document.querySelector('#learn-table thead')")


def canvas_rgba(page, selector) -> np.ndarray:
    w, h, data = page.evaluate("""(s) => { const c = document.querySelector(s);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return [c.width, c.height, Array.from(d)]; }""", selector)
    return np.asarray(data, np.uint8).reshape(h, w, 4)


def no_history_shown(page, sentence, since=0):
    page.wait_for_function("(t) => document.querySelector('#learn-h-none').textContent === t",
                           arg=sentence)
    assert page.is_visible("#learn-h-none") and not page.is_visible("#learn-h-run")
    assert not page.is_visible("#learn-h-play"), "no empty player under the sentence"
    asked = page.api_requests[since:]
    assert not any("/api/history" in u for u in asked), asked


def table_after(page, steps) -> dict:
    page.wait_for_function(
        f"""() => window.convscope.learn.idle &&
                  document.querySelector('#learn-table thead').textContent.includes('after {steps} step')""")
    rows = {}
    for tr in page.locator("#learn-table tbody tr").all():
        tds = tr.locator("td").all()
        rows[tr.locator("th").inner_text()] = [td.inner_text() for td in tds]
    return rows


def number(text):
    return float(text.rstrip("%").replace("\u2212", "-"))


def test_tiny_vgg_learn_in_colour_grouped_filters_and_the_servers_numbers(open_page, models_url,
                                                                        tmp_path):
    page = open_page("/?model=tinyvgg")
    ready(page)
    pick_gradient(page, tmp_path)
    open_learn(page)
    model = httpx.get(f"{models_url}/api/model?model=tinyvgg").json()
    assert model["history"] is False and model["imported"]["file"] == "tinyvgg.onnx"

    # The input as the network reads it, de-normalised to colour: the forward answer's own.
    body = page.evaluate("() => window.convscope.store.get().trace.body")
    fwd = httpx.post(f"{models_url}/api/forward?model=tinyvgg", json=body, timeout=30).json()
    x = np.asarray(fwd["layers"][0]["values"], np.float64).reshape(3, 64, 64)
    mean = np.asarray(model["input"]["mean"])[:, None, None]
    std = np.asarray(model["input"]["std"])[:, None, None]
    want = np.clip(np.round((x * std + mean) * 255), 0, 255).transpose(1, 2, 0)
    shown = canvas_rgba(page, "#learn-input")
    cell = shown.shape[0] // 64
    assert shown.shape[:2] == (64 * cell, 64 * cell) and cell >= 1
    got = shown[cell // 2::cell, cell // 2::cell, :3].astype(np.float64)
    assert np.abs(got - want).max() <= 1, "the Learn input is not the de-normalised model input"
    assert np.abs(got[..., 0] - got[..., 2]).mean() > 20, "the input is shown in grey"
    assert page.inner_text("#learn-input-cap") == "your image"
    assert page.inner_text("#learn-title") == "One step of backpropagation on your image"
    assert page.inner_text("#learn-prompt") == "Pick, drop or paste an image on the pad"

    # conv1's kernels: one column per filter (numbered), one row per colour channel (R, G, B).
    title = page.inner_text("#learn-conv1-title")
    assert title == "conv1's 10 filters (columns) × 3 colour channels R, G, B (rows)", title
    before = page.locator("#learn-conv1 canvas[data-k='before']")
    assert before.get_attribute("data-rows") == "R,G,B"
    assert before.get_attribute("data-cols") == ",".join(map(str, range(10)))

    # Step: the table shows what /api/gradient answers for the same body, target and rate.
    target = int(page.locator("input[name=learn-target]:checked").get_attribute("value"))
    rate = float(page.inner_text("#learn-lr-value"))
    page.click("#learn-step")
    rows = table_after(page, 1)
    r = httpx.post(f"{models_url}/api/gradient?model=tinyvgg", timeout=30, json={
        **body, "target": target, "learning_rate": rate, "steps": 1}).json()
    p_row = next(v for k, v in rows.items() if k.startswith("p(target"))
    err_row = next(v for k, v in rows.items() if k.startswith("total error"))
    ce_row = next(v for k, v in rows.items() if k.startswith("cross-entropy"))
    for (shown_before, shown_after), get, tol in (
            (p_row, lambda f: f["probabilities"][target] * 100, 0.005),
            (err_row, lambda f: f["total_error"], 5e-5),
            (ce_row, lambda f: f["cross_entropy"], 5e-5)):
        assert number(shown_before) == pytest.approx(get(r["before"]), abs=tol)
        assert number(shown_after) == pytest.approx(get(r["after"]), abs=tol)
    assert number(p_row[1]) > number(p_row[0]), "one step toward the target raises it"

    # The kernels' grid puts filter f's channel c at column f, row c: a strongly signed weight
    # is orange (positive) or blue (negative) at its own tile's centre.
    w = np.asarray(r["kernels"]["conv1"]["before"]).reshape(r["kernels"]["conv1"]["shape"])
    grid = canvas_rgba(page, "#learn-conv1 canvas[data-k='before']").astype(int)
    cell, gap, k = 8, 4, 3
    tw = k * cell + gap
    left, top = grid.shape[1] - (10 * tw - gap), grid.shape[0] - (3 * tw - gap)
    assert left > 0 and top > 0, "room for the channel and filter labels"
    big = np.abs(w[:, :, 1, 1]).max()
    checked = 0
    for f in range(10):
        for c in range(3):
            v = w[f, c, 1, 1]
            if abs(v) < 0.5 * big:
                continue
            red, _, blue, _ = grid[top + c * tw + cell + cell // 2, left + f * tw + cell + cell // 2]
            assert (red > blue) == (v > 0), f"filter {f} channel {c}: weight {v}, pixel {red, blue}"
            checked += 1
    assert checked >= 3

    no_history_shown(page, IMPORTED)
    page.screenshot(path=str(SHOTS / "learn-tinyvgg.png"), full_page=True)


def test_tiny_vgg_learn_on_a_phone(open_page, tmp_path):
    page = open_page("/?model=tinyvgg", touch=True, viewport=(390, 844))
    ready(page)
    pick_gradient(page, tmp_path)
    open_learn(page)
    no_history_shown(page, IMPORTED)
    # Every figure fits the phone's width, and one shrunk to fit keeps its shape (square maps).
    boxes = page.evaluate("""() => [...document.querySelectorAll('#view-learn canvas')]
        .filter((c) => c.width > 0 && c.offsetParent)
        .map((c) => { const r = c.getBoundingClientRect();
                      return [c.id || c.dataset.k || '?', r.right, r.width / r.height, c.width / c.height]; })""")
    for name, right, shown, own in boxes:
        assert right <= 390 + 0.5, f"{name} runs off a phone's screen (right edge {right} px)"
        assert shown == pytest.approx(own, rel=0.03), f"{name} is squashed: {shown} vs {own}"
    assert any(n == "learn-conv2" for n, *_ in boxes)


def test_lenet5_has_no_recorded_run_either(open_page):
    page = open_page("/?model=lenet5")
    ready(page)
    draw_seven(page)
    open_learn(page)
    assert page.inner_text("#learn-input-cap") == "your drawing"
    assert page.inner_text("#learn-prompt") == "Draw a digit on the pad"
    assert page.inner_text("#learn-conv1-title") == "conv1's 6 filters"
    no_history_shown(page, IMPORTED)


def test_a_normalised_one_channel_input_is_shown_over_its_own_range(open_page, models_url):
    """Grey = the pixel before normalisation (x·std + mean), not the normalised value clipped
    to [0, 1]: the stroke's soft edge keeps its greys and the background stays black."""
    page = open_page("/?model=lenet5n")
    ready(page)
    draw_seven(page)
    open_learn(page)
    body = page.evaluate("() => window.convscope.store.get().trace.body")
    fwd = httpx.post(f"{models_url}/api/forward?model=lenet5n", json=body, timeout=30).json()
    x = np.asarray(fwd["layers"][0]["values"], np.float64).reshape(28, 28)
    assert x.min() < -0.4 and x.max() > 2, "the served input is normalised"
    want = np.clip(np.round((x * MNIST_STD + MNIST_MEAN) * 255), 0, 255)
    shown = canvas_rgba(page, "#learn-input")
    cell = shown.shape[0] // 28
    got = shown[cell // 2::cell, cell // 2::cell, 0].astype(np.float64)
    assert np.abs(got - want).max() <= 1, "the input's greys are not its own range's"
    assert ((want > 20) & (want < 235)).sum() > 10, "a stroke with soft edges to compare"
    # The preprocessing strip's input thumbnail likewise (96 px for 28: read at pixel centres).
    strip = page.evaluate("""() => { const c = document.querySelectorAll('#prep-strip figure canvas')[4];
        return [c.width, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }""")
    side = strip[0]
    thumb = np.asarray(strip[1], np.uint8).reshape(side, side, 4)
    at = ((np.arange(28) + 0.5) * side / 28).astype(int)
    assert np.abs(thumb[at][:, at, 0].astype(float) - want).max() <= 1, "the strip's input is clipped"


def test_a_trained_model_without_its_history_file_says_so(open_page):
    if not SHIPPED.is_file():
        pytest.skip("models/lenet-mnist.npz is not shipped in this checkout")
    page = open_page("/?model=lonely")
    ready(page)
    draw_seven(page)
    open_learn(page)
    no_history_shown(page, UNRECORDED)


def test_one_recorded_run_shows_no_seeds_and_a_switch_drops_it(open_page, models_url):
    if not FASHION.with_name("lenet-fashion.history.npz").is_file():
        pytest.skip("models/lenet-fashion.history.npz is not shipped in this checkout")
    seeds = httpx.get(f"{models_url}/api/history?model=lenet-fashion", timeout=30).json()["seeds"]
    if len(seeds) > 1:
        pytest.skip("lenet-fashion has a second-seed run here")
    page = open_page("/?model=lenet-fashion")
    ready(page)
    draw_seven(page)
    open_learn(page)
    page.wait_for_function("() => window.convscope.learn.history.ready", timeout=20_000)
    assert page.inner_text("#learn-h-seeds-hint") == ONE_SEED
    assert not page.is_visible("#learn-h-seeds-head") and not page.is_visible("#learn-h-seeds")
    assert page.inner_text("#learn-h-kcap") == "conv1's 6 filters"
    assert page.is_visible("#learn-h-play") and not page.is_visible("#learn-h-none")
    # Switched in place to an imported model: its sentence, none of Fashion's run.
    before = len(page.api_requests)
    page.select_option("#model-select", "tinyvgg")
    page.wait_for_function("() => window.convscope.store.get().model?.modelId === 'tinyvgg'")
    no_history_shown(page, IMPORTED, since=before)
    assert page.inner_text("#learn-h-kcap") == ""
    # ...and back: Fashion's run is asked for again and shown.
    back = len(page.api_requests)
    page.select_option("#model-select", "lenet-fashion")
    page.wait_for_function("() => window.convscope.store.get().model?.modelId === 'lenet-fashion'"
                           " && window.convscope.learn.history.ready", timeout=20_000)
    assert any("/api/history?" in u for u in page.api_requests[back:])
    assert page.is_visible("#learn-h-play") and not page.is_visible("#learn-h-none")
    assert page.inner_text("#learn-h-kcap") == "conv1's 6 filters"


def test_switching_models_on_the_learn_tab_starts_over(open_page, tmp_path):
    """LeNet-5's answer is not painted over Tiny VGG's record (it threw on a stage Tiny VGG
    lacks, which stopped the model switch half-way: no picture picker, a "model:" error): the
    tab clears, asks for the picture, then shows Tiny VGG's own step."""
    page = open_page("/?model=lenet5")
    ready(page)
    draw_seven(page)
    open_learn(page)
    page.click("#learn-step")
    table_after(page, 1)
    page.select_option("#model-select", "tinyvgg")
    page.wait_for_function("() => window.convscope.store.get().model?.modelId === 'tinyvgg'")
    assert page.evaluate("() => window.convscope.store.get().error") in (None, "")
    assert page.is_visible("#pad-picker"), "the switch finished: the pad picks pictures"
    # Started over: no step of LeNet-5's left. The caption asks for a picture, or (once the
    # drawing still on the pad has come back through Tiny VGG) offers its first step.
    caption = page.inner_text("#learn-table caption")
    assert caption == "Pick, drop or paste an image on the pad to begin." \
        or caption.startswith("Press Step to take a gradient-descent step."), caption
    assert page.inner_text("#learn-count") == "0 steps"
    assert page.inner_text("#learn-conv1-title").startswith("conv1's 10 filters")
    pick_gradient(page, tmp_path)
    page.wait_for_function("() => window.convscope.learn.idle && document.querySelector("
                           "'#learn-table thead')?.textContent.includes('after 0 steps')")
    classes = page.evaluate("() => window.convscope.store.get().model.classes")
    target = page.inner_text("#learn-table tbody th")
    assert any(f"target = {c})" in target for c in classes), target
    assert page.get_attribute("#learn-conv1 canvas[data-k='before']", "data-rows") == "R,G,B"
