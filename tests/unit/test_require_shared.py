"""RI_REQUIRE_SHARED=1 (CI) turns a skip for want of ../shared into a failure; other skips stay skips."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REQUIRE_SHARED_ENV, ROOT, SHARED

BODY = f"""
import pytest

def test_needs_shared():
    pytest.skip("oracle file {SHARED}/oracles/x.json is absent")

def test_needs_chromium():
    pytest.skip("Chromium not found")
"""

MODULE_LEVEL = f"""
import pytest
pytest.skip("real export not found at {SHARED}/data/x.csv.gz", allow_module_level=True)

def test_never_runs():
    pass
"""


def _run(tmp_path, body: str, require: str) -> subprocess.CompletedProcess:
    f = tmp_path / "test_probe.py"
    f.write_text(body)
    env = {**os.environ, REQUIRE_SHARED_ENV: require}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.conftest",
            "-c",
            str(ROOT / "pytest.ini"),
            "--rootdir",
            str(ROOT),
            "-p",
            "no:xdist",
            "-p",
            "no:randomly",
            str(f),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_shared_skip_fails_only_when_required(tmp_path):
    loose = _run(tmp_path, BODY, "")
    assert loose.returncode == 0 and "2 skipped" in loose.stdout, loose.stdout
    strict = _run(tmp_path, BODY, "1")
    assert strict.returncode == 1, strict.stdout
    assert "1 failed, 1 skipped" in strict.stdout, strict.stdout  # the Chromium skip is not about ../shared
    assert f"{REQUIRE_SHARED_ENV}=1" in strict.stdout


def test_module_level_shared_skip_fails_when_required(tmp_path):
    loose = _run(tmp_path, MODULE_LEVEL, "")
    assert "1 skipped" in loose.stdout and "error" not in loose.stdout.lower(), loose.stdout  # rc 5: nothing ran
    strict = _run(tmp_path, MODULE_LEVEL, "1")
    assert strict.returncode != 0 and "error" in strict.stdout.lower(), strict.stdout
