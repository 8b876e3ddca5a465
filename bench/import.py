"""Imported models' figures, side by side in one run (issue 14).

    python bench/import.py                 # needs torch, onnx, onnxruntime; Chromium for 3.

1. `convscope import` of each test architecture (tests/import_nets.py, exported to ONNX with
   torch.onnx.export): read + verify against ONNX Runtime on 4 inputs + write, in seconds,
   with the worst stage difference (relative to the stage's largest |value|). Loading the onnx
   and onnxruntime modules themselves is timed apart (once per process).
2. A real `convscope serve` with the shipped LeNet and the imported Tiny VGG (64×64×3):
   one keep-alive client, rounds interleaved so machine load hits both alike; POST
   /api/forward with the page's own body (LeNet: the 280×280 gray + alpha pad PNG; Tiny VGG:
   the 280×280 canvas of a picture as JPEG q 0.92), JSON (gzip) and the page's binary wire
   (Accept: application/octet-stream), against GET /api/health; p50s and ratios.
3. Page repaint in headless Chromium: the network view's own measure (`net-repaint`) and
   every view's (`trace-apply`) for the same trace re-applied 30 times, per model.
The machine is shared (2 cores, other work running): read the ratios.
"""
from __future__ import annotations

import base64
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import Server, one_client, pad_ink_png, pct  # noqa: E402


def import_figures(folder: Path) -> dict:
    from tests import import_nets
    t = time.perf_counter()
    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401
    print(f"loading onnx + onnxruntime: {time.perf_counter() - t:.2f} s (once per process)")
    from engine.commands import import_model
    print(f"{'model':<11} {'stages':>6} {'import+verify':>14} {'worst rel. diff':>16}")
    paths = {}
    for name in import_nets.SHAPES:
        onnx_path = folder / f"{name}.onnx"
        import_nets.export_onnx(import_nets.build(name), name, onnx_path)
        options = {}
        if name == "tinyvgg":
            options = {"classes": ",".join(import_nets.CLASSES[name]),
                       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
        t = time.perf_counter()
        net, checks, _ = import_model(onnx_path, folder / f"{name}.npz", log=lambda _: None,
                                      **options)
        seconds = time.perf_counter() - t
        worst = max(c.relative for c in checks)
        print(f"{name:<11} {len(net.stages):>6} {seconds:>12.2f} s {worst:>16.1e}")
        paths[name] = folder / f"{name}.npz"
    return paths


def bodies():
    with np.load(ROOT / "models" / "samples.npz") as f:
        digit = f["images"][7, 0]
    lenet = b'{"image": "data:image/png;base64,' + base64.b64encode(pad_ink_png(digit)) + b'"}'
    yy, xx = np.mgrid[0:280, 0:280]
    photo = np.stack([(xx * 0.9) % 256, (yy * 0.8) % 256, (xx + yy) * 0.45 % 256], -1)
    photo = (photo + np.random.default_rng(0).normal(0, 12, photo.shape)).clip(0, 255)
    buf = io.BytesIO()     # as the page sends a picture: the pad canvas as JPEG, quality 0.92
    Image.fromarray(photo.astype(np.uint8), "RGB").save(buf, "JPEG", quality=92)
    vgg = b'{"image": "data:image/jpeg;base64,' + base64.b64encode(buf.getvalue()) + b'"}'
    return lenet, vgg


def request_figures(paths: dict, rounds: int = 6, per_round: int = 25) -> tuple[int, Server]:
    lenet_body, vgg_body = bodies()
    # bench/api.py's server (a real `convscope serve` process): --model repeated serves the
    # shipped LeNet (the default) and the imported Tiny VGG.
    server = Server(Path(f"{ROOT / 'models' / 'lenet-mnist.npz'}"), 1,
                    more=["--model", str(paths["tinyvgg"])])
    rows = {k: [] for k in ("health", "lenet json", "tinyvgg json", "lenet binary",
                            "tinyvgg binary")}
    sizes = {}
    for _ in range(rounds):
        rows["health"] += one_client(server.port, "GET", "/api/health", [], per_round)[0]
        for label, path, body in (("lenet", "/api/forward", lenet_body),
                                  ("tinyvgg", "/api/forward?model=tinyvgg", vgg_body)):
            t, sizes[f"{label} json"] = one_client(server.port, "POST", path, [body], per_round)
            rows[f"{label} json"] += t
            t, sizes[f"{label} binary"] = one_client(server.port, "POST", path, [body], per_round,
                                                         accept="application/octet-stream")
            rows[f"{label} binary"] += t
    health = pct(rows["health"], 50)
    print(f"\none client, {rounds} interleaved rounds of {per_round}; p50 / p99 ms, "
          f"response bytes (gzip)")
    for label, times in rows.items():
        p50 = pct(times, 50)
        extra = ""
        if label != "health":
            base = pct(rows["lenet " + label.split()[1]], 50)
            extra = f"  {sizes[label]:>8} B  ×{p50 / health:5.1f} health  ×{p50 / base:4.1f} LeNet"
        print(f"  {label:<15} {p50:7.2f} {pct(times, 99):7.2f}{extra}")
    return server.port, server


def repaint_figures(port: int, samples: int = 30) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("\n(playwright not installed: no repaint figures)")
        return
    print(f"\npage repaint in headless Chromium, median of {samples} (ms)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        for mid, path in (("lenet-mnist", "/"), ("tinyvgg", "/?model=tinyvgg")):
            page.goto(f"http://127.0.0.1:{port}{path}")
            page.wait_for_function("() => window.convscope && window.convscope.store.get().trace",
                                   timeout=30_000)
            res = page.evaluate("""async (n) => {
              const cs = window.convscope, t = cs.store.get().trace;
              await new Promise((r) => setTimeout(r, 300));
              performance.clearMeasures();
              const apply = [];
              for (let i = 0; i < n; i++) {
                const t0 = performance.now();
                cs.store.set({ trace: { ...t } });      // every view repaints synchronously
                apply.push(performance.now() - t0);
                await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
              }
              const net = performance.getEntriesByName('net-repaint').map((m) => m.duration);
              return { net, apply, values: t.layers.reduce((s, l) => s + l.values.length, 0) };
            }""", samples)
            net = statistics.median(res["net"]) if res["net"] else float("nan")
            apply = statistics.median(res["apply"]) if res["apply"] else float("nan")
            print(f"  {mid:<12} {res['values']:>7} values  network view {net:6.2f}  "
                  f"all views {apply:6.2f}")
        browser.close()


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="convscope-import-"))
    paths = import_figures(folder)
    port, server = request_figures(paths)
    try:
        repaint_figures(port)
    finally:
        server.stop()
    print("\n(machine shared with other work: compare the ratios, not the milliseconds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
