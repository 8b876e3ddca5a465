"""The seven lessons walked end to end in Chromium, doing what each step asks (hover, pin, draw,
choose a tab, model, Lab setting or Learn target, take a step), with every number a step shows
checked against the API's answer for the state on screen: the runner records which request each
number came from, the test replays that request itself (httpx) and reads the same path from
the JSON; `stage.*` numbers come from GET /api/model, `pinned.value` and `trace.*` from POST
/api/forward. Screenshots of every step go to screenshots/lessons (gitignored).
"""
from __future__ import annotations

import math
import re

import httpx
import pytest

from tests.browser.conftest import SHOTS

LESSONS = ["feature-maps", "sixteen-filters", "why-120", "six-filters-differ", "c3-table",
           "backprop-filter", "padding-stride"]
MINUS = "\u2212"


def card(page):
    return page.evaluate("""() => { const c = window.convscope.lessons.runner.card; if (!c) return null;
        return { index: c.index, done: c.done, missing: c.missing, notes: c.notes, task: c.step.task,
                 requests: c.requests.map(({name, kind, args, body, model}) => ({name, kind, args, body, model})) }; }""")


def wait_idle(page, timeout=20_000, filled=True):
    try:
        page.wait_for_function("""(filled) => { const c = window.convscope, r = c.lessons.runner, s = c.store.get();
            return r.idle && c.live.idle && s.trace && s.trace.body === s.drawing && !(filled && r.card?.missing?.length); }""",
                               arg=filled, timeout=timeout)
    except Exception:
        state = page.evaluate("""() => { const c = window.convscope, r = c.lessons.runner, s = c.store.get();
            return { idle: r.idle, live: c.live.idle, trace: !!s.trace, same: s.trace?.body === s.drawing,
                     step: r.card?.index, missing: r.card?.missing, notes: r.card?.notes, model: s.modelId }; }""")
        raise AssertionError(f"the lesson did not settle: {state}") from None


# --- the numbers --------------------------------------------------------------------------------
def tokens(path):
    out = []
    for part in path.split("."):
        for t in re.findall(r"[^\[\]]+", part):
            out.append(int(t) if t.isdigit() else t)
    return out


def lookup(obj, path):
    for t in tokens(path):
        if t == "length":
            return len(obj)
        obj = obj[t]
    return obj


def conv_terms(e):
    """Per-map sums of window × weight of a conv explain answer (only the maps it reads)."""
    shape = e["source"]["shape"]
    c_count, n = (shape[0], shape[1] * shape[2]) if len(shape) == 3 else (1, shape[0] * shape[1])
    c0 = e["source"]["window"][0][0]
    reads = e.get("channels")
    maps, subtotals = [], []
    for c in range(c_count):
        if reads is not None and c0 + c not in reads:
            continue
        w = e["source"]["values"][c * n:(c + 1) * n]
        k = e["weight"][c * n:(c + 1) * n]
        maps.append(c0 + c)
        subtotals.append(sum(a * b for a, b in zip(w, k)))
    return {"count": len(maps), "maps": maps, "subtotals": subtotals}


class Api:
    def __init__(self, base):
        self.base = base
        self.client = httpx.Client(base_url=base, timeout=20)
        self.models = {}

    def q(self, model):
        return f"?model={model}" if model else ""

    def model(self, model):
        if model not in self.models:
            self.models[model] = {l["name"]: l for l in self.client.get("/api/model" + self.q(model)).json()["layers"]}
        return self.models[model]

    def replay(self, r):
        body, args, q = r["body"], r["args"], self.q(r["model"])
        if r["kind"] == "explain":
            out = self.client.post("/api/explain" + q, json={**body, "layer": args["layer"], "unit": args["unit"]}).json()
            if out["kind"] == "conv":
                out["terms"] = conv_terms(out)
            return out
        if r["kind"] == "gradient":
            return self.client.post("/api/gradient" + q, json={**body, **args, "dense_weights": "outer"}).json()
        return self.client.post("/api/convolve" + q, json=body).json()

    def forward(self, body, model):
        return self.client.post("/api/forward" + self.q(model), json=body).json()


def shown_matches(text, value, fmt_hint):
    """The text a student reads agrees with the value at its precision."""
    t = text.replace(MINUS, "-")
    if t.endswith("%"):
        return abs(float(t[:-1]) - value * 100) <= 0.05 + 1e-9
    m = re.fullmatch(r"(-?[\d.]+)×10(⁻?)([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", t)
    if m:
        exp = int("".join(str("⁰¹²³⁴⁵⁶⁷⁸⁹".index(ch)) for ch in m.group(3)))
        shown = float(m.group(1)) * 10 ** (-exp if m.group(2) else exp)
        return math.isclose(shown, value, rel_tol=5e-4)
    if re.fullmatch(r"-?\d+(\.\d+)?", t):
        decimals = len(t.split(".")[1]) if "." in t else 0
        return abs(float(t) - value) <= 0.5 * 10 ** -decimals + 1e-9 or math.isclose(float(t), value, rel_tol=5e-4)
    return fmt_hint == "class"


def check_numbers(page, api, seen):
    """Every number on the step card equals the API's value for the state on screen."""
    c = card(page)
    spans = page.evaluate("""() => [...document.querySelectorAll('#lesson-card .lesson-n')]
        .map((n) => ({ path: n.dataset.path, value: n.dataset.value, text: n.textContent }))""")
    assert spans, f"step {c['index'] + 1} shows no numbers"
    state = page.evaluate("""() => { const s = window.convscope.store.get();
        return { body: s.trace.body, model: s.modelId, pinned: s.pinned, learn: s.learn ?? null,
                 classes: s.model.classes }; }""")
    answers = {r["name"]: api.replay(r) for r in c["requests"]}
    stages = api.model(state["model"])
    forward = None
    for sp in spans:
        assert sp["value"] is not None, f"placeholder {sp['path']} never filled"
        shown = float(sp["value"])
        root = tokens(sp["path"])[0]
        if root == "stage":
            expected = lookup(stages, sp["path"][len("stage."):])
        elif root in ("trace", "pinned"):
            forward = forward or api.forward(state["body"], state["model"])
            if root == "trace":
                expected = lookup(forward, sp["path"][len("trace."):])
            else:
                layer = next(l for l in forward["layers"] if l["name"] == state["pinned"]["layer"])
                if sp["path"] == "pinned.value":
                    k = 0
                    for size, u in zip(layer["shape"], state["pinned"]["unit"]):
                        k = k * size + u
                    expected = layer["values"][k]
                else:
                    expected = lookup({"unit": state["pinned"]["unit"]}, sp["path"][len("pinned."):])
        elif root == "learn":
            expected = lookup(state["learn"], sp["path"][len("learn."):])
            checked = page.evaluate("() => Number(document.querySelector('#learn-targets input:checked')?.value)")
            if sp["path"] == "learn.target":
                assert checked == expected, "the lesson's target is the Learn tab's"
        else:
            expected = lookup(answers[root], sp["path"][len(root) + 1:])
        assert math.isclose(shown, expected, rel_tol=1e-6, abs_tol=1e-7), \
            f"{sp['path']}: the page shows {shown}, the API says {expected}"
        if root != "learn" or sp["path"] != "learn.target":
            assert shown_matches(sp["text"], expected, None) or sp["text"] == str(state["classes"][int(expected)]), \
                f"{sp['path']}: shown as {sp['text']!r} for {expected}"
        seen.append(sp["path"])
    return c


# --- doing what a step asks ---------------------------------------------------------------------
def net_point(page, layer, unit):
    box = page.evaluate("([l, u]) => window.convscope.net.unitBox(l, u)", [layer, unit])
    assert box, f"no {layer} unit {unit} on screen"
    canvas = page.locator("#net").bounding_box()
    return canvas["x"] + box["x"] + box["w"] / 2, canvas["y"] + box["y"] + box["h"] / 2


def find_unit(page, layers, where, start_focus):
    """A unit of one of `layers` that the task accepts (found in the trace on screen)."""
    return page.evaluate("""([layers, where, start]) => {
        const s = window.convscope.store.get();
        for (const name of layers) {
          const l = s.trace.byName.get(name);
          if (!l || !window.convscope.net.unitBox(name, l.shape.map(() => 0))) continue;
          const per = l.shape.length === 3 ? l.shape[1] * l.shape[2] : l.values.length;
          for (let i = 0; i < l.values.length; i += 7) {
            const u = []; let k = i;
            for (let a = l.shape.length - 1; a >= 0; a--) { u.unshift(k % l.shape[a]); k = Math.floor(k / l.shape[a]); }
            if (start && start.layer === name && u.every((v, j) => v === start.unit[j])) continue;
            if (where === 'zero' && l.values[i] !== 0) continue;
            if (where === 'other-map' && start && u[0] === start.unit[0]) continue;
            if (where === 'other-map' && l.shape.length === 3 && i % per < per / 3) continue;
            return [name, u];
          }
        }
        return null; }""", [layers, where, start_focus])


def draw_digit(page):
    page.click("#pad-clear")
    box = page.locator("#pad").bounding_box()
    pts = [(0.35 + 0.3 * t, 0.2 + 0.6 * t) for t in (i / 12 for i in range(13))]
    page.mouse.move(box["x"] + pts[0][0] * box["width"], box["y"] + pts[0][1] * box["height"])
    page.mouse.down()
    for x, y in pts[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.mouse.up()


def do_task(page, task):
    kind = task["do"]
    if kind in ("hover", "pin"):
        layers = task["layer"] if isinstance(task.get("layer"), list) else [task["layer"]]
        start = page.evaluate("() => { const s = window.convscope.store.get(); return s.pinned ?? s.hover; }")
        found = find_unit(page, layers, task.get("where"), start)
        assert found, f"no unit for {task}"
        x, y = net_point(page, *found)
        page.mouse.click(x, y)   # a click pins: the unit in focus moves (hover alone does not while pinned)
    elif kind == "draw":
        draw_digit(page)
    elif kind == "tab":
        page.click(f"#tab-{task['value']}")
    elif kind == "model":
        default = page.evaluate("() => window.convscope.store.get().models.find((m) => m.default).id")
        page.select_option("#model-select", default if task["value"] == "default" else task["value"])
    elif kind == "lab":
        sel = {"padding": "#lab-padding", "stride": "#lab-stride", "kernel": "#lab-kernel"}[task["key"]]
        if task["key"] == "kernel":
            page.select_option(sel, "learned:conv1:2")
        else:
            page.select_option(sel, "2")
    elif kind == "learn-target":
        p = page.evaluate("() => window.convscope.store.get().trace.prediction")
        page.check(f"#learn-targets input[value='{(p + 2) % 10}']")
    elif kind == "learn-step":
        page.click("#learn-step")
    elif kind == "learn-rate":
        page.evaluate("""() => { const r = document.querySelector('#learn-lr'); r.value = String(Number(r.value) + 2);
                                 r.dispatchEvent(new Event('input', { bubbles: true })); }""")
    elif kind == "expand":
        page.click(task["target"])
    else:
        raise AssertionError(f"unknown task {kind}")


@pytest.fixture(scope="module")
def api(live_server):
    (SHOTS / "lessons").mkdir(parents=True, exist_ok=True)
    return Api(live_server)


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_lesson_walked_end_to_end_with_the_apis_numbers(open_page, api, lesson, trained):
    page = open_page("/", viewport=(1280, 720))
    page.wait_for_function("() => window.convscope && window.convscope.lessons && window.convscope.store.get().trace")
    page.click("#lessons-button")
    page.click(f".lesson-pick[data-lesson='{lesson}']")
    page.wait_for_selector("#lesson-card:not([hidden])")
    seen, steps = [], 0
    while True:
        wait_idle(page)
        c = check_numbers(page, api, seen)
        assert not c["done"], f"step {c['index'] + 1} was done before the student did anything"
        assert page.is_disabled(".lesson-next"), "Next waits for the task"
        assert not c["notes"], c["notes"]
        page.screenshot(path=str(SHOTS / "lessons" / f"{lesson}-{c['index'] + 1}.png"))
        do_task(page, c["task"])
        page.wait_for_function("() => window.convscope.lessons.runner.card.done", timeout=15_000)
        # After the student's action, the new state's numbers; except after leaving the model
        # the step was about (lesson 5 switches back): its Harley numbers have no unit left.
        wait_idle(page, filled=c["task"]["do"] != "model")
        if c["task"]["do"] != "model":
            check_numbers(page, api, seen)
        steps += 1
        # The URL follows the view once the drawing rests (viewstate.js SYNC_MS, 250 ms): wait
        # for it rather than read it at once, which raced on a fast machine.
        page.wait_for_function("l => location.hash.includes('lesson=' + l)", arg=lesson, timeout=5_000)
        nxt = page.locator(".lesson-next")
        last = nxt.inner_text() == "Finish"
        nxt.click()
        if last:
            break
    assert 3 <= steps <= 8
    progress = page.evaluate("() => JSON.parse(localStorage.getItem('convscope.lessons.v1'))")
    assert progress[lesson]["finished"] is True
    assert page.locator(f".lesson-pick[data-lesson='{lesson}'] .lesson-status").inner_text() == "✓ done"
    assert len(seen) >= 2 * steps, f"only {len(seen)} numbers checked over {steps} steps"


@pytest.mark.parametrize("lesson,step,tab,model", [
    ("padding-stride", 3, "lab", "lenet-mnist"), ("backprop-filter", 3, "learn", "lenet-mnist"),
    ("c3-table", 2, "network", "lenet-harley"), ("sixteen-filters", 2, "network", "lenet-mnist")])
def test_a_later_step_opened_by_its_address_sets_its_whole_view(open_page, api, trained, lesson,
                                                              step, tab, model):
    """A teacher's hand-written address (#lesson=…&step=3) or a bookmark: the step's own view
    says only what it changes, so the page applies every view up to it (tab, model, Lab
    settings, the test digit) and its numbers fill in and equal the API's. Before, step 3 of
    padding-stride stayed on the Network tab with every number '…'."""
    page = open_page(f"/#lesson={lesson}&step={step}")
    page.wait_for_selector(f"#lesson-card[data-lesson='{lesson}']")
    wait_idle(page)
    got = page.evaluate("() => { const s = window.convscope.store.get(); return [s.tab, s.modelId, s.lesson]; }")
    assert got == [tab, model, {"id": lesson, "step": step}]
    check_numbers(page, api, [])


def test_lessons_read_on_a_phone(open_page, api, trained):
    """At 390×844 (touch) the picker and the step card fit the screen and the first step of every
    lesson shows the API's numbers. (The page's own width on a phone is the screens issue's.)"""
    page = open_page("/", touch=True, viewport=(390, 844))
    page.wait_for_function("() => window.convscope && window.convscope.lessons && window.convscope.store.get().trace")
    for lesson in LESSONS:
        page.evaluate("(id) => window.convscope.lessons.open(id, 1)", lesson)
        wait_idle(page)
        check_numbers(page, api, [])
        # Both boxes read in one go, once Next is laid out: the card re-renders after its numbers,
        # so two separate reads could meet a detached button (no box) in between.
        box = page.wait_for_function("""() => {
            const c = document.querySelector('#lesson-card'), n = document.querySelector('.lesson-next');
            if (!c || !n || !n.getBoundingClientRect().height) return null;
            const b = c.getBoundingClientRect();
            return { x: b.x, width: b.width, y: b.y, height: b.height, next: n.getBoundingClientRect().height,
                     nextBottom: n.getBoundingClientRect().bottom };
        }""").json_value()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5 and box["y"] + box["height"] <= 844 + 0.5, box
        assert box["next"] >= 24, box
        # Back / Next stay on screen however long the step's words (the card scrolls under them).
        assert box["nextBottom"] <= 844 + 0.5, box
        page.screenshot(path=str(SHOTS / "lessons" / f"phone-{lesson}.png"))
    page.locator(".lesson-close").tap()
    page.locator("#lessons-button").tap()
    assert page.locator("#lessons-picker").bounding_box()["width"] <= 390
    page.screenshot(path=str(SHOTS / "lessons" / "phone-picker.png"))


MENU_CORNERS_SHOWN = """([menu, button]) => {
    const m = document.querySelector(menu), r = m.getBoundingClientRect();
    const b = document.querySelector(button).getBoundingClientRect();
    const corners = [[r.left + 4, r.top + 4], [r.right - 4, r.top + 4], [r.left + 4, r.bottom - 4], [r.right - 4, r.bottom - 4]];
    return { covered: corners.filter(([x, y]) => !m.contains(document.elementFromPoint(x, y))),
             below: r.top >= b.bottom - 1,
             font: getComputedStyle(m).fontSize, page: getComputedStyle(document.body).fontSize }; }"""


@pytest.mark.parametrize("screen", [dict(viewport=(1280, 720)), dict(viewport=(1920, 1080)),
                                    dict(touch=True, viewport=(390, 844))])
def test_header_menus_open_whole_below_their_buttons(open_page, screen):
    """The lessons picker and the share menu drop down below their buttons (on a phone: a
    full-width sheet under the tab row), every corner on screen and on top (on a laptop the
    picker once opened past the right edge; on a phone the prediction pill covered its
    corner), in the page's type (not the Join dialog's)."""
    page = open_page("/", **screen)
    page.wait_for_function("() => window.convscope && window.convscope.store.get().trace")
    for button, menu in (("#lessons-button", "#lessons-picker"), ("#share-button", "#share-menu")):
        page.click(button)
        page.wait_for_selector(f"{menu}:not([hidden])")
        shown = page.evaluate(MENU_CORNERS_SHOWN, [menu, button])
        assert shown["covered"] == [], (menu, shown)
        assert shown["below"] or screen.get("touch"), (menu, shown)
        assert shown["font"] == shown["page"], (menu, shown)
        page.keyboard.press("Escape")
        page.wait_for_selector(menu, state="hidden")


def test_first_visit_hint_and_keyboard_picker(open_page, trained):
    page = open_page("/")
    page.wait_for_selector("#lessons-hint:not([hidden])")
    assert page.locator("#lessons-hint").bounding_box()["y"] < 40, "in the header, over no view"
    page.click("#lessons-hint .lessons-hint-close")
    assert page.evaluate("() => localStorage.getItem('convscope.lessons.hinted')") == "1"
    page.reload()
    page.wait_for_function("() => window.convscope && window.convscope.store.get().trace")
    page.wait_for_timeout(300)
    assert page.locator("#lessons-hint").is_hidden(), "the hint is shown once"
    page.focus("#lessons-button")
    page.keyboard.press("Enter")
    page.wait_for_selector(".lesson-pick")
    assert page.evaluate("() => document.activeElement.classList.contains('lesson-pick')")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#lesson-card[data-lesson='sixteen-filters']")
    wait_idle(page)
    assert page.evaluate("() => document.activeElement.classList.contains('lesson-title')"), "focus moves to the step"
    assert page.get_attribute("#lesson-card", "role") == "region"
    assert page.locator(".lesson-text").get_attribute("aria-live") == "polite"
