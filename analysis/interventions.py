"""Did a guidance change reduce returns? Before/after, difference-in-differences and interrupted time series.

Design (METHOD.md section 9): orders are attributed by ORDER date (an order placed before the launch and
returned after it belongs to "before"); only MATURED orders (return window closed, ``prepared.cutoff_date``)
are used on both sides; an optional washout drops the first days after launch.

* Before/after on the treated segment (two-proportion test, Newcombe CI): descriptive only - it credits
  the change with every seasonal or site-wide movement (oracle case 15).
* Difference-in-differences against untreated segments of the same dimension, chosen automatically by
  pre-period similarity (level and trend) or given by the user. The verdict rests on the RATIO scale
  (``ratio_did``): a binomial GLM with a log link on group x month cells with month fixed effects, so a
  multiplicative season moves both groups alike whatever their base rates (the risk difference does not:
  it leaned toward "reduced" by 1.7 points on placebos); points are the ratio translated onto the
  treated rate. Diagnostics: parallel pre-trends (``parallel_trends``), a placebo date inside the
  pre-period (the same estimator), and the comparison's change at the date against the dimension's other
  segments (``change_against_reference``): when
  only the comparison moved, the verdict does not credit the treated segment. The collapsed 2x2
  ``did_2x2`` (risk difference, log odds; Angrist & Pischke 2009, ch. 5; oracle case 16) stays as a
  building block.
* Segmented regression ITS on the treated monthly series when there are >= 6 months on each side:
  logit p_t = b0 + b1 time + b2 post + b3 time_since (+ b4 january), Wagner et al. (2002) coding, with
  quasi-binomial dispersion phi = Pearson X2/(T - p) computed with ``endog = x/n, var_weights = n``
  (the two-column endog + ``scale='X2'`` statsmodels pitfall, METHOD 9.3), p-values from Student t on
  T - p df (Lopez Bernal, Cummins & Gasparrini 2017; oracle case 17). No Newey-West HAC p-value: with
  about 20 months it is anti-conservative.

Lines of one order are correlated, so every test and interval on real data uses Rao-Scott effective
counts (units / design effect, METHOD 4); the oracle-level functions take plain counts.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import stats as sps
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from analysis import stats
from analysis.segments import line_codes, reference_group
from analysis.trends import DIMENSIONS, Z95
from data.errors import AnalysisError

if TYPE_CHECKING:  # annotations only (engine imports this module)
    from analysis.engine import Analysis
    from analysis.prepare import Prepared

MIN_ITS_MONTHS = 6  # months of matured data needed on EACH side for the segmented regression
MIN_COMPARISONS, MAX_COMPARISONS = 2, 5
MIN_COMPARISON_UNITS = 30  # per side, for a segment to be a candidate comparison
_PLURAL = {
    "collection": "collections",
    "category": "categories",
    "product": "products",
    "size": "sizes",
    "journey": "journeys",
    "channel": "channels",
    "intent": "intents",
    "customer_type": "customer types",
}
RESULT_KEYS = (
    "dimension",
    "segment",
    "start_date",
    "rate_before",
    "rate_after",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p_value",
    "did_estimate",
    "did_ci_low",
    "did_ci_high",
    "did_p_value",
    "comparison_segments",
    "returns_avoided",
    "verdict",
)


@dataclass(frozen=True, slots=True)
class Intervention:
    """A guidance change for one segment of one dimension, live from ``start_date``."""

    dimension: str
    segment: str
    start_date: pd.Timestamp
    description: str = ""
    id: str = ""

    def __post_init__(self) -> None:
        try:
            ts = pd.Timestamp(self.start_date)
        except (TypeError, ValueError) as e:
            raise ValueError(f"start_date {self.start_date!r} is not a date; use YYYY-MM-DD.") from e
        if pd.isna(ts):
            raise ValueError("start_date is missing; use YYYY-MM-DD.")
        object.__setattr__(self, "start_date", ts.normalize())
        object.__setattr__(self, "segment", str(self.segment))
        object.__setattr__(
            self,
            "description",
            ""
            if self.description is None or (isinstance(self.description, float) and math.isnan(self.description))
            else str(self.description),
        )


# ----------------------------------------------------------------------------------------------
# oracle-level building blocks (plain counts)


@dataclass(frozen=True, slots=True)
class BeforeAfter:
    """Before/after comparison of one segment; descriptive (no control for trends or seasonality).

    change = rate_after - rate_before (negative = fewer returns); z = change / se_pooled;
    p_reduction is one-sided for H1: rate_after < rate_before; risk_ratio = rate_after / rate_before.
    p_value follows METHOD 2.2 (z when every expected cell >= 5, else Fisher); test names it.
    """

    rate_before: float
    rate_after: float
    change: float
    ci_low: float
    ci_high: float
    pooled_p: float
    se_pooled: float
    z: float
    p_two_sided: float
    p_reduction: float
    chi2: float
    fisher_p_two_sided: float
    fisher_p_reduction: float
    risk_ratio: float
    risk_ratio_ci_low: float
    risk_ratio_ci_high: float
    relative_reduction: float
    p_value: float
    test: str


def before_after(x_before: float, n_before: float, x_after: float, n_after: float) -> BeforeAfter:
    """Two-proportion comparison before vs after a launch (METHOD 9.1; oracle case 15).

    Pooled z-test (statsmodels ``proportions_ztest``), Pearson chi2 = z^2, Fisher exact (on counts
    rounded to integers), Newcombe hybrid-score CI for the change, Katz log CI for the risk ratio, all
    from analysis.stats (segment_vs_rest, fisher_exact_p); relative reduction 1 - after/before.

    >>> r = before_after(180, 1200, 130, 1100)
    >>> round(r.change, 4), round(r.p_two_sided, 4)
    (-0.0318, 0.0256)
    """
    if min(n_before, n_after) <= 0:
        raise ValueError("Both periods need units (n_before and n_after > 0).")
    if not (0 <= x_before <= n_before and 0 <= x_after <= n_after):
        raise ValueError("Returned units must be between 0 and the units sold in each period.")
    p0, p1 = x_before / n_before, x_after / n_after
    # pooled z, Newcombe CI, Katz RR and the METHOD 2.2 test choice: analysis.stats.segment_vs_rest (after vs before)
    r = stats.segment_vs_rest(x_after, n_after, x_before, n_before, alternative="two-sided")
    pooled, se = float(r["pooled_p"]), float(r["se_pooled"])
    z = float(r["z"]) if se > 0 else 0.0
    p_z = float(r["p_z"]) if se > 0 else 1.0
    lo, hi = float(r["diff_low"]), float(r["diff_high"])
    a, b, c, d = (round(x_before), round(n_before - x_before), round(x_after), round(n_after - x_after))
    fisher2 = float(stats.fisher_exact_p(a, a + b, c, c + d, "two-sided"))
    fisher1 = float(stats.fisher_exact_p(a, a + b, c, c + d, "larger"))  # before row higher = a reduction
    if x_before > 0 and x_after > 0:
        rr, rr_lo, rr_hi = float(r["risk_ratio"]), float(r["rr_low"]), float(r["rr_high"])
    else:
        rr, rr_lo, rr_hi = (p1 / p0 if p0 > 0 else float("nan")), float("nan"), float("nan")
    p_val, test = float(r["p_value"]), str(np.asarray(r["test"]).item())
    return BeforeAfter(
        p0,
        p1,
        p1 - p0,
        lo,
        hi,
        pooled,
        se,
        z,
        p_z,
        float(sps.norm.cdf(z)),
        z * z,
        fisher2,
        fisher1,
        rr,
        rr_lo,
        rr_hi,
        1 - p1 / p0 if p0 > 0 else float("nan"),
        p_val,
        test,
    )


@dataclass(frozen=True, slots=True)
class DidResult:
    """Collapsed 2x2 difference-in-differences on three scales (METHOD 9.2; oracle case 16)."""

    treated_pre: float
    treated_post: float
    control_pre: float
    control_post: float
    did: float  # risk difference: (pT1 - pT0) - (pC1 - pC0)
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    did_log_or: float  # GLM Binomial interaction coefficient
    ratio_of_odds_ratios: float
    se_log_or: float
    z_log_or: float
    p_log_or: float
    glm_params: dict = field(default_factory=dict)
    glm_bse: dict = field(default_factory=dict)
    did_log_rr: float = float("nan")
    ratio_of_risk_ratios: float = float("nan")
    se_log_rr: float = float("nan")
    p_log_rr: float = float("nan")
    counterfactual_post_rate: float = float("nan")  # pT0 + (pC1 - pC0)
    returns_avoided: float = float("nan")  # (counterfactual - pT1) * nT1


def did_2x2(
    xt0: float, nt0: float, xt1: float, nt1: float, xc0: float, nc0: float, xc1: float, nc1: float
) -> DidResult:
    """Difference-in-differences of return rates, treated vs control, pre (0) vs post (1).

    Risk difference: DiD = (pT1-pT0)-(pC1-pC0), SE = sqrt(sum p(1-p)/n) over the 4 cells, normal p
    and 95 % CI. Log-odds: interaction of ``GLM(x/n, [const, treated, post, treated_x_post],
    Binomial(), var_weights=n)`` (= ratio of odds ratios). Log risk ratio: closed form, SE =
    sqrt(sum 1/x - 1/n). Counts may be non-integer (Rao-Scott effective counts).

    >>> r = did_2x2(180, 1200, 130, 1100, 400, 4000, 380, 3900)
    >>> round(r.did, 5), round(r.p_value, 4)
    (-0.02925, 0.0622)
    """
    cells = np.array([[xc0, nc0], [xc1, nc1], [xt0, nt0], [xt1, nt1]], dtype="float64")
    if (cells[:, 1] <= 0).any():
        raise ValueError("Every cell (treated/control x pre/post) needs units.")
    if ((cells[:, 0] < 0) | (cells[:, 0] > cells[:, 1])).any():
        raise ValueError("Returned units must be between 0 and the units sold in each cell.")
    p = cells[:, 0] / cells[:, 1]
    pc0, pc1, pt0, pt1 = p
    did = (pt1 - pt0) - (pc1 - pc0)
    se = float(np.sqrt((p * (1 - p) / cells[:, 1]).sum()))
    z = did / se if se > 0 else 0.0
    X = pd.DataFrame({"const": 1.0, "treated": [0.0, 0.0, 1.0, 1.0], "post": [0.0, 1.0, 0.0, 1.0]})
    X["treated_x_post"] = X["treated"] * X["post"]
    if ((cells[:, 0] > 0) & (cells[:, 0] < cells[:, 1])).all():
        with warnings.catch_warnings():
            # the 2x2 model is saturated (df_resid = 0): statsmodels warns about a zero-df scale and
            # "perfect prediction"; the coefficients and their binomial SEs are still exact
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = sm.GLM(p, X, family=sm.families.Binomial(), var_weights=cells[:, 1]).fit(tol=1e-12)
        params = {k: float(v) for k, v in fit.params.items()}
        bse = {k: float(v) for k, v in fit.bse.items()}
        lor, se_lor = params["treated_x_post"], bse["treated_x_post"]
        lrr = math.log(pt1 / pt0) - math.log(pc1 / pc0)
        se_lrr = math.sqrt(float((1 / cells[:, 0] - 1 / cells[:, 1]).sum()))
    else:  # a zero cell: the log scales are undefined
        params, bse = {}, {}
        lor = se_lor = lrr = se_lrr = float("nan")
    z_lor = lor / se_lor if se_lor and np.isfinite(se_lor) else float("nan")
    cf = pt0 + (pc1 - pc0)
    return DidResult(
        treated_pre=float(pt0),
        treated_post=float(pt1),
        control_pre=float(pc0),
        control_post=float(pc1),
        did=float(did),
        se=se,
        z=float(z),
        p_value=float(2 * sps.norm.sf(abs(z))),
        ci_low=float(did - Z95 * se),
        ci_high=float(did + Z95 * se),
        did_log_or=lor,
        ratio_of_odds_ratios=float(np.exp(lor)),
        se_log_or=se_lor,
        z_log_or=z_lor,
        p_log_or=float(2 * sps.norm.sf(abs(z_lor))),
        glm_params=params,
        glm_bse=bse,
        did_log_rr=lrr,
        ratio_of_risk_ratios=float(np.exp(lrr)),
        se_log_rr=se_lrr,
        p_log_rr=float(2 * sps.norm.sf(abs(lrr / se_lrr))) if np.isfinite(se_lrr) and se_lrr > 0 else float("nan"),
        counterfactual_post_rate=float(cf),
        returns_avoided=float((cf - pt1) * nt1),
    )


# ----------------------------------------------------------------------------------------------
# the verdict's estimator: ratio of return rates from monthly cells (group x month x period)


@dataclass(frozen=True, slots=True)
class RatioDid:
    """Difference-in-differences on the ratio scale from a binomial GLM with a log link on monthly cells.

    log p_{g,m,k} = month_m + treated_g + log(ratio) * treated_g * post_k, one cell per group (treated /
    comparison), order month and period (the launch month splits into a before and an after cell).
    Counts are Rao-Scott effective counts (units / the group's order design effect), so a cell's
    binomial variance already allows for several items per order; dispersion = max(1, Pearson X2 /
    df_resid) allows for month-to-month noise, and the interval and p-value use Student t on df_resid
    (the quasi-likelihood small-sample reference; normal when df_resid = 0). ``ratio`` < 1 = fewer
    returns than the comparison's movement predicts. The points are the ratio translated onto the
    treated post-period rate: ``points = rate_post - rate_post / ratio`` (and the same for the interval
    ends); ``counterfactual_rate = rate_post / ratio``.
    """

    ratio: float
    ci_low: float
    ci_high: float
    log_ratio: float
    se: float
    df: float
    p_value: float
    dispersion: float
    n_cells: int
    treated_post_rate: float
    counterfactual_rate: float
    points: float
    points_ci_low: float
    points_ci_high: float

    @property
    def direction(self) -> str:
        """'reduced', 'increased' or 'no clear change' from the 95% interval of the ratio.

        >>> RatioDid(0.8, 0.7, 0.9, -0.2, 0.05, 20, 0.001, 1.0, 40, .1, .125, -.025, -.04, -.01).direction
        'reduced'
        """
        if not (np.isfinite(self.ci_low) and np.isfinite(self.ci_high)):
            return "no clear change"
        return "reduced" if self.ci_high < 1 else "increased" if self.ci_low > 1 else "no clear change"


def _t_quantile(df: float) -> float:
    return float(sps.t.ppf(0.975, df)) if np.isfinite(df) and df > 0 else Z95


def _t_p(t: float, df: float) -> float:
    if not np.isfinite(t):
        return float("nan")
    return float(2 * (sps.t.sf(abs(t), df) if np.isfinite(df) and df > 0 else sps.norm.sf(abs(t))))


def _log_binomial(y: np.ndarray, X: pd.DataFrame, w: np.ndarray) -> Any:
    """GLM Binomial(log link), endog = rate, var_weights = units; started from a Poisson fit (the log-binomial
    IRLS start from the default mu = (y + 1/2)/2 can step outside (0, 1))."""
    fam = sm.families.Binomial(link=sm.families.links.Log())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", sm.tools.sm_exceptions.DomainWarning)
        start = sm.GLM(y, X, family=sm.families.Poisson(), var_weights=w).fit(tol=1e-10).params
        return sm.GLM(y, X, family=fam, var_weights=w).fit(start_params=start, tol=1e-12, maxiter=200)


def _quasi(fit: Any, name: str) -> tuple[float, float, float, float, float]:
    """(estimate, se, df, p, dispersion) of one coefficient with dispersion max(1, X2/df) and a t reference."""
    df = float(fit.df_resid)
    phi = max(1.0, float(fit.pearson_chi2) / df) if df > 0 else 1.0
    b = float(fit.params[name])
    se = float(fit.bse[name]) * math.sqrt(phi)
    return b, se, df, _t_p(b / se if se > 0 else float("nan"), df), phi


def ratio_did(cells: pd.DataFrame) -> RatioDid:
    """Ratio-scale DiD from cells with columns x, n (effective counts), treated (0/1), post (0/1), month.

    >>> c = pd.DataFrame({"month": [1, 1, 2, 2, 3, 3, 4, 4], "treated": [0, 1] * 4, "post": [0, 0, 0, 0, 1, 1, 1, 1],
    ...                   "x": [100, 200, 120, 240, 100, 160, 120, 192], "n": [1000] * 8})
    >>> round(ratio_did(c).ratio, 6)   # treated 20% and 24% before, 16% and 19.2% after: x 0.8
    0.8
    """
    c = cells[cells["n"] > 0].reset_index(drop=True)
    if (
        c.empty
        or not ((c["treated"] == 1) & (c["post"] == 1)).any()
        or not ((c["treated"] == 0) & (c["post"] == 1)).any()
        or not ((c["treated"] == 1) & (c["post"] == 0)).any()
        or not ((c["treated"] == 0) & (c["post"] == 0)).any()
    ):
        raise ValueError("The ratio DiD needs treated and comparison units both before and after.")
    months = pd.get_dummies(c["month"].astype(str), prefix="m", dtype="float64")
    X = pd.concat(
        [
            months,
            pd.DataFrame(
                {
                    "treated": c["treated"].astype("float64"),
                    "treated_x_post": (c["treated"] * c["post"]).astype("float64"),
                }
            ),
        ],
        axis=1,
    )
    y = (c["x"] / c["n"]).to_numpy(dtype="float64")
    w = c["n"].to_numpy(dtype="float64")
    fit = _log_binomial(y, X, w)
    b, se, df, p, phi = _quasi(fit, "treated_x_post")
    q = _t_quantile(df)
    tp = (c["treated"] == 1) & (c["post"] == 1)
    r1 = float(c.loc[tp, "x"].sum() / c.loc[tp, "n"].sum())
    lo, hi = math.exp(b - q * se), math.exp(b + q * se)
    ratio = math.exp(b)
    return RatioDid(
        ratio=ratio,
        ci_low=lo,
        ci_high=hi,
        log_ratio=b,
        se=se,
        df=df,
        p_value=p,
        dispersion=phi,
        n_cells=len(c),
        treated_post_rate=r1,
        counterfactual_rate=r1 / ratio,
        points=r1 - r1 / ratio,
        points_ci_low=r1 - r1 / lo,
        points_ci_high=r1 - r1 / hi,
    )


@dataclass(frozen=True, slots=True)
class ParallelTrends:
    """Pre-period check: the treated-minus-comparison slope of the log rate per month, with its test.

    ratio_per_month = exp(slope) (1.00 = parallel); p from the same quasi-binomial t reference as the DiD."""

    ratio_per_month: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    months: int

    @property
    def parallel(self) -> bool:
        return not (np.isfinite(self.p_value) and self.p_value < 0.05)


def parallel_trends(cells: pd.DataFrame) -> ParallelTrends:
    """log p_{g,m} = month_m + treated_g + slope * treated_g * t_m on the pre-period cells (t = month number)."""
    c = cells[(cells["n"] > 0) & (cells["post"] == 0)].reset_index(drop=True)
    t = c["t"].astype("float64")
    k = int(t[c["treated"] == 1].nunique())
    if k < 3 or t[c["treated"] == 0].nunique() < 3:
        raise ValueError("The parallel-trends check needs 3 or more months before the change in both groups.")
    months = pd.get_dummies(c["month"].astype(str), prefix="m", dtype="float64")
    X = pd.concat(
        [
            months,
            pd.DataFrame({"treated": c["treated"].astype("float64"), "treated_x_time": c["treated"] * (t - t.mean())}),
        ],
        axis=1,
    )
    fit = _log_binomial((c["x"] / c["n"]).to_numpy(dtype="float64"), X, c["n"].to_numpy(dtype="float64"))
    b, se, df, p, _ = _quasi(fit, "treated_x_time")
    q = _t_quantile(df)
    return ParallelTrends(math.exp(b), math.exp(b - q * se), math.exp(b + q * se), p, df, k)


def change_against_reference(group: pd.DataFrame, reference: pd.DataFrame) -> tuple[float, float, float]:
    """(ratio, p, df) of one group's change at the date measured against a reference group of untouched
    segments: ``ratio_did`` with the group as "treated" (month fixed effects, so season and site-wide drift
    are not a change). A group's change against its own past alone cannot be told from the season: the
    trend-adjusted before/after flagged 95% of seasonal placebos. NaNs when it cannot be fitted."""
    cells = pd.concat([group.assign(treated=1), reference.assign(treated=0)], ignore_index=True)
    try:
        r = ratio_did(cells)
    except (ValueError, np.linalg.LinAlgError):
        return float("nan"), float("nan"), float("nan")
    return r.ratio, r.p_value, r.df


@dataclass(frozen=True, slots=True)
class ItsResult:
    """Segmented regression (interrupted time series) on a binomial monthly series (oracle case 17).

    params/bse_*/pvalues_* are dicts keyed by design column; level_change_odds_ratio = exp(b_post),
    slope_change_odds_ratio = exp(b_time_since) per period; fitted and counterfactual are rates per
    period (counterfactual = same fit with post and time_since set to 0); returns_avoided = sum over
    post periods of n_t (counterfactual_t - fitted_t). level_p / slope_p and the level interval use the
    binomial SEs times sqrt(max(1, phi)) with Student t on df_resid; no Newey-West HAC p-value (anti-
    conservative at this series length: bench/calibration.py measures the placebo rate).
    """

    columns: tuple[str, ...]
    params: dict
    bse_binomial: dict
    pvalues_binomial: dict
    pearson_chi2: float
    df_resid: float
    scale_x2: float
    bse_quasibinomial: dict
    pvalues_quasibinomial: dict
    level_change_odds_ratio: float
    slope_change_odds_ratio: float
    level_p: float
    slope_p: float
    fitted: np.ndarray
    counterfactual: np.ndarray
    post: np.ndarray
    returns_avoided: float
    relative_change_last: float
    pearson_residual_lag1_autocorr: float
    level_ci_low: float = float("nan")
    level_ci_high: float = float("nan")


def _design(time: np.ndarray, first_post_time: float, jan: np.ndarray | None) -> pd.DataFrame:
    post = (time >= first_post_time).astype("float64")
    X = pd.DataFrame(
        {"const": 1.0, "time": time, "post": post, "time_since": np.where(post > 0, time - first_post_time + 1, 0.0)}
    )
    if jan is not None:
        X["jan"] = np.asarray(jan, dtype="float64")
    return X


def segmented_regression(
    x: ArrayLike, n: ArrayLike, first_post_time: float, *, time: ArrayLike | None = None, jan: np.ndarray | None = None
) -> ItsResult:
    """Segmented GLM Binomial(logit) ITS, Wagner et al. (2002) coding (METHOD 9.3).

    Columns: const, time (1..T unless given), post = 1{time >= first_post_time}, time_since = 0 before
    and 1, 2, ... from the first post period, optional jan dummy. Fitted with endog = x/n and
    var_weights = n; quasi-binomial phi = Pearson X2 / df_resid (correct with var_weights, unlike
    the two-column endog + ``fit(scale='X2')`` pitfall).
    """
    x = np.asarray(x, dtype="float64")
    n = np.asarray(n, dtype="float64")
    t = np.arange(1, len(x) + 1, dtype="float64") if time is None else np.asarray(time, dtype="float64")
    if not (len(x) == len(n) == len(t)):
        raise ValueError("x, n and time must have the same length.")
    if (n <= 0).any() or (x < 0).any() or (x > n).any():
        raise ValueError("Each period needs n > 0 and 0 <= x <= n.")
    X = _design(t, first_post_time, jan)
    post = X["post"].to_numpy() > 0
    if post.sum() < 2 or (~post).sum() < 2:
        raise ValueError("The series needs at least 2 periods before and 2 after the launch.")
    if len(x) <= X.shape[1]:
        raise ValueError("Too few periods for the segmented regression's parameters.")
    y = x / n
    model = sm.GLM(y, X, family=sm.families.Binomial(), var_weights=n)
    res = model.fit(tol=1e-13)
    chi2 = float(res.pearson_chi2)
    df = float(res.df_resid)
    phi = chi2 / df
    q = model.fit(tol=1e-13, scale=phi)  # float scale: see the X2 pitfall in METHOD 9.3
    d = lambda s: {k: float(v) for k, v in s.items()}  # noqa: E731
    fitted = res.predict(X).to_numpy()
    Xc = X.assign(post=0.0, time_since=0.0)
    cf = res.predict(Xc).to_numpy()
    avoided = float((n[post] * (cf[post] - fitted[post])).sum())
    r = np.asarray(res.resid_pearson)
    lag1 = float(np.corrcoef(r[1:], r[:-1])[0, 1]) if len(r) > 2 and np.std(r) > 0 else float("nan")
    # level/slope: dispersion max(1, phi) and Student t on df_resid (calibrated at ~20 months, unlike
    # Newey-West HAC with maxlags 2, whose p-values fell below 0.05 in 9 of 30 placebos)
    phi_eff = max(1.0, phi)
    se_level = float(res.bse["post"]) * math.sqrt(phi_eff)
    se_slope = float(res.bse["time_since"]) * math.sqrt(phi_eff)
    tq = _t_quantile(df)
    b_level = float(res.params["post"])
    return ItsResult(
        columns=tuple(X.columns),
        params=d(res.params),
        bse_binomial=d(res.bse),
        pvalues_binomial=d(res.pvalues),
        pearson_chi2=chi2,
        df_resid=df,
        scale_x2=phi,
        bse_quasibinomial=d(q.bse),
        pvalues_quasibinomial=d(q.pvalues),
        level_change_odds_ratio=float(np.exp(res.params["post"])),
        slope_change_odds_ratio=float(np.exp(res.params["time_since"])),
        level_p=_t_p(b_level / se_level, df),
        slope_p=_t_p(float(res.params["time_since"]) / se_slope, df),
        level_ci_low=math.exp(b_level - tq * se_level),
        level_ci_high=math.exp(b_level + tq * se_level),
        fitted=fitted,
        counterfactual=cf,
        post=post,
        returns_avoided=avoided,
        relative_change_last=float(fitted[-1] / cf[-1] - 1),
        pearson_residual_lag1_autocorr=lag1,
    )


@dataclass(frozen=True, slots=True)
class PowerPlan:
    """How many orders after launch are needed to detect a given relative reduction, and how many there are."""

    baseline_rate: float
    target_rate: float
    target_reduction: float
    alpha: float
    power: float
    units_per_arm_srs: float  # NormalIndPower, independent units
    design_effect: float
    units_needed: float  # x design effect
    units_per_order: float
    orders_needed: int
    orders_matured: int
    units_matured: float

    @property
    def share_collected(self) -> float:
        """Matured orders so far as a share of the orders needed, capped at 1.

        >>> PowerPlan(.2, .16, .2, .05, .8, 1.0, 1.0, 1.0, 1.0, orders_needed=400, orders_matured=100,
        ...           units_matured=0.0).share_collected
        0.25
        """
        return min(1.0, self.orders_matured / max(1, self.orders_needed))


# ----------------------------------------------------------------------------------------------
# evaluation on prepared data


def partial_month(chart: pd.DataFrame, cutoff: object) -> pd.Series:
    """Which months of an evaluation chart are partial: the month holding the maturity cutoff (and any
    after it) has only a few days of matured orders, so its rate is drawn apart, not joined to the line.

    >>> c = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])})
    >>> partial_month(c, pd.Timestamp("2024-02-10")).tolist()
    [False, True, True]
    """
    if cutoff is None:
        return pd.Series(False, index=chart.index)
    return chart["month"] + pd.offsets.MonthEnd(0) > cutoff


@dataclass(frozen=True, slots=True)
class InterventionResult:
    """Everything the intervention page shows for one intervention (see ``evaluate``)."""

    intervention: Intervention
    method: str  # "did" | "its" | "before_after": which design the verdict rests on
    rate_before: float
    rate_after: float
    units_before: int
    units_after: int
    returned_before: int
    returned_after: int
    orders_before: int
    orders_after: int
    before_after: BeforeAfter
    comparison_segments: tuple[str, ...]
    comparison_auto: bool
    comparison_rate_before: float
    comparison_rate_after: float
    did: RatioDid | None  # the verdict's estimator (ratio scale, points as its translation)
    pre_trend_p: float  # parallel-trends p (parallel.p_value), NaN when not run
    its: ItsResult | None
    returns_avoided: float
    significant: bool
    verdict: str
    caveats: tuple[str, ...]
    power: PowerPlan | None
    chart: pd.DataFrame
    launch_date: pd.Timestamp
    first_post_date: pd.Timestamp
    immature_orders_excluded: int
    design_effect: float
    direction: str = "no clear change"  # "reduced" | "no clear change" | "increased" | "not judged" (no DiD)
    parallel: ParallelTrends | None = None
    placebo: RatioDid | None = None
    placebo_date: pd.Timestamp | None = None
    treated_change_ratio: float = float("nan")  # change at the date against the other segments (ratio_did)
    treated_change_p: float = float("nan")
    comparison_change_ratio: float = float("nan")
    comparison_change_p: float = float("nan")
    comparison_moved: bool = False
    diagnostics: tuple = ()  # Diagnostic, in page order
    rate_name: str = "return rate"
    unit: str = "units"  # what the rate counts (orders for an order refund rate)
    noun: str = "returns"  # or "refunds"


def _order_deff(frame: pd.DataFrame, x_col: str, *, residuals: bool = False) -> float:
    """Rao-Scott design effect of the ratio sum(x_col) / sum(quantity) over the orders of ``frame``
    (analysis.stats.design_effect on per-order sums, one group; a single order gives 1)."""
    per = frame.groupby("order_id", sort=False)[[x_col, "quantity"]].sum()
    if per.empty:
        return 1.0
    d = stats.design_effect(
        per[x_col].to_numpy(float),
        per["quantity"].to_numpy(float),
        np.zeros(len(per)),
        single_cluster="one",
        residuals=residuals,
    )
    deff = float(d["deff"].iloc[0])
    return deff if math.isfinite(deff) else 1.0


def _cell(frame: pd.DataFrame) -> tuple[float, float, int, float]:
    """(returned units, units, orders, Rao-Scott deff) of a set of lines."""
    if frame.empty:
        return 0.0, 0.0, 0, 1.0
    x, n = float(frame["returned_units"].sum()), float(frame["quantity"].sum())
    return x, n, int(frame["order_id"].nunique()), _order_deff(frame, "returned_units")


def _monthly(frame: pd.DataFrame) -> pd.DataFrame:
    g = frame.groupby("month", sort=True)
    return pd.DataFrame(
        {"units": g["quantity"].sum().astype("float64"), "returned": g["returned_units"].sum().astype("float64")}
    )


def _monthly_by(frame: pd.DataFrame, dimension: str) -> dict[Any, pd.DataFrame]:
    """_monthly of each value of `dimension` in frame, from one grouping."""
    g = frame.groupby([frame[dimension], frame["month"]], sort=True, observed=True)
    m = pd.DataFrame(
        {"units": g["quantity"].sum().astype("float64"), "returned": g["returned_units"].sum().astype("float64")}
    )
    return {k: part.droplevel(0) for k, part in m.groupby(level=0, sort=False, observed=True)}


def _wls_slope(m: pd.DataFrame, origin: pd.Timestamp) -> float:
    """Unit-weighted least-squares slope of the monthly rate per month (pre-trend)."""
    if len(m) < 2:
        return 0.0
    t = ((m.index.year - origin.year) * 12 + (m.index.month - origin.month)).to_numpy(dtype="float64")
    w = m["units"].to_numpy()
    r = (m["returned"] / m["units"]).to_numpy()
    tb = (w * t).sum() / w.sum()
    rb = (w * r).sum() / w.sum()
    den = (w * (t - tb) ** 2).sum()
    return float((w * (t - tb) * (r - rb)).sum() / den) if den > 0 else 0.0


def _month_index(months: pd.Index, origin: pd.Timestamp) -> np.ndarray:
    return ((months.year - origin.year) * 12 + (months.month - origin.month) + 1).to_numpy(dtype="float64")


def _pct(a: float, b: float | None = None) -> str:
    """A rate in a verdict: one decimal place, as the log's Before / After columns and every page show it (whole
    percents when the two rates differed by a point read "24% to 15%" beside the log's 23.8% and 15.4%)."""
    return f"{a * 100:.1f}%"


def _chance(p: float) -> str:
    if not np.isfinite(p):
        return "its reliability cannot be judged"
    if p < 0.001:
        return "is very unlikely to be chance (p < 0.001)"
    if p < 0.05:
        return f"is unlikely to be chance (p = {p:.3f})"
    return f"could well be chance (p = {p:.2f})"


def outcome_words(prepared: Prepared, dimension: str | None) -> dict[str, str]:
    """How the verdict names the outcome (Prepared.rate_columns says what the rate is): 'return rate' and
    'returns', or the refund rate and 'refunds' when only order-level refunds are known."""
    if getattr(prepared, "outcome", "line_return") == "order_refund":
        per_order = dimension is None or prepared.rate_columns(dimension)[1] == "order_n"
        return {
            "rate": "order refund rate" if per_order else "refund rate",
            "noun": "refunds",
            "unit": "orders" if per_order else "units",
        }
    return {"rate": "return rate", "noun": "returns", "unit": "units"}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One check of the evaluation, in plain language: status 'ok', 'warning' or 'not run'."""

    name: str
    status: str
    sentence: str


def _group_cells(
    frame: pd.DataFrame, post_start: pd.Timestamp, origin: pd.Timestamp, *, treated: int, dimension: str | None = None
) -> pd.DataFrame:
    """Monthly cells (month x period) of one group in Rao-Scott effective counts: units and returned units
    divided by the group's order design effect.

    The design effect is analysis.stats.design_effect (via _order_deff) on the lines' residuals from their own cell's
    rate (segment x month x period; shifted back onto the group rate): the month and segment differences
    the model fits are not counted again as clustering (on the raw counts they were, and the interval
    covered a placebo's true ratio 98.5% of the time instead of 95%)."""
    post = (frame["order_date"] >= post_start).astype("int64").rename("post")
    # the segment as integer codes (missing values their own code, as their text was): the same groups as the
    # segments' text, without a Python string per line
    seg_codes = (
        [pd.Series(pd.factorize(frame[dimension], use_na_sentinel=False)[0], index=frame.index)] if dimension else []
    )
    keys = [frame["month"], post] + seg_codes
    if len(frame):
        tot = frame.groupby(keys, sort=False)[["returned_units", "quantity"]].transform("sum")
        cell_rate = (tot["returned_units"] / tot["quantity"]).where(tot["quantity"] > 0, 0.0)
        group_rate = float(frame["returned_units"].sum()) / max(float(frame["quantity"].sum()), 1e-12)
        resid = frame.assign(_x=frame["returned_units"] - (cell_rate - group_rate) * frame["quantity"])
        deff = _order_deff(resid, "_x", residuals=True)
    else:
        deff = 1.0
    g = frame.groupby([frame["month"], post], sort=True)[["returned_units", "quantity"]].sum().reset_index()
    return pd.DataFrame(
        {
            "month": g["month"],
            "post": g["post"],
            "treated": treated,
            "t": _month_index(pd.DatetimeIndex(g["month"]), origin),
            "x": g["returned_units"].to_numpy(dtype="float64") / deff,
            "n": g["quantity"].to_numpy(dtype="float64") / deff,
        }
    )


def _pre_checks(cells: pd.DataFrame) -> tuple[ParallelTrends | None, RatioDid | None, pd.Timestamp | None]:
    """The parallel-trends check and the placebo date (the DiD estimator at the middle month of the
    pre-period, on pre-period cells only; needs 4+ months before the change)."""
    try:
        parallel = parallel_trends(cells)
    except (ValueError, np.linalg.LinAlgError):
        parallel = None
    pre = cells[cells["post"] == 0]
    months = sorted(pre.loc[pre["treated"] == 1, "month"].unique())
    placebo = fake = None
    if len(months) >= 4:
        fake = pd.Timestamp(months[len(months) // 2])
        try:
            placebo = ratio_did(pre.assign(post=(pre["month"] >= fake).astype("int64")))
        except (ValueError, np.linalg.LinAlgError):
            placebo = fake = None
    return parallel, placebo, fake


def _ratio_words(ratio: float) -> str:
    return f"{(1 - ratio):.0%} lower" if ratio < 1 else f"{(ratio - 1):.0%} higher"


def _did_diagnostics(seg: str, plural: str, words: dict[str, str], t_change: Any, c_change: Any) -> list[Diagnostic]:
    rc, pc, _ = c_change
    if not np.isfinite(pc):
        return [
            Diagnostic(
                "Comparison at the date",
                "not run",
                f"Not checked: it needs other {plural} (neither {seg} nor the comparison) with orders on both "
                "sides, to tell whether the comparison itself moved at the date.",
            )
        ]
    if pc < 0.05:
        tail = (
            f"{seg} changed too (p = {t_change[1]:.3f}), so the difference-in-differences separates the two."
            if np.isfinite(t_change[1]) and t_change[1] < 0.05
            else f"{seg} itself did not change clearly (p = {t_change[1]:.2f}), so the verdict does not credit "
            f"{seg} with a change: the difference comes from the comparison."
        )
        return [
            Diagnostic(
                "Comparison at the date",
                "warning",
                f"The comparison {plural} changed at the date themselves: against the other {plural} their "
                f"{words['rate']} is {_ratio_words(rc)} than expected after it (p = {pc:.3f}). " + tail,
            )
        ]
    return [
        Diagnostic(
            "Comparison at the date",
            "ok",
            f"The comparison {plural} did not change clearly at the date against the other {plural} "
            f"(x {rc:.2f}, p = {pc:.2f}), as a comparison should.",
        )
    ]


def _pre_diagnostics(
    parallel: Any, placebo: Any, fake: Any, seg: str, plural: str, words: dict[str, str]
) -> list[Diagnostic]:
    out = []
    if parallel is None:
        out.append(
            Diagnostic(
                "Parallel trends before",
                "not run",
                "Not checked: it needs 3 or more months before the change in both groups.",
            )
        )
    elif parallel.parallel:
        out.append(
            Diagnostic(
                "Parallel trends before",
                "ok",
                f"Before the change, {seg} and the comparison {plural} moved in parallel (their ratio "
                f"drifted by {parallel.ratio_per_month - 1:+.1%} a month, p = {parallel.p_value:.2f}).",
            )
        )
    else:
        out.append(
            Diagnostic(
                "Parallel trends before",
                "warning",
                f"Before the change, {seg} was drifting away from the comparison {plural} by "
                f"{parallel.ratio_per_month - 1:+.1%} a month (p = {parallel.p_value:.3f}): the comparison "
                "may not show what would have happened, so the verdict may be biased.",
            )
        )
    if placebo is None:
        out.append(
            Diagnostic(
                "Placebo date", "not run", "Not checked: a fake launch date needs 4 or more months before the change."
            )
        )
    elif placebo.direction == "no clear change":
        out.append(
            Diagnostic(
                "Placebo date",
                "ok",
                f"A fake launch on {fake:%d %b %Y}, before anything changed, shows no effect (x "
                f"{placebo.ratio:.2f}, 95% CI {placebo.ci_low:.2f} to {placebo.ci_high:.2f}), as it should.",
            )
        )
    else:
        out.append(
            Diagnostic(
                "Placebo date",
                "warning",
                f"A fake launch on {fake:%d %b %Y}, before anything changed, shows an 'effect' (x "
                f"{placebo.ratio:.2f}, 95% CI {placebo.ci_low:.2f} to {placebo.ci_high:.2f}): the method "
                f"finds changes in this {words['rate']} where there were none, so read the verdict with caution.",
            )
        )
    return out


VERDICT_WORDS = {
    "reduced": "reduced",
    "increased": "increased",
    "no clear change": "no clear change",
    "not judged": "not judged",
}


def _verdict_text(
    iv: Intervention,
    words: dict[str, str],
    r0: float,
    r1: float,
    rc0: Any,
    rc1: Any,
    comp: Any,
    plural: str,
    did: Any,
    its: Any,
    ba: Any,
    method: str | None,
    direction: Any,
    comparison_moved: Any,
    treated_moved: Any,
    avoided: Any,
) -> str:
    seg = iv.segment
    moved = "fell" if r1 < r0 else "rose" if r1 > r0 else "stayed"
    what = iv.description.strip() or "the change"
    if len(what) > 1 and what[0].isupper() and what[1].islower():
        what = "the " + what[0].lower() + what[1:]
    rate = words["rate"]
    parts = [
        f"The {rate} of {seg} {moved} from {_pct(r0, r1)} to {_pct(r1, r0)} after {what} ({iv.start_date:%d %b %Y})"
    ]
    if did is not None:
        parts.append(f"comparable {plural} ({', '.join(comp)}) went from {_pct(rc0, rc1)} to {_pct(rc1, rc0)}")
        parts.append(
            f"against them, {seg} is at x {did.ratio:.2f} of its expected {rate} (95% CI {did.ci_low:.2f} to "
            f"{did.ci_high:.2f}), {did.points * 100:+.1f} points (95% CI {did.points_ci_low * 100:+.1f} to "
            f"{did.points_ci_high * 100:+.1f}), which {_chance(did.p_value)}"
        )
    elif its is not None:
        parts.append(
            f"against its own earlier trend the level changed by x {its.level_change_odds_ratio:.2f} in odds "
            "(descriptive)"
        )
    else:
        parts.append("before/after only (descriptive)")
    text = "; ".join(parts) + f". Verdict: {VERDICT_WORDS[direction]}."
    if direction == "not judged":
        text += (
            f" Without at least {MIN_COMPARISONS} comparable untreated {plural} the change cannot be told apart "
            "from seasonal and site-wide movement."
        )
    if did is not None and did.direction != "no clear change" and direction == "no clear change":
        text += (
            f" Only the comparison {plural} changed clearly at the date; {seg}'s own change could well be chance, "
            "so the difference is not credited to the change."
        )
    if direction == "reduced" and np.isfinite(avoided) and avoided > 0:
        text += f" About {avoided:,.0f} {words['noun']} avoided so far."
    elif direction == "increased" and np.isfinite(avoided):
        text += f" About {-avoided:,.0f} more {words['noun']} than expected."
    elif direction == "no clear change":
        text += " No reliable change yet."
    return text


def _choose_comparisons(
    lines_pre: pd.DataFrame, lines_post: pd.DataFrame, dimension: str, segment: str, origin: pd.Timestamp, max_n: int
) -> list[str]:
    """Untreated segments closest to the treated one in pre-period rate and pre-trend.

    score = |rate_c - rate_T| + |slope_c - slope_T| x (pre-period months): the second term is the
    rate gap a differing trend opens over the pre-period. Candidates need >= 30 units on each side.
    """
    pre_units = lines_pre.groupby(dimension, observed=True)["quantity"].sum()
    post_units = lines_post.groupby(dimension, observed=True)["quantity"].sum()
    cands = [
        s
        for s in pre_units.index
        if str(s) != segment
        and pre_units.get(s, 0) >= MIN_COMPARISON_UNITS
        and post_units.get(s, 0) >= MIN_COMPARISON_UNITS
    ]
    if not cands:
        return []
    tm = _monthly(lines_pre[lines_pre[dimension] == segment])
    r_t = tm["returned"].sum() / tm["units"].sum()
    s_t = _wls_slope(tm, origin)
    span = max(1, len(tm))
    scores = []
    # every candidate's months from one grouping (the same sums _monthly gives each: rows in the same order)
    by_month = _monthly_by(lines_pre[lines_pre[dimension].isin(cands).to_numpy(dtype=bool)], dimension)
    for s in cands:
        cm = by_month[s]
        r_c = cm["returned"].sum() / cm["units"].sum()
        scores.append((abs(r_c - r_t) + abs(_wls_slope(cm, origin) - s_t) * span, str(s)))
    scores.sort()
    # prefer segments of the same category (similar seasonality and customers; METHOD 9) when >= 2 exist
    if dimension in ("collection", "product", "size") and "category" in lines_pre.columns:
        cat_of = (
            lines_pre.dropna(subset=["category"])
            .groupby(dimension, observed=True)["category"]
            .agg(lambda c: c.mode().iloc[0] if len(c.mode()) else None)
        )
        mine = cat_of.get(segment)
        same = [(sc, s) for sc, s in scores if mine is not None and cat_of.get(s) == mine]
        if len(same) >= MIN_COMPARISONS:
            scores = same
    return [s for _, s in scores[:max_n]]


def _as_country(prepared: Prepared, iv: Intervention) -> Intervention | None:
    """The intervention on dimension country when it was logged on channel for a value that is no channel of the
    data but one of its countries: until a Country column had a role of its own, header matching read it as the
    channel, so a change logged then for "Germany" said channel. None otherwise."""
    lines = prepared.lines
    if iv.dimension != "channel" or "country" not in lines.columns:
        return None
    if "channel" in lines.columns and (lines["channel"].astype("string") == iv.segment).any():
        return None
    if not (lines["country"].astype("string") == iv.segment).any():
        return None
    return Intervention("country", iv.segment, iv.start_date, iv.description, iv.id)


def effective_dimension(prepared: Prepared, dimension: str, segment: str) -> str:
    """The dimension a logged change is evaluated on: "country" for a change logged on channel for a value that
    is one of the data's countries and none of its channels (_as_country), else the dimension as logged."""
    try:
        moved = _as_country(prepared, Intervention(dimension, segment, pd.Timestamp("2000-01-01")))
    except ValueError:
        return dimension
    return dimension if moved is None else moved.dimension


def evaluate(
    prepared: Prepared,
    intervention: Intervention,
    *,
    comparison: Sequence[str] | None = None,
    washout_days: int = 0,
    min_orders: int = 100,
    target_reduction: float = 0.2,
    alpha: float = 0.05,
    power: float = 0.8,
    seasonal: bool = True,
    _exclude: Collection[str] | None = None,
) -> InterventionResult:
    """Evaluate one intervention on matured orders: before/after, DiD vs comparable segments, ITS.

    Parameters: ``comparison`` = list of untreated segments of the same dimension (None: the 2-5 most
    similar by pre-period rate and trend); ``washout_days`` = days after launch left out of "after";
    ``min_orders`` = matured orders after launch below which the verdict says "too early";
    ``target_reduction`` = relative reduction the planning aid sizes for (0.2 = a fifth fewer returns);
    ``seasonal`` = add a January term to the ITS when the series holds >= 2 Januaries; ``_exclude`` = values of
    the dimension whose lines are left out (other treated segments, evaluate_all).

    The verdict rests on the strongest design available: DiD (>= 2 comparison segments), else ITS
    (>= 6 matured months each side), else the before/after comparison, labelled descriptive.
    Raises AnalysisError when the segment is unknown or has no matured orders before or after.
    """
    iv = intervention
    moved = _as_country(prepared, iv)
    if moved is not None:
        iv = moved
    if iv.dimension not in DIMENSIONS or iv.dimension not in prepared.lines.columns:
        raise AnalysisError(
            "Unknown dimension", f"'{iv.dimension}' is not a dimension; use one of {', '.join(DIMENSIONS)}."
        )
    if washout_days < 0:
        raise ValueError("washout_days must be 0 or more.")
    if not 0 < target_reduction < 1:
        raise ValueError("target_reduction is relative, between 0 and 1 (e.g. 0.2 for a fifth fewer returns).")
    dim, seg = iv.dimension, iv.segment
    xcol, ncol = prepared.rate_columns(dim)
    # only the columns read below: the boolean masks then copy a few columns, not every Arrow-string column of
    # the lines (1.0 of 1.3 s CPU of one evaluation at 1M lines went to pyarrow's take of the unused ones)
    used = (dim, "order_date", "month", "order_id", "quantity", "returned_units", "mature", "category", xcol, ncol)
    cols = [c for c in dict.fromkeys(used) if c in prepared.lines.columns]
    all_lines = prepared.lines[cols]
    # the mature lines with integer order codes (computed once per Prepared, analysis.segments.line_codes): the
    # per-order sums of the design effects group on them instead of hashing every order id's text
    lines = prepared.mature_lines[cols].assign(order_id=line_codes(prepared, "order_id")[0])
    if _exclude:
        drop = [str(v) for v in _exclude]
        all_lines = all_lines[~all_lines[dim].isin(drop).to_numpy(dtype=bool)]
        lines = lines[~lines[dim].isin(drop).to_numpy(dtype=bool)]
    seg_all = all_lines[all_lines[dim] == seg]
    if seg_all.empty:
        known = all_lines[dim].dropna().astype(str).value_counts().index[:8].tolist()
        raise AnalysisError(
            "Unknown segment",
            f"'{seg}' does not occur in {dim}; known values include "
            f"{', '.join(known) if known else 'none'}. Check the spelling in the interventions log.",
        )
    start = iv.start_date
    post_start = start + pd.Timedelta(days=washout_days)
    lines = lines[lines[dim].notna()]
    if (xcol, ncol) != ("returned_units", "quantity"):
        # order refunds on an order attribute: each order weighs 1 and counts as refunded or not (one rate
        # definition, Prepared.rate_columns); the evaluation below reads returned_units / quantity
        lines = lines.assign(returned_units=lines[xcol], quantity=lines[ncol])
    pre_mask = lines["order_date"] < start
    post_mask = lines["order_date"] >= post_start
    lines_pre, lines_post = lines[pre_mask], lines[post_mask]
    t_pre, t_post = lines_pre[lines_pre[dim] == seg], lines_post[lines_post[dim] == seg]
    immature = int(
        seg_all.loc[(seg_all["order_date"] >= post_start) & ~seg_all["mature"].astype(bool), "order_id"].nunique()
    )
    cutoff = prepared.cutoff_date
    if t_pre.empty:
        raise AnalysisError(
            "No orders before the change",
            f"{seg} has no matured orders before {start.date()}, so there is nothing to compare with.",
        )
    if t_post.empty:
        msg = f"{seg} has no matured orders on or after {post_start.date()} yet"
        if immature:
            msg += (
                f" ({immature} orders are still inside the {prepared.window_days}-day return window; "
                f"come back after {(post_start + pd.Timedelta(days=prepared.window_days)).date()})"
            )
        raise AnalysisError("No matured orders after the change", msg + ".")

    caveats: list[str] = []
    if moved is not None:
        caveats.append(
            f"Logged under channel; '{seg}' is a country in this data (a Country column used to be read as the "
            "channel), so it is evaluated by country."
        )
    xt0, nt0, ot0, dt0 = _cell(t_pre)
    xt1, nt1, ot1, dt1 = _cell(t_post)
    deff_t = max(dt0, dt1)
    ba = before_after(xt0 / dt0, nt0 / dt0, xt1 / dt1, nt1 / dt1)
    origin = lines["month"].min()

    # ---- comparison segments
    if comparison is not None:
        comp = [str(c) for c in comparison]
        present = set(lines[dim].astype(str).unique())
        bad = [c for c in comp if c not in present or c == seg]
        if bad:
            raise ValueError(
                f"Comparison segments {', '.join(bad)} are not untreated values of {dim} with matured orders."
            )
        auto = False
    else:
        comp = _choose_comparisons(lines_pre, lines_post, dim, seg, origin, MAX_COMPARISONS)
        auto = True
    plural = _PLURAL.get(dim, dim)
    words = outcome_words(prepared, dim)
    c_pre = lines_pre[lines_pre[dim].isin(comp)] if comp else lines_pre.iloc[0:0]
    c_post = lines_post[lines_post[dim].isin(comp)] if comp else lines_post.iloc[0:0]
    xc0, nc0, _, _ = _cell(c_pre)
    xc1, nc1, _, _ = _cell(c_post)
    rc0 = xc0 / nc0 if nc0 else float("nan")
    rc1 = xc1 / nc1 if nc1 else float("nan")
    did = parallel = placebo = None
    placebo_date = None
    t_cells = _group_cells(pd.concat([t_pre, t_post]), post_start, origin, treated=1, dimension=dim)
    nan3 = (float("nan"), float("nan"), float("nan"))
    t_change = c_change = nan3
    # the reference that tells who moved at the date: the dimension's other segments, neither treated nor comparison
    r_pre = lines_pre[~lines_pre[dim].isin(comp + [seg])]
    r_post = lines_post[~lines_post[dim].isin(comp + [seg])]
    has_reference = min(float(r_pre["quantity"].sum()), float(r_post["quantity"].sum())) >= MIN_COMPARISON_UNITS
    diagnostics: list[Diagnostic] = []
    if len(comp) >= MIN_COMPARISONS and nc0 > 0 and nc1 > 0:
        c_cells = _group_cells(pd.concat([c_pre, c_post]), post_start, origin, treated=0, dimension=dim)
        cells = pd.concat([t_cells, c_cells], ignore_index=True)
        try:
            did = ratio_did(cells)
        except (ValueError, np.linalg.LinAlgError) as e:
            caveats.append(f"The difference-in-differences could not be fitted ({e}).")
        if has_reference:
            ref_cells = _group_cells(pd.concat([r_pre, r_post]), post_start, origin, treated=0, dimension=dim)
            c_change = change_against_reference(c_cells, ref_cells)
            t_change = change_against_reference(t_cells, ref_cells)
        diagnostics += _did_diagnostics(seg, plural, words, t_change, c_change)
        parallel, placebo, placebo_date = _pre_checks(cells)
        diagnostics += _pre_diagnostics(parallel, placebo, placebo_date, seg, plural, words)
    else:
        caveats.append(
            f"Fewer than {MIN_COMPARISONS} comparable untreated {plural} with enough orders on both "
            "sides, so there is no difference-in-differences; seasonality and site-wide changes are not "
            "controlled."
        )
    comparison_moved = bool(np.isfinite(c_change[1]) and c_change[1] < alpha)
    treated_moved = bool(np.isfinite(t_change[1]) and t_change[1] < alpha)

    # ---- interrupted time series on the treated monthly series
    its = None
    tm_all = _monthly(lines[lines[dim] == seg])
    first_post_month = post_start if post_start.day == 1 else (post_start + pd.offsets.MonthBegin(1))
    start_month = start.to_period("M").start_time
    pre_m = tm_all[tm_all.index < start_month]
    post_m = tm_all[tm_all.index >= first_post_month]
    if len(pre_m) >= MIN_ITS_MONTHS and len(post_m) >= MIN_ITS_MONTHS:
        ser = pd.concat([pre_m, post_m])
        ser = ser[ser["units"] > 0]
        t = _month_index(ser.index, origin)
        jan = (ser.index.month == 1).astype("float64")
        use_jan = seasonal and jan.sum() >= 2 and jan.sum() < len(jan)
        try:
            its = segmented_regression(
                ser["returned"],
                ser["units"],
                _month_index(pd.DatetimeIndex([first_post_month]), origin)[0],
                time=t,
                jan=jan if use_jan else None,
            )
        except (ValueError, np.linalg.LinAlgError) as e:
            caveats.append(f"The time-series model could not be fitted ({e}).")
        if its is not None and its.scale_x2 > 1:
            caveats.append(
                f"Monthly rates vary more than chance alone (dispersion {its.scale_x2:.1f}); the time-series "
                "p-values allow for it."
            )
    else:
        caveats.append(
            f"Too few months for a time series: {len(pre_m)} matured months before and {len(post_m)} after "
            f"(needs {MIN_ITS_MONTHS} on each side)."
        )

    # ---- planning aid
    plan = None
    p0 = xt0 / nt0
    if 0 < p0 < 1:
        p1 = p0 * (1 - target_reduction)
        srs = stats.power_two_proportions(p0, p1, alpha=alpha, power=power)  # per arm, independent units
        upo = float(seg_all["quantity"].sum()) / max(1, seg_all["order_id"].nunique())
        need = srs * deff_t
        plan = PowerPlan(
            p0, p1, target_reduction, alpha, power, srs, deff_t, need, upo, int(math.ceil(need / upo)), ot1, nt1
        )
        if ot1 < plan.orders_needed:
            caveats.append(
                f"Too few orders yet: {ot1:,} matured orders since the change; about {plan.orders_needed:,} "
                f"are needed to detect a {target_reduction:.0%} reduction with {power:.0%} power."
            )
    if ot1 < min_orders and (plan is None or ot1 >= plan.orders_needed):
        caveats.append(f"Only {ot1:,} matured orders since the change (fewer than {min_orders}).")
    if immature:
        caveats.append(
            f"{immature:,} recent orders of {seg} are excluded because their return window "
            f"({prepared.window_days} days) has not closed (placed after {cutoff.date() if cutoff is not None else 'the cutoff'})."
        )
    if washout_days:
        caveats.append(f"Orders in the {washout_days}-day washout after launch are left out.")

    # ---- verdict: from the ratio scale; points are its translation
    r0, r1 = xt0 / nt0, xt1 / nt1
    if did is not None:
        method = "did"
        direction = did.direction
        if direction != "no clear change" and comparison_moved and not treated_moved:
            direction = "no clear change"  # only the comparison moved: nothing to credit to the treated segment
        avoided = (did.counterfactual_rate - r1) * nt1
    else:
        # no comparison: neither the segmented regression (its placebo p-values fall below 0.05 in most
        # seasonal simulations) nor a before/after can tell a change from the season, so no verdict
        method = "its" if its is not None else "before_after"
        direction = "not judged"
        avoided = its.returns_avoided if its is not None else (r0 - r1) * nt1
        if its is None:
            caveats.append(
                "This is a plain before/after comparison: it is descriptive and credits the change with any "
                "seasonal or site-wide movement."
            )
    significant = direction in ("reduced", "increased")
    verdict = _verdict_text(
        iv,
        words,
        r0,
        r1,
        rc0,
        rc1,
        comp,
        plural,
        did,
        its,
        ba,
        method,
        direction,
        comparison_moved,
        treated_moved,
        avoided,
    )
    if not significant and (ot1 < min_orders or (plan is not None and ot1 < plan.orders_needed)):
        verdict += " It is early: see the caveats on how many orders are needed."

    # ---- chart data (matured orders)
    cm_all = _monthly(lines[lines[dim].isin(comp)]) if comp else pd.DataFrame(columns=["units", "returned"])
    chart = pd.DataFrame(
        {
            "month": tm_all.index,
            "treated_units": tm_all["units"].to_numpy(),
            "treated_rate": (tm_all["returned"] / tm_all["units"]).to_numpy(),
        }
    )
    cmr = (cm_all["returned"] / cm_all["units"]) if len(cm_all) else pd.Series(dtype="float64")
    chart["comparison_units"] = chart["month"].map(cm_all["units"]) if len(cm_all) else np.nan
    chart["comparison_rate"] = chart["month"].map(cmr) if len(cm_all) else np.nan
    chart["phase"] = np.where(
        chart["month"] < start_month, "before", np.where(chart["month"] >= first_post_month, "after", "transition")
    )
    chart["its_fitted"] = np.nan
    chart["counterfactual_rate"] = np.nan
    if its is not None:
        pos = chart["month"].isin(ser.index).to_numpy()
        chart.loc[pos, "its_fitted"] = its.fitted
        cf = np.where(its.post, its.counterfactual, np.nan)
        chart.loc[pos, "counterfactual_rate"] = cf
    # DiD counterfactual per month: the treated rate without the change, by the ratio (after months only)
    chart["did_counterfactual"] = (
        np.where(chart["phase"] == "after", chart["treated_rate"] / did.ratio, np.nan)
        if did is not None and did.ratio > 0
        else np.nan
    )

    return InterventionResult(
        intervention=iv,
        method=method,
        rate_before=r0,
        rate_after=r1,
        units_before=int(nt0),
        units_after=int(nt1),
        returned_before=int(xt0),
        returned_after=int(xt1),
        orders_before=ot0,
        orders_after=ot1,
        before_after=ba,
        comparison_segments=tuple(comp),
        comparison_auto=auto,
        comparison_rate_before=rc0,
        comparison_rate_after=rc1,
        did=did,
        pre_trend_p=parallel.p_value if parallel is not None else float("nan"),
        its=its,
        returns_avoided=float(avoided),
        significant=significant,
        verdict=verdict,
        caveats=tuple(caveats),
        power=plan,
        chart=chart,
        launch_date=start,
        first_post_date=post_start,
        immature_orders_excluded=immature,
        design_effect=deff_t,
        direction=direction,
        parallel=parallel,
        placebo=placebo,
        placebo_date=placebo_date,
        treated_change_ratio=t_change[0],
        treated_change_p=t_change[1],
        comparison_change_ratio=c_change[0],
        comparison_change_p=c_change[1],
        comparison_moved=comparison_moved,
        diagnostics=tuple(diagnostics),
        rate_name=words["rate"],
        unit=words["unit"],
        noun=words["noun"],
    )


def _row(iv_fields: dict, res: InterventionResult | None, reason: str | None) -> dict:
    nan = float("nan")
    row: dict[str, Any] = {k: nan for k in RESULT_KEYS}
    row.update(
        dimension=iv_fields.get("dimension"),
        segment=iv_fields.get("segment"),
        start_date=iv_fields.get("start_date"),
        comparison_segments=(),
        verdict=reason or "",
        caveats=(),
        id=iv_fields.get("id", ""),
        description=iv_fields.get("description", ""),
        method=None,
        significant=False,
        its_level_change=nan,
        its_slope_change=nan,
        its_p_value=nan,
        orders_after=0,
        orders_needed=None,
        pre_trend_p=nan,
        did_ratio=nan,
        did_ratio_ci_low=nan,
        did_ratio_ci_high=nan,
        direction="not judged",
    )
    if res is None:
        return row
    d = res.did
    row.update(
        start_date=res.launch_date,
        rate_before=res.rate_before,
        rate_after=res.rate_after,
        diff=res.rate_after - res.rate_before,
        diff_ci_low=res.before_after.ci_low,
        diff_ci_high=res.before_after.ci_high,
        p_value=res.before_after.p_value,
        did_estimate=d.points if d else nan,
        did_ci_low=d.points_ci_low if d else nan,
        did_ci_high=d.points_ci_high if d else nan,
        did_p_value=d.p_value if d else nan,
        did_ratio=d.ratio if d else nan,
        did_ratio_ci_low=d.ci_low if d else nan,
        did_ratio_ci_high=d.ci_high if d else nan,
        direction=res.direction,
        comparison_segments=res.comparison_segments,
        returns_avoided=res.returns_avoided,
        verdict=res.verdict,
        caveats=res.caveats,
        method=res.method,
        significant=res.significant,
        pre_trend_p=res.pre_trend_p,
        orders_after=res.orders_after,
        orders_needed=res.power.orders_needed if res.power else None,
        its_level_change=res.its.level_change_odds_ratio if res.its else nan,
        its_slope_change=res.its.slope_change_odds_ratio if res.its else nan,
        its_p_value=res.its.level_p if res.its else nan,
    )
    return row


def evaluate_all(prepared: Prepared, interventions_df: pd.DataFrame, **options: Any) -> list[dict]:
    """Evaluate every row of an interventions table (dimension, segment, start_date[, description, id]).

    Returns one dict per row with the RESULT_KEYS (dimension, segment, start_date, rate_before, rate_after,
    diff, diff_ci_low, diff_ci_high, p_value, did_estimate, did_ci_low, did_ci_high, did_p_value,
    comparison_segments, returns_avoided, verdict; did_* are the ratio-scale DiD translated into points) plus
    did_ratio, did_ratio_ci_low, did_ratio_ci_high, direction, caveats, method, significant, its_level_change,
    its_slope_change, its_p_value, orders_after, orders_needed, id, description. Never raises for one bad
    row: its verdict says why it cannot be evaluated. Other treated segments of the same dimension
    that launched before this row's evaluation ends are not used as its automatic comparisons.
    """
    if interventions_df is None or len(interventions_df) == 0:
        return []
    missing = {"dimension", "segment", "start_date"} - set(interventions_df.columns)
    if missing:
        raise ValueError(f"The interventions table needs columns {', '.join(sorted(missing))}.")
    rows = []
    recs = interventions_df.to_dict("records")
    for rec in recs:
        f = {k: (None if (not isinstance(v, (list, tuple)) and pd.isna(v)) else v) for k, v in rec.items()}
        try:
            iv = Intervention(
                str(f["dimension"]) if f["dimension"] is not None else "",
                "" if f["segment"] is None else str(f["segment"]),
                f["start_date"],
                f.get("description") or "",
                str(f.get("id") or ""),
            )
        except ValueError as e:
            rows.append(_row(f, None, f"Cannot be evaluated: {e}"))
            continue
        opts = dict(options)
        if "comparison" not in opts:
            # keep other treated segments of the same dimension out of the automatic comparison pool
            others = {
                str(r["segment"])
                for r in recs
                if str(r.get("dimension")) == iv.dimension and str(r.get("segment")) != iv.segment
            }
            if others:
                opts["_exclude"] = others
        try:
            res = _evaluate_excluding(prepared, iv, **opts)
        except (AnalysisError, ValueError) as e:
            text = e.message if isinstance(e, AnalysisError) else str(e)
            title = e.title if isinstance(e, AnalysisError) else "Cannot be evaluated"
            rows.append(_row(f, None, f"{title}: {text}"))
            continue
        rows.append(_row(f, res, None))
    return rows


def _evaluate_excluding(
    prepared: Prepared, iv: Intervention, _exclude: Collection[str] | None = None, **opts: Any
) -> InterventionResult:
    """evaluate() with some segments of the dimension removed from the automatic comparison pool (their lines
    left out of the evaluation's own frames; the Prepared, and the codes it holds, are not copied)."""
    return evaluate(prepared, iv, _exclude=_exclude, **opts)


# ----------------------------------------------------------------------------------------------
# what the Interventions page shows (the page lays these out; it computes nothing)

METHOD_WORDS = {
    "did": "difference-in-differences against comparison segments (ratio of return rates)",
    "its": "no comparison: the segment's own monthly trend, descriptive",
    "before_after": "no comparison: before/after only, descriptive",
}


def plural(dimension: str) -> str:
    """The plural a sentence uses for segments of a dimension.

    >>> plural("category"), plural("colour")
    ('categories', 'colour')
    """
    return _PLURAL.get(dimension, dimension)


def log_table(log: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """The interventions log as the page lists it: one row per entry with ``key`` (a stable id for pickers),
    ``source`` ('saved' when it has an id, else 'from file', read-only), dimension, segment, ``start_date``
    (a Timestamp, NaT when unreadable), description ('' when none), and from ``rows`` (evaluate_all, same
    order) rate_before, rate_after, verdict and ``evaluable`` (it has a method).

    >>> t = log_table(pd.DataFrame({"dimension": ["collection"], "segment": ["A"], "start_date": ["2024-03-01"],
    ...                             "description": [None]}), [{"rate_before": .2, "rate_after": .1, "verdict": "v",
    ...                                                        "method": "did"}])
    >>> t[["source", "description", "rate_after", "evaluable"]].values.tolist()
    [['from file', '', 0.1, True]]
    """
    log = log.reset_index(drop=True)
    ids = log["id"] if "id" in log.columns else pd.Series([None] * len(log))
    start = pd.to_datetime(log["start_date"], errors="coerce")
    desc = (
        log["description"].map(lambda d: "" if d is None or (isinstance(d, float) and math.isnan(d)) else str(d))
        if "description" in log.columns
        else pd.Series([""] * len(log))
    )
    keys = [
        hashlib.sha1(f"{d}|{s}|{t}|{x}".encode()).hexdigest()[:10]
        for d, s, t, x in zip(log["dimension"], log["segment"], start, desc)
    ]
    rows = list(rows) + [{}] * (len(log) - len(rows))
    return pd.DataFrame(
        {
            "key": keys,
            "source": ["saved" if pd.notna(i) and str(i) else "from file" for i in ids],
            "id": ids.astype(object).to_numpy(),
            "dimension": log["dimension"].astype(str).to_numpy(),
            "segment": log["segment"].astype(str).to_numpy(),
            "start_date": start.to_numpy(),
            "description": desc.to_numpy(),
            "rate_before": [r.get("rate_before", float("nan")) for r in rows],
            "rate_after": [r.get("rate_after", float("nan")) for r in rows],
            "verdict": [r.get("verdict") for r in rows],
            "evaluable": [bool(r.get("method")) for r in rows],
            "comparison_segments": [tuple(r.get("comparison_segments") or ()) for r in rows],
        }
    )


def comparison_options(
    prepared: Prepared, dimension: str, segment: str, chosen: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """(options, default) of the comparison picker: the dimension's other segments by volume, and the
    automatically chosen ones among them."""
    from analysis.trends import segments_by_volume

    opts = [s for s in segments_by_volume(prepared, dimension) if s != segment]
    return opts, [c for c in chosen if c in opts]


def loggable_dimensions(prepared: Prepared) -> list[str]:
    """Dimensions a change can be logged for: the known ones (data.state.KNOWN_DIMENSIONS) the data holds."""
    from data.state import KNOWN_DIMENSIONS

    return [d for d in KNOWN_DIMENSIONS if prepared.has(d) and prepared.lines[d].notna().any()]


def default_start(prepared: Prepared, today: date | None = None) -> date:
    """The form's default start date: today, or the last order date when the data ends earlier."""
    today = today or date.today()
    last = prepared.lines["order_date"].max()
    return min(today, last.date()) if pd.notna(last) else today


def segment_choices(prepared: Prepared, dimension: str, current: str | None = None) -> list[str]:
    """Segments of a dimension by volume, with ``current`` (an entry being edited) first when the data lacks it."""
    from analysis.trends import segments_by_volume

    opts = segments_by_volume(prepared, dimension)
    return ([current] + opts) if current is not None and current not in opts else opts


def detail_sentences(res: InterventionResult) -> dict[str, str]:
    """The page's three design panels, the planning line and the headline's help, in words: keys before_after,
    did, its, planning, before_help, after_help."""
    ba, d, its, plan = res.before_after, res.did, res.its, res.power
    pl = plural(res.intervention.dimension)
    verb = "returned" if res.noun == "returns" else "refunded"
    out = {
        "before_help": f"{res.returned_before:,} of {res.units_before:,} {res.unit} {verb}, {res.orders_before:,} "
        "matured orders",
        "after_help": f"{res.returned_after:,} of {res.units_after:,} {res.unit} {verb}, {res.orders_after:,} "
        "matured orders",
        "before_after": (
            f"{ba.rate_before:.1%} → {ba.rate_after:.1%}: {ba.change * 100:+.1f} points (95% CI "
            f"{ba.ci_low * 100:+.1f} to {ba.ci_high * 100:+.1f}). This credits the change with any "
            "seasonal or site-wide movement, so on its own it proves nothing; no p-value is given."
        ),
    }
    if d is not None:
        out["did"] = (
            f"Comparison: {', '.join(res.comparison_segments)}, {res.comparison_rate_before:.1%} → "
            f"{res.comparison_rate_after:.1%}. Against them the {res.rate_name} after the change is x "
            f"{d.ratio:.2f} of what they predict (95% CI {d.ci_low:.2f} to {d.ci_high:.2f}, p = "
            f"{d.p_value:.3g}), i.e. {d.points * 100:+.1f} points (95% CI {d.points_ci_low * 100:+.1f} to "
            f"{d.points_ci_high * 100:+.1f}) on {res.intervention.segment}'s {d.treated_post_rate:.1%}. "
            f"Monthly cells with month effects; several items per order and month-to-month noise allowed "
            f"for (dispersion {d.dispersion:.2f}, t on {d.df:.0f} df)."
        )
    else:
        out["did"] = f"Not available: fewer than {MIN_COMPARISONS} comparison {pl} with enough orders on both sides."
    if its is not None:
        out["its"] = (
            f"Level change at launch: odds x {its.level_change_odds_ratio:.2f}; slope change: odds x "
            f"{its.slope_change_odds_ratio:.3f} per month; {its.returns_avoided:,.0f} avoided per the model. "
            "Descriptive: with this few months a time series alone cannot tell a change from the season "
            "(its p-values fell below 0.05 in half of seasonal placebos), so no p-value is shown."
        )
    else:
        out["its"] = f"Not fitted: it needs at least {MIN_ITS_MONTHS} matured months on each side of the launch."
    if plan is None:
        out["planning"] = f"No planning estimate: the {res.rate_name} before the launch is 0% or 100%."
    else:
        out["planning"] = (
            f"To detect a {plan.target_reduction:.0%} reduction ({plan.baseline_rate:.1%} → "
            f"{plan.target_rate:.1%}) with {plan.power:.0%} power at the {plan.alpha:.0%} significance "
            f"level, about **{plan.orders_needed:,} matured orders** after the launch are needed "
            f"(≈{plan.units_needed:,.0f} units; design effect {plan.design_effect:.2f} for several "
            f"items per order). So far: {plan.orders_matured:,} matured orders."
        )
    return out


def avoided_shown(res: InterventionResult) -> float | None:
    """Returns avoided as the page's headline shows it: only when the verdict is 'reduced' (else None)."""
    return res.returns_avoided if res.direction == "reduced" and res.returns_avoided > 0 else None


# ----------------------------------------------------------------------------------------------
# the fix list judged on data after a logged change

# Guidance themes of analysis.briefs, recognised in a change's free-text description.
CHANGE_THEMES = {
    "fit": ("fit", "size", "sizing", "measurement"),
    "setup": (
        "setup",
        "set-up",
        "set up",
        "install",
        "quick-start",
        "quickstart",
        "quick start",
        "instruction",
        "manual",
    ),
    "expectation": (
        "photo",
        "image",
        "imagery",
        "picture",
        "colour",
        "color",
        "shade",
        "description",
        "copy",
        "swatch",
    ),
    "care": ("care", "fabric", "material"),
}
ADDRESSED_COLUMNS = (
    "dimension",
    "segment",
    "label",
    "change_description",
    "change_start",
    "after_units",
    "after_rate",
    "after_baseline_rate",
    "after_verdict",
    "intervention_verdict",
    "sentence",
)


def change_themes(description: object) -> frozenset[str]:
    """The guidance themes a logged change already covers, from its description.

    >>> sorted(change_themes("Fit guide video and size advice on product pages"))
    ['fit']
    """
    text = (
        ""
        if description is None or (isinstance(description, float) and math.isnan(description))
        else str(description).lower()
    )
    return frozenset(k for k, words in CHANGE_THEMES.items() if any(w in text for w in words))


@dataclass(frozen=True, slots=True)
class JudgedFixList:
    """fix_list: the fix list with each segment that has a logged change judged on matured orders placed on
    or after the change (numbers replaced by the after-change ones, columns change_description,
    change_start, change_themes, intervention_verdict added; re-ranked); addressed: the segments that no
    longer return clearly more than comparable items since their change (ADDRESSED_COLUMNS)."""

    fix_list: pd.DataFrame
    addressed: pd.DataFrame


def _latest_changes(interventions: pd.DataFrame) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    if interventions is None or not len(interventions):
        return out
    for rec in interventions.to_dict("records"):
        ts = pd.to_datetime(rec.get("start_date"), errors="coerce")
        if pd.isna(ts):
            continue
        key = (str(rec.get("dimension")), str(rec.get("segment")))
        if key not in out or ts > out[key]["start"]:
            desc = rec.get("description")
            out[key] = {
                "start": pd.Timestamp(ts).normalize(),
                "description": "" if desc is None or (isinstance(desc, float) and math.isnan(desc)) else str(desc),
            }
    return out


def judge_fix_list(
    prepared: Prepared,
    fix_list: pd.DataFrame,
    interventions: pd.DataFrame | None,
    *,
    cost_per_return: float,
    q: float = 0.10,
    evaluations: list[dict] | None = None,
) -> JudgedFixList:
    """Judge every fix-list segment that has a logged change on the matured orders placed since the change.

    For a row (dimension, segment) with a logged change (the latest one when several), the segment is
    compared again with its comparison group (analysis.segments.segment_table, same method; the FDR
    family is that dimension's segments since the change, not the list-wide one, so the q shown for a
    judged row is the after-change one) on the orders placed on or after the start date. Still gated (q <= q, positive excess):
    the row stays with the after-change numbers, "why" saying so. Not gated: the row moves to
    ``addressed`` with a sentence (e.g. "Since 01 Apr 2026 (fit guide video ...) Hiking Jackets returns
    15.3% vs 15.8% for the rest of Outerwear: no longer clearly more."). ``evaluations`` (rows of
    evaluate_all) add the Interventions page's verdict to both. Rows are then re-ranked with
    analysis.fixlist.order_rows.
    """
    from analysis.fixlist import IN_PLACE_ACTION, action_theme, order_rows
    from analysis.prepare import Filters, filter_prepared
    from analysis.segments import segment_table

    changes = _latest_changes(interventions)
    fl = fix_list.copy()
    for c in ("change_description", "change_start", "change_themes", "intervention_verdict"):
        fl[c] = pd.Series([None] * len(fl), index=fl.index, dtype=object)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in ADDRESSED_COLUMNS})
    if fl.empty or not changes:
        return JudgedFixList(fl, empty)
    ev = {}
    for r in evaluations or []:
        ev[(str(r.get("dimension")), str(r.get("segment")))] = str(r.get("verdict") or "")
    addressed, drop = [], []
    for idx, row in fl.iterrows():
        key = (str(row["dimension"]), str(row["segment"]))
        if key not in changes:
            continue
        ch = changes[key]
        start, desc = ch["start"], ch["description"]
        fl.at[idx, "change_description"] = desc
        fl.at[idx, "change_start"] = start
        fl.at[idx, "change_themes"] = tuple(sorted(change_themes(desc)))
        fl.at[idx, "intervention_verdict"] = ev.get(key)
        label = str(row.get("label") or row["segment"])
        what = f"{start:%d %b %Y}" + (f" ({desc})" if desc else "")
        after = filter_prepared(prepared, Filters(date_from=start))
        seg = (
            # one dimension of this data is asked about: count it alone, not every dimension
            segment_table(after, key[0], cost_per_return=cost_per_return, q=q, alone=True)
            if after.has(key[0])
            else pd.DataFrame()
        )
        hit = seg[seg["segment"].astype(str) == key[1]] if len(seg) else seg
        if not len(hit) or float(hit["n"].iloc[0]) <= 0:
            fl.at[idx, "why"] = (
                f"A change is logged since {what}, but no orders placed since then have matured yet. " + str(row["why"])
            )
            continue
        h = hit.iloc[0]
        ref = str(h.get("reference") or "all")
        versus = f"the rest of {reference_group(ref)}" if reference_group(ref) is not None else "the rest"
        gated = bool(float(h["q_value"]) <= q and float(h["priority_score"]) > 0)
        if gated:
            for c in (
                "n",
                "returned",
                "return_rate",
                "baseline_rate",
                "ci_low",
                "ci_high",
                "shrunk_rate",
                "excess_returns",
                "excess_cost",
                "conservative_excess_cost",
                "priority_score",
                "q_value",
            ):
                if c in fl.columns and c in h.index:
                    fl.at[idx, c] = h[c]
            fl.at[idx, "why"] = (
                f"Since {what}: still returns {float(h['return_rate']):.1%} vs "
                f"{float(h['baseline_rate']):.1%} for {versus}. " + str(row["why"]).split("; ", 1)[-1]
            )
            if action_theme(row["suggested_action"]) in change_themes(desc):
                fl.at[idx, "suggested_action"] = IN_PLACE_ACTION.format(
                    start=f"{start:%d %b %Y}", what=desc or "logged change"
                )
            continue
        words = (
            "no longer clearly more"
            if float(h["return_rate"]) <= float(h["baseline_rate"])
            else "no longer clearly more (within noise)"
        )
        sentence = (
            f"Since {what}, {label} returns {float(h['return_rate']):.1%} vs {float(h['baseline_rate']):.1%} "
            f"for {versus} ({int(h['n']):,} units sold since): {words}."
        )
        addressed.append(
            {
                "dimension": key[0],
                "segment": key[1],
                "label": label,
                "change_description": desc,
                "change_start": start,
                "after_units": int(h["n"]),
                "after_rate": float(h["return_rate"]),
                "after_baseline_rate": float(h["baseline_rate"]),
                "after_verdict": str(h["verdict"]),
                "intervention_verdict": ev.get(key),
                "sentence": sentence,
            }
        )
        drop.append(idx)
    fl = order_rows(fl.drop(index=drop))
    return JudgedFixList(fl, pd.DataFrame(addressed, columns=list(ADDRESSED_COLUMNS)) if addressed else empty)


def with_changes_judged(
    analysis: Analysis, prepared: Prepared, interventions: pd.DataFrame | None, *, evaluations: list[dict] | None = None
) -> Analysis:
    """The Analysis with its fix list judged on data after each logged change (see judge_fix_list): the
    re-ranked fix list, and the segments a change took off it in ``addressed`` (one note each)."""
    import dataclasses

    if interventions is None or not len(interventions) or analysis.fix_list.empty:
        return analysis
    if evaluations is None:
        evaluations = evaluate_all(prepared, interventions)
    j = judge_fix_list(
        prepared,
        analysis.fix_list,
        interventions,
        cost_per_return=analysis.cost_per_return,
        q=analysis.settings.q,
        evaluations=evaluations,
    )
    notes = tuple(analysis.notes) + tuple(j.addressed["sentence"]) if len(j.addressed) else tuple(analysis.notes)
    return dataclasses.replace(analysis, fix_list=j.fix_list, addressed=j.addressed, notes=notes)


def saved_entries(table: pd.DataFrame) -> pd.DataFrame:
    """The entries of a ``log_table`` that were saved here (editable), not read from the dataset's file.

    >>> saved_entries(pd.DataFrame({"source": ["saved", "from file"], "id": ["a", None]}))["id"].tolist()
    ['a']
    """
    return table[table["source"] == "saved"]


def log_entry(table: pd.DataFrame, column: str, value: object) -> pd.Series:
    """The one row of a ``log_table`` whose ``column`` (compared as text) equals ``value``.

    >>> log_entry(pd.DataFrame({"id": [1, 2], "segment": ["A", "B"]}), "id", "2")["segment"]
    'B'
    """
    return table[table[column].astype(str) == str(value)].iloc[0]
