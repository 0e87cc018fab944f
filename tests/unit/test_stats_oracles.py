"""analysis.stats against the independent oracle cases in /work/shared/oracles/stats_oracles.json.

The oracle file (see its "schema") was generated with scipy 1.17 / statsmodels 0.15 and re-checked with
plain-Python arithmetic and against the published values of the cited sources (R prop.test,
prop.trend.test, fisher.test, mantelhaen.test, Newcombe 1998 Table II, stdlib padjust, Rosner).

For each case a producer builds, from analysis.stats only, a nested dict shaped like the case's
"expected" block. Every numeric/boolean/string leaf of "expected" must either be produced and match
within the case's tolerance, or be listed in NOT_PRODUCED with the reason (values of other libraries'
conventions that this API deliberately does not offer, or input echoes). A new oracle leaf that is
neither produced nor listed fails the test, so coverage cannot silently shrink.
"""

from __future__ import annotations

import fnmatch
import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps

from analysis import stats as st
from tests.conftest import ORACLES

MY_CASES = (
    1,
    2,
    5,
    6,
    7,
    8,
    9,
    12,
    13,
    14,
    18,
    19,
    20,
)  # 10, 11, 15-17: trends/interventions; 3: k-sample chi2, not in the product
# case 4 (Cochran-Armitage) is not implemented since issue 11: the Trends page's test is the quasi-binomial
# trend test (analysis.trends.trend_test, checked against statsmodels in tests/unit/test_trend_test.py)


def _load() -> list[dict]:
    if not ORACLES.exists():
        return []
    return json.loads(ORACLES.read_text())["cases"]


CASES = _load()
pytestmark = pytest.mark.skipif(
    not CASES, reason=f"oracle file {ORACLES} is absent (it lives in the shared folder, not the repo)"
)


# ---------------------------------------------------------------------------------------------
# comparison machinery (schema: |got-exp| <= max(abs, rel*|exp|), overrides, published_* keys)
# ---------------------------------------------------------------------------------------------
# Paths are tuples of keys (some keys contain dots, e.g. "normal_99.8"); patterns in the oracle's
# field_overrides and in NOT_PRODUCED are matched against the dotted form of every path prefix.
def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, path + (str(k),))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, path + (i,))
    else:
        yield path, obj


def _get(obj, path):
    for part in path:
        obj = obj[part]
    return obj


def _prefixes(path: tuple) -> list[str]:
    return [".".join(map(str, path[: i + 1])) for i in range(len(path))]


def _published(path: tuple) -> bool:
    return any(isinstance(p, str) and p.startswith("published") for p in path)


def _tolerance(tol: dict, path: tuple) -> tuple[float, float]:
    if _published(path):
        # a case without published_values_* tolerances holds its published values to the base one
        rel = tol.get("published_values_rel", tol.get("rel", 0.0))
        ab = tol.get("published_values_abs", tol.get("abs", 0.0))
    else:
        rel, ab = tol.get("rel", 0.0), tol.get("abs", 0.0)
    for pattern, over in tol.get("field_overrides", {}).items():
        if any(fnmatch.fnmatchcase(p, pattern) for p in _prefixes(path)):
            rel, ab = over.get("rel", rel), over.get("abs", ab)
    return rel, ab


def _num(v):
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def _check_case(case: dict, got: dict, not_produced: set[str]) -> int:
    tol = case["tolerance"]
    checked, failures = 0, []
    for path, exp in _leaves(case["expected"]):
        name = ".".join(map(str, path))
        if any(fnmatch.fnmatchcase(prefix, pat) for prefix in _prefixes(path) for pat in not_produced):
            continue
        try:
            val = _get(got, path)
        except (KeyError, IndexError, TypeError):
            failures.append(f"{name}: not produced (expected {exp!r})")
            continue
        exp = _num(exp)
        if isinstance(exp, bool) or isinstance(exp, str):
            ok = (bool(val) == exp) if isinstance(exp, bool) else (val == exp)
        elif isinstance(exp, int) and not _published(path):
            ok = float(val) == exp
        else:
            rel, ab = _tolerance(tol, path)
            e, g = float(exp), float(val)
            if math.isnan(e) or math.isinf(e):
                ok = (math.isnan(e) and math.isnan(g)) or e == g
            else:
                ok = abs(g - e) <= max(ab, rel * abs(e))
        checked += 1
        if not ok:
            failures.append(f"{name}: got {val!r}, expected {exp!r}")
    assert not failures, f"case {case['name']}:\n" + "\n".join(failures)
    return checked


def _f(a):
    """numpy -> plain python (nested lists of floats)."""
    return np.asarray(a, dtype=float).tolist()


# ---------------------------------------------------------------------------------------------
# producers: case number -> (got dict, leaves deliberately not produced)
# ---------------------------------------------------------------------------------------------
def _two_prop_battery(inp: dict) -> dict:
    x1, n1 = inp["x1_returned_segment"], inp["n1_units_segment"]
    x2, n2 = inp["x2_returned_rest"], inp["n2_units_rest"]
    two = st.segment_vs_rest(x1, n1, x2, n2, alternative="two-sided")
    one = st.segment_vs_rest(x1, n1, x2, n2, alternative="larger")
    rr, rr_lo, rr_hi = st.risk_ratio(x1, n1, x2, n2)
    return {
        "p1": float(two["p1"]),
        "p2": float(two["p2"]),
        "diff": float(two["diff"]),
        "pooled_p": float(two["pooled_p"]),
        "se_pooled": float(two["se_pooled"]),
        "z": float(two["z"]),
        "p_two_sided": float(two["p_z"]),
        "p_one_sided_greater": float(one["p_z"]),
        "min_expected": float(two["min_expected"]),
        "fisher_p_two_sided": float(st.fisher_exact_p(x1, n1, x2, n2, "two-sided")),
        "fisher_p_greater": float(st.fisher_exact_p(x1, n1, x2, n2, "larger")),
        "fisher_p_less": float(st.fisher_exact_p(x1, n1, x2, n2, "smaller")),
        "wilson_ci_p1": _f(st.wilson_interval(x1, n1)),
        "wilson_ci_p2": _f(st.wilson_interval(x2, n2)),
        "newcombe_hybrid_ci_diff": _f(st.newcombe_diff_interval(x1, n1, x2, n2)),
        "risk_ratio": float(rr),
        "risk_ratio_ci_katz_log": [float(rr_lo), float(rr_hi)],
        "recommended_test": {
            "z": "z_test_pooled(=pearson_chi2_no_yates)",
            "fisher": "fisher_exact",
        }[str(one["test"])],
    }


# Yates and Campbell's N-1 chi2 are reported by the oracle only to show they are NOT used (METHOD
# 2.1); the sample odds ratio is scipy's fisher_exact statistic, not part of this API.
# Pearson's chi2 (= z squared) and its expected counts are not computed separately by the product.
_BATTERY_SKIP = {
    "chi2_yates",
    "p_chi2_yates",
    "chi2_n_minus_1",
    "p_chi2_n_minus_1",
    "odds_ratio_sample",
    "chi2_pearson",
    "p_chi2_pearson",
    "expected_counts",
}


def case_1(case):
    return _two_prop_battery(case["inputs"]), _BATTERY_SKIP


def case_2(case):
    return _two_prop_battery(case["inputs"]), _BATTERY_SKIP


def _fisher_table(t, alternative):
    (a, b), (c, d) = t
    return float(st.fisher_exact_p(a, a + b, c, c + d, alternative))


def case_5(case):
    tea, wh = case["inputs"]["tea_tasting"], case["inputs"]["whales_sharks"]
    got = {
        "tea_tasting": {
            "p_greater": _fisher_table(tea, "larger"),
            "p_two_sided": _fisher_table(tea, "two-sided"),
            "published_R": {"p_greater": _fisher_table(tea, "larger")},
        },
        "whales_sharks": {
            "p_two_sided": _fisher_table(wh, "two-sided"),
            "published_scipy_docs": {"pvalue_approx": _fisher_table(wh, "two-sided")},
        },
    }
    # odds ratios (sample ad/bc and R's conditional MLE) are estimator conventions of scipy/R;
    # the dashboard reports risk differences/ratios instead.
    skip = {"*odds_ratio", "*published_R.conditional_mle_odds_ratio", "*published_scipy_docs.statistic"}
    return got, skip


def case_6(case):
    got = {}
    for xn in case["inputs"]["cases_x_over_n"]:
        x, n = map(int, xn.split("/"))
        got[xn] = {
            "wilson": _f(st.wilson_interval(x, n)),
            "wilson_one_sided_95_lower": float(st.wilson_lower_one_sided(x, n)),
        }
    got["published_newcombe_1998_wilson_4dp"] = {
        k: got[k]["wilson"] for k in case["expected"]["published_newcombe_1998_wilson_4dp"]
    }
    # Agresti-Coull, Clopper-Pearson, Wald and statsmodels' raw Jeffreys are other conventions that
    # METHOD 3 does not adopt for this API.
    # Jeffreys is not used by the product (Wilson is; issue 15 removed the test-only statistics).
    skip = {"*.agresti_coull", "*.clopper_pearson", "*.jeffreys_statsmodels_raw", "*.wald", "*.jeffreys_bcd"}
    return got, skip


def case_7(case):
    got = {}
    for key, p in case["inputs"].items():
        bh = st.bh_adjust(p)
        got[key] = {
            "bh_adjusted": _f(bh),
            "bh_reject_q05": (bh <= 0.05).tolist(),
            "bh_reject_q10": (bh <= 0.10).tolist(),
            "published_bh": _f(bh),
        }
    # p_raw echoes the input; Holm and Bonferroni are not used by the product (one BH family, METHOD 5).
    return got, {"*.p_raw", "*.bonferroni_adjusted", "*.holm_*", "*.published_holm"}


def _rank_desc(v):
    # rank 1 = highest; the oracle's values have no ties
    v = np.asarray(v, dtype=float)
    r = np.empty(v.size, dtype=int)
    r[np.argsort(-v, kind="mergesort")] = np.arange(1, v.size + 1)
    return r.tolist()


def case_8(case):
    x, n = case["inputs"]["x_returned"], case["inputs"]["n_units"]
    wm, nv, ml = (st.fit_beta_prior(x, n, m) for m in ("moments", "naive", "mle"))
    s_wm, s_nv, s_ml = st.shrink(x, n, wm), st.shrink(x, n, nv), st.shrink(x, n, ml)
    got = {
        "weighted_moment_prior": {"m": wm.mean, "rho": wm.rho, "ab": wm.strength, "alpha": wm.alpha, "beta": wm.beta},
        "naive_moment_prior": {"mu": nv.mean, "ab": nv.strength, "alpha": nv.alpha, "beta": nv.beta},
        "mle_prior": {
            "alpha": ml.alpha,
            "beta": ml.beta,
            "ab": ml.strength,
            "mean": ml.mean,
            "neg_loglik": ml.neg_loglik,
        },
        "raw_rate": _f(s_wm["raw_rate"]),
        "posterior_mean_weighted_moment": _f(s_wm["posterior_mean"]),
        "credible_95_lower_weighted_moment": _f(s_wm["ci_low"]),
        "credible_95_upper_weighted_moment": _f(s_wm["ci_high"]),
        "shrinkage_weight_weighted_moment": _f(s_wm["shrinkage_weight"]),
        "posterior_mean_naive_moment": _f(s_nv["posterior_mean"]),
        "posterior_mean_mle": _f(s_ml["posterior_mean"]),
        "rank_raw_desc": _rank_desc(s_wm["raw_rate"]),
        "rank_posterior_weighted_moment_desc": _rank_desc(s_wm["posterior_mean"]),
    }
    # S (the weighted sum of squares) and the naive variance are intermediate quantities, not outputs.
    return got, {"weighted_moment_prior.S", "naive_moment_prior.var_ddof1"}


def case_9(case):
    inp, exp = case["inputs"], case["expected"]
    theta0 = inp["theta0"]
    got = {"limits": {}}
    for method in ("exact", "normal"):
        lim = st.funnel_limits(inp["n_values"], theta0, levels=(0.95, 0.998), method=method)
        for _, row in lim.iterrows():
            block = got["limits"].setdefault(str(int(row["n"])), {})
            for label in ("95", "99.8"):
                if method == "normal":
                    block[f"normal_{label}"] = [row[f"lower_{label}_raw"], row[f"upper_{label}_raw"]]
                else:
                    block[f"exact_interp_{label}"] = [row[f"lower_{label}_raw"], row[f"upper_{label}_raw"]]
                    block[f"exact_interp_{label}_clipped01"] = [row[f"lower_{label}"], row[f"upper_{label}"]]
                    block[f"r_p_{label}"] = [row[f"r_lower_{label}"], row[f"r_upper_{label}"]]
    assert set(got["limits"]) == set(exp["limits"])
    # the over-dispersion estimates (phi, tau2) are not used by the product's funnel (issue 15)
    return got, {"overdispersion"}


def _cmh_case(case):
    tables = np.asarray(case["inputs"]["tables_2x2xK"], dtype=float)
    r0 = st.cmh_test(tables, correction=False)
    r1 = st.cmh_test(tables, correction=True)
    got = {
        "cmh_chi2_no_correction": r0["statistic"],
        "p_no_correction": r0["p_value"],
        "cmh_chi2_continuity_corrected": r1["statistic"],
        "p_continuity_corrected": r1["p_value"],
        "mh_common_odds_ratio": r1["mh_odds_ratio"],
        "mh_log_or_se_rbg": r1["mh_log_or_se"],
        "mh_or_95ci_rbg": list(r1["mh_or_ci"]),
        "crude_pooled_table": _f(r1["crude_table"]),
        "crude_odds_ratio": r1["crude_odds_ratio"],
        "stratum_odds_ratios": _f(r1["stratum_odds_ratios"]),
        "sum_a_minus_E": r1["sum_a_minus_e"],
        "sum_var": r1["sum_var"],
        "breslow_day_chi2": r1["breslow_day_statistic"],
        "breslow_day_p": r1["breslow_day_p"],
        "breslow_day_tarone_chi2": r1["breslow_day_tarone_statistic"],
        "breslow_day_tarone_p": r1["breslow_day_tarone_p"],
        "woolf_chi2": r1["woolf_statistic"],
        "woolf_p": r1["woolf_p"],
    }
    return got, r1


def case_12(case):
    got, r = _cmh_case(case)
    crude = np.asarray(r["crude_table"])
    # UCB layout: rows admitted/rejected, columns male/female -> admit rate = column share
    got["aggregate_admit_rate_male"] = crude[0, 0] / crude[:, 0].sum()
    got["aggregate_admit_rate_female"] = crude[0, 1] / crude[:, 1].sum()
    got["published_R"] = {
        "Mantel-Haenszel X-squared (continuity corrected)": got["cmh_chi2_continuity_corrected"],
        "p-value": got["p_continuity_corrected"],
        "common odds ratio": got["mh_common_odds_ratio"],
        "95% CI": got["mh_or_95ci_rbg"],
    }
    got["published_R_woolf_heterogeneity_p"] = got["woolf_p"]
    return got, set()


def case_13(case):
    got, _ = _cmh_case(case)
    got["published_R"] = {"p_classical_continuity_corrected": got["p_continuity_corrected"]}
    # exact conditional CMH p-values are listed by the oracle "for reference only".
    return got, {"published_R.p_exact_conditional", "published_R.p_exact_greater"}


def case_14(case):
    got, r = _cmh_case(case)
    tables = np.asarray(case["inputs"]["tables_2x2xK"], dtype=float)
    # per stratum [[A_returned, A_kept], [B_returned, B_kept]]
    rate_a = tables[:, 0, 0] / tables[:, 0].sum(axis=1)
    rate_b = tables[:, 1, 0] / tables[:, 1].sum(axis=1)
    weights = tables.sum(axis=(1, 2)) / tables.sum()
    crude = np.asarray(r["crude_table"])
    got.update(
        {
            "aggregate_rate_A": crude[0, 0] / crude[0].sum(),
            "aggregate_rate_B": crude[1, 0] / crude[1].sum(),
            "stratum_rates": {
                name: [float(rate_a[i]), float(rate_b[i])] for i, name in enumerate(case["inputs"]["strata"])
            },
            "intent_mix_weights": _f(weights),
        }
    )
    # The intent-adjusted logistic regression is a statsmodels GLM fit, not part of this API; direct
    # standardisation is not used by the product (the Simpson check uses CMH).
    return got, {"glm_adjusted_*", "direct_standardised_*"}


def case_18(case):
    lines = pd.DataFrame(case["inputs"]["lines"])
    exp = case["expected"]
    lines["segment"] = np.where(lines["coll_x"] == 1, "coll_x", "other")
    lines["units"] = 1
    rs = st.rao_scott_deff(lines, "segment", "order_id", "returned", "units")
    groups = {
        g: {
            "lines": rs.at[g, "n"],
            "returned": rs.at[g, "x"],
            "orders": rs.at[g, "clusters"],
            "p": rs.at[g, "p"],
            "var_cluster": rs.at[g, "var_cluster"],
            "var_srs": rs.at[g, "var_srs"],
            "deff": rs.at[g, "deff"],
            "n_effective": rs.at[g, "n_eff"],
            "x_effective": rs.at[g, "x_eff"],
        }
        for g in rs.index
    }
    naive = st.segment_vs_rest(8, 11, 4, 18, alternative="two-sided")
    adj = st.segment_vs_rest(
        rs.at["coll_x", "x_eff"],
        rs.at["coll_x", "n_eff"],
        rs.at["other", "x_eff"],
        rs.at["other", "n_eff"],
        alternative="two-sided",
    )
    got = {
        "n_obs": len(lines),
        "n_clusters": int(lines["order_id"].nunique()),
        "rao_scott": {
            "groups": groups,
            "z_naive_line_level": float(naive["z"]),
            "p_naive_two_sided": float(naive["p_z"]),
            # the oracle applies the pooled z-test to the effective counts (METHOD 4.2)
            "z_rao_scott": float(adj["z"]),
            "p_rao_scott_two_sided": float(adj["p_z"]),
        },
    }
    assert set(groups) == set(exp["rao_scott"]["groups"])
    # Model-based SEs, the CR1 factor and GEE fits are statsmodels internals, not part of this API; the
    # cluster-robust GLM and the ANOVA ICC are not used by the product (Rao-Scott is; issue 15).
    skip = {"glm_*", "cr1_factor", "gee_*", "k_params", "anova_icc*"}
    return got, skip


def case_19(case):
    inp = case["inputs"]
    cells = inp["basket_cells"]
    args = []
    for key in ("00", "10", "01", "11"):
        args += [cells[key]["orders_with_any_return"], cells[key]["orders"]]
    r = st.pair_interaction(*args)
    n_ab = cells["11"]["orders"]
    n_a = cells["10"]["orders"] + n_ab
    n_b = cells["01"]["orders"] + n_ab
    N = sum(c["orders"] for c in cells.values())
    p0 = sum(c["orders_with_any_return"] for c in cells.values()) / N
    wb, wob = inp["A_line_returns_with_B"], inp["A_line_returns_without_B"]
    lift = st.segment_vs_rest(wb["returned"], wb["lines"], wob["returned"], wob["lines"], "two-sided")
    got = {
        "glm_params": {
            "const": r["logit_p00"],
            "hasA": r["log_or_a"],
            "hasB": r["log_or_b"],
            "A_x_B": r["interaction_log_or"],
        },
        "glm_bse": {"A_x_B": r["interaction_se"]},
        "glm_pvalues": {"A_x_B": r["p_two_sided"]},
        "interaction_log_or": r["interaction_log_or"],
        "interaction_or": r["interaction_or"],
        "interaction_se": r["interaction_se"],
        "cell_rates": {"00": r["p00"], "10": r["p10"], "01": r["p01"], "11": r["p11"]},
        "expected_p11_additive": r["expected_p11_additive"],
        "expected_p11_multiplicative": r["expected_p11_multiplicative"],
        "RERI": r["reri"],
        "observed_minus_expected_returns_additive": r["excess_returns_additive"],
        "support_AB": n_ab / N,
        "lift_copurchase": float(st.co_purchase_lift(n_ab, n_a, n_b, N)),
        "n_A": n_a,
        "n_B": n_b,
        "n_AB": n_ab,
        "N_orders": N,
        "pooled_any_return_rate_p0": p0,
        "passes_min_support": bool(n_ab >= inp["min_support_orders"] and n_ab * p0 >= inp["min_expected_returns"]),
        "A_return_lift_with_B": float(lift["risk_ratio"]),
        "A_return_lift_ci_katz": [float(lift["rr_low"]), float(lift["rr_high"])],
        "A_with_vs_without_z": float(lift["z"]),
        "A_with_vs_without_p_two_sided": float(lift["p_z"]),
        "A_with_vs_without_fisher_p_two_sided": float(
            st.fisher_exact_p(wb["returned"], wb["lines"], wob["returned"], wob["lines"], "two-sided")
        ),
    }
    # SEs/p-values of the main effects are GLM outputs of the saturated fit; the API reports the
    # interaction (the quantity the pair screen uses) and the closed-form main-effect log-ORs.
    return got, {
        "glm_bse.const",
        "glm_bse.hasA",
        "glm_bse.hasB",
        "glm_pvalues.const",
        "glm_pvalues.hasA",
        "glm_pvalues.hasB",
    }


def case_20(case):
    inp = case["inputs"]
    x, n, c = (np.asarray(inp[k], dtype=float) for k in ("x_returned", "n_units", "cost_per_return"))
    p0 = inp["baseline_p0"]
    prior = st.BetaPrior(
        inp["eb_prior_alpha"], inp["eb_prior_beta"], 1 / (inp["eb_prior_alpha"] + inp["eb_prior_beta"] + 1), "given"
    )
    post = st.shrink(x, n, prior)
    # the exact binomial p-values are the input of bh_adjust here (scipy.stats.binomtest, one-sided)
    p = np.array([sps.binomtest(int(a), int(b), p0, alternative="greater").pvalue for a, b in zip(x, n)])
    q = st.bh_adjust(p)
    ex = st.excess_returns(x, n, p0, post["posterior_mean"], c, q, q_threshold=inp["fdr_q"])
    labels = np.asarray(inp["segments"])
    got = {
        "expected_returns": _f(ex["expected"]),
        "excess_returns": _f(ex["excess"]),
        "excess_cost_raw": _f(ex["excess_cost"]),
        "posterior_mean": _f(post["posterior_mean"]),
        "shrunk_excess_returns": _f(ex["shrunk_excess"]),
        "shrunk_excess_cost": _f(ex["shrunk_excess_cost"]),
        "wilson_lower_one_sided_95": _f(ex["wilson_lower"]),
        "conservative_excess_returns": _f(ex["conservative_excess"]),
        "conservative_excess_cost": _f(ex["conservative_excess_cost"]),
        "p_one_sided_exact_binomial": _f(p),
        "bh_q": _f(q),
        "passes_gate": ex["gate"].tolist(),
        "priority_score": _f(ex["priority_score"]),
        "rank_by_raw_rate": labels[np.argsort(-(x / n), kind="mergesort")].tolist(),
        "rank_by_raw_excess_cost": labels[np.argsort(-ex["excess_cost"], kind="mergesort")].tolist(),
    }
    # the fix list orders its rows by analysis.fixlist.order_rows (tests/unit/test_fixlist.py)
    return got, {"fix_list_order"}


PRODUCERS = {i: globals()[f"case_{i}"] for i in MY_CASES if f"case_{i}" in globals()}


@pytest.mark.parametrize("number", sorted(PRODUCERS))
def test_oracle_case(number):
    case = CASES[number - 1]
    got, skip = PRODUCERS[number](case)
    checked = _check_case(case, got, skip)
    assert checked >= 3, f"case {number}: only {checked} leaves checked"


def test_every_case_of_mine_has_a_producer():
    assert sorted(PRODUCERS) == sorted(MY_CASES)


def test_comparison_machinery_detects_a_wrong_value():
    # guard against a checker that cannot fail: perturb one produced leaf of case 1
    case = CASES[0]
    got, skip = case_1(case)
    got["z"] = got["z"] * (1 + 1e-4)
    with pytest.raises(AssertionError, match="z: got"):
        _check_case(case, got, skip)
