"""The distribution functions analysis.stats computes without scipy.stats are scipy.stats' own values.

analysis.stats calls the scipy.special functions scipy.stats calls underneath (ndtr, ndtri, chdtrc and
Boost's hypergeometric ufuncs) with scipy.stats' edge rules, and ports statsmodels' StratifiedTable
formulas to numpy, so the CLI's analysis never imports scipy.stats (0.5 s CPU of its start). The
oracle here is scipy.stats / statsmodels themselves, on grids that include the support edges, nan and
infinities; values must agree to 1e-12 relative (in practice they are the same floats).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable

from analysis import stats
from tests.conftest import ROOT

ATOL = RTOL = 1e-12


def _same(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=RTOL, atol=0.0)
    assert np.shape(a) == np.shape(b)


Z = np.array(
    [
        -np.inf,
        -40.0,
        -8.3,
        -1.959963984540054,
        -0.5,
        -0.0,
        0.0,
        1e-300,
        0.3,
        1.6448536269514722,
        7.9,
        38.5,
        np.inf,
        np.nan,
    ]
)
Q = np.array([0.0, 1e-300, 1e-12, 0.025, 0.05, 0.5, 0.95, 0.975, 1 - 1e-12, 1.0, -0.1, 1.1, np.nan])


def test_normal_functions_equal_scipy_stats():
    _same(stats.norm_sf(Z), sps.norm.sf(Z))
    _same(stats.norm_cdf(Z), sps.norm.cdf(Z))
    _same(stats.norm_ppf(Q), sps.norm.ppf(Q))
    assert np.array_equal(stats.norm_sf(Z), sps.norm.sf(Z), equal_nan=True)  # the same floats
    assert np.array_equal(stats.norm_ppf(Q), sps.norm.ppf(Q), equal_nan=True)
    for z in (-2.5, 0.0, 3.1):  # scalars stay scalars
        assert stats.norm_sf(z) == sps.norm.sf(z) and np.ndim(stats.norm_sf(z)) == 0
    assert float(stats.norm_ppf(0.975)) == float(sps.norm.ppf(0.975))


def test_chi2_sf_equals_scipy_stats():
    x = np.array([-1.0, 0.0, 1e-9, 0.5, 3.841458820694124, 12.0, 200.0, np.inf, np.nan])
    for df in (1, 2, 5, 13.0):
        _same(stats.chi2_sf(x, df), sps.chi2.sf(x, df))
    _same(stats.chi2_sf(x, 0), sps.chi2.sf(x, 0))  # invalid df: nan, as scipy
    assert stats.chi2_sf(3.0, 1) == sps.chi2.sf(3.0, 1)


def _hypergeom_grid():
    rng = np.random.default_rng(14)
    rows = []
    for M in (1, 2, 7, 40, 311, 5000, 120_000):
        for _ in range(12):
            n = int(rng.integers(0, M + 1))
            N = int(rng.integers(0, M + 1))
            lo, hi = max(0, N - (M - n)), min(n, N)
            for k in {lo - 2, lo - 1, lo, lo + 1, (lo + hi) // 2, hi - 1, hi, hi + 1, hi + 5}:
                rows.append((k, M, n, N))
    # invalid shapes, nan and infinite k, non-integer k
    rows += [(1, 0, 0, 0), (1, 5, 6, 2), (1, 5, 2, 6), (1, 5.5, 2, 2), (np.nan, 10, 4, 3), (np.inf, 10, 4, 3)]
    rows += [(-np.inf, 10, 4, 3), (1.5, 10, 4, 3), (2.0, 10, 4, -1)]
    return np.array(rows, dtype=float).T


def test_hypergeom_functions_equal_scipy_stats():
    k, M, n, N = _hypergeom_grid()
    _same(stats.hypergeom_pmf(k, M, n, N), sps.hypergeom.pmf(k, M, n, N))
    _same(stats.hypergeom_cdf(k, M, n, N), sps.hypergeom.cdf(k, M, n, N))
    _same(stats.hypergeom_sf(k, M, n, N), sps.hypergeom.sf(k, M, n, N))
    assert np.array_equal(stats.hypergeom_sf(k, M, n, N), sps.hypergeom.sf(k, M, n, N), equal_nan=True)
    assert stats.hypergeom_pmf(3, 8, 4, 4) == sps.hypergeom.pmf(3, 8, 4, 4)  # scalars stay scalars
    assert np.ndim(stats.hypergeom_cdf(3, 8, 4, 4)) == 0


def test_fisher_and_segment_vs_rest_equal_scipy_fisher_exact():
    # scipy.stats.fisher_exact is the independent oracle of the whole test (not only of the pieces)
    rng = np.random.default_rng(3)
    for _ in range(60):
        n1, n2 = (int(v) for v in rng.integers(1, 400, 2))
        x1, x2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        table = [[x1, n1 - x1], [x2, n2 - x2]]
        for alt, sp_alt in (("larger", "greater"), ("smaller", "less"), ("two-sided", "two-sided")):
            want = sps.fisher_exact(table, alternative=sp_alt).pvalue
            assert float(stats.fisher_exact_p(x1, n1, x2, n2, alt)) == pytest.approx(want, rel=1e-9, abs=1e-15)


def _random_tables(rng, k):
    t = rng.integers(0, 60, size=(k, 2, 2)).astype(float)
    t[:, :, 0] += 1  # some returns in every row, so most strata are used
    return t


@pytest.mark.parametrize("seed", range(12))
def test_cmh_equals_statsmodels_stratified_table(seed):
    rng = np.random.default_rng(seed)
    t = _random_tables(rng, int(rng.integers(1, 9)))
    if seed % 3 == 0:
        t = t / 1.7  # Rao-Scott effective counts are not integers
    if seed % 4 == 1:
        t[0, 1, :] = 0  # a stratum with an empty row is left out
    got = stats.cmh_test(t, alpha=0.1 if seed % 2 else 0.05)
    used = got["strata_used"]
    st = StratifiedTable(np.moveaxis(t[used], 0, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        lo, hi = st.oddsratio_pooled_confint(alpha=0.1 if seed % 2 else 0.05)
        bd, bdt = st.test_equal_odds(adjust=False), st.test_equal_odds(adjust=True)
        want = {
            "mh_odds_ratio": st.oddsratio_pooled,
            "mh_log_or_se": st.logodds_pooled_se,
            "breslow_day_statistic": bd.statistic,
            "breslow_day_p": bd.pvalue,
            "breslow_day_tarone_statistic": bdt.statistic,
            "breslow_day_tarone_p": bdt.pvalue,
        }
    for key, value in want.items():
        _same(got[key], float(value))
    _same(got["mh_or_ci"], (float(lo), float(hi)))
    # the CMH statistic's p and Woolf's p: chi-square tails as scipy.stats computes them
    assert got["p_value"] == pytest.approx(float(sps.chi2.sf(got["statistic"], 1)), rel=RTOL)
    if used.sum() > 1:
        assert got["woolf_p"] == pytest.approx(float(sps.chi2.sf(got["woolf_statistic"], used.sum() - 1)), rel=RTOL)


def test_cmh_single_stratum_gives_nan_homogeneity_as_statsmodels():
    t = np.array([[[12.0, 30.0], [7.0, 41.0]]])
    got = stats.cmh_test(t)
    st = StratifiedTable(np.moveaxis(t, 0, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        want = st.test_equal_odds().pvalue
    assert np.isnan(got["breslow_day_p"]) and np.isnan(want)
    assert got["mh_odds_ratio"] == st.oddsratio_pooled


def test_cli_analysis_path_imports_neither_scipy_stats_nor_statsmodels(tmp_path):
    # the whole report (load, prepare, analyse with Fisher tests and the Simpson check, print) on the
    # demo exports, in a fresh interpreter
    # the demo files are written by another process: the demo generator draws from scipy.stats
    demo = [sys.executable, "-m", "analysis", "demo", "--out", str(tmp_path), "--orders", "1500"]
    subprocess.run(demo, cwd=ROOT, capture_output=True, check=True)
    code = (
        "import sys, contextlib, io\n"
        "import analysis.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = analysis.cli.main(['report', '--orders', {str(tmp_path / 'orders.xlsx')!r},"
        f" '--returns', {str(tmp_path / 'returns.csv')!r}])\n"
        "assert rc == 0, rc\n"
        "print(' '.join(sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    mods = set(out.stdout.split())
    assert "analysis.engine" in mods and "scipy.special" in mods
    assert "scipy.stats" not in mods and "statsmodels" not in mods
