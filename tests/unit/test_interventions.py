"""analysis.interventions on data with a planted guidance effect (and placebos where nothing changed).

Ground truth: tests.unit.test_trends.synthetic_dataset plants Hiking Jackets 24% -> 16% from
2023-01-01 (all other collections constant); data.demo plants the same drop at INTERVENTION.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from analysis.interventions import RESULT_KEYS, Intervention, evaluate, evaluate_all
from analysis.prepare import prepare
from data.errors import AnalysisError
from tests.unit.test_trends import synthetic_dataset

START = "2023-01-01"


@pytest.fixture(scope="module")
def prepared():
    return prepare(synthetic_dataset(seed=11, n_orders=15000))


@pytest.fixture(scope="module")
def result(prepared):
    return evaluate(prepared, Intervention("collection", "Hiking Jackets", START, "Fit video"))


def test_planted_drop_detected(result):
    r = result
    assert r.method == "did"
    assert r.rate_before == pytest.approx(0.24, abs=0.025) and r.rate_after == pytest.approx(0.16, abs=0.025)
    # true: x 2/3 (24% -> 16%), i.e. -8 points on the treated rate; comparisons constant
    assert r.did.points == pytest.approx(-0.08, abs=0.03)
    assert r.did.ci_low < 2 / 3 < r.did.ci_high and r.did.points_ci_low < -0.08 < r.did.points_ci_high
    assert r.did.p_value < 0.001 and r.significant and r.direction == "reduced"
    assert 2 <= len(r.comparison_segments) <= 5 and "Hiking Jackets" not in r.comparison_segments
    assert r.returns_avoided > 0
    assert r.verdict.startswith("The return rate of Hiking Jackets fell from")
    assert "p < 0.001" in r.verdict and "returns avoided so far" in r.verdict
    # ITS (descriptive beside the DiD): 12 matured months before, ~11 after: level drops
    assert r.its is not None and r.its.level_change_odds_ratio < 1 and r.its.level_ci_high < 1


def test_before_after_uses_matured_orders_by_order_date(prepared, result):
    L = prepared.lines
    m = L[L["mature"] & (L["collection"] == "Hiking Jackets")]
    pre, post = m[m["order_date"] < START], m[m["order_date"] >= START]
    # independent plain-pandas rates
    assert result.rate_before == pytest.approx(pre["returned_units"].sum() / pre["quantity"].sum(), rel=1e-12)
    assert result.rate_after == pytest.approx(post["returned_units"].sum() / post["quantity"].sum(), rel=1e-12)
    assert result.orders_after == post["order_id"].nunique()
    assert (
        result.immature_orders_excluded
        == L.loc[~L["mature"] & (L["collection"] == "Hiking Jackets"), "order_id"].nunique()
    )
    assert any("return window" in c for c in result.caveats)


def test_chart_data(result):
    ch = result.chart
    assert {"month", "treated_rate", "comparison_rate", "counterfactual_rate", "phase"} <= set(ch.columns)
    after = ch[ch["phase"] == "after"]
    assert (
        after["counterfactual_rate"].notna().all()
        and ch.loc[ch["phase"] == "before", "counterfactual_rate"].isna().all()
    )
    assert (after["counterfactual_rate"] > after["its_fitted"]).all()
    assert result.launch_date == pd.Timestamp(START)


def test_power_plan_equals_statsmodels(result):
    plan = result.power
    p0 = result.rate_before
    # statsmodels: NormalIndPower().solve_power(proportion_effectsize(p0, 0.8 p0), alpha=0.05, power=0.8)
    n = NormalIndPower().solve_power(effect_size=proportion_effectsize(p0, p0 * 0.8), alpha=0.05, power=0.8)
    assert plan.units_per_arm_srs == pytest.approx(n, rel=1e-9)
    assert plan.units_needed == pytest.approx(n * plan.design_effect, rel=1e-9)
    assert plan.orders_needed == int(np.ceil(plan.units_needed / plan.units_per_order))
    assert plan.orders_matured == result.orders_after


def test_placebo_in_null_collection_not_significant():
    # 5 months before the real launch, in collections where nothing changed; the real treated collection is
    # in the log, so evaluate_all keeps it out of the comparison pool. Over 10 seeds at alpha = 0.05 we
    # expect about 0.5 false alarms.
    false_alarms = runs = 0
    for seed in range(10):
        p = prepare(synthetic_dataset(seed=200 + seed, n_orders=6000))
        log = pd.DataFrame(
            {
                "dimension": ["collection"] * 2,
                "segment": ["Hiking Jackets", ["Fleece", "Trousers"][seed % 2]],
                "start_date": [START, "2022-08-01"],
            }
        )
        row = evaluate_all(p, log)[1]
        assert "Hiking Jackets" not in row["comparison_segments"]
        runs += 1
        false_alarms += bool(row["did_p_value"] < 0.05)
    assert runs == 10 and false_alarms <= 1


def test_evaluate_all_rows_and_bad_rows(prepared):
    log = pd.DataFrame(
        {
            "dimension": ["collection", "collection", "colour", "collection", "collection"],
            "segment": ["Hiking Jackets", "Nope", "Red", "Fleece", "Socks"],
            "start_date": [START, START, START, "2030-01-01", "not a date"],
            "description": ["Fit video", None, None, None, None],
        }
    )
    rows = evaluate_all(prepared, log)
    assert len(rows) == 5
    for r in rows:
        assert set(RESULT_KEYS) <= set(r)
    assert rows[0]["did_p_value"] < 0.001 and rows[0]["diff"] < 0
    # the comparisons are constant in truth, so DiD and the before/after change agree within noise
    assert rows[0]["did_estimate"] == pytest.approx(rows[0]["diff"], abs=0.03)
    assert "Unknown segment" in rows[1]["verdict"] and "Nope" in rows[1]["verdict"]
    assert "Unknown dimension" in rows[2]["verdict"]
    assert "No matured orders after" in rows[3]["verdict"]
    assert "not a date" in rows[4]["verdict"]
    assert np.isnan(rows[1]["did_estimate"])
    assert evaluate_all(prepared, log.iloc[0:0]) == []


def test_demo_intervention_recovered():
    from data import demo  # the project's own module: an import error fails, never skips

    ds = demo.generate_dataset(seed=3, n_orders=20000)
    p = prepare(ds)
    rows = evaluate_all(p, ds.interventions)
    assert len(rows) == 1
    r = rows[0]
    # the logged change is the declared one, so its declared true effect is the target (no fallback value)
    assert ds.interventions["start_date"].iloc[0].date() == demo.INTERVENTION["start_date"]
    true = demo.INTERVENTION["true_effect"]
    assert r["did_estimate"] < 0 and r["did_p_value"] < 0.05
    assert r["did_estimate"] == pytest.approx(true, abs=0.05)
    assert set(r["comparison_segments"]) == set(demo.INTERVENTION["comparison"])  # same category, untreated


def test_comparison_override_and_validation(prepared):
    r = evaluate(prepared, Intervention("collection", "Hiking Jackets", START), comparison=["Socks", "Fleece"])
    assert r.comparison_segments == ("Socks", "Fleece") and not r.comparison_auto
    with pytest.raises(ValueError, match="not untreated"):
        evaluate(prepared, Intervention("collection", "Hiking Jackets", START), comparison=["Hiking Jackets", "Socks"])
    with pytest.raises(AnalysisError):
        evaluate(prepared, Intervention("collection", "Nope", START))
    with pytest.raises(ValueError):
        Intervention("collection", "x", "soon")


def test_washout_and_short_series(prepared):
    r = evaluate(prepared, Intervention("collection", "Hiking Jackets", START), washout_days=20)
    assert r.first_post_date == pd.Timestamp("2023-01-21")
    assert any("washout" in c for c in r.caveats)
    L = prepared.mature_lines
    post = L[(L["collection"] == "Hiking Jackets") & (L["order_date"] >= "2023-01-21")]
    assert r.units_after == post["quantity"].sum()
    # only 4 matured months after launch: no ITS, and the caveat says so
    late = evaluate(prepared, Intervention("collection", "Hiking Jackets", "2023-08-01"))
    assert late.its is None and any("Too few months" in c for c in late.caveats)


def test_other_treated_segments_left_out_as_a_copy_of_the_data_without_them_would():
    """evaluate_all leaves the other logged segments of a dimension out of a row's evaluation inside evaluate()
    (its own frames, with the Prepared's order codes); the reference is the definition it replaced: the same
    evaluate() on a Prepared whose lines lack those segments (a copy, its codes computed afresh)."""
    import dataclasses

    from analysis.prepare import Filters, filter_prepared
    from data.demo import generate_dataset

    p = filter_prepared(prepare(generate_dataset(seed=7, n_orders=30000)), Filters(channels=("Web", "App")))
    iv = Intervention("collection", "Summer Dresses", pd.Timestamp("2026-02-01"), "size advice")
    others = {"Hiking Jackets", "Linen Shirts"}
    got = evaluate(p, iv, _exclude=others)
    copy = dataclasses.replace(p, lines=p.lines[~p.lines["collection"].isin(list(others))])
    want = evaluate(copy, iv)
    assert got.method == want.method == "did"
    assert not others & set(got.comparison_segments)
    _assert_same(dataclasses.asdict(got), dataclasses.asdict(want), "result")


def _assert_same(a, b, where: str) -> None:
    """Equal values, recursively (dicts, sequences, frames, arrays; NaN equals NaN)."""
    if isinstance(b, pd.DataFrame):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), obj=where)
    elif isinstance(b, pd.Series):
        pd.testing.assert_series_equal(a.reset_index(drop=True), b.reset_index(drop=True), obj=where)
    elif isinstance(b, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in b:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(b, float) and np.isnan(b):
        assert isinstance(a, float) and np.isnan(a), where
    else:
        assert a == b, where
