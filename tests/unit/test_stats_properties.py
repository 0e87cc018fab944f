"""analysis.stats: vectorised results equal scalar scipy/statsmodels calls, plus invariants.

Each expected value comes from an independent library call named in a comment (scipy 1.17,
statsmodels 0.15) or from a plain-Python re-computation written out in the test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

from analysis import stats as st

SCIPY_ALT = {"larger": "greater", "smaller": "less", "two-sided": "two-sided"}


def _random_tables(seed: int, size: int = 200):
    """Segment-vs-rest tables mixing tiny segments (Fisher regime) and large ones (z regime)."""
    rng = np.random.default_rng(seed)
    small = rng.random(size) < 0.5
    n1 = np.where(small, rng.integers(1, 40, size), rng.integers(100, 4000, size))
    n2 = np.where(rng.random(size) < 0.3, rng.integers(5, 60, size), rng.integers(200, 20000, size))
    p_rest = rng.uniform(0.01, 0.4, size)
    p_seg = np.clip(p_rest * rng.uniform(0.5, 2.5, size), 0, 1)
    x1 = rng.binomial(n1, p_seg)
    x2 = rng.binomial(n2, p_rest)
    return x1, n1, x2, n2


# ---------------------------------------------------------------------------------------------
# segment vs rest: switching rule, z and Fisher against the libraries
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alternative", ["larger", "smaller", "two-sided"])
def test_segment_vs_rest_matches_ztest_or_fisher_per_switching_rule(alternative):
    x1, n1, x2, n2 = _random_tables(seed=11)
    res = st.segment_vs_rest(x1, n1, x2, n2, alternative=alternative)
    n_fisher = 0
    for i in range(len(x1)):
        table = np.array([[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]])
        # scipy.stats.contingency.expected_freq: expected cells under independence
        e_min = sps.contingency.expected_freq(table).min()
        assert res["min_expected"][i] == pytest.approx(e_min, rel=1e-12)
        if e_min >= 5:
            # statsmodels proportions_ztest (pooled variance for two samples)
            z, p = proportions_ztest([x1[i], x2[i]], [n1[i], n2[i]], alternative=alternative)
            assert res["test"][i] == "z"
            assert res["z"][i] == pytest.approx(z, rel=1e-10)
            assert res["p_value"][i] == pytest.approx(p, rel=1e-9, abs=1e-300)
        else:
            n_fisher += 1
            # scipy.stats.fisher_exact
            p = sps.fisher_exact(table, alternative=SCIPY_ALT[alternative]).pvalue
            assert res["test"][i] == "fisher"
            assert res["p_value"][i] == pytest.approx(p, rel=1e-9, abs=1e-15)
    assert 30 < n_fisher < 170, "the random tables must exercise both regimes"


def test_fisher_two_sided_ties_and_symmetric_tables_match_scipy():
    # symmetric margins produce exactly tied probabilities; Irwin's rule must include the tie
    tables = [
        ((3, 1), (1, 3)),
        ((8, 2), (1, 5)),
        ((2, 2), (2, 2)),
        ((0, 5), (5, 0)),
        ((5, 0), (0, 5)),
        ((1, 9), (9, 1)),
        ((0, 10), (3, 7)),
        ((10, 0), (7, 3)),
        ((1, 1), (1, 1)),
    ]
    for (a, b), (c, d) in tables:
        got = float(st.fisher_exact_p(a, a + b, c, c + d, "two-sided"))
        # scipy.stats.fisher_exact two-sided
        assert got == pytest.approx(sps.fisher_exact([[a, b], [c, d]]).pvalue, rel=1e-9), (a, b, c, d)


@pytest.mark.parametrize("alternative", ["larger", "smaller", "two-sided"])
def test_fisher_vectorised_matches_scipy_on_sparse_and_balanced_tables(alternative):
    rng = np.random.default_rng(17)
    size = 300
    n1 = rng.integers(0, 60, size)
    n2 = np.where(rng.random(size) < 0.5, rng.integers(0, 60, size), rng.integers(1000, 300000, size))
    x1 = rng.binomial(n1, rng.uniform(0, 0.6, size))
    x2 = rng.binomial(n2, rng.uniform(0, 0.3, size))
    got = st.fisher_exact_p(x1, n1, x2, n2, alternative)
    for i in range(size):
        # scipy.stats.fisher_exact, one table at a time
        ref = sps.fisher_exact([[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]], SCIPY_ALT[alternative]).pvalue
        assert got[i] == pytest.approx(ref, rel=1e-8, abs=1e-14), (x1[i], n1[i], x2[i], n2[i])


def test_effective_counts_are_rounded_for_fisher_only():
    x1, n1, x2, n2 = 2.6, 9.4, 30.2, 410.7
    r = st.segment_vs_rest(x1, n1, x2, n2, alternative="larger")
    assert r["test"] == "fisher"
    # scipy.stats.fisher_exact on the rounded table [[3, 6], [30, 381]]
    assert float(r["p_value"]) == pytest.approx(
        sps.fisher_exact([[3, 6], [30, 381]], alternative="greater").pvalue, rel=1e-9
    )
    # the z statistic uses the unrounded effective counts (closed form written out)
    p1, p2, pp = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
    assert float(r["z"]) == pytest.approx((p1 - p2) / math.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2)), rel=1e-12)


def test_degenerate_rows_give_nan_or_one_not_errors():
    r = st.segment_vs_rest([0, 0, 3], [0, 10, 5], [5, 0, 0], [50, 100, 0])
    assert np.isnan(r["p_value"][0]) and np.isnan(r["p1"][0])  # empty segment
    assert r["test"][1] == "fisher" and r["p_value"][1] == 1.0  # nobody returned anything
    assert np.isnan(r["p_value"][2])  # empty rest


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="cannot exceed"):
        st.segment_vs_rest(5, 4, 1, 10)
    with pytest.raises(ValueError, match="non-negative"):
        st.wilson_interval(-1, 10)
    with pytest.raises(ValueError, match="alpha"):
        st.wilson_interval(1, 10, alpha=1.5)
    with pytest.raises(ValueError, match="alternative"):
        st.segment_vs_rest(1, 10, 2, 20, alternative="bigger")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        st.bh_adjust([0.2, 1.2])


# ---------------------------------------------------------------------------------------------
# intervals
# ---------------------------------------------------------------------------------------------
def test_wilson_matches_statsmodels_and_contains_the_rate():
    rng = np.random.default_rng(3)
    n = rng.integers(1, 3000, 300)
    x = rng.binomial(n, rng.uniform(0, 1, 300))
    x[:10] = 0
    x[10:20] = n[10:20]
    lo, hi = st.wilson_interval(x, n)
    # statsmodels proportion_confint(method='wilson')
    elo, ehi = proportion_confint(x, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(lo, elo, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hi, ehi, rtol=1e-9, atol=1e-12)
    assert np.all((0 <= lo) & (lo <= x / n) & (x / n <= hi) & (hi <= 1))
    assert np.all(lo[:10] == 0) and np.all(hi[10:20] == 1)
    one = st.wilson_lower_one_sided(x, n)
    # one-sided 95% bound = lower limit of the two-sided 90% Wilson interval
    np.testing.assert_allclose(one, proportion_confint(x, n, alpha=0.10, method="wilson")[0], rtol=1e-9, atol=1e-12)


def test_wilson_n_zero_is_nan():
    lo, hi = st.wilson_interval([0, 3], [0, 10])
    assert np.isnan(lo[0]) and np.isnan(hi[0]) and np.isfinite(lo[1])


def test_newcombe_matches_statsmodels():
    x1, n1, x2, n2 = _random_tables(seed=8, size=150)
    keep = (n1 > 0) & (n2 > 0)
    lo, hi = st.newcombe_diff_interval(x1, n1, x2, n2)
    for i in np.flatnonzero(keep):
        # statsmodels confint_proportions_2indep(method='newcomb')
        elo, ehi = confint_proportions_2indep(x1[i], n1[i], x2[i], n2[i], method="newcomb")
        assert lo[i] == pytest.approx(elo, rel=1e-8, abs=1e-12)
        assert hi[i] == pytest.approx(ehi, rel=1e-8, abs=1e-12)
        d = x1[i] / n1[i] - x2[i] / n2[i]
        assert lo[i] <= d + 1e-12 <= hi[i] + 2e-12


def test_risk_ratio_matches_statsmodels_table2x2():
    x1, n1, x2, n2 = _random_tables(seed=9, size=60)
    rr, lo, hi = st.risk_ratio(x1, n1, x2, n2)
    for i in range(60):
        if x1[i] == 0 or x2[i] == 0:
            assert np.isnan(lo[i])
            continue
        t = Table2x2(np.array([[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]], dtype=float))
        # statsmodels Table2x2.riskratio / riskratio_confint (log-scale, Katz)
        assert rr[i] == pytest.approx(t.riskratio, rel=1e-10)
        elo, ehi = t.riskratio_confint()
        assert (lo[i], hi[i]) == pytest.approx((elo, ehi), rel=1e-9)


# ---------------------------------------------------------------------------------------------
# multiple testing
# ---------------------------------------------------------------------------------------------
def test_bh_matches_multipletests_and_ignores_nans():
    rng = np.random.default_rng(21)
    p = np.concatenate([rng.uniform(0, 1, 300), rng.uniform(0, 0.01, 40)])
    p[rng.choice(p.size, 25, replace=False)] = np.nan
    ok = np.isfinite(p)
    q = st.bh_adjust(p)
    # statsmodels multipletests(method='fdr_bh') on the tested (non-nan) segments only
    np.testing.assert_allclose(q[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-12)
    assert np.all(np.isnan(q[~ok]))
    # invariants: q >= p, q monotone in p
    order = np.argsort(p[ok])
    assert np.all(q[ok] >= p[ok]) and np.all(np.diff(q[ok][order]) >= -1e-15)


def test_weighted_bh_matches_the_step_up_definition_and_equal_weights_give_bh():
    rng = np.random.default_rng(22)
    p = np.concatenate([rng.uniform(0, 1, 200), rng.uniform(0, 0.002, 15)])
    w = rng.choice([0.2, 1.0, 4.0], p.size)
    p[:5] = np.nan
    ok = np.isfinite(p)
    q = st.weighted_bh_adjust(p, w)
    # Genovese, Roeder & Wasserman (2006): reject p_i <= w_i q k / m for the largest k with #{p_j <= w_j q k / m} >= k,
    # weights rescaled to mean 1 over the tested hypotheses; brute force over k at several levels
    wn, m = w[ok] / w[ok].mean(), ok.sum()
    for level in (0.01, 0.05, 0.10, 0.2):
        k = max([k for k in range(1, m + 1) if np.sum(p[ok] <= wn * level * k / m) >= k], default=0)
        expected = p[ok] <= wn * level * k / m if k else np.zeros(m, dtype=bool)
        np.testing.assert_array_equal(q[ok] <= level, expected)
    assert np.all(np.isnan(q[~ok]))
    # equal weights: plain BH (statsmodels multipletests fdr_bh)
    np.testing.assert_allclose(
        st.weighted_bh_adjust(p, np.ones(p.size))[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-12
    )


def test_bh_empty_and_all_nan():
    assert st.bh_adjust([]).size == 0
    assert np.all(np.isnan(st.bh_adjust([np.nan, np.nan])))


# ---------------------------------------------------------------------------------------------
# clustering
# ---------------------------------------------------------------------------------------------
def _clustered_lines(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for order in range(400):
        size = rng.integers(1, 6)
        order_effect = rng.normal(0, 1.2)  # shared within an order -> positive intra-order correlation
        for _ in range(size):
            seg = rng.choice(["a", "b", "c"])
            base = {"a": -1.5, "b": -1.0, "c": -2.0}[seg]
            prob = 1 / (1 + math.exp(-(base + order_effect)))
            units = int(rng.integers(1, 3))
            rows.append((order, seg, int(rng.binomial(units, prob)), units))
    return pd.DataFrame(rows, columns=["order_id", "segment", "returned", "units"])


def test_rao_scott_matches_a_plain_pandas_recomputation():
    lines = _clustered_lines(seed=2)
    got = st.rao_scott_deff(lines, "segment", "order_id", "returned", "units")
    for seg, grp in lines.groupby("segment"):
        # plain pandas: per-order sums, ratio estimator variance (Rao & Scott 1992, METHOD 4.2)
        per_order = grp.groupby("order_id")[["returned", "units"]].sum()
        X, M, g = per_order["returned"].sum(), per_order["units"].sum(), len(per_order)
        p = X / M
        v = g / (g - 1) * ((per_order["returned"] - p * per_order["units"]) ** 2).sum() / M**2
        deff = v / (p * (1 - p) / M)
        assert got.at[seg, "deff_raw"] == pytest.approx(deff, rel=1e-12)
        assert got.at[seg, "deff"] == pytest.approx(max(deff, 1.0), rel=1e-12)
        assert got.at[seg, "n_eff"] == pytest.approx(M / max(deff, 1.0), rel=1e-12)
        assert got.at[seg, "clusters"] == g
    # a shared order effect inflates the variance
    assert (got["deff_raw"] > 1.2).all()


def test_rao_scott_one_unit_per_cluster_is_binomial_up_to_g_over_g_minus_1():
    rng = np.random.default_rng(1)
    y = rng.binomial(1, 0.2, 500).astype(float)
    res = st.design_effect(y, np.ones(500), np.repeat("s", 500))
    # sum (y - p)^2 = M p (1 - p) exactly, so deff = g/(g-1)
    assert res.at["s", "deff_raw"] == pytest.approx(500 / 499, rel=1e-12)


def test_design_effect_floors_and_single_cluster_fallback():
    res = st.design_effect(
        [0, 0, 1, 2, 3, 0, 0], [2, 3, 2, 3, 5, 4, 4], ["none", "none", "two", "two", "single", "flat", "flat"]
    )
    assert res.at["none", "deff"] == 1.0 and np.isnan(res.at["none", "deff_raw"])  # p = 0: no inflation
    assert res.at["single", "deff"] == 5.0  # one order of 5 units: worst case, all move together
    assert (res["deff"] >= 1).all()


def test_design_effect_matches_statsmodels_cluster_robust_ratio_variance():
    # Independent oracle: the ratio estimator p = sum y / sum m is WLS of the per-order sums y_o on m_o
    # (no intercept, weights 1/m_o); its HC1 sandwich variance is g/(g-1) sum (y_o - p m_o)^2 / M^2, the
    # Rao-Scott v. statsmodels WLS(...).fit(cov_type='HC1'), deff = v / (p(1-p)/M).
    lines = _clustered_lines(seed=5)
    per = lines.groupby(["segment", "order_id"])[["returned", "units"]].sum().reset_index()
    got = st.design_effect(per["returned"], per["units"], per["segment"])
    for seg, grp in per.groupby("segment"):
        y, m = grp["returned"].to_numpy(float), grp["units"].to_numpy(float)
        fit = sm.WLS(y, m, weights=1 / m).fit(cov_type="HC1")
        p, M = y.sum() / m.sum(), m.sum()
        assert fit.params[0] == pytest.approx(p, rel=1e-12)
        assert got.at[seg, "var_cluster"] == pytest.approx(fit.bse[0] ** 2, rel=1e-9)
        assert got.at[seg, "deff_raw"] == pytest.approx(fit.bse[0] ** 2 / (p * (1 - p) / M), rel=1e-9)


def test_design_effect_single_cluster_one_and_residual_inputs():
    # single_cluster="one": a one-order group gets 1 (trend / intervention cells); the default gives its units
    y, m, g = [3, 1, 0, 2], [5, 2, 2, 4], ["single", "two", "two", "other"]
    assert st.design_effect(y, m, g).loc[["single", "other"], "deff"].tolist() == [5.0, 4.0]
    one = st.design_effect(y, m, g, single_cluster="one")
    assert one.loc[["single", "other"], "deff"].tolist() == [1.0, 1.0]
    assert one.at["two", "deff"] == st.design_effect(y, m, g).at["two", "deff"]  # g >= 2: the same formula
    with pytest.raises(ValueError, match="single_cluster"):
        st.design_effect(y, m, g, single_cluster="orders")
    # residuals=True: values outside [0, m] are accepted and go through the same formula (plain numpy here)
    yr, mr = np.array([1.5, -0.25, 0.4, 2.2]), np.array([2.0, 1.0, 1.0, 3.0])
    with pytest.raises(ValueError):
        st.design_effect(yr, mr, np.zeros(4))
    res = st.design_effect(yr, mr, np.zeros(4), residuals=True, single_cluster="one")
    p, M = yr.sum() / mr.sum(), mr.sum()
    v = 4 / 3 * ((yr - p * mr) ** 2).sum() / M**2
    assert res["deff"].iloc[0] == pytest.approx(max(1.0, v / (p * (1 - p) / M)), rel=1e-12)
    # a residual total outside (0, 1) has no binomial reference variance: deff 1, as for p = 0 or 1
    assert st.design_effect([-1.0, 0.5], [1.0, 1.0], [0, 0], residuals=True)["deff"].tolist() == [1.0]


# ---------------------------------------------------------------------------------------------
# empirical Bayes
# ---------------------------------------------------------------------------------------------
def test_shrinkage_lies_between_raw_rate_and_prior_mean():
    rng = np.random.default_rng(12)
    n = rng.integers(1, 2000, 400)
    theta = rng.beta(8, 40, 400)
    x = rng.binomial(n, theta)
    prior = st.fit_beta_prior(x, n)
    s = st.shrink(x, n, prior)
    raw = x / n
    lo, hi = np.minimum(raw, prior.mean), np.maximum(raw, prior.mean)
    assert np.all((s["posterior_mean"] >= lo - 1e-12) & (s["posterior_mean"] <= hi + 1e-12))
    # closed form: posterior mean = B * prior mean + (1 - B) * raw
    np.testing.assert_allclose(
        s["posterior_mean"], s["shrinkage_weight"] * prior.mean + (1 - s["shrinkage_weight"]) * raw, rtol=1e-12
    )
    # scipy.stats.beta.ppf of the conjugate posterior
    np.testing.assert_allclose(s["ci_low"], sps.beta.ppf(0.025, x + prior.alpha, n - x + prior.beta), rtol=1e-10)
    # true rho = 1/(8 + 40 + 1); 400 segments give a moment estimate in the right range
    assert 0.5 / 49 < prior.rho < 2.0 / 49


def test_no_overdispersion_shrinks_to_the_pooled_mean():
    x, n = [10, 20, 30, 5], [100, 200, 300, 50]  # identical rates -> S = 0 -> rho < 0
    prior = st.fit_beta_prior(x, n)
    assert prior.pooled and prior.mean == pytest.approx(0.1)
    s = st.shrink(x, n, prior)
    np.testing.assert_allclose(s["posterior_mean"], 0.1)
    assert np.all(s["shrinkage_weight"] == 1)


def test_mle_prior_maximises_the_betabinomial_likelihood():
    rng = np.random.default_rng(13)
    n = rng.integers(20, 800, 60)
    x = rng.binomial(n, rng.beta(6, 30, 60))
    pr = st.fit_beta_prior(x, n, method="mle")

    def nll(a, b):  # scipy.stats.betabinom log-likelihood
        return -sps.betabinom.logpmf(x, n, a, b).sum()

    assert pr.neg_loglik == pytest.approx(nll(pr.alpha, pr.beta), rel=1e-10)
    for fa, fb in ((1.02, 1), (0.98, 1), (1, 1.02), (1, 0.98), (1.02, 1.02)):
        assert nll(pr.alpha * fa, pr.beta * fb) >= pr.neg_loglik - 1e-9


def test_fit_beta_prior_rejects_bad_input():
    with pytest.raises(ValueError, match="two segments"):
        st.fit_beta_prior([1], [10])
    with pytest.raises(ValueError, match="method"):
        st.fit_beta_prior([1, 2], [10, 10], method="bayes")


# ---------------------------------------------------------------------------------------------
# excess returns and the gate
# ---------------------------------------------------------------------------------------------
def test_conservative_excess_never_exceeds_raw_excess_and_gate_zeroes_priority():
    rng = np.random.default_rng(32)
    n = rng.integers(1, 5000, 300)
    x = rng.binomial(n, rng.uniform(0.05, 0.4, 300))
    q = rng.uniform(0, 0.3, 300)
    q[:5] = np.nan
    r = st.excess_returns(x, n, 0.15, (x + 3) / (n + 20), np.full(300, 10.0), q)
    assert np.all(r["conservative_excess"] <= np.maximum(0, r["excess"]) + 1e-9)
    assert np.all(r["conservative_excess"] >= 0)
    assert not r["gate"][:5].any()
    assert np.all(r["priority_score"][~r["gate"]] == 0)


# ---------------------------------------------------------------------------------------------
# funnel, stratification, pairs, omnibus, power
# ---------------------------------------------------------------------------------------------
def test_doctests_in_stats_module_pass():
    import doctest

    failures, tried = doctest.testmod(st, verbose=False)
    assert tried > 20 and failures == 0


def test_exact_funnel_limits_match_a_brute_force_search():
    n_grid, theta = [7, 30, 120, 999], 0.23
    f = st.funnel_limits(n_grid, theta, levels=(0.95, 0.998))
    for i, n in enumerate(n_grid):
        for label, level in (("95", 0.95), ("99.8", 0.998)):
            for side, p in (("lower", (1 - level) / 2), ("upper", 1 - (1 - level) / 2)):
                # smallest r with binomial CDF >= p, by plain search over scipy.stats.binom.cdf
                r = next(r for r in range(n + 1) if sps.binom.cdf(r, n, theta) >= p)
                F, Fm = sps.binom.cdf(r, n, theta), sps.binom.cdf(r - 1, n, theta)
                assert f[f"r_{side}_{label}"].iloc[i] == r
                assert f[f"{side}_{label}_raw"].iloc[i] == pytest.approx((r - (F - p) / (F - Fm)) / n, rel=1e-12)
    assert (f["lower_99.8"] <= f["lower_95"]).all() and (f["upper_95"] <= f["upper_99.8"]).all()
    assert (
        ((f.filter(regex=r"^(lower|upper)_[\d.]+$") >= 0) & (f.filter(regex=r"^(lower|upper)_[\d.]+$") <= 1))
        .all()
        .all()
    )


def test_cmh_matches_statsmodels_stratified_table():
    rng = np.random.default_rng(41)
    n_small_delta = [0]
    for _ in range(20):
        K = rng.integers(2, 7)
        tables = rng.integers(1, 80, size=(K, 2, 2)).astype(float)
        for corr in (True, False):
            got = st.cmh_test(tables, correction=corr)
            # statsmodels StratifiedTable(...).test_null_odds(correction=...)
            ref = StratifiedTable(np.moveaxis(tables, 0, -1)).test_null_odds(correction=corr)
            if corr and abs(got["sum_a_minus_e"]) < 0.5:
                # R mantelhaen.test applies the 0.5 correction only when |sum(a - E)| >= 0.5;
                # statsmodels always subtracts it (then squares a negative number). We follow R:
                ref = StratifiedTable(np.moveaxis(tables, 0, -1)).test_null_odds(correction=False)
                n_small_delta[0] += 1
            assert got["statistic"] == pytest.approx(ref.statistic, rel=1e-9)
            assert got["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert n_small_delta[0] >= 1, "the seed should exercise the |sum(a - E)| < 0.5 edge"


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:Perfect separation")
def test_pair_interaction_matches_statsmodels_glm():
    # the saturated 4-cell model has df_resid = 0: statsmodels warns about its scale, not the params
    rng = np.random.default_rng(51)
    for _ in range(5):
        n = rng.integers(50, 3000, 4)
        x = rng.binomial(n, rng.uniform(0.05, 0.4, 4))
        r = st.pair_interaction(x[0], n[0], x[1], n[1], x[2], n[2], x[3], n[3])
        hasA, hasB = np.array([0, 1, 0, 1.0]), np.array([0, 0, 1, 1.0])
        X = np.column_stack([np.ones(4), hasA, hasB, hasA * hasB])
        # statsmodels GLM(Binomial) on aggregated (successes, failures) cells
        fit = sm.GLM(np.column_stack([x, n - x]), X, family=sm.families.Binomial()).fit()
        assert float(r["interaction_log_or"]) == pytest.approx(fit.params[3], rel=1e-7)
        assert float(r["interaction_se"]) == pytest.approx(fit.bse[3], rel=1e-6)
        assert float(r["p_two_sided"]) == pytest.approx(fit.pvalues[3], rel=1e-5)


def test_power_matches_closed_form_and_scales_with_deff():
    # arcsine closed form: Var(2 asin sqrt(p_hat)) ~ 1/n, so n per arm = 2 ((z_{1-a/2} + z_{power}) / h)^2
    # (ignoring the far tail, hence rel 1e-3); METHOD 9.4 quotes ~2031 per arm for 15% -> 12%
    h = 2 * math.asin(math.sqrt(0.15)) - 2 * math.asin(math.sqrt(0.12))
    closed = 2 * ((sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) / h) ** 2
    assert st.power_two_proportions(0.15, 0.12) == pytest.approx(closed, rel=1e-3)
    assert round(st.power_two_proportions(0.15, 0.12)) == 2031
    assert st.power_two_proportions(0.15, 0.12, deff=1.5) == pytest.approx(1.5 * st.power_two_proportions(0.15, 0.12))
    # statsmodels NormalIndPower with an explicit ratio
    ref = NormalIndPower().solve_power(proportion_effectsize(0.15, 0.12), alpha=0.05, power=0.8, ratio=2.0)
    assert st.power_two_proportions(0.15, 0.12, ratio=2.0) == pytest.approx(ref, rel=1e-9)
    # statsmodels NormalIndPower at other alpha / power (the interventions planning aid passes both)
    ref = NormalIndPower().solve_power(proportion_effectsize(0.24, 0.192), alpha=0.10, power=0.9, ratio=1.0)
    assert st.power_two_proportions(0.24, 0.192, alpha=0.10, power=0.9) == pytest.approx(ref, rel=1e-9)
    with pytest.raises(ValueError):
        st.power_two_proportions(0.15, 0.15)
