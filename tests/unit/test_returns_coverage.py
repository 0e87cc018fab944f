"""A returns export that ends before the orders export: later orders are not 'never returned', their returns are
not in the file.

Found on the generated Shopify orders exports (Jan 2024 - Dec 2025) with a returns-app export whose returns
reference orders up to 5 Jan 2025: every order of 2025 counted as mature with no return. The Trends page said
'Trend: falling ... unlikely to be chance (p = 0.0003)' and listed 9 'unusual months' of 0.0% 'below the lower
limit - look for a cause (a product launch, a promotion)'; the headline unit return rate (3.8%) was diluted by a
year of orders whose returns were never exported. Returns apps export the last 30 or 90 days by default; the
orders export holds all time: this is the common case, not a corner.

Rule (analysis.maturity.returns_cover_end): when the lines ordered after the last returned line, on which even
the longest return window has closed, should hold at least 5 returns at the file's own rate and hold none
(Poisson P(0) < 1%), the returns file ended at its last return; orders are mature only when their return window
closed by then, and the headline says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.engine import analyse
from analysis.overview import window_warning
from analysis.prepare import prepare
from tests.builders import make_dataset

START = pd.Timestamp("2024-01-01")


def _data(returns_until: str | None):
    rng = np.random.default_rng(5)
    rows, rets = [], []
    for i in range(3000):  # about 8 orders a day over 2024
        day = START + pd.Timedelta(days=int(i * 366 / 3000))
        oid = f"O{i}"
        rows.append(
            {
                "order_id": oid,
                "order_date": day,
                "sku": f"S{i % 5}",
                "quantity": 1,
                "unit_price": 20.0,
                "customer_id": f"c{i}",
            }
        )
        if rng.random() < 0.2:
            rets.append(
                {"order_id": oid, "sku": f"S{i % 5}", "quantity": 1, "return_date": day + pd.Timedelta(days=10)}
            )
    r = pd.DataFrame(rets)
    if returns_until is not None:
        r = r[r["return_date"] <= pd.Timestamp(returns_until)]
    return pd.DataFrame(rows), r


def test_orders_after_the_returns_file_ends_are_not_counted_as_unreturned():
    orders, rets = _data("2024-06-30")
    p = prepare(make_dataset(orders, rets), window_days=30)
    # by hand: the returns file's last return is on or just before 30 Jun 2024; with a 30-day window orders are
    # mature up to 31 May 2024 (returns take 10 days here, so all of theirs are in the file)
    # by hand: the file's last return (at most 30 Jun 2024) less the 30-day window
    assert p.cutoff_date == rets["return_date"].max() - pd.Timedelta(days=30)
    cut = p.cutoff_date
    mature = orders[orders["order_date"] <= cut]
    expected = rets["order_id"].isin(mature["order_id"]).sum() / len(mature)  # pandas on the rows built above
    t = analyse(p, briefs=False).totals
    assert t["unit_return_rate"] == pytest.approx(expected)
    assert t["unit_return_rate"] == pytest.approx(0.2, abs=0.03)  # not diluted toward 0.2 x 5/12
    assert t["immature_orders_excluded"] == int((orders["order_date"] > cut).sum())
    warn = window_warning(p)
    assert warn is not None and warn.startswith("The returns file ends on"), warn
    assert "Export the returns for the same dates as the orders" in warn


def test_a_returns_file_that_covers_the_orders_changes_nothing():
    orders, rets = _data(None)  # the returns run 10 days past the last order
    p = prepare(make_dataset(orders, rets), window_days=30)
    assert p.cutoff_date == orders["order_date"].max() - pd.Timedelta(days=30)
    w = window_warning(p)
    assert w is None or not w.startswith("The returns file ends on")


def test_a_small_shop_s_quiet_last_weeks_are_not_an_end():
    # 300 orders a year, a fifth returned: about 0.17 returns a day. The last return 20 days before the last order
    # is what such a shop sees by chance (about 3.3 expected, fewer than 5): the window is not moved
    orders, rets = _data(None)
    orders = orders.iloc[::10]
    rets = rets[rets["order_id"].isin(orders["order_id"])]
    end = orders["order_date"].max()
    rets = rets[rets["return_date"] <= end - pd.Timedelta(days=20)]
    pace = len(rets) / (rets["return_date"].max() - rets["return_date"].min()).days
    assert 20 * pace < 5  # the premise, by hand
    p = prepare(make_dataset(orders, rets), window_days=30)
    assert p.cutoff_date == end - pd.Timedelta(days=30)


def test_months_after_the_returns_file_ends_have_no_rate_on_trends():
    from analysis.trends import cohort_series

    orders, rets = _data("2024-06-30")
    p = prepare(make_dataset(orders, rets), window_days=30)
    s = cohort_series(p).set_index("period")
    end = rets["return_date"].max()
    after = s.index > end  # months whose every order was placed after the file's last return
    assert after.sum() == 6  # July - December 2024
    assert s.loc[after, "rate"].isna().all() and s.loc[after, "expected_final_rate"].isna().all()
    # a month the file covers keeps its rate: January, by hand from the rows built above
    jan = orders[orders["order_date"] < "2024-02-01"]
    jan_rate = rets["order_id"].isin(jan["order_id"]).sum() / len(jan)
    assert s.loc[pd.Timestamp("2024-01-01"), "rate"] == pytest.approx(jan_rate)


def test_the_overview_s_monthly_line_has_no_rate_after_the_returns_file_ends():
    from analysis.overview import monthly

    orders, rets = _data("2024-06-30")
    m = monthly(prepare(make_dataset(orders, rets), window_days=30)).set_index("month")
    after = m.index > rets["return_date"].max()
    assert after.sum() == 6 and m.loc[after, "rate"].isna().all()
    assert m.loc[~after, "rate"].notna().all()


def test_undated_returns_name_no_end():
    # without return dates the file's end cannot be named: the window is not moved (tests/app/test_issue12_pages'
    # wholesale upload returns only January orders, undated)
    orders, rets = _data("2024-06-30")
    p = prepare(make_dataset(orders, rets.drop(columns="return_date")), window_days=30)
    assert p.returns_end is None and p.cutoff_date == orders["order_date"].max() - pd.Timedelta(days=30)
