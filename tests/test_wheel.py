"""The built wheel carries static/, templates/ and models/ (inside the `app` package) and every
module of app/ and engine/, and a server started from it, with this repository nowhere on the
path, answers the page, a static module, the model and a forward pass.

The wheel is built from a copy of the files git knows (tracked or new, not ignored), without
build isolation (offline, the installed setuptools), and unpacked with `pip install --target`
instead of a fresh venv so the test takes seconds; .ci/run also installs it into a fresh venv
with its dependencies and runs tests/wheel_smoke.py against `convscope serve` there.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests import wheel_smoke

ROOT = Path(__file__).resolve().parent.parent
DATA = ("static", "templates", "models")


def _known_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                              "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"needs git to list the repository's files ({exc})")
    return [f for f in out.stdout.decode().split("\0") if f and (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for f in _known_files():
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(out), str(src)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    (built,) = out.glob("convscope-*.whl")
    return built


def test_the_wheel_carries_the_page_the_models_and_every_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    known = _known_files()
    wanted = {f"app/{f}" for f in known if f.split("/")[0] in DATA}
    wanted |= {f for f in known if f.startswith(("app/", "engine/")) and f.endswith(".py")}
    assert {"app/static/js/main.js", "app/templates/index.html",
            "app/models/lenet-mnist.npz"} <= wanted
    missing = sorted(wanted - names)
    assert not missing, f"the wheel lacks {missing[:20]}"
    strays = sorted(n for n in names if n.startswith(("tests/", "bench/", "static/", "models/"))
                    or "__pycache__" in n)
    assert not strays, f"the wheel should not carry {strays[:20]}"


def test_a_server_from_the_unpacked_wheel_answers(wheel, tmp_path):
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                        str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    for k in [k for k in env if k.startswith("CONVSCOPE_")]:
        del env[k]
    empty = tmp_path / "cwd"
    empty.mkdir()
    where = subprocess.run([sys.executable, "-c", "import app.config as c; print(c.ROOT)"],
                           env=env, cwd=empty, capture_output=True, text=True, timeout=60)
    assert where.stdout.strip() == str(site / "app"), where.stdout + where.stderr
    assert wheel_smoke.cli_defaults([sys.executable, "-m", "app.cli"], env=env, cwd=str(empty)) == []
    proc, base = wheel_smoke.start([sys.executable, "-m", "app.cli"], env=env, cwd=str(empty))
    assert wheel_smoke.finish(proc, base) == 0
