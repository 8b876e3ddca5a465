"""Helpers shared by the browser tests (one copy each, instead of one per test file).

- `serve(app)` (from tests/serving.py): the app under a real uvicorn on a free port; a context
  manager yielding the base URL (test_models' three-model server, test_learn's tiny model).
- `new_page(browser, url, touch=False, viewport=(1280, 720))`: a fresh context and page with
  every console error and page error collected in `page.errors`; returns (context, page).
- `assert_no_errors(pages)`: fail with every error the pages logged.
- `strongest_unit(page, layer)`: the unit of `layer` with the largest value in the trace shown.
"""
from __future__ import annotations

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
