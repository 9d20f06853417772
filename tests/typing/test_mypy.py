"""The shipped .pyi stubs and py.typed, seen from a user's side: mypy on the installed package.

``example_user.py`` must type-check cleanly under ``--strict``; ``misuse.py`` must produce an
error on exactly the lines marked ``# E`` (so the stubs are precise, not ``Any``). mypy runs
in a subprocess from a temporary directory, so it resolves ``kospi_fast`` to the installed
package (with its py.typed), never to a source tree. Skips when mypy is not installed, except
under CI (CI=true).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def _mypy(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mypy") is None:
        if IN_CI:
            pytest.fail("mypy is not installed under CI (CI=true): pip install '.[test]' brings it")
        pytest.skip("mypy is not installed (pip install '.[test]' brings it)")
    target = tmp_path / script
    target.write_text((HERE / script).read_text(encoding="utf-8"), encoding="utf-8")
    config = tmp_path / "mypy.ini"  # only --strict: no project or user configuration leaks in
    config.write_text("[mypy]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", str(config),
         "--cache-dir", str(tmp_path / ".mypy_cache"), "--show-error-codes", "--no-color-output",
         "--hide-error-context", "--no-pretty", script],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )


def test_example_user_script_type_checks(tmp_path):
    res = _mypy(tmp_path, "example_user.py")
    assert res.returncode == 0, f"mypy rejected a correct user script:\n{res.stdout}{res.stderr}"
    assert "Success" in res.stdout


def test_stubs_reject_misuse(tmp_path):
    res = _mypy(tmp_path, "misuse.py")
    lines = (HERE / "misuse.py").read_text(encoding="utf-8").splitlines()
    expected = {i for i, line in enumerate(lines, 1) if line.rstrip().endswith("# E")}
    reported = {int(m.group(1)) for m in re.finditer(r"^misuse\.py:(\d+): error:", res.stdout, re.M)}
    assert res.returncode == 1, f"{res.stdout}{res.stderr}"
    assert reported == expected, f"errors expected on lines {sorted(expected)}:\n{res.stdout}"
