"""The page's main-thread costs and stroke-to-network latency, in headless Chromium.

    python bench/page.py [--strokes 3] [--hovers 300]

Starts the app (the shipped model, or a seeded stand-in: the timings do not depend on the
weights) under uvicorn in its own process on loopback (or uses --url), opens the page at 1280×720 and reads the performance
measures the page itself records:
  net-repaint        the network canvas repainted after a forward response   (target ≤ 8 ms median)
  trace-apply        every view updated for a new trace (network, strip, panel, legend)
  net-hover          the hover highlight redrawn                              (target ≤ 4 ms median)
  hover-apply        everything a hover changes: highlight, pending panel, pad outline, legend
  stroke-to-network  pointer event -> network repainted with it, while drawing (target ≤ 30 ms median)
     = input-delay (event to handler) + forward-roundtrip (fetch + parse) + encode + trace-apply,
       plus the wait for the request in flight when the drawing changed during it
Strokes are drawn at ~60 pointer events per second, as a hand does. Every way of sending the
drawing is measured: the pad as a gray + alpha PNG (the default, static/js/png.js), the
canvas's own RGBA toDataURL PNG, and a downscaled 112×112 pixel array.
The machine has 2 cores shared with other engineers' work: figures are medians and still noisy.
"""
from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import sys
import tempfile
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_server():
    """`uvicorn app.main:create_app` in its own process on a free loopback port.

    Its own process, as in class: a server thread inside this process would share the GIL with
    Playwright's client and measured ~3× slower round trips (55 ms instead of 17 ms)."""
    model = ROOT / "models" / "lenet-mnist.npz"
    if not model.is_file():
        from engine.network import Network
        from engine.spec import REFERENCE_SPEC
        model = Path(tempfile.mkdtemp()) / "seeded.npz"
        Network(REFERENCE_SPEC, seed=0).save(model, {"name": "seeded", "dataset": "mnist",
                                                     "classes": [str(d) for d in range(10)],
                                                     "accuracy": {"test": 0.1}})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env={**os.environ, "CONVSCOPE_MODEL": str(model)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=1):
                return proc, url, model.name
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not start within 30 s")


NAMES = ("stroke-to-network", "input-delay", "forward-roundtrip", "encode", "trace-apply", "net-repaint")


def measures(page, name):
    return page.evaluate("(n) => performance.getEntriesByName(n).map(e => e.duration)", name)


def settle(page):
    page.wait_for_function("""() => { const c = window.convscope, s = c.store.get();
        return !c.pad.pending && c.live.idle && s.trace && s.trace.body === s.drawing; }""")


def draw(page, strokes):
    box = page.locator("#pad").bounding_box()
    at = lambda x, y: (box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280)
    for k in range(strokes):
        page.click("#pad-clear")
        settle(page)
        page.evaluate("() => performance.clearMeasures()")
        pts = [(140 + 70 * math.sin(a), 140 - 100 * math.cos(a)) for a in
               (2 * math.pi * i / 90 for i in range(91))]
        page.mouse.move(*at(*pts[0]))
        page.mouse.down()
        for p in pts[1:]:
            page.mouse.move(*at(*p))
            page.wait_for_timeout(16)
        page.mouse.up()
        settle(page)
        yield {n: measures(page, n) for n in NAMES}


def hover(page, n):
    page.evaluate("() => performance.clearMeasures()")
    cols = page.evaluate("""() => window.convscope.net.layout.columns.map(c => ({x: c.x, y: c.y, w: c.w, h: c.h}))""")
    net = page.locator("#net").bounding_box()
    for i in range(n):
        c = cols[i % len(cols)]
        f = (i * 0.618) % 1
        page.mouse.move(net["x"] + c["x"] + c["w"] * f, net["y"] + c["y"] + c["h"] * ((i * 0.377) % 1))
    return measures(page, "net-hover"), measures(page, "hover-apply")


def summary(xs):
    if not xs:
        return "no samples"
    xs = sorted(xs)
    return f"median {statistics.median(xs):6.2f} ms   p90 {xs[int(0.9 * (len(xs) - 1))]:6.2f} ms   n={len(xs)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strokes", type=int, default=3)
    ap.add_argument("--hovers", type=int, default=300)
    ap.add_argument("--url", help="measure an already running server (e.g. `convscope serve` in "
                    "its own process) instead of starting one in this process")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    server, url, model = (None, args.url.rstrip("/"), args.url) if args.url else start_server()
    print(f"model {model}; Chromium headless 1280×720, loopback; 2 shared cores: noisy")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        for mode in ("png", "rgba", "pixels"):
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{url}/?send={mode}")
            page.wait_for_function("() => window.convscope && window.convscope.store.get().trace")
            got = {k: [] for k in NAMES}
            for m in draw(page, args.strokes):
                for k, v in m.items():
                    got[k] += v
            stats = page.evaluate("() => window.convscope.live.stats.forward")
            print(f"\nsend = {mode}: {stats['sent']} forwards sent, {stats['skipped']} drawings skipped (latest wins)")
            for k in NAMES:
                print(f"  {k:18s} {summary(got[k])}")
            if mode == "png":
                overlay, everything = hover(page, args.hovers)
                print(f"  {'net-hover':18s} {summary(overlay)}")
                print(f"  {'hover-apply':18s} {summary(everything)}")
            page.close()
        browser.close()
    if server:
        server.terminate()
        server.wait(10)
    print("\ntargets: net-repaint ≤ 8 ms, net-hover ≤ 4 ms, stroke-to-network ≤ 30 ms (medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
