"""The class session under a class's load, on loopback, in one run (issue 13).

    python bench/classroom.py                    # 40 students, 20 s per phase, 2 workers
    python bench/classroom.py --students 40 --seconds 30 --workers 2

Starts `convscope serve --classroom` as a real process (its own session file in a temporary
directory), joins S students, then:
  A. S students drawing: each a keep-alive connection sending the page's pad PNG to
     /api/forward 10 times a second (bench/api.py's open-loop student); no class activity.
  B. the same drawing load, plus the class: every student on its own live stream (SSE, raw
     sockets, reconnecting with Last-Event-ID like EventSource), sending a digit to the class
     every 10 s, answering the predict round the teacher opens; the teacher on a live stream,
     spotlighting a digit every 3 s (and releasing it in between), opening and revealing a
     round. Measured: submit -> on the teacher's stream; spotlight POST -> on every student's
     stream; forward latency beside phase A's (the ratio is the figure).
  C. a restart: SIGTERM, start again on the same port and session file; how long until every
     stream is back, and whether every acknowledged submission and answer is still there.
The drawing load runs in its own process (one client loop cannot keep 400 forwards a second on
time and read 41 streams). `--rate 0` runs the class alone, to see its own latencies.
The machine is shared (2 cores, other work running): read the ratios, not the absolute times.
Measured 2026-12-02 05:25 UTC on a quiet machine (load average 1.3-1.7 on 2 cores), defaults
(40 students, 2 workers, 20 s per phase): drawing alone forward p99 10.8 ms; with the class,
forward p99 12.6 ms (ratio 1.17, target <= 1.20), submit POST p99 17 ms, submit -> teacher's
stream p50 29 / p99 62 ms (target 1 s), spotlight -> all 40 streams p99 50 ms (target 1 s),
0 errors; restart: stopped in 0.37 s, serving again after 2.8 s, 41/41 streams back at once,
0 of 80 submissions and 0 of 40 answers lost.
Measured 2026-12-02 ~00:50 UTC with the load average at ~30 on 2 cores (other helpers' suites):
  class alone (--rate 0): submit -> teacher p50 54 / p99 294 ms, spotlight -> all 40 p99 86 ms,
  0 errors; restart: 0 of 40 submissions and 0 of 40 answers lost, 41/41 streams back.
  with 40 × 10 forwards/s: the drawing alone already saturated the server (forward p50 0.9-1.3
  s, p99 2-5 s), and the class requests queue behind it (submit POST p50 5 s, submit -> teacher
  p50 10 s, spotlight p50 4 s); forward p99 with/without the session 0.43-1.33 (noise at this
  load). The ≤ 1 s targets need a machine that holds the drawing load in the first place.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import bodies, pct, student as drawing_student  # noqa: E402


class ClassServer:
    def __init__(self, workers: int, db: Path, port: int | None = None, fresh: bool = True):
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CONVSCOPE_EXTRA_MODELS": ""}
        cmd = [sys.executable, "-m", "app.cli", "serve", "--classroom", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--session-db", str(db),
               "--max-students", "200", "--submits-per-minute", "12"]
        if fresh:
            cmd.append("--new-session")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.token = None
        lines = []
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise SystemExit("server exited:\n" + "".join(lines))
            lines.append(line)
            m = re.search(r"#token=(\S+)", line)
            if m:
                self.token = m.group(1)
            if line.startswith("ConvScope serving"):
                break
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _, _ = http("127.0.0.1", port, "GET", "/api/health")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(2.0 if workers > 1 else 0.5)   # every worker loaded

    def stop(self) -> float:
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return time.perf_counter() - t0


def http(host, port, method, path, body=None, headers=None):
    """One blocking request (setup and checks only): (status, headers, body bytes)."""
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=30)
    h = {"content-type": "application/json", **(headers or {})}
    c.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data


# ---------------------------------------------------------------- raw asyncio HTTP + SSE
class Conn:
    """A keep-alive connection for one client's class requests."""

    def __init__(self, port, cookie=""):
        self.port, self.cookie, self.r, self.w = port, cookie, None, None
        self.lock = asyncio.Lock()        # one request at a time on the connection

    async def request(self, method, path, body=None, auth=None):
        async with self.lock:
            return await self._request(method, path, body, auth)

    async def _request(self, method, path, body, auth):
        for attempt in range(2):
            try:
                if self.w is None:
                    self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
                data = b"" if body is None else json.dumps(body).encode()
                head = (f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: "
                        f"application/json\r\nContent-Length: {len(data)}\r\n")
                if self.cookie:
                    head += f"Cookie: {self.cookie}\r\n"
                if auth:
                    head += f"Authorization: Bearer {auth}\r\n"
                self.w.write(head.encode() + b"\r\n" + data)
                raw = await self.r.readuntil(b"\r\n\r\n")
                length, cookie = 0, None
                for line in raw.split(b"\r\n")[1:]:
                    k, _, v = line.decode().partition(":")
                    if k.lower() == "content-length":
                        length = int(v)
                    if k.lower() == "set-cookie":
                        cookie = v.strip().split(";")[0]
                payload = await self.r.readexactly(length)
                if cookie:
                    self.cookie = cookie
                return int(raw[9:12]), payload
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.w = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


async def stream(port, path, headers, on_event, stop, status):
    """An EventSource: reconnect after 1 s with Last-Event-ID; on_event(kind, data, t)."""
    last = None
    while not stop.is_set():
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            h = f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n{headers}"
            if last:
                h += f"Last-Event-ID: {last}\r\n"
            w.write((h + "\r\n").encode())
            head = await r.readuntil(b"\r\n\r\n")
            if head[9:12] != b"200":
                raise ConnectionError(head[:12].decode())
            status["connected"] += 1
            status["up"] = True
            buf = b""
            while not stop.is_set():
                size = int((await r.readuntil(b"\r\n")).strip() or b"0", 16)
                if size == 0:
                    break
                buf += (await r.readexactly(size + 2))[:-2]
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    fields = {}
                    for line in block.decode().split("\n"):
                        if line and not line.startswith(":"):
                            k, _, v = line.partition(": ")
                            fields[k] = v
                    if "event" in fields:
                        if fields.get("id"):
                            last = fields["id"]
                        on_event(fields["event"], json.loads(fields["data"]), time.perf_counter())
            w.close()
        except (ConnectionError, asyncio.IncompleteReadError, OSError, ValueError):
            pass
        status["up"] = False
        if not stop.is_set():
            await asyncio.sleep(1.0)


# ---------------------------------------------------------------- the class
class Class:
    def __init__(self, port, token, students, page_bodies):
        self.port, self.token, self.n = port, token, students
        self.bodies = [json.loads(b) for b in page_bodies]
        self.submit_sent, self.submit_seen, self.acked = {}, {}, []
        self.submit_acked_at = {}
        self.spot_sent, self.spot_seen = {}, {}
        self.answers_acked, self.errors = 0, []
        self.round = None
        self.stop = asyncio.Event()
        self.status = [{"connected": 0, "up": False} for _ in range(students + 1)]

    async def join_all(self):
        self.conns = []
        state = json.loads((await Conn(self.port).request("GET", "/api/class/teacher/state",
                                                          auth=self.token))[1])
        self.code = state["session"]["code"]
        for i in range(self.n):
            c = Conn(self.port)
            status, body = await c.request("POST", "/api/class/join",
                                           {"code": self.code, "nickname": f"S{i}"})
            assert status == 201, body
            self.conns.append(c)

    def teacher_event(self, kind, data, t):
        if kind == "submission" and data["id"] not in self.submit_seen:
            self.submit_seen[data["id"]] = t

    def student_event(self, i, kind, data, t):
        if kind == "spotlight" and data and data.get("note"):
            self.spot_seen.setdefault(data["note"], {}).setdefault(i, t)
        if kind == "round" and data and data["state"] == "open" and data["kind"] == "predict":
            asyncio.get_running_loop().create_task(self.answer(i, data))

    async def answer(self, i, rnd):
        await asyncio.sleep(random.random() * 2)
        n = int(np.prod(rnd["prompt"]["source"]["shape"]))
        status, body = await self.conns[i].request(
            "POST", f"/api/class/rounds/{rnd['id']}/answer", {"cell": random.randrange(n)})
        if status == 200:
            self.answers_acked += 1
        else:
            self.errors.append(f"answer {status} {body[:80]!r}")

    async def submitter(self, i, seconds, t0):
        c = self.conns[i]
        await asyncio.sleep(random.random() * 10)
        while time.perf_counter() - t0 < seconds:
            body = {**random.choice(self.bodies), "label": random.randrange(10)}
            sent = time.perf_counter()
            status, data = await c.request("POST", "/api/class/submissions", body)
            if status == 201:
                sid = json.loads(data)["id"]
                self.submit_sent[sid] = sent
                self.submit_acked_at[sid] = time.perf_counter()
                self.acked.append(sid)
            else:
                self.errors.append(f"submit {status} {data[:80]!r}")
            await asyncio.sleep(10 - (time.perf_counter() - sent))

    async def teacher(self, seconds, t0):
        c = Conn(self.port)
        k = 0
        await asyncio.sleep(2)
        status, data = await c.request("POST", "/api/class/rounds", {
            "kind": "predict", "digit": {"sample": [3, 0]},
            "focus": {"layer": "pool1", "unit": [2, 5, 7]}}, auth=self.token)
        if status != 201:
            self.errors.append(f"round {status} {data[:80]!r}")
        self.round = json.loads(data)["id"] if status == 201 else None
        while time.perf_counter() - t0 < seconds - 2:
            note = f"spot-{k}"
            self.spot_sent[note] = time.perf_counter()
            status, data = await c.request("POST", "/api/class/spotlight", {
                "digit": {"sample": [k % 10, 0]}, "focus": {"layer": "conv1", "unit": [0, 10, 10]},
                "note": note}, auth=self.token)
            if status != 200:
                self.errors.append(f"spotlight {status} {data[:80]!r}")
            await asyncio.sleep(1.5)
            await c.request("DELETE", "/api/class/spotlight", auth=self.token)
            await asyncio.sleep(1.5)
            k += 1
        if self.round:
            status, data = await c.request("POST", f"/api/class/rounds/{self.round}/reveal",
                                           {}, auth=self.token)
            if status != 200:
                self.errors.append(f"reveal {status} {data[:80]!r}")

    def start_streams(self):
        tasks = [asyncio.create_task(stream(self.port, "/api/class/events?role=teacher",
                                            f"Authorization: Bearer {self.token}\r\n",
                                            self.teacher_event, self.stop, self.status[0]))]
        for i, c in enumerate(self.conns):
            tasks.append(asyncio.create_task(stream(
                self.port, "/api/class/events", f"Cookie: {c.cookie}\r\n",
                lambda k, d, t, i=i: self.student_event(i, k, d, t), self.stop,
                self.status[i + 1])))
        return tasks


def _drawing_process(port, students, seconds, rate, out):
    _, _, _, page_bodies = bodies()
    out.put(asyncio.run(_drawing(port, page_bodies, students, seconds, rate)))


async def drawing(port, payloads, students, seconds, rate=10):
    """The drawing load, in its own process: one client loop cannot both keep 400 forwards a
    second on time and read 41 live streams (in one process the class's latencies measured the
    client's backlog, ~10 s, while the server answered submits in ~12 ms)."""
    if rate <= 0:   # --rate 0: the class alone (to see its own latencies)
        await asyncio.sleep(seconds)
        return [], []
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_drawing_process, args=(port, students, seconds, rate, out))
    proc.start()
    while proc.is_alive() and out.empty():
        await asyncio.sleep(0.1)
    result = out.get(timeout=30)
    proc.join(10)
    return result


async def _drawing(port, payloads, students, seconds, rate=10):
    requests = [(b"POST /api/forward HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json"
                 b"\r\nAccept-Encoding: gzip\r\nContent-Length: " + str(len(p)).encode() +
                 b"\r\n\r\n" + p) for p in payloads]
    lat, errors, skipped = [], [], []
    t0 = time.perf_counter() + 0.2
    rng = random.Random(0)
    await asyncio.gather(*(drawing_student(port, requests, rate, seconds, t0, lat, errors,
                                           skipped, rng) for _ in range(students)))
    return lat, errors


def line(name, ms):
    return (f"  {name:<34} n={len(ms):>6}  p50 {pct(ms, 50):7.1f}  p90 {pct(ms, 90):7.1f}  "
            f"p99 {pct(ms, 99):7.1f}  max {max(ms) if ms else float('nan'):7.1f} ms")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=10, help="forwards a second per student")
    args = ap.parse_args(argv)
    random.seed(0)
    _, _, _, page_bodies = bodies()
    tmp = Path(tempfile.mkdtemp(prefix="convscope-bench-class-"))
    db = tmp / "class.sqlite3"
    server = ClassServer(args.workers, db)
    print(f"convscope serve --classroom --workers {args.workers} on 127.0.0.1:{server.port}; "
          f"{args.students} students, {args.seconds:.0f} s per phase; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine)")
    health = [(time.perf_counter(), http("127.0.0.1", server.port, "GET", "/api/health"))
              for _ in range(1)]
    del health

    async def run():
        cls = Class(server.port, server.token, args.students, page_bodies)
        await cls.join_all()
        # A: drawing only.
        lat_a, err_a = await drawing(server.port, page_bodies, args.students, args.seconds, args.rate)
        # B: drawing + the class.
        tasks = cls.start_streams()
        deadline = time.perf_counter() + 10
        while not all(s["up"] for s in cls.status) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        class_tasks = [asyncio.create_task(cls.submitter(i, args.seconds, t0))
                       for i in range(args.students)] + [asyncio.create_task(cls.teacher(args.seconds, t0))]
        lat_b, err_b = await drawing(server.port, page_bodies, args.students, args.seconds, args.rate)
        await asyncio.gather(*class_tasks)
        await asyncio.sleep(1.0)
        return cls, tasks, lat_a, err_a, lat_b, err_b

    loop = asyncio.new_event_loop()
    cls, tasks, lat_a, err_a, lat_b, err_b = loop.run_until_complete(run())

    sub_ms = [(cls.submit_seen[s] - cls.submit_sent[s]) * 1e3 for s in cls.acked
              if s in cls.submit_seen]
    spot_ms = [(t - cls.spot_sent[note]) * 1e3 for note, seen in cls.spot_seen.items()
               for t in seen.values()]
    spots_complete = sum(len(seen) == args.students for seen in cls.spot_seen.values())
    missing_subs = [s for s in cls.acked if s not in cls.submit_seen]
    print("\nA. drawing only (forwards, 10/s per student)")
    print(line("forward", lat_a) + f"  errors {len(err_a)}")
    print("B. drawing + the class session")
    print(line("forward", lat_b) + f"  errors {len(err_b)}")
    print(line("submit request (POST -> 201)", [(cls.submit_acked_at[s] - cls.submit_sent[s]) * 1e3
                                                 for s in cls.acked]))
    print(line("submit -> teacher's stream", sub_ms) +
          f"  ({len(cls.acked)} acknowledged, {len(missing_subs)} never seen)")
    print(line("spotlight -> every student stream", spot_ms) +
          f"  ({spots_complete}/{len(cls.spot_sent)} reached all {args.students})")
    print(f"  answers acknowledged {cls.answers_acked}; class errors {len(cls.errors)}"
          + (f": {cls.errors[:3]}" if cls.errors else ""))
    ratio = pct(lat_b, 99) / pct(lat_a, 99) if lat_a else float("nan")
    if lat_a:
        print(f"  forward p99 with the session / without: {ratio:.2f}  (p50 "
              f"{pct(lat_b, 50) / pct(lat_a, 50):.2f})")

    # C. restart mid-session.
    print("C. restart (SIGTERM, start again on the same port and file)")
    took = server.stop()
    t_down = time.perf_counter()

    async def after_restart():
        nonlocal server
        server = await asyncio.to_thread(ClassServer, args.workers, db, server.port, False)
        up_at = time.perf_counter()
        deadline = up_at + 30
        before = [s["connected"] for s in cls.status]
        while time.perf_counter() < deadline:
            if all(s["up"] for s in cls.status):
                break
            await asyncio.sleep(0.05)
        back = time.perf_counter()
        cls.stop.set()
        for t in tasks:
            t.cancel()
        return up_at, back, before

    up_at, back, _ = loop.run_until_complete(after_restart())
    ups = sum(s["up"] for s in cls.status)
    status, _, data = http("127.0.0.1", server.port, "GET", "/api/class/export.zip",
                           headers={"authorization": f"Bearer {server.token or cls.token}"})
    z = zipfile.ZipFile(io.BytesIO(data))
    subs = z.read("submissions.csv").decode().strip().split("\n")[1:]
    answers = z.read("answers.csv").decode().strip().split("\n")[1:]
    stored = {int(r.split(",")[0]) for r in subs}
    print(f"  stopped in {took:.2f} s (live streams open); serving again after "
          f"{up_at - t_down:.1f} s; {ups}/{args.students + 1} streams back "
          f"{back - up_at:.2f} s after that")
    print(f"  submissions acknowledged {len(cls.acked)}, stored after the restart "
          f"{len(stored & set(cls.acked))} (lost {len(set(cls.acked) - stored)}); answers "
          f"acknowledged {cls.answers_acked}, stored {len(answers)}")
    server.stop()
    ok = (not err_a and not err_b and not cls.errors and not missing_subs
          and stored >= set(cls.acked) and len(answers) >= cls.answers_acked)
    print(f"\n{'OK' if ok else 'PROBLEMS'}: submit p99 {pct(sub_ms, 99):.0f} ms, spotlight p99 "
          f"{pct(spot_ms, 99):.0f} ms (targets 1000), forward p99 ratio {ratio:.2f} (target "
          "<= 1.20), errors " f"{len(err_a) + len(err_b) + len(cls.errors)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
