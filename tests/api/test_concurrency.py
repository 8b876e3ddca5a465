"""50 requests at once against a real uvicorn: all succeed and equal the serial answers."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx


def test_50_concurrent_forwards_equal_serial(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as c:
        bodies = [c.get("/api/samples", params={"digit": i % 10, "index": i // 10}).json()
                  for i in range(50)]
        serial = [c.post("/api/forward", json=b).content for b in bodies]
    assert len(set(serial)) > 10    # different digits, different answers

    def send(i):
        # One connection per request so the 50 really overlap in the server.
        with httpx.Client(base_url=live_server, timeout=30) as c:
            kind = ("forward", "explain")[i % 2]
            body = bodies[i] if kind == "forward" else {**bodies[i], "layer": "conv2",
                                                         "unit": [i % 16, 3, 4]}
            return kind, c.post(f"/api/{kind}", json=body)

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(send, range(50)))
    with httpx.Client(base_url=live_server, timeout=30) as c:
        for i, (kind, r) in enumerate(results):
            assert r.status_code == 200, (i, r.status_code, r.text[:200])
            if kind == "forward":
                assert r.content == serial[i], f"request {i} differs from its serial answer"
            else:
                again = c.post("/api/explain", json={**bodies[i], "layer": "conv2",
                                                     "unit": [i % 16, 3, 4]})
                assert r.content == again.content, f"explain {i} differs"
