"""Statistics for return rates: intervals, segment-vs-rest tests, multiple testing, clustering,
empirical-Bayes shrinkage, priority scores, funnel limits, stratification, pairs and trends.

Everything here is a pure function of counts. Functions that run over thousands of segments at once
take numpy arrays (or anything array-like) and compute closed forms vectorised in numpy; scalars work
too and give 0-d arrays. The methods and their defaults follow the project's methodology spec
(``docs/METHOD-REFERENCES.md`` says what each "METHOD x.y" section covers and where it is implemented); each
function names the section and the reference it implements, and
``tests/unit/test_stats_oracles.py`` checks them against the independent oracle cases.

Conventions
- Rates are ``x / n`` (returned / shipped units, or orders with a return / orders).
- Counts may be non-integer "effective counts" (Rao-Scott ``x / deff``); only exact tests round them.
- ``alternative`` follows statsmodels: ``"larger"`` (segment rate above the rest - the fix-list
  screen), ``"smaller"``, ``"two-sided"``; scipy's ``"greater"`` / ``"less"`` are accepted as aliases.
- Undefined results (``n = 0``, rate of an empty segment) are ``nan``, never an exception; arguments
  that can never be valid (negative counts, ``x > n``, ``alpha`` outside (0, 1)) raise ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import importlib

import numpy as np
import pandas as pd


class _LazyModule:
    """A module imported on first attribute access: scipy.stats alone costs about a second, and a
    command such as ``python -m analysis --help`` or a plain data load never needs it."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


sps = _LazyModule("scipy.stats")
optimize = _LazyModule("scipy.optimize")


# The distribution functions the CLI's analysis needs, computed with the scipy.special functions that
# scipy.stats calls underneath, so the values are the same to the bit (tests/unit/test_stats_special.py
# compares them with scipy.stats) without importing scipy.stats (0.5 s CPU of the CLI's start; see the
# README "Benchmarks"). Each follows scipy.stats' own handling of the support edges and nan.
def norm_sf(x: Any) -> Any:
    """Upper tail of the standard normal: scipy.stats.norm.sf(x) (= ndtr(-x), as scipy computes it)."""
    from scipy.special import ndtr

    return ndtr(-np.asarray(x, dtype="float64"))


def norm_cdf(x: Any) -> Any:
    """scipy.stats.norm.cdf(x) (= ndtr(x))."""
    from scipy.special import ndtr

    return ndtr(np.asarray(x, dtype="float64"))


def norm_ppf(q: Any) -> Any:
    """scipy.stats.norm.ppf(q) (= ndtri(q); -inf at 0, inf at 1, nan outside [0, 1], as scipy)."""
    from scipy.special import ndtri

    return ndtri(np.asarray(q, dtype="float64"))


def chi2_sf(x: Any, df: Any) -> Any:
    """scipy.stats.chi2.sf(x, df) for df > 0 (= chdtrc(df, x); 1 for x <= 0, as scipy)."""
    from scipy.special import chdtrc

    xa = np.asarray(x, dtype="float64")
    dfa = np.asarray(df, dtype="float64")
    out = chdtrc(dfa, np.maximum(xa, 0.0))
    out = np.where(np.isnan(xa) | ~(dfa > 0), np.nan, out)
    return out[()] if out.ndim == 0 else out


def _hypergeom_ufuncs() -> tuple[Any, Any, Any] | None:
    # Boost's hypergeometric pmf/cdf/sf, the ufuncs scipy.stats.hypergeom itself calls (scipy >= 1.11);
    # private names, so a scipy without them falls back to scipy.stats
    try:
        from scipy.special import _ufuncs as scu

        return scu._hypergeom_pmf, scu._hypergeom_cdf, scu._hypergeom_sf
    except (ImportError, AttributeError):  # pragma: no cover - depends on the scipy build
        return None


def _hypergeom(kind: str, k: Any, M: Any, n: Any, N: Any) -> Any:
    """scipy.stats.hypergeom.<kind>(k, M, n, N) for kind pmf/cdf/sf, with scipy's own edge rules
    (rv_discrete.pmf/cdf/sf: nan for invalid shapes or nan k, 0/1 outside the support, clipped to [0, 1])."""
    fns = _hypergeom_ufuncs()
    if fns is None:  # pragma: no cover
        return getattr(sps.hypergeom, kind)(k, M, n, N)
    k, M, n, N = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (k, M, n, N)))
    lo, hi = np.maximum(N - (M - n), 0), np.minimum(n, N)
    valid = (M > 0) & (n >= 0) & (N >= 0) & (n <= M) & (N <= M)
    valid &= (M == np.round(M)) & (n == np.round(n)) & (N == np.round(N))
    out = np.zeros(k.shape, dtype="float64")
    if kind == "pmf":
        cond = valid & (k >= lo) & (k <= hi) & (np.floor(k) == k)
        fn = fns[0]
    elif kind == "cdf":
        cond = valid & (k >= lo) & (k < hi) & np.isfinite(k)
        out[k >= hi] = 1.0
        out[np.isneginf(k)] = 0.0
        fn = fns[1]
    elif kind == "sf":
        cond = valid & (k >= lo) & (k < hi) & np.isfinite(k)
        fn = fns[2]
    else:
        raise ValueError(f"kind must be pmf, cdf or sf (got {kind!r}).")
    out[~valid | np.isnan(k)] = np.nan
    if kind == "sf":
        out[((k < lo) | np.isneginf(k)) & valid] = 1.0
    if np.any(cond):
        # scipy's ufunc argument order is (k, successes, draws, total)
        out[cond] = np.clip(fn(k[cond], n[cond], N[cond], M[cond]), 0, 1)
    return out[()] if out.ndim == 0 else out


def hypergeom_pmf(k: Any, M: Any, n: Any, N: Any) -> Any:
    """scipy.stats.hypergeom.pmf(k, M, n, N) without importing scipy.stats (same Boost ufunc)."""
    return _hypergeom("pmf", k, M, n, N)


def hypergeom_cdf(k: Any, M: Any, n: Any, N: Any) -> Any:
    """scipy.stats.hypergeom.cdf(k, M, n, N) without importing scipy.stats (same Boost ufunc)."""
    return _hypergeom("cdf", k, M, n, N)


def hypergeom_sf(k: Any, M: Any, n: Any, N: Any) -> Any:
    """scipy.stats.hypergeom.sf(k, M, n, N) without importing scipy.stats (same Boost ufunc)."""
    return _hypergeom("sf", k, M, n, N)


__all__ = [
    "wilson_interval",
    "wilson_lower_one_sided",
    "newcombe_diff_interval",
    "risk_ratio",
    "segment_vs_rest",
    "fisher_exact_p",
    "bh_adjust",
    "weighted_bh_adjust",
    "design_effect",
    "rao_scott_deff",
    "BetaPrior",
    "fit_beta_prior",
    "shrink",
    "excess_returns",
    "funnel_limits",
    "cmh_test",
    "pair_interaction",
    "co_purchase_lift",
    "power_two_proportions",
]

FISHER_SWITCH_MIN_EXPECTED = 5.0  # METHOD 2.2 / Cochran (1954): z-test only when every expected cell >= 5
_ALTERNATIVES = {
    "larger": "larger",
    "greater": "larger",
    "smaller": "smaller",
    "less": "smaller",
    "two-sided": "two-sided",
}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _arr(a: Any, name: str) -> np.ndarray:
    try:
        out = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"'{name}' must be numbers (got {type(a).__name__}).") from exc
    return out


def _counts(x: Any, n: Any, xname: str = "x", nname: str = "n") -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of count arrays: non-negative, x <= n (nan allowed and propagated)."""
    xa, na = _arr(x, xname), _arr(n, nname)
    with np.errstate(invalid="ignore"):
        if np.any(xa < 0) or np.any(na < 0):
            raise ValueError(f"Counts '{xname}' and '{nname}' must be non-negative.")
        # a tiny tolerance keeps effective counts (x/deff, n/deff) from failing on rounding
        if np.any(xa > na * (1 + 1e-12) + 1e-9):
            raise ValueError(f"'{xname}' (returned) cannot exceed '{nname}' (shipped) in any row.")
    xa, na = np.broadcast_arrays(xa, na)
    return xa.astype(float), na.astype(float)


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1 (got {alpha}).")
    return alpha


def _alt(alternative: str) -> str:
    try:
        return _ALTERNATIVES[alternative]
    except (KeyError, TypeError):
        raise ValueError(f"alternative must be 'larger', 'smaller' or 'two-sided' (got {alternative!r}).") from None


def _rate(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, x / np.where(n > 0, n, 1.0), np.nan)


# ---------------------------------------------------------------------------------------------
# 1. intervals (METHOD 3, 2.4)
# ---------------------------------------------------------------------------------------------
def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    p = _rate(x, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        z2n = z * z / n
        denom = 1.0 + z2n
        centre = (p + z2n / 2.0) / denom
        half = z * np.sqrt(np.maximum(p * (1.0 - p) / n + z2n / (4.0 * n), 0.0)) / denom
        lo = centre - half
        hi = centre + half
    # exact boundary values (the closed form gives them only up to rounding)
    lo = np.where(x <= 0, 0.0, np.clip(lo, 0.0, 1.0))
    hi = np.where(x >= n, 1.0, np.clip(hi, 0.0, 1.0))
    bad = ~(n > 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def wilson_interval(x: Any, n: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Wilson score interval for a rate x/n, vectorised.

    Centre (p + z^2/2n)/(1 + z^2/n), half-width z sqrt(p(1-p)/n + z^2/4n^2)/(1 + z^2/n) with
    z = Phi^-1(1 - alpha/2) (Wilson 1927; recommended by Brown, Cai & DasGupta 2001 and Newcombe 1998a).
    x = 0 gives lower 0 exactly, x = n gives upper 1; n = 0 gives nan. Same as statsmodels
    ``proportion_confint(x, n, method='wilson')``.

    >>> lo, hi = wilson_interval(81, 263)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.2553, 0.3662)
    """
    alpha = _check_alpha(alpha)
    xa, na = _counts(x, n)
    return _wilson(xa, na, float(norm_ppf(1.0 - alpha / 2.0)))


def wilson_lower_one_sided(x: Any, n: Any, alpha: float = 0.05) -> np.ndarray:
    """One-sided (1 - alpha) Wilson lower bound, z = Phi^-1(1 - alpha) = 1.644854 for alpha = 0.05.

    Used for the conservative "at least" excess (METHOD 3, 6.4). nan where n = 0.

    >>> round(float(wilson_lower_one_sided(81, 263)), 6)
    0.263314
    """
    alpha = _check_alpha(alpha)
    xa, na = _counts(x, n)
    return _wilson(xa, na, float(norm_ppf(1.0 - alpha)))[0]


def newcombe_diff_interval(x1: Any, n1: Any, x2: Any, n2: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe hybrid-score interval (1998b, method 10) for p1 - p2, vectorised.

    L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2), U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2), where (l, u) are
    the Wilson limits of each rate (METHOD 2.4). Same as statsmodels
    ``confint_proportions_2indep(x1, n1, x2, n2, method='newcomb')``.

    >>> lo, hi = newcombe_diff_interval(58, 310, 1460, 9690)
    >>> round(float(lo), 6), round(float(hi), 6)
    (-0.003722, 0.084087)
    """
    alpha = _check_alpha(alpha)
    x1a, n1a = _counts(x1, n1, "x1", "n1")
    x2a, n2a = _counts(x2, n2, "x2", "n2")
    z = float(norm_ppf(1.0 - alpha / 2.0))
    p1, p2 = _rate(x1a, n1a), _rate(x2a, n2a)
    l1, u1 = _wilson(x1a, n1a, z)
    l2, u2 = _wilson(x2a, n2a, z)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lo, hi


def risk_ratio(x1: Any, n1: Any, x2: Any, n2: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Risk ratio p1/p2 with the Katz log interval, vectorised.

    exp(ln RR +/- z sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)) (Katz et al. 1978; METHOD 2.4). A zero count
    makes the log interval undefined: the limits are nan there (RR itself may be 0 or inf).

    >>> rr, lo, hi = risk_ratio(58, 310, 1460, 9690)
    >>> round(float(rr), 6), round(float(lo), 6), round(float(hi), 6)
    (1.241759, 0.979931, 1.573544)
    """
    alpha = _check_alpha(alpha)
    x1a, n1a = _counts(x1, n1, "x1", "n1")
    x2a, n2a = _counts(x2, n2, "x2", "n2")
    z = float(norm_ppf(1.0 - alpha / 2.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        rr = _rate(x1a, n1a) / _rate(x2a, n2a)
        ok = (x1a > 0) & (x2a > 0) & (n1a > 0) & (n2a > 0)
        se = np.sqrt(np.where(ok, 1 / x1a - 1 / n1a + 1 / x2a - 1 / n2a, np.nan))
        lo = np.exp(np.log(rr) - z * se)
        hi = np.exp(np.log(rr) + z * se)
    return rr, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


# ---------------------------------------------------------------------------------------------
# 2. segment vs rest (METHOD 2)
# ---------------------------------------------------------------------------------------------
def _fisher_two_sided(a: np.ndarray, r1: np.ndarray, c1: np.ndarray, N: np.ndarray) -> np.ndarray:
    """Irwin's rule, vectorised: sum of hypergeometric probabilities <= P(observed).

    The pmf is unimodal, so the p-value is the observed tail plus the opposite tail beyond the first
    value (searched by a vectorised bisection on the far side of the mode) whose probability is
    <= P(observed) * (1 + 1e-7) (the relative tolerance R uses for ties).
    """
    gamma = 1.0 + 1e-7
    lo_k = np.maximum(0.0, c1 - (N - r1))
    hi_k = np.minimum(r1, c1)
    mode = np.floor((c1 + 1) * (r1 + 1) / (N + 2))
    p_obs = hypergeom_pmf(a, N, r1, c1)
    thresh = p_obs * gamma
    out = np.ones(a.shape)
    below = a < mode
    above = a > mode
    if np.any(below):
        # far side [mode, hi_k], pmf decreasing: smallest k with pmf(k) <= thresh
        aa, rr, cc, nn, th = a[below], r1[below], c1[below], N[below], thresh[below]
        left, right = mode[below], hi_k[below] + 1  # answer in [left, right]; right = none found
        while np.any(left < right):
            mid = np.floor((left + right) / 2)
            ok = hypergeom_pmf(mid, nn, rr, cc) <= th
            active = left < right
            right = np.where(active & ok, mid, right)
            left = np.where(active & ~ok, mid + 1, left)
        out[below] = hypergeom_cdf(aa, nn, rr, cc) + hypergeom_sf(left - 1, nn, rr, cc)
    if np.any(above):
        # far side [lo_k, mode], pmf increasing: largest k with pmf(k) <= thresh
        aa, rr, cc, nn, th = a[above], r1[above], c1[above], N[above], thresh[above]
        left, right = lo_k[above] - 1, mode[above]  # answer in [left, right]; left = none found
        while np.any(left < right):
            mid = np.ceil((left + right) / 2)
            ok = hypergeom_pmf(mid, nn, rr, cc) <= th
            active = left < right
            left = np.where(active & ok, mid, left)
            right = np.where(active & ~ok, mid - 1, right)
        far = np.where(left >= lo_k[above], hypergeom_cdf(left, nn, rr, cc), 0.0)
        out[above] = hypergeom_sf(aa - 1, nn, rr, cc) + far
    return np.minimum(out, 1.0)


def fisher_exact_p(x1: Any, n1: Any, x2: Any, n2: Any, alternative: str = "two-sided") -> np.ndarray:
    """Fisher exact p-values for the tables [[x1, n1-x1], [x2, n2-x2]], vectorised over rows.

    Conditional on the margins, x1 ~ Hypergeometric(N = n1+n2, K = n1, draws = x1+x2).
    "larger": P(X >= x1); "smaller": P(X <= x1); "two-sided": sum of P(X = k) <= P(X = x1) (Irwin's
    rule, the scipy and R definition; Campbell 2007). Non-integer (effective) counts are rounded first.
    Same p-values as ``scipy.stats.fisher_exact`` (alternative 'greater'/'less'/'two-sided').

    >>> round(float(fisher_exact_p(3, 4, 1, 4, "larger")), 6)   # tea tasting: 17/70
    0.242857
    """
    alt = _alt(alternative)
    x1a, n1a = _counts(x1, n1, "x1", "n1")
    x2a, n2a = _counts(x2, n2, "x2", "n2")
    a, r1 = np.rint(x1a), np.rint(n1a)
    b, r2 = np.rint(x2a), np.rint(n2a)
    N, c1 = r1 + r2, a + b
    out = np.full(a.shape, np.nan)
    valid = np.isfinite(a) & np.isfinite(b) & np.isfinite(r1) & np.isfinite(r2)
    # a table with an empty row or column carries no evidence: p = 1 (scipy convention)
    degenerate = valid & ((r1 == 0) | (r2 == 0) | (c1 == 0) | (c1 == N))
    out[degenerate] = 1.0
    live = valid & ~degenerate
    if alt == "larger":
        out[live] = hypergeom_sf(a[live] - 1, N[live], r1[live], c1[live])
    elif alt == "smaller":
        out[live] = hypergeom_cdf(a[live], N[live], r1[live], c1[live])
    else:
        out[live] = _fisher_two_sided(a[live], r1[live], c1[live], N[live])
    return np.minimum(out, 1.0)


def fisher_midp(x1: Any, n1: Any, x2: Any, n2: Any, alternative: str = "larger") -> np.ndarray:
    """One-sided Fisher mid-p (Lancaster 1961): the exact conditional tail with half the probability of
    the observed table, vectorised; counts (e.g. Rao-Scott effective counts) are rounded first.

    "larger": P(X > x1) + P(X = x1)/2; "smaller": P(X < x1) + P(X = x1)/2, X ~ Hypergeometric(N = n1+n2,
    K = n1, draws = x1+x2). Equals scipy's ``fisher_exact(table, alternative)`` p minus half the
    hypergeometric pmf at x1. Why: the pooled one-sided z-test's upper tail is anti-conservative at the
    small p-values a list-wide BH family uses (binomial skewness: about 2x nominal at p < 4e-4 for a
    300-unit segment at 10%); Fisher's exact test is conservative (about 0.75x); mid-p sits at or below
    nominal without Fisher's conservatism (bench/calibration.py, issue 11).

    >>> round(float(fisher_midp(3, 4, 1, 4, "larger")), 6)   # tea tasting: 17/70 - (16/70)/2
    0.128571
    """
    alt = _alt(alternative)
    if alt == "two-sided":
        raise ValueError("fisher_midp is one-sided: alternative must be 'larger' or 'smaller'.")
    x1a, n1a, x2a, n2a = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x1, n1, x2, n2)))
    p = np.array(fisher_exact_p(x1a, n1a, x2a, n2a, alt), dtype="float64", ndmin=1)  # validates, rounds
    a, r1, b, r2 = (np.rint(v).reshape(p.shape) for v in (x1a, n1a, x2a, n2a))
    N, c1 = r1 + r2, a + b
    live = np.isfinite(p) & (r1 > 0) & (r2 > 0) & (c1 > 0) & (c1 < N)  # degenerate tables stay at p = 1
    p[live] -= 0.5 * hypergeom_pmf(a[live], N[live], r1[live], c1[live])
    return p.reshape(np.shape(x1a))


def segment_vs_rest(
    x1: Any,
    n1: Any,
    x2: Any,
    n2: Any,
    alternative: str = "larger",
    alpha: float = 0.05,
    min_expected_for_z: float = FISHER_SWITCH_MIN_EXPECTED,
) -> dict[str, np.ndarray]:
    """Compare each segment's rate x1/n1 with the rest of the population x2/n2, vectorised over rows.

    Test per row by the deterministic switching rule of METHOD 2.2: the pooled two-proportion z-test
    (z = (p1 - p2)/sqrt(p(1-p)(1/n1 + 1/n2)), p pooled; z^2 = Pearson chi2 without Yates) when the
    smallest expected cell of [[x1, n1-x1], [x2, n2-x2]] is >= 5 (Cochran 1954), otherwise Fisher's
    exact test (Campbell 2007). Pass the rest, not the whole population, as (x2, n2) (METHOD 1.1 rule 4).
    The z-test equals statsmodels ``proportions_ztest([x1, x2], [n1, n2], alternative=...)``.
    Counts may be Rao-Scott effective counts (x/deff, n/deff); Fisher rounds them.

    Returns a dict of equal-shape arrays:
    p1, p2, diff (p1 - p2), pooled_p, se_pooled (the z-test's null SE), z, p_z (z-test p, always
    computed), p_fisher (nan where the z-test was used), p_value (the selected one), test ("z" /
    "fisher"), min_expected, ci_low / ci_high (Wilson for p1), diff_low / diff_high (Newcombe hybrid
    score), risk_ratio, rr_low / rr_high (Katz log).

    >>> r = segment_vs_rest([58, 4], [310, 11], [1460, 150], [9690, 2400])
    >>> r["test"].tolist(), [round(float(p), 6) for p in r["p_value"]]
    (['z', 'fisher'], [0.039253, 0.003709])
    """
    alt = _alt(alternative)
    alpha = _check_alpha(alpha)
    x1a, n1a = _counts(x1, n1, "x1", "n1")
    x2a, n2a = _counts(x2, n2, "x2", "n2")
    x1a, n1a, x2a, n2a = np.broadcast_arrays(x1a, n1a, x2a, n2a)
    p1, p2 = _rate(x1a, n1a), _rate(x2a, n2a)
    N = n1a + n2a
    c1 = x1a + x2a
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = c1 / N
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1a + 1 / n2a))
        z = np.where(se > 0, (p1 - p2) / np.where(se > 0, se, 1.0), np.nan)
        min_exp = np.minimum(n1a, n2a) * np.minimum(c1, N - c1) / N
    if alt == "larger":
        p_z = norm_sf(z)
    elif alt == "smaller":
        p_z = norm_cdf(z)
    else:
        p_z = 2.0 * norm_sf(np.abs(z))
    defined = (n1a > 0) & (n2a > 0)
    use_fisher = defined & ~(min_exp >= min_expected_for_z)  # nan min_exp (no returns at all) -> Fisher
    p_fisher = np.full(p1.shape, np.nan)
    if np.any(use_fisher):
        p_fisher[use_fisher] = fisher_exact_p(x1a[use_fisher], n1a[use_fisher], x2a[use_fisher], n2a[use_fisher], alt)
    p_value = np.where(use_fisher, p_fisher, np.where(defined, p_z, np.nan))
    test = np.where(use_fisher, "fisher", "z")
    ci_low, ci_high = wilson_interval(x1a, n1a, alpha)
    diff_low, diff_high = newcombe_diff_interval(x1a, n1a, x2a, n2a, alpha)
    rr, rr_lo, rr_hi = risk_ratio(x1a, n1a, x2a, n2a, alpha)
    return {
        "p1": p1,
        "p2": p2,
        "diff": p1 - p2,
        "pooled_p": pooled,
        "se_pooled": se,
        "z": z,
        "p_z": np.where(defined, p_z, np.nan),
        "p_fisher": p_fisher,
        "p_value": p_value,
        "test": test,
        "min_expected": min_exp,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "diff_low": diff_low,
        "diff_high": diff_high,
        "risk_ratio": rr,
        "rr_low": rr_lo,
        "rr_high": rr_hi,
    }


# ---------------------------------------------------------------------------------------------
# 3. multiple testing (METHOD 5)
# ---------------------------------------------------------------------------------------------
def _pvals(p: Any) -> tuple[np.ndarray, np.ndarray]:
    pa = _arr(p, "p")
    if pa.ndim != 1:
        pa = pa.reshape(-1) if pa.ndim == 0 else pa
        if pa.ndim != 1:
            raise ValueError("p-values must be a one-dimensional array.")
    with np.errstate(invalid="ignore"):
        if np.any((pa < 0) | (pa > 1)):
            raise ValueError("p-values must lie in [0, 1] (nan allowed for untested segments).")
    return pa, np.isfinite(pa)


def bh_adjust(p: Any) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values (q-values), in input order.

    q_(i) = min_{j >= i} min(1, m p_(j) / j). nan entries stay nan and are not counted in m (an
    untested segment is not part of the family). Same as statsmodels
    ``multipletests(p, method='fdr_bh')[1]`` on the non-nan values.

    >>> [round(float(q), 4) for q in bh_adjust([0.008, 0.03, 0.123, 0.6, 0.2])]
    [0.04, 0.075, 0.205, 0.6, 0.25]
    """
    return _adjust_sorted(
        p, lambda v, m: np.minimum(np.minimum.accumulate((v * m / np.arange(1, m + 1))[::-1])[::-1], 1.0)
    )


def weighted_bh_adjust(p: Any, weights: Any) -> np.ndarray:
    """Weighted Benjamini-Hochberg q-values (Genovese, Roeder & Wasserman 2006), in input order.

    The weights are fixed before the data are seen and rescaled to average 1 over the tested (non-nan)
    p-values; hypothesis i is rejected at level q when p_i <= w_i q k / m for the largest such k, i.e.
    when bh_adjust(p_i / w_i) <= q. With equal weights this is bh_adjust. The false-discovery rate stays
    at or below q (independent or positively dependent tests; Genovese et al. 2006, Blanchard & Roquain
    2008); the weights only move power between hypotheses. A weight of 0 never rejects (q = 1).

    >>> [round(float(q), 4) for q in weighted_bh_adjust([0.004, 0.01, 0.02, 0.5], [2, 1, 0.5, 0.5])]
    [0.008, 0.02, 0.0533, 1.0]
    """
    pa, ok = _pvals(p)
    w = np.broadcast_to(_arr(weights, "weights"), pa.shape).astype("float64")
    if np.any(~np.isfinite(w[ok]) | (w[ok] < 0)):
        raise ValueError("weights must be finite and non-negative.")
    out = np.full(pa.shape, np.nan)
    if not ok.any():
        return out
    if w[ok].sum() <= 0:
        raise ValueError("at least one tested hypothesis needs a positive weight.")
    wn = w[ok] / w[ok].mean()
    with np.errstate(divide="ignore"):
        ratio = np.where(wn > 0, np.minimum(pa[ok] / np.where(wn > 0, wn, 1.0), 1.0), 1.0)
    out[ok] = bh_adjust(ratio)
    return out


def _adjust_sorted(p: Any, step: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """Apply a step-wise adjustment `step(sorted non-nan p, m)` and return it in input order, nan kept."""
    pa, ok = _pvals(p)
    out = np.full(pa.shape, np.nan)
    v = pa[ok]
    m = v.size
    if m == 0:
        return out
    order = np.argsort(v, kind="mergesort")
    adj = np.empty(m)
    adj[order] = step(v[order], m)
    out[ok] = adj
    return out


# ---------------------------------------------------------------------------------------------
# 4. clustering (METHOD 4)
# ---------------------------------------------------------------------------------------------
def _rao_scott_core(
    y: np.ndarray, m: np.ndarray, codes: np.ndarray, k: int, single_cluster: str = "units"
) -> dict[str, np.ndarray]:
    """Per-group Rao-Scott quantities from per-cluster sums y (returned) and m (units)."""
    X = np.bincount(codes, weights=y, minlength=k)
    M = np.bincount(codes, weights=m, minlength=k)
    g = np.bincount(codes, minlength=k).astype(float)
    p = _rate(X, M)
    resid2 = (y - p[codes] * m) ** 2
    S = np.bincount(codes, weights=resid2, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(g > 1, g / (g - 1) * S / M**2, np.nan)
        v_srs = p * (1 - p) / M
        deff_raw = np.where(v_srs > 0, v / v_srs, np.nan)
        # One cluster: no within-segment variance estimate. Fall back to the worst case, all units of
        # the cluster moving together (Kish deff with rho = 1, i.e. mean cluster size).
        worst = M / g
    if single_cluster == "one":
        worst = np.ones_like(M)
    deff = np.where(np.isfinite(deff_raw), deff_raw, np.where(g == 1, worst, 1.0))
    deff = np.where(M > 0, np.maximum(deff, 1.0), np.nan)
    return {
        "x": X,
        "n": M,
        "clusters": g,
        "p": p,
        "var_cluster": v,
        "var_srs": v_srs,
        "deff_raw": deff_raw,
        "deff": deff,
        "x_eff": X / deff,
        "n_eff": M / deff,
    }


def group_design_effects(group: np.ndarray, order: np.ndarray, returned: Any, units: Any, groups: int) -> np.ndarray:
    """Per group code 0..groups-1, the Rao-Scott design effect (design_effect, single_cluster="one", at least 1;
    1 where it is undefined) of the group's rate over its orders, from per-line integer codes: group (e.g. the
    order month) and order. The display intervals of monthly rates use it: units of one order come back
    together, so a month of a few large orders is less certain than its units say."""
    g = np.asarray(group, dtype="int64")
    o = np.asarray(order, dtype="int64")
    out = np.ones(groups)
    if not len(g):
        return out
    width = int(o.max()) + 1
    cell, keys = pd.factorize(g * width + o, sort=False)
    y = np.bincount(cell, weights=np.asarray(returned, dtype="float64"), minlength=len(keys))
    m = np.bincount(cell, weights=np.asarray(units, dtype="float64"), minlength=len(keys))
    d = design_effect(y, m, np.asarray(keys) // width, single_cluster="one")["deff"]
    got = d.to_numpy(dtype="float64")
    idx = d.index.to_numpy(dtype="int64")
    out[idx] = np.where(np.isfinite(got), np.maximum(got, 1.0), 1.0)
    return out


def design_effect(
    order_returned: Any,
    order_units: Any,
    group: Any,
    *,
    single_cluster: str = "units",
    residuals: bool = False,
) -> pd.DataFrame:
    """Rao-Scott design effect per group from per-(order, group) sums, vectorised.

    Each row is one order's contribution to one group (segment): units returned y_o and units m_o.
    Per group, with p = sum y / sum m = X/M and g orders:
    v = g/(g-1) * sum_o (y_o - p m_o)^2 / M^2 (ratio-estimator variance), deff = v / (p(1-p)/M),
    floored at 1 (METHOD 4.2-4.3; Rao & Scott 1992). Effective counts x_eff = X/deff, n_eff = M/deff
    feed the ordinary z/chi2/CI formulas. A group with p = 0 or 1 gets deff = 1 (``deff_raw`` nan);
    a group with no units gets nan.

    A group with a single order has no within-group variance estimate. ``single_cluster="units"``
    (the segment screen) falls back to deff = its units (perfect within-order correlation, the
    conservative choice); ``single_cluster="one"`` gives deff = 1 (the trend and intervention
    period cells, whose historic behaviour this keeps: a one-order cell is treated as independent
    lines). ``residuals=True`` accepts per-order values y_o outside [0, m_o]: the interventions page
    passes returned units shifted by each line's cell rate (residuals from the fitted month x segment
    cells) so that the cell differences are not counted again as clustering; the formula is the same.

    Returns a DataFrame indexed by group with columns x, n, clusters, p, var_cluster, var_srs,
    deff_raw, deff, x_eff, n_eff.

    >>> d = design_effect([2, 0, 0], [2, 1, 1], ["a", "a", "a"])  # by hand: p = 1/2, M = 4, g = 3
    >>> float(d.loc["a", "deff"])   # v = 3/2 (1 + 1/4 + 1/4)/16 = 9/64; deff = v / (1/16)
    2.25
    >>> design_effect([1], [3], ["b"])["deff"].tolist(), design_effect([1], [3], ["b"], single_cluster="one")["deff"].tolist()
    ([3.0], [1.0])
    """
    if single_cluster not in ("units", "one"):
        raise ValueError(f"single_cluster must be 'units' or 'one' (got {single_cluster!r}).")
    y = _arr(order_returned, "order_returned").reshape(-1)
    m = _arr(order_units, "order_units").reshape(-1)
    grp = pd.Series(np.asarray(group).reshape(-1) if not isinstance(group, pd.Series) else group.to_numpy())
    if not (y.size == m.size == grp.size):
        raise ValueError("order_returned, order_units and group must have the same length.")
    if np.any(m < 0) or (not residuals and (np.any(y < 0) or np.any(y > m))):
        raise ValueError("Per-order returned units must lie between 0 and the order's units.")
    codes, uniques = pd.factorize(grp, sort=True)
    if np.any(codes < 0):
        raise ValueError("group contains missing labels; drop or label those orders first.")
    res = _rao_scott_core(y, m, codes, len(uniques), single_cluster)
    return pd.DataFrame(res, index=pd.Index(uniques, name="group"))


def rao_scott_deff(
    frame: pd.DataFrame,
    segment_col: str,
    cluster_col: str,
    x_col: str,
    n_col: str,
    *,
    single_cluster: str = "units",
    residuals: bool = False,
) -> pd.DataFrame:
    """Rao-Scott design effect per segment from a line- (or unit-) level frame.

    Sums x_col and n_col per (segment, cluster), then applies :func:`design_effect`. Clusters are
    usually orders (or customers, METHOD 4.3); ``single_cluster`` and ``residuals`` as in
    :func:`design_effect`. Returns a DataFrame indexed by segment with columns
    x, n, clusters, p, var_cluster, var_srs, deff_raw, deff (>= 1), x_eff, n_eff.

    >>> f = pd.DataFrame({"seg": ["a"] * 4 + ["b"] * 2, "order": [1, 1, 2, 3, 4, 5],
    ...                   "ret": [1, 1, 0, 0, 1, 0], "units": [1, 1, 1, 1, 1, 1]})
    >>> rao_scott_deff(f, "seg", "order", "ret", "units")["clusters"].tolist()
    [3.0, 2.0]
    """
    missing = [c for c in (segment_col, cluster_col, x_col, n_col) if c not in frame.columns]
    if missing:
        raise ValueError(f"rao_scott_deff: the frame has no column(s) {missing}.")
    sums = (
        frame.groupby([segment_col, cluster_col], observed=True, sort=False, dropna=True)[[x_col, n_col]]
        .sum()
        .reset_index()
    )
    out = design_effect(
        sums[x_col].to_numpy(float),
        sums[n_col].to_numpy(float),
        sums[segment_col],
        single_cluster=single_cluster,
        residuals=residuals,
    )
    out.index.name = segment_col
    return out


# ---------------------------------------------------------------------------------------------
# 5. empirical Bayes (METHOD 6.2)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BetaPrior:
    """Beta(alpha, beta) prior for segment rates; rho = 1/(alpha + beta + 1) is the extra-binomial ICC.

    alpha = beta = inf means "no over-dispersion detected": every segment shrinks fully to ``mean``.
    ``mean`` defaults to alpha/(alpha+beta). ``neg_loglik`` is filled by the MLE fit.
    """

    alpha: float
    beta: float
    rho: float
    method: str
    mean: float = float("nan")
    neg_loglik: float = float("nan")

    def __post_init__(self) -> None:
        if not (self.alpha > 0 and self.beta > 0):
            raise ValueError("Beta prior parameters must be positive.")
        if math.isnan(self.mean):
            if math.isinf(self.alpha) or math.isinf(self.beta):
                raise ValueError("An infinite (no-shrinkage-spread) prior needs its mean.")
            object.__setattr__(self, "mean", self.alpha / (self.alpha + self.beta))

    @property
    def strength(self) -> float:
        """alpha + beta, the prior's weight in pseudo-units."""
        return self.alpha + self.beta

    @property
    def pooled(self) -> bool:
        """True when the prior is degenerate (no extra-binomial variation): shrink to the mean."""
        return math.isinf(self.alpha) or math.isinf(self.beta)

    @classmethod
    def from_mean_strength(cls, mean: float, strength: float, method: str = "given") -> "BetaPrior":
        if not (0 < mean < 1 and strength > 0):
            raise ValueError("mean must be in (0, 1) and strength positive.")
        return cls(mean * strength, (1 - mean) * strength, 1 / (strength + 1), method)


def _degenerate_prior(m: float, method: str) -> BetaPrior:
    return BetaPrior(math.inf, math.inf, 0.0, method, mean=float(m))


def fit_beta_prior(x: Any, n: Any, method: str = "moments") -> BetaPrior:
    """Fit the Beta prior of the beta-binomial model x_s ~ Bin(n_s, theta_s), theta_s ~ Beta(a, b).

    method="moments" (recommended, METHOD 6.2; Kleinman 1973): m = sum x / sum n,
    S = sum n_i (x_i/n_i - m)^2, rho = (S/(m(1-m)) - (k-1)) / (N - sum n_i^2/N - (k-1)),
    a + b = (1 - rho)/rho, a = m(a+b). rho <= 0 (no extra-binomial variation) returns a degenerate prior
    (alpha = beta = inf) so that :func:`shrink` gives the pooled mean m.
    method="naive": mean and sample variance (ddof=1) of the raw rates - shrinks too little; contrast only.
    method="mle": maximises sum log BetaBinom(x_i; n_i, a, b) (scipy.stats.betabinom, Nelder-Mead on
    logit-mean / log-strength); good when k >= ~20.
    Segments with n = 0 are ignored. Needs at least two segments.

    >>> pr = fit_beta_prior([3, 40, 95, 6, 210, 1, 58, 12], [12, 180, 600, 25, 1500, 3, 420, 60])
    >>> round(pr.alpha, 3), round(pr.beta, 3)
    (40.723, 227.571)
    """
    xa, na = _counts(x, n)
    xa, na = xa.reshape(-1), na.reshape(-1)
    keep = na > 0
    xa, na = xa[keep], na[keep]
    k = xa.size
    if k < 2:
        raise ValueError("A prior needs at least two segments with units.")
    N = na.sum()
    m = float(xa.sum() / N)
    if method == "moments":
        if m <= 0 or m >= 1:
            return _degenerate_prior(m, method)
        S = float(np.sum(na * (xa / na - m) ** 2))
        denom = N - np.sum(na**2) / N - (k - 1)
        if denom <= 0:
            return _degenerate_prior(m, method)
        rho = float((S / (m * (1 - m)) - (k - 1)) / denom)
        if rho <= 0:
            return _degenerate_prior(m, method)
        if rho >= 1:
            raise ValueError("Estimated intra-class correlation >= 1: segment rates are all 0 or 1.")
        ab = (1 - rho) / rho
        return BetaPrior(m * ab, (1 - m) * ab, rho, method)
    if method == "naive":
        r = xa / na
        mu, var = float(r.mean()), float(r.var(ddof=1))
        if var <= 0 or not 0 < mu < 1 or var >= mu * (1 - mu):
            return _degenerate_prior(mu, method)
        ab = mu * (1 - mu) / var - 1
        return BetaPrior(mu * ab, (1 - mu) * ab, 1 / (ab + 1), method)
    if method == "mle":
        if m <= 0 or m >= 1:
            return _degenerate_prior(m, method)
        xi, ni = np.rint(xa), np.rint(na)

        def nll(t: np.ndarray) -> float:
            mu = 1 / (1 + math.exp(-t[0]))
            ab = math.exp(t[1])
            return float(-np.sum(sps.betabinom.logpmf(xi, ni, mu * ab, (1 - mu) * ab)))

        start = fit_beta_prior(xa, na, "moments")
        ab0 = start.strength if not start.pooled else 1e3
        t0 = np.array([math.log(m / (1 - m)), math.log(ab0)])
        res = optimize.minimize(
            nll, t0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000}
        )
        mu_hat = 1 / (1 + math.exp(-res.x[0]))
        ab_hat = math.exp(res.x[1])
        if ab_hat > 1e8:  # likelihood flat toward the binomial: no over-dispersion
            return BetaPrior(math.inf, math.inf, 0.0, method, mean=mu_hat, neg_loglik=float(res.fun))
        return BetaPrior(mu_hat * ab_hat, (1 - mu_hat) * ab_hat, 1 / (ab_hat + 1), method, neg_loglik=float(res.fun))
    raise ValueError(f"method must be 'moments', 'naive' or 'mle' (got {method!r}).")


def shrink(x: Any, n: Any, prior: BetaPrior, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """Empirical-Bayes posterior of each segment rate under ``prior``, vectorised (METHOD 6.2).

    posterior_mean = (x + a)/(n + a + b); shrinkage_weight B = (a + b)/(n + a + b) (1 = fully shrunk to
    the prior mean); ci_low / ci_high = equal-tailed (1 - alpha) Beta(x + a, n - x + b) quantiles
    (Efron & Morris 1975). A degenerate prior (no over-dispersion) gives the pooled mean, B = 1 and a
    zero-width interval. The posterior mean always lies between the raw rate and the prior mean.

    >>> pr = BetaPrior(30.0, 170.0, 1 / 201, "given")
    >>> float(shrink(540, 3000, pr)["posterior_mean"])
    0.178125
    """
    alpha = _check_alpha(alpha)
    xa, na = _counts(x, n)
    if prior.pooled:
        mean = np.full(xa.shape, prior.mean)
        return {
            "posterior_mean": mean,
            "shrinkage_weight": np.ones(xa.shape),
            "ci_low": mean.copy(),
            "ci_high": mean.copy(),
            "raw_rate": _rate(xa, na),
        }
    a, b = prior.alpha, prior.beta
    post_a, post_b = xa + a, na - xa + b
    return {
        "posterior_mean": post_a / (post_a + post_b),
        "shrinkage_weight": (a + b) / (na + a + b),
        "ci_low": sps.beta.ppf(alpha / 2, post_a, post_b),
        "ci_high": sps.beta.ppf(1 - alpha / 2, post_a, post_b),
        "raw_rate": _rate(xa, na),
    }


# ---------------------------------------------------------------------------------------------
# 6. excess returns and priority (METHOD 6.4)
# ---------------------------------------------------------------------------------------------
def excess_returns(
    x: Any,
    n: Any,
    p0: Any,
    shrunk_rate: Any,
    cost: Any,
    q: Any,
    q_threshold: float = 0.10,
    alpha: float = 0.05,
) -> dict[str, np.ndarray]:
    """Excess returns, their cost, and the gated priority score per segment, vectorised (METHOD 6.4).

    expected = n p0; excess = x - expected; excess_cost = excess * cost;
    shrunk_excess = n (shrunk_rate - p0) with the EB posterior mean; shrunk_excess_cost;
    wilson_lower = one-sided (1 - alpha) Wilson lower bound; conservative_excess = n max(0, L - p0) and
    conservative_excess_cost (the "at least" figure); gate = q <= q_threshold (BH q of the one-sided
    test; nan q never passes); priority_score = shrunk_excess_cost where gated, else 0.
    Significance gates, shrunk impact ranks - they are not multiplied into one opaque number.

    >>> r = excess_returns([540], [3000], 0.15, [0.178125], [18.0], [1e-5])
    >>> round(float(r["priority_score"][0]), 6)
    1518.75
    """
    xa, na = _counts(x, n)
    p0a = _arr(p0, "p0")
    if np.any((p0a < 0) | (p0a > 1)):
        raise ValueError("p0 must be a rate in [0, 1].")
    rate = _arr(shrunk_rate, "shrunk_rate")
    c = _arr(cost, "cost")
    qa = _arr(q, "q")
    if not 0 < q_threshold <= 1:
        raise ValueError(f"q_threshold must be in (0, 1] (got {q_threshold}).")
    xa, na, p0a, rate, c, qa = np.broadcast_arrays(xa, na, p0a, rate, c, qa)
    expected = na * p0a
    excess = xa - expected
    shrunk_excess = na * (rate - p0a)
    lower = wilson_lower_one_sided(xa, na, alpha)
    conservative = na * np.maximum(0.0, np.nan_to_num(lower, nan=0.0) - p0a)
    with np.errstate(invalid="ignore"):
        gate = qa <= q_threshold
    shrunk_cost = shrunk_excess * c
    return {
        "expected": expected,
        "excess": excess,
        "excess_cost": excess * c,
        "shrunk_excess": shrunk_excess,
        "shrunk_excess_cost": shrunk_cost,
        "wilson_lower": lower,
        "conservative_excess": conservative,
        "conservative_excess_cost": conservative * c,
        "gate": gate,
        "priority_score": np.where(gate, shrunk_cost, 0.0),
    }


# ---------------------------------------------------------------------------------------------
# 7. funnel plot (METHOD 6.3)
# ---------------------------------------------------------------------------------------------
def _level_label(level: float) -> str:
    return f"{level * 100:g}"


def funnel_limits(
    n_grid: Any,
    theta0: float,
    levels: tuple[float, ...] = (0.95, 0.998),
    method: str = "exact",
    phi: float = 1.0,
    tau2: float = 0.0,
) -> pd.DataFrame:
    """Funnel-plot control limits around a target rate theta0 for each n in n_grid (Spiegelhalter 2005).

    method="exact" (recommended): exact binomial limits with interpolation (Spiegelhalter 2005,
    appendix A): for p in {(1-level)/2, 1-(1-level)/2}, r_p = smallest r with F(r; n, theta0) >= p,
    a = (F(r_p) - p)/(F(r_p) - F(r_p - 1)), limit = (r_p - a)/n.
    method="normal": theta0 +/- z sqrt(phi theta0(1-theta0)/n + tau2), z = Phi^-1(1 - (1-level)/2);
    ``phi`` (multiplicative) or ``tau2`` (additive random effects) widen the limits for
    over-dispersion (Spiegelhalter 2005, section 3); they apply to the normal method only.

    Returns one row per n with columns n and, per level label L ("95", "99.8"):
    lower_L / upper_L (clipped to [0, 1] for display), lower_L_raw / upper_L_raw (unclipped; the
    exact lower limit goes below 0 when r_p = 0) and, for the exact method, r_lower_L / r_upper_L.

    >>> f = funnel_limits([100], 0.15, levels=(0.95,))
    >>> round(float(f["lower_95"].iloc[0]), 6), round(float(f["upper_95"].iloc[0]), 6)
    (0.078383, 0.218332)
    """
    n = _arr(n_grid, "n_grid").reshape(-1)
    if np.any(n < 0):
        raise ValueError("n_grid must hold non-negative sizes.")
    theta0 = float(theta0)
    if not 0.0 < theta0 < 1.0:
        raise ValueError(f"theta0 must lie strictly between 0 and 1 (got {theta0}).")
    if not levels or any(not 0.0 < lv < 1.0 for lv in levels):
        raise ValueError("levels must be coverage probabilities strictly between 0 and 1, e.g. (0.95, 0.998).")
    if method not in ("exact", "normal"):
        raise ValueError(f"method must be 'exact' or 'normal' (got {method!r}).")
    if phi <= 0 or tau2 < 0:
        raise ValueError("phi must be positive and tau2 non-negative.")
    if method == "exact" and (phi != 1.0 or tau2 != 0.0):
        raise ValueError("Over-dispersion (phi, tau2) widens the normal limits only; use method='normal'.")
    if phi != 1.0 and tau2 != 0.0:
        raise ValueError("Use either the multiplicative phi or the additive tau2 adjustment, not both.")
    out: dict[str, np.ndarray] = {"n": n}
    ok = n > 0
    safe_n = np.where(ok, n, 1.0)
    for level in levels:
        label = _level_label(level)
        tail = (1.0 - level) / 2.0
        bounds = {}
        for side, p in (("lower", tail), ("upper", 1.0 - tail)):
            if method == "exact":
                r = sps.binom.ppf(p, safe_n, theta0)
                f_r = sps.binom.cdf(r, safe_n, theta0)
                f_prev = sps.binom.cdf(r - 1, safe_n, theta0)
                a = (f_r - p) / (f_r - f_prev)
                raw = (r - a) / safe_n
                out[f"r_{side}_{label}"] = np.where(ok, r, np.nan)
            else:
                z = norm_ppf(1.0 - tail)
                half = z * np.sqrt(phi * theta0 * (1 - theta0) / safe_n + tau2)
                raw = theta0 - half if side == "lower" else theta0 + half
            bounds[side] = np.where(ok, raw, np.nan)
        out[f"lower_{label}"] = np.clip(bounds["lower"], 0.0, 1.0)
        out[f"upper_{label}"] = np.clip(bounds["upper"], 0.0, 1.0)
        out[f"lower_{label}_raw"] = bounds["lower"]
        out[f"upper_{label}_raw"] = bounds["upper"]
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# 8. stratification (METHOD 10)
# ---------------------------------------------------------------------------------------------
def _mantel_haenszel(table: np.ndarray, alpha: float) -> dict[str, Any]:
    """statsmodels ``StratifiedTable(table)`` (table of shape (2, 2, K)): oddsratio_pooled,
    logodds_pooled_se (Robins, Breslow & Greenland 1986), oddsratio_pooled_confint and
    test_equal_odds (Breslow-Day, plain and Tarone-adjusted), the same operations in the same order."""
    from scipy.special import chdtr

    a11, a12, a21, a22 = table[0, 0, :], table[0, 1, :], table[1, 0, :], table[1, 1, :]
    apb, apc = a11 + a12, a11 + a21
    ad, bc = a11 * a22, a12 * a21
    apd, dma = a11 + a22, a22 - a11
    n = table.sum(0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        odds_ratio = np.sum(ad / n) / np.sum(bc / n)
        adns, bcns = np.sum(ad / n), np.sum(bc / n)
        lor_va = np.sum(apd * ad / n**2) / adns**2
        mid = apd * bc / n**2
        mid += (1 - apd / n) * ad / n
        mid = np.sum(mid)
        mid /= adns * bcns
        lor_va += mid
        lor_va += np.sum((1 - apd / n) * bc / n) / bcns**2
        lor_va /= 2
        lor_se = np.sqrt(lor_va)
        lor = np.log(odds_ratio)
        f = -norm_ppf(alpha / 2)
        lcb, ucb = np.exp(lor - f * lor_se), np.exp(lor + f * lor_se)
        r = odds_ratio
        qa = 1 - r
        qb = r * (apb + apc) + dma
        qc = -r * apb * apc
        dr = np.sqrt(qb**2 - 4 * qa * qc)
        e11 = (-qb + dr) / (2 * qa)
        v11 = 1 / e11 + 1 / (apc - e11) + 1 / (apb - e11) + 1 / (dma + e11)
        v11 = 1 / v11
        bd = np.sum((a11 - e11) ** 2 / v11)
        adj = a11.sum() - e11.sum()
        adj = adj**2
        adj /= np.sum(v11)
        bdt = bd - adj

    def chi2_cdf(x: float, df: int) -> float:  # scipy.stats.chi2.cdf's edge rules around chdtr(df, x)
        if np.isnan(x) or df <= 0:
            return float("nan")
        return 1.0 if x == np.inf else 0.0 if x <= 0 else float(chdtr(df, x))

    df = table.shape[2] - 1
    return {
        "mh_odds_ratio": float(odds_ratio),
        "mh_log_or_se": float(lor_se),
        "mh_or_ci": (float(lcb), float(ucb)),
        "breslow_day_statistic": float(bd),
        "breslow_day_p": float(1 - chi2_cdf(bd, df)),
        "breslow_day_tarone_statistic": float(bdt),
        "breslow_day_tarone_p": float(1 - chi2_cdf(bdt, df)),
    }


def cmh_test(tables: Any, correction: bool = True, alpha: float = 0.05) -> dict[str, Any]:
    """Cochran-Mantel-Haenszel test and Mantel-Haenszel common odds ratio for K 2x2 tables.

    ``tables`` has shape (K, 2, 2): per stratum [[a, b], [c, d]] (rows = groups, e.g. collection A/B;
    columns = returned/kept). CMH: X2 = (|sum(a - E a)| - c)^2 / sum Var a with E a = n1 m1/T,
    Var a = n1 n2 m1 m2/(T^2 (T-1)), c = 0.5 when ``correction`` and |sum(a - E a)| >= 0.5 (R
    ``mantelhaen.test`` default; Mantel & Haenszel 1959). Strata with an empty row or column carry no
    information and are left out. MH odds ratio with the Robins-Breslow-Greenland CI, Breslow-Day
    homogeneity (plain and Tarone-adjusted) via statsmodels ``StratifiedTable``; Woolf homogeneity with
    0.5 added to every cell (as in R's documentation). Use strata such as intent or category when
    segments differ in mix (Simpson's paradox, case 12).

    Returns statistic, p_value, df (1), mh_odds_ratio, mh_log_or_se, mh_or_ci, crude_table,
    crude_odds_ratio, stratum_odds_ratios, sum_a_minus_e, sum_var, breslow_day_statistic,
    breslow_day_p, breslow_day_tarone_statistic, breslow_day_tarone_p, woolf_statistic, woolf_p,
    strata_used. The statsmodels parts are computed here in numpy with statsmodels' own formulas, in
    the same order (the same floats; tests/unit/test_stats_special.py): statsmodels imports scipy.stats,
    half a second of the CLI's start.
    """
    alpha = _check_alpha(alpha)
    t = _arr(tables, "tables")
    if t.ndim != 3 or t.shape[1:] != (2, 2):
        raise ValueError(f"tables must have shape (K, 2, 2) (got {t.shape}).")
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("Table cells must be finite non-negative counts.")
    a, b, c, d = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1]
    n1, n2, m1, m2 = a + b, c + d, a + c, b + d
    T = n1 + n2
    used = (n1 > 0) & (n2 > 0) & (m1 > 0) & (m2 > 0)
    if not used.any():
        raise ValueError("Every stratum has an empty row or column: nothing to test.")
    Tu = T[used]
    expected = n1[used] * m1[used] / Tu
    var = n1[used] * n2[used] * m1[used] * m2[used] / (Tu**2 * (Tu - 1))
    delta = float(np.sum(a[used] - expected))
    sum_var = float(var.sum())
    yates = 0.5 if correction and abs(delta) >= 0.5 else 0.0
    statistic = (abs(delta) - yates) ** 2 / sum_var
    with np.errstate(invalid="ignore", divide="ignore"):
        stratum_or = a * d / (b * c)
        crude = t.sum(axis=0)
        crude_or = float(crude[0, 0] * crude[1, 1] / (crude[0, 1] * crude[1, 0]))
        cells = t[used] + 0.5
        lor = np.log(cells[:, 0, 0] * cells[:, 1, 1] / (cells[:, 0, 1] * cells[:, 1, 0]))
        w = 1.0 / np.sum(1.0 / cells, axis=(1, 2))
        woolf = float(np.sum(w * (lor - np.sum(w * lor) / w.sum()) ** 2))
    k_used = int(used.sum())
    out: dict[str, Any] = {
        "statistic": float(statistic),
        "p_value": float(chi2_sf(statistic, 1)),
        "df": 1,
        "crude_table": crude,
        "crude_odds_ratio": crude_or,
        "stratum_odds_ratios": stratum_or,
        "sum_a_minus_e": delta,
        "sum_var": sum_var,
        "woolf_statistic": woolf,
        "woolf_p": float(chi2_sf(woolf, k_used - 1)) if k_used > 1 else float("nan"),
        "strata_used": used,
    }
    out.update(_mantel_haenszel(np.moveaxis(t[used], 0, -1), alpha))
    return out


# ---------------------------------------------------------------------------------------------
# 9. pairs bought together (METHOD 7)
# ---------------------------------------------------------------------------------------------
def pair_interaction(
    x00: Any, n00: Any, x10: Any, n10: Any, x01: Any, n01: Any, x11: Any, n11: Any
) -> dict[str, np.ndarray]:
    """Is a pair (A, B) worse than its parts? Order-level basket cells, vectorised over pairs.

    Cells by (has A, has B): x = orders with any return, n = orders. The saturated logistic model
    any_return ~ hasA + hasB + hasA:hasB gives the interaction (log ratio of odds ratios)
    logit p11 - logit p10 - logit p01 + logit p00 with SE sqrt(sum 1/x + 1/(n - x)) (METHOD 7.2; same as
    the statsmodels GLM Binomial fit on the four cells); normal z and p (two-sided and one-sided
    "greater" = pair worse than multiplicative expectation). Also the additive-scale view, which is
    the cost statement: expected_p11_additive = p10 + p01 - p00, expected_p11_multiplicative =
    p10 p01 / p00, RERI = (p11 - p10 - p01 + p00)/p00 (VanderWeele & Knol 2014), excess_returns_additive
    = n11 (p11 - expected_p11_additive) and lift_vs_additive = p11 / expected_p11_additive.
    A zero cell makes the logit terms infinite: those rows get nan SE/z/p.
    For "does B in the basket raise A's own returns" use :func:`segment_vs_rest` / :func:`risk_ratio`
    on A's lines with vs without B (METHOD 7.3).

    >>> r = pair_interaction(600, 5000, 136, 800, 105, 700, 48, 150)
    >>> round(float(r["interaction_log_or"]), 6), round(float(r["reri"]), 6)
    (0.574026, 1.0)
    """
    cells = [
        _counts(x, n, f"x{k}", f"n{k}")
        for k, (x, n) in zip(("00", "10", "01", "11"), ((x00, n00), (x10, n10), (x01, n01), (x11, n11)))
    ]
    arrs = np.broadcast_arrays(*[a for pair in cells for a in pair])
    (x00a, n00a, x10a, n10a, x01a, n01a, x11a, n11a) = arrs
    p00, p10, p01, p11 = _rate(x00a, n00a), _rate(x10a, n10a), _rate(x01a, n01a), _rate(x11a, n11a)
    with np.errstate(invalid="ignore", divide="ignore"):

        def logit(p: np.ndarray) -> np.ndarray:
            return np.log(p / (1 - p))

        l00, l10, l01, l11 = logit(p00), logit(p10), logit(p01), logit(p11)
        inter = l11 - l10 - l01 + l00
        var = sum(1 / xa + 1 / (na - xa) for xa, na in ((x00a, n00a), (x10a, n10a), (x01a, n01a), (x11a, n11a)))
        finite = np.isfinite(inter) & np.isfinite(var)
        se = np.where(finite, np.sqrt(var), np.nan)
        z = np.where(finite, inter / se, np.nan)
        exp_add = p10 + p01 - p00
        exp_mult = p10 * p01 / p00
        reri = (p11 - p10 - p01 + p00) / p00
        lift = p11 / exp_add
    return {
        "p00": p00,
        "p10": p10,
        "p01": p01,
        "p11": p11,
        "logit_p00": l00,
        "log_or_a": l10 - l00,
        "log_or_b": l01 - l00,
        "interaction_log_or": inter,
        "interaction_or": np.exp(inter),
        "interaction_se": se,
        "z": z,
        "p_two_sided": 2 * norm_sf(np.abs(z)),
        "p_greater": norm_sf(z),
        "expected_p11_additive": exp_add,
        "expected_p11_multiplicative": exp_mult,
        "reri": reri,
        "excess_returns_additive": n11a * (p11 - exp_add),
        "lift_vs_additive": lift,
    }


def co_purchase_lift(n_ab: Any, n_a: Any, n_b: Any, n_total: Any) -> np.ndarray:
    """Association-rule lift n_AB N / (n_A n_B): > 1 means A and B are bought together more than chance.

    Brin, Motwani, Ullman & Tsur (1997); METHOD 7.1. nan when n_A or n_B is 0. Vectorised.

    >>> round(float(co_purchase_lift(150, 950, 850, 6650)), 6)
    1.235294
    """
    ab, a, b, N = (_arr(v, nm) for v, nm in ((n_ab, "n_ab"), (n_a, "n_a"), (n_b, "n_b"), (n_total, "n_total")))
    if np.any(ab < 0) or np.any(ab > np.minimum(a, b)) or np.any(np.maximum(a, b) > N):
        raise ValueError("Need 0 <= n_ab <= min(n_a, n_b) and max(n_a, n_b) <= n_total.")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((a > 0) & (b > 0), ab * N / (a * b), np.nan)


# ---------------------------------------------------------------------------------------------
# 10. omnibus and trend (METHOD 2.5)
# ---------------------------------------------------------------------------------------------
def power_two_proportions(
    p1: float,
    p2: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    deff: float = 1.0,
    alternative: str = "two-sided",
) -> float:
    """Units needed in the first arm to detect p1 vs p2 (second arm = ratio x first), times deff.

    Arcsine effect size h = 2 asin sqrt(p1) - 2 asin sqrt(p2) (Cohen) solved with statsmodels
    ``NormalIndPower().solve_power(h, alpha=, power=, ratio=, alternative=)`` then multiplied by the
    design effect for clustered units (METHOD 9.4). 15% -> 12% at alpha 0.05, power 0.8: ~2031 per arm.

    >>> round(power_two_proportions(0.15, 0.12))
    2031
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    alpha = _check_alpha(alpha)
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        raise ValueError("p1 and p2 must be different rates strictly between 0 and 1.")
    if not 0 < power < 1 or ratio <= 0 or deff < 1:
        raise ValueError("power must be in (0, 1), ratio positive and deff at least 1.")
    alt = {"larger": "larger", "smaller": "smaller", "two-sided": "two-sided"}[_alt(alternative)]
    h = proportion_effectsize(p1, p2)
    n = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=ratio, alternative=alt)
    return float(n) * float(deff)
