"""The Lab tab on imported models: Tiny VGG (3×64×64, mean/std-normalised RGB) offers one map per
colour channel and each conv1 filter's slice for that channel, and the map it shows is the
loop's Σ channel window × slice on /api/forward's own input; LeNet-5's maps read 28×28; a link
names a channel and reopens it, one the model lacks is dropped with a note.
Screenshots: screenshots/lab-tinyvgg.png, screenshots/lab-lenet5.png."""
from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.browser.conftest import SHOTS, ready
from tests.browser.helpers import draw_seven, opener, pick_picture, serve_models


@pytest.fixture(scope="module")
def url(imported_models):
    with serve_models(imported_models / "tinyvgg.npz", imported_models / "lenet5.npz") as u:
        yield u


@pytest.fixture
def open_lab(browser, url):
    with opener(browser, url) as _open:
        yield lambda path, viewport=(1280, 900): _open(path, viewport=viewport)


def lab_answer(page, test):
    """Wait until the Lab's latest answer passes `test` (a JS expression over `r` = {result,
    body}) and the map is painted; return the answer's body and output as plain lists."""
    page.wait_for_function(f"""() => {{ const r = window.convscope.store.get().labResult;
        return !!r && ({test}) && document.getElementById('view-lab').dataset.ready === 'true'; }}""")
    return page.evaluate("""() => { const r = window.convscope.store.get().labResult;
        return { body: r.body, shape: r.result.output.shape, output: Array.from(r.result.output.values),
                 padded: Array.from(r.result.padded.values), note: r.result.kernel.label }; }""")


def cell_rgb(page, canvas, cells):
    """RGB at the centre of map cells [(y, x), ...] of a Lab canvas (its own cell size)."""
    return np.asarray(page.evaluate("""([id, cells]) => {
        const c = document.getElementById(id), ctx = c.getContext('2d');
        const s = window.convscope.store.get().labResult.result.padded.shape;
        const cell = c.width / (id === 'lab-padded' ? s[1] : window.convscope.store.get().labResult.result.output.shape[1]);
        return cells.map(([y, x]) => Array.from(ctx.getImageData(x * cell + cell / 2, y * cell + cell / 2, 1, 1).data.slice(0, 3))); }""",
        [canvas, cells]), dtype=float)


def test_tiny_vgg_convolves_one_colour_channel_with_its_slice_of_a_learned_filter(open_lab, url, tmp_path):
    page = open_lab("/?model=tinyvgg")
    ready(page)
    yy, xx = np.mgrid[0:96, 0:128]
    picture = np.stack([xx * 2 % 256, 60 + yy, (255 - xx * 2) % 256], -1).astype(np.uint8)
    picture[30:66, 40:88] = [250, 230, 20]            # a yellow box: bright red, no blue
    pick_picture(page, picture, tmp_path)
    page.click("#tab-lab")
    page.wait_for_selector("#view-lab[data-ready]")

    options = page.eval_on_selector_all("#lab-source option", "os => os.map(o => [o.value, o.textContent])")
    assert options == [["input:0", "input channel 0 · red (64×64)"], ["input:1", "input channel 1 · green (64×64)"],
                       ["input:2", "input channel 2 · blue (64×64)"]]
    hint = page.inner_text(".lab-hint")
    assert "black (0) to white (1)" not in hint and "(x − 0.485) / 0.229" in hint, hint
    page.select_option("#lab-source", "input:2")
    assert "(x − 0.406) / 0.225" in page.inner_text(".lab-hint")
    learned = page.eval_on_selector_all("#lab-kernel optgroup[label^='Learned'] option",
                                        "os => os.map(o => [o.value, o.textContent])")
    assert learned == [[f"learned:conv1:{f}:2", f"conv1 filter {f} · blue channel"] for f in range(10)]
    f = 7
    page.select_option("#lab-kernel", f"learned:conv1:{f}:2")
    got = lab_answer(page, "r.body.learned && r.body.learned.filter === 7 && r.body.learned.channel === 2")
    assert got["note"] == f"Learned: conv1 filter {f}, input channel 2"
    assert got["body"]["input"]["shape"] == [64, 64] and len(got["body"]["input"]["values"]) == 4096

    # The reference: /api/forward's own input (channel 2) and conv1's weights, by a plain loop.
    drawing = page.evaluate("() => window.convscope.store.get().trace.body")
    fwd = httpx.post(f"{url}/api/forward?model=tinyvgg", json=drawing).json()
    stage = fwd["layers"][0]
    x = np.asarray(stage["values"], dtype=np.float32).reshape(stage["shape"])[2].astype(np.float64)
    weights = httpx.get(f"{url}/api/model/weights?model=tinyvgg").json()["conv1"]
    w = np.asarray(weights["weight"], dtype=np.float64).reshape(weights["weight_shape"])[f, 2]
    expect = np.zeros((62, 62))
    for i in range(62):
        for j in range(62):
            for a in range(3):
                for b in range(3):
                    expect[i, j] += x[i + a, j + b] * w[a, b]
    assert got["shape"] == [62, 62]
    out = np.asarray(got["output"]).reshape(62, 62)
    np.testing.assert_allclose(out, expect, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(got["padded"], dtype=np.float32).reshape(64, 64),
                                  x.astype(np.float32), "the map sent is channel 2 exactly")

    # The map is drawn on the channel's own range: black = no blue, white = full blue.
    lo, hi = (0 - 0.406) / 0.225, (1 - 0.406) / 0.225
    cells = [(40, 50), (10, 10), (10, 60), (60, 5)]
    grey = cell_rgb(page, "lab-padded", cells)
    for (y, xx_), rgb in zip(cells, grey):
        assert np.ptp(rgb) == 0, "the input is grey"
        assert rgb[0] == pytest.approx(255 * (x[y, xx_] - lo) / (hi - lo), abs=2), (y, xx_)
    # and the output on the diverging scale: orange where the loop says > 0, blue where < 0
    strong = [(i, j) for i in range(0, 62, 5) for j in range(0, 62, 5) if abs(expect[i, j]) > 0.2 * np.abs(expect).max()]
    rgb = cell_rgb(page, "lab-output", strong)
    assert len(strong) > 10
    assert all((c[0] > c[2]) == (expect[p] > 0) for p, c in zip(strong, rgb))

    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "lab-tinyvgg.png"), full_page=True)

    # The view is in the link, and the link reopens channel 2 with the same slice.
    page.wait_for_function("() => location.hash.includes(';input:2')")
    href = page.evaluate("() => window.convscope.views.linkNow()")
    assert f"learned:conv1:{f}:2" in href, href
    again = open_lab(href[len(url):])
    ready(again)
    same = lab_answer(again, "r.body.learned && r.body.learned.channel === 2")
    assert again.input_value("#lab-source") == "input:2"
    assert again.input_value("#lab-kernel") == f"learned:conv1:{f}:2"
    # (A link carries a drawing's ink, not a photo: the reopened page's picture is its own, so
    # the check is that its map is that page's channel 2.)
    mine = again.evaluate("() => Array.from(window.convscope.store.get().trace.byName.get('input').values.subarray(2 * 4096))")
    np.testing.assert_array_equal(np.asarray(same["padded"], dtype=np.float32), np.asarray(mine, dtype=np.float32))


def test_a_link_to_a_map_the_model_lacks_is_dropped_with_a_note(open_lab):
    page = open_lab("/?model=tinyvgg#tab=lab&lab=classic:sharpen;s2;p1;relu;max2;centred")
    ready(page)
    page.wait_for_selector("#link-note:not([hidden])")
    assert "no Lab map centred in this model (it has input:0, input:1, input:2)" in page.inner_text("#link-note")
    page.wait_for_selector("#view-lab[data-ready]")
    assert page.input_value("#lab-source") == "input:0" and page.input_value("#lab-stride") == "1"
    # A LeNet link's "input" is an RGB model's channel 0 and its conv1 filter that channel's slice.
    page = open_lab("/?model=tinyvgg#tab=lab&lab=learned:conv1:3;s1;p0;relu;max2;input")
    ready(page)
    got = lab_answer(page, "r.body.learned && r.body.learned.filter === 3")
    assert got["body"]["learned"] == {"layer": "conv1", "filter": 3, "channel": 0}
    assert page.input_value("#lab-source") == "input:0"


def test_lenet5_maps_read_28x28(open_lab):
    page = open_lab("/?model=lenet5")
    ready(page)
    draw_seven(page)
    page.click("#tab-lab")
    page.wait_for_selector("#view-lab[data-ready]")
    options = page.eval_on_selector_all("#lab-source option", "os => os.map(o => [o.value, o.textContent])")
    assert options == [["input", "network input (28×28)"], ["centred", "centred digit (28×28)"]]
    assert "black (0) to white (1)" in page.inner_text(".lab-hint"), "a plain 0..1 input says so"
    learned = page.eval_on_selector_all("#lab-kernel optgroup[label^='Learned'] option", "os => os.map(o => o.value)")
    assert learned == [f"learned:conv1:{f}" for f in range(6)], "the one-map conv1, as on the shipped LeNet"
    page.select_option("#lab-kernel", "learned:conv1:2")
    page.select_option("#lab-padding", "2")
    got = lab_answer(page, "r.body.learned && r.body.padding === 2")
    assert got["body"]["learned"] == {"layer": "conv1", "filter": 2}
    # conv1 of LeNet-5 pads by 2: the Lab at padding 2 with filter 2 is the network's own map 2.
    conv1 = page.evaluate("() => { const l = window.convscope.store.get().trace.byName.get('conv1');"
                          " return Array.from(l.values.subarray(2 * 784, 3 * 784)); }")
    np.testing.assert_allclose(got["output"], conv1, rtol=1e-4, atol=1e-5)
    assert page.inner_text("#lab-cap-padded").startswith("input 28×28 padded by 2 → 32×32")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "lab-lenet5.png"), full_page=True)
    # A channel link on a one-channel model: dropped with a note, the Lab keeps its own map.
    other = open_lab("/?model=lenet5#tab=lab&lab=classic:identity;s1;p0;relu;max2;input:2")
    ready(other)
    other.wait_for_selector("#link-note:not([hidden])")
    assert "no Lab map input:2 in this model (it has input" in other.inner_text("#link-note")
