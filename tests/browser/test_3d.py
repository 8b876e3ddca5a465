"""The 3D tab in real Chromium (WebGL via SwiftShader): it draws every stage, dragging and the
keyboard turn it, a touch pinch zooms, hovering a unit's projected position explains that unit
with the API's numbers, and switching tabs keeps the drawing, the hovered unit and the model.

Pixels are read from element screenshots (decoded with Pillow), not from the renderer, so a
blank or frozen canvas fails. Screenshots from two viewpoints go to screenshots/3d-*.png.
Console errors fail every test at teardown (conftest).
"""
from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import SHOTS, ready, settled
from tests.browser.helpers import strongest_unit

CANVAS = "canvas.view3d-canvas"
VIEW = f"document.querySelector('{CANVAS}')?.view3d"
BACKGROUND = np.array([41, 43, 51])   # the renderer's clear colour, 0.16/0.17/0.2 of 255


def open_3d(page, digit=3):
    ready(page)
    page.select_option("#sample-digit", str(digit))
    page.click("#sample-load")
    settled(page)
    page.click("#tab-3d")
    page.wait_for_function(f"() => {VIEW}?.stats.frames > 0 && {VIEW}.stats.units > 0", timeout=10_000)
    wait_frames(page)


def wait_frames(page, n=2):
    """Let the view finish what it is drawing (transitions included): n quiet animation frames."""
    page.evaluate("""(n) => new Promise((done) => { let k = 0;
        const f = () => (++k >= n ? done() : requestAnimationFrame(f)); requestAnimationFrame(f); })""", n)
    page.wait_for_function(f"() => !{VIEW}.busy")


def pixels(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.locator(CANVAS).screenshot())).convert("RGB"), dtype=int)


def camera(page):
    return page.evaluate(f"() => {{ const c = {VIEW}.camera; return {{yaw: c.yaw, pitch: c.pitch, distance: c.distance, target: c.target}}; }}")


def canvas_point(page, layer, unit):
    box = page.locator(CANVAS).bounding_box()
    p = page.evaluate(f"([l, u]) => {VIEW}.screenOf(l, u)", [layer, unit])
    assert p is not None, f"{layer} {unit} is not on screen"
    return box["x"] + p["x"], box["y"] + p["y"]


def strongest_visible_unit(page, layer):
    """The largest-valued unit of `layer` whose centre is not hidden behind a nearer plane."""
    return page.evaluate(f"""(name) => {{
        const v = {VIEW}, l = window.convscope.store.get().trace.byName.get(name);
        const order = Array.from(l.values.keys()).sort((a, b) => l.values[b] - l.values[a]);
        for (const i of order) {{
            const u = []; let k = i;
            for (let a = l.shape.length - 1; a >= 0; a--) {{ u.unshift(k % l.shape[a]); k = Math.floor(k / l.shape[a]); }}
            const p = v.screenOf(name, u), hit = p && v.pickAt(p.x, p.y);
            if (hit && hit.layer === name && hit.unit.every((x, d) => x === u[d])) return u;
        }}
        return null; }}""", layer)


def changed_fraction(a, b):
    return float(np.mean(np.abs(a - b).sum(axis=2) > 30))


def test_3d_tab_draws_every_stage_in_non_blank_pixels(open_page):
    page = open_page()
    open_3d(page)
    stats = page.evaluate(f"() => {VIEW}.stats")
    # folded ReLUs (the default) share their producer's plane; flatten is pool2's units
    sizes = page.evaluate("""() => window.convscope.store.get().trace.layers
        .filter(l => l.kind !== 'flatten' && l.kind !== 'activation').map(l => l.shape.reduce((a, b) => a * b, 1))""")
    assert stats["units"] == sum(sizes)
    assert stats["webgl"] == 2
    assert stats["drawCalls"] <= 5, "all units in a handful of draw calls"
    img = pixels(page)
    not_background = np.abs(img - BACKGROUND).sum(axis=2) > 24
    assert not_background.mean() > 0.08, f"only {not_background.mean():.1%} of the canvas is drawn"
    colours = {tuple(c) for c in img[not_background][::7]}
    assert len(colours) > 50, "units should show many different values, not one flat colour"
    # the input plane is the digit itself: white ink on black, so both extremes appear
    assert (img.sum(axis=2) > 700).sum() > 50 and (img.sum(axis=2) < 40).sum() > 200
    labels = page.eval_on_selector_all(".view3d-label", "ls => ls.map(l => l.textContent.split(' ')[0])")
    assert labels == ["input", "conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3", "softmax"]
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "3d-overview.png"))


def test_dragging_and_keys_rotate_the_view(open_page):
    page = open_page()
    open_3d(page)
    before = pixels(page)
    yaw0 = camera(page)["yaw"]
    box = page.locator(CANVAS).bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 160, cy + 40, steps=8)
    page.mouse.up()
    wait_frames(page)
    assert camera(page)["yaw"] > yaw0 + 0.5, "dragging left swings the camera round"
    after = pixels(page)
    assert changed_fraction(before, after) > 0.05, "the picture did not change"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "3d-rotated.png"))
    page.focus(CANVAS)
    cam0 = camera(page)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("+")
    page.keyboard.press("Shift+ArrowUp")
    wait_frames(page)
    cam = camera(page)
    assert cam["yaw"] > cam0["yaw"], "ArrowLeft turns like a drag to the left"
    assert cam["distance"] < cam0["distance"], "+ zooms in"
    assert cam["target"] != cam0["target"], "shift+arrow pans"
    # the side preset transitions smoothly and ends exactly on its camera
    page.get_by_role("button", name="Camera: side view").click()
    page.wait_for_timeout(700)
    wait_frames(page)
    side = page.evaluate(f"() => {VIEW}.views().side")
    assert camera(page)["yaw"] == pytest.approx(side["yaw"])
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "3d-side.png"))


def test_hovering_a_unit_explains_it_with_the_api_value(open_page, server_url):
    page = open_page()
    open_3d(page, digit=3)
    unit = strongest_unit(page, "conv2")
    # double-click flies to it, so its squares (and rings) are several pixels wide
    page.mouse.dblclick(*canvas_point(page, "conv2", unit))
    page.wait_for_timeout(600)
    wait_frames(page)
    cam = camera(page)
    assert cam["distance"] <= 60 and cam["target"] == pytest.approx(page.evaluate(
        f"([l, u]) => {VIEW}.centerOf(l, u)", ["conv2", unit]), abs=1e-4), "the camera looks at the unit"
    page.mouse.move(2, 2)   # off the canvas: no hover, no highlight
    page.wait_for_function("() => window.convscope.store.get().hover === null")
    wait_frames(page)
    before = pixels(page)
    page.mouse.move(*canvas_point(page, "conv2", unit))
    page.wait_for_selector(f'#explain-3d[data-layer="conv2"][data-unit="{",".join(map(str, unit))}"]', timeout=10_000)
    hover = page.evaluate("() => window.convscope.store.get().hover")
    assert hover == {"layer": "conv2", "unit": unit}
    body = page.evaluate("() => window.convscope.store.get().trace.body")
    api = httpx.post(f"{server_url}/api/explain", json={**body, "layer": "conv2", "unit": unit}, timeout=10).json()
    shown = float(page.get_attribute("#explain-3d .value", "data-value"))
    assert shown == pytest.approx(api["value"], abs=1e-6)
    assert float(page.get_attribute("#explain-3d .sum", "data-value")) == pytest.approx(api["sum"], abs=1e-5)
    # the tip beside the unit: its name, value and (folded) what the plane's colour shows
    tip = page.inner_text(".view3d-tip")
    assert tip.startswith(f"conv2[{', '.join(map(str, unit))}] = ") and "→ relu2" in tip, tip
    assert float(tip.split(" = ")[1].split(" ")[0].replace("\u2212", "-")) == pytest.approx(api["value"], abs=6e-4)
    # highlight: a yellow ring on the unit and cyan rings/lines on its 6×5×5 source window
    wait_frames(page)
    after = pixels(page)
    yellow = (after[..., 0] > 230) & (after[..., 1] > 190) & (after[..., 2] < 60)
    cyan = (after[..., 0] < 140) & (after[..., 1] > 180) & (after[..., 2] > 220)
    assert yellow.sum() > 4, "the hovered unit has no ring"
    assert cyan.sum() > 150 and cyan.sum() > 20 * ((before[..., 0] < 140) & (before[..., 1] > 180) & (before[..., 2] > 220)).sum() + 150
    # leaving the canvas clears the hover
    page.mouse.move(2, 2)
    page.wait_for_function("() => window.convscope.store.get().hover === null")


def test_touch_pinch_zooms_and_one_finger_rotates(open_page):
    page = open_page(touch=True)
    open_3d(page)
    cdp = page.context.new_cdp_session(page)
    box = page.locator(CANVAS).bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def touch(kind, points):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})

    before = pixels(page)
    d0 = camera(page)["distance"]
    touch("touchStart", [(cx - 30, cy), (cx + 30, cy)])
    for k in range(1, 9):
        touch("touchMove", [(cx - 30 - 12 * k, cy), (cx + 30 + 12 * k, cy)])
    touch("touchEnd", [])
    wait_frames(page)
    d1 = camera(page)["distance"]
    assert d1 < 0.6 * d0, f"spreading two fingers 60 -> 252 px should zoom in (distance {d0:.0f} -> {d1:.0f})"
    assert changed_fraction(before, pixels(page)) > 0.05
    yaw0 = camera(page)["yaw"]
    touch("touchStart", [(cx, cy)])
    for k in range(1, 9):
        touch("touchMove", [(cx + 15 * k, cy)])
    touch("touchEnd", [])
    wait_frames(page)
    assert camera(page)["yaw"] < yaw0 - 0.3, "a one-finger drag to the right turns the other way"
    assert camera(page)["distance"] == pytest.approx(d1), "one finger does not zoom"
    # two fingers moving together pan: the target moves, the distance stays
    target0 = camera(page)["target"]
    touch("touchStart", [(cx - 40, cy), (cx + 40, cy)])
    for k in range(1, 6):
        touch("touchMove", [(cx - 40, cy + 10 * k), (cx + 40, cy + 10 * k)])
    touch("touchEnd", [])
    wait_frames(page)
    assert camera(page)["target"] != target0
    assert camera(page)["distance"] == pytest.approx(d1, rel=1e-6)
    # a tap on a unit pins it (there is no hover on glass) and the panel explains it
    page.get_by_role("button", name="Reset the camera to the overview").click()
    page.wait_for_timeout(600)
    wait_frames(page)
    unit = strongest_visible_unit(page, "conv1")
    x, y = canvas_point(page, "conv1", unit)
    touch("touchStart", [(x, y)])
    touch("touchEnd", [])
    page.wait_for_function("() => window.convscope.store.get().pinned?.layer === 'conv1'")
    assert page.evaluate("() => window.convscope.store.get().pinned.unit") == unit
    page.wait_for_selector(f'#explain-3d[data-layer="conv1"][data-unit="{",".join(map(str, unit))}"]', timeout=10_000)


def test_switching_tabs_keeps_drawing_hover_and_model_and_drawing_updates_3d(open_page):
    page = open_page()
    open_3d(page, digit=7)
    model = page.evaluate("() => window.convscope.store.get().model.name")
    # the pad is on the 3D tab too: a stroke there runs the network and repaints the planes
    assert page.locator("#view-3d #pad").count() == 1
    frames = page.evaluate(f"() => {VIEW}.stats.frames")
    body = page.evaluate("() => window.convscope.store.get().trace.body")
    pad = page.locator("#pad").bounding_box()
    page.mouse.move(pad["x"] + 40, pad["y"] + 40)
    page.mouse.down()
    page.mouse.move(pad["x"] + 200, pad["y"] + 220, steps=6)
    page.mouse.up()
    settled(page)
    assert page.evaluate("() => window.convscope.store.get().trace.body") != body
    assert page.evaluate(f"() => {VIEW}.stats.frames") > frames, "the 3D view did not redraw the new trace"
    unit = strongest_visible_unit(page, "pool1")
    page.mouse.move(*canvas_point(page, "pool1", unit))
    hovered = {"layer": "pool1", "unit": unit}
    page.wait_for_function("(h) => JSON.stringify(window.convscope.store.get().hover) === JSON.stringify(h)", arg=hovered)
    page.mouse.down()   # a click (a press without a drag) pins the unit
    page.mouse.up()
    assert page.evaluate("() => window.convscope.store.get().pinned") == hovered
    # switch with the keyboard (a mouse trip to the tab bar would leave the unit)
    page.focus("#tab-3d")
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector("#view-network:not([hidden])")
    assert page.locator("#view-network #pad").count() == 1, "the pad goes home with the Network tab"
    assert page.evaluate("() => window.convscope.pad.blank") is False
    assert page.evaluate("() => window.convscope.store.get().hover") == hovered
    page.wait_for_selector(f'#explain[data-layer="pool1"][data-unit="{",".join(map(str, unit))}"]', timeout=10_000)
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#view-3d:not([hidden])")
    wait_frames(page)
    # the Network canvas, hidden under the resting mouse, must not drop the hover (issue 8)
    assert page.evaluate("() => window.convscope.store.get().hover") == hovered
    assert page.evaluate("() => window.convscope.store.get().pinned") == hovered
    assert page.evaluate("() => window.convscope.store.get().model.name") == model
    page.wait_for_selector(f'#explain-3d[data-layer="pool1"][data-unit="{",".join(map(str, unit))}"]', timeout=10_000)


def test_without_webgl_the_3d_tab_says_so_and_the_2d_view_still_works(open_page):
    page = open_page()
    page.add_init_script("""(() => {
        const get = HTMLCanvasElement.prototype.getContext;
        HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
            return /webgl/.test(type) ? null : get.call(this, type, ...rest); };
    })()""")
    page.reload()
    ready(page)
    page.click("#tab-3d")
    message = page.wait_for_selector(".view3d-message")
    assert "needs WebGL" in message.inner_text() and "Network tab" in message.inner_text()
    page.click("#tab-network")
    page.select_option("#sample-digit", "4")
    page.click("#sample-load")
    settled(page)
    assert page.get_attribute("#prediction [data-prediction]", "data-prediction") is not None


def test_the_atlas_draws_the_same_squares_as_one_quad_per_unit(open_page):
    """The default renderer (sheets textured from an atlas) against the plain one (a quad per
    unit, ?gl=expanded): same units, same colours, same places, so nearly the same pixels."""
    shots = []
    for path in ("/", "/?gl=expanded"):
        page = open_page(path)
        open_3d(page, digit=2)
        assert page.evaluate(f"() => {VIEW}.stats.mode") == ("atlas" if path == "/" else "expanded")
        page.evaluate(f"() => {{ const v = {VIEW}; v.camera = {{ ...v.views().overview, distance: v.views().overview.distance * 0.7 }}; }}")
        wait_frames(page)
        shots.append(pixels(page))
    atlas, quads = shots
    assert atlas.shape == quads.shape
    drawn = (np.abs(quads - BACKGROUND).sum(axis=2) > 24).mean()
    differ = changed_fraction(atlas, quads)
    # measured 0.06% (edge pixels rasterised differently); transposed maps gave 3.4%
    assert drawn > 0.1 and differ < 0.005, f"{differ:.2%} of pixels differ ({drawn:.0%} drawn)"


def test_webgl1_fallback_draws_the_same_view(open_page):
    page = open_page()
    page.add_init_script("""(() => {
        const get = HTMLCanvasElement.prototype.getContext;
        HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
            return type === 'webgl2' ? null : get.call(this, type, ...rest); };
    })()""")
    page.reload()
    open_3d(page)
    assert page.evaluate(f"() => {VIEW}.stats.webgl") == 1
    img = pixels(page)
    assert (np.abs(img - BACKGROUND).sum(axis=2) > 24).mean() > 0.08
    assert (img.sum(axis=2) > 700).sum() > 50, "the input digit's white ink is drawn"
    # losing the context (a GPU reset) is said, not a silent freeze or a page error
    page.evaluate(f"() => document.querySelector('{CANVAS}').getContext('webgl').getExtension('WEBGL_lose_context').loseContext()")
    assert "lost its WebGL context" in page.wait_for_selector(".view3d-message").inner_text()


def test_a_unit_hovered_in_2d_stays_hovered_in_3d_and_back(open_page):
    """Hover only (no pin): the resting mouse over a hidden canvas is not the student leaving."""
    page = open_page()
    ready(page)
    page.select_option("#sample-digit", "5")
    page.click("#sample-load")
    settled(page)
    box = page.locator("#net").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    page.wait_for_function("() => window.convscope.store.get().hover !== null")
    hovered = page.evaluate("() => window.convscope.store.get().hover")
    assert page.evaluate("() => window.convscope.store.get().pinned") is None
    page.focus("#tab-network")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#view-3d:not([hidden])")
    page.wait_for_function(f"() => {VIEW}?.stats.frames > 0")
    wait_frames(page)
    assert page.evaluate("() => window.convscope.store.get().hover") == hovered
    unit = ",".join(map(str, hovered["unit"]))
    page.wait_for_selector(f'#explain-3d[data-layer="{hovered["layer"]}"][data-unit="{unit}"]', timeout=10_000)
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector("#view-network:not([hidden])")
    assert page.evaluate("() => window.convscope.store.get().hover") == hovered
    page.wait_for_selector(f'#explain[data-layer="{hovered["layer"]}"][data-unit="{unit}"]', timeout=10_000)


def test_the_panel_hint_names_each_views_own_keys(open_page):
    page = open_page()
    ready(page)
    hint2d = page.locator("#explain .hint").inner_text()
    assert "arrow keys move" in hint2d and "camera" not in hint2d
    page.click("#tab-3d")
    page.wait_for_function(f"() => {VIEW}?.stats.frames > 0")
    page.mouse.move(2, 2)
    hint3d = page.wait_for_selector("#explain-3d .hint").inner_text()
    assert "arrow keys turn the camera" in hint3d and "arrow keys move" not in hint3d


def test_labels_do_not_touch_and_class_names_show_all_or_none(open_page):
    """At 1280×720 the overview is crowded: no two visible labels may overlap or touch, a plane
    shows all its class names or none, and the legend names the column as 2D does."""
    page = open_page()
    open_3d(page, digit=3)
    small = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.view3d-label')).fontSize)")
    for projector, view in ((False, "Overview"), (False, "Front"), (False, "Side"), (True, "Overview")):
        if projector:
            page.check("#projector")
            big = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.view3d-label')).fontSize)")
            assert big > small, "Projector makes the 3D labels bigger too"
        page.click(f"button:text-is('{view}')")
        wait_frames(page, 30)   # past the camera's glide
        boxes = page.eval_on_selector_all(".view3d-label, .view3d-class", """ls => ls
            .filter(l => l.style.display !== 'none')
            .map(l => { const r = l.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, l.className, l.textContent]; })""")
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                apart = a[2] + 2 <= b[0] or b[2] + 2 <= a[0] or a[3] + 2 <= b[1] or b[3] + 2 <= a[1]
                assert apart, f"{view}: '{a[5]}' and '{b[5]}' overlap or touch"
        classes = [b[5] for b in boxes if b[4] == "view3d-class"]
        assert len(classes) % 10 == 0, f"{view}: class names shown {classes}: all ten of a plane or none"
    page.mouse.move(2, 2)
    page.wait_for_function("() => window.convscope.store.get().hover === null")
    legend = page.text_content("#view-3d .legend")
    assert "conv1 + relu" in legend, legend


def stack_fraction(page):
    """Share of the canvas's pixels that are not the clear colour: how much of the stack shows."""
    return float(np.mean(np.abs(pixels(page) - BACKGROUND).sum(axis=2) > 30))


def test_a_long_pan_drag_cannot_push_the_stack_out_of_view(open_page):
    page = open_page()
    open_3d(page)
    shown = stack_fraction(page)
    assert shown > 0.1
    box = page.locator(CANVAS).bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    bounds = page.evaluate(f"() => {VIEW}.bounds()")
    for dx, dy in ((600, 0), (-600, 0), (0, 300), (500, -300)):
        page.click("button:text-is('Reset view')")
        wait_frames(page, 30)
        page.keyboard.down("Shift")                      # shift-drag pans, several times over
        for _ in range(4):
            page.mouse.move(cx - dx / 2, cy - dy / 2)
            page.mouse.down()
            page.mouse.move(cx + dx / 2, cy + dy / 2, steps=6)
            page.mouse.up()
        page.keyboard.up("Shift")
        page.mouse.move(cx, cy)                          # then turn it half round
        page.mouse.down()
        page.mouse.move(cx - 300, cy, steps=6)
        page.mouse.up()
        wait_frames(page)
        target = camera(page)["target"]
        for a in range(3):
            pad = 0.1 * (bounds["max"][a] - bounds["min"][a]) + 1e-6
            assert bounds["min"][a] - pad <= target[a] <= bounds["max"][a] + pad, (dx, dy, target, bounds)
        assert stack_fraction(page) > 0.02, f"pan {dx},{dy}: the stack left the view"


def label_boxes(page):
    return page.eval_on_selector_all(".view3d-label", """ls => ls
        .filter(l => l.style.display !== 'none')
        .map(l => { const r = l.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, l.textContent]; })""")


def test_overview_names_every_plane_and_front_piles_no_names_on_the_input(open_page):
    page = open_page()
    open_3d(page)
    planes = page.evaluate("() => window.convscope.net.layout.columns.map((c) => c.label)")
    page.get_by_role("button", name="Camera: overview view").click()
    wait_frames(page, 30)
    shown = [b[4].split()[0] for b in label_boxes(page)]
    assert sorted(shown) == sorted(planes), f"overview names {shown}, planes {planes}"
    canvas = page.locator(CANVAS).bounding_box()
    for b in label_boxes(page):   # whole, inside the canvas: a cut name reads as another word
        assert canvas["x"] - 1 <= b[0] and b[2] <= canvas["x"] + canvas["width"] + 1, b
        assert canvas["y"] - 1 <= b[1] and b[3] <= canvas["y"] + canvas["height"] + 1, b
    page.get_by_role("button", name="Camera: front view").click()
    wait_frames(page, 30)
    # The input faces the viewer and hides every plane behind it: no name but its own on it.
    corners = [page.evaluate(f"(u) => {VIEW}.screenOf('input', u)", u) for u in ([0, 0, 0], [0, 31, 31])]
    x0, x1 = sorted(canvas["x"] + c["x"] for c in corners)
    y0, y1 = sorted(canvas["y"] + c["y"] for c in corners)
    on_input = [b[4] for b in label_boxes(page) if b[0] < x1 and x0 < b[2] and b[1] < y1 and y0 < b[3]]
    assert on_input == [], f"names drawn over the input plane: {on_input}"
    names = [b[4].split()[0] for b in label_boxes(page)]
    assert "input" in names and len(names) >= 2, names
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "3d-front.png"))
