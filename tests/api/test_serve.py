"""`convscope serve` as a real process: answers on a free port, exits cleanly on SIGTERM, and
port-in-use / missing-model are one clear line with a non-zero exit."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from app.config import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "app.cli", "serve", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited {proc.returncode}: {proc.stderr.read()}")
        try:
            if httpx.get(url + "/api/health", timeout=1).json() == {"status": "ok"}:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("server did not answer /api/health in time")


def test_serve_answers_and_exits_cleanly_on_sigterm(model_path):
    port = free_port()
    proc = serve("--port", str(port), "--model", str(model_path))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert httpx.get(f"http://127.0.0.1:{port}/api/model").status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in proc.stderr.read()


def test_port_in_use_is_one_clear_line(model_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = serve("--port", str(port), "--model", str(model_path))
        _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"port {port}" in lines[0] and "in use" in lines[0], err


@pytest.mark.parametrize("content", [None, b"not a zip at all"])
def test_missing_or_corrupt_model_is_one_clear_line(tmp_path, content):
    path = tmp_path / "model.npz"
    if content is not None:
        path.write_bytes(content)
    proc = serve("--port", str(free_port()), "--model", str(path))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and ".npz" in lines[0], err


def test_classroom_with_two_workers_lists_lan_urls_and_stops_cleanly(model_path):
    port = free_port()
    proc = serve("--port", str(port), "--model", str(model_path), "--classroom", "--workers", "2")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=60)
        joins = {tuple(httpx.get(f"http://127.0.0.1:{port}/api/join").json()["urls"])
                 for _ in range(6)}       # several requests: every worker must agree
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    printed = [line.strip() for line in err.splitlines() if line.strip().startswith("http://")]
    assert len(joins) == 1, joins
    urls = list(joins.pop())
    assert printed == urls, (printed, urls)
    for url in urls:      # LAN addresses only: a student's laptop cannot open 127.0.0.1
        assert url.endswith(f":{port}/") and not url.startswith("http://127."), url
