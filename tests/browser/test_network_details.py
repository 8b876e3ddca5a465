"""Details of the 2D network view in real Chromium: map k keeps its grid cell across a block's
stages and every map carries its number (drawn on the canvas, read back from its pixels); a
folded dense unit's header and node agree; a folded ReLU column's legend shows only what can
occur."""
from __future__ import annotations

import pytest

from tests.browser.conftest import ready, settled
from tests.browser.test_page import api_explain, draw_mouse, hover_unit, one_stroke, wait_panel


def grid_cells(page, stage, count):
    """(grid column, grid row) of maps 0..count-1 of `stage`, from where the page draws them."""
    return page.evaluate("""([stage, count]) => {
        const net = window.convscope.net;
        const rects = Array.from({ length: count }, (_, k) => net.unitBox(stage, [k, 0, 0]));
        const rank = (vals) => { const d = [...new Set(vals)].sort((a, b) => a - b); return vals.map((v) => d.indexOf(v)); };
        const xs = rank(rects.map((r) => Math.round(r.x * 100))), ys = rank(rects.map((r) => Math.round(r.y * 100)));
        return rects.map((_, k) => [xs[k], ys[k]]); }""", [stage, count])


def dark_text_pixels(page, box):
    """Neutral dark pixels (the numbers' ink; the colour scales have no dark grey) in a box."""
    return page.evaluate("""(b) => {
        const c = document.getElementById('net'), d = window.devicePixelRatio || 1;
        const img = c.getContext('2d').getImageData(Math.floor(b.x * d), Math.floor(b.y * d), Math.ceil(b.w * d), Math.ceil(b.h * d)).data;
        let n = 0;
        for (let i = 0; i < img.length; i += 4) {
          const hi = Math.max(img[i], img[i + 1], img[i + 2]), lo = Math.min(img[i], img[i + 1], img[i + 2]);
          if (img[i + 3] > 200 && hi < 120 && hi - lo < 30) n++;
        }
        return n; }""", box)


@pytest.mark.parametrize("fold", [True, False])
def test_map_k_keeps_its_cell_across_a_block_and_carries_its_number(open_page, fold):
    page = open_page()
    ready(page)
    if not fold:
        page.click("#fold-relu")
        page.wait_for_function("() => window.convscope.net.view && window.convscope.net.view.fold === false")
    stages = page.evaluate("() => window.convscope.store.get().trace.layers.map((l) => [l.name, l.kind, l.shape])")
    blocks, run = [], []
    for name, kind, shape in stages:   # conv → activation → pool: neighbours with one channel count
        if len(shape) == 3 and run and run[-1][1][0] == shape[0]:
            run.append((name, shape))
        else:
            if len(run) > 1:
                blocks.append(run)
            run = [(name, shape)] if len(shape) == 3 else []
    assert len(blocks) == 2, blocks
    for block in blocks:
        count = block[0][1][0]
        first = grid_cells(page, block[0][0], count)
        for name, _ in block[1:]:
            assert grid_cells(page, name, count) == first, f"{name} vs {block[0][0]}"
    conv = next(n for n, k, s in stages if k == "conv" and s[0] > 10)   # conv2: 16 maps
    columns = page.evaluate("() => window.convscope.net.layout.columns.map((c) => c.key)")
    key = conv if conv in columns else None
    drawn = page.evaluate("(k) => window.convscope.net.mapNumbers(k)", key)
    assert drawn and len(drawn["boxes"]) == 16, drawn
    for k in (0, 9, 15):
        box = drawn["boxes"][k]
        at = page.evaluate("([s, k]) => window.convscope.net.unitBox(s, [k, 0, 0])", [conv, k])
        assert (box["x"], box["y"]) == pytest.approx((at["x"], at["y"])), f"map {k}'s number sits on map {k}"
        assert dark_text_pixels(page, box) >= 4, f"map {k}'s number is drawn"
    assert drawn["boxes"][15]["w"] > drawn["boxes"][9]["w"], "two digits are wider than one"
    # Away from the numbers the maps hold no such ink: the count above is the numbers' own.
    at = page.evaluate("([s]) => window.convscope.net.unitBox(s, [9, 4, 4])", [conv])
    assert dark_text_pixels(page, {**at, "w": at["w"] * 4, "h": at["h"] * 4}) == 0


def weakest_unit(page, layer):
    """The unit of a 1-D `layer` with the most negative value in the trace on screen."""
    return page.evaluate("""(name) => { const v = window.convscope.store.get().trace.byName.get(name).values;
        let k = 0; for (let i = 1; i < v.length; i++) if (v[i] < v[k]) k = i; return [k]; }""", layer)


def test_a_folded_dense_unit_shows_both_values_ending_on_what_its_node_shows(open_page, server_url):
    page = open_page()
    ready(page)
    draw_mouse(page, one_stroke())
    settled(page)
    unit = weakest_unit(page, "fc1")
    api = api_explain(server_url, page, "fc1", unit)
    assert api["value"] < 0, "a unit ReLU silences, where the two values differ"
    hover_unit(page, "fc1", unit)
    wait_panel(page, "fc1", unit)
    head = page.locator("#explain p.eq").first
    text = head.inner_text()
    pre = float(head.locator(".value").get_attribute("data-value"))
    shown = float(head.locator(".activated").get_attribute("data-value"))
    node = page.evaluate("(u) => window.convscope.store.get().trace.byName.get('relu3').values[u[0]]", unit)
    assert pre == pytest.approx(api["value"], abs=1e-6)
    assert shown == node == 0.0, "the header ends on the value the node is painted with"
    assert text.startswith(f"fc1[{unit[0]}] (dense) + relu3 = relu(\u2212") and text.endswith(") = 0.000"), text
    # Unfolded, fc1's node shows fc1 itself: one value, the pre-activation.
    page.click("#fold-relu")
    page.wait_for_function("() => window.convscope.net.view && window.convscope.net.view.fold === false")
    hover_unit(page, "relu3", unit)
    wait_panel(page, "relu3", unit)
    hover_unit(page, "fc1", unit)
    wait_panel(page, "fc1", unit)
    head = page.locator("#explain p.eq").first
    assert head.locator(".activated").count() == 0
    assert head.inner_text().startswith(f"fc1[{unit[0]}] (dense) = \u2212")


def legend_colours(page):
    """The legend ramp's domain and the colours of its gradient stops."""
    return page.evaluate("""() => { const r = document.querySelector('#legend .ramp');
        const stops = [...r.style.background.matchAll(/rgb\\((\\d+), ?(\\d+), ?(\\d+)\\)/g)].map((m) => m.slice(1).map(Number));
        return { domain: r.dataset.domain.split(',').map(Number), stops,
                 ticks: [...document.querySelectorAll('#legend .ticks span')].map((s) => s.textContent) }; }""")


def test_a_relu_columns_legend_shows_only_white_to_orange(open_page):
    page = open_page()
    ready(page)
    draw_mouse(page, one_stroke())
    settled(page)
    for layer, unit in (("conv1", [0, 14, 14]), ("pool1", [0, 7, 7]), ("fc2", [0])):   # folded: relu shown
        hover_unit(page, layer, unit)
        page.wait_for_function("(l) => /^(\\S+)/.exec(document.querySelector('#legend > span')?.textContent ?? '')?.[1].replace(':', '') === l", arg=layer)
        legend = legend_colours(page)
        assert legend["domain"][0] == 0 and legend["domain"][1] > 0, (layer, legend)
        assert float(legend["ticks"][0]) == 0 and "never negative" in page.inner_text("#legend")
        assert len(legend["stops"]) == 5 and all(b <= r for r, g, b in legend["stops"]), f"{layer}: no blue {legend}"
    page.click("#fold-relu")   # conv1 on its own is signed: its legend keeps blue
    page.wait_for_function("() => window.convscope.net.view && window.convscope.net.view.fold === false")
    hover_unit(page, "conv1", [0, 14, 14])
    page.wait_for_function("() => document.querySelector('#legend > span')?.textContent.startsWith('conv1:')")
    legend = legend_colours(page)
    assert legend["domain"][0] == -legend["domain"][1] < 0
    assert any(b > r for r, g, b in legend["stops"]), "blue for the negative half"
