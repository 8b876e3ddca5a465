"""`convscope serve --classroom` as real processes: the teacher address printed once, two
workers sharing one session, SIGTERM with live streams open, and a restart that loses nothing."""
from __future__ import annotations

import re
import signal
import threading
import time

import httpx

from tests.api.test_serve import free_port, serve, wait_healthy


def stop(proc) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    code = proc.wait(timeout=20)
    return code, proc.stderr.read(), time.monotonic() - t0


def hold_stream(url, cookies, opened):
    try:
        with httpx.stream("GET", url, cookies=cookies, timeout=30) as r:
            opened.set()
            for _ in r.iter_lines():
                pass
    except httpx.HTTPError:
        pass


def test_two_workers_share_the_session_and_a_restart_keeps_it(model_path, tmp_path):
    db = tmp_path / "class.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ("--port", str(port), "--model", str(model_path), "--classroom", "--workers", "2",
            "--host", "127.0.0.1", "--session-db", str(db))
    proc = serve(*args)
    try:
        wait_healthy(base, proc, timeout=60)
        pixels = {"pixels": [0] * 784, "width": 28, "height": 28}
        students = [httpx.Client(base_url=base, timeout=10) for _ in range(6)]
        teacher_err = []
        # The printed token: read from stderr after start-up (printed before workers start).
        line = ""
        deadline = time.monotonic() + 10
        while "#token=" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
            teacher_err.append(line)
        token = re.search(r"#token=(\S+)", line).group(1)
        assert len(token) >= 22                                  # ≥ 128 bits of base64
        t = httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=10)
        states = [t.get("/api/class/teacher/state").json() for _ in range(6)]
        code = states[0]["session"]["code"]
        assert {s["session"]["code"] for s in states} == {code}
        for i, c in enumerate(students):
            assert c.post("/api/class/join", json={"code": code, "nickname": f"S{i}"}).status_code == 201
            assert c.post("/api/class/submissions", json={**pixels, "label": 0}).status_code == 201
        assert len(t.get("/api/class/teacher/state").json()["gallery"]) == 6
        opened = threading.Event()
        holder = threading.Thread(target=hold_stream, args=(f"{base}/api/class/events",
                                                            students[0].cookies, opened))
        holder.start()
        assert opened.wait(10)
        code_exit, err, took = stop(proc)
        holder.join(10)
        assert code_exit == 0 and took < 10, (code_exit, took, err)
    finally:
        if proc.poll() is None:
            proc.kill()
    printed = "".join(teacher_err) + err
    assert printed.count(token) == 2          # once for this computer, once for the LAN
    # Restart on the same file: same session, same token, nothing lost; no token printed.
    proc = serve(*args)
    try:
        wait_healthy(base, proc, timeout=60)
        state = t.get("/api/class/teacher/state").json()
        assert state["session"]["code"] == code and len(state["gallery"]) == 6
        me = students[3].get("/api/class").json()
        assert me["student"]["name"] == "S3" and len(me["submissions"]) == 1
        code_exit, err, _ = stop(proc)
        assert code_exit == 0 and "#token=" not in err and "continuing the session" in err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_says_which_model_the_class_reads_digits_with(tmp_path, model_path):
    """`serve --classroom` prints the digit model the class runs on (the first served), or that
    none reads digits: the same pick as the workers' (service.class_model)."""
    from pathlib import Path

    from app.server import _class_model_line
    from engine.network import Network
    from tests.api.test_model_input import RGB_INPUT, RGB_SPEC
    colour = tmp_path / "mine.npz"
    Network(RGB_SPEC, seed=1).save(colour, {"name": "mine", "dataset": "pictures",
                                            "classes": ["a", "b", "c"], "input": RGB_INPUT})
    nets = {p: Network.load(p) for p in (colour, Path(model_path))}
    line = _class_model_line([colour, Path(model_path)], list(nets.values()))
    assert line.startswith(f"The class reads digits with {Path(model_path).name} (the first")
    assert _class_model_line([Path(model_path)], [nets[Path(model_path)]]) == \
        f"The class reads digits with {Path(model_path).name}"
    assert "none of the served models reads MNIST-style digits" in _class_model_line(
        [colour], [nets[colour]])
