"""Details of the 2D network view in real Chromium: map k keeps its grid cell across a block's
stages and every map carries its number (drawn on the canvas, read back from its pixels); a
folded dense unit's header and node agree; a folded ReLU column's legend shows only what can
occur."""
from __future__ import annotations

import pytest

from tests.browser.conftest import ready


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
