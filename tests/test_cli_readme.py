"""The README's two commands, the CI script that must call the test one, and the demo."""

import re
import shutil
import subprocess
import sys

import pytest

import kospi_fast as kf
from kospi_fast import cli

from conftest import REPO


def _readme_commands():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README must open with a bash block of two commands"
    lines = [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]
    return lines


def test_readme_opens_with_install_run_and_test_commands():
    lines = _readme_commands()
    assert len(lines) == 2
    assert lines[0] == "pip install . && kospi-fast demo"
    assert lines[1].startswith('pip install ".[test]" && python -m pytest')


def test_ci_script_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_commands()[1] in ci


def test_demo_runs_and_reports(capsys):
    assert cli.main(["demo", "--ticks", "20000", "--seed", "3", "--top", "5"]) == 0
    out = capsys.readouterr().out
    for word in ("open", "high", "low", "close", "trades", "ticks/s", "top 5 contributors"):
        assert word in out
    assert "level == full recompute: True" in out
    assert "005930" in out  # Samsung Electronics dominates the sample's move


def test_demo_is_deterministic(capsys):
    cli.main(["demo", "--ticks", "5000", "--seed", "9"])
    a = capsys.readouterr().out
    cli.main(["demo", "--ticks", "5000", "--seed", "9"])
    b = capsys.readouterr().out
    strip = lambda s: [ln for ln in s.splitlines() if "time" not in ln and "simulated" not in ln]  # noqa: E731
    assert strip(a) == strip(b)


def test_demo_bad_argument_is_a_clean_error(capsys):
    assert cli.main(["demo", "--ticks", "10"]) == 2
    assert "`n_ticks` must be >= 2" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("kospi-fast") is None, reason="console script not installed (source-tree run)")
def test_console_script_installed():
    res = subprocess.run(["kospi-fast", "demo", "--ticks", "3000"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "close" in res.stdout


def test_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "kospi_fast.cli", "demo", "--ticks", "3000"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's Python example is executed as written (in a temporary directory)."""
    pytest.importorskip("exchange_calendars")  # its TradingDay checks the XKRX calendar
    text = (REPO / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code, "README must have a Python example"
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code.group(1), "README.md", "exec"), ns)  # noqa: S102 - our own README
    engine = ns["engine"]
    assert engine.level == engine.recompute()
    assert ns["res"].applied == 500_000  # every simulated trade is valid under KRX rules
    assert ns["rows"].shape[1] == len(ns["fam"])
    assert (tmp_path / "state.kfs").exists()
