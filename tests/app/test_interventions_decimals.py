"""The Interventions page's verdict names the rates as its log table shows them (one decimal place): it read "fell
from 24% to 15%" beside the log's 23.8% and 15.4% on the demo (review of stop 25)."""

from __future__ import annotations

from tests.app.conftest import assert_clean, run_page


def test_verdict_and_log_show_the_same_rates():
    at = run_page("views/interventions.py")
    assert_clean(at, "interventions")
    log = at.dataframe[0].value
    row = log.iloc[0]
    before, after = f"{row['Before'] * 100:.1f}%", f"{row['After'] * 100:.1f}%"
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert f"from {before} to {after}" in text, (before, after)
