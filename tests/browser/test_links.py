"""Links that reopen the view: 20 random states (tab, model, fold, pinned unit, Lab settings, a
test digit or a drawing made with the mouse) are copied with Share → Copy link and opened in a
fresh browser context, which must show the same state and the same numbers; bad links open
with a visible note; the unit CSV equals /api/explain.
"""
from __future__ import annotations

import csv
import io
import random

import httpx
import pytest

from tests.browser.conftest import SHOTS

LAYERS = ["conv1", "relu1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3", "softmax"]
KERNELS = ["classic:edge_all", "classic:sharpen", "classic:box_blur", "classic:gaussian_blur_5", "learned:conv1:4"]


def settled(page, timeout=20_000):
    page.wait_for_function("""() => { const c = window.convscope; if (!c || !c.views) return false;
        const s = c.store.get();
        return s.linkOpened && s.trace && s.trace.body === s.drawing && c.live.idle && s.model && s.model.modelId === s.modelId
          && (s.tab !== 'lab' || (s.labResult && s.lab && s.labResult.body.stride === s.lab.stride && s.labResult.body.padding === s.lab.padding && s.labResult.body.activation === s.lab.activation)); }""",
                           timeout=timeout)
    page.wait_for_timeout(60)
    page.wait_for_function("() => window.convscope.live.idle", timeout=timeout)


def random_view(rnd, shapes):
    model = rnd.choice(["lenet-mnist", "lenet-harley"])
    layer = rnd.choice(LAYERS)
    name = layer.replace("relu", "tanh") if model == "lenet-harley" else layer
    view = {"model": model, "tab": rnd.choice(["network", "network", "network", "lab", "lab", "learn", "3d"]), "fold": rnd.random() < 0.5,
            "pin": {"layer": name, "unit": [rnd.randrange(n) for n in shapes[name]]}}
    if view["tab"] == "lab":
        view["lab"] = {"kernel": rnd.choice(KERNELS), "stride": rnd.choice([1, 2, 3]), "padding": rnd.choice([0, 1, 2, 3]),
                       "activation": rnd.choice(["relu", "tanh", "sigmoid", "none"]), "pool": rnd.choice(["max", "avg", "sum"]),
                       "window": rnd.choice([1, 2, 3, 4]), "source": rnd.choice(["input", "centred"])}
    drawn = rnd.random() < 0.35
    if not drawn:
        view["drawing"] = {"sample": [rnd.randrange(10), rnd.randrange(4)]}
    return view, drawn


def stroke(page, rnd):
    page.click("#tab-network")
    page.click("#pad-clear")
    box = page.locator("#pad").bounding_box()
    x, y = 0.3 + 0.4 * rnd.random(), 0.2
    page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.mouse.down()
    for k in range(1, 12):
        page.mouse.move(box["x"] + (x + 0.25 * rnd.random() - 0.12) * box["width"], box["y"] + (0.2 + 0.06 * k) * box["height"])
    page.mouse.up()


SNAPSHOT = """() => { const s = window.convscope.store.get();
    const layer = s.pinned && s.trace.byName.get(s.pinned.layer);
    return { tab: s.tab, fold: s.foldActivations, model: s.modelId, pinned: s.pinned && { layer: s.pinned.layer, unit: s.pinned.unit },
             lab: s.tab === 'lab' ? s.lab : null, prediction: s.trace.prediction, probabilities: Array.from(s.trace.probabilities),
             pinnedValues: layer ? Array.from(layer.values) : null,
             body: s.trace.body.pixels ? { w: s.trace.body.width, h: s.trace.body.height, pixels: Array.from(s.trace.body.pixels) } : 'image',
             labOutput: s.tab === 'lab' && s.labResult ? Array.from(s.labResult.result.output.values) : null,
             explained: s.explanation ? s.explanation.value : null }; }"""


def reopen_wait(other, k, href):
    settled(other)
    try:
        other.wait_for_function("() => window.convscope.store.get().pinned && window.convscope.store.get().explanation && window.convscope.live.idle")
    except Exception:
        raise AssertionError(f"link {k} {href}: " + other.evaluate("""() => { const s = window.convscope.store.get();
            return JSON.stringify({ pinned: s.pinned, e: s.explanation && [s.explanation.layer, s.explanation.unit],
                                    idle: window.convscope.live.idle, note: document.querySelector('#link-note').innerText }); }""")) from None
    return other.evaluate(SNAPSHOT)


BATCH = 5   # reopened pages loading side by side (each in its own fresh context)


def test_twenty_random_links_reopen_the_same_state(browser, server_url, open_page, trained):
    rnd = random.Random(15)
    shapes = {}
    for model in ("lenet-mnist", "lenet-harley"):
        for layer in httpx.get(f"{server_url}/api/model?model={model}").json()["layers"]:
            shapes[layer["name"]] = layer["shape"]
    page = open_page("/", viewport=(1280, 720))
    settled(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    (SHOTS / "links").mkdir(parents=True, exist_ok=True)
    kinds = {"drawn": 0, "sample": 0}
    links = []
    for k in range(20):
        view, drawn = random_view(rnd, shapes)
        if drawn:
            stroke(page, rnd)
            settled(page)
        kinds["drawn" if drawn else "sample"] += 1
        notes = page.evaluate("(v) => window.convscope.views.apply(v)", view)
        assert notes == [], notes
        settled(page)
        page.click("#share-button")
        page.click("#share-copy")
        page.wait_for_function("() => window.convscope.store.get().linkCopied")
        settled(page)
        href = page.evaluate("() => window.convscope.store.get().linkCopied")
        assert page.input_value("input.share-link") == href == page.evaluate("() => location.href")
        assert page.evaluate("() => navigator.clipboard.readText()") == href
        assert "sample=" in href or "ink=" in href
        page.evaluate("() => window.convscope.store.set({ linkCopied: null })")
        page.keyboard.press("Escape")
        page.wait_for_function("() => window.convscope.live.idle && window.convscope.store.get().explanation")
        links.append((href, page.evaluate(SNAPSHOT)))
    assert kinds["drawn"] >= 3 and kinds["sample"] >= 3, kinds

    for first in range(0, len(links), BATCH):
        opened = []
        try:
            for k in range(first, min(first + BATCH, len(links))):
                ctx = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
                other = ctx.new_page()
                other.errors = []

                other.on("pageerror", lambda e, o=other: o.errors.append(str(e)))
                other.on("console", lambda m, o=other: m.type == "error" and o.errors.append(m.text))
                other.goto(links[k][0], wait_until="commit")
                opened.append((k, ctx, other))
            for k, ctx, other in opened:
                href, original = links[k]
                reopened = reopen_wait(other, k, href)
                if k < 3:
                    other.screenshot(path=str(SHOTS / "links" / f"reopened-{k}.png"))
                assert other.errors == []
                assert other.locator("#link-note").is_hidden(), other.inner_text("#link-note")
                assert reopened == original, f"link {k} ({href[:160]}) reopened differently: " + ", ".join(
                    key for key in original if original[key] != reopened[key])
        finally:
            for _, ctx, _ in opened:
                ctx.close()


def test_a_bad_link_opens_the_page_with_a_note(open_page, trained):
    page = open_page("/#tab=nope&pin=conv9:1,2,3&lab=garbage&ink=56x56.AAAAAA&fold=0&wat=1")
    settled(page)
    page.wait_for_selector("#link-note:not([hidden])")
    note = page.inner_text("#link-note")
    for word in ("tab=nope", "lab=garbage", "drawing", "wat", "conv9"):
        assert word in note, note
    s = page.evaluate("() => ({ fold: window.convscope.store.get().foldActivations, tab: window.convscope.store.get().tab })")
    assert s == {"fold": False, "tab": "network"}, "the good parts of the link still apply"
    page.click("#link-note button")
    assert page.locator("#link-note").is_hidden()
    # A link cut short in the middle of the drawing: the drawing is ignored, the rest applies.
    # A fresh page, not goto + reload: a same-document hash change lets the running page's
    # URL sync (250 ms after the drawing rests) write its own state back before the reload.
    page = open_page("/#tab=lab&sample=3:0")
    settled(page)
    href = page.evaluate("() => window.convscope.views.linkNow()")
    assert "sample=3:0" in href and "tab=lab" in href


def test_unit_csv_equals_api_explain(open_page, server_url, trained):
    page = open_page("/")
    settled(page)
    for layer, unit in (("conv2", [5, 4, 3]), ("pool1", [2, 7, 7]), ("fc1", [9])):
        page.evaluate("([l, u]) => window.convscope.views.apply({ drawing: { sample: [4, 1] }, pin: { layer: l, unit: u } })", [layer, unit])
        settled(page)
        page.wait_for_function("() => window.convscope.store.get().explanation")
        page.click("#share-button")
        with page.expect_download() as info:
            page.click("#share-csv")
        page.keyboard.press("Escape")
        text = open(info.value.path(), encoding="utf-8").read()
        assert info.value.suggested_filename == f"{layer}_{'-'.join(map(str, unit))}.csv"
        body = page.evaluate("() => window.convscope.store.get().trace.body")
        api = httpx.post(f"{server_url}/api/explain", json={**body, "layer": layer, "unit": unit}).json()
        rows = list(csv.reader(io.StringIO(text)))
        field = {r[0]: r[1] for r in rows if len(r) == 2}
        assert field["layer"] == layer and field["unit"] == " ".join(map(str, unit))
        assert float(field["value"]) == pytest.approx(api["value"], abs=0)
        if api["kind"] in ("conv", "dense"):
            assert float(field["bias"]) == api["bias"] and float(field["sum"]) == api["sum"]
            head = "map" if api["kind"] == "conv" else "input index"
            at = next(i for i, r in enumerate(rows) if r and r[0] == head)
            table = [list(map(float, r)) for r in rows[at + 1:] if len(r) > 2]
            col = 3 if api["kind"] == "conv" else 1
            assert [r[col] for r in table] == pytest.approx(api["source"]["values"], abs=0)
            assert [r[col + 1] for r in table] == pytest.approx(api["weight"], abs=0)
            assert sum(r[col + 2] for r in table) + api["bias"] == pytest.approx(api["sum"], abs=1e-5)
        else:
            at = next(i for i, r in enumerate(rows) if r and r[0] == "map")
            window = [float(r[3]) for r in rows[at + 1:] if len(r) == 4]
            assert window == pytest.approx(api["source"]["values"], abs=0)
            assert max(window) == pytest.approx(api["value"], abs=0)


def test_download_png_of_the_view(open_page, trained):
    """Share → Download PNG saves the tab on screen: a PNG the size of the view plus its caption
    line, with the network's own pixels in it (not a blank canvas)."""
    page = open_page("/")
    settled(page)
    page.click("#share-button")
    with page.expect_download() as info:
        page.click("#share-png")
    data = open(info.value.path(), "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and info.value.suggested_filename == "convscope-network.png"
    from PIL import Image
    img = Image.open(io.BytesIO(data)).convert("RGB")
    view = page.locator("#view-network").bounding_box()
    assert abs(img.width - max(320, view["width"])) <= 1 and abs(img.height - view["height"] - 28) <= 1
    colours = img.resize((64, 64)).getcolors(64 * 64)
    assert colours and len(colours) > 20, "the maps' colours are in the picture"


LEARN_SHOWN = """() => { const l = window.convscope.learn, s = window.convscope.store.get();
    const cell = (f) => Array.from(document.querySelectorAll(`#learn-table [data-field=${f}]`), (e) => e.textContent);
    return { learn: s.learn, checked: document.querySelector('input[name=learn-target]:checked')?.value ?? null,
             rate: document.querySelector('#learn-lr-value').textContent, steps: document.querySelector('#learn-count').dataset.steps,
             head: document.querySelector('#learn-table thead').textContent, totalError: cell('total_error'), probability: cell('probability') }; }"""


def learn_settled(page, steps):
    settled(page)
    page.wait_for_function(f"""() => {{ const l = window.convscope.learn; const h = document.querySelector('#learn-table thead');
        return l && l.idle && h && h.textContent.includes('after {steps} step'); }}""")


def test_a_learn_link_reopens_the_same_target_rate_and_numbers(browser, open_page, trained):
    """Lesson 6 asks for a Learn target: a link copied after picking one (and a rate, and steps)
    reopens that target, not the prediction, with the same total error on screen."""
    page = open_page("/", viewport=(1280, 720))
    settled(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    assert page.evaluate("(v) => window.convscope.views.apply(v)", {"drawing": {"sample": [3, 1]}, "tab": "learn"}) == []
    learn_settled(page, 0)
    predicted = page.evaluate("() => window.convscope.store.get().trace.prediction")
    wrong = (predicted + 4) % 10
    page.check(f"input[name=learn-target][value='{wrong}']")
    page.locator("#learn-lr").fill("6")          # the ladder's 7th stop, 0.1
    page.click("#learn-step")
    page.click("#learn-step")
    learn_settled(page, 2)
    page.click("#share-button")
    page.click("#share-copy")
    page.wait_for_function("() => window.convscope.store.get().linkCopied")
    href = page.evaluate("() => window.convscope.store.get().linkCopied")
    page.keyboard.press("Escape")
    assert f"learn=t{wrong};lr0.1;n2" in href and "tab=learn" in href, href
    original = page.evaluate(LEARN_SHOWN)
    assert original["checked"] == str(wrong) and original["rate"] == "0.1" and original["steps"] == "2"
    assert original["learn"] == {"target": wrong, "rate": 0.1, "steps": 2}

    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    try:
        other = ctx.new_page()
        errors = []
        other.on("pageerror", lambda e: errors.append(str(e)))
        other.goto(href)
        try:
            learn_settled(other, 2)
        except Exception:
            raise AssertionError(href + " " + str(other.evaluate(LEARN_SHOWN)) + str(other.evaluate("() => [window.convscope.learn.idle, window.convscope.store.get().tab, document.querySelector('#learn-error').textContent, document.querySelector('#link-note').innerText]")))
        reopened = other.evaluate(LEARN_SHOWN)
        assert errors == []
        assert other.locator("#link-note").is_hidden(), other.inner_text("#link-note")
        assert reopened == original, {k: (original[k], reopened[k]) for k in original if original[k] != reopened[k]}
        # A class the model does not have is dropped with the visible note; the rest applies:
        # opened in a new tab, and pasted into this tab's address bar (only the hash changes,
        # so the page does not reload: it reopens the link itself).
        bad = href.replace(f"learn=t{wrong};", "learn=t42;")
        fresh = ctx.new_page()
        fresh.goto(bad)
        settled(fresh)
        fresh.wait_for_selector("#link-note:not([hidden])")
        assert "no class 42" in fresh.inner_text("#link-note")
        assert fresh.evaluate("() => window.convscope.store.get().tab") == "learn"
        other.evaluate("(h) => { location.hash = new URL(h).hash; }", bad)
        other.wait_for_selector("#link-note:not([hidden])")
        assert "no class 42" in other.inner_text("#link-note")
        # and a good link pasted after it (one step, not two) closes the stale note
        other.evaluate("(h) => { location.hash = new URL(h).hash; }", href.replace(";n2", ";n1"))
        other.wait_for_selector("#link-note", state="hidden")
        learn_settled(other, 1)
    finally:
        ctx.close()
