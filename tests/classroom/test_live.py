"""Server-Sent Events under a real uvicorn: snapshot, live events, Last-Event-ID replay,
two servers ("workers") on one session file, the connection bound."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.serving import serve


def events(response):
    """Parse a text/event-stream into {id, event, data} dicts (comments skipped)."""
    event = {}
    for line in response.iter_lines():
        if line == "":
            if "event" in event:
                yield event
            event = {}
        elif line.startswith(":"):
            continue
        else:
            key, _, value = line.partition(": ")
            if key == "data":
                event["data"] = json.loads(value)
            elif key in ("id", "event"):
                event[key] = value


@pytest.fixture(scope="module")
def url(class_app):
    with serve(class_app) as base:
        yield base


def teacher_headers(cls, last=None):
    h = {"authorization": f"Bearer {cls.token}"}
    if last is not None:
        h["last-event-id"] = str(last)
    return h


def join(base, code, nickname=None):
    c = httpx.Client(base_url=base, timeout=10)
    assert c.post("/api/class/join", json={"code": code, "nickname": nickname}).status_code == 201
    return c


def test_snapshot_then_live_submission_then_replay(url, cls, sample_body):
    student = join(url, cls.code, "Ana")
    with httpx.stream("GET", f"{url}/api/class/events?role=teacher", headers=teacher_headers(cls),
                      timeout=15) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        stream = events(r)
        first = next(stream)
        assert first["event"] == "snapshot" and first["data"]["students"][0]["name"] == "Ana"
        t0 = time.perf_counter()
        sub = student.post("/api/class/submissions", json=sample_body(4)).json()
        got = next(e for e in stream if e["event"] == "submission")
        assert got["data"]["id"] == sub["id"] and time.perf_counter() - t0 < 1.0
        last = int(got["id"])
    # Cut off: what happens meanwhile is replayed on reconnect, in order, without a snapshot.
    missed = [student.post("/api/class/submissions", json=sample_body(d)).json()["id"]
              for d in (5, 6)]
    with httpx.stream("GET", f"{url}/api/class/events?role=teacher",
                      headers=teacher_headers(cls, last), timeout=15) as r:
        stream = events(r)
        replayed = [next(stream) for _ in range(2)]
    assert [e["event"] for e in replayed] == ["submission", "submission"]
    assert [e["data"]["id"] for e in replayed] == missed
    assert all(int(e["id"]) > last for e in replayed)
    # An id from before the log (or from nowhere): a fresh snapshot instead.
    with httpx.stream("GET", f"{url}/api/class/events?role=teacher",
                      headers=teacher_headers(cls, 10**9), timeout=15) as r:
        assert next(events(r))["event"] == "snapshot"


def test_students_get_only_their_own_and_everyones_events(url, cls, sample_body):
    a, b = join(url, cls.code), join(url, cls.code)
    teacher = httpx.Client(base_url=url, headers=teacher_headers(cls), timeout=10)
    with httpx.stream("GET", f"{url}/api/class/events", cookies=a.cookies, timeout=15) as r:
        stream = events(r)
        snap = next(stream)
        assert snap["event"] == "snapshot" and "gallery" not in snap["data"]
        b.post("/api/class/submissions", json=sample_body(1))        # not a's business
        a.post("/api/class/submissions", json=sample_body(2))
        teacher.post("/api/class/spotlight", json={"digit": {"sample": [3, 0]},
                                                   "focus": {"layer": "conv1", "unit": [0, 1, 1]}})
        kinds = [next(stream) for _ in range(2)]
    assert [k["event"] for k in kinds] == ["submission", "spotlight"]
    assert kinds[0]["data"]["student"]["id"] != b.get("/api/class").json()["student"]["id"]
    assert kinds[1]["data"]["focus"]["layer"] == "conv1"
    assert httpx.get(f"{url}/api/class/events", timeout=5).status_code == 403


def test_two_servers_on_one_session_file_see_each_other(url, cls, class_app, model_path,
                                                        class_db, sample_body):
    from app.config import Settings
    from app.main import create_app
    other = create_app(Settings(model_path=model_path, classroom=True, session_db=class_db))
    with serve(other) as url2:
        student = join(url, cls.code)                       # joins through server 1
        with httpx.stream("GET", f"{url2}/api/class/events?role=teacher",
                          headers=teacher_headers(cls), timeout=15) as r:   # watches server 2
            stream = events(r)
            assert len(next(stream)["data"]["students"]) == 1
            t0 = time.perf_counter()
            sub = student.post("/api/class/submissions", json=sample_body(8)).json()
            got = next(e for e in stream if e["event"] == "submission")
            assert got["data"]["id"] == sub["id"] and time.perf_counter() - t0 < 1.0
        # The student's cookie works on server 2 as well: one session, not one per process.
        assert httpx.get(f"{url2}/api/class", cookies=student.cookies,
                         timeout=5).json()["student"]["id"] == sub["student"]["id"]


def test_connections_are_bounded(url, cls, class_app):
    hub = class_app.state.classroom.hub
    saved = hub.max_clients
    hub.max_clients = len(hub.clients)
    try:
        r = httpx.get(f"{url}/api/class/events?role=teacher", headers=teacher_headers(cls),
                      timeout=15)
        assert r.status_code == 503 and "limit" in r.json()["detail"]
        assert r.headers["retry-after"] == "5"
    finally:
        hub.max_clients = saved
