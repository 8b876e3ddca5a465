"""Browser fixtures shared by every page test (Network, 3D, Learn, Lab).

- `browser`: one headless Debian Chromium for the session (sync Playwright, no extra launch
  args: Playwright already adds --no-sandbox and SwiftShader, so WebGL works in software).
  Skips cleanly when /usr/bin/chromium or Playwright is missing.
- `server_url`: the app under a real uvicorn on 127.0.0.1, a free port, in a thread (the
  session-wide `live_server` of tests/conftest.py: one server for API and browser tests).
- `open_page(path="/", touch=False, viewport=(1280, 720))`: a fresh context and page with every
  console error and page error collected in `page.errors`; the test fails at teardown if any
  appeared (console *warnings* are allowed: WebGL readPixels logs some).
- `trained`: the page path of a trained MNIST model: "/" when models/lenet-mnist.npz is the
  served default, else "/?model=lenet-harley" when that shipped model is served beside the
  seeded stand-in; skips when neither exists (predictions need real weights).
- `ready(page)` waits until the page has drawn its first trace; `settled(page)` until the
  latest drawing's forward answer (and any explain) is on screen.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.helpers import assert_no_errors, new_page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"   # gitignored


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def server_url(live_server) -> str:
    return live_server


@pytest.fixture(scope="session")
def trained(model_path, settings) -> str:
    if Path(model_path) == ROOT / "models" / "lenet-mnist.npz":
        return "/"
    if any(Path(p).stem == "lenet-harley" for p in getattr(settings, "extra_models", ())):
        return "/?model=lenet-harley"
    pytest.skip("needs a trained MNIST model in models/ (the seeded stand-in predicts noise)")


@pytest.fixture
def open_page(browser, server_url):
    contexts = []
    pages = []

    def _open(path: str = "/", touch: bool = False, viewport=(1280, 720)):
        ctx, page = new_page(browser, server_url + path, touch, viewport)
        contexts.append(ctx)
        pages.append(page)
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
    assert_no_errors(pages)


def ready(page, timeout=10_000):
    page.wait_for_function("() => window.convscope && window.convscope.store.get().trace", timeout=timeout)
    settled(page, timeout)


def settled(page, timeout=10_000):
    page.wait_for_function(
        """() => { const c = window.convscope, s = c.store.get();
                   return !c.pad.pending && c.live.idle && s.trace && s.trace.body === s.drawing; }""",
        timeout=timeout)
