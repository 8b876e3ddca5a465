"""Server figures on loopback, printed side by side in one run (issue 4).

    python bench/api.py                       # one client, payload, memory, a class of 40
    python bench/api.py --students 40,120 --workers 1,2 --seconds 30    # the class matrix

Starts `convscope serve` as a real process on a free port (the shipped model, else a seeded
reference net), then measures:
  1. one client on a keep-alive connection: GET /api/health, POST /api/forward with a 280×280
     pad PNG (preprocessing on, gzip accepted): the RGBA one canvas.toDataURL makes (the
     issue's figure) and the gray + alpha one the page sends (static/js/png.js); and with 28×28
     and 112×112 pixel bodies; p50/p99 and the ratio to health;
  2. the response: bytes raw and gzipped, each gzip level's size and time, and what each stage
     costs compressed (the gzipped size with minus without it);
  3. where the time goes in-process (decode, ink, preprocess, forward, serialise, gzip);
  4. a class: S students, each on its own keep-alive connection sending R forwards a second
     for T seconds (open loop: latency counts from the scheduled send, so a late server is
     not hidden by a client that waits); throughput, errors, p50/p90/p99/max;
  5. the server's resident memory after 100 requests and after 10,000 or more.
Figures on the shared 2-core machine are noisy while other work runs: read the ratios.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import http.client
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- inputs
def pad_png(digit: np.ndarray) -> bytes:
    """A 280×280 RGBA PNG as the page's pad makes it: white ink, alpha = ink."""
    big = np.asarray(Image.fromarray(digit).resize((280, 280), Image.BILINEAR))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = big
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def pad_ink_png(digit: np.ndarray) -> bytes:
    """The same 280×280 drawing as the page sends it (static/js/png.js: gray + alpha, white
    with alpha = ink, Up-filtered rows)."""
    from app.padpng import white_ink_png
    return white_ink_png(np.asarray(Image.fromarray(digit).resize((280, 280), Image.BILINEAR)))


def _png_body(png: bytes) -> bytes:
    return json.dumps({"image": "data:image/png;base64," + base64.b64encode(png).decode()}).encode()


def bodies():
    """Per shipped test digit: (digits, RGBA pad PNG bodies, 28×28 pixel bodies, page bodies)."""
    with np.load(ROOT / "models" / "samples.npz") as f:
        digits = f["images"][:, 0]
    pngs = [_png_body(pad_png(d)) for d in digits]
    page_pngs = [_png_body(pad_ink_png(d)) for d in digits]
    pixels = [json.dumps({"pixels": d.ravel().tolist(), "width": 28, "height": 28}) for d in digits]
    return digits, pngs, [p.encode() for p in pixels], page_pngs


def pad_pixels(digits, side: int = 112) -> list[bytes]:
    """The page's other body: the pad's ink downscaled to side×side, as integers."""
    out = []
    for d in digits:
        big = Image.fromarray(d).resize((280, 280), Image.BILINEAR)
        small = np.asarray(big.resize((side, side), Image.BOX))
        out.append(json.dumps({"pixels": small.ravel().tolist(), "width": side,
                               "height": side}).encode())
    return out


def model_path(args) -> tuple[Path, str]:
    shipped = ROOT / "models" / "lenet-mnist.npz"
    if args.model:
        return Path(args.model), "given"
    if shipped.is_file():
        return shipped, "shipped"
    from engine.network import Network
    from engine.spec import REFERENCE_SPEC
    path = Path(tempfile.mkdtemp()) / "seeded.npz"
    Network(REFERENCE_SPEC, seed=0).save(path, {"name": "seeded", "dataset": "mnist",
                                                "classes": [str(i) for i in range(10)],
                                                "accuracy": {"test": 0.1}})
    return path, "seeded, untrained (no shipped model yet)"


# ---------------------------------------------------------------- the server
class Server:
    def __init__(self, model: Path, workers: int, more: list[str] = ()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path, "CONVSCOPE_EXTRA_MODELS": ""}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port), "--model",
             str(model), "--workers", str(workers), *more], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.proc.stderr.read()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/api/health")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise SystemExit("server did not start in 60 s")
        time.sleep(0.5 if workers == 1 else 2.0)   # let every worker finish loading

    def pids(self) -> list[int]:
        """The server process and its direct children (the workers, when there are several)."""
        pids = [self.proc.pid]
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            pids += [int(k) for k in kids]
        except OSError:
            pass
        return pids

    def rss_mb(self) -> float:
        """Resident size of the serving processes (the workers, when there are several)."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def cpu_s(self) -> float:
        """User + system CPU seconds used so far by the server (and its workers)."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])     # utime, stime (clock ticks)
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---------------------------------------------------------------- one client
def pct(ms: list[float], q: float) -> float:
    return float(np.percentile(ms, q)) if ms else float("nan")


def one_client(port: int, method: str, path: str, payloads: list[bytes], n: int,
               gzip_ok: bool = True) -> tuple[list[float], int]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"content-type": "application/json"}
    if gzip_ok:
        headers["accept-encoding"] = "gzip"
    times, size = [], 0
    for i in range(n):
        body = payloads[i % len(payloads)] if payloads else None
        t = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        times.append((time.perf_counter() - t) * 1e3)
        assert r.status == 200, (r.status, data[:200])
        size = len(data)
    conn.close()
    return times, size


# ---------------------------------------------------------------- a class (asyncio, open loop)
async def student(port, requests, rate, seconds, t0, lat, errors, skipped, rng):
    """One student's page: a keep-alive connection, a forward every 1/rate s. Like the page's
    latest-wins scheduler, a student whose answer comes back late skips the slots missed
    meanwhile (counted) rather than queueing them, and nothing is sent after `seconds`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    period = 1 / rate
    first = t0 + rng.random() * period          # students do not press "draw" in lockstep
    k = 0
    try:
        while True:
            due = first + k * period
            now = time.perf_counter()
            if now > due + period:               # late: jump to the latest slot that is due
                missed = int((now - due) / period)
                skipped.append(missed)
                k += missed
                due = first + k * period
            if due - t0 > seconds:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(requests[(k + int(first * 1e6)) % len(requests)])
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                ok = head[9:12] == b"200"
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                errors.append(repr(exc))
                break
            lat.append((time.perf_counter() - due) * 1e3)
            if not ok:
                errors.append(head[:12].decode())
            k += 1
    finally:
        writer.close()


def run_class(port, payloads, students, rate, seconds):
    requests = [(b"POST /api/forward HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json"
                 b"\r\nAccept-Encoding: gzip\r\nContent-Length: " + str(len(p)).encode() +
                 b"\r\n\r\n" + p) for p in payloads]
    lat, errors, skipped = [], [], []

    async def main():
        t0 = time.perf_counter() + 0.2
        rng = random.Random(0)
        await asyncio.gather(*(student(port, requests, rate, seconds, t0, lat, errors, skipped,
                                       rng) for _ in range(students)))
        return time.perf_counter() - t0

    import resource
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    wall = asyncio.run(main())
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    run_class.client_cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    run_class.skipped = sum(skipped)
    return lat, errors, wall


# ---------------------------------------------------------------- in-process figures
def in_process(model: Path, png_body: bytes, digit, page_body: bytes):
    import warnings
    warnings.simplefilter("ignore")
    from app import serialize
    from app.config import Settings
    from app.deps import load_resources
    from app.inputs import decode_data_url, ink_from_image
    from app.responses import _gzip, compress, dumps
    from engine.preprocess import preprocess

    from app.inputs import configure_pillow
    configure_pillow()     # as create_app does
    res = load_resources(Settings(model_path=model))
    url = json.loads(png_body)["image"]
    page_url = json.loads(page_body)["image"]

    def best(f, n=200):
        f()
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        return min(ts) * 1e3, float(np.median(ts)) * 1e3

    data = decode_data_url(url, res.settings)
    ink = ink_from_image(data, res.settings)
    pre = preprocess(ink)
    trace = res.network.forward(pre.input)
    payload = serialize.forward_payload(trace, pre)
    raw = dumps(payload)
    rows = [("base64 + PNG decode + ink", best(lambda: ink_from_image(
                decode_data_url(url, res.settings), res.settings))),
            ("  (the page's gray+alpha PNG)", best(lambda: ink_from_image(
                decode_data_url(page_url, res.settings), res.settings))),
            ("preprocess (crop/fit/centre)", best(lambda: preprocess(ink))),
            ("network.forward (14 stages)", best(lambda: res.network.forward(pre.input))),
            ("orjson dumps (float32)", best(lambda: dumps(serialize.forward_payload(trace, pre)))),
            (f"gzip level {res.settings.gzip_level} ({'ISA-L' if _gzip is not gzip else 'zlib'})",
             best(lambda: compress(raw, res.settings.gzip_level), 100))]
    print("\n== where a PNG forward's time goes, in-process (min / median ms) ==")
    for name, (lo, med) in rows:
        print(f"  {name:32s} {lo:7.3f} {med:7.3f}")
    print(f"  {'sum of minima (RGBA PNG)':32s} {sum(r[1][0] for r in rows if r is not rows[1]):7.3f}")
    import json as stdjson
    t_std = best(lambda: stdjson.dumps(payload, default=lambda a: a.tolist()), 30)
    print(f"  (stdlib json + tolist instead of orjson: {t_std[0]:.3f} ms, "
          f"{t_std[0] / rows[4][1][0]:.0f}x)")

    print("\n== response size: one 280×280 pad PNG, every stage + preprocessing ==")
    print(f"  raw JSON {len(raw):,} B")
    coders = [("zlib", gzip, (1, 4, 6, 9))]
    if _gzip is not gzip:
        coders.insert(0, ("ISA-L", _gzip, (0, 1, 2, 3)))
    for name, coder, levels in coders:
        for level in levels:
            z = coder.compress(raw, level, mtime=0)
            lo, _ = best(lambda: coder.compress(raw, level, mtime=0), 30)
            print(f"  {name:5s} level {level}: {len(z):7,} B  {lo:6.2f} ms")

    print("\n== what each part costs gzipped (size with it minus without it; mean of 10 digits) ==")
    from engine.preprocess import preprocess as prep
    with np.load(ROOT / "models" / "samples.npz") as f:
        digits = f["images"][:, 0]
    costs: dict[str, list] = {}
    for d in digits:
        big = np.asarray(Image.fromarray(d).resize((280, 280), Image.BILINEAR))
        p = prep(big)
        pl = serialize.forward_payload(res.network.forward(p.input), p)
        full = dumps(pl)
        for level in (1, 6):
            costs.setdefault(f"total gzip {level}", []).append(len(gzip.compress(full, level)))
        for i, layer in enumerate(pl["layers"]):
            q = {**pl, "layers": pl["layers"][:i] + pl["layers"][i + 1:]}
            for level in (1, 6):
                costs.setdefault((layer["name"], level), []).append(
                    len(gzip.compress(full, level)) - len(gzip.compress(dumps(q), level)))
            costs.setdefault((layer["name"], "raw"), []).append(len(dumps(layer["values"])))
        q = {k: v for k, v in pl.items() if k != "preprocessing"}
        for level in (1, 6):
            costs.setdefault(("preprocessing", level), []).append(
                len(gzip.compress(full, level)) - len(gzip.compress(dumps(q), level)))
        costs.setdefault(("preprocessing", "raw"), []).append(len(dumps(pl["preprocessing"])))
    print(f"  {'part':14s} {'raw B':>8s} {'gzip1 B':>8s} {'gzip6 B':>8s}")
    for name in [l["name"] for l in payload["layers"]] + ["preprocessing"]:
        print(f"  {name:14s} {np.mean(costs[(name, 'raw')]):8.0f} "
              f"{np.mean(costs[(name, 1)]):8.0f} {np.mean(costs[(name, 6)]):8.0f}")
    print(f"  {'whole':14s} {'':8s} {np.mean(costs['total gzip 1']):8.0f} "
          f"{np.mean(costs['total gzip 6']):8.0f}")


def one_client_report(model: Path, n: int, digits, pngs, pixels, page_pngs) -> None:
    server = Server(model, 1)
    try:
        one_client(server.port, "POST", "/api/forward", pngs, 100)
        rss_100 = server.rss_mb()
        print("\n== one client, keep-alive, 1 worker (ms; 'cpu' = server CPU time per request,"
              " which scheduling delays on a busy machine do not inflate) ==")
        print(f"  {'request':34s} {'p50':>7s} {'p90':>7s} {'p99':>7s} {'x health':>9s} "
              f"{'cpu':>6s} {'x health':>9s} {'bytes':>8s}")
        rows = []
        for label, method, payloads, count, gz in (
                ("GET /api/health", "GET", [], n, True),
                ("POST /api/forward 280x280 PNG", "POST", pngs, n, True),
                ("  the page's gray+alpha PNG", "POST", page_pngs, n, True),
                ("POST /api/forward 28x28 pixels", "POST", pixels, n, True),
                ("POST /api/forward 112x112 pixels", "POST", pad_pixels(digits), n, True),
                ("  same PNG, no gzip", "POST", pngs[:1], 200, False)):
            path = "/api/health" if method == "GET" else "/api/forward"
            cpu0 = server.cpu_s()
            t, size = one_client(server.port, method, path, payloads, count, gzip_ok=gz)
            rows.append((label, t, size, (server.cpu_s() - cpu0) * 1e3 / count))
        base, base_cpu = pct(rows[0][1], 50), rows[0][3]
        for label, t, size, cpu in rows:
            print(f"  {label:34s} {pct(t, 50):7.2f} {pct(t, 90):7.2f} {pct(t, 99):7.2f} "
                  f"{pct(t, 50) / base:9.1f} {cpu:6.2f} {cpu / base_cpu:9.1f} {size:8,}")
        sizes = {"RGBA PNG": pngs, "page's PNG": page_pngs, "28x28 pixels": pixels,
                 "112x112 pixels": pad_pixels(digits)}
        print("  request bodies (mean bytes, what each student uploads per stroke): " + ", ".join(
            f"{k} {np.mean([len(b) for b in v]):,.0f}" for k, v in sizes.items()))
        served = 100 + 5 * n + 200
        print(f"\n== memory (1 worker) ==\n  RSS after 100 requests: {rss_100:.1f} MB")
        extra = max(0, 10_000 - served)
        if extra:
            one_client(server.port, "POST", "/api/forward", pngs + pixels + page_pngs, extra)
            served += extra
        rss_10k = server.rss_mb()
        print(f"  RSS after {served:,} requests: {rss_10k:.1f} MB "
              f"({(rss_10k / rss_100 - 1) * 100:+.1f}%)")
    finally:
        server.stop()


# ---------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model")
    ap.add_argument("--requests", type=int, default=1000, help="one-client requests per kind")
    ap.add_argument("--students", default="40", help="comma-separated class sizes")
    ap.add_argument("--workers", default="1", help="comma-separated worker counts")
    ap.add_argument("--rate", type=float, default=10, help="forwards per student per second")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--class-body", choices=["page", "png-rgba", "pixels112", "pixels28"],
                    default="page", help="what each student sends (default: what the page "
                    "sends, the pad's 280x280 ink as a gray+alpha PNG; png-rgba: toDataURL's)")
    ap.add_argument("--skip-in-process", action="store_true")
    ap.add_argument("--skip-one-client", action="store_true")
    args = ap.parse_args(argv)

    model, origin = model_path(args)
    digits, pngs, pixels, page_pngs = bodies()
    print(f"model: {model} ({origin}); {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start (other work on the machine skews every figure)")

    if not args.skip_one_client:
        one_client_report(model, args.requests, digits, pngs, pixels, page_pngs)

    if not args.skip_in_process:
        in_process(model, pngs[7], digits[7], page_pngs[7])

    for workers in [int(w) for w in args.workers.split(",")]:
        for students in [int(s) for s in args.students.split(",") if int(s) > 0]:
            server = Server(model, workers)
            try:
                one_client(server.port, "POST", "/api/forward", page_pngs, 50)
                before, cpu0 = server.rss_mb(), server.cpu_s()
                body = {"page": page_pngs, "png-rgba": pngs, "pixels28": pixels,
                        "pixels112": pad_pixels(digits)}[args.class_body]
                lat, errors, wall = run_class(server.port, body, students, args.rate, args.seconds)
                after, cpu = server.rss_mb(), server.cpu_s() - cpu0
            finally:
                server.stop()
            asked = students * args.rate * args.seconds
            print(f"\n== a class: {students} students x {args.rate:g}/s for {args.seconds:g} s, "
                  f"{workers} worker{'s' if workers > 1 else ''}, {args.class_body} bodies, gzip ==")
            print(f"  answered {len(lat):,} of {asked:,.0f} in {wall:.1f} s = "
                  f"{len(lat) / wall:.0f} req/s; skipped while waiting (latest wins) "
                  f"{run_class.skipped:,}; errors {len(errors)}"
                  f"{' ' + str(errors[:3]) if errors else ''}")
            print(f"  latency from scheduled send (ms): p50 {pct(lat, 50):.1f}  p90 "
                  f"{pct(lat, 90):.1f}  p99 {pct(lat, 99):.1f}  max {max(lat):.1f}")
            print(f"  server CPU {cpu:.1f} s = {cpu * 1e3 / max(len(lat), 1):.2f} ms per request "
                  f"({cpu / wall * 100:.0f}% of one core); the load generator used "
                  f"{run_class.client_cpu / wall * 100:.0f}% of one core")
            print(f"  server RSS {before:.1f} MB before, {after:.1f} MB after "
                  f"{len(lat):,} requests; load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
