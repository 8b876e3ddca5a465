"""A missing static/ or templates/ directory stops the start-up with one line naming it,
instead of a server that answers every page with a 500."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from app.config import ROOT, LayoutError


@pytest.mark.parametrize("field, role", [("static_dir", "static"),
                                         ("templates_dir", "templates")])
def test_create_app_refuses_a_missing_directory(settings, tmp_path, field, role):
    from app.main import create_app
    missing = tmp_path / "gone"
    with pytest.raises(LayoutError) as err:
        create_app(replace(settings, **{field: missing}))
    assert f"the {role}/ directory {missing} is missing" in str(err.value)
    assert f"CONVSCOPE_{role.upper()}_DIR" in str(err.value)


def test_an_empty_templates_directory_is_refused_too(settings, tmp_path):
    from app.main import create_app
    with pytest.raises(LayoutError, match="has no index.html"):
        create_app(replace(settings, templates_dir=tmp_path))


@pytest.mark.parametrize("variable, role", [("CONVSCOPE_STATIC_DIR", "static"),
                                            ("CONVSCOPE_TEMPLATES_DIR", "templates")])
def test_serve_refuses_to_start_and_names_the_directory(model_path, tmp_path, variable, role):
    missing = tmp_path / "nowhere"
    env = {**os.environ, variable: str(missing)}
    proc = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", "0", "--model",
                           str(model_path)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{role}/ directory {missing} is missing" in lines[0], lines
    assert "serving" not in proc.stderr
