"""The Trends and Overview charts say when a few large orders carry a month (analysis.concentration
.period_concentration): the real Online Retail II export's August 2010 is 95% one order, too recent for the
matured figures, and nothing said so under the chart that drew it at 19.4%."""

from __future__ import annotations

import pandas as pd

from tests.app.conftest import assert_clean, run_page, upload_spec


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def two_big_months():
    """40 orders a month Jan-Jun 2025 (5 units; every 4th returns 1 unit: 10 returned of 200 a month), order BIG3
    in March (600 units, 300 returned: 300 of 310, 97%; March 38.8% with it, 5.0% without) and BIG5 in May (400
    units, 100 returned: 100 of 110, 91%)."""
    rows, rets = [], []
    for m in range(1, 7):
        for i in range(40):
            oid = f"M{m}-{i}"
            rows.append(dict(order_id=oid, order_date=f"2025-{m:02d}-{1 + i % 27:02d}", sku=f"s{i % 5}", quantity=5))
            if i % 4 == 0:
                rets.append(dict(order_id=oid, sku=f"s{i % 5}", quantity=1))
    for oid, month, units, back in (("BIG3", 3, 600, 300), ("BIG5", 5, 400, 100)):
        rows.append(dict(order_id=oid, order_date=f"2025-{month:02d}-14", sku="s1", quantity=units))
        rets.append(dict(order_id=oid, sku="s1", quantity=back))
    rows.append(dict(order_id="late", order_date="2025-12-30", sku="s0", quantity=1))
    return upload_spec(
        {"orders.csv": (_csv(pd.DataFrame(rows)), "orders"), "returns.csv": (_csv(pd.DataFrame(rets)), "returns")},
        name="two big months",
    )


def test_trends_says_which_months_a_few_orders_carry_and_lists_them():
    spec, contents = two_big_months()
    at = run_page("views/trends.py", spec, contents)
    assert_clean(at, "trends")
    notes = [w.value.replace("\\", "") for w in at.warning if "hold a quarter or more" in w.value]
    assert len(notes) == 1
    assert notes[0].startswith("In 2 of 7 months, three orders or fewer hold a quarter or more of the month's")
    assert (
        "The most: Mar 2025: one order (#BIG3; 600 units sold) holds 97% of its returned units (300 of 310)" in notes[0]
    )
    assert "without it the month's rate is 5.0%, not 38.8%" in notes[0]
    table = next(d.value for d in at.dataframe if "rate_without" in d.value.columns)
    assert table["orders"].tolist() == ["#BIG3", "#BIG5"]
    assert table["returned"].tolist() == [300, 100]


def test_overview_says_it_under_its_monthly_chart():
    spec, contents = two_big_months()
    at = run_page("views/overview.py", spec, contents)
    assert_clean(at, "overview")
    captions = [c.value.replace("\\", "") for c in at.caption if "hold a quarter or more" in c.value]
    assert len(captions) == 1 and "(the Trends page lists them)" in captions[0]
    assert "Mar 2025: one order (#BIG3; 600 units sold)" in captions[0]


def test_the_trend_verdict_says_whether_it_rests_on_those_orders():
    from analysis.concentration import drop_orders
    from analysis.prepare import prepare
    from analysis.trends import cohort_series, series_trend
    from data.ingest import SourceFile, load_dataset

    spec, contents = two_big_months()
    at = run_page("views/trends.py", spec, contents)
    assert_clean(at, "trends")
    verdict = next(m.value for m in at.markdown if m.value.startswith("**Trend:"))
    # without BIG3 and BIG5 every matured month is 10 of 200 (5.0%): flat, no trend
    files = [SourceFile(f.name, contents[f.sha256], f.role) for f in spec.files]
    p = prepare(load_dataset(files, name="t"))
    tw = series_trend(cohort_series(drop_orders(p, ["BIG3", "BIG5"])))
    assert f"Without the 2 orders that carry matured months (above): none detected (p = {tw.p_value:.3g})" in verdict
    with_them = series_trend(cohort_series(p))
    rests = with_them.p_value < 0.05
    assert ("the verdict rests on those orders" in verdict) == rests
    assert ("the verdict does not rest on them" in verdict) == (not rests)
