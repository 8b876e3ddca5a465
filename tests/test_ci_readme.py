"""README's two commands and .ci/run stay in step: CI's last command is README's test command,
character for character, and .ci/run smoke-tests the built wheel before it."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_ci_runs_exactly_the_readme_test_command_last():
    serve, test = _readme_commands()
    assert serve == "pip install -e . && convscope serve"
    lines = [l for l in (ROOT / ".ci" / "run").read_text().splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    assert lines[-1] == test, f".ci/run ends with {lines[-1]!r}, README says {test!r}"


def test_ci_smoke_tests_the_wheel_in_a_fresh_venv():
    run = (ROOT / ".ci" / "run").read_text()
    order = [run.index(s) for s in ("pip wheel", "python -m venv", "bin/pip install -q dist/",
                                    "tests/wheel_smoke.py", "python -m pytest -q")]
    assert order == sorted(order), order
