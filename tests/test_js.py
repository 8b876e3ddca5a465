"""Runs the JavaScript unit tests (`node --test tests/js/`) as part of `python -m pytest`."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"


def test_node_unit_tests_pass():
    node = shutil.which("node")
    if not JS.is_dir() or node is None:
        pytest.skip("no tests/js directory" if not JS.is_dir() else "node is not installed")
    # A directory, not a quoted glob: Node 20's --test does not expand globs itself.
    proc = subprocess.run([node, "--test", str(JS) + "/"], capture_output=True, text=True,
                          timeout=300, cwd=JS.parent.parent)
    assert proc.returncode == 0, (f"node --test exited {proc.returncode}\n"
                                  f"{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}")
    ran = re.search(r"^# tests (\d+)", proc.stdout, re.MULTILINE)
    assert ran and int(ran.group(1)) > 0, f"node ran no tests:\n{proc.stdout[-3000:]}"
