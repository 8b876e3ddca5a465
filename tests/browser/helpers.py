"""Helpers shared by the browser tests (one copy each, instead of one per test file).

- `serve(app)` (from tests/serving.py): the app under a real uvicorn on a free port; a context
  manager yielding the base URL (test_models' three-model server, test_learn's tiny model).
- `new_page(browser, url, touch=False, viewport=(1280, 720))`: a fresh context and page with
  every console error and page error collected in `page.errors`; returns (context, page).
- `assert_no_errors(pages)`: fail with every error the pages logged.
- `opener(browser, base)`: a context manager yielding `open(path, **new_page kwargs)`; at exit
  it fails with every error the opened pages logged and closes their contexts (the fixtures of
  the imported-model tests, each on a server of its own).
- `serve_models(default, *extra)`: `serve()` of the app on those model files.
- `draw_seven(page)`: a pad-relative 7-like stroke with the mouse, then waits until it is shown.
- `pick_picture(page, picture, folder=None)`: an image (a path, or an H×W×3 uint8 array saved as
  a PNG in `folder`) picked in the pad's file input; returns once the page shows its answer.
- `class_session(folder)`: a class session file in `folder` with a session started:
  (db path, teacher token, join code).
- `strongest_unit(page, layer)`: the unit of `layer` with the largest value in the trace shown.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.serving import serve  # noqa: F401  (re-exported: the browser tests' own servers)


def new_page(browser, url: str, touch: bool = False, viewport=(1280, 720)):
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                              has_touch=touch, device_scale_factor=1)
    page = ctx.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    page.goto(url)
    return ctx, page


def assert_no_errors(pages):
    errors = [e for p in pages for e in p.errors]
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


@contextmanager
def opener(browser, base: str):
    opened = []

    def _open(path: str = "/", **kw):
        ctx, page = new_page(browser, base + path, **kw)
        opened.append((ctx, page))
        return page
    try:
        yield _open
        assert_no_errors([p for _, p in opened])
    finally:
        for ctx, _ in opened:
            ctx.close()


def serve_models(default, *extra):
    from app.config import Settings
    from app.main import create_app
    return serve(create_app(Settings(model_path=default, extra_models=tuple(extra))))


def draw_seven(page):
    """A 7 on a cleared pad (the bar, then the stem), with the mouse, in the pad's own 280-unit
    coordinates whatever its size on screen; returns once the page shows its forward answer."""
    from tests.browser.conftest import settled
    box = page.locator("#pad").bounding_box()
    at = lambda x, y: (box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280)
    page.click("#pad-clear")
    points = [(70, 60), (210, 60), (120, 240)]
    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(*p), steps=12)
    page.mouse.up()
    settled(page)


def pick_picture(page, picture, folder=None):
    from PIL import Image
    from tests.browser.conftest import settled
    if folder is not None:
        path = Path(folder) / "picture.png"
        Image.fromarray(picture).save(path)
        picture = path
    page.set_input_files("#pad-file", str(picture))
    page.wait_for_function("() => { const s = window.convscope.store.get();"
                           " return s.trace && s.trace.body.image && !window.convscope.pad.blank; }")
    settled(page)


def class_session(folder):
    from app.classroom.store import Store
    db = Path(folder) / "class.sqlite3"
    store = Store(db)
    token, code = store.start_session()
    store.close()
    return db, token, code


def strongest_unit(page, layer):
    """The unit of `layer` with the largest value in the trace on screen (a busy one to explain)."""
    return page.evaluate("""(name) => {
        const l = window.convscope.store.get().trace.byName.get(name);
        let best = 0;
        for (let i = 1; i < l.values.length; i++) if (l.values[i] > l.values[best]) best = i;
        const u = []; for (let a = l.shape.length - 1; a >= 0; a--) { u.unshift(best % l.shape[a]); best = Math.floor(best / l.shape[a]); }
        return u; }""", layer)


def conv_panel_adds_up(page) -> list[float]:
    """The conv explanation on screen adds up: its per-channel subtotals plus the bias equal the
    sum, and the sum equals the value. Returns the subtotals."""
    subtotals = [float(v) for v in page.eval_on_selector_all(
        "#explain .channel .n", "ns => ns.map(n => n.dataset.value)")]
    bias = page.evaluate("() => window.convscope.store.get().explanation.bias")
    total = float(page.get_attribute("#explain .sum", "data-value"))
    value = float(page.get_attribute("#explain .value", "data-value"))
    assert sum(subtotals) + bias == pytest.approx(total, abs=1e-4)
    assert total == pytest.approx(value, abs=1e-4)
    return subtotals
