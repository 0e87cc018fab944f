"""dashboard.charts builds every figure from small frames, without Streamlit: the data drawn is the data given."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import charts


def _months(rates, provisional):
    n = len(rates)
    return pd.DataFrame(
        {
            "month": pd.date_range("2024-01-01", periods=n, freq="MS"),
            "rate": rates,
            "ci_low": [r - 0.01 for r in rates],
            "ci_high": [r + 0.01 for r in rates],
            "returned": [10, 30, 5][:n],
            "units": [100, 100, 50][:n],
            "provisional": provisional,
        }
    )


def test_monthly_trend_draws_the_pooled_average_of_the_matured_months_only():
    m = _months([0.10, 0.30, 0.10], [False, False, True])
    fig = charts.monthly_trend_chart(m, rate_name="Unit return rate", yaxis_title="Returned units / units sold")
    # (10 + 30) / (100 + 100) by hand: the provisional month is drawn apart and not averaged
    assert charts.drawn_average(m[~m["provisional"]]) == 0.2
    assert fig.layout.shapes[0].y0 == 0.2
    # named in the legend (a label on the line sat on the trend), not as an annotation
    assert not fig.layout.annotations
    assert [t.name for t in fig.data] == [
        "95% interval",
        "Unit return rate",
        "Provisional (window open)",
        "Average of the 2 complete months 20.0%",
    ]
    assert list(fig.data[2].y) == [0.10]


def test_drawn_average_is_none_without_matured_units():
    assert charts.drawn_average(_months([0.1], [True]).iloc[0:0]) is None


def test_chart_labels_escape_user_text():
    grid = type("G", (), {})()
    grid.items = ["<b>A</b>", "B"]
    grid.rate = pd.DataFrame([[0.1, 0.2], [0.2, 0.3]])
    grid.text = pd.DataFrame([["10%", "20%*"], ["20%*", "30%"]])
    fig = charts.pair_heatmap(grid)
    assert list(fig.data[0].x) == ["&lt;b&gt;A&lt;/b&gt;", "B"]


def test_same_period_chart_marks_provisional_periods():
    yoy = pd.DataFrame(
        {
            "period": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "provisional": [False, True],
            "rate": [0.1, 0.05],
            "rate_same_period_last_year": [0.12, 0.11],
            "expected_final_rate": [float("nan"), 0.09],
            "expected_final_low": [float("nan"), 0.07],
            "expected_final_high": [float("nan"), 0.12],
        }
    )
    fig = charts.same_period_chart(yoy, 0.1, period_format="%b %Y", title="t", axis="a", unit_word="month")
    assert list(fig.data[1].x) == ["Jan 2024", "Feb 2024 (provisional)"]
    assert list(fig.data[1].marker.opacity) == [1.0, 0.35]
    assert list(fig.data[2].x) == ["Feb 2024 (provisional)"] and list(fig.data[2].y) == [0.09]
    # the expected final rate carries its 95% interval: 0.09 - 0.02 to 0.09 + 0.03
    np.testing.assert_allclose(fig.data[2].error_y.arrayminus, [0.02])
    np.testing.assert_allclose(fig.data[2].error_y.array, [0.03])


def test_order_basis_reexpresses_segments_as_orders_with_wilson_intervals():
    from statsmodels.stats.proportion import proportion_confint

    from analysis.segments import order_basis

    d = pd.DataFrame(
        {
            "segment": ["a"],
            "n": [40.0],
            "returned": [9.0],
            "return_rate": [0.225],
            "orders": [20],
            "orders_returned": [5],
            "verdict": ["clearly higher"],
        }
    )
    out = order_basis(d)
    lo, hi = proportion_confint(5, 20, alpha=0.05, method="wilson")  # statsmodels' Wilson interval
    assert out["return_rate"].iloc[0] == 0.25 and out["n"].iloc[0] == 20 and out["returned"].iloc[0] == 5
    assert abs(out["ci_low"].iloc[0] - lo) < 1e-9 and abs(out["ci_high"].iloc[0] - hi) < 1e-9
    assert out["verdict"].iloc[0] == "clearly higher"  # the unit-level verdict is kept
    assert d["n"].iloc[0] == 40.0  # the input is not changed


def test_trend_charts_name_their_reference_lines_in_the_legend_and_the_rate_as_told():
    t = pd.DataFrame(
        {
            "period": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "p": [0.2, 0.25, 0.22],
            "ucl": [0.3] * 3,
            "lcl": [0.1] * 3,
            "centre": [0.22] * 3,
            "flagged": [False] * 3,
        }
    )
    fig = charts.control_limits_chart(t, title="x", axis="y", unit_word="month", rate_name="Order refund rate")
    names = [tr.name for tr in fig.data]
    assert "Order refund rate" in names and "Centre line 22.0%" in names and not fig.layout.annotations
    assert [sh.y0 for sh in fig.layout.shapes] == [0.22]


def test_interval_bands_draw_no_markers():
    # plotly draws markers on a scatter of fewer than 20 points unless told: the bands' edges read as data points
    import analysis.trends as T
    from analysis.prepare import prepare
    from tests.unit.test_trends import synthetic_dataset

    p = prepare(synthetic_dataset(seed=3, n_orders=3000))
    s = T.cohort_series(p)
    mat, prov = s[~s["provisional"]], s[s["provisional"]]
    fig = charts.cohort_rate_chart(mat, prov, 0.1, title="t", axis="a", unit_word="month")
    band = [t for t in fig.data if t.fill == "toself"]
    assert band and all(t.mode == "lines" for t in band)
    from analysis.overview import monthly

    fig = charts.monthly_trend_chart(monthly(p), rate_name="Return rate", yaxis_title="y")
    band = [t for t in fig.data if t.fill == "toself"]
    assert band and all(t.mode == "lines" for t in band)
