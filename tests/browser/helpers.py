"""Helpers shared by the browser tests (one copy each, instead of one per test file).

- `serve(app)`: the app under a real uvicorn on 127.0.0.1, a free port, in a thread; a context
  manager yielding the base URL (test_models' three-model server, test_learn's tiny model).
- `new_page(browser, url, touch=False, viewport=(1280, 720))`: a fresh context and page with
  every console error and page error collected in `page.errors`; returns (context, page).
- `assert_no_errors(pages)`: fail with every error the pages logged.
- `strongest_unit(page, layer)`: the unit of `layer` with the largest value in the trace shown.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager


@contextmanager
def serve(app):
    import uvicorn

    from app.server import bind   # a TCP_NODELAY socket, as `convscope serve` makes
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start within 10 s"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


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
