"""Learn view figures (issue 6), printed side by side in one run.

    python bench/learn.py                     # the shipped model + history if present
    python bench/learn.py --model /path/to/model.npz --repeat 200

  1. engine only: engine.gradient.learn for one digit, 1 step and 20 steps (p50, p90);
  2. serialisation: the /api/gradient payload, `full` vs `outer` dense gradients, bytes raw and
     gzipped (the app's level) and the time to write each;
  3. over HTTP on loopback (uvicorn in its own process, one keep-alive connection, gzip):
     POST /api/gradient 1 step (outer, full) and 20 steps (outer); GET /api/history and
     POST /api/history/forward (every snapshot at once) with their sizes;
  4. the history scrubber in headless Chromium: seek to the next snapshot every animation
     frame for N frames; frames per second and the paint time per frame (performance marks
     'learn-scrub-paint' set by views/learnhistory.js).
Targets: gradient p50 ≤ 10 ms (1 step) and ≤ 100 ms (20 steps); scrubbing ≥ 30 fps.
Figures on the shared 2-core machine are noisy while other work runs: read the ratios.
Without a shipped history, a tiny real run (the 200 sample digits) stands in for it.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(xs, q):
    return float(np.percentile(np.asarray(xs) * 1e3, q))


def line(name, xs, target=None):
    extra = f"   target ≤ {target} ms: {'ok' if pct(xs, 50) <= target else 'MISSED'}" if target else ""
    print(f"  {name:<44} p50 {pct(xs, 50):7.2f} ms   p90 {pct(xs, 90):7.2f} ms{extra}")


def model_with_history(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    shipped = ROOT / "models" / "lenet-mnist.npz"
    if shipped.is_file() and shipped.with_name("lenet-mnist.history.npz").is_file():
        return shipped
    print("(no shipped model + history: training a tiny stand-in on the 200 sample digits)")
    from tests.browser.test_learn import tiny_models
    return tiny_models(Path(tempfile.mkdtemp(prefix="convscope-learn-")))


def digit_body():
    with np.load(ROOT / "models" / "samples.npz") as f:
        d = f["images"][3, 0]
    return d, {"pixels": d.ravel().tolist(), "width": 28, "height": 28}


def engine_figures(model: Path, repeat: int):
    from engine.gradient import learn
    from engine.network import Network
    from engine.preprocess import preprocess
    net = Network.load(model)
    digit, _ = digit_body()
    x = preprocess(digit).input
    print("1. engine.gradient.learn (float64 copy, one 32×32 digit)")
    for steps, target in ((1, 10), (20, 100)):
        times = []
        for _ in range(repeat if steps == 1 else max(10, repeat // 5)):
            t = time.perf_counter()
            learn(net, x, 5, 0.01, steps)
            times.append(time.perf_counter() - t)
        line(f"{steps} step{'s' if steps > 1 else ''}", times, target)
    return net, x


def payload_figures(net, x, level: int):
    from app.responses import dumps
    from app.routes.gradient import gradient_payload
    from engine.gradient import learn
    result = learn(net, x, 5, 0.01, 1)
    print(f"2. /api/gradient payload (gzip level {level})")
    for mode in ("full", "outer"):
        times, gz = [], []
        for _ in range(20):
            t = time.perf_counter()
            body = dumps(gradient_payload(result, mode))
            times.append(time.perf_counter() - t)
            t = time.perf_counter()
            packed = gzip.compress(body, compresslevel=level, mtime=0)
            gz.append(time.perf_counter() - t)
        print(f"  {mode:<6} {len(body) / 1024:7.0f} kB raw, {len(packed) / 1024:6.0f} kB gzipped; "
              f"write p50 {pct(times, 50):5.2f} ms, gzip p50 {pct(gz, 50):5.2f} ms")


def serve(model: Path):
    """The app in its own process (as students get it), on a free port."""
    import os
    import subprocess
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "CONVSCOPE_MODEL": str(model), "CONVSCOPE_EXTRA_MODELS": ""}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
                             "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    from app.config import Settings
    return proc, port, Settings()


def http_figures(port: int, repeat: int):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    _, body = digit_body()
    headers = {"content-type": "application/json", "accept-encoding": "gzip"}

    def call(method, path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        t = time.perf_counter()
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        elapsed = time.perf_counter() - t
        assert resp.status == 200, (resp.status, raw[:200])
        return elapsed, len(raw)

    print("3. over HTTP (loopback, keep-alive, gzip accepted)")
    cases = [("gradient 1 step, dense_weights=outer (page)", {"dense_weights": "outer"}, 1, 10),
             ("gradient 1 step, dense_weights=full", {"dense_weights": "full"}, 1, 10),
             ("gradient 20 steps, outer", {"dense_weights": "outer"}, 20, 100)]
    for name, extra, steps, target in cases:
        times = []
        for i in range(repeat if steps == 1 else max(10, repeat // 5)):
            elapsed, size = call("POST", "/api/gradient", {**body, "target": 5,
                                 "learning_rate": 0.01, "steps": steps, **extra})
            if i:                      # the first call warms caches
                times.append(elapsed)
        line(f"{name} ({size / 1024:.0f} kB)", times, target)
    times = [call("GET", "/api/history")[0] for _ in range(10)]
    line(f"GET /api/history ({call('GET', '/api/history')[1] / 1024:.0f} kB)", times)
    call("POST", "/api/history/forward", body)         # builds the snapshot networks once
    times, size = [], 0
    for _ in range(10):
        elapsed, size = call("POST", "/api/history/forward", body)
        times.append(elapsed)
    line(f"POST /api/history/forward, all snapshots ({size / 1024:.0f} kB)", times)


SCRUB = """async (frames) => {
  const h = window.convscope.learn.history;
  const count = Number(document.querySelector('#learn-h-slider').max) + 1;
  performance.clearMeasures('learn-scrub-paint');
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    await new Promise((r) => requestAnimationFrame(r));
    h.seek((i + 1) % count);
  }
  await new Promise((r) => requestAnimationFrame(r));
  const elapsed = performance.now() - t0;
  const paints = performance.getEntriesByName('learn-scrub-paint').map((e) => e.duration);
  return {elapsed, frames, paints, count};
}"""


def scrub_figures(port: int, frames: int):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("4. scrubbing: playwright not installed, skipped")
        return
    _, body = digit_body()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_function("() => window.convscope && window.convscope.store.get().trace")
        page.evaluate("(b) => window.convscope.live.submit(b)", body)
        page.wait_for_function("() => window.convscope.live.idle")
        page.click("#tab-learn")
        page.wait_for_function("() => window.convscope.learn && window.convscope.learn.history.ready",
                               timeout=30_000)
        page.locator("#learn-h-slider").scroll_into_view_if_needed()
        r = page.evaluate(SCRUB, frames)
        browser.close()
    fps = r["frames"] / (r["elapsed"] / 1000)
    paints = np.asarray(r["paints"])
    print(f"4. history scrubbing in headless Chromium ({r['count']} snapshots, {frames} frames, "
          f"one seek per animation frame)")
    print(f"  {fps:5.1f} frames/s (target ≥ 30: {'ok' if fps >= 30 else 'MISSED'}); paint per frame "
          f"p50 {np.median(paints):.2f} ms, p90 {np.percentile(paints, 90):.2f} ms, max "
          f"{paints.max():.2f} ms (paint-bound fps {1000 / np.median(paints):.0f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="model .npz with <stem>.history.npz beside it")
    ap.add_argument("--repeat", type=int, default=100)
    ap.add_argument("--frames", type=int, default=180)
    args = ap.parse_args()
    model = model_with_history(args.model)
    print(f"model {model}")
    net, x = engine_figures(model, args.repeat)
    proc, port, settings = serve(model)
    try:
        payload_figures(net, x, settings.gzip_level)
        http_figures(port, args.repeat)
        scrub_figures(port, args.frames)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
