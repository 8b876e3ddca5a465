"""Bounded cost: the cost gate (503 + Retry-After when full, health still answering), distinct
and bounded /api/history/forward stages, an unreadable history file as a 503 naming it."""
from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import json
import shutil
import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from app.limits import Busy, CostGate
from tests.serving import serve
from tests.tiny_run import write_tiny_run


def _post(url: str, path: str, body: dict, timeout: float = 60):
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def _get(url: str, path: str):
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_the_gate_runs_slots_queues_the_rest_and_refuses_past_the_queue():
    gate = CostGate(slots=1, queue=1, wait_s=0.3, retry_after=2)
    release = threading.Event()
    started = threading.Event()

    def hold():
        started.set()
        release.wait(5)
        return "held"

    async def scenario():
        first = asyncio.ensure_future(gate.run("test", hold))
        while not started.is_set():
            await asyncio.sleep(0.005)
        second = asyncio.ensure_future(gate.run("test", lambda: "second"))
        await asyncio.sleep(0.02)
        assert gate.admitted == 2
        with pytest.raises(Busy) as full:          # 1 running + 1 waiting: the third is refused
            await gate.run("test", lambda: "third")
        assert full.value.retry_after == 2 and "running or waiting" in full.value.detail
        with pytest.raises(Busy) as late:          # the waiter gives up after wait_s
            await second
        assert "no slot freed within 0.3 s" in late.value.detail
        release.set()
        assert await first == "held"
        assert await gate.run("test", lambda: "after") == "after"   # the slot came back
        assert gate.admitted == 0

    # A thread of its own: a sync Playwright session earlier in the same process leaves an
    # event loop running on the main thread, and asyncio.run refuses to nest.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=30)


@pytest.fixture(scope="module")
def small_gate_server(settings):
    """A live server whose gate runs 1 and queues 4 (the default queue is 32)."""
    from app.main import create_app
    app = create_app(replace(settings, costly_slots=1, costly_queue=4, costly_wait_s=10.0))
    with serve(app) as url:
        yield url


def test_60_concurrent_gradients_get_503_with_retry_after_and_health_still_answers(
        small_gate_server, digit):
    body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28, "target": 3,
            "learning_rate": 0.1, "steps": 20}
    results, health = [], []
    done = threading.Event()

    def student():
        results.append(_post(small_gate_server, "/api/gradient", body))

    def watcher():
        while not done.is_set():
            t = time.perf_counter()
            status, _ = _get(small_gate_server, "/api/health")
            health.append((status, time.perf_counter() - t))
            time.sleep(0.01)

    threads = [threading.Thread(target=student) for _ in range(60)]
    w = threading.Thread(target=watcher)
    w.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    done.set()
    w.join(10)
    statuses = sorted(s for s, _, _ in results)
    assert len(results) == 60 and set(statuses) <= {200, 503}, statuses
    busy = [(h, b) for s, h, b in results if s == 503]
    assert busy, "every one of 60 concurrent 20-step gradients was accepted: no cost limit"
    assert statuses.count(200) >= 5, statuses     # the slot + queue were served, not refused
    for headers, raw in busy:
        retry = {k.lower(): v for k, v in headers.items()}.get("retry-after")
        assert retry is not None and int(retry) >= 1, headers
        detail = json.loads(raw)["detail"]
        assert "busy" in detail and "retry in" in detail, detail
    # health was answered while the gradients ran (not starved behind them)
    assert health and all(s == 200 for s, _ in health), health
    slowest = max(t for _, t in health)
    print(f"health during 60 gradients: {len(health)} answers, slowest {slowest * 1000:.0f} ms; "
          f"{len(busy)} refused with 503")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("costs-run")
    write_tiny_run(folder, "run", epochs=1, snapshots=4)
    return folder


def _client(settings, model_path, **changes):
    from fastapi.testclient import TestClient

    from app.main import create_app
    return TestClient(create_app(replace(settings, model_path=model_path, extra_models=(),
                                         **changes)))


def test_duplicate_stages_are_refused(settings, run_dir, digit):
    with _client(settings, run_dir / "run.npz") as c:
        body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
        r = c.post("/api/history/forward", json={**body, "stages": ["conv1"] * 16})
        assert r.status_code == 422, r.text
        assert "distinct" in r.json()["detail"] and "conv1" in r.json()["detail"]
        r = c.post("/api/history/forward", json={**body, "stages": ["relu1", "pool1", "relu1"]})
        assert r.status_code == 422 and "repeated: relu1" in r.json()["detail"], r.text
        r = c.post("/api/history/forward", json={**body, "stages": ["relu1", "pool1"]})
        assert r.status_code == 200, r.text
        assert [l["name"] for l in r.json()["snapshots"][0]["layers"]] == ["relu1", "pool1"]


def test_history_forward_answers_are_bounded(settings, run_dir, digit):
    body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    with _client(settings, run_dir / "run.npz") as c:
        count = c.get("/api/history").json()["snapshots"]
        r = c.post("/api/history/forward", json=body)     # the default fits the default bound
        assert r.status_code == 200, r.text
    # relu1 (6×28×28) + relu2 (16×10×10) + 10 probabilities per snapshot
    per_snapshot = 6 * 28 * 28 + 16 * 10 * 10 + 10
    limit = per_snapshot * len(count) - 1
    with _client(settings, run_dir / "run.npz", history_max_values=limit) as c:
        r = c.post("/api/history/forward", json=body)
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert f"{per_snapshot * len(count):,} values" in detail and f"{limit:,}" in detail
        assert "fewer" in detail
        r = c.post("/api/history/forward", json={**body, "snapshots": [0]})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("damage", ["garbage", "truncated", "seed"])
def test_an_unreadable_history_file_is_a_503_naming_it(settings, run_dir, tmp_path, digit,
                                                        damage):
    for f in run_dir.iterdir():
        shutil.copy(f, tmp_path / f.name)
    target = tmp_path / ("run.seed1.history.npz" if damage == "seed" else "run.history.npz")
    if damage == "truncated":
        target.write_bytes(target.read_bytes()[:2000])
    else:
        target.write_bytes(b"PK\x03\x04 this is not a zip archive at all")
    with _client(settings, tmp_path / "run.npz") as c:
        for method, path, kwargs in [
                ("GET", "/api/history", {}),
                ("POST", "/api/history/forward",
                 {"json": {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}})]:
            r = c.request(method, path, **kwargs)
            assert r.status_code == 503, (path, r.status_code, r.text)
            detail = r.json()["detail"]
            assert target.name in detail and "convscope train" in detail, detail


def test_only_large_convolutions_pass_through_the_gate(settings):
    """With the gate's one slot taken, a 64×64 step-mode convolution is refused (503) while
    the page's 32×32 one still runs on the event loop."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    app = create_app(replace(settings, extra_models=(), costly_slots=1, costly_queue=0,
                             costly_wait_s=0.05))
    gate = app.state.cost_gate
    large = {"input": {"values": [0.5] * 64 * 64, "shape": [64, 64]}, "padding": 3,
             "kernel": [[0.1] * 7] * 7, "products": True}
    small = {"input": {"pixels": [7] * 32 * 32, "shape": [1, 32, 32]}, "padding": 2,
             "kernel_name": "edge_all", "products": True}
    with TestClient(app) as c:
        assert c.post("/api/convolve", json=large).status_code == 200
        gate._running.acquire()          # someone's 20-step gradient holds the slot
        try:
            r = c.post("/api/convolve", json=large)
            assert r.status_code == 503 and r.headers["retry-after"] == "1", r.text
            assert "convolve" in r.json()["detail"]
            assert c.post("/api/convolve", json=small).status_code == 200
            r = c.post("/api/gradient", json={"pixels": [0] * 784, "width": 28, "height": 28,
                                              "target": 1, "learning_rate": 0.1})
            assert r.status_code == 503 and "gradient" in r.json()["detail"], r.text
            assert c.get("/api/health").status_code == 200
        finally:
            gate._running.release()
        assert c.post("/api/convolve", json=large).status_code == 200


def test_a_full_gate_refuses_before_the_body_is_parsed(settings):
    """While the gate is full, a gradient is refused without its body being read as JSON (an
    unparseable body gets the 503 too, not a 400), and the connection stays usable."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    app = create_app(replace(settings, extra_models=(), costly_slots=1, costly_queue=0))
    gate = app.state.cost_gate
    with TestClient(app) as c:
        with gate._lock:
            gate._admitted += 1          # the one slot is taken
        try:
            for path in ("/api/gradient", "/api/history/forward"):
                r = c.post(path, content=b"{not json", headers={"content-type": "application/json"})
                assert r.status_code == 503, (path, r.text)
                assert r.headers["retry-after"] == "1" and "queue is full" in r.json()["detail"]
                assert "connection" not in r.headers      # body drained: keep-alive intact
            assert c.post("/api/forward", content=b"{not json",
                          headers={"content-type": "application/json"}).status_code == 400
        finally:
            with gate._lock:
                gate._admitted -= 1
        assert c.post("/api/gradient", content=b"{not json",
                      headers={"content-type": "application/json"}).status_code == 400
