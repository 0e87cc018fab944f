"""Headline figures with change vs the previous period, the monthly trend, and a plain-language summary."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.prepare import DIMENSION_LABELS, INTENT_LABELS, Prepared


@dataclass(frozen=True, slots=True)
class Headline:
    unit_rate: float
    unit_rate_prev: float | None
    order_rate: float
    order_rate_prev: float | None
    returned_value: float
    exchange_share: float
    saved_revenue: float
    period_label: str
    units: int
    returned: int
    orders: int


def _rates(lines: pd.DataFrame, orders: pd.DataFrame) -> tuple[float, float]:
    u = lines["quantity"].sum()
    r = lines["returned_units"].sum()
    o = len(orders)
    ro = int(orders["any_return"].sum()) if o else 0
    return (float(r / u) if u else float("nan"), float(ro / o) if o else float("nan"))


def headline(prepared: Prepared, period_days: int = 90) -> Headline:
    """Matured rates overall, and the latest `period_days` of matured orders vs the `period_days` before.

    Only orders whose return window has closed count, so the comparison is not biased by open windows.
    Returned value is the refunded (or, without refunds, priced) value of returned units; saved revenue
    is the value of returned units resolved by exchange or store credit (kept in the business).
    """
    lines = prepared.mature_lines
    orders = prepared.mature_orders
    unit_rate, order_rate = _rates(lines, orders)
    prev_u = prev_o = None
    label = "no earlier period"
    if len(lines):
        end = lines["order_date"].max()
        start = end - pd.Timedelta(days=period_days)
        pstart = start - pd.Timedelta(days=period_days)
        cur_l = lines[lines["order_date"] > start]
        cur_o = orders[orders["order_date"] > start]
        prev_l = lines[(lines["order_date"] > pstart) & (lines["order_date"] <= start)]
        prev_o = orders[(orders["order_date"] > pstart) & (orders["order_date"] <= start)]
        if len(prev_l) and lines["order_date"].min() <= pstart + pd.Timedelta(days=7):
            cu, co = _rates(cur_l, cur_o)
            prev_u, prev_o_rate = _rates(prev_l, prev_o)
            unit_rate_cur, order_rate_cur = cu, co
            label = f"last {period_days} matured days vs the {period_days} before"
            return Headline(unit_rate_cur, prev_u, order_rate_cur, prev_o_rate, *_value_parts(lines), label,
                            int(cur_l["quantity"].sum()), int(cur_l["returned_units"].sum()), len(cur_o))
    return Headline(unit_rate, prev_u, order_rate, prev_o, *_value_parts(lines), label,
                    int(lines["quantity"].sum()), int(lines["returned_units"].sum()), len(orders))


def _value_parts(lines: pd.DataFrame) -> tuple[float, float, float]:
    returned_value = float(lines["returned_value"].sum()) if "returned_value" in lines else float("nan")
    ret_units = float(lines["returned_units"].sum())
    exch = float(lines["exchange_units"].sum())
    credit = float(lines["store_credit_units"].sum())
    exchange_share = exch / ret_units if ret_units else float("nan")
    price = lines["unit_price"]
    saved = float(((lines["exchange_units"] + lines["store_credit_units"]) * price).sum()) if price.notna().any() else float("nan")
    return returned_value, exchange_share, saved


def monthly(prepared: Prepared) -> pd.DataFrame:
    """Monthly unit return rate by order month: units, returned, rate, and whether the month is provisional."""
    lines = prepared.lines
    if lines.empty:
        return pd.DataFrame(columns=["month", "units", "returned", "rate", "provisional"])
    g = lines.groupby("month").agg(units=("quantity", "sum"), returned=("returned_units", "sum"),
                                   mature=("mature", "all")).reset_index()
    g["rate"] = g["returned"] / g["units"]
    g["provisional"] = ~g["mature"]
    return g.drop(columns="mature")


def plain_summary(prepared: Prepared, totals: dict, fix_list: pd.DataFrame, segments: pd.DataFrame) -> list[str]:
    """Three to five sentences a leader could read aloud."""
    out: list[str] = []
    ur, orr = totals.get("unit_return_rate"), totals.get("order_return_rate")
    if ur is not None and not np.isnan(ur):
        s = (f"Returns are {ur:.1%} of units sold and {orr:.1%} of orders have at least one return "
             f"({totals.get('units_returned', 0):,.0f} of {totals.get('units_sold', 0):,.0f} units, orders up to "
             f"{prepared.cutoff_date:%d %b %Y} whose return window has closed).")
        out.append(s)
    if fix_list is not None and len(fix_list):
        top = fix_list.iloc[0]
        name = INTENT_LABELS.get(str(top["segment"]), str(top["segment"]))
        dim = DIMENSION_LABELS.get(str(top["dimension"]), str(top["dimension"])).lower()
        reasons = top.get("top_reasons")
        first = reasons[0] if isinstance(reasons, (list, tuple)) and len(reasons) else (reasons or "")
        reason_txt = f", mostly {str(first).split('(')[0].strip().lower()}" if first else ""
        out.append(f"The biggest avoidable cost is {name} ({dim}): it returns {top['return_rate']:.0%} against "
                   f"{top['baseline_rate']:.0%} for the rest (significant){reason_txt}, about "
                   f"{top['excess_returns']:,.0f} more returns than expected.")
        if len(fix_list) > 1:
            others = ", ".join(INTENT_LABELS.get(str(s), str(s)) for s in fix_list["segment"].iloc[1:4])
            out.append(f"Next on the fix list: {others}.")
    else:
        out.append("No segment returns significantly more than the rest once chance is allowed for.")
    if segments is not None and len(segments) and "direction" in segments:
        n_sig = int((segments["direction"] == "higher").sum())
        n_noise = int(((segments["direction"].isna()) & (segments["dimension"] != "combination")).sum())
        out.append(f"{n_sig} segments are clearly above the rest; {n_noise} differences are within noise and need no action.")
    es = totals.get("exchange_share")
    if es is not None and not np.isnan(es):
        out.append(f"{es:.0%} of returned units were exchanged rather than refunded.")
    return out[:5]
