"""The Network tab, the 3D tab and the Lab's step mode on imported models, as a teacher showing
their own model sees them: a photo's channels named by colour and drawn on their own declared
range, the size strip's title from the record, the step mode's start on a photo, a model
without a final softmax saying where its probabilities come from, a long class name fitting
the phone's prediction pill. Screenshots go to /tmp/convscope-views-*.png."""
import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import ready
from tests.browser.helpers import draw_seven, opener, pick_picture, serve_models


@pytest.fixture(scope="module")
def views_url(imported_models):
    names = ["tinyvgg", "lenet5", "convnetjs", "bn_dropout"]
    with serve_models(*(imported_models / f"{n}.npz" for n in names)) as url:
        yield url


@pytest.fixture
def open_view(browser, views_url):
    with opener(browser, views_url) as _open:
        yield _open


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A red van on grey road under blue sky: three channels that differ."""
    yy, xx = np.mgrid[0:96, 0:128]
    img = np.zeros((96, 128, 3), np.uint8)
    img[:] = [120, 170, 230]
    img[60:] = [90, 90, 90]
    img[(yy > 40) & (yy < 70) & (xx > 20) & (xx < 108)] = [220, 30, 30]
    path = tmp_path_factory.mktemp("photo") / "van.png"
    Image.fromarray(img).save(path)
    return path


def _pick(page, photo):
    ready(page)
    pick_picture(page, photo)


def _pin(page, layer, unit):
    page.evaluate("([l, u]) => window.convscope.views.apply({pin: {layer: l, unit: u}})", [layer, unit])
    page.wait_for_selector(f'#explain[data-layer="{layer}"]')


def test_photo_channels_named_by_colour_and_drawn_on_their_own_range(open_view, photo):
    page = open_view("/?model=tinyvgg")
    _pick(page, photo)
    model = page.evaluate("() => window.convscope.store.get().model")
    mean, std = model["input"]["mean"], model["input"]["std"]
    # conv1 reads the input: its channel buttons and window caption name the colours.
    _pin(page, "conv1", [1, 30, 30])
    page.wait_for_selector('#explain[data-unit="1,30,30"] .channel')
    buttons = page.eval_on_selector_all("#explain .channel", "bs => bs.map(b => b.textContent)")
    assert [b.split(":")[0] for b in buttons] == [
        "red channel (map 0)", "green channel (map 1)", "blue channel (map 2)"]
    text = page.text_content("#explain")
    assert "all 3 colour channels of input (red, green, blue)" in text
    assert "Σ over 3 channels" in text
    assert "input map" not in text
    # An input pixel: its colour, the model's size and its value before normalising.
    values = page.evaluate("() => Array.from(window.convscope.store.get().trace.byName.get('input').values)")
    v = values[2 * 64 * 64 + 50 * 64 + 10]   # blue channel, road row 50
    _pin(page, "input", [2, 50, 10])
    note = page.text_content("#explain .note")
    assert "blue channel (map 2) of the 64×64 input" in note and "32×32" not in note and "ink" not in note
    x = v * std[2] + mean[2]
    assert f"x = {round(x, 3):g} of full blue" in note.replace("\u2212", "-")
    assert abs(x - 90 / 255) < 0.01, "the road's blue byte, 90, read back through the declaration"
    # The input column is drawn channel by channel on (0 − mean) / std … (1 − mean) / std.
    domains = page.evaluate("() => window.convscope.net.scaleOf('input').channels.map(c => c.domain)")
    for c, (lo, hi) in enumerate(domains):
        assert lo == pytest.approx(-mean[c] / std[c], rel=1e-6)
        assert hi == pytest.approx((1 - mean[c]) / std[c], rel=1e-6)
    assert page.text_content("#prep-strip figcaption") == "picture"
    legend = page.text_content("#legend")
    assert "black = none of that colour, white = full" in legend
    page.mouse.move(5, 5)
    page.screenshot(path="/tmp/convscope-views-tinyvgg.png")


def test_photo_in_3d_names_its_channels_and_range(open_view, photo):
    page = open_view("/?model=tinyvgg#tab=3d")
    _pick(page, photo)
    page.wait_for_function("() => [...document.querySelectorAll('.view3d-label')].some(e => e.textContent.startsWith('input'))")
    label = page.evaluate("() => [...document.querySelectorAll('.view3d-label')].find(e => e.textContent.startsWith('input')).textContent")
    # The declared ranges span −2.12 (red's no-colour) to 2.64 (blue's full): not "[−5 … 5]".
    assert label == "input 3×64×64 RGB  [\u22122.1 … 2.6, each channel its own]"
    page.evaluate("() => window.convscope.views.apply({pin: {layer: 'input', unit: [0, 30, 30]}})")
    page.wait_for_function("() => document.querySelector('.view3d-tip').textContent.includes('red channel (map 0)')")
    page.screenshot(path="/tmp/convscope-views-tinyvgg-3d.png")


def test_size_strip_titles_from_the_record(open_view):
    page = open_view("/?model=tinyvgg")
    ready(page)
    # On a 1280 px laptop the model selector is readable and whole (it had 80 px: "tinyv").
    sel = page.evaluate("""() => { const el = document.querySelector('.model-slot select'), s = el.getBoundingClientRect(),
        slot = document.querySelector('.model-slot').getBoundingClientRect();
        const free = el.cloneNode(true); free.style.position = 'absolute'; free.style.maxWidth = 'none'; document.body.append(free); const natural = free.getBoundingClientRect().width; free.remove();
        return [s.width, natural, s.right, slot.right]; }""")
    assert sel[0] >= sel[1] - 1 and sel[2] <= sel[3] + 0.5, f"the model selector is cut: {sel}"
    assert page.text_content("#sizes h3").startswith("Why 1690 → 10?")
    assert "one unit per class (10)" in page.text_content("#sizes .note")
    assert page.get_attribute("#sizes", "aria-label").startswith("Why 1690 → 10")
    page = open_view("/?model=convnetjs")
    ready(page)
    page.click("#sizes h3")
    pool = page.text_content('#sizes [data-stage="pool2"]')
    assert "4.6667 → 4" in pool and "the last 2 rows and columns of the map never read" in pool


def test_model_without_softmax_says_where_its_probabilities_come_from(open_view):
    page = open_view("/?model=bn_dropout")
    ready(page)
    draw_seven(page)
    assert page.text_content("#prediction .p-via") == " (softmax of fc2)"
    # fc2, the last column, keeps its centred name inside the canvas.
    room = page.evaluate("""() => { const v = window.convscope.net.view, c = v.layout.columns.at(-1);
        return [c.label, c.x + c.w / 2, v.layout.width, c.font]; }""")
    assert room[0] == "fc2" and room[1] + 1.5 * room[3] <= room[2]
    # fc2's own explanation says the same, with this class's probability.
    _pin(page, "fc2", [3])
    page.wait_for_selector('#explain[data-unit="3"] .note >> text=no softmax of its own')
    p3 = page.evaluate("() => window.convscope.store.get().trace.probabilities[3]")
    assert "softmax(fc2): p(3)" in page.text_content("#explain")
    assert f"= {p3 * 100:.1f}%" in page.text_content("#explain")
    page.screenshot(path="/tmp/convscope-views-bn.png")


def test_a_folded_batchnorm_is_said_on_its_stages_panel(open_view):
    """bn_dropout's conv1 and fc1 carry a folded BatchNorm: their panels say the kernels shown
    are the file's rescaled; a stage without one says nothing of it."""
    page = open_view("/?model=bn_dropout")
    ready(page)
    draw_seven(page)
    told = page.evaluate("() => window.convscope.store.get().model.imported.stages")
    for layer, unit, words in (("conv1", [2, 5, 6], "these kernels"), ("fc1", [4], "these weights")):
        _pin(page, layer, unit)
        note = page.text_content("#explain .note.imported")
        assert note == told[layer] and f"is folded into {layer}: {words}" in note
    _pin(page, "fc2", [1])
    page.wait_for_selector('#explain[data-unit="1"] .note')
    assert page.locator("#explain .note.imported").count() == 0


def test_step_mode_starts_at_the_first_position_on_a_photo_and_at_the_ink_on_a_drawing(open_view, photo):
    page = open_view("/?model=tinyvgg")
    _pick(page, photo)
    page.click("#tab-lab")
    page.wait_for_function("() => !!document.querySelector('#lab-formula')?.dataset.output")
    page.click(".lab-step-toggle")
    page.wait_for_function("() => { const s = document.querySelector('.lab-mini.prod span');"
                           " return !!s && !s.textContent.includes('…'); }")
    hint = page.text_content(".lab-step-hint")
    assert "first position, top left" in hint and "ink" not in hint
    assert page.text_content(".lab-step-where").startswith("position 1 of")
    page = open_view("/?model=lenet5")
    ready(page)
    draw_seven(page)
    page.click("#tab-lab")
    page.wait_for_function("() => !!document.querySelector('#lab-formula')?.dataset.output")
    page.click(".lab-step-toggle")
    page.wait_for_function("() => { const s = document.querySelector('.lab-mini.prod span');"
                           " return !!s && !s.textContent.includes('…'); }")
    assert "first window that reads ink" in page.text_content(".lab-step-hint")
    start = int(page.text_content(".lab-step-where").split()[1])
    assert start > 1, "a digit's blank rows above the ink are skipped"
    win = page.eval_on_selector_all(".lab-mini.win span", "s => s.map(e => +e.textContent.replace('\u2212', '-'))")
    assert any(v != 0 for v in win), "the first window shown reads ink"


def test_long_class_name_fits_the_phone_pill(open_view, photo):
    page = open_view("/?model=tinyvgg", touch=True, viewport=(390, 844))
    _pick(page, photo)
    page.wait_for_function("() => document.body.classList.contains('compact')")
    # The longest of this model's names in the predicted slot (the van's own class is arbitrary).
    page.evaluate("""() => { const st = window.convscope.store, s = st.get(), c = s.model.classes.slice();
        c[s.trace.prediction] = 'bell pepper'; st.set({ model: { ...s.model, classes: c } }); }""")
    page.wait_for_function("() => document.querySelector('#prediction strong')?.textContent === 'bell pepper'")
    pill = page.locator("#prediction").bounding_box()
    tabs = page.evaluate("() => { const r = document.querySelector('.tabs').getBoundingClientRect(); return [r.right, r.bottom]; }")
    assert pill["x"] >= tabs[0], f"the pill ({pill}) slides over the tabs (right edge {tabs[0]})"
    assert pill["x"] + pill["width"] <= 390
    strong = page.evaluate("() => { const r = document.querySelector('#prediction strong').getBoundingClientRect(); return [r.left, r.right]; }")
    assert pill["x"] <= strong[0] and strong[1] <= pill["x"] + pill["width"], "the name is clipped"
    page.screenshot(path="/tmp/convscope-views-phone.png")


@pytest.mark.parametrize("model, units", [
    ("bn_dropout", [("conv1", [2, 0, 6]), ("conv1", [7, 13, 13]), ("conv2", [3, 6, 0]), ("pool1", [5, 6, 6])]),
    ("convnetjs", [("conv1", [0, 0, 27]), ("pool2", [1, 3, 3]), ("conv2", [4, 13, 0])]),
])
def test_windows_and_receptive_fields_the_views_draw_are_the_engines(open_view, model, units):
    """The 2D overlay, the pad's outline and the 3D lines come from tensor.js (sourceWindow,
    receptiveField) before the explanation arrives: on a stride-2 conv with padding and a
    floored pool they must be what the engine's /api/explain says."""
    page = open_view(f"/?model={model}")
    ready(page)
    got = page.evaluate("""async (units) => {
        const t = await import('/static/js/tensor.js');
        const s = window.convscope.store.get(), stages = s.trace.layers, out = [];
        for (const [layer, unit] of units) {
          const r = await fetch('/api/explain?model=' + s.modelId, { method: 'POST', headers: { 'content-type': 'application/json' },
                                body: JSON.stringify({ ...s.trace.body, layer, unit }) });
          const e = await r.json();
          out.push([layer, unit, t.sourceWindow(stages, layer, unit).window, e.source.window,
                    t.receptiveField(stages, layer, unit), e.receptive_field]);
        }
        return out; }""", units)
    for layer, unit, window, engine_window, field, engine_field in got:
        assert window == engine_window, f"{model} {layer}{unit}: window {window} vs the engine's {engine_window}"
        assert field == engine_field, f"{model} {layer}{unit}: field {field} vs the engine's {engine_field}"
    # conv1 [2, 0, 6] of bn_dropout (3×3, stride 2, padding 1) hangs over the top padding row.
    if model == "bn_dropout":
        assert got[0][3] == [[0, 1], [0, 2], [11, 14]]
        page.evaluate("() => window.convscope.views.apply({pin: {layer: 'conv1', unit: [2, 0, 6]}})")
        page.wait_for_selector('#explain[data-unit="2,0,6"] .clipped')
        assert "only its 2×3 part over the map" in page.text_content("#explain .clipped")
