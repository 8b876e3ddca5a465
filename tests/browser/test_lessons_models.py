"""Lessons on a server whose default is a teacher's own model: a lesson runs on the model it was
written for (the shipped MNIST LeNet), not on the default; on a server without the shipped
models every lesson is listed as "needs lenet-mnist" with how to serve it, opens nothing, and a
lesson link says why in the page's note instead of running a text written for another net.
Screenshots go to /tmp/convscope-lessons-*.png."""
import pytest

from app.config import ROOT
from tests.browser.conftest import ready
from tests.browser.helpers import opener, serve_models

SHIPPED = ROOT / "models" / "lenet-mnist.npz"


@pytest.fixture(scope="module")
def servers(imported_models):
    if not SHIPPED.is_file():
        pytest.skip("needs the shipped models/lenet-mnist.npz")
    tinyvgg, lenet5 = imported_models / "tinyvgg.npz", imported_models / "lenet5.npz"
    with serve_models(tinyvgg, lenet5, SHIPPED) as beside_url, \
            serve_models(lenet5, tinyvgg) as alone_url:
        yield {"beside": beside_url, "alone": alone_url}


@pytest.fixture
def open_at(browser, servers):
    with opener(browser, "") as _open:
        yield lambda which, path="/": _open(servers[which] + path)


def picker(page):
    page.click("#lessons-button")
    page.wait_for_selector("#lessons-picker .lesson-pick")
    return page.eval_on_selector_all("#lessons-picker .lesson-pick", """bs => bs.map(b => ({
        id: b.dataset.lesson, disabled: b.getAttribute('aria-disabled') === 'true',
        status: b.querySelector('.lesson-status').textContent }))""")


def test_a_lesson_runs_on_its_own_model_beside_a_teachers_default(open_at):
    page = open_at("beside")
    ready(page)
    assert page.evaluate("() => window.convscope.store.get().modelId") == "tinyvgg"
    items = picker(page)
    assert len(items) == 7
    # lenet-harley is not served here: only lesson 5 (the C3 table) needs it.
    assert [i["id"] for i in items if i["disabled"]] == ["c3-table"]
    assert next(i for i in items if i["disabled"])["status"] == "needs lenet-harley"
    assert "lenet-harley" in page.text_content(".lessons-missing")
    # aria-disabled: Playwright will not click it, a student still can (it stays focusable).
    page.dispatch_event('.lesson-pick[data-lesson="c3-table"]', "click")    # opens nothing
    assert page.is_visible("#lessons-picker") and page.is_hidden("#lesson-card")
    page.click('.lesson-pick[data-lesson="feature-maps"]')
    page.wait_for_function("""() => { const c = window.convscope, s = c.store.get(), r = c.lessons.runner;
        return r.idle && c.live.idle && s.model && s.model.modelId === 'lenet-mnist' && r.card && !r.card.missing.length; }""",
                           timeout=20_000)
    # The text speaks of the shipped LeNet's conv1 (6 filters on the 32×32 input), not Tiny VGG's.
    values = page.eval_on_selector_all("#lesson-card .lesson-n", "ns => ns.map(n => n.textContent)")
    assert "6" in values and page.evaluate("() => window.convscope.store.get().trace.byName.get('input').shape") == [1, 32, 32]
    page.screenshot(path="/tmp/convscope-lessons-beside.png")


def test_without_the_shipped_models_lessons_say_what_they_need(open_at):
    page = open_at("alone")
    ready(page)
    items = picker(page)
    assert len(items) == 7 and all(i["disabled"] for i in items)
    assert all(i["status"].startswith("needs lenet-mnist") for i in items)
    note = page.text_content(".lessons-missing")
    assert "convscope serve --model models --model YOURS.npz" in note
    page.screenshot(path="/tmp/convscope-lessons-alone.png")
    page.keyboard.press("Escape")
    # A lesson link from another server: the page opens, and its note names what is missing.
    page.goto(page.url.split("#")[0] + "#lesson=feature-maps&step=2&sample=3:0")
    page.wait_for_selector("#link-note:not([hidden])")
    assert "needs lenet-mnist, which this server does not serve" in page.text_content("#link-note")
    assert page.is_hidden("#lesson-card")
    assert page.evaluate("() => window.convscope.lessons.runner.lesson") is None
