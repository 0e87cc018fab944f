"""What the Trends page shows, beyond the statistics of analysis.trends: which dimensions can be chosen, the
matured and provisional periods of a cohort series, the control chart's unusual periods, the year-on-year
comparison in counts, and the "what changed" table in percentage points. The page only lays these out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from analysis.prepare import Prepared
from analysis.concentration import drop_orders, order_ref
from analysis.trends import DIMENSIONS, TrendTest, cohort_series, series_trend, year_on_year_counts


def trend_dimensions(prepared: Prepared) -> list[str]:
    """The dimensions of analysis.trends this data has values for."""
    lines = prepared.lines
    return [d for d in DIMENSIONS if prepared.has(d) and bool(lines[d].notna().any())]


def order_date_span(prepared: Prepared) -> tuple[date, date]:
    """First and last order date of the (filtered) lines."""
    d = prepared.lines["order_date"]
    return d.min().date(), d.max().date()


def matured_and_provisional(series: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The periods of a cohort_series split into matured ones and provisional ones (orders still inside the
    return window)."""
    prov = series["provisional"].astype(bool)
    return series[~prov], series[prov]


def same_period_rows(series: pd.DataFrame) -> pd.DataFrame:
    """The periods of a cohort_series that have the same period a year earlier."""
    return series[series["rate_same_period_last_year"].notna()]


def unusual_periods(table: pd.DataFrame) -> pd.DataFrame:
    """The control chart's flagged periods with ``side``: "above the upper" or "below the lower" (limit).

    >>> t = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    ...                   "p": [0.30, 0.10, 0.02], "ucl": [0.2, 0.2, 0.2], "flagged": [True, False, True]})
    >>> unusual_periods(t)["side"].tolist()
    ['above the upper', 'below the lower']
    """
    f = table[table["flagged"].astype(bool)]
    return f.assign(side=["above the upper" if p > u else "below the lower" for p, u in zip(f["p"], f["ucl"])])


@dataclass(frozen=True)
class YearOnYear:
    periods: int  # matured periods with the same period a year earlier
    higher: int
    lower: int
    unchanged: int
    mean_change: float  # average change of the rate, as a proportion (0.01 = 1 percentage point)


def year_on_year(yoy: pd.DataFrame) -> YearOnYear | None:
    """Counts of matured periods higher / lower / unchanged than a year earlier (None when none is matured).

    >>> y = pd.DataFrame({"change_vs_last_year": [0.02, -0.01, 0.0, 0.05], "provisional": [False, False, False, True]})
    >>> year_on_year(y)   # the 0.0 change is neither higher nor lower; the provisional period is left out
    YearOnYear(periods=3, higher=1, lower=1, unchanged=1, mean_change=0.0033333333333333335)
    """
    counts = year_on_year_counts(yoy)
    if counts is None:
        return None
    n, higher, mean_change = counts
    matured = yoy[~yoy["provisional"].astype(bool)]
    lower = int((matured["change_vs_last_year"] < 0).sum())
    return YearOnYear(n, higher, lower, n - higher - lower, mean_change)


def significant_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """The rows of analysis.trends.what_changed whose change is beyond chance."""
    return changes[changes["significant"].astype(bool)]


def changes_in_points(changes: pd.DataFrame, top: int = 40) -> pd.DataFrame:
    """The first ``top`` rows of what_changed with change and its interval in percentage points (x 100).

    >>> changes_in_points(pd.DataFrame({"change": [0.012], "ci_low": [-0.005], "ci_high": [0.03]}))["change"].tolist()
    [1.2]
    """
    view = changes.head(top).copy()
    for c in ("change", "ci_low", "ci_high"):
        view[c] = 100 * view[c]
    return view


def _period_label(period: pd.Timestamp, unit_word: str) -> str:
    return f"{period:%b %Y}" if unit_word == "month" else f"the week of {period:%d %b %Y}"


def _orders_words(row: pd.Series) -> str:
    ids = ", ".join(order_ref(o) for o in row["orders"])
    k = int(row["n_orders"])
    who = {1: "one order", 2: "two orders", 3: "three orders"}.get(k, f"{k} orders")
    return f"{who} ({ids}; {int(row['units_sold']):,} units sold)"


def concentration_note(
    conc: pd.DataFrame, n_periods: int, unit_word: str = "month", listed: str = "the table below lists them"
) -> str | None:
    """The sentence under a trend chart when a few orders carry some periods' returned units
    (analysis.concentration.period_concentration), naming the period they carry most; None when none do.
    ``listed`` says where the other periods are listed (when there are several).

    >>> c = pd.DataFrame({"period": [pd.Timestamp("2010-08-01")], "provisional": [True], "orders": [("518505",)],
    ...     "n_orders": [1], "units_sold": [87167], "returned": [86795], "period_returned": [91505],
    ...     "share": [0.9485], "rate": [0.1939], "rate_without": [0.0122]})
    >>> print(concentration_note(c, 12))
    Aug 2010 (provisional): one order (#518505; 87,167 units sold) holds 95% of its returned units (86,795 of 91,505); without it the month's rate is 1.2%, not 19.4%. That point describes the order more than the business.
    """
    if conc is None or conc.empty:
        return None
    top = conc.loc[conc["share"].idxmax()]
    when = _period_label(top["period"], unit_word) + (" (provisional)" if bool(top["provisional"]) else "")
    if len(conc) == 1:  # the sentence opens with it
        when = when[0].upper() + when[1:]
    k = int(top["n_orders"])
    verb, pron = ("holds", "it") if k == 1 else ("hold", "them")
    worst = (
        f"{when}: {_orders_words(top)} {verb} {top['share']:.0%} of its returned units "
        f"({int(top['returned']):,} of {int(top['period_returned']):,})"
    )
    if pd.notna(top["rate_without"]):
        worst += f"; without {pron} the {unit_word}'s rate is {top['rate_without']:.1%}, not {top['rate']:.1%}"
    if len(conc) == 1:
        return worst + f". That point describes {'the order' if k == 1 else 'those orders'} more than the business."
    return (
        f"In {len(conc)} of {n_periods} {unit_word}s, three orders or fewer hold a quarter or more of the "
        f"{unit_word}'s returned units, so {unit_word}-to-{unit_word} moves here describe a few orders more "
        f"than the business ({listed}). The most: {worst}."
    )


def carrier_orders(conc: pd.DataFrame) -> tuple[str, ...]:
    """The orders that carry a matured period (analysis.concentration.period_concentration's rows that are not
    provisional), each once, in the order named."""
    if conc is None or conc.empty:
        return ()
    return tuple(dict.fromkeys(o for t in conc.loc[~conc["provisional"].astype(bool), "orders"] for o in t))


def trend_without_carriers(
    prepared: Prepared,
    orders: tuple[str, ...],
    freq: str = "M",
    dimension: str | None = None,
    segment: object = None,
) -> TrendTest | None:
    """The Trends page's trend test again without ``orders`` (carrier_orders: those that carry a matured period),
    so the verdict can say whether it rests on them; None without orders or when fewer than 3 matured periods
    remain. On the real Online Retail II export the rising trend (p = 0.021) holds without the 13 orders that
    carry seven matured months (p = 0.025)."""
    if not orders:
        return None
    series = cohort_series(drop_orders(prepared, orders), freq, dimension, segment)
    matured = series[~series["provisional"].astype(bool) & (series["units"] > 0)] if len(series) else series
    if len(matured) < 3:
        return None
    return series_trend(series)
