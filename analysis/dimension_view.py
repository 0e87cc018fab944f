"""What a dimension's segment view shows (bar chart with intervals, funnel plot, table): the segments of one
dimension in the order shown, their rates on the chosen basis, the overall line they are drawn against,
and verdicts that agree with the drawn interval. The dashboard only lays this out (dashboard.segment_views).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analysis.concentration import agree_with_interval
from analysis.segments import order_basis


@dataclass(frozen=True)
class DimensionView:
    segments: pd.DataFrame  # one row per segment, sorted by excess cost (or excess returns), as drawn
    baseline: float  # the overall rate drawn as a line: returned / n over the segments shown (nan when n is 0)
    basis: str  # "units" or "orders": what the rates count
    basis_label: str  # the rate in words ("share of units returned", ...)
    funnel_basis: str  # "units" or "orders": what the funnel plot's volume counts


def dimension_segments(segments: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """The segments of one dimension, largest excess cost first (excess returns when costs are unknown)."""
    d = segments[segments["dimension"] == dimension]
    if "excess_cost" in d and d["excess_cost"].notna().any():
        return d.sort_values("excess_cost", ascending=False, na_position="last")
    return d.sort_values("excess_returns", ascending=False)


def dimension_view(
    segments: pd.DataFrame, dimension: str, *, orders_basis: bool, refunds: bool
) -> DimensionView | None:
    """The view of one dimension (None when it has no segments).

    orders_basis: the user chose orders with a return / orders (Wilson intervals on orders, verdicts still from
    the unit-level test, drawn against the overall line); refunds: the outcome is order-level refunds, whose
    basis is fixed by the data (refunded units / units sold, refunds attributed to items, for every dimension).

    >>> seg = pd.DataFrame({"dimension": ["channel"] * 2, "segment": ["Web", "Store"], "n": [300.0, 100.0],
    ...                     "returned": [30.0, 20.0], "excess_returns": [0.0, 7.5], "basis": ["units"] * 2})
    >>> v = dimension_view(seg, "channel", orders_basis=False, refunds=False)
    >>> list(v.segments["segment"]), v.baseline, v.basis_label
    (['Store', 'Web'], 0.125, 'share of units returned')
    """
    d = dimension_segments(segments, dimension)
    if d.empty:
        return None
    basis = str(d["basis"].iloc[0]) if "basis" in d else "units"
    if refunds:
        basis_label = (
            "share of orders with a customer refund"
            if basis == "orders"
            else "share of units refunded, refunds attributed to items"
        )
    elif orders_basis:
        d = order_basis(d)
        basis_label = "share of orders with a return"
    else:
        basis_label = "share of units returned" if basis == "units" else "share of units returned, orders as the unit"
    n_all, x_all = float(d["n"].sum()), float(d["returned"].sum())
    baseline = x_all / n_all if n_all else math.nan
    # one calculation for colour and interval: a verdict the drawn interval does not show is "within noise",
    # with its reason in words (orders basis: against the overall line drawn)
    d = agree_with_interval(d, comparison=baseline if orders_basis and not refunds else None)
    funnel_basis = "orders" if (orders_basis and not refunds) or basis == "orders" else "units"
    return DimensionView(d, baseline, basis, basis_label, funnel_basis)


def simpson_flips(simpson: pd.DataFrame | None, dimension: str) -> pd.DataFrame | None:
    """The rows of the Simpson check (analysis.segments.simpson_check) for ``dimension`` whose verdict changes
    once intent and channel mix are allowed for; None when the check did not run.

    >>> sim = pd.DataFrame({"dimension": ["collection", "collection", "category"], "segment": ["A", "B", "C"],
    ...                     "disagree": [True, False, True]})
    >>> simpson_flips(sim, "collection")["segment"].tolist()
    ['A']
    """
    if simpson is None or not len(simpson) or "disagree" not in simpson.columns:
        return None
    return simpson[(simpson["dimension"] == dimension) & simpson["disagree"].astype(bool)]
