"""Every percentage column of every page shows one decimal place, as every other rate in the app: Streamlit's
"percent" format without a step trims to up to two decimals, so tables read "11.32%" beside "4.5%", and the
Interventions log "20.43%" beside its verdict's "20.4%" (found by the review of stop 25). The step sets the
decimals (dashboard.formatting.PCT_STEP)."""

from __future__ import annotations

import json

import pytest

from dashboard.formatting import PCT_STEP
from tests.app.conftest import PAGES, assert_clean, run_page


@pytest.mark.parametrize("page", [p for p in PAGES if p != "views/upload.py"])
def test_percent_columns_show_one_decimal(page):
    at = run_page(page)
    assert_clean(at, page)
    seen = 0
    for df in at.dataframe:
        config = json.loads(df.proto.columns or "{}")
        for name, col in config.items():
            tc = col.get("type_config") or {}
            if tc.get("format") == "percent":
                seen += 1
                assert tc.get("step") == PCT_STEP, (page, name, tc)
    if page in ("views/trends.py", "views/reasons.py", "views/collections.py"):
        assert seen, f"{page}: no percentage column found (the check would prove nothing)"
