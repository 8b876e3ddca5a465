"""`serve(app)`: the app under a real uvicorn on 127.0.0.1, a free port, in a thread; a context
manager yielding the base URL. One copy for tests/conftest.py's session-wide `live_server` and
the browser tests' own servers (three models for test_models, a tiny model for test_learn).
uvicorn is configured as `convscope serve` configures it (app/server.py `uvicorn_config`:
bounded connections with the app's own settings)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager


@contextmanager
def serve(app):
    import uvicorn

    from app.config import Settings
    from app.server import bind, uvicorn_config   # as `convscope serve` runs it
    sock = bind("127.0.0.1", 0)
    resources = getattr(app.state, "resources", None)
    settings = resources.settings if resources is not None else Settings()
    server = uvicorn.Server(uvicorn_config(app, settings))
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
