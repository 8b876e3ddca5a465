"""The cost gate under a gradient storm: health and forward latency, quiet and under attack,
with the gate as shipped and with it opened wide, printed side by side in one run (issue 12).

    python bench/costs.py [--seconds 6] [--attackers 50]

For each setting a fresh `convscope serve` (one worker, the shipped model) on a free port:
  quiet:  a probe GETs /api/health every 20 ms and POSTs a 28×28 pixel /api/forward every
          50 ms, each on its own keep-alive connection;
  attack: the same probes while `--attackers` keep-alive connections POST 20-step
          /api/gradient back to back (after a 503 an attacker waits 10 ms, only so that this
          client's own loop does not eat the CPU the server needs; it ignores Retry-After).
"gate open" sets CONVSCOPE_COSTLY_SLOTS=40 (the thread pool's size: what the server did
before the gate) and a queue of 1,000. Figures on the shared 2-core machine are noisy: read
the ratios against the quiet health figure of the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIGIT = [0] * 784
for y in range(5, 23):
    for x in range(12, 16):
        DIGIT[y * 28 + x] = 255
FORWARD = json.dumps({"pixels": DIGIT, "width": 28, "height": 28}).encode()
GRADIENT = json.dumps({"pixels": DIGIT, "width": 28, "height": 28, "target": 7,
                       "learning_rate": 0.1, "steps": 20}).encode()


def start(env_extra: dict) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", "0"], cwd=ROOT,
                            env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
            while time.monotonic() < deadline:      # bound before it listens: wait for it
                try:
                    asyncio.run(Conn(port).request("GET", "/api/health"))
                    return proc, port
                except OSError:
                    time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


class Conn:
    """One keep-alive HTTP/1.1 connection: request() -> (status, seconds)."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, float]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        t = time.perf_counter()
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                f"\r\nAccept-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        status = int(headers.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: (\d+)", headers).group(1))
        await self.reader.readexactly(length)
        if re.search(rb"(?i)connection: close", headers):
            self.writer.close()
            self.writer = None
        return status, time.perf_counter() - t


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q / 100 * len(s)))] * 1000


async def probe(port, method, path, body, every, until, out):
    conn = Conn(port)
    while time.perf_counter() < until:
        status, dt = await conn.request(method, path, body)
        out.append((status, dt))
        await asyncio.sleep(max(0.0, every - dt))


async def attacker(port, until, out):
    conn = Conn(port)
    while time.perf_counter() < until:
        try:
            status, dt = await conn.request("POST", "/api/gradient", GRADIENT)
        except (ConnectionError, asyncio.IncompleteReadError):
            conn = Conn(port)
            out.append((0, 0.0))
            continue
        out.append((status, dt))
        if status != 200:
            await asyncio.sleep(0.01)


async def phase(port, seconds, attackers):
    until = time.perf_counter() + seconds
    health, forward, grads = [], [], []
    tasks = [probe(port, "GET", "/api/health", b"", 0.02, until, health),
             probe(port, "POST", "/api/forward", FORWARD, 0.05, until, forward)]
    tasks += [attacker(port, until, grads) for _ in range(attackers)]
    await asyncio.gather(*tasks)
    return health, forward, grads


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--attackers", type=int, default=50)
    args = ap.parse_args(argv)
    settings = {"gate as shipped (1 running + 32 waiting)": {},
                "gate open (40 running)": {"CONVSCOPE_COSTLY_SLOTS": "40",
                                           "CONVSCOPE_COSTLY_QUEUE": "1000"}}
    print(f"{args.attackers} attackers × 20-step /api/gradient, {args.seconds:g} s per phase; "
          "latency in ms (p50 / p99); ratios against the quiet health p50 of the same server")
    for name, env in settings.items():
        proc, port = start(env)
        try:
            asyncio.run(phase(port, 1, 0))                       # warm-up
            quiet = asyncio.run(phase(port, args.seconds, 0))
            attack = asyncio.run(phase(port, args.seconds, args.attackers))
        finally:
            proc.terminate()
            proc.wait(20)
        ref = pct([d for _, d in quiet[0]], 50)
        print(f"\n{name}")
        for label, (health, forward, grads) in (("quiet", quiet), ("attack", attack)):
            h = [d for _, d in health]
            f = [d for _, d in forward]
            line = (f"  {label:6s} health {pct(h, 50):6.1f} / {pct(h, 99):6.1f} "
                    f"({pct(h, 99) / ref:5.1f}× ref)   forward {pct(f, 50):6.1f} / "
                    f"{pct(f, 99):6.1f} ({pct(f, 99) / ref:5.1f}× ref)")
            bad = sum(1 for s, _ in health + forward if s != 200)
            if grads:
                ok = [d for s, d in grads if s == 200]
                busy = sum(1 for s, _ in grads if s == 503)
                other = len(grads) - len(ok) - busy
                line += (f"   gradients: {len(ok) / args.seconds:5.1f}/s answered (p50 "
                         f"{pct(ok, 50):6.0f} ms), {busy / args.seconds:6.1f}/s 503"
                         + (f", {other} other" if other else ""))
            print(line + (f"   {bad} probe errors" if bad else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
