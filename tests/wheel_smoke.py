"""Smoke-test an installed ConvScope: start `convscope serve` on a free port and check that
the page, a static module, the model, a forward pass and the offline /docs answer.

    python tests/wheel_smoke.py /path/to/venv/bin/convscope

Run by .ci/run against the built wheel in a fresh venv, and by tests/test_wheel.py against
the wheel unpacked with `pip install --target`. Standard library only, so it runs under the
venv's Python with nothing of this repository importable; the server starts in an empty
temporary directory, so nothing is found through the working directory either.
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

DIGIT = [0] * 784
for y in range(6, 22):               # a vertical stroke: a "1"
    for x in (13, 14):
        DIGIT[y * 28 + x] = 255


def _fetch(url: str, body: dict | None = None) -> tuple[int, dict, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def start(command: list[str], env: dict | None = None, cwd: str | None = None):
    """Start the server on a free port; return (process, base URL)."""
    proc = subprocess.Popen([*command, "serve", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        if m:
            return proc, m.group(1).rstrip("/")
    proc.kill()
    raise SystemExit("the server did not start:\n" + "".join(lines) + proc.stderr.read())


def check(base: str) -> list[str]:
    """Every failed check, described (empty when all pass)."""
    failures = []
    deadline = time.monotonic() + 30
    while True:
        try:
            _fetch(base + "/api/health")
            break
        except OSError:
            if time.monotonic() > deadline:
                return ["/api/health never answered"]
            time.sleep(0.2)
    status, headers, page = _fetch(base + "/")
    if status != 200 or b'src="/static/js/main.js"' not in page:
        failures.append(f"GET / -> {status}: {page[:200]!r}")
    for asset in ("/static/js/main.js", "/static/css/app.css", "/docs-assets/swagger-ui.css"):
        status, headers, body = _fetch(base + asset)
        if status != 200 or len(body) < 100:
            failures.append(f"GET {asset} -> {status}, {len(body)} bytes")
    status, _, raw = _fetch(base + "/api/model")
    model = json.loads(raw)
    if status != 200 or not model.get("layers"):
        failures.append(f"GET /api/model -> {status}: {raw[:200]!r}")
    status, _, raw = _fetch(base + "/api/forward", {"pixels": DIGIT, "width": 28, "height": 28})
    out = json.loads(raw)
    probs = out.get("probabilities", [])
    if status != 200 or len(probs) != len(model.get("classes", [])) or abs(sum(probs) - 1) > 1e-4:
        failures.append(f"POST /api/forward -> {status}: {raw[:200]!r}")
    status, _, raw = _fetch(base + "/api/models")
    if status != 200 or len(json.loads(raw)) < 1:
        failures.append(f"GET /api/models -> {status}")
    return failures


def cli_defaults(command: list[str], env: dict | None = None, cwd: str | None = None) -> list[str]:
    """`convscope train` must never default to writing into the installed package (it would
    overwrite the shipped model inside site-packages): its --out is relative to where it runs.
    `convscope evaluate` defaults to the model `serve` shows, which must exist."""
    import os
    env = {**(env or os.environ), "COLUMNS": "500"}     # argparse's help on one line per option

    def default(sub: str, option: str) -> str:
        out = subprocess.run([*command, sub, "--help"], capture_output=True, text=True, env=env,
                             cwd=cwd, timeout=60).stdout
        m = re.search(rf"{option} \S+ .*?\(default ([^)]*)\)", out)
        return m.group(1) if m else f"<no default in: {out!r}>"

    failures = []
    out = default("train", "--out")
    if out != "models/lenet-mnist.npz":
        failures.append(f"convscope train --out defaults to {out}, not ./models/lenet-mnist.npz")
    model = default("evaluate", "--model")
    from pathlib import Path
    if not Path(model).is_file():
        failures.append(f"convscope evaluate --model defaults to {model}, which is not a file")
    return failures


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as empty:
        failures = cli_defaults(argv, cwd=empty)
        for f in failures:
            print(f"wheel smoke: FAILED {f}", file=sys.stderr)
        proc, base = start(argv, cwd=empty)
        return finish(proc, base) or (1 if failures else 0)


def finish(proc, base: str) -> int:
    """Run the checks, stop the server, print the verdict; 0 when all passed."""
    try:
        failures = check(base)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    for f in failures:
        print(f"wheel smoke: FAILED {f}", file=sys.stderr)
    if not failures:
        print(f"wheel smoke: {base}: /, /static, /docs-assets, /api/model, /api/models, "
              "/api/forward all answered")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
