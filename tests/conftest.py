"""Shared test paths. The real export and the oracles live in ../shared, never in the repo.

Tests that need ../shared skip when it is absent (a developer's checkout may not have it); with
RI_REQUIRE_SHARED=1 (set by .ci/run: the CI machine has ../shared) such a skip is a failure, so the
statistics oracles and the real-data tests cannot silently stop running.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL_DATA = SHARED / "data" / "online_retail_II_2009-12_to_2010-11.csv.gz"
ORACLES = SHARED / "oracles" / "stats_oracles.json"
ARTIFACTS = ROOT / "test-artifacts"
REQUIRE_SHARED_ENV = "RI_REQUIRE_SHARED"


def shared_required() -> bool:
    return os.environ.get(REQUIRE_SHARED_ENV, "") == "1"


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: reason")
        return str(longrepr[2])
    return str(longrepr)


def _fail_shared_skip(report) -> None:
    """Turn a skip whose reason names a path under ../shared into a failure when shared is required."""
    if report.skipped and shared_required() and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if str(SHARED) in reason:
            report.outcome = "failed"
            report.longrepr = (
                f"{REQUIRE_SHARED_ENV}=1 but a test skipped for want of ../shared: {reason}. "
                f"CI must have {SHARED} (the oracles and the real export)."
            )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_shared_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_shared_skip(outcome.get_result())  # module-level pytest.skip(..., allow_module_level=True)
