"""Server figures on loopback, printed side by side in one run (issues 4 and 12).

    python bench/api.py                  # everything below, ~2 min
    python bench/api.py --classes 40@1,40@2,120@classroom --seconds 30     # a class matrix

Starts `convscope serve` as a real process on a free port (the shipped model, else a seeded
reference net), then measures:
  1. one client on a keep-alive connection, 1 worker: GET /api/health; POST /api/forward with
     the page's drawing (280×280 gray + alpha PNG, static/js/png.js) answered as the page asks
     (`Accept: application/octet-stream`, the binary wire of app/wire.py) and as JSON; the RGBA
     PNG canvas.toDataURL makes; 28×28 and 112×112 pixel bodies. p50/p99, and the server's CPU
     per request (from /proc, so a busy machine's scheduling delays do not inflate it) with its
     ratio to health's, and the bytes on the wire;
  2. the answer's size: JSON vs binary, raw and gzipped, over the ten shipped digits drawn;
  3. where a forward's time goes, in-process: the whole ASGI request (the framework's share is
     what the parts do not explain), body parsing and validation, decode, preprocessing, the
     forward, serialisation, compression;
  4. classes: S students, each on its own keep-alive connection sending R forwards a second
     for T seconds (open loop: latency counts from the scheduled send, so a late server is
     not hidden by a client that waits) to the default `convscope serve` (no flags) and to
     `--classroom`; throughput, errors, p50/p90/p99/max;
  5. the server's resident memory after 100 requests and after 10,000 or more;
and ends with the issue's targets beside the figures measured.
The machine is shared: figures are noisy while other work runs (the load average is printed
at start and after each class); read the ratios to health, measured in the same run.
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

BINARY = "application/octet-stream"     # the page's Accept for /api/forward (static/js/api.js)


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
    """`convscope serve` as students meet it: `workers` None = the default (no flag: 1 worker),
    "classroom" = `--classroom` (one worker per CPU), else `--workers N`; `more`: other flags
    (bench/import.py adds a second --model)."""

    def __init__(self, model: Path, workers=None, more: list[str] = ()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path, "CONVSCOPE_EXTRA_MODELS": ""}
        flags = ([] if workers is None else ["--classroom"] if workers == "classroom"
                 else ["--workers", str(workers)])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--model", str(model), *flags, *more], cwd=ROOT, env=env,
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
        time.sleep(0.5 if workers in (None, 1) else 2.0)   # let every worker finish loading

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
               gzip_ok: bool = True, accept: str | None = None) -> tuple[list[float], int]:
    """n requests on one keep-alive connection: (latencies ms, bytes of the last answer as sent,
    i.e. compressed when it was)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"content-type": "application/json"}
    if gzip_ok:
        headers["accept-encoding"] = "gzip"
    if accept:
        headers["accept"] = accept
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


def run_class(port, payloads, students, rate, seconds, accept: str | None = None):
    extra = b"" if not accept else b"Accept: " + accept.encode() + b"\r\n"
    requests = [(b"POST /api/forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                 b"\r\nAccept-Encoding: gzip\r\n" + extra + b"Content-Length: " +
                 str(len(p)).encode() + b"\r\n\r\n" + p) for p in payloads]
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
def _best(f, n=300):
    """(min, median) ms of f over n calls, after one warm-up."""
    f()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts) * 1e3, float(np.median(ts)) * 1e3


def asgi_cpu(app, cases: list[tuple[str, str, bytes, str | None]], n: int) -> list[float]:
    """Fastest time of one request through the whole app (middleware, routing, handler) called
    in-process, without uvicorn or sockets (the minimum, like the parts below, so the two
    compare on a busy machine): [(method, path, body, accept)] -> ms each."""
    def scope(method, path, body, accept):
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                   (b"accept-encoding", b"gzip"), (b"content-length", str(len(body)).encode())]
        if accept:
            headers.append((b"accept", accept.encode()))
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                "query_string": b"", "root_path": "", "headers": headers, "state": {},
                "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}

    async def call(method, path, body, accept):
        done = False

        async def receive():
            nonlocal done
            if not done:
                done = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)

        status = []

        async def send(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
        await app(scope(method, path, body, accept), receive, send)
        assert status == [200], (path, status)

    async def main():
        out = []
        for method, path, body, accept in cases:
            for _ in range(20):
                await call(method, path, body, accept)
            ts = []
            for _ in range(n):
                t = time.perf_counter()
                await call(method, path, body, accept)
                ts.append(time.perf_counter() - t)
            out.append(min(ts) * 1e3)
        return out
    return asyncio.run(main())


def in_process(model: Path, page_body: bytes, pixel_body: bytes, digits) -> dict:
    import warnings
    warnings.simplefilter("ignore")
    import orjson

    from app import serialize, wire
    from app.config import Settings
    from app.deps import load_resources
    from app.inputs import configure_pillow, decode_data_url, model_input
    from app.main import create_app
    from app.padpng import white_ink
    from app.responses import _gzip, compress, dumps
    from app.schemas import ForwardBody

    configure_pillow()     # as create_app does
    settings = Settings(model_path=model, extra_models=())
    res = load_resources(settings)
    level = settings.gzip_level
    coder = "ISA-L" if _gzip is not gzip else "zlib"

    print("\n== where a forward's time goes, in-process (min / median ms; 1 thread) ==")
    app = create_app(settings)
    whole = asgi_cpu(app, [("GET", "/api/health", b"", None),
                           ("POST", "/api/forward", page_body, BINARY),
                           ("POST", "/api/forward", page_body, None),
                           ("POST", "/api/forward", pixel_body, None)], 1000)
    rows = []
    for label, body in (("the page's PNG", page_body), ("28x28 pixels", pixel_body)):
        parsed = ForwardBody.model_validate(orjson.loads(body))
        x, pre = model_input(parsed, res)
        trace = res.network.forward(x)
        binary = wire.encode_forward(trace, pre, res.network)
        text = dumps(serialize.forward_payload(trace, pre, res.network))
        part = {"parse + validate (orjson, pydantic)":
                _best(lambda: ForwardBody.model_validate(orjson.loads(body)))}
        if parsed.image is not None:
            data = decode_data_url(parsed.image, settings)
            part["  base64"] = _best(lambda: decode_data_url(parsed.image, settings))
            part["  PNG -> ink (app/padpng)"] = _best(lambda: white_ink(data, 1024))
        part["body -> input (decode, ink, preprocess)"] = _best(lambda: model_input(parsed, res))
        part["network.forward (every stage)"] = _best(lambda: res.network.forward(x))
        part["binary wire encode (app/wire.py)"] = _best(
            lambda: wire.encode_forward(trace, pre, res.network))
        part[f"  gzip {coder} level {level} of the binary"] = _best(lambda: compress(binary, level))
        part["JSON: payload + orjson dumps"] = _best(
            lambda: dumps(serialize.forward_payload(trace, pre, res.network)))
        part[f"  gzip {coder} level {level} of the JSON"] = _best(lambda: compress(text, level), 100)
        rows.append((label, part))
    h, page_bin, page_json, px_json = whole
    print(f"  {'whole request in the app (min ms)':40s} health {h:.3f}; page PNG binary "
          f"{page_bin:.3f} ({page_bin / h:.1f}x), JSON {page_json:.3f} ({page_json / h:.1f}x); "
          f"28x28 JSON {px_json:.3f} ({px_json / h:.1f}x)")
    for label, part in rows:
        print(f"  -- {label}")
        for name, (lo, med) in part.items():
            print(f"     {name:40s} {lo:7.3f} {med:7.3f}")
    page = rows[0][1]
    parts_bin = sum(page[k][0] for k in ("parse + validate (orjson, pydantic)",
                                         "body -> input (decode, ink, preprocess)",
                                         "network.forward (every stage)",
                                         "binary wire encode (app/wire.py)"))
    parts_bin += next(v[0] for k, v in page.items() if k.endswith("of the binary"))
    print(f"  framework + middleware beyond the parts (page, binary): ~{page_bin - parts_bin:.3f} "
          f"ms of {page_bin:.3f} (health's whole request: {h:.3f})")

    print("\n== the answer on the wire: ten shipped digits drawn at 280x280 (bytes) ==")
    from engine.preprocess import preprocess
    sizes: dict[str, list[int]] = {}
    for d in digits:
        big = np.asarray(Image.fromarray(d).resize((280, 280), Image.BILINEAR))
        p = preprocess(big)
        t = res.network.forward(p.input)
        text = dumps(serialize.forward_payload(t, p))
        binary = wire.encode_forward(t, p)
        for k, v in (("JSON raw", len(text)), (f"JSON gzip {level}", len(compress(text, level))),
                     ("binary raw", len(binary)),
                     (f"binary gzip {coder} {level}", len(compress(binary, level))),
                     ("binary zlib 6", len(gzip.compress(binary, 6, mtime=0)))):
            sizes.setdefault(k, []).append(v)
    for k, v in sizes.items():
        print(f"  {k:24s} mean {np.mean(v):8,.0f}  max {max(v):8,}")
    return {"page_bytes_mean": np.mean(sizes[f"binary gzip {coder} {level}"]),
            "page_bytes_max": max(sizes[f"binary gzip {coder} {level}"])}


def one_client_report(model: Path, n: int, digits, pngs, pixels, page_pngs) -> dict:
    server = Server(model)
    try:
        one_client(server.port, "POST", "/api/forward", page_pngs, 100, accept=BINARY)
        rss_100 = server.rss_mb()
        print("\n== one client, keep-alive, default serve (1 worker), 10 interleaved rounds (ms; "
              "'cpu' = server CPU time per request; bytes = the last answer as sent) ==")
        print(f"  {'request':40s} {'p50':>7s} {'p99':>7s} {'x health':>9s} "
              f"{'cpu':>6s} {'x health':>9s} {'bytes':>8s}")
        kinds = (("GET /api/health", "GET", [], True, None),
                 ("page: gray+alpha PNG, binary answer", "POST", page_pngs, True, BINARY),
                 ("  same body, JSON answer", "POST", page_pngs, True, None),
                 ("28x28 pixels, JSON answer", "POST", pixels, True, None),
                 ("  same body, binary answer", "POST", pixels, True, BINARY),
                 ("280x280 RGBA PNG, JSON answer", "POST", pngs, True, None),
                 ("112x112 pixels, JSON answer", "POST", pad_pixels(digits), True, None))
        # Interleaved rounds, so a change in the machine's load touches every kind alike.
        rounds = 10
        acc = {k[0]: ([], 0, 0.0) for k in kinds}
        for _ in range(rounds):
            for label, method, payloads, gz, accept in kinds:
                path = "/api/health" if method == "GET" else "/api/forward"
                cpu0 = server.cpu_s()
                t, size = one_client(server.port, method, path, payloads, max(1, n // rounds),
                                     gzip_ok=gz, accept=accept)
                times, _, cpu = acc[label]
                acc[label] = (times + t, size, cpu + server.cpu_s() - cpu0)
        rows = [(label, t, size, cpu * 1e3 / len(t)) for label, (t, size, cpu) in acc.items()]
        base, base_cpu = pct(rows[0][1], 50), rows[0][3]
        for label, t, size, cpu in rows:
            print(f"  {label:40s} {pct(t, 50):7.2f} {pct(t, 99):7.2f} {pct(t, 50) / base:9.1f} "
                  f"{cpu:6.2f} {cpu / base_cpu:9.1f} {size:8,}")
        sizes = {"RGBA PNG": pngs, "page's PNG": page_pngs, "28x28 pixels": pixels}
        print("  request bodies (mean bytes uploaded per stroke): " + ", ".join(
            f"{k} {np.mean([len(b) for b in v]):,.0f}" for k, v in sizes.items()))
        served = 100 + sum(len(r[1]) for r in rows)
        extra = max(0, 10_000 - served)
        if extra:
            one_client(server.port, "POST", "/api/forward", page_pngs + pixels, extra,
                       accept=BINARY)
            served += extra
        rss_10k = server.rss_mb()
        print(f"\n== memory (1 worker) ==\n  RSS after 100 requests: {rss_100:.1f} MB; after "
              f"{served:,}: {rss_10k:.1f} MB ({(rss_10k / rss_100 - 1) * 100:+.1f}%)")
        return {"page_cpu_x": rows[1][3] / base_cpu, "pixels_cpu_x": rows[3][3] / base_cpu,
                "health_cpu": base_cpu, "page_cpu": rows[1][3], "pixels_cpu": rows[3][3]}
    finally:
        server.stop()


def class_report(model: Path, spec: str, bodies: dict, kind: str, rate: float, seconds: float,
                 accept: str | None) -> dict:
    students, _, workers = spec.partition("@")
    students = int(students)
    mode = None if workers in ("", "1", "default") else workers
    server = Server(model, None if mode is None else mode if mode == "classroom" else int(mode))
    try:
        one_client(server.port, "POST", "/api/forward", bodies[kind], 50, accept=accept)
        before, cpu0 = server.rss_mb(), server.cpu_s()
        lat, errors, wall = run_class(server.port, bodies[kind], students, rate, seconds, accept)
        after, cpu = server.rss_mb(), server.cpu_s() - cpu0
    finally:
        server.stop()
    asked = students * rate * seconds
    what = {None: "default serve (1 worker)",
            "classroom": f"--classroom (one worker per CPU: {os.cpu_count()})"}
    print(f"\n== a class: {students} students x {rate:g}/s for {seconds:g} s, "
          f"{what.get(mode, f'--workers {mode}')}, {kind} bodies, "
          f"{'binary' if accept else 'JSON'} answers, gzip ==")
    print(f"  answered {len(lat):,} of {asked:,.0f} in {wall:.1f} s = {len(lat) / wall:.0f} req/s;"
          f" skipped while waiting (latest wins) {run_class.skipped:,}; errors {len(errors)}"
          f"{' ' + str(errors[:3]) if errors else ''}")
    print(f"  latency from scheduled send (ms): p50 {pct(lat, 50):.1f}  p90 {pct(lat, 90):.1f}  "
          f"p99 {pct(lat, 99):.1f}  max {max(lat) if lat else float('nan'):.1f}")
    print(f"  server CPU {cpu:.1f} s = {cpu * 1e3 / max(len(lat), 1):.2f} ms per request "
          f"({cpu / wall * 100:.0f}% of one core); the load generator used "
          f"{run_class.client_cpu / wall * 100:.0f}% of one core")
    print(f"  server RSS {before:.1f} MB before, {after:.1f} MB after; load average now "
          f"{os.getloadavg()[0]:.1f}")
    return {"students": students, "mode": mode, "p99": pct(lat, 99), "errors": len(errors),
            "skipped": run_class.skipped}


# ---------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model")
    ap.add_argument("--requests", type=int, default=1000, help="one-client requests per kind")
    ap.add_argument("--classes", default="40@default,120@classroom",
                    help="comma-separated STUDENTS@MODE, MODE = default (no flags: 1 worker), "
                         "classroom (--classroom) or a worker count; empty: none")
    ap.add_argument("--rate", type=float, default=10, help="forwards per student per second")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--class-body", choices=["page", "png-rgba", "pixels112", "pixels28"],
                    default="pixels28", help="what each student sends (default: 28x28 JSON "
                    "pixels, the issue's classroom script; page: the page's PNG)")
    ap.add_argument("--class-binary", action="store_true",
                    help="students ask for the binary answer, as the page does")
    ap.add_argument("--skip-in-process", action="store_true")
    ap.add_argument("--skip-one-client", action="store_true")
    args = ap.parse_args(argv)

    model, origin = model_path(args)
    digits, pngs, pixels, page_pngs = bodies()
    print(f"model: {model} ({origin}); {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start (other work on the machine skews every figure)")
    got: dict = {}
    if not args.skip_one_client:
        got.update(one_client_report(model, args.requests, digits, pngs, pixels, page_pngs))
    if not args.skip_in_process:
        got.update(in_process(model, page_pngs[7], pixels[7], digits))
    class_bodies = {"page": page_pngs, "png-rgba": pngs, "pixels28": pixels,
                    "pixels112": pad_pixels(digits)}
    classes = [class_report(model, spec, class_bodies, args.class_body, args.rate, args.seconds,
                            BINARY if args.class_binary else None)
               for spec in args.classes.split(",") if spec]

    print("\n== the issue's targets (issue 12) beside this run ==")
    rows = []
    if "page_bytes_mean" in got:
        rows.append(("page forward on the wire", "<= 20 KB",
                     f"{got['page_bytes_mean'] / 1000:.1f} KB mean, "
                     f"{got['page_bytes_max'] / 1000:.1f} KB max", got["page_bytes_max"] <= 20_000))
    if "page_cpu_x" in got:
        rows.append(("server CPU per page forward", "<= 2.5x health",
                     f"{got['page_cpu_x']:.1f}x ({got['page_cpu']:.2f} vs "
                     f"{got['health_cpu']:.2f} ms)", got["page_cpu_x"] <= 2.5))
        rows.append(("server CPU per 28x28 JSON forward", "<= 3x health",
                     f"{got['pixels_cpu_x']:.1f}x ({got['pixels_cpu']:.2f} ms)",
                     got["pixels_cpu_x"] <= 3))
    for c in classes:
        target = 50 if c["mode"] is None else 100
        rows.append((f"{c['students']} students, {c['mode'] or 'default serve'}",
                     f"0 errors, p99 <= {target} ms",
                     f"{c['errors']} errors, p99 {c['p99']:.1f} ms",
                     c["errors"] == 0 and c["p99"] <= target))
    for name, target, measured, ok in rows:
        print(f"  {name:36s} {target:22s} {measured:34s} {'met' if ok else 'NOT met'}")
    print(f"  load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
