"""Concentration and outliers: when a few orders carry a large share of returned (or sold) units.

On wholesale data one order can dominate every unit-weighted number: in the Online Retail II export
(Dec 2009 - Nov 2010) order 518505 sold 87,167 units and 86,795 came back on one credit note - 60%
of all returned units of the year. A unit return rate, its month-on-month change and every segment
holding that order's products then describe one customer's decision, not the business.

concentration() finds the smallest group of at most ``max_orders`` orders whose share of matured
returned units (or of matured units sold) reaches ``min_share``, and says so in plain words, with the
rate the business would have without them; drop_orders() gives the view without them.

noise_reason() puts a "within noise" verdict into words (why the test could not tell), from the
columns analysis.segments.segment_table already returns; agree_with_interval() keeps a verdict's
colour consistent with the 95% interval drawn for it.

This module never imports streamlit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, SupportsFloat

import numpy as np
import pandas as pd

from analysis.prepare import RETURNS_LOADED, Prepared
from analysis.segments import line_codes

MIN_SHARE = 0.25  # a few orders holding a quarter of the units is worth saying first
MAX_ORDERS = 3  # "a few": beyond three orders it is a segment, not an outlier
MIN_RETURNING_ORDERS = 5  # the same threshold as analysis.segments: below it everything is "a few orders"
NUMBER_WORDS = {1: "One order", 2: "Two orders", 3: "Three orders"}


# a period (month, week) is small: three orders of 2-3 returned units can be a quarter of it by chance. Its few
# orders are named only when each returns at least this many times what the period's median returning order does
LARGE_ORDER = 10


def order_ref(order_id: object) -> str:
    """An order number as written in a sentence: with one '#' (Shopify's names already start with it).

    >>> order_ref("#1012"), order_ref(518505)
    ('#1012', '#518505')
    """
    text = str(order_id).strip()
    return text if text.startswith("#") else f"#{text}"


@dataclass(frozen=True, slots=True)
class Concentration:
    """A few orders that carry ``share`` of the data's ``basis`` ("returned units" or "units sold").

    orders: their order ids, largest first; units_sold / units_returned: per order; part / total: the
    units of these orders and of all matured orders on the basis; rate_with / rate_without: the unit
    return rate (returned units / units sold, matured orders) with and without these orders;
    credit_notes: the return ids (credit notes, RMAs) their returns were booked on, when recorded.
    """

    basis: str
    orders: tuple[str, ...]
    units_sold: tuple[int, ...]
    units_returned: tuple[int, ...]
    share: float
    part: float
    total: float
    rate_with: float
    rate_without: float
    credit_notes: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        """E.g. "One order (#518505, 87,167 units sold) is 60% of all returned units: 86,795 of 144,662,
        booked on one credit note (C524235). Without it the unit return rate is 1.7%, not 4.2%; ..." """
        k = len(self.orders)
        if k == 1:
            who = f"One order ({order_ref(self.orders[0])}, {self.units_sold[0]:,} units sold)"
            verb, pron = "is", "it"
        else:
            ids = ", ".join(order_ref(o) for o in self.orders)
            who = f"{NUMBER_WORDS.get(k, f'{k} orders')} ({ids}; {int(sum(self.units_sold)):,} units sold)"
            verb, pron = "are", "them"
        note = ""
        if self.basis == "returned units" and self.credit_notes:
            n = len(self.credit_notes)
            note = (
                f", booked on one credit note ({self.credit_notes[0]})"
                if n == 1
                else f", booked on {n:,} credit notes or returns"
            )
        of_what = "all returned units" if self.basis == "returned units" else "all units sold"
        text = f"{who} {verb} {self.share:.0%} of {of_what}: {self.part:,.0f} of {self.total:,.0f}{note}."
        if math.isfinite(self.rate_without) and math.isfinite(self.rate_with):
            text += (
                f" Without {pron} the unit return rate is {self.rate_without:.1%}, not {self.rate_with:.1%}; "
                "rates and changes over time that include "
                + pron
                + " describe "
                + ("that order" if k == 1 else "those orders")
                + " more than the business."
            )
        return text


def _per_order(prepared: Prepared) -> tuple[pd.DataFrame, Any]:
    """(units sold and returned per mature order, indexed by order code in order of first appearance; the order
    ids as text by code). Grouped on integer codes: the text of only the orders a finding names is made."""
    L = prepared.mature_lines
    if L.empty:
        return pd.DataFrame(columns=["sold", "returned"]), np.array([], dtype=object)
    codes, ids = line_codes(prepared, "order_id")  # the mature lines' order codes, computed once per Prepared
    g = L.groupby(codes, sort=False)
    per = pd.DataFrame(
        {"sold": g["quantity"].sum().astype("float64"), "returned": g["returned_units"].sum().astype("float64")}
    )
    return per, ids


def _smallest_group(values: pd.Series, min_share: float, max_orders: int) -> list[str]:
    total = float(values.sum())
    if total <= 0:
        return []
    top = values.sort_values(ascending=False, kind="stable").head(max_orders)
    cum = top.cumsum() / total
    hit = np.flatnonzero(cum.to_numpy() >= min_share)
    return [] if not len(hit) else list(top.index[: hit[0] + 1])


def concentration(
    prepared: Prepared, *, min_share: float = MIN_SHARE, max_orders: int = MAX_ORDERS
) -> list[Concentration]:
    """Findings (0, 1 or 2: returned units first, then units sold) of a few orders dominating the data.

    For each basis, the top ``max_orders`` orders by units are taken largest first and the smallest
    prefix whose share of the matured total reaches ``min_share`` is reported. A basis is only checked
    when at least MIN_RETURNING_ORDERS orders have a return (for returned units) - with fewer, every
    rate already rests on a handful of orders and the segment verdicts say so. The units-sold finding is
    left out when it names the same orders as the returned-units finding.

    >>> from data.demo import generate_dataset
    >>> from analysis.prepare import prepare
    >>> concentration(prepare(generate_dataset(seed=1, n_orders=2000)))  # many small orders: nothing to say
    []
    """
    if not 0 < min_share <= 1:
        raise ValueError("min_share is a share of units between 0 and 1, e.g. 0.25.")
    if max_orders < 1:
        raise ValueError("max_orders must be at least 1.")
    po, labels = _per_order(prepared)
    if po.empty:
        return []
    sold_all, ret_all = float(po["sold"].sum()), float(po["returned"].sum())
    # no returns loaded: the rate is not known, not 0 (the units-sold finding is still said, without rates)
    unknown = prepared.outcome == "line_return" and not prepared.has(RETURNS_LOADED)
    rate_all = ret_all / sold_all if sold_all > 0 and not unknown else float("nan")
    out: list[Concentration] = []
    seen: set[tuple[str, ...]] = set()
    for basis, col, total in (("returned units", "returned", ret_all), ("units sold", "sold", sold_all)):
        if col == "returned" and int((po["returned"] > 0).sum()) < MIN_RETURNING_ORDERS:
            continue
        if col == "sold" and len(po) < MIN_RETURNING_ORDERS:
            continue
        codes = _smallest_group(po[col], min_share, max_orders)
        ids = [str(labels[c]) for c in codes]
        if not ids or tuple(ids) in seen:
            continue
        seen.add(tuple(ids))
        sub = po.loc[codes]
        part = float(sub[col].sum())
        s_wo, r_wo = sold_all - float(sub["sold"].sum()), ret_all - float(sub["returned"].sum())
        notes: tuple[str, ...] = ()
        rets = prepared.returns
        if len(rets) and "return_id" in rets.columns:
            mine = rets[rets["order_id"].astype(str).isin(ids)]
            notes = tuple(str(v) for v in pd.unique(mine["return_id"].dropna()))
        out.append(
            Concentration(
                basis=basis,
                orders=tuple(ids),
                units_sold=tuple(int(round(v)) for v in sub["sold"]),
                units_returned=tuple(int(round(v)) for v in sub["returned"]),
                share=part / total if total else 0.0,
                part=part,
                total=total,
                rate_with=rate_all,
                rate_without=r_wo / s_wo if s_wo > 0 and not unknown else float("nan"),
                credit_notes=notes,
            )
        )
    return out


def concentration_sentences(
    prepared: Prepared, *, min_share: float = MIN_SHARE, max_orders: int = MAX_ORDERS
) -> list[str]:
    """The plain sentences of :func:`concentration` (empty when no few orders dominate)."""
    return [c.sentence for c in concentration(prepared, min_share=min_share, max_orders=max_orders)]


def outlier_orders(findings: list[Concentration]) -> tuple[str, ...]:
    """Every order named by the findings, once, in order of appearance."""
    seen: list[str] = []
    for c in findings:
        seen += [o for o in c.orders if o not in seen]
    return tuple(seen)


def drop_orders(prepared: Prepared, orders: Iterable[object]) -> Prepared:
    """The same Prepared without the given orders (their lines, order rows and returns).

    The return window, cutoff and maturity flags are kept (they describe the whole file); the
    count of immature orders excluded is reduced by any immature order dropped.
    """
    ids = {str(o) for o in orders}
    if not ids:
        return prepared
    lines, ords, rets = prepared.lines, prepared.orders, prepared.returns
    lk = ~lines["order_id"].astype(str).isin(ids)
    ok = ~ords["order_id"].astype(str).isin(ids)
    dropped_immature = int((~ords["mature"].astype(bool) & ~ok).sum()) if "mature" in ords.columns else 0
    return dataclasses.replace(
        prepared,
        lines=lines[lk.to_numpy()],
        orders=ords[ok.to_numpy()],
        returns=rets[~rets["order_id"].astype(str).isin(ids).to_numpy()] if len(rets) else rets,
        immature_orders_excluded=max(0, int(prepared.immature_orders_excluded) - dropped_immature),
    )


# ---------------------------------------------------------------- verdicts in words


def _f(v: SupportsFloat | str | None) -> float:
    if v is None:
        return float("nan")
    try:
        x = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return x


def noise_reason(row: Mapping[str, Any]) -> str:
    """Why a segment is "within noise", in words; "" for other verdicts.

    Uses the columns of analysis.segments.segment_table: orders_returned (orders with a returned unit
    of the segment), returned, n, deff (Rao-Scott design effect), test, ci_low/ci_high (the clustered
    95% interval drawn) and baseline_rate (its comparison group's rate).

    >>> noise_reason({"verdict": "within noise", "orders_returned": 2, "returned": 7128, "n": 7804})
    'these 7,128 returned units come from 2 orders'
    """
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    if str(get("verdict", "")) != "within noise":
        return ""
    k = _f(get("orders_returned"))
    x, n, deff = _f(get("returned")), _f(get("n")), _f(get("deff"))
    if math.isfinite(k) and k < MIN_RETURNING_ORDERS:
        if k <= 0 or not math.isfinite(x) or x <= 0:
            return "no returns yet"
        units = f"these {x:,.0f} returned units" if x > 1 else "this returned unit"
        return f"{units} come{'s' if x <= 1 else ''} from {k:,.0f} order{'s' if k != 1 else ''}"
    lo, hi, base = _f(get("ci_low")), _f(get("ci_high")), _f(get("baseline_rate"))
    if str(get("test", "")) == "one order carries most returns":
        tx = _f(get("top_x"))
        share = f"{tx / x:.0%} of " if math.isfinite(tx) and math.isfinite(x) and x > 0 else "most of "
        return f"one order carries {share}these returns; without it the rest is not clearly higher"
    if str(get("test", "")) == "orders vs units disagree":
        rate = x / n if math.isfinite(x) and math.isfinite(n) and n > 0 else float("nan")
        if math.isfinite(rate) and math.isfinite(base) and rate < base:
            return (
                "by units it returns less, but its orders are returned more often than others: "
                "a few large orders carry the units"
            )
        return (
            "by units it returns more, but its orders are not returned more often than others: "
            "a few large orders carry the units"
        )
    if math.isfinite(deff) and deff >= 4 and math.isfinite(n) and n > 0:
        return (
            f"its {n:,.0f} units come in large orders that return together, so they weigh like about "
            f"{n / deff:,.0f} separate units"
        )
    if all(math.isfinite(v) for v in (lo, hi, base)) and lo <= base <= hi:
        return f"its 95% interval ({lo:.1%} to {hi:.1%}) includes the comparison rate {base:.1%}"
    if math.isfinite(n) and n < 100:
        return f"only {n:,.0f} units: too few to tell"
    return "the difference is small enough to be chance once every segment compared is allowed for"


def agree_with_interval(seg: pd.DataFrame, comparison: pd.Series | float | None = None) -> pd.DataFrame:
    """Verdicts that agree with the interval drawn: a "clearly higher" (or "higher (borderline)") whose
    95% interval reaches the comparison rate, or a "clearly lower" whose interval reaches it, becomes
    "within noise" with the reason in ``noise_reason``.

    comparison: the rate each bar is drawn against (default: the segment's baseline_rate, its
    comparison group). Returns a copy with columns verdict and noise_reason.
    """
    out = seg.copy()
    if out.empty or "verdict" not in out.columns:
        out["noise_reason"] = pd.Series(dtype=object)
        return out
    comp = out["baseline_rate"] if comparison is None else comparison
    comp = (
        pd.Series(comp, index=out.index, dtype="float64") if not isinstance(comp, pd.Series) else comp.astype("float64")
    )
    lo, hi = out["ci_low"].astype("float64"), out["ci_high"].astype("float64")
    v = out["verdict"].astype(object)
    up = v.isin(["clearly higher", "higher (borderline)"]) & (lo <= comp)
    down = (v == "clearly lower") & (hi >= comp)
    reach = (up | down).fillna(False)
    out["noise_reason"] = ""
    if reach.any():
        out.loc[reach, "verdict"] = "within noise"
        out.loc[reach, "noise_reason"] = [
            f"its 95% interval ({a:.1%} to {b:.1%}) reaches the comparison rate {c:.1%}"
            for a, b, c in zip(lo[reach], hi[reach], comp[reach])
        ]
    rest = (out["verdict"] == "within noise") & ~reach
    if rest.any():
        out.loc[rest, "noise_reason"] = [noise_reason(r) for r in out.loc[rest].to_dict("records")]
    return out


PERIOD_CONCENTRATION_COLUMNS = [
    "period",
    "provisional",
    "orders",
    "n_orders",
    "units_sold",
    "returned",
    "period_returned",
    "share",
    "rate",
    "rate_without",
]


def period_concentration(
    prepared: Prepared,
    freq: str = "M",
    dimension: str | None = None,
    segment: object = None,
    *,
    min_share: float = MIN_SHARE,
    max_orders: int = MAX_ORDERS,
) -> pd.DataFrame:
    """Per order-date cohort of analysis.trends.cohort_series, the few orders that carry its returned units.

    The same rule as :func:`concentration`, applied to each period's orders (matured and provisional, as
    the trend chart draws them): the smallest group of at most ``max_orders`` orders, largest first, whose
    share of the period's returned units (the rate's numerator, ``Prepared.rate_columns``) reaches
    ``min_share``; periods with fewer than MIN_RETURNING_ORDERS orders with a return are not checked (every
    rate there rests on a handful of orders). A period is small, so each order named must also be large: at
    least LARGE_ORDER times the returned units of the period's median order with a return (in a demo month,
    three orders of 2-3 returned units can be a quarter of its 28 by chance; that is noise, not an outlier). On wholesale data one order can make a month: in the Online
    Retail II export, order 518505 is 95% of August 2010's returned units (19.4% returned so far; 1.2%
    without it), an order too recent for the matured figures, so only the trend shows it.

    Columns (PERIOD_CONCENTRATION_COLUMNS), one row per period with a finding, in period order: period,
    provisional, orders (their ids, largest first, as a tuple), n_orders, units_sold and returned (of those
    orders), period_returned, share (of the period's returned units), rate (the period's) and rate_without
    (the period's rate without those orders; nan when they are all its units).

    >>> from data.demo import generate_dataset
    >>> from analysis.prepare import prepare
    >>> len(period_concentration(prepare(generate_dataset(seed=1, n_orders=2000))))  # small orders: nothing
    0
    """
    from analysis.trends import period_start  # trends imports scipy.stats; only the trend views need this

    if freq not in ("M", "W"):
        raise ValueError(f"freq must be 'M' (months) or 'W' (weeks), not {freq!r}.")
    if not 0 < min_share <= 1:
        raise ValueError("min_share is a share of units between 0 and 1, e.g. 0.25.")
    if max_orders < 1:
        raise ValueError("max_orders must be at least 1.")
    lines = prepared.lines
    if dimension is not None:
        lines = lines[lines[dimension] == segment]
    if lines.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in PERIOD_CONCENTRATION_COLUMNS})
    xcol, ncol = prepared.rate_columns(dimension)
    codes, labels = pd.factorize(lines["order_id"].astype("string"), sort=True)
    per = (
        pd.DataFrame(
            {
                "period": period_start(lines["order_date"], freq),
                # order codes sorted as the ids' text sorts: the groups (and so the ties among equal orders)
                # come in the order of the text's sort, without a Python string per line
                "order_id": codes,
                "x": lines[xcol].to_numpy(dtype="float64"),
                "n": lines[ncol].to_numpy(dtype="float64"),
                "immature": ~lines["mature"].to_numpy(dtype=bool),
            }
        )
        .groupby(["period", "order_id"], sort=True)
        .agg(x=("x", "sum"), n=("n", "sum"), immature=("immature", "any"))
        .reset_index()
    )
    rows = []
    for period, g in per.groupby("period", sort=True):
        x_all, n_all = float(g["x"].sum()), float(g["n"].sum())
        if int((g["x"] > 0).sum()) < MIN_RETURNING_ORDERS or x_all <= 0 or n_all <= 0:
            continue
        picked = _smallest_group(g.set_index("order_id")["x"], min_share, max_orders)
        if not picked:
            continue
        top = g.set_index("order_id").loc[picked]
        ids = [str(labels[c]) for c in picked]
        if float(top["x"].min()) < LARGE_ORDER * float(g["x"][g["x"] > 0].median()):
            continue
        x_top, n_top = float(top["x"].sum()), float(top["n"].sum())
        rows.append(
            {
                "period": period,
                "provisional": bool(g["immature"].any()),
                "orders": tuple(ids),
                "n_orders": len(ids),
                "units_sold": int(round(n_top)),
                "returned": int(round(x_top)),
                "period_returned": int(round(x_all)),
                "share": x_top / x_all,
                "rate": x_all / n_all,
                "rate_without": (x_all - x_top) / (n_all - n_top) if n_all > n_top else float("nan"),
            }
        )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in PERIOD_CONCENTRATION_COLUMNS})
    return pd.DataFrame(rows, columns=PERIOD_CONCENTRATION_COLUMNS)
