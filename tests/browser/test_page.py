"""The page in real Chromium: drawing (mouse and touch) predicts, hover lights the source window
and the panel's numbers equal the API's, the keyboard moves the focus, no console errors.

Each test opens its own page on the shared live server; errors fail at teardown (conftest).
"""
from __future__ import annotations

import math

import httpx
import pytest

from tests.browser.conftest import SHOTS, ready, settled
from tests.browser.helpers import strongest_unit

PAD = 280   # the pad canvas's own resolution; strokes are given in these pixels


def pad_point(page, x, y):
    box = page.locator("#pad").bounding_box()
    return box["x"] + x * box["width"] / PAD, box["y"] + y * box["height"] / PAD


def one_stroke():
    return [(140 + 6 * t, 40 + 200 * t) for t in (i / 10 for i in range(11))]


def zero_stroke():
    return [(140 + 62 * math.sin(a), 140 - 95 * math.cos(a)) for a in (2 * math.pi * i / 24 for i in range(26))]


def clear(page):
    """Clear the pad and wait for the blank pad's trace; marks it so tests can tell it apart."""
    page.click("#pad-clear")
    settled(page)
    page.evaluate("() => { window.__blank = window.convscope.store.get().trace.body; }")


def draw_mouse(page, points, mid_stroke=None):
    clear(page)
    page.mouse.move(*pad_point(page, *points[0]))
    page.mouse.down()
    for k, p in enumerate(points[1:], 1):
        page.mouse.move(*pad_point(page, *p))
        if mid_stroke and k == len(points) // 2:
            mid_stroke(page)
    page.mouse.up()


def draw_touch(page, points):
    clear(page)
    cdp = page.context.new_cdp_session(page)
    first = pad_point(page, *points[0])
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": first[0], "y": first[1]}]})
    for p in points[1:]:
        x, y = pad_point(page, *p)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def prediction(page) -> int:
    settled(page)
    return int(page.get_attribute("#prediction [data-prediction]", "data-prediction"))


def hover_unit(page, layer, unit):
    """Move the mouse onto a unit of `layer` in the network view; returns its canvas box."""
    box = page.evaluate("([l, u]) => window.convscope.net.unitBox(l, u)", [layer, unit])
    net = page.locator("#net").bounding_box()
    page.mouse.move(net["x"] + box["x"] + box["w"] / 2, net["y"] + box["y"] + box["h"] / 2)
    return box


def overlay_lit(page, rects):
    """For each rectangle, is the overlay's outline drawn just outside its left edge?"""
    return page.evaluate("""(rects) => {
        const c = document.getElementById('net-overlay'), k = c.width / c.getBoundingClientRect().width;
        const ctx = c.getContext('2d');
        return rects.map(r => { const p = ctx.getImageData(Math.floor((r.x - 1) * k), Math.floor((r.y + r.h / 2) * k), 1, 1).data;
                                 return p[3] > 200 && p[0] < 80; }); }""", rects)


def api_explain(server_url, page, layer, unit):
    body = page.evaluate("() => window.convscope.store.get().trace.body")
    r = httpx.post(f"{server_url}/api/explain", json={**body, "layer": layer, "unit": unit}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def wait_panel(page, layer, unit):
    page.wait_for_selector(f'#explain[data-layer="{layer}"][data-unit="{",".join(map(str, unit))}"]', timeout=10_000)


@pytest.mark.parametrize("digit,stroke", [(1, one_stroke), (0, zero_stroke)])
def test_mouse_drawing_predicts_and_updates_during_the_stroke(open_page, trained, digit, stroke):
    page = open_page(trained)
    ready(page)
    mid = {}

    def check_mid_stroke(pg):
        # The network follows the stroke before the pointer is lifted.
        pg.wait_for_function("() => window.convscope.store.get().trace.body !== window.__blank")
        mid["sent"] = pg.evaluate("() => window.convscope.live.stats.forward.sent")

    draw_mouse(page, stroke(), mid_stroke=check_mid_stroke)
    assert prediction(page) == digit
    assert mid["sent"] >= 2, "no forward request was sent while drawing"
    assert page.evaluate("() => window.convscope.live.stats.forward.sent") > mid["sent"]


@pytest.mark.parametrize("digit,stroke", [(1, one_stroke), (0, zero_stroke)])
def test_touch_drawing_predicts(open_page, trained, digit, stroke):
    page = open_page(trained, touch=True)
    ready(page)
    draw_touch(page, stroke())
    assert prediction(page) == digit
    assert page.evaluate("() => window.convscope.pad.blank") is False


def test_hovering_a_pooled_unit_lights_its_window_and_shows_the_api_max(open_page, server_url):
    page = open_page()
    ready(page)
    draw_mouse(page, zero_stroke())
    settled(page)
    unit = strongest_unit(page, "pool1")
    windows = page.evaluate("([l, u]) => window.convscope.net.windowBoxes(l, u)", ["pool1", unit])
    assert len(windows) == 1
    assert overlay_lit(page, windows) == [False]
    hover_unit(page, "pool1", unit)
    wait_panel(page, "pool1", unit)
    assert overlay_lit(page, windows) == [True], "the 2×2 window is not outlined"
    cell = page.evaluate("([l, u]) => window.convscope.net.unitBox(l, u)", ["relu1", [unit[0], 2 * unit[1], 2 * unit[2]]])
    assert (windows[0]["w"], windows[0]["h"]) == pytest.approx((2 * cell["w"], 2 * cell["h"])), "a 2×2 window"
    api = api_explain(server_url, page, "pool1", unit)
    shown = float(page.get_attribute("#explain .pooled", "data-value"))
    assert shown == pytest.approx(api["value"], abs=1e-6)
    assert shown > 0, "the strongest pooled unit of a drawn digit is positive"
    cells = [float(v) for v in page.eval_on_selector_all("#explain table.grid td", "tds => tds.map(t => t.dataset.value)")]
    assert cells == pytest.approx(api["source"]["values"], abs=1e-6)
    winner = float(page.get_attribute("#explain table.grid td.win", "data-value"))
    assert winner == pytest.approx(max(cells)) == pytest.approx(shown)


def test_hovering_a_conv2_unit_shows_six_windows_and_a_sum_equal_to_the_value(open_page, server_url):
    page = open_page()
    ready(page)
    draw_mouse(page, one_stroke())
    settled(page)
    unit = strongest_unit(page, "conv2")
    windows = page.evaluate("([l, u]) => window.convscope.net.windowBoxes(l, u)", ["conv2", unit])
    hover_unit(page, "conv2", unit)
    wait_panel(page, "conv2", unit)
    assert len(windows) == 6
    assert overlay_lit(page, windows) == [True] * 6, "every input map's 5×5 window is outlined"
    assert page.locator("#explain .channel").count() == 6
    api = api_explain(server_url, page, "conv2", unit)
    total = float(page.get_attribute("#explain .sum", "data-value"))
    value = float(page.get_attribute("#explain .value", "data-value"))
    assert total == pytest.approx(api["sum"], abs=1e-5)
    assert value == pytest.approx(api["value"], abs=1e-6)
    assert total == pytest.approx(value, abs=1e-4)
    subtotals = [float(v) for v in page.eval_on_selector_all(
        "#explain .channel .n", "ns => ns.map(n => n.dataset.value)")]
    assert sum(subtotals) + api["bias"] == pytest.approx(api["sum"], abs=1e-4)


def test_keyboard_moves_the_focus_between_units_and_stages(open_page):
    page = open_page()
    ready(page)
    focus = "() => { const s = window.convscope.store.get(); const f = s.pinned ?? s.hover; return f && [f.layer, f.unit]; }"
    page.focus("#net")
    assert page.evaluate(focus) == ["input", [0, 0, 0]]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focus) == ["input", [0, 1, 1]]
    page.keyboard.press("Tab")
    layer, unit = page.evaluate(focus)
    assert layer == "conv1" and len(unit) == 3
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.convscope.store.get().pinned?.layer") == "conv1"
    wait_panel(page, "conv1", unit)
    page.keyboard.press("Escape")
    assert page.evaluate("() => window.convscope.store.get().pinned") is None
    assert page.evaluate("() => document.activeElement.id") == "net"


def test_screenshot_at_1280x720_fits_without_scrolling(open_page):
    page = open_page()
    ready(page)
    page.select_option("#sample-digit", "3")
    page.click("#sample-load")
    page.wait_for_function("() => window.convscope.store.get().drawing.pixels")   # the sample has arrived
    settled(page)
    ink = page.evaluate("() => Math.max(...window.convscope.store.get().trace.byName.get('input').values)")
    assert ink > 0.5, "the network shows the loaded test digit"
    unit = strongest_unit(page, "conv2")
    hover_unit(page, "conv2", unit)
    wait_panel(page, "conv2", unit)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "page-1280x720.png"))
    sizes = page.evaluate("() => [document.documentElement.scrollHeight, innerHeight, document.documentElement.scrollWidth, innerWidth]")
    assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], f"the page scrolls: {sizes}"
    net = page.locator("#net").bounding_box()
    assert net["y"] + net["height"] <= 720 and net["x"] + net["width"] <= 1280


def test_tapping_a_unit_on_a_touch_screen_pins_it(open_page):
    page = open_page(touch=True)
    ready(page)
    box = page.evaluate("() => window.convscope.net.unitBox('pool1', [2, 7, 7])")
    net = page.locator("#net").bounding_box()
    page.touchscreen.tap(net["x"] + box["x"] + box["w"] / 2, net["y"] + box["y"] + box["h"] / 2)
    pinned = page.evaluate("() => { const p = window.convscope.store.get().pinned; return p && [p.layer, p.unit]; }")
    assert pinned == ["pool1", [2, 7, 7]]
    wait_panel(page, "pool1", [2, 7, 7])


def test_join_popover_only_for_addresses_other_devices_can_open(open_page, browser, server_url):
    page = open_page()
    ready(page)
    assert page.is_hidden("#join-button"), "a loopback address is no use to a phone"
    lan = "http://192.168.1.23:8000/"
    page.route("**/api/join*", lambda route: route.fulfill(
        json={"urls": [lan], "qr_svg": '<svg id="qr" width="10" height="10"></svg>'}))
    page.reload()
    ready(page)
    page.click("#join-button")
    assert page.get_attribute("#join-button", "aria-expanded") == "true"
    assert page.is_visible(f'#join-popover a[href="{lan}"]') and page.locator("#join-popover #qr").count() == 1
    page.keyboard.press("Escape")
    assert page.is_hidden("#join-popover")


def test_eraser_removes_ink_and_undo_brings_it_back(open_page):
    page = open_page()
    ready(page)
    # Ink on the pad itself (alpha), not the network input: preprocessing rescales what is left.
    ink = """() => { const c = document.getElementById('pad'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                     let t = 0; for (let i = 3; i < d.length; i += 4) t += d[i]; return t / 255; }"""
    draw_mouse(page, one_stroke())
    settled(page)
    drawn = page.evaluate(ink)
    assert drawn > 2000, "a 200 px stroke of a 20 px brush"
    page.click("#pad-eraser")
    assert page.get_attribute("#pad-eraser", "aria-pressed") == "true"
    page.mouse.move(*pad_point(page, 143, 20))
    page.mouse.down()
    page.mouse.move(*pad_point(page, 146, 150), steps=6)
    page.mouse.up()
    settled(page)
    erased = page.evaluate(ink)
    assert 0.2 * drawn < erased < 0.6 * drawn, (drawn, erased)   # about half the stroke is gone
    page.click("#pad-undo")
    settled(page)
    assert page.evaluate(ink) == pytest.approx(drawn, rel=1e-6), "undo restores the stroke the eraser took"
    page.click("#pad-undo")
    settled(page)
    assert page.evaluate(ink) == 0 and page.evaluate("() => window.convscope.pad.blank")
    assert page.evaluate("() => Math.max(...window.convscope.store.get().trace.byName.get('input').values)") == 0


def test_a_finger_sliding_over_the_network_scrubs_the_pinned_unit(open_page):
    page = open_page(touch=True)
    ready(page)
    a = page.evaluate("() => window.convscope.net.unitBox('conv1', [0, 5, 3])")
    b = page.evaluate("() => window.convscope.net.unitBox('conv1', [0, 5, 20])")
    net = page.locator("#net").bounding_box()
    cdp = page.context.new_cdp_session(page)
    y = net["y"] + a["y"] + a["h"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": net["x"] + a["x"] + a["w"] / 2, "y": y}]})
    for k in range(1, 6):
        x = net["x"] + a["x"] + a["w"] / 2 + k * (b["x"] - a["x"]) / 5
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    pinned = page.evaluate("() => { const p = window.convscope.store.get().pinned; return p && [p.layer, p.unit]; }")
    assert pinned == ["conv1", [0, 5, 20]]


def test_the_drawing_is_sent_as_a_gray_alpha_png_of_the_pads_ink(open_page, server_url):
    """The forward body is a PNG data URL of the pad as gray + alpha: white everywhere, alpha
    equal to the pad's alpha (its ink); the server reads the same record from it as from
    canvas.toDataURL's RGBA PNG of the same pad, in fewer bytes."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    from app.padpng import white_ink

    page = open_page()
    ready(page)
    draw_mouse(page, zero_stroke())
    settled(page)
    body = page.evaluate("() => window.convscope.store.get().trace.body")
    assert set(body) == {"image"} and body["image"].startswith("data:image/png;base64,")
    png = base64.b64decode(body["image"].split(",", 1)[1])
    img = Image.open(io.BytesIO(png))
    assert (img.format, img.mode, img.size) == ("PNG", "LA", (PAD, PAD))
    alpha = page.evaluate("""() => { const c = document.getElementById('pad');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const a = []; for (let i = 3; i < d.length; i += 4) a.push(d[i]); return a; }""")
    sent = np.asarray(img)
    assert (sent[..., 0] == 255).all(), "white ink"
    np.testing.assert_array_equal(sent[..., 1], np.asarray(alpha, np.uint8).reshape(PAD, PAD))
    # Chromium's deflate included, it is the format the server reads without Pillow.
    np.testing.assert_array_equal(white_ink(png, 1024), sent[..., 1])
    assert sent[..., 1].max() == 255 and (sent[..., 1] > 0).sum() > 2000
    rgba = page.evaluate("() => ({ image: document.getElementById('pad').toDataURL('image/png') })")
    a = httpx.post(f"{server_url}/api/forward", json=body, timeout=10).json()
    b = httpx.post(f"{server_url}/api/forward", json=rgba, timeout=10).json()
    assert a["layers"] == b["layers"] and a["preprocessing"] == b["preprocessing"]
    assert len(body["image"]) < 0.8 * len(rgba["image"])   # fewer bytes on a classroom's Wi-Fi


def test_the_drawing_is_encoded_from_the_inks_box_with_the_whole_pads_answer(open_page, server_url):
    """The pad encodes only the box its strokes inked (png.js upFilteredBox + deflateRuns): the
    body decodes to the whole pad's pixels, the server answers it exactly as it answers the whole
    pad encoded the old way (inkDataURL of every pixel), and the ink noted with it (the
    "draw a digit" check, crop boxes) is that of the whole pad. Through an eraser stroke (the
    box does not shrink) and undo (the box comes back with the pixels)."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    page = open_page()
    ready(page)
    reference = """async () => {
        const png = await import('/static/js/png.js'), honest = await import('/static/js/honest.js');
        const c = document.getElementById('pad'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const alpha = new Uint8Array(c.width * c.height);
        for (let i = 0; i < alpha.length; i++) alpha[i] = d[4 * i + 3];
        const body = window.convscope.store.get().trace.body;
        return { body, noted: honest.inkOf(body), whole: { image: await png.inkDataURL(alpha, c.width, c.height) },
                 stats: honest.inkStats(alpha, c.width, c.height), alpha: Array.from(alpha) }; }"""

    def check(label):
        settled(page)
        got = page.evaluate(reference)
        png = base64.b64decode(got["body"]["image"].split(",", 1)[1])
        sent = np.asarray(Image.open(io.BytesIO(png)))
        assert sent.shape == (PAD, PAD, 2) and (sent[..., 0] == 255).all(), label
        np.testing.assert_array_equal(sent[..., 1], np.asarray(got["alpha"], np.uint8).reshape(PAD, PAD), label)
        assert got["noted"]["box"] == got["stats"]["box"], label
        assert got["noted"]["ink"] == pytest.approx(got["stats"]["ink"], abs=1e-9), label
        a = httpx.post(f"{server_url}/api/forward", json=got["body"], timeout=10).json()
        b = httpx.post(f"{server_url}/api/forward", json=got["whole"], timeout=10).json()
        assert a == b, label
        return got

    draw_mouse(page, zero_stroke())
    drawn = check("a stroke")
    assert drawn["stats"]["box"] is not None and drawn["stats"]["ink"] > 2000
    page.click("#pad-eraser")
    page.mouse.move(*pad_point(page, 60, 10))
    page.mouse.down()
    page.mouse.move(*pad_point(page, 240, 270), steps=8)
    page.mouse.up()
    erased = check("after the eraser")
    assert erased["stats"]["ink"] < drawn["stats"]["ink"]
    page.click("#pad-undo")
    assert check("after undo")["stats"] == drawn["stats"]
    page.click("#pad-clear")
    settled(page)
    assert page.evaluate("() => window.convscope.store.get().trace.byName.get('input').values.every((v) => v === 0)")


def test_the_network_tabs_views_wait_while_hidden_and_show_the_latest_drawing(open_page):
    """Drawing on the 3D tab (it borrows the pad) does not repaint the hidden 2D network (nor its
    legend and panel) on every update; back on the Network tab they show the latest trace, the
    canvas exactly as a fresh repaint draws it."""
    page = open_page()
    ready(page)
    legend_hi = "() => document.querySelector('#legend .ramp').dataset.domain.split(',')[1]"
    blank = {"net": page.evaluate("() => document.getElementById('net').toDataURL()"), "legend": page.evaluate(legend_hi)}
    page.click("#tab-3d")
    page.wait_for_function("() => document.querySelector('canvas.view3d-canvas')?.view3d?.stats.frames > 0", timeout=10_000)
    page.evaluate("() => performance.clearMeasures('net-repaint')")
    draw_mouse(page, zero_stroke())
    settled(page)
    assert page.evaluate("() => performance.getEntriesByName('net-repaint').length") == 0, "painted while hidden"
    assert page.evaluate(legend_hi) == blank["legend"], "the hidden legend waited"
    page.click("#tab-network")
    page.wait_for_function("() => performance.getEntriesByName('net-repaint').length > 0 && document.getElementById('net').clientWidth > 0")
    shown = page.evaluate("""() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => {
        const c = document.getElementById('net'), a = c.toDataURL();
        window.convscope.net.render();
        done({ net: a, fresh: c.toDataURL() }); })))""")
    assert shown["net"] == shown["fresh"], "the canvas on show is a repaint of the latest trace"
    assert shown["net"] != blank["net"], "the 0 drawn on the 3D tab is on the network"
    first = page.evaluate("() => window.convscope.net.layout.columns[1].shown")
    assert page.evaluate(legend_hi) == str(page.evaluate("(n) => window.convscope.net.scaleOf(n).domain[1]", first))
    assert page.evaluate(legend_hi) != blank["legend"]


def _purple_box(page):
    """Bounding box, in overlay pixels, of the receptive-field outline drawn on the pad."""
    return page.evaluate("""() => { const c = document.getElementById('pad-overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let x0 = 1e9, y0 = 1e9, x1 = -1, y1 = -1;
        for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
          const i = (y * c.width + x) * 4;
          if (d[i + 3] > 100 && d[i + 2] > 200 && d[i + 1] < 170) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
        }
        return x1 < 0 ? null : { x0, y0, x1, y1, side: c.width }; }""")


def test_the_receptive_field_outline_uses_the_shown_records_image_size(open_page):
    """A test digit goes as 28×28 pixels, a drawing as the 280×280 pad: the outline of a
    conv1 unit at the middle of the input lands inside the ink's crop box scaled from the
    size of the image behind the record on screen (not the pad's size for a 28×28 digit)."""
    page = open_page()
    ready(page)
    for load in (True, False):
        if load:
            page.select_option("#sample-digit", "3")
            page.click("#sample-load")
            page.wait_for_function("() => window.convscope.store.get().trace?.body?.pixels")
            settled(page)
        else:
            draw_mouse(page, zero_stroke())
            settled(page)
        body = page.evaluate("() => window.convscope.store.get().trace.body")
        width = body["width"] if load else PAD
        page.evaluate("() => window.convscope.store.set({ pinned: { layer: 'conv1', unit: [0, 14, 14] } })")
        box = _purple_box(page)
        assert box is not None, "no outline on the pad"
        k = box["side"] / width
        x0, y0, x1, y1 = page.evaluate("() => window.convscope.store.get().trace.preprocessing.crop_box")
        slack = 4
        assert x0 * k - slack <= box["x0"] and box["x1"] <= x1 * k + slack, (load, box, [x0, y0, x1, y1], k)
        assert y0 * k - slack <= box["y0"] and box["y1"] <= y1 * k + slack, (load, box, [x0, y0, x1, y1], k)
        # A 5×5 window of a ~20-pixel-high digit: a sizeable part of the crop box, not a speck.
        assert box["x1"] - box["x0"] > 0.1 * (x1 - x0) * k
        page.evaluate("() => window.convscope.store.set({ pinned: null })")
