"""When have an order's returns all come back? Days-to-return with censoring (Kaplan-Meier), the return
window and the completion factor of recent cohorts (METHOD 1 and 8).

Observed days-to-return are right-censored: an order placed 20 days before the end of the data can only
show returns that took at most 20 days, so the plain distribution of observed delays has too few long
delays, and a window taken as its 95th percentile is too short (on the demo 4.6% of returns arrived after
the old window). Here every sold line is followed from its order date to the end of the data (the
follow-up): a returned line is an event at the delay of its first return, an unreturned line is censored
at its follow-up. The product-limit (Kaplan-Meier) estimator then gives F(t), the share of lines returned
by day t, using at each day only the lines that could have been seen returning that late (Kaplan & Meier
1958; Klein & Moeschberger 2003, ch. 4). Lines, not units, are the cases, so one credit note of thousands
of units does not make the curve. Most lines are never returned, so F levels off at the eventual return
share; the arrival curve G(t) = F(t) / F(t_max) is the share of the eventual returns that arrived by day
t, assuming returns arrive within the longest follow-up in the data (t_max: a year of orders covers delays
up to a year).

* ``return_window``: the day by which a share ``WINDOW_QUANTILE`` (98%) of the eventual returns have
  arrived, G^-1(0.98), bounded to [MIN_WINDOW, MAX_WINDOW];
* ``ArrivalCurve.at``: G(age), the completion factor of a cohort's lines: sum(units x G(age)) is the exposure a
  recent cohort's returns so far come from (analysis.trends.expected_final completes the cohort with it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

WINDOW_QUANTILE = 0.98  # share of the eventual returns that must have arrived before an order counts as mature
MIN_WINDOW, MAX_WINDOW = 14, 120
DEFAULT_WINDOW_DAYS = 30
MIN_RETURNS_FOR_WINDOW = 20  # fewer dated returns than this: the default window


def kaplan_meier(time: ArrayLike, event: ArrayLike, weight: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Product-limit estimate of the survival function S(t) = P(T > t), with case weights.

    At each distinct event time t_j: d_j = weight of the events at t_j, r_j = weight of the cases with time
    >= t_j (an event and a censoring at the same time: the censored case is still at risk, the usual
    convention), S(t_j) = prod_{i <= j} (1 - d_i / r_i) (Kaplan & Meier 1958, eq. 2; Klein & Moeschberger
    2003, 4.2). Returns (event times ascending, S just after each); S is 1 before the first event time.
    Weights are frequencies (units): a line of 3 unreturned units is 3 censored units.

    >>> t, s = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    >>> t.tolist(), [round(float(v), 4) for v in s]   # by hand: 4/5; x (1 - 1/4); x (1 - 1/2)
    ([1.0, 2.0, 3.0], [0.8, 0.6, 0.3])
    """
    t = np.asarray(time, dtype="float64").reshape(-1)
    e = np.asarray(event).astype(bool).reshape(-1)
    w = np.ones_like(t) if weight is None else np.asarray(weight, dtype="float64").reshape(-1)
    if not (len(t) == len(e) == len(w)):
        raise ValueError("time, event and weight must have one value per case.")
    if len(t) and (np.isnan(t).any() or (w < 0).any()):
        raise ValueError("Times must be numbers and weights non-negative.")
    if not len(t):
        return np.array([]), np.array([])
    uniq, inv = _distinct_times(t)
    d = np.bincount(inv, weights=np.where(e, w, 0.0), minlength=len(uniq))
    at = np.bincount(inv, weights=w, minlength=len(uniq))
    r = np.cumsum(at[::-1])[::-1]  # weight with time >= t_j
    has = d > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(r[has] > 0, 1.0 - d[has] / r[has], 1.0)
    return uniq[has], np.cumprod(factor)


def _distinct_times(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(t, return_inverse=True). Times in whole days over a span no wider than the number of cases (days
    to a return, follow-ups) are counted into one slot per day instead of sorted: the same values and positions,
    in linear time (sorting 5M follow-ups cost 5x more per case than 1M).

    >>> [a.tolist() for a in _distinct_times(np.array([3.0, 1.0, 3.0, 7.0]))]
    [[1.0, 3.0, 7.0], [1, 0, 1, 2]]
    """
    lo, hi = float(t.min()), float(t.max())
    if hi - lo > len(t) + 1024 or not np.array_equal(t, np.floor(t)):
        uniq, inv = np.unique(t, return_inverse=True)
        return uniq, inv.reshape(-1)
    slot = (t - lo).astype(np.int64)
    present = np.bincount(slot) > 0
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + lo, rank[slot]


@dataclass(frozen=True, slots=True)
class ArrivalCurve:
    """G(t): share of the eventual returns that have arrived t days after the order (a step function).

    days: the distinct delays with a return (ascending); share: G just after each (the last is 1);
    eventual_rate: F(t_max), the Kaplan-Meier share of units returned by the longest follow-up;
    follow_up_days: that longest follow-up; as_of: the end of the data the ages are counted to (None when
    not built from dated data).
    """

    days: np.ndarray
    share: np.ndarray
    eventual_rate: float
    follow_up_days: float
    as_of: pd.Timestamp | None = None

    def at(self, age_days: ArrayLike) -> np.ndarray:
        """G(age): the share of a unit's eventual returns that have arrived by each age (1 when unknown)."""
        age = np.asarray(age_days, dtype="float64")
        if not len(self.days):
            return np.ones_like(age)
        idx = np.searchsorted(self.days, age, side="right") - 1
        return np.where(idx >= 0, self.share[np.clip(idx, 0, None)], 0.0)

    def quantile(self, q: float) -> float:
        """The first day by which a share q of the eventual returns have arrived (nan without returns)."""
        if not len(self.days):
            return float("nan")
        i = int(np.searchsorted(self.share, q - 1e-12, side="left"))
        return float(self.days[min(i, len(self.days) - 1)])


EMPTY_CURVE = ArrivalCurve(np.array([]), np.array([]), float("nan"), float("nan"))


def arrival_curve(follow_up_days: ArrayLike, delay_days: ArrayLike) -> ArrivalCurve:
    """Kaplan-Meier arrival curve from sold lines (see module doc): one value per line of its follow-up
    (days from the order to the end of the data) and its delay to the first return (NaN: not returned).

    A returned line is an event at its delay, an unreturned one is censored at its follow-up; lines are the
    cases (not units): one credit note of 80,000 units would otherwise be most of the curve. Negative
    delays and follow-ups are dropped. Using the curve for a unit rate assumes a line's delay does not
    depend on how many units it holds.

    >>> c = arrival_curve([10, 10, 10, 10, 2, 2], [2, 10, np.nan, np.nan, np.nan, np.nan])
    >>> c.days.tolist(), [round(float(v), 4) for v in c.share], round(c.eventual_rate, 4)
    ([2.0, 10.0], [0.375, 1.0], 0.4444)

    By hand: day 2, 6 lines at risk (the two followed for 2 days are censored after it), 1 returns:
    S = 5/6; day 10, 3 at risk, 1 returns: S = 5/6 x 2/3 = 5/9, F = 4/9, G(2) = (1/6) / (4/9) = 0.375.
    The plain share of observed delays would put half the returns at day 2: the late return counts for more
    because fewer lines were followed long enough to show it.
    """
    follow = np.asarray(follow_up_days, dtype="float64").reshape(-1)
    delay = np.asarray(delay_days, dtype="float64").reshape(-1)
    if follow.shape != delay.shape:
        raise ValueError("follow_up_days and delay_days must have one value per line.")
    returned = np.isfinite(delay)
    ok = np.isfinite(follow) & (follow >= 0) & ~(returned & (delay < 0))
    returned, follow, delay = returned[ok], follow[ok], delay[ok]
    if not returned.any():
        return EMPTY_CURVE
    days, surv = kaplan_meier(np.where(returned, delay, follow), returned)
    F = 1.0 - surv
    eventual = float(F[-1])
    if not eventual > 0:
        return EMPTY_CURVE
    return ArrivalCurve(days, F / eventual, eventual, float(follow.max()))


GAP_RETURNS = 5.0  # returns the file's own pace expects over a silent stretch before it counts as the file's end


def returns_cover_end(
    line_dates: pd.Series, line_returned: ArrayLike, return_dates: pd.Series | None = None
) -> pd.Timestamp | None:
    """The last day a separate returns file covers, when it ends clearly before the orders do; else None.

    A returns export often covers less time than the orders export (a returns app's last 30 or 90 days beside
    an all-time orders export). Orders placed after it are not "never returned": their returns are not in the
    file. Let t_r be the order date of the last line with a return, and q the share of lines up to t_r that have
    one. Lines ordered after t_r that even the longest return window (MAX_WINDOW days) has closed on should hold
    about q x their number of returned lines; when that is at least GAP_RETURNS and they hold none (Poisson
    P(0) = e^-5 < 1%), the file ended: at its last return date (or t_r when that is later: a return dated
    before its order). The caller counts an order as mature only when its return window closed by then
    (analysis.prepare). With fewer than MIN_RETURNS_FOR_WINDOW returned lines or dated returns nothing is moved
    (undated returns name no end).

    line_dates: order date per sold line; line_returned: whether the line has a matched return; return_dates:
    the matched returns' dates (may be missing).

    >>> d = pd.Series(pd.date_range("2024-01-01", "2024-12-31", freq="D"))
    >>> r = (d <= "2024-06-30") & (d.dt.day % 5 == 0)   # every 5th day's line returned, up to June only
    >>> returns_cover_end(d, r, d[r]), returns_cover_end(d, d.dt.day % 5 == 0, d[d.dt.day % 5 == 0])
    (Timestamp('2024-06-30 00:00:00'), None)
    """
    returned = np.asarray(line_returned, dtype=bool)
    rd = pd.to_datetime(return_dates, errors="coerce").dropna() if return_dates is not None else pd.Series([])
    if int(returned.sum()) < MIN_RETURNS_FOR_WINDOW or len(rd) < MIN_RETURNS_FOR_WINDOW:
        return None  # too few returns to know what to expect, or undated returns: no end to name
    dates = pd.to_datetime(pd.Series(np.asarray(line_dates)))
    t_r = dates[returned].max()
    before = (dates <= t_r).to_numpy()
    q = float(returned[before].sum()) / max(int(before.sum()), 1)
    closed = ((dates > t_r) & (dates <= dates.max() - pd.Timedelta(days=MAX_WINDOW))).to_numpy()
    if float(closed.sum()) * q < GAP_RETURNS:
        return None
    last = rd.max()
    return last if last > t_r else t_r


def data_end(lines: pd.DataFrame, returns: pd.DataFrame, cover_end: pd.Timestamp | None = None) -> pd.Timestamp:
    """The end of the data: the later of the last order and the last return (the last day a return could
    have been seen), or cover_end, the end of a returns file that stops before the orders (returns_cover_end)."""
    if cover_end is not None:
        return cover_end
    as_of = lines["order_date"].max()
    rmax = returns["return_date"].max() if len(returns) else pd.NaT
    return rmax if pd.notna(rmax) and rmax > as_of else as_of


def line_delays(
    lines: pd.DataFrame,
    returns: pd.DataFrame,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
    cover_end: pd.Timestamp | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(follow-up days, delay to the first dated return or NaN) per line of a prepared dataset.

    lines: order_id, sku, order_date, returned_units; returns: order_id, sku, order_date, return_date;
    follow-up = data_end - order date. Lines with returned units but no
    dated return have an unknown delay and are left out (NaN follow-up).
    pairs: (per line, per return) integer codes of (order_id, sku) in one code space, when the caller has
    them (analysis.prepare): the same result without matching the string keys again.
    """
    follow = (data_end(lines, returns, cover_end) - lines["order_date"]).dt.days.to_numpy(dtype="float64")
    days = (returns["return_date"] - returns["order_date"]).dt.days
    if pairs is not None:
        l_pair, r_pair = pairs
        n = int(max(l_pair.max(initial=-1), r_pair.max(initial=-1))) + 1
        first_d = days.groupby(np.asarray(r_pair), sort=False).min()
        d = np.full(n, np.nan)
        d[first_d.index.to_numpy(dtype="int64")] = first_d.to_numpy(dtype="float64")
        d = d[l_pair]
    else:
        first = returns.assign(_d=days).groupby(["order_id", "sku"], sort=False, observed=True)["_d"].min()
        d = (
            lines[["order_id", "sku"]]
            .merge(first.rename("_first"), how="left", left_on=["order_id", "sku"], right_index=True)["_first"]
            .to_numpy(dtype="float64")
        )
    returned = lines["returned_units"].to_numpy() > 0
    d = np.where(returned, d, np.nan)
    follow = np.where(returned & np.isnan(d), np.nan, follow)
    return follow, d


def prepared_arrival_curve(
    lines: pd.DataFrame,
    returns: pd.DataFrame,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
    cover_end: pd.Timestamp | None = None,
) -> ArrivalCurve:
    """The arrival curve of a prepared dataset's lines and matched returns (see line_delays); cover_end: the end
    of a returns file that stops before the orders (lines are followed up to it, not to the last order)."""
    if lines.empty or returns is None or returns.empty or "return_date" not in returns.columns:
        return EMPTY_CURVE
    c = arrival_curve(*line_delays(lines, returns, pairs, cover_end))
    return (
        c
        if not len(c.days)
        else ArrivalCurve(c.days, c.share, c.eventual_rate, c.follow_up_days, data_end(lines, returns, cover_end))
    )


def return_window(curve: ArrivalCurve, n_returns: int, q: float = WINDOW_QUANTILE) -> tuple[int, str]:
    """(window in days, source): G^-1(q) of the Kaplan-Meier arrival curve, rounded up and bounded to
    [MIN_WINDOW, MAX_WINDOW]; the default window ("default") with fewer than MIN_RETURNS_FOR_WINDOW dated returns.

    >>> c = ArrivalCurve(np.array([5.0, 20.0, 40.0]), np.array([0.5, 0.97, 1.0]), 0.1, 300.0)
    >>> return_window(c, 100), return_window(c, 100, q=0.95), return_window(c, 5)
    ((40, 'estimated'), (20, 'estimated'), (30, 'default'))
    """
    if n_returns < MIN_RETURNS_FOR_WINDOW or not len(curve.days):
        return DEFAULT_WINDOW_DAYS, "default"
    w = int(math.ceil(curve.quantile(q)))
    return int(min(max(w, MIN_WINDOW), MAX_WINDOW)), "estimated"
