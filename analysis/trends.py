"""Return rates over time: ship-month/week cohorts, control charts, trend tests and "what changed".

Methods (see METHOD.md sections 1, 3, 5, 8):

* cohorts by ORDER date (not return date); a cohort whose orders are younger than the return window
  (orders after ``prepared.cutoff_date``) is marked provisional, and its expected final rate is its returns so
  far plus a gamma-Poisson credibility estimate of those to come (``expected_final``), the exposure from G(age),
  G the Kaplan-Meier arrival curve of returns (analysis.maturity: days-to-return with censoring at each order's
  follow-up, so late returns of recent orders are allowed for), with a 95% interval;
* Wilson intervals for each period's rate (Wilson 1927; Brown, Cai & DasGupta 2001);
* Shewhart p-chart with variable n (Montgomery, ch. 7) and the Laney p' chart for large n
  (Laney 2002, Quality Engineering 14:531); ``control_chart`` picks one and says why;
* a quasi-binomial logistic trend test for a steady rise or fall (``trend_test``: slope of a binomial
  GLM on the monthly counts, Pearson dispersion floored at 1, t reference; McCullagh & Nelder 1989,
  Williams 1982), calibrated under order-level correlation and month-to-month variation;
* ``what_changed``: per segment, period A vs period B with a Newcombe hybrid-score CI for the
  difference (Newcombe 1998b), a two-sided test (pooled z, or Fisher when an expected cell < 5:
  Cochran 1954) on Rao-Scott effective counts (lines of one order are correlated: Rao & Scott 1992),
  and Benjamini-Hochberg q-values per dimension family (Benjamini & Hochberg 1995).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from analysis import stats

Z95 = float(sps.norm.ppf(0.975))

# Dimensions the trend views understand; order dimensions are attributes of the whole order.
from analysis.prepare import LINE_DIMENSIONS, ORDER_DIMENSIONS, Prepared  # noqa: E402  one list of dimensions

DIMENSIONS = LINE_DIMENSIONS + ORDER_DIMENSIONS

# control_chart rule: the p-chart assumes pure binomial variation. With large periods (mean
# n >= LANEY_MIN_MEAN_N units) or when the p-chart flags more than LANEY_FLAG_SHARE of the points,
# real period-to-period variation dominates and the Laney p' chart is used - but only if the
# moving-range estimate confirms over-dispersion (sigma_z > 1); otherwise the p-chart is kept.
LANEY_MIN_MEAN_N = 1000
LANEY_FLAG_SHARE = 0.25


# ----------------------------------------------------------------------------------------------
# small vectorised building blocks


def two_sided_p(x1: float, n1: float, x2: float, n2: float) -> tuple[float, str]:
    """Two-sided p for x1/n1 vs x2/n2 and the test used (METHOD 2.2 switching rule: pooled z when
    every expected cell is >= 5, else Fisher's exact test), via analysis.stats.segment_vs_rest."""
    if not (n1 > 0 and n2 > 0) or min(x1, x2) < 0 or x1 > n1 or x2 > n2:
        return float("nan"), "none"
    r = stats.segment_vs_rest(x1, n1, x2, n2, alternative="two-sided")
    return float(r["p_value"]), str(np.asarray(r["test"]).item())


def _segment_deffs(frame: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Per segment: x, n and the Rao-Scott deff over its orders (analysis.stats.rao_scott_deff, floored at 1;
    a one-order segment gets 1, ``single_cluster="one"``)."""
    d = stats.rao_scott_deff(frame, dim, "order_id", "x", "n", single_cluster="one")
    return pd.DataFrame(
        {"segment": d.index, "x": d["x"].to_numpy(), "n": d["n"].to_numpy(), "deff": d["deff"].fillna(1.0).to_numpy()}
    )


# ----------------------------------------------------------------------------------------------
# cohort series


def segments_by_volume(prepared: Prepared, dimension: str) -> list[str]:
    """Segments of a dimension, most units sold first (the ones people ask about come first); [] when the
    data has no such column. The segment pickers of the Trends and Interventions pages list these.

    >>> from types import SimpleNamespace
    >>> lines = pd.DataFrame({"collection": ["a", "b", "b", "c"], "quantity": [1, 2, 2, 3]})
    >>> segments_by_volume(SimpleNamespace(lines=lines, has=lambda d: d in lines), "collection")
    ['b', 'c', 'a']
    """
    if not prepared.has(dimension):
        return []
    units = (
        prepared.lines.groupby(dimension, observed=True)["quantity"].sum().sort_values(ascending=False, kind="stable")
    )
    return [str(s) for s in units.index]


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """The start of each date's cohort period: its month (freq "M") or its ISO week, Monday ("W")."""
    if freq == "M":
        return dates.dt.to_period("M").dt.start_time
    return dates.dt.to_period("W").dt.start_time  # ISO weeks, Monday start


def _check_dimension(prepared: Prepared, dimension: str | None, segment: object) -> None:
    if dimension is None:
        if segment is not None:
            raise ValueError("A segment was given without its dimension; pass dimension= as well.")
        return
    if dimension not in prepared.lines.columns:
        raise ValueError(f"Unknown dimension '{dimension}'; use one of {', '.join(DIMENSIONS)}.")
    if segment is None:
        raise ValueError(f"dimension='{dimension}' needs a segment= to select.")


# a provisional cohort's expected final rate is shown once this share of its returns should have arrived
MIN_COVERAGE = 0.05
# the prior of a provisional cohort's rate: the matured cohorts' pooled rate, over at most this many of the latest
PRIOR_COHORTS = 12
# the prior's spread between cohorts is at least this share of its rate, and this share when fewer than 3 cohorts
# have matured: a history that looks steady must not outvote a month's own returns after a guidance change
# (bench/calibration_trends.py: with 0.30, a 30% fall in the last 90 days' rate is still held by the 95% interval
# in 93-97% of the months by how much has arrived, against 75% with 0.10; README "Calibration (simulation)", Return window)
MIN_SPREAD, FEW_SPREAD = 0.30, 0.50


def expected_final(
    returned: np.ndarray,
    units: np.ndarray,
    arrived: np.ndarray,
    matured: np.ndarray,
    deff: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(expected final rate, 95% low, 95% high) per cohort: the returns so far plus those still to come.

    returned: returns so far; units: units sold; arrived: units x G(age) summed over the cohort's lines (G the
    Kaplan-Meier arrival curve: the exposure its returns so far come from); matured: the cohorts whose rate is
    final, which give the prior.

    The chain ladder (returned / arrived) alone swings widely when little has arrived: a cohort with 5% of its
    returns in hand and 2 returns more than expected reads twice its rate. So the cohort's rate theta gets a
    gamma prior from the matured cohorts (mean: their pooled rate over the latest PRIOR_COHORTS; variance: the
    between-cohort variance by Buhlmann-Straub's moment estimator, at least (MIN_SPREAD x rate)^2), updated by
    the returns so far, a Poisson count with mean theta x arrived (gamma-Poisson credibility; Buhlmann & Gisler
    2005, ch. 4). The final count is the returns so far plus R, the returns still to come: R ~ Poisson(theta x
    (units - arrived)), negative binomial under the posterior, whose 2.5% and 97.5% quantiles give the interval.
    With little in hand the estimate stays near the matured rate with a wide interval; with most returns in hand
    it is the chain ladder's. Without a matured cohort the prior is flat (Jeffreys: shape 1/2, rate 0).

    deff: each cohort's Rao-Scott design effect over its orders (units of one order come back together: one
    wholesale order can hold most of a month's returns). Counts enter as effective counts (returned / d, arrived
    / d, the units still to come / d, and R back at d times its effective count), d the larger of the cohort's own
    and the matured cohorts' median, which also scales the binomial part of the between-cohort variance.
    Calibration by simulation: README "Calibration (simulation)", Return window.
    """
    returned = np.asarray(returned, dtype="float64")
    units = np.asarray(units, dtype="float64")
    arrived = np.asarray(arrived, dtype="float64")
    d = np.ones(len(units)) if deff is None else np.where(np.isfinite(deff), np.maximum(deff, 1.0), 1.0)
    m = np.flatnonzero(np.asarray(matured, dtype=bool) & (units > 0) & np.isfinite(returned))[-PRIOR_COHORTS:]
    d_prior = float(np.median(d[m])) if len(m) else 1.0
    d = np.maximum(d, d_prior)
    alpha0, beta0 = 0.5, 0.0
    if len(m) and units[m].sum() > 0 and returned[m].sum() > 0:
        n_i, p_i = units[m], returned[m] / units[m]
        n = n_i.sum()
        r0 = float(returned[m].sum() / n)
        if len(m) >= 3:
            # Buhlmann-Straub: between-cohort variance from the weighted spread less the binomial part
            within = r0 * (1 - r0) * d_prior
            between = (np.sum(n_i * (p_i - r0) ** 2) - (len(m) - 1) * within) / (n - np.sum(n_i**2) / n)
            tau2 = max(float(between), (MIN_SPREAD * r0) ** 2)
        else:
            tau2 = (FEW_SPREAD * r0) ** 2
        alpha0, beta0 = r0 * r0 / tau2, r0 / tau2
    alpha, beta = alpha0 + returned / d, beta0 + arrived / d
    remaining = np.clip(units - arrived, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = alpha / beta
        est = (returned + theta * remaining) / units
        p = beta / (beta + remaining / d)
        low_r = np.where(remaining > 0, d * sps.nbinom.ppf(0.025, alpha, p), 0.0)
        high_r = np.where(remaining > 0, d * sps.nbinom.ppf(0.975, alpha, p), 0.0)
        low = (returned + low_r) / units
        high = (returned + high_r) / units
    bad = ~(units > 0) | ~(beta > 0)
    return tuple(np.where(bad, np.nan, np.clip(v, 0.0, 1.0)) for v in (est, low, high))  # type: ignore[return-value]


def cohort_series(
    prepared: Prepared, freq: str = "M", dimension: str | None = None, segment: object = None
) -> pd.DataFrame:
    """Unit return rate per order-date cohort (month "M" or week "W"), optionally for one segment.

    Columns: period, units, returned, rate, ci_low, ci_high (95 % Wilson on Rao-Scott effective counts: each
    period's design effect over its orders, floored at 1), orders, provisional
    (the cohort holds orders placed after ``prepared.cutoff_date``, so returns may still arrive),
    coverage (share of the cohort's eventual returns expected to have arrived already: G(age) of the
    Kaplan-Meier arrival curve ``prepared.arrival`` (analysis.maturity), unit-weighted over the cohort's
    lines by their age at the data's end), expected_final_rate with its 95% interval expected_final_low /
    expected_final_high (``expected_final``: the returns so far plus the credibility estimate of those still to
    come; only for provisional cohorts with coverage >= 5 %, else NaN),
    rate_same_period_last_year (the same month 12 months earlier, or week 52 weeks earlier, where
    the data covers it) and change_vs_last_year.

    Every cohort is listed (matured or not); rates for provisional cohorts are lower bounds. A cohort whose
    orders were all placed after a returns file's end (``prepared.returns_end``) has no rate (NaN): its returns
    are not in the file.
    """
    if freq not in ("M", "W"):
        raise ValueError(f"freq must be 'M' (months) or 'W' (weeks), not {freq!r}.")
    _check_dimension(prepared, dimension, segment)
    lines = prepared.lines
    picked = None
    if dimension is not None:
        picked = (lines[dimension] == segment).to_numpy(dtype=bool, na_value=False)
        lines = lines[picked]
    cols = [
        "period",
        "units",
        "returned",
        "rate",
        "ci_low",
        "ci_high",
        "orders",
        "provisional",
        "coverage",
        "expected_final_rate",
        "expected_final_low",
        "expected_final_high",
        "rate_same_period_last_year",
        "change_vs_last_year",
    ]
    if lines.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    xcol, ncol = prepared.rate_columns(dimension)

    as_of = prepared.arrival.as_of  # the unfiltered data's end: a date filter does not make orders younger
    if as_of is None:
        as_of = prepared.lines["order_date"].max()
    age = (as_of - lines["order_date"]).dt.days.to_numpy(dtype="float64")
    share = prepared.arrival.at(age)
    work = pd.DataFrame(
        {
            "period": period_start(lines["order_date"], freq),
            "order_id": lines["order_id"],
            "units": lines[ncol].astype("float64"),
            "returned": lines[xcol].astype("float64"),
            "immature": ~lines["mature"].astype(bool),
            "units_arrived": lines[ncol].to_numpy(dtype="float64") * share,
        }
    )
    g = work.groupby("period", sort=True)
    out = pd.DataFrame(
        {
            "units": g["units"].sum(),
            "returned": g["returned"].sum(),
            "orders": g["order_id"].nunique(),
            "provisional": g["immature"].any(),
            "units_arrived": g["units_arrived"].sum(),
        }
    ).reset_index()
    out["rate"] = out["returned"] / out["units"]
    out["coverage"] = (out["units_arrived"] / out["units"]).clip(upper=1.0)
    # each period's design effect over its orders (an order's lines share its order date, so its period)
    from analysis.prepare import order_codes

    ocode = order_codes(prepared)[0]
    if picked is not None:
        ocode = ocode[picked]
    pcode = np.searchsorted(out["period"].to_numpy(), work["period"].to_numpy())
    d = stats.group_design_effects(pcode, ocode, work["returned"], work["units"], len(out))
    # Wilson on Rao-Scott effective counts: units of one order come back together
    out["ci_low"], out["ci_high"] = stats.wilson_interval(out["returned"] / d, out["units"] / d)
    unseen = np.zeros(len(out), dtype=bool)
    if prepared.returns_end is not None:
        # placed after the returns file ends: their returns are not in it, so their rate is unknown, not 0%
        first_order = work.assign(d=lines["order_date"].to_numpy()).groupby("period", sort=True)["d"].min()
        unseen = (first_order > prepared.returns_end).to_numpy()
        out.loc[unseen, ["rate", "ci_low", "ci_high"]] = np.nan
    if not len(prepared.arrival.days):
        # no dated returns (an orders export's refunds, a returns file without dates): how much of a recent
        # cohort's returns are in is not known, so its coverage is unknown (not 100%) and no final rate is guessed
        out.loc[out["provisional"].to_numpy(dtype=bool), "coverage"] = np.nan
    shown = (out["provisional"] & (out["coverage"] >= MIN_COVERAGE)).to_numpy() & ~unseen
    est, low, high = expected_final(
        out["returned"].to_numpy(dtype="float64"),
        out["units"].to_numpy(dtype="float64"),
        out["units_arrived"].to_numpy(dtype="float64"),
        matured=(~out["provisional"]).to_numpy() & ~unseen,
        deff=d,
    )
    out["expected_final_rate"] = np.where(shown, est, np.nan)
    out["expected_final_low"] = np.where(shown, low, np.nan)
    out["expected_final_high"] = np.where(shown, high, np.nan)
    lag = pd.DateOffset(months=12) if freq == "M" else pd.Timedelta(weeks=52)
    by_period = out.set_index("period")["rate"]
    prev = by_period.reindex(out["period"] - lag)
    out["rate_same_period_last_year"] = prev.to_numpy()
    out["change_vs_last_year"] = out["rate"] - out["rate_same_period_last_year"]
    for c in ("units", "returned"):  # order-refund weights sum to whole orders up to float error: round, not floor
        out[c] = out[c].round().astype("int64")
    out["orders"] = out["orders"].astype("int64")
    return out[cols]


# ----------------------------------------------------------------------------------------------
# control charts


def _chart_inputs(x: ArrayLike, n: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype="float64")
    n = np.asarray(n, dtype="float64")
    if n.ndim == 0:
        n = np.full_like(x, float(n))
    if x.shape != n.shape or x.ndim != 1:
        raise ValueError("x and n must be one-dimensional and of the same length (n may be one number).")
    if len(x) < 2:
        raise ValueError("A control chart needs at least 2 periods.")
    if (n <= 0).any() or (x < 0).any() or (x > n).any():
        raise ValueError("Each period needs n > 0 and 0 <= x <= n.")
    return x, n


def p_chart(x: ArrayLike, n: ArrayLike, k: float = 3.0) -> pd.DataFrame:
    """Shewhart p-chart with variable subgroup size (Montgomery, ch. 7; METHOD 8).

    centre = sum(x)/sum(n); sigma_i = sqrt(centre(1-centre)/n_i); limits centre +/- k sigma_i, LCL
    floored at 0 (UCL capped at 1); a point is flagged when p_i > UCL or p_i < LCL.
    Columns: x, n, p, centre, sigma, z, lcl, ucl, flagged.

    >>> t = p_chart([40, 44, 22, 34, 24, 32, 28, 32, 34, 30], 200)   # textbook: 0.16 / 0.2378 / 0.0822
    >>> [round(float(t[c][0]), 4) for c in ("centre", "ucl", "lcl")], bool(t["flagged"].any())
    ([0.16, 0.2378, 0.0822], False)
    """
    x, n = _chart_inputs(x, n)
    pbar = x.sum() / n.sum()
    p = x / n
    sigma = np.sqrt(pbar * (1 - pbar) / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, (p - pbar) / sigma, 0.0)
    lcl = np.maximum(pbar - k * sigma, 0.0)
    ucl = np.minimum(pbar + k * sigma, 1.0)
    return pd.DataFrame(
        {
            "x": x,
            "n": n,
            "p": p,
            "centre": pbar,
            "sigma": sigma,
            "z": z,
            "lcl": lcl,
            "ucl": ucl,
            "flagged": (p > ucl) | (p < lcl),
        }
    )


def laney_p_prime(x: ArrayLike, n: ArrayLike, k: float = 3.0) -> pd.DataFrame:
    """Laney p' chart (Laney 2002; Minitab "Methods and formulas for Laney P' chart"; METHOD 8).

    z_i = (p_i - centre)/sigma_i; sigma_z = mean(|z_i - z_{i-1}|)/1.128 (average moving range,
    d2 = 1.128); limits centre +/- k sigma_i sigma_z, LCL floored at 0. Same columns as p_chart
    plus sigma_z and mean_moving_range (constant columns, also in ``.attrs``).
    """
    t = p_chart(x, n, k)
    mr = float(np.mean(np.abs(np.diff(t["z"].to_numpy()))))
    sigma_z = mr / 1.128
    pbar = float(t["centre"].iloc[0])
    sig = t["sigma"].to_numpy() * sigma_z
    lcl = np.maximum(pbar - k * sig, 0.0)
    ucl = np.minimum(pbar + k * sig, 1.0)
    p = t["p"].to_numpy()
    t = t.assign(sigma_z=sigma_z, mean_moving_range=mr, lcl=lcl, ucl=ucl, flagged=(p > ucl) | (p < lcl))
    t.attrs["sigma_z"] = sigma_z
    t.attrs["mean_moving_range"] = mr
    return t


@dataclass(frozen=True, slots=True)
class ControlChart:
    """Which chart was used, why, and its table (period, x, n, p, centre, lcl, ucl, flagged ...)."""

    chart: str  # "p" | "laney"
    reason: str
    table: pd.DataFrame
    sigma_z: float
    n_flagged: int


def control_chart(series: pd.DataFrame, k: float = 3.0, include_provisional: bool = False) -> ControlChart:
    """Control chart of a cohort series (output of cohort_series), choosing p-chart or Laney p'.

    Rule (documented in LANEY_MIN_MEAN_N / LANEY_FLAG_SHARE): use Laney p' when the mean n per
    period is >= 1000 units or the p-chart flags more than 25 % of the points, AND the Laney
    sigma_z exceeds 1 (real over-dispersion). Otherwise the plain p-chart. Provisional (not yet
    matured) cohorts are left out unless ``include_provisional`` - their rates are still rising.
    """
    need = {"returned", "units"}
    if not need.issubset(series.columns):
        raise ValueError("series needs 'returned' and 'units' columns (use cohort_series()).")
    s = series
    if not include_provisional and "provisional" in s.columns:
        s = s[~s["provisional"].astype(bool)]
    s = s[s["units"] > 0]
    if len(s) < 2:
        raise ValueError("A control chart needs at least 2 matured periods with units.")
    x, n = s["returned"].to_numpy(), s["units"].to_numpy()
    pc = p_chart(x, n, k)
    lc = laney_p_prime(x, n, k)
    sigma_z = float(lc.attrs["sigma_z"])
    mean_n = float(np.mean(n))
    share = float(pc["flagged"].mean())
    large = mean_n >= LANEY_MIN_MEAN_N or share > LANEY_FLAG_SHARE
    if large and sigma_z > 1:
        why = (
            f"Laney p' chart: {'periods are large (mean ' + format(mean_n, ',.0f') + ' units)' if mean_n >= LANEY_MIN_MEAN_N else 'the p-chart flagged ' + format(share, '.0%') + ' of periods'}"
            f" and the rate varies {sigma_z:.1f}x more from period to period than chance alone, so the "
            "plain p-chart's limits would be too tight."
        )
        table, chart = lc, "laney"
    else:
        why = "p-chart: " + (
            f"period-to-period variation is no larger than chance (sigma_z {sigma_z:.2f} <= 1)."
            if large
            else f"periods are small (mean {mean_n:,.0f} units) and few points are flagged."
        )
        table, chart = pc.assign(sigma_z=sigma_z), "p"
    if "period" in s.columns:
        table = table.assign(period=s["period"].to_numpy())
        table = table[["period"] + [c for c in table.columns if c != "period"]]
    return ControlChart(chart, why, table.reset_index(drop=True), sigma_z, int(table["flagged"].sum()))


# ----------------------------------------------------------------------------------------------
# trend test


@dataclass(frozen=True, slots=True)
class TrendTest:
    """A steady rise or fall across ordered periods: the quasi-binomial logistic trend test (trend_test)."""

    slope: float  # change in the log-odds of the rate per period
    se: float  # its standard error, inflated by sqrt(dispersion)
    t: float
    df: int  # periods - 2
    p_value: float  # two-sided
    dispersion: float  # the variance factor used: max(1, Pearson X2 / df)
    reference: str  # "t" (dispersion estimated above 1, t with df) or "normal" (binomial variance)
    slope_sign: int  # +1 rising, -1 falling, 0 flat (or untestable)
    periods: int

    @property
    def odds_ratio_per_period(self) -> float:
        return float(np.exp(self.slope))


def _logistic_fit(x: np.ndarray, n: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binomial GLM logit(p_i) = a + b s_i by Newton-Raphson (= IRLS for the canonical link): (coef, p_hat,
    inverse information). Starts at the pooled rate, slope 0; stops when the step is below 1e-12."""
    X = np.column_stack([np.ones_like(s), s])
    pbar = x.sum() / n.sum()
    beta = np.array([np.log(pbar / (1 - pbar)), 0.0])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        info = X.T @ (X * (n * p * (1 - p))[:, None])
        step = np.linalg.solve(info, X.T @ (x - n * p))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    p = 1.0 / (1.0 + np.exp(-(X @ beta)))
    return beta, p, np.linalg.inv(X.T @ (X * (n * p * (1 - p))[:, None]))


def trend_test(x: ArrayLike, n: ArrayLike, scores: ArrayLike | None = None) -> TrendTest:
    """Is there a steady rise or fall over ordered periods, beyond chance and beyond the periods' own
    variation? A quasi-binomial logistic regression of the period counts on the period (METHOD 8).

    Model: logit(p_i) = a + b s_i, fitted by maximum likelihood to x_i returned of n_i (s_i = period
    index by default). Var(x_i) = phi n_i p_i (1 - p_i), phi estimated as X2 / (k - 2) with X2 = sum (x_i -
    n_i p_i)^2 / (n_i p_i (1 - p_i)) the Pearson statistic of the fit (Williams 1982; McCullagh & Nelder
    1989, 4.5). When that estimate exceeds 1: SE(b) = sqrt(phi [I^-1]_bb), I the binomial information,
    and t = b / SE(b) is referred to Student's t with k - 2 df (McCullagh & Nelder 1989, 4.5.2: phi rests
    on k - 2 residual df) - statsmodels' GLM(Binomial, var_weights=n).fit(scale="X2") with a t reference.
    Otherwise phi = 1: the binomial Wald test, z = b / sqrt([I^-1]_bb) against the normal. p is two-sided.

    Why this test: units of one order are returned together (order frailty) and the rate moves from month
    to month for reasons no model names (weather, promotions, the mix of products); both make the monthly
    counts over-dispersed relative to the binomial, and a test that treats every unit as independent
    (Cochran-Armitage, which this replaces) calls steady trends in pure noise: false-positive rate 0.12 with
    order frailty and 0.20 with a 5% month effect at alpha 0.05. Estimating phi from the periods themselves
    absorbs both, and the t reference allows for phi resting on a handful of periods. An estimate below 1
    is chance (returns are not less variable than independent units), so the test is never more liberal
    than the binomial one - the rule the Laney p' chart follows here (control_chart uses sigma_z only
    above 1). By simulation (bench/calibration.py, tests/unit/test_trend_test.py; 1,000 null series of 12
    months, 30,000 units) the false-positive rate at alpha 0.05 is 0.049 with order frailty (gamma, variance
    0.5) and 5% month noise, and 0.02-0.035 with less extra variation (order frailty alone, small months,
    6 months) - at or below nominal; the units-independent test gives 0.21 on the same series.
    Needs at least 3 periods. A rate of 0 or 1 in every period, or one score for all, gives slope 0, p 1.

    >>> r = trend_test([83, 90, 129, 70], [86, 93, 136, 82])
    >>> round(r.slope, 4), round(r.dispersion, 4), round(r.p_value, 4)   # statsmodels GLM: see the test
    (-0.6316, 1.0137, 0.111)
    """
    xa = np.asarray(x, dtype="float64").reshape(-1)
    na = np.asarray(n, dtype="float64").reshape(-1)
    s = np.arange(len(xa), dtype="float64") if scores is None else np.asarray(scores, dtype="float64").reshape(-1)
    if not (len(xa) == len(na) == len(s)):
        raise ValueError("x, n and scores need one value per period.")
    if len(xa) < 3:
        raise ValueError("A trend test needs at least 3 periods.")
    if (na <= 0).any() or (xa < 0).any() or (xa > na).any() or not np.isfinite(np.r_[xa, na, s]).all():
        raise ValueError("Each period needs n > 0 and 0 <= x <= n.")
    k = len(xa)
    flat = TrendTest(0.0, float("nan"), 0.0, k - 2, 1.0, 1.0, "normal", 0, k)
    pbar = xa.sum() / na.sum()
    if pbar <= 0 or pbar >= 1 or np.ptp(s) == 0:
        return flat
    s = s - s.mean()  # centred: the same slope, a better-conditioned fit
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        beta, p, cov = _logistic_fit(xa, na, s)
        pearson = float(np.sum((xa - na * p) ** 2 / (na * p * (1 - p))))
    if not (np.isfinite(beta).all() and np.isfinite(cov).all() and np.isfinite(pearson)):
        return flat  # separation (a period at 0% next to one at 100%): no steady trend to estimate
    phi = max(1.0, pearson / (k - 2))
    se = float(np.sqrt(phi * cov[1, 1]))
    b = float(beta[1])
    t = b / se if se > 0 else 0.0
    reference = "t" if phi > 1.0 else "normal"
    pval = float(2 * (sps.t.sf(abs(t), k - 2) if reference == "t" else sps.norm.sf(abs(t))))
    return TrendTest(b, se, t, k - 2, pval, phi, reference, int(np.sign(b)) if b != 0 else 0, k)


def matured_rate(series: pd.DataFrame) -> float | None:
    """Pooled rate of a cohort series over its matured periods (returned / units); None when nothing matured.

    >>> s = pd.DataFrame({"returned": [10, 30, 5], "units": [100, 100, 10], "provisional": [False, False, True]})
    >>> matured_rate(s)   # (10 + 30) / (100 + 100); the provisional period is left out
    0.2
    """
    m = series[~series["provisional"].astype(bool)]
    units = float(m["units"].sum())
    return float(m["returned"].sum()) / units if len(m) and units else None


def year_on_year_counts(yoy: pd.DataFrame) -> tuple[int, int, float] | None:
    """Of the matured periods that have a period a year earlier: (how many, how many higher, mean change).

    >>> y = pd.DataFrame({"change_vs_last_year": [0.02, -0.01, 0.0, 0.05], "provisional": [False, False, False, True]})
    >>> n, higher, mean = year_on_year_counts(y); n, higher, round(mean, 4)
    (3, 1, 0.0033)
    """
    m = yoy[~yoy["provisional"].astype(bool)]
    if not len(m):
        return None
    return len(m), int((m["change_vs_last_year"] > 0).sum()), float(m["change_vs_last_year"].mean())


def default_periods(series: pd.DataFrame, d_min: date, d_max: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """Two periods to compare by default: the last 3 matured months vs the 3 before (fewer when the data is
    short), as ((a0, a1), (b0, b1)) dates always inside [d_min, d_max]. Data within one month: its first half
    vs its second half.

    >>> from datetime import date
    >>> s = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    ...                   "provisional": [False, False, True]})
    >>> default_periods(s, date(2024, 1, 5), date(2024, 3, 20))
    ((datetime.date(2024, 1, 5), datetime.date(2024, 1, 31)), (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29)))
    """
    months = list(series.loc[~series["provisional"].astype(bool), "period"])
    if len(months) < 2:
        months = list(series["period"])
    if len(months) < 2:
        mid = d_min + (d_max - d_min) / 2
        return (d_min, mid), (min(mid + pd.Timedelta(days=1).to_pytimedelta(), d_max), d_max)
    k = min(3, len(months) // 2)
    b, a = months[-k:], months[-2 * k : -k]

    def end(m: pd.Timestamp) -> date:
        return (m + pd.offsets.MonthEnd(0)).date()

    def inside(d: date) -> date:  # an export may start or end mid-month
        return min(max(d, d_min), d_max)

    return (inside(a[0].date()), inside(end(a[-1]))), (inside(b[0].date()), inside(end(b[-1])))


def _period_scores(period: pd.Series) -> np.ndarray:
    """Elapsed periods since the first: months for month starts, else weeks (a gap counts as a gap)."""
    p = pd.to_datetime(period).reset_index(drop=True)
    if len(p) > 1 and float(p.diff().dt.days.median()) > 20:
        return ((p.dt.year - p.iloc[0].year) * 12 + (p.dt.month - p.iloc[0].month)).to_numpy(dtype="float64")
    return ((p - p.iloc[0]).dt.days / 7.0).round().to_numpy(dtype="float64")


def series_trend(series: pd.DataFrame, include_provisional: bool = False) -> TrendTest:
    """The trend test of the Trends page: trend_test on a cohort series' matured periods with units.

    Counts are those of cohort_series (the one rate of Prepared.rate_columns: returned units / units,
    or refunded orders / orders under order-level refunds). A matured cohort can still miss a few late
    returns (up to 2% at the default window, more when the window hit its 120-day cap), fewer the older it
    is; so each period's returns are completed as returned / coverage (coverage = G(age), the Kaplan-Meier
    arrival curve) before the test, lest the last matured months pull the slope down. Scores are elapsed
    periods (a month without sales leaves a gap).

    >>> s = pd.DataFrame({"period": pd.date_range("2024-01-01", periods=4, freq="MS"), "returned": [83, 90, 129, 70],
    ...                   "units": [86, 93, 136, 82], "coverage": 1.0, "provisional": False})
    >>> round(series_trend(s).p_value, 4)   # = trend_test([83, 90, 129, 70], [86, 93, 136, 82])
    0.111
    """
    s = series if include_provisional else series[~series["provisional"].astype(bool)]
    s = s[s["units"] > 0]
    x = s["returned"].to_numpy(dtype="float64")
    n = s["units"].to_numpy(dtype="float64")
    if "coverage" in s.columns:
        cov = s["coverage"].to_numpy(dtype="float64")
        ok = np.isfinite(cov) & (cov > 0)
        x = np.where(ok, x / np.where(ok, cov, 1.0), x)
        x = np.minimum(x, n)
    scores = _period_scores(s["period"]) if "period" in s.columns and len(s) else None
    return trend_test(x, n, scores)


# ----------------------------------------------------------------------------------------------
# what changed between two periods


def _as_range(r: tuple[object, object], name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        a, b = r
        a, b = pd.Timestamp(a), pd.Timestamp(b)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a (start, end) pair of dates, e.g. ('2024-01-01', '2024-03-31').") from e
    if b < a:
        raise ValueError(f"{name} ends before it starts ({a.date()} > {b.date()}); swap the dates.")
    return a, b


def what_changed(
    prepared: Prepared,
    period_a: tuple[object, object],
    period_b: tuple[object, object],
    dimensions: tuple[str, ...] = ("collection", "category", "channel", "intent"),
    *,
    q_threshold: float = 0.10,
    matured_only: bool = True,
    min_units: int = 1,
) -> pd.DataFrame:
    """Which segments' return rates changed between period A and period B (both (start, end), inclusive).

    For each dimension (one BH family each) and each segment present in either period: the rate in A
    and B as every page defines it for that dimension (``Prepared.rate_columns``: returned / sold units,
    or refunded / all orders where refunds are per order),
    change = rate_b - rate_a with a 95 % Newcombe CI, a two-sided p-value (pooled z or Fisher,
    METHOD 2.2), BH q-value within the dimension, significant = q <= q_threshold (0.10, the METHOD 5
    screening level). Tests and intervals use Rao-Scott effective counts (n / deff, deff from
    per-order sums, floored at 1) so lines of one order are not counted as independent.
    Sorted by |change| x units in B (the number of returns the change represents), largest first.
    Only matured orders are used unless ``matured_only=False``.
    """
    a0, a1 = _as_range(period_a, "period_a")
    b0, b1 = _as_range(period_b, "period_b")
    if not 0 < q_threshold < 1:
        raise ValueError("q_threshold must be between 0 and 1, e.g. 0.10.")
    lines = prepared.mature_lines if matured_only else prepared.lines
    day = lines["order_date"]
    one_day = pd.Timedelta(days=1)  # end dates are inclusive
    in_a = (day >= a0) & (day < a1.normalize() + one_day)
    in_b = (day >= b0) & (day < b1.normalize() + one_day)
    rows = []
    for dim in dimensions:
        if dim not in lines.columns:
            raise ValueError(f"Unknown dimension '{dim}'; use one of {', '.join(DIMENSIONS)}.")
        if not lines[dim].notna().any():
            continue
        x_col, n_col = prepared.rate_columns(dim)  # the rate every other page shows for this dimension
        order_level = x_col != "returned_units"
        fam = []
        for label, mask in (("a", in_a), ("b", in_b)):
            sub = lines.loc[mask & lines[dim].notna(), ["order_id", dim, n_col, x_col]]
            sub = sub.rename(columns={n_col: "n", x_col: "x"}).astype({"n": "float64", "x": "float64"})
            if not sub.empty:
                fam.append(_segment_deffs(sub, dim).assign(period=label))
        if not fam:
            continue
        f = pd.concat(fam, ignore_index=True)
        w = f.pivot_table(index="segment", columns="period", values=["x", "n", "deff"], aggfunc="first")
        w.columns = [f"{a}_{b}" for a, b in w.columns]
        for c in ("x_a", "n_a", "x_b", "n_b"):
            if c not in w.columns:
                w[c] = 0.0
            w[c] = w[c].fillna(0.0)
        for c in ("deff_a", "deff_b"):
            if c not in w.columns:
                w[c] = 1.0
            w[c] = w[c].fillna(1.0)
        w = w[(w["n_a"] >= min_units) & (w["n_b"] >= min_units)]
        if w.empty:
            continue
        ea_x, ea_n = w["x_a"] / w["deff_a"], w["n_a"] / w["deff_a"]
        eb_x, eb_n = w["x_b"] / w["deff_b"], w["n_b"] / w["deff_b"]
        lo, hi = stats.newcombe_diff_interval(eb_x, eb_n, ea_x, ea_n)
        tests = [two_sided_p(*v) for v in zip(eb_x, eb_n, ea_x, ea_n)]
        p = np.array([t[0] for t in tests], dtype="float64")
        q = stats.bh_adjust(p)  # nan (untested) rows stay nan and are not counted in the family
        res = pd.DataFrame(
            {
                "dimension": dim,
                "segment": w.index.astype("string"),
                "unit": "orders" if order_level else "units",
                "n_a": w["n_a"].to_numpy(),
                "returned_a": w["x_a"].to_numpy(),
                "rate_a": (w["x_a"] / w["n_a"]).to_numpy(),
                "n_b": w["n_b"].to_numpy(),
                "returned_b": w["x_b"].to_numpy(),
                "rate_b": (w["x_b"] / w["n_b"]).to_numpy(),
            }
        )
        res["change"] = res["rate_b"] - res["rate_a"]
        res["ci_low"], res["ci_high"] = np.asarray(lo), np.asarray(hi)
        res["p_value"] = p
        res["test"] = [t[1] for t in tests]
        res["q_value"] = q
        res["significant"] = np.nan_to_num(q, nan=1.0) <= q_threshold
        res["deff"] = np.maximum(w["deff_a"].to_numpy(), w["deff_b"].to_numpy())
        res["returns_represented"] = res["change"] * res["n_b"]
        rows.append(res)
    cols = [
        "dimension",
        "segment",
        "unit",
        "n_a",
        "returned_a",
        "rate_a",
        "n_b",
        "returned_b",
        "rate_b",
        "change",
        "ci_low",
        "ci_high",
        "p_value",
        "test",
        "q_value",
        "significant",
        "deff",
        "returns_represented",
    ]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    out = pd.concat(rows, ignore_index=True)
    out = out.iloc[np.argsort(-out["returns_represented"].abs().to_numpy(), kind="stable")].reset_index(drop=True)
    return out[cols]
