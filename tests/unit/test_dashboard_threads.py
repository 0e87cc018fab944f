"""The dashboard's counting queries run on one DuckDB thread unless whoever starts the server says otherwise
(dashboard.cache sets the default of RI_DUCKDB_THREADS; data.engine_sql reads it). Checked in a fresh interpreter:
the setting is process-wide."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = "import dashboard.cache; from data.engine_sql import duckdb_settings; print(duckdb_settings().get('threads'))"


def _threads(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "RI_DUCKDB_THREADS"}
    env["PYTHONPATH"] = str(ROOT)
    if env_value is not None:
        env["RI_DUCKDB_THREADS"] = env_value
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_the_dashboard_counts_on_one_thread_by_default():
    assert _threads(None) == "1"


def test_a_thread_count_given_to_the_server_wins():
    assert _threads("2") == "2"


def test_analysis_alone_keeps_duckdb_default():
    env = {k: v for k, v in os.environ.items() if k != "RI_DUCKDB_THREADS"}
    env["PYTHONPATH"] = str(ROOT)
    code = "from data.engine_sql import duckdb_settings; print(duckdb_settings().get('threads'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
