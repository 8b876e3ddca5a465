"""Lab figures: the /api/convolve round trip and step mode's frame rate, printed with targets.

    python bench/lab.py [--quick] [--no-browser]

- Round trip (target p50 ≤ 3 ms): a 32×32 map and a 5×5 kernel POSTed to a real uvicorn in a
  separate process on loopback, keep-alive client, with and without gzip; the engine's own
  time beside it, and the response sizes (with the per-position products of step mode too).
- Step mode (target ≥ 30 fps): headless Debian Chromium, step mode playing at 60 positions/s;
  each painted position leaves a performance mark `lab-step-frame`; frames per second are the
  marks per second, beside requestAnimationFrame's own rate on the same page.
The machine has 2 cores shared with other engineers' work: figures are noisy, medians quoted.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import lab  # noqa: E402

RNG = np.random.default_rng(0)
PIXELS = RNG.integers(0, 256, (32, 32))              # the network input is k/255 (quantised)
IMAGE = (PIXELS * np.float32(1 / 255)).astype(np.float32)
KERNEL = RNG.normal(size=(5, 5)).round(3)


def body(form="pixels", **extra):
    """As the page sends it: the quantised input as bytes (or, for comparison, float values)."""
    data = PIXELS.ravel().tolist() if form == "pixels" else IMAGE.ravel().tolist()
    return {"input": {form: data, "shape": [32, 32]}, "kernel": KERNEL.tolist()} | extra


def percentiles(times):
    t = sorted(times)
    return t[len(t) // 2], t[int(len(t) * 0.9)], t[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_path() -> Path:
    shipped = ROOT / "models" / "lenet-mnist.npz"
    if shipped.is_file():
        return shipped
    from engine.network import build_reference
    path = Path("/tmp/convscope-bench-lab.npz")
    build_reference(seed=0).save(path, {"name": "seeded", "dataset": "mnist",
                                        "classes": [str(d) for d in range(10)],
                                        "accuracy": {"test": 0.1}})
    return path


def start_server():
    port = free_port()
    env = os.environ | {"CONVSCOPE_MODEL": str(model_path()), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--no-access-log"], cwd=ROOT, env=env)
    import httpx
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health").status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("uvicorn did not start within 30 s")


def bench_round_trip(url, n):
    import httpx
    print(f"POST /api/convolve, 32×32 map, 5×5 kernel, loopback, {n} requests (keep-alive)")
    print(f"{'case':<46}{'p50 ms':>9}{'p90 ms':>9}{'min ms':>9}{'bytes':>10}")
    for label, extra, headers in [
        ("stride 1, padding 0, identity encoding", {}, {"accept-encoding": "identity"}),
        ("same, input sent as float values", {"form": "values"}, {"accept-encoding": "identity"}),
        ("stride 1, padding 0, gzip accepted", {}, {"accept-encoding": "gzip"}),
        ("stride 2, padding 1, gzip accepted", {"stride": 2, "padding": 1}, {"accept-encoding": "gzip"}),
        ("+ products (step mode), gzip", {"products": True}, {"accept-encoding": "gzip"}),
        ("+ products (step mode), identity", {"products": True}, {"accept-encoding": "identity"}),
    ]:
        # Encoded once, like the browser's JSON.stringify: only the round trip is timed.
        payload = json.dumps(body(**extra)).encode()
        headers = headers | {"content-type": "application/json"}
        with httpx.Client(headers=headers) as client:
            for _ in range(20):
                r = client.post(url + "/api/convolve", content=payload)
                assert r.status_code == 200, r.text
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                r = client.post(url + "/api/convolve", content=payload)
                times.append((time.perf_counter() - t0) * 1e3)
            size = int(r.headers.get("content-length", len(r.content)))
        p50, p90, lo = percentiles(times)
        print(f"{label:<46}{p50:9.2f}{p90:9.2f}{lo:9.2f}{size:10d}")
    print("target: p50 ≤ 3 ms for the live case (no products)")
    big = body(kernel=np.ones((7, 7)).tolist(), padding=3, products=True)
    with httpx.Client(headers={"accept-encoding": "identity"}) as client:
        size = len(client.post(url + "/api/convolve", json=big).content)
    print(f"largest step-mode answer (7×7, padding 3, stride 1: 32×32×49 products): {size} bytes")


def bench_engine(n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        lab.convolve_map(IMAGE, KERNEL, 1, 0)
        times.append((time.perf_counter() - t0) * 1e3)
    r = lab.convolve_map(IMAGE, KERNEL, 1, 0)
    t0 = time.perf_counter()
    for _ in range(n):
        r.products()
    prod = (time.perf_counter() - t0) * 1e3 / n
    print(f"engine.lab.convolve_map alone: p50 {percentiles(times)[0]:.3f} ms; "
          f"products() {prod:.3f} ms")


def bench_step_mode(url, seconds):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url + "/")
        page.wait_for_function("() => window.convscope && window.convscope.store.get().trace")
        box = page.locator("#pad").bounding_box()
        page.mouse.move(box["x"] + 60, box["y"] + 60)
        page.mouse.down()
        page.mouse.move(box["x"] + 200, box["y"] + 60, steps=10)
        page.mouse.move(box["x"] + 120, box["y"] + 240, steps=10)
        page.mouse.up()
        page.wait_for_timeout(500)
        page.click("#tab-lab")
        page.wait_for_selector("#view-lab[data-ready]")
        page.select_option("#lab-kernel", "classic:gaussian_blur_5")
        page.click(".lab-step-toggle")
        page.wait_for_function("() => { const s = document.querySelector('.lab-mini.prod span');"
                            " return !!s && !s.textContent.includes('…'); }")
        page.select_option(".lab-rate", "60")
        result = page.evaluate("""async (ms) => {
            performance.clearMarks('lab-step-frame');
            performance.clearMeasures('lab-step-draw');
            let raf = 0; const t0 = performance.now();
            const count = () => { raf++; if (performance.now() - t0 < ms) requestAnimationFrame(count); };
            requestAnimationFrame(count);
            document.querySelector('[data-act=play]').click();
            await new Promise((r) => setTimeout(r, ms));
            document.querySelector('[data-act=play]').click();
            const marks = performance.getEntriesByName('lab-step-frame');
            const gaps = marks.slice(1).map((m, i) => m.startTime - marks[i].startTime).sort((a, b) => a - b);
            const draws = performance.getEntriesByName('lab-step-draw').map((m) => m.duration).sort((a, b) => a - b);
            return {frames: marks.length, raf, seconds: ms / 1000, draw50: draws[Math.floor(draws.length / 2)],
                    p50gap: gaps[Math.floor(gaps.length / 2)], p95gap: gaps[Math.floor(gaps.length * 0.95)]};
        }""", int(seconds * 1000))
        browser.close()
    fps = result["frames"] / result["seconds"]
    print(f"step mode in headless Chromium, 5×5 kernel, 60 positions/s for {seconds:g} s: "
          f"{fps:.1f} painted frames/s (rAF itself {result['raf'] / result['seconds']:.1f}/s); "
          f"frame gap p50 {result['p50gap']:.1f} ms, p95 {result['p95gap']:.1f} ms; "
          f"drawing one position p50 {result['draw50']:.2f} ms; target ≥ 30 fps")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    n = 100 if args.quick else 500
    bench_engine(n)
    proc, url = start_server()
    try:
        bench_round_trip(url, n)
        if not args.no_browser:
            bench_step_mode(url, 2 if args.quick else 4)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
