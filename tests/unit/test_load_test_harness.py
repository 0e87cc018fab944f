"""bench/load_test.py helpers (the load test itself runs on demand, never in the suite)."""

from __future__ import annotations

import os
import re

from bench.load_test import PAGES, _pct, _rss_mb
from tests.conftest import ROOT


def test_percentile_is_nearest_rank_on_sorted_values():
    values = [float(v) for v in range(20, 0, -1)]  # 20..1, unsorted on purpose
    assert _pct(values, 0.5) == 11.0  # sorted index round(0.5 * 19) = round(9.5) = 10 (round half to even)
    assert _pct(values, 0.95) == 19.0  # sorted index round(0.95 * 19) = round(18.05) = 18
    assert _pct([3.0], 0.95) == 3.0


def test_rss_of_this_process_is_read_from_proc():
    assert 10 < _rss_mb(os.getpid()) < 100_000
    missing = _rss_mb(2**22 + 12345)  # above the default pid_max: no such process
    assert missing != missing  # NaN


def test_every_page_visited_is_a_dashboard_page():
    titles = set(re.findall(r'title="([^"]+)"', (ROOT / "dashboard" / "app.py").read_text()))
    assert set(PAGES) <= titles
