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
    r = _run("-c", "import sys; from importlinter.cli import lint_imports_command; "
                   "sys.argv = ['lint-imports', '--no-cache']; lint_imports_command()")
    assert r.returncode == 0, (f"import contracts broken (or import-linter missing: pip install -r "
                               f"requirements-dev.txt):\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}")
    assert "4 kept, 0 broken" in r.stdout, r.stdout[-2000:]


def test_ruff_passes():
    r = _run("-m", "ruff", "check", "--no-cache", ".")
    assert r.returncode == 0, f"ruff (or ruff missing: pip install -r requirements-dev.txt):\n{r.stdout}\n{r.stderr}"


def test_mypy_passes_on_analysis_and_data():
    # mypy.ini: analysis/ and data/, permissive to start; a new type error in either package fails here
    r = _run("-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", os.devnull)
    assert r.returncode == 0, f"mypy (or mypy missing: pip install -r requirements-dev.txt):\n{r.stdout[-4000:]}\n{r.stderr}"
    assert "Success: no issues found" in r.stdout, r.stdout[-2000:]
