"""The Learn tab in real Chromium: a wrong target's probability rises and the error falls over
three steps, as the page shows them; the history slider moves the filters; screenshot saved.

The shipped model and its history are used when both exist; otherwise a tiny real training
run (engine.train on the 200 shipped sample digits) writes a model, a history and a seed-1
history into a temporary folder, served by its own uvicorn, so the tab is never untested.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from tests.browser.conftest import ROOT, SHOTS, ready, settled
from tests.browser.helpers import assert_no_errors, new_page, serve
from tests.browser.test_page import draw_mouse, one_stroke
from tests.tiny_run import write_tiny_run

SHIPPED = ROOT / "models" / "lenet-mnist.npz"


def tiny_models(folder):
    return write_tiny_run(folder, "tiny", epochs=3, snapshots=8)


@pytest.fixture(scope="module")
def learn_url(request, settings, tmp_path_factory):
    if SHIPPED.is_file() and SHIPPED.with_name("lenet-mnist.history.npz").is_file():
        yield request.getfixturevalue("server_url")
        return
    from app.main import create_app
    model = tiny_models(tmp_path_factory.mktemp("learn-models"))
    app = create_app(replace(settings, model_path=model, extra_models=()))
    with serve(app) as url:
        yield url


@pytest.fixture
def learn_page(browser, learn_url):
    ctx, page = new_page(browser, learn_url + "/", viewport=(1280, 900))
    ready(page)
    yield page
    ctx.close()
    assert_no_errors([page])


def shown_after(page, steps: int) -> dict:
    """Wait until the table shows `steps` steps, then read the after column as the page shows it."""
    page.wait_for_function(
        f"""() => {{ const l = window.convscope.learn; const h = document.querySelector('#learn-table thead');
                    return l && l.idle && h && h.textContent.includes('after {steps} step'); }}""")
    cells = page.locator("#learn-table tbody tr").all()
    row = {c.locator("th").inner_text(): c.locator("td").all()[1].inner_text() for c in cells}
    p = next(v for k, v in row.items() if k.startswith("p(target"))
    err = next(v for k, v in row.items() if k.startswith("total error"))
    return {"p": float(p.rstrip("%")), "error": float(err.replace("\u2212", "-"))}   # 1.2e−6 too


def canvas_pixels(page, selector: str) -> str:
    return page.evaluate("(s) => document.querySelector(s).toDataURL()", selector)


def test_three_steps_toward_a_wrong_target_raise_it_and_lower_the_error(learn_page):
    page = learn_page
    draw_mouse(page, one_stroke())
    settled(page)
    predicted = page.evaluate("() => window.convscope.store.get().trace.prediction")
    page.click("#tab-learn")
    page.wait_for_function("() => window.convscope.learn && window.convscope.learn.idle "
                           "&& document.querySelector('#learn-table thead')")
    checked = page.locator("input[name=learn-target]:checked").get_attribute("value")
    assert int(checked) == predicted, "the target starts as the network's prediction"
    wrong = (predicted + 3) % 10
    page.check(f"input[name=learn-target][value='{wrong}']")
    page.wait_for_function(f"""() => document.querySelector('#learn-table tbody th')
                               .textContent.includes('target = {wrong}')""")
    start = page.locator("#learn-table tbody tr").first.locator("td").first.inner_text()
    seen = [{"p": float(start.rstrip("%")), "error": None}]
    for k in (1, 2, 3):
        page.click("#learn-step")
        seen.append(shown_after(page, k))
    ps = [s["p"] for s in seen]
    errs = [s["error"] for s in seen[1:]]
    assert ps[3] > ps[0] and all(b >= a for a, b in zip(ps, ps[1:])), f"p(target) {ps}"
    assert all(b <= a for a, b in zip(errs, errs[1:])) and errs[-1] < errs[0], f"error {errs}"
    assert "rose and the error fell" in page.inner_text("#learn-table caption")
    assert page.locator("#learn-count").get_attribute("data-steps") == "3"
    # the served model did not change: the Network tab still predicts what it did
    page.click("#tab-network")
    assert page.evaluate("() => window.convscope.store.get().trace.prediction") == predicted


def test_history_slider_moves_the_filters_and_screenshot(learn_page):
    page = learn_page
    draw_mouse(page, one_stroke())
    settled(page)
    page.click("#tab-learn")
    page.wait_for_function("() => window.convscope.learn && window.convscope.learn.history.ready",
                           timeout=20_000)
    slider = page.locator("#learn-h-slider")
    last = int(slider.get_attribute("max"))
    assert last >= 2
    end_kernels = canvas_pixels(page, "#learn-h-kernels")
    end_label = page.inner_text("#learn-h-label")
    slider.fill("0")
    page.wait_for_function("() => document.querySelector('#learn-h-label').dataset.snapshot === '0'")
    assert "random init" in page.inner_text("#learn-h-label") and end_label != page.inner_text("#learn-h-label")
    init_kernels = canvas_pixels(page, "#learn-h-kernels")
    assert init_kernels != end_kernels, "the filters look the same at init and at the end"
    assert canvas_pixels(page, "#learn-h-map0") != "" and page.locator("#learn-h-pred").inner_text()
    seeds = page.locator("#learn-h-seeds canvas")
    assert seeds.count() == 4, "two runs × (init, final)"
    assert canvas_pixels(page, "#learn-h-seeds canvas[data-seed='0'][data-when='init']") != \
        canvas_pixels(page, "#learn-h-seeds canvas[data-seed='1'][data-when='init']")
    # a wrong target and two steps, so the screenshot shows learning (before/after, curves)
    page.click("#tab-network")
    predicted = page.evaluate("() => window.convscope.store.get().trace.prediction")
    page.click("#tab-learn")
    page.check(f"input[name=learn-target][value='{(predicted + 6) % 10}']")
    page.click("#learn-step")
    page.click("#learn-step")
    shown_after(page, 2)
    slider.fill(str(last // 2))
    page.locator("#tab-learn").scroll_into_view_if_needed()   # the pad is sticky: show it on top
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "learn.png"), full_page=True)


def test_the_seed_comparison_claims_only_what_the_recordings_show(learn_page, learn_url):
    """The hint over the two seeds' filters is built from the server's comparison of the two
    recordings: "only the random seed" when they agree (the shipped runs: both 60 epochs of one
    recipe), else every difference named (the tiny stand-in's second run is shorter)."""
    import httpx
    page = learn_page
    page.click("#tab-learn")
    page.wait_for_function("() => window.convscope.learn && window.convscope.learn.history.ready",
                           timeout=20_000)
    seeds = httpx.get(f"{learn_url}/api/history", timeout=10).json()["seeds"]
    assert len(seeds) == 2
    hint = page.inner_text("#learn-h-seeds-hint")
    labels = page.locator("#learn-h-seeds .learn-seed strong").all_inner_texts()
    assert labels == [s["label"] for s in seeds]
    shown_epochs = page.locator("#learn-h-seeds .learn-seed p").all_inner_texts()
    for s, text in zip(seeds, shown_epochs):
        assert f"{s['epochs']} epoch" in text
    if not seeds[1]["differs"]:
        assert seeds[1]["epochs"] == seeds[0]["epochs"]
        assert "differing only in the random seed" in hint and "same recipe" in hint
    else:
        assert "differing only" not in hint and "same recipe" not in hint
        for d in seeds[1]["differs"]:
            assert d in hint
