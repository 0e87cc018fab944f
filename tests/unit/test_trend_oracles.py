"""Oracle cases 10, 11 (control charts), 15, 16, 17 (interventions) from ../shared/oracles/stats_oracles.json.

Expected values come from the oracle file (statsmodels 0.15 / scipy / numpy / published textbook values,
see each case's "source"); every numeric leaf our API produces is compared with the case tolerance
|got - exp| <= max(abs, rel * |exp|), field_overrides and published_values_* as documented in its schema.
"""

from __future__ import annotations

import fnmatch
import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from analysis.interventions import before_after, did_2x2, segmented_regression
from analysis.trends import laney_p_prime, p_chart
from tests.conftest import ORACLES

pytestmark = pytest.mark.skipif(not ORACLES.exists(), reason=f"oracle file {ORACLES} is absent")


def _case(name: str) -> dict:
    cases = json.loads(ORACLES.read_text())["cases"]
    return next(c for c in cases if c["name"] == name)


def _tol(case: dict, path: str) -> tuple[float, float]:
    tol = case["tolerance"]
    rel, abs_ = tol.get("rel", 0.0), tol.get("abs", 0.0)
    if path.split(".")[-1].startswith("published") or ".published" in path or path.startswith("published"):
        rel = tol.get("published_values_rel", rel)
        abs_ = tol.get("published_values_abs", abs_)
    for pattern, o in tol.get("field_overrides", {}).items():
        if fnmatch.fnmatch(path, pattern):
            rel, abs_ = o.get("rel", rel), o.get("abs", abs_)
    return rel, abs_


def check(case: dict, path: str, got, expected=None) -> None:
    """Compare one leaf (or a list of leaves) with the case tolerance."""
    exp = expected
    if exp is None:
        exp = case["expected"]
        for part in path.split("."):
            exp = exp[part]
    if isinstance(exp, list):
        got = list(np.asarray(got).tolist())
        assert len(got) == len(exp), path
        for g, e in zip(got, exp):
            check(case, path, g, e)
        return
    if isinstance(exp, bool):
        assert bool(got) is exp, path
        return
    rel, abs_ = _tol(case, path)
    got = float(got)
    assert math.isfinite(got), path
    assert abs(got - exp) <= max(abs_, rel * abs(exp)), f"{path}: got {got!r}, expected {exp!r}"


def test_case10_p_chart_constant_n_textbook():
    c = _case("p_chart_constant_n_published")
    i = c["inputs"]
    t = p_chart(i["defectives"], i["n_per_subgroup"], k=i["k_sigma"])
    check(c, "pbar", t["centre"][0])
    check(c, "sigma_p", t["sigma"][0])
    check(c, "UCL", t["ucl"][0])
    check(c, "LCL", t["lcl"][0])
    check(c, "p_i", t["p"])
    check(c, "out_of_control", t["flagged"])
    for k in ("pbar", "UCL", "LCL"):  # textbook Example 16.6: 0.16 / 0.2378 / 0.0822
        col = {"pbar": "centre", "UCL": "ucl", "LCL": "lcl"}[k]
        check(c, f"published.{k}", t[col][0])


def test_case11_p_chart_variable_n_and_laney():
    c = _case("p_chart_variable_n_and_laney_p_prime")
    i = c["inputs"]
    pc = p_chart(i["units_returned"], i["units_sold"], k=i["k_sigma"])
    check(c, "pbar", pc["centre"][0])
    check(c, "p_i", pc["p"])
    check(c, "sigma_i", pc["sigma"])
    check(c, "p_UCL", pc["ucl"])
    check(c, "p_LCL", pc["lcl"])
    check(c, "p_signal", pc["flagged"])
    check(c, "z_i", pc["z"])
    lc = laney_p_prime(i["units_returned"], i["units_sold"], k=i["k_sigma"])
    check(c, "mean_moving_range", lc.attrs["mean_moving_range"])
    check(c, "sigma_z", lc.attrs["sigma_z"])
    check(c, "sigma_z", lc["sigma_z"][0])
    check(c, "laney_UCL", lc["ucl"])
    check(c, "laney_LCL", lc["lcl"])
    check(c, "laney_signal", lc["flagged"])
    assert int(pc["flagged"].sum()) == 9 and int(lc["flagged"].sum()) == 1


def test_case15_before_after():
    c = _case("intervention_before_after_two_proportion")
    i = c["inputs"]
    r = before_after(i["x_before"], i["n_before"], i["x_after"], i["n_after"])
    check(c, "p1", r.rate_before)
    check(c, "p2", r.rate_after)
    # the oracle's group 1 is BEFORE and diff = p1 - p2; our change is after - before
    check(c, "diff", -r.change)
    check(c, "pooled_p", r.pooled_p)
    check(c, "se_pooled", r.se_pooled)
    check(c, "z", -r.z)
    check(c, "p_two_sided", r.p_two_sided)
    check(c, "p_two_sided", r.p_value)  # every expected cell >= 5: the z-test is the reported test
    assert r.test == "z"
    check(c, "p_one_sided_greater", r.p_reduction)
    check(c, "chi2_pearson", r.chi2)
    check(c, "fisher_p_two_sided", r.fisher_p_two_sided)
    check(c, "fisher_p_greater", r.fisher_p_reduction)
    check(c, "newcombe_hybrid_ci_diff", [-r.ci_high, -r.ci_low])
    # risk ratio before/after in the oracle; ours is after/before
    check(c, "risk_ratio", 1 / r.risk_ratio)
    check(c, "risk_ratio_ci_katz_log", [1 / r.risk_ratio_ci_high, 1 / r.risk_ratio_ci_low])
    check(c, "relative_reduction", r.relative_reduction)


def test_case16_difference_in_differences():
    c = _case("intervention_difference_in_differences_2x2")
    i = c["inputs"]
    t, k = i["treated"], i["control"]
    r = did_2x2(
        t["pre"]["x"],
        t["pre"]["n"],
        t["post"]["x"],
        t["post"]["n"],
        k["pre"]["x"],
        k["pre"]["n"],
        k["post"]["x"],
        k["post"]["n"],
    )
    check(c, "rates.treated_pre", r.treated_pre)
    check(c, "rates.treated_post", r.treated_post)
    check(c, "rates.control_pre", r.control_pre)
    check(c, "rates.control_post", r.control_post)
    check(c, "risk_difference.did", r.did)
    check(c, "risk_difference.se", r.se)
    check(c, "risk_difference.z", r.z)
    check(c, "risk_difference.p_two_sided", r.p_value)
    check(c, "risk_difference.ci95", [r.ci_low, r.ci_high])
    check(c, "log_odds.did_log_or", r.did_log_or)
    check(c, "log_odds.ratio_of_odds_ratios", r.ratio_of_odds_ratios)
    check(c, "log_odds.se", r.se_log_or)
    check(c, "log_odds.z", r.z_log_or)
    check(c, "log_odds.p_two_sided", r.p_log_or)
    for name in ("const", "treated", "post", "treated_x_post"):
        check(c, f"log_odds.glm_params.{name}", r.glm_params[name])
        check(c, f"log_odds.glm_bse.{name}", r.glm_bse[name])
    check(c, "log_risk_ratio.did_log_rr", r.did_log_rr)
    check(c, "log_risk_ratio.ratio_of_risk_ratios", r.ratio_of_risk_ratios)
    check(c, "log_risk_ratio.se", r.se_log_rr)
    check(c, "log_risk_ratio.p_two_sided", r.p_log_rr)
    check(c, "counterfactual_treated_post_rate_additive", r.counterfactual_post_rate)
    check(c, "excess_returns_avoided_additive", r.returns_avoided)


def test_case17_segmented_regression_its():
    c = _case("intervention_interrupted_time_series_segmented_glm")
    i = c["inputs"]
    months = np.asarray(i["month_index"])
    jan = ((months - 1) % 12 == 0).astype(float)  # month 1 and 13 are Januaries in the case's design
    r = segmented_regression(i["units_returned"], i["units_sold"], i["intervention_first_month"], time=months, jan=jan)
    assert r.columns == tuple(i["design_columns"])
    for group, mine in (
        ("params", r.params),
        ("bse_binomial", r.bse_binomial),
        ("pvalues_binomial", r.pvalues_binomial),
        ("bse_quasibinomial", r.bse_quasibinomial),
        ("pvalues_quasibinomial", r.pvalues_quasibinomial),
    ):
        # (the case's HAC maxlags-2 values are not checked: the HAC p-value was dropped, anti-conservative
        # at this series length - issue 11 item 7, bench/calibration.py did_calibration)
        for name in i["design_columns"]:
            check(c, f"{group}.{name}", mine[name])
    check(c, "pearson_chi2", r.pearson_chi2)
    check(c, "df_resid", r.df_resid)
    check(c, "scale_X2", r.scale_x2)
    # the pitfall value must NOT be what we report
    assert abs(r.scale_x2 - c["expected"]["statsmodels_pitfall_scale_X2_with_2col_endog"]) > 0.1
    check(c, "level_change_odds_ratio", r.level_change_odds_ratio)
    check(c, "slope_change_odds_ratio_per_month", r.slope_change_odds_ratio)
    check(c, "fitted_rate_month24", r.fitted[-1])
    check(c, "counterfactual_rate_month24", r.counterfactual[-1])
    check(c, "relative_change_month24", r.relative_change_last)
    check(c, "returns_avoided_post_period", r.returns_avoided)
    check(c, "pearson_residual_lag1_autocorr", r.pearson_residual_lag1_autocorr)
    # phi < 1 here, so the level/slope p-values use the binomial SEs, referred to Student t on df_resid
    # (scipy on the case's own params, SEs and df; the normal reference is anti-conservative at 24 months)
    e = c["expected"]
    for name, got in (("post", r.level_p), ("time_since", r.slope_p)):
        z = e["params"][name] / e["bse_binomial"][name]
        check(c, f"params.{name}", got, float(2 * sps.t.sf(abs(z), e["df_resid"])))
