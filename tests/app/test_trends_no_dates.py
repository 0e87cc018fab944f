"""Trends without dated returns: the caption says why provisional months have no expected final rate (it read 'the
diamond is the expected final rate' beside a diamond sitting on the rate so far, interval 0 wide)."""

from __future__ import annotations

import pandas as pd

from tests.app.conftest import assert_clean, run_page, upload_spec


def test_trends_says_no_return_has_a_date():
    rows, rets = [], []
    for i in range(1200):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=i * 180 // 1200)
        rows.append({"order_id": f"O{i}", "order_date": f"{day:%Y-%m-%d}", "sku": "S1", "quantity": 1})
        if i % 6 == 0:
            rets.append({"order_id": f"O{i}", "sku": "S1", "quantity": 1})
    csv = lambda df: df.to_csv(index=False).encode("utf-8")  # noqa: E731
    spec, contents = upload_spec(
        {"orders.csv": (csv(pd.DataFrame(rows)), "orders"), "returns.csv": (csv(pd.DataFrame(rets)), "returns")}
    )
    at = run_page("views/trends.py", spec, contents)
    assert_clean(at, "trends")
    caption = " ".join(c.value for c in at.caption)
    assert "No return has a date in this data" in caption
    assert "the diamond is the expected final rate" not in caption
