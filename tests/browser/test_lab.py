"""The Lab tab in real Chromium: the edge kernel at stride 2 and padding 1 on a drawn digit shows
the formula's size and the server's map, step mode shows the server's window, products and sum,
and a typed kernel cell becomes a custom kernel. Screenshot: screenshots/lab.png."""
from __future__ import annotations

import httpx
import numpy as np

from tests.browser.conftest import SHOTS, ready
from tests.browser.helpers import draw_seven

CELL = 8    # views/lab.js paints every map cell as 8×8 screen pixels


def cell_colours(page, canvas_id, shape):
    """RGB at the centre of every map cell of a lab canvas, (H, W, 3)."""
    rgba = page.evaluate("""([id, h, w, c]) => {
        const ctx = document.getElementById(id).getContext('2d');
        const out = [];
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++)
            out.push(...ctx.getImageData(x * c + c / 2, y * c + c / 2, 1, 1).data);
        return out; }""", [canvas_id, shape[0], shape[1], CELL])
    return np.asarray(rgba, dtype=int).reshape(shape[0], shape[1], 4)[..., :3]


def open_lab_on_a_seven(open_page, kernel="edge_all"):
    """A drawn 7 in the Lab tab with a classic kernel chosen (the 8-neighbour edge by default)."""
    page = open_page("/", viewport=(1280, 1000))
    ready(page)
    draw_seven(page)
    page.click("#tab-lab")
    page.wait_for_selector("#view-lab[data-ready]")
    page.select_option("#lab-kernel", f"classic:{kernel}")
    return page


def test_edge_kernel_stride_2_padding_1(open_page, server_url):
    page = open_lab_on_a_seven(open_page)
    page.select_option("#lab-stride", "2")
    page.select_option("#lab-padding", "1")
    page.wait_for_function("() => document.getElementById('lab-formula').dataset.output === '16x16'"
                           " && document.getElementById('lab-formula').textContent.includes('2·1) / 2')")
    assert page.inner_text("#lab-formula") == "(32 − 3 + 2·1) / 2 + 1 = 16.5 → 16"
    assert page.inner_text("#lab-cap-output").startswith("output 16×16")
    assert "padded by 1 → 34×34" in page.inner_text("#lab-cap-padded")
    assert page.evaluate("document.getElementById('lab-output').width") == 16 * CELL

    # The map on screen is the server's map: ask the API the same question and compare signs
    # (the diverging scale paints positive orange, negative blue, zero near-white).
    values = page.evaluate("Array.from(window.convscope.store.get().trace.byName.get('input').values)")
    api = httpx.post(f"{server_url}/api/convolve", json={
        "input": {"values": values, "shape": [1, 32, 32]}, "kernel_name": "edge_all",
        "stride": 2, "padding": 1, "products": True}).json()
    out = np.asarray(api["output"]["values"]).reshape(16, 16)
    rgb = cell_colours(page, "lab-output", (16, 16))
    strong = np.abs(out) > 0.1 * np.abs(out).max()
    assert strong.sum() > 10, "the drawn 7 should give a clear edge map"
    assert ((rgb[..., 0] > rgb[..., 2]) == (out > 0))[strong].all(), "orange where the engine says > 0"
    assert (rgb[~strong & (out == 0)].min() > 200), "zero cells are near-white"
    # The padded input: the ring of zeros is tinted, the digit's bright pixels are not.
    padded = cell_colours(page, "lab-padded", (34, 34))
    ring = np.ones((34, 34), bool)
    ring[1:-1, 1:-1] = False
    assert (padded[ring][:, 2] > padded[ring][:, 0]).all(), "the zero ring is drawn blue-tinted"

    # Step mode starts at the first window that reads ink (rows above the 7 are all zeros).
    page.click(".lab-step-toggle")
    page.wait_for_function("() => { const s = document.querySelector('.lab-mini.prod span');"
                            " return !!s && !s.textContent.includes('…'); }")
    pad = np.asarray(api["padded"]["values"]).reshape(34, 34)
    inked = [y * 16 + x for y in range(16) for x in range(16) if pad[2 * y:2 * y + 3, 2 * x:2 * x + 3].any()]
    assert inked[0] > 16, "the 7 starts below the first rows of windows"
    assert page.inner_text(".lab-step-where").startswith(f"position {inked[0] + 1} of 256 ")
    # 21st position = output cell (1, 4); window rows 2–4, cols 8–10 of the padded map.
    page.evaluate("() => { const s = document.querySelector('.lab-scrub'); s.value = 0;"
                  " s.dispatchEvent(new Event('input')); }")
    for _ in range(20):
        page.click("[data-act=fwd]")
    where = page.inner_text(".lab-step-where")
    assert where.startswith("position 21 of 256 · output cell (row 1, col 4) · window rows 2–4, cols 8–10")
    prods = np.asarray(api["products"]["values"]).reshape(16, 16, 3, 3)[1, 4]
    shown = [float(s.replace("−", "-")) for s in page.locator(".lab-mini.prod span").all_inner_texts()]
    np.testing.assert_allclose(shown, prods.ravel(), atol=0.006)
    window = [float(s.replace("−", "-")) for s in page.locator(".lab-mini.win span").all_inner_texts()]
    np.testing.assert_allclose(window, pad[2:5, 8:11].ravel(), atol=0.006)
    assert f"= {out[1, 4]:.3f}".replace("-", "−") in page.inner_text(".lab-step-sum")
    page.click("[data-act=play]")
    page.wait_for_function("() => !document.querySelector('.lab-step-where').textContent.startsWith('position 21 ')")
    page.click("[data-act=play]")                       # pause
    # Scrub to the strongest response: the window sits on the stroke, the products are not zero.
    best = int(np.abs(out).argmax())
    page.evaluate("(i) => { const s = document.querySelector('.lab-scrub'); s.value = i;"
                  " s.dispatchEvent(new Event('input')); }", best)
    assert page.inner_text(".lab-step-where").startswith(f"position {best + 1} of 256")
    summed = page.inner_text(".lab-step-sum")
    assert f"= {out.flat[best]:.3f}".replace("-", "−") in summed
    # Shown products are 2-decimal roundings: if they do not add to the sum, the page says so.
    shown = sum(round(float(t.replace("−", "-")), 2) for t in page.locator(".lab-mini.prod span").all_inner_texts())
    assert (round(shown, 2) != round(out.flat[best], 2)) == ("rounded products add to" in summed)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "lab.png"), full_page=True)


def test_a_click_on_an_output_or_input_cell_jumps_step_mode_there(open_page):
    page = open_lab_on_a_seven(open_page)          # 3×3 edge kernel, stride 1, no padding: 30×30
    page.click(".lab-step-toggle")
    page.wait_for_function("() => { const s = document.querySelector('.lab-mini.prod span');"
                            " return !!s && !s.textContent.includes('…'); }")
    start = page.inner_text(".lab-step-where")
    assert not start.startswith("position 1 of 900 "), "starts where the ink is, not at (0, 0)"

    def click_cell(canvas, y, x):
        box = page.locator(canvas).bounding_box()
        page.mouse.click(box["x"] + (x + 0.5) * CELL, box["y"] + (y + 0.5) * CELL)

    click_cell("#lab-output", 12, 7)
    assert page.inner_text(".lab-step-where").startswith(
        f"position {12 * 30 + 7 + 1} of 900 · output cell (row 12, col 7) · window rows 12–14, cols 7–9")
    click_cell("#lab-padded", 20, 3)             # the window centred on it: output (19, 2)
    assert page.inner_text(".lab-step-where").startswith(
        f"position {19 * 30 + 2 + 1} of 900 · output cell (row 19, col 2) · window rows 19–21, cols 2–4")
    click_cell("#lab-padded", 0, 31)             # a corner: the nearest window, output (0, 29)
    assert "output cell (row 0, col 29)" in page.inner_text(".lab-step-where")
    # The window shown is the input's own cells there.
    window = [float(t.replace("−", "-")) for t in page.locator(".lab-mini.win span").all_inner_texts()]
    values = np.asarray(page.evaluate("Array.from(window.convscope.store.get().trace.byName.get('input').values)")).reshape(32, 32)
    np.testing.assert_allclose(window, values[0:3, 29:32].ravel(), atol=0.006)


def test_typing_a_cell_makes_a_custom_kernel(open_page):
    page = open_lab_on_a_seven(open_page, "identity")
    page.wait_for_function("() => document.getElementById('lab-kernel-note').textContent.startsWith('Identity')")
    cell = page.locator(".lab-cell").nth(4)
    cell.fill("1/2")
    cell.press("Tab")
    page.wait_for_function("() => document.getElementById('lab-kernel-note').textContent.startsWith('Your kernel')")
    assert page.input_value("#lab-kernel") == "custom"
    page.locator(".lab-cell").nth(0).fill("abc")
    page.locator(".lab-cell").nth(0).press("Tab")
    assert "not a number" in page.inner_text("#lab-error")
    page.select_option("#lab-size", "5")
    page.wait_for_function("() => document.getElementById('lab-formula').textContent.endsWith('= 28')")
    assert page.locator(".lab-cell").count() == 25


def test_why_400_to_120_under_the_network_view(open_page, server_url):
    page = open_page("/", viewport=(1280, 720))
    ready(page)
    strip = page.locator("#sizes")
    strip.wait_for()
    text = strip.inner_text()
    layers = httpx.get(f"{server_url}/api/model").json()["layers"]
    pool2 = next(l for l in layers if l["name"] == "pool2")["shape"]
    assert pool2 == [16, 5, 5]
    assert "Why 400 → 120?" in text
    assert "32 → 28 → 14 → 10 → 5" in text
    assert "conv1 (32 − 5 + 2·0) / 1 + 1 = 28 · 6 filters" in text
    assert "pool2 (10 − 2 + 2·0) / 2 + 1 = 5 · max pool" in text
    assert "flatten 16 maps × 5 × 5 = 400 inputs" in text
    assert "fc1 400 → 120 units" in text and "fc2 120 → 100 units" in text
    assert "120 and 100 are design choices" in text
    assert strip.locator(".warn").count() == 0, "every recorded shape follows from the params"


def test_the_activation_choice_changes_the_map_that_is_pooled(open_page, server_url):
    """ReLU paints no negative (blue) cell after the activation; tanh keeps the negatives."""
    page = open_lab_on_a_seven(open_page)
    page.wait_for_function("() => document.getElementById('lab-cap-relu').textContent.startsWith('after ReLU 30×30')")
    relu = cell_colours(page, "lab-relu", (30, 30))
    assert not (relu[..., 2] > relu[..., 0] + 40).any(), "ReLU leaves no negative cell"
    page.select_option("#lab-activation", "tanh")
    page.wait_for_function("() => document.getElementById('lab-cap-relu').textContent.startsWith('after tanh 30×30')")
    values = page.evaluate("Array.from(window.convscope.store.get().trace.byName.get('input').values)")
    api = httpx.post(f"{server_url}/api/convolve", json={
        "input": {"values": values, "shape": [1, 32, 32]}, "kernel_name": "edge_all",
        "activation": "tanh"}).json()
    act = np.asarray(api["relu"]["values"]).reshape(30, 30)
    np.testing.assert_allclose(act, np.tanh(np.asarray(api["output"]["values"]).reshape(30, 30)), atol=1e-6)
    rgb = cell_colours(page, "lab-relu", (30, 30))
    strong = np.abs(act) > 0.3 * np.abs(act).max()
    assert (act[strong] < 0).sum() > 5, "the edge kernel gives negative cells beside the stroke"
    assert ((rgb[..., 2] > rgb[..., 0]) == (act < 0))[strong].all(), "blue exactly where tanh < 0"
    page.select_option("#lab-activation", "none")
    page.wait_for_function("() => document.getElementById('lab-cap-relu').textContent.startsWith('no activation')")
