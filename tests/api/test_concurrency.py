"""50 requests at once against a real uvicorn: all succeed and equal the serial answers."""
from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import urlsplit


def post(base: str, path: str, body: dict) -> tuple[int, bytes]:
    # http.client: a plain socket per request (httpx builds an SSL context per client).
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_50_concurrent_requests_equal_serial(live_server):
    from app.config import ROOT
    import numpy as np
    with np.load(ROOT / "models" / "samples.npz") as f:
        images = f["images"]
    bodies = []
    for i in range(50):
        img = images[i % 10, i // 10]
        body = {"pixels": img.ravel().tolist(), "width": 28, "height": 28}
        if i % 2:
            body.update(layer="conv2", unit=[i % 16, 3, 4])
        bodies.append(("/api/explain" if i % 2 else "/api/forward", body))
    serial = [post(live_server, path, body) for path, body in bodies]
    assert all(status == 200 for status, _ in serial)
    assert len({content for _, content in serial}) == 50

    results = [None] * 50
    start = threading.Barrier(50)

    def send(i):
        start.wait()            # release all 50 together so they overlap in the server
        results[i] = post(live_server, *bodies[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i, (got, want) in enumerate(zip(results, serial)):
        assert got is not None, f"request {i} did not finish"
        assert got[0] == 200, (i, got[0], got[1][:200])
        assert got[1] == want[1], f"request {i} ({bodies[i][0]}) differs from its serial answer"
