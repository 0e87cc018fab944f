"""AppTest: the Trends and Interventions pages on the demo data.

Checks that both pages render cleanly, that the trends page follows the dimension/segment selection
(against an independent plain-pandas rate), and that the interventions log is added to through the form,
survives a new session (a browser refresh), can be deleted, and rejects a bad CSV with a readable error.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from data.state import StateStore
from tests.app.conftest import assert_clean, run_page

TRENDS, IVS = "views/trends.py", "views/interventions.py"


@pytest.fixture(autouse=True)
def _fresh_store(_state_dir):
    """preset_store() is a process-wide cache_resource: drop it so this test's RI_STATE_DIR is used."""
    from dashboard.presets import preset_store

    preset_store.clear()
    yield
    preset_store.clear()


def _chart_titles(at) -> list[str]:
    out = []
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        title = spec.get("layout", {}).get("title", {})
        out.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return out


def _log_table(at) -> pd.DataFrame:
    for df in at.dataframe:
        if "Source" in df.value.columns:
            return df.value
    return pd.DataFrame(columns=["Source", "Segment", "Description"])


@pytest.fixture(scope="module")
def demo_lines():
    from data.demo import generate_dataset
    from analysis.prepare import prepare

    return prepare(generate_dataset(seed=7)).lines


def _matured_month_rate(lines: pd.DataFrame) -> float:
    # independent plain-pandas rate: units returned / units sold over order months whose orders are all matured
    month = lines["order_date"].dt.to_period("M")
    immature_months = set(month[~lines["mature"]])
    keep = ~month.isin(immature_months)
    return float(lines.loc[keep, "returned_units"].sum() / lines.loc[keep, "quantity"].sum())


def test_trends_renders_and_follows_the_segment(demo_lines):
    at = run_page(TRENDS)
    assert_clean(at, TRENDS)
    titles = _chart_titles(at)
    assert any("whole business" in t for t in titles), titles
    assert any(t.startswith("Laney p′ chart") or t.startswith("p-chart") for t in titles), titles
    assert any("same month 12 months earlier" in t for t in titles), titles  # demo covers 18 months
    whole = f"{100 * _matured_month_rate(demo_lines):.1f}%"
    trend = [m.value for m in at.markdown if m.value.startswith("**Trend")]
    assert trend and whole in trend[0] and "quasi-binomial trend test" in trend[0]
    assert any(c.value.startswith("Chart used:") for c in at.caption)
    # "What changed" defaults: the last 3 matured months (Jun-Aug 2026: the 36-day Kaplan-Meier window ends on
    # 25 Sep, so September is provisional) vs the 3 before (Mar-May 2026)
    assert [str(d) for d in at.date_input(key="tr_wc_b").value] == ["2026-06-01", "2026-08-31"]
    assert [str(d) for d in at.date_input(key="tr_wc_a").value] == ["2026-03-01", "2026-05-31"]

    at.selectbox(key="tr_dim").set_value("collection").run()
    at.selectbox(key="tr_seg_collection").set_value("Linen Shirts").run()
    assert_clean(at, TRENDS)
    titles = _chart_titles(at)
    assert any("Linen Shirts" in t for t in titles) and not any("whole business" in t for t in titles), titles
    linen = f"{100 * _matured_month_rate(demo_lines[demo_lines['collection'] == 'Linen Shirts']):.1f}%"
    trend = [m.value for m in at.markdown if m.value.startswith("**Trend")]
    assert linen != whole and linen in trend[0] and "Linen Shirts" in trend[0]

    at.toggle(key="tr_weekly").set_value(True).run()
    assert_clean(at, TRENDS)
    assert any("by order week" in t for t in _chart_titles(at))


def test_interventions_page_renders_the_demo_log():
    at = run_page(IVS)
    assert_clean(at, IVS)
    log = _log_table(at)
    assert list(log["Segment"]) == ["Hiking Jackets"] and list(log["Source"]) == ["from file"]
    verdict = [m.value for m in at.markdown if m.value.startswith("**Verdict**")]
    assert verdict and "Hiking Jackets" in verdict[0] and "difference-in-differences" in verdict[0]
    seg = [s for s in at.selectbox if s.label == "Segment"]
    assert seg and "Linen Shirts" in seg[0].options
    assert any(t.label == "Description" for t in at.text_input)
    assert any(b.label == "Add intervention" for b in at.button)
    assert [m.label for m in at.metric][:2] == ["Before (descriptive)", "After (descriptive)"]
    comp = at.multiselect(key=f"iv_comp_{at.selectbox(key='iv_pick').value}")
    assert len(comp.value) >= 2 and "Hiking Jackets" not in comp.options  # automatic comparison collections for the DiD


def test_add_survives_a_refresh_and_delete_removes_it():
    at = run_page(IVS)
    at.selectbox(key="iv_add_dim").set_value("collection").run()
    at.selectbox(key="iv_add_seg_collection").set_value("Linen Shirts")
    at.date_input(key="iv_add_start").set_value(pd.Timestamp("2026-03-01").date())
    at.text_input(key="iv_add_desc").input("Size chart *v2*")
    at.button(key="iv_add_submit").click().run()
    assert_clean(at, IVS)
    assert any("Linen Shirts" in s.value for s in at.success)
    saved = StateStore().list_interventions("demo")  # RI_STATE_DIR is this test's tmp dir
    assert list(saved["segment"]) == ["Linen Shirts"] and str(saved["start_date"][0].date()) == "2026-03-01"

    fresh = run_page(IVS)  # a new session, as after a browser refresh
    assert_clean(fresh, IVS)
    log = _log_table(fresh)
    row = log[log["Segment"] == "Linen Shirts"]
    assert len(row) == 1 and row["Source"].iloc[0] == "saved" and row["Description"].iloc[0] == "Size chart *v2*"

    fresh.button(key="iv_delete_btn").click().run()
    assert_clean(fresh, IVS)
    assert "Linen Shirts" not in list(_log_table(fresh)["Segment"])
    assert StateStore().list_interventions("demo").empty
    assert list(_log_table(run_page(IVS))["Segment"]) == ["Hiking Jackets"]


@pytest.mark.parametrize(
    "content, words",
    [
        (b"foo,bar\n1,2\n", ["Interventions not imported", "dimension, segment, start_date"]),
        (
            b"dimension,segment,start_date\ncollection,Linen Shirts,next tuesday\n",
            ["Interventions not imported", "'next tuesday' is not a date (row 1)"],
        ),
        (
            b"dimension,segment,start_date\nshoe_size,Linen Shirts,2026-03-01\n",
            ["'shoe_size' is not one we can evaluate (row 1)", "Use one of: collection"],
        ),
        (b"", ["Empty file"]),
    ],
)
def test_importing_a_bad_csv_shows_a_clear_error(content, words):
    at = run_page(IVS)
    at.file_uploader(key="iv_import_file").set_value(("log.csv", content, "text/csv")).run()
    at.button(key="iv_import_btn").click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error).replace("\\", "")  # md() escapes markdown characters
    assert all(w in errors for w in words), errors
    assert StateStore().list_interventions("demo").empty


def test_importing_a_good_csv_adds_its_rows():
    at = run_page(IVS)
    csv = b"dimension,segment,start_date,description\ncollection,Linen Shirts,2026-03-01,size chart\n"
    at.file_uploader(key="iv_import_file").set_value(("log.csv", csv, "text/csv")).run()
    at.button(key="iv_import_btn").click().run()
    assert_clean(at, IVS)
    assert any("Imported 1" in s.value for s in at.success)
    assert "Linen Shirts" in list(_log_table(at)["Segment"])


def test_a_click_that_arrives_with_the_file_removed_imports_nothing():
    # a click sent before the page redrew the button disabled (the file removed in the same rerun): Streamlit
    # discards values of widgets registered disabled, and the page narrows `up` to a file, so nothing happens
    at = run_page(IVS)
    csv = b"dimension,segment,start_date,description\ncollection,Linen Shirts,2026-03-01,size chart\n"
    at.file_uploader(key="iv_import_file").set_value(("log.csv", csv, "text/csv")).run()
    at.file_uploader(key="iv_import_file").set_value(None)
    at.button(key="iv_import_btn").click().run()
    assert_clean(at, IVS)
    assert not any("Imported" in s.value or "Nothing new" in s.value for s in at.success)
    assert StateStore().list_interventions("demo").empty


def test_edit_and_a_too_recent_change_is_explained_not_an_error():
    store = StateStore()
    new_id = store.add_intervention("demo", "collection", "Linen Shirts", "2026-11-20", "new size chart")
    at = run_page(IVS)
    assert_clean(at, IVS)
    pick = at.selectbox(key="iv_pick")
    assert "Hiking Jackets" in pick.format_func(pick.value)  # opens the one that can be evaluated
    early = next(k for k in pick.options if "Linen Shirts" in k)
    pick.select(early).run()
    assert_clean(at, IVS)
    warn = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "No matured orders after the change" in warn

    at.text_input(key=f"iv_edit_desc_{new_id}").input("size chart v2")
    at.date_input(key=f"iv_edit_start_{new_id}").set_value(pd.Timestamp("2026-02-01").date())
    at.button(key="iv_edit_save").click().run()
    assert_clean(at, IVS)
    saved = StateStore().list_interventions("demo")
    assert list(saved["description"]) == ["size chart v2"] and str(saved["start_date"][0].date()) == "2026-02-01"


def test_trends_shows_unusual_periods_and_the_year_earlier_chart_together():
    # Hiking Jackets by month on the demo (seed 7): the control chart flags 1 month (Dec 2025; September 2026,
    # flagged too before the window became the 36-day Kaplan-Meier quantile, is now provisional) and 6 months have a
    # year-earlier match (analysis.trends.control_chart / cohort_series on the same data). The page once
    # reused its axis-words variable for the unusual-period sentence and then failed drawing the seasonal chart.
    at = run_page(TRENDS)
    at.selectbox(key="tr_dim").set_value("collection").run()
    at.selectbox(key="tr_seg_collection").set_value("Hiking Jackets").run()
    assert_clean(at, TRENDS)
    assert any(m.value.startswith("**1 unusual month(s):** 01 Dec 2025") for m in at.markdown)
    titles = _chart_titles(at)
    assert any(t.startswith("Unit return rate vs the same month 12 months earlier, Hiking Jackets") for t in titles), (
        titles
    )


def test_interventions_page_says_what_statsmodels_computes():
    """The verdict, the ratio metric and the diagnostics the page shows, against statsmodels fitted here on
    cells rebuilt with plain pandas (tests.unit.test_interventions_did oracles), never from evaluate()."""
    import numpy as np

    from analysis.prepare import prepare
    from data.demo import INTERVENTION, generate_dataset
    from tests.unit.test_interventions_did import _cells_by_hand, _sm_fit

    at = run_page(IVS)
    assert_clean(at, IVS)
    comp = list(at.multiselect(key=f"iv_comp_{at.selectbox(key='iv_pick').value}").value)
    start = pd.Timestamp(INTERVENTION["start_date"])
    p = prepare(generate_dataset(seed=7))
    seg = INTERVENTION["segment"]
    cells = pd.concat([_cells_by_hand(p, [seg], 1, start), _cells_by_hand(p, comp, 0, start)], ignore_index=True)
    X = pd.get_dummies(cells["month"].astype(str), dtype=float)
    X["treated"] = cells["treated"].astype(float)
    X["treated_x_post"] = (cells["treated"] * cells["post"]).astype(float)
    b, _, _, _, (lo, hi) = _sm_fit(cells, "treated_x_post", X)
    expected = "reduced" if hi < 1 else "increased" if lo > 1 else "no clear change"

    metric = next(m for m in at.metric if m.label == "Difference-in-differences")
    assert metric.value == f"× {np.exp(b):.2f}"
    verdict = next(m.value for m in at.markdown if m.value.startswith("**Verdict**")).replace("\\", "")
    assert f"x {np.exp(b):.2f} of its expected return rate (95% CI {lo:.2f} to {hi:.2f})" in verdict
    assert f"Verdict: {expected}." in verdict and expected == "reduced"  # the demo plants 24% -> 16%

    # parallel trends: treated x month slope in the pre-period, statsmodels on the same cells
    m = pd.DatetimeIndex(cells["month"])
    cells["t"] = m.year * 12 + m.month
    pre = cells[cells["post"] == 0].reset_index(drop=True)
    Xp = pd.get_dummies(pre["month"].astype(str), dtype=float)
    Xp["treated"] = pre["treated"].astype(float)
    Xp["treated_x_time"] = pre["treated"] * (pre["t"] - pre["t"].mean())
    _, _, _, p_par, _ = _sm_fit(pre, "treated_x_time", Xp)
    lines = {
        x.value.split("**")[1]: x.value.replace("\\", "")
        for x in at.markdown
        if x.value.count("**") >= 2 and ("Parallel trends" in x.value or "Placebo date" in x.value)
    }
    assert f"p = {p_par:.{2 if p_par >= 0.05 else 3}f}" in lines["Parallel trends before"]
    # the placebo date is the middle month of the treated segment's pre-period months
    months = sorted(pre.loc[pre["treated"] == 1, "month"].unique())
    assert f"fake launch on {pd.Timestamp(months[len(months) // 2]):%d %b %Y}" in lines["Placebo date"]
