"""Stroke-to-network on a phone: 390×844, touch, and the CPU throttled 4× (CDP
Emulation.setCPUThrottlingRate), against the same page unthrottled and a desktop 1280×720 in the
same run (issue 16's figure: ≤ 50 ms median at 4×).

    python bench/phone.py [--strokes 3] [--rate 4]

The server runs in its own process (bench/page.py's start_server) and is NOT throttled: a
phone in class talks to the teacher's laptop. Strokes are real touch drags (CDP
Input.dispatchTouchEvent) at ~60 events a second on the pad. Also printed: a health request's
round trip from the page (the floor any forward pays), so the figures read as ratios on this
loaded 2-core machine, and the input-delay floor: the same touch dispatch on a page that does
nothing but note each pointermove's delay.

input-delay is performance.now() in the pad's handler minus the pointer event's timeStamp. On an
idle page the CDP touch dispatch alone gives ~25-29 ms at ×1 and ×4 alike (CDP mouse moves:
~11 ms): the synthetic touch is stamped when DevTools receives it, then waits for a frame in the
browser and for the renderer's rAF-aligned dispatch on the main thread. A 60 Hz phone also
delivers touch moves vsync-batched and rAF-aligned (about a frame), so the floor is not
subtracted; compare input-delay with it.

Measured 2026-12-02, machine loaded (load 8-14 from other work; health ×4 17-28 ms), before ->
after the stroke-path work in the same session (3 interleaved runs each, medians):
  phone ×4 stroke-to-network 253-294 -> 114-156 ms (encode 45 -> 7, trace-apply 27 -> 7,
  net-repaint 9 -> 3, input-delay 70 -> 57 against a floor of 26); phone ×1 44-65 -> 40-41 ms;
  laptop 52-63 -> 42-46 ms. The 50 ms target at ×4 is not met on this machine: the floor (26) +
  a health round trip at ×4 (17-28) already take most of it.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.page import NAMES, measures, settle, start_server, summary  # noqa: E402


def touch_strokes(page, cdp, strokes):
    box = page.locator("#pad").bounding_box()
    at = lambda x, y: {"x": box["x"] + x * box["width"] / 280, "y": box["y"] + y * box["height"] / 280}
    for _ in range(strokes):
        page.click("#pad-clear")
        settle(page)
        page.evaluate("() => performance.clearMeasures()")
        pts = [(140 + 70 * math.sin(a), 140 - 100 * math.cos(a)) for a in (2 * math.pi * i / 90 for i in range(91))]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at(*pts[0])]})
        for p in pts[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [at(*p)]})
            page.wait_for_timeout(16)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        settle(page)
        yield {n: measures(page, n) for n in NAMES}


IDLE_PAD = """<!doctype html><meta name=viewport content='width=device-width'>
<canvas id=pad style='touch-action:none;width:280px;height:280px;background:#000'></canvas>
<script>window.delays = []; document.getElementById('pad').addEventListener('pointermove',
  (e) => window.delays.push(performance.now() - e.timeStamp));</script>"""


def input_floor(ctx, rate):
    """input-delay on a page that does nothing but note it, with the same CDP touch dispatch and
    throttling: what the figure costs before the app does any work (see the docstring)."""
    page = ctx.new_page()
    page.set_content(IDLE_PAD)
    cdp = ctx.new_cdp_session(page)
    if rate > 1:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    box = page.locator("#pad").bounding_box()
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": box["x"] + 140, "y": box["y"] + 40}]})
    for i in range(1, 61):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": box["x"] + 140 + 70 * math.sin(i / 10), "y": box["y"] + 40 + 3 * i}]})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    delays = page.evaluate("window.delays")
    page.close()
    return statistics.median(delays) if delays else float("nan")


def health_ms(page, n=20):
    return page.evaluate("""async (n) => { const t = [];
        for (let i = 0; i < n; i++) { const t0 = performance.now(); await (await fetch('/api/health')).json(); t.push(performance.now() - t0); }
        t.sort((a, b) => a - b); return t[t.length >> 1]; }""", n)


def run(browser, url, label, viewport, mobile, rate, strokes):
    ctx = browser.new_context(viewport=dict(zip(("width", "height"), viewport)), is_mobile=mobile,
                              has_touch=True, device_scale_factor=2 if mobile else 1)
    page = ctx.new_page()
    page.goto(url + "/")
    page.wait_for_function("() => window.convscope && window.convscope.store.get().trace")
    settle(page)
    cdp = ctx.new_cdp_session(page)
    if rate > 1:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    got = {k: [] for k in NAMES}
    for m in touch_strokes(page, cdp, strokes):
        for k, v in m.items():
            got[k] += v
    health = health_ms(page)
    compact = page.evaluate("document.body.classList.contains('compact')")
    stats = page.evaluate("() => window.convscope.live.stats.forward")
    page.close()
    floor = input_floor(ctx, rate)
    ctx.close()
    med = statistics.median(got["stroke-to-network"]) if got["stroke-to-network"] else float("nan")
    print(f"\n{label}: {viewport[0]}×{viewport[1]}, CPU ×{rate}, {'one stage (phone layout)' if compact else 'whole network'}; "
          f"{stats['sent']} forwards sent, {stats['skipped']} drawings skipped")
    for k in NAMES:
        print(f"  {k:18s} {summary(got[k])}")
    print(f"  {'health round trip':18s} median {health:6.2f} ms   (stroke-to-network = {med / health:.1f}× a health request)")
    print(f"  {'input-delay floor':18s} median {floor:6.2f} ms   (the same touch dispatch on a page doing nothing)")
    return med


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strokes", type=int, default=3)
    ap.add_argument("--rate", type=float, default=4)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    server, url, model = start_server()
    print(f"model {model}; headless Chromium, loopback; 2 cores shared with other work: noisy")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            phone = run(browser, url, "phone, throttled", (390, 844), True, args.rate, args.strokes)
            fast = run(browser, url, "phone, unthrottled", (390, 844), True, 1, args.strokes)
            desk = run(browser, url, "laptop, unthrottled", (1280, 720), False, 1, args.strokes)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print(f"\nstroke-to-network medians: phone ×{args.rate:g} {phone:.1f} ms, phone ×1 {fast:.1f} ms, laptop {desk:.1f} ms "
          f"(throttled / unthrottled = {phone / fast:.2f}); target ≤ 50 ms at ×4")
    return 0


if __name__ == "__main__":
    sys.exit(main())
