"""`make test` runs the linters: the import contracts (.importlinter) and ruff (ruff.toml).

Both tools are pinned in requirements-dev.txt; a missing tool is a failure (install-dev), never a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys


from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    # dashboard -> analysis -> data, streamlit only in the dashboard, and not in dashboard.charts/formatting, duckdb only in data.store
    r = _run(
        "-c",
        "import sys; from importlinter.cli import lint_imports_command; "
        "sys.argv = ['lint-imports', '--no-cache']; lint_imports_command()",
    )
    assert r.returncode == 0, (
        f"import contracts broken (or import-linter missing: pip install -r "
        f"requirements-dev.txt):\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}"
    )
    assert "4 kept, 0 broken" in r.stdout, r.stdout[-2000:]


def test_ruff_passes():
    r = _run("-m", "ruff", "check", "--no-cache", ".")
    assert r.returncode == 0, f"ruff (or ruff missing: pip install -r requirements-dev.txt):\n{r.stdout}\n{r.stderr}"


def test_ruff_format_is_kept():
    # one formatting (ruff format, ruff.toml: 120 columns) so diffs show changes, not style
    r = _run("-m", "ruff", "format", "--check", "--no-cache", ".")
    assert r.returncode == 0, (
        f"run `.venv/bin/ruff format .` (files below would be reformatted):\n{r.stdout}\n{r.stderr}"
    )


def test_mypy_config_is_strict_everywhere():
    # every function annotated and every body checked, with nothing switched off per module: a section such as
    # [mypy-analysis.x] with ignore_errors or disable_error_code would let that module's findings pass unseen
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "mypy.ini")
    main = cfg["mypy"]
    for option in ("disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs"):
        assert main.getboolean(option), option
    assert set(main["files"].replace(" ", "").split(",")) == {"analysis", "data", "dashboard"}
    relaxed = [f"[{name}] {opt}" for name in cfg.sections() if name != "mypy" for opt in cfg[name]]
    relaxed += [f"[mypy] {opt}" for opt in ("ignore_errors", "disable_error_code", "allow_untyped_defs") if opt in main]
    assert not relaxed, f"mypy.ini relaxes checking: {relaxed}"


def test_mypy_passes_on_analysis_data_and_dashboard():
    # mypy.ini: analysis/, data/ and dashboard/ (pages, helpers, the router), strict on every function; a new type
    # error in any of them fails here
    r = _run("-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", os.devnull)
    assert r.returncode == 0, (
        f"mypy (or mypy missing: pip install -r requirements-dev.txt):\n{r.stdout[-4000:]}\n{r.stderr}"
    )
    assert "Success: no issues found" in r.stdout, r.stdout[-2000:]
