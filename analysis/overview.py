"""Headline figures with change vs the previous period, the monthly trend, and a plain-language summary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.metrics import no_returns_words, returns_not_loaded
from analysis.prepare import DIMENSION_LABELS, Prepared
from analysis.segments import segment_label
from analysis.stats import wilson_interval


@dataclass(frozen=True, slots=True)
class Headline:
    unit_rate: float
    unit_rate_prev: float | None
    order_rate: float
    order_rate_prev: float | None
    period_label: str
    units: int
    returned: int
    orders: int
    # two-sided p-values of the change against the period before (None without one): the unit rate on Rao-Scott
    # effective counts (units of one order come back together), the order rate on orders
    unit_p: float | None = None
    order_p: float | None = None


def _rates(
    lines: pd.DataFrame, orders: pd.DataFrame, cols: tuple[str, str] = ("returned_units", "quantity")
) -> tuple[float, float]:
    """(headline rate, order rate): cols = Prepared.rate_columns() (units, or orders for order refunds)."""
    u = lines[cols[1]].sum()
    r = lines[cols[0]].sum()
    o = len(orders)
    ro = int(orders["any_return"].sum()) if o else 0
    return (float(r / u) if u else float("nan"), float(ro / o) if o else float("nan"))


def _change_p(
    prepared: Prepared,
    start: pd.Timestamp,
    pstart: pd.Timestamp,
    cur_o: pd.DataFrame,
    prev_o: pd.DataFrame,
    cols: tuple[str, str],
) -> tuple[float | None, float | None]:
    """Two-sided p-values (stats.segment_vs_rest: pooled z, or Fisher on small counts) of the latest period's
    rates against the period before: the headline rate on Rao-Scott effective counts (each period's design effect
    over its orders), the order rate on orders (orders with a return / orders)."""
    from analysis.segments import line_codes
    from analysis.stats import group_design_effects, segment_vs_rest

    lines = prepared.mature_lines
    d = lines["order_date"]
    period = np.where((d > start).to_numpy(), 0, np.where((d > pstart).to_numpy(), 1, 2))
    x = lines[cols[0]].to_numpy(dtype="float64")
    n = lines[cols[1]].to_numpy(dtype="float64")
    deff = group_design_effects(period, line_codes(prepared, "order_id")[0], x, n, 3)
    xs = np.bincount(period, weights=x, minlength=3)[:2] / deff[:2]
    ns = np.bincount(period, weights=n, minlength=3)[:2] / deff[:2]
    unit_p = None
    if ns.min() > 0:
        unit_p = float(segment_vs_rest([xs[0]], [ns[0]], [xs[1]], [ns[1]], alternative="two-sided")["p_value"][0])
    order_p = None
    if len(cur_o) and len(prev_o):
        ret = [int(o["any_return"].sum()) for o in (cur_o, prev_o)]  # as _rates counts them
        r = segment_vs_rest([ret[0]], [len(cur_o)], [ret[1]], [len(prev_o)], alternative="two-sided")
        order_p = float(r["p_value"][0])
    return (
        unit_p if unit_p is not None and np.isfinite(unit_p) else None,
        order_p if order_p is not None and np.isfinite(order_p) else None,
    )


def headline(prepared: Prepared, period_days: int = 90) -> Headline:
    """Matured unit and order return rates: the latest `period_days` of matured orders vs the
    `period_days` before when the data covers both, else over all matured orders (no change shown).

    Only orders whose return window has closed count, so the comparison is not biased by open windows.
    """
    lines = prepared.mature_lines
    orders = prepared.mature_orders
    cols = prepared.rate_columns()
    if len(lines):
        end = lines["order_date"].max()
        start = end - pd.Timedelta(days=period_days)
        pstart = start - pd.Timedelta(days=period_days)
        prev_l = lines[(lines["order_date"] > pstart) & (lines["order_date"] <= start)]
        if len(prev_l) and lines["order_date"].min() <= pstart + pd.Timedelta(days=7):
            cur_l = lines[lines["order_date"] > start]
            cur_o = orders[orders["order_date"] > start]
            prev_orders = orders[(orders["order_date"] > pstart) & (orders["order_date"] <= start)]
            unit_now, order_now = _rates(cur_l, cur_o, cols)
            unit_prev, order_prev = _rates(prev_l, prev_orders, cols)
            unit_p, order_p = _change_p(prepared, start, pstart, cur_o, prev_orders, cols)
            return Headline(
                unit_now,
                unit_prev,
                order_now,
                order_prev,
                f"last {period_days} matured days vs the {period_days} before",
                int(cur_l["quantity"].sum()),
                int(cur_l["returned_units"].sum()),
                len(cur_o),
                unit_p,
                order_p,
            )
    unit_rate, order_rate = _rates(lines, orders, cols)
    return Headline(
        unit_rate,
        None,
        order_rate,
        None,
        "all matured orders (too short a history to compare periods)",
        int(lines["quantity"].sum()),
        int(lines["returned_units"].sum()),
        len(orders),
    )


def monthly(prepared: Prepared) -> pd.DataFrame:
    """Monthly unit return rate by order month: units, returned, rate with its 95% Wilson interval on Rao-Scott
    effective counts (each month's design effect over its orders, as the Trends page's cohort_series: a display
    band, not a test), and whether the month is provisional. A month ordered after a returns file's end
    (Prepared.returns_end) has no rate: its returns are not in the file."""
    from analysis.prepare import order_codes
    from analysis.stats import group_design_effects

    lines = prepared.lines
    if lines.empty:
        return pd.DataFrame(columns=["month", "units", "returned", "rate", "ci_low", "ci_high", "provisional"])
    xcol, ncol = prepared.rate_columns()
    g = (
        lines.groupby("month")
        .agg(units=(ncol, "sum"), returned=(xcol, "sum"), mature=("mature", "all"), first=("order_date", "min"))
        .reset_index()
    )
    g["rate"] = g["returned"] / g["units"]
    month = np.searchsorted(g["month"].to_numpy(), lines["month"].to_numpy())
    d = group_design_effects(month, order_codes(prepared)[0], lines[xcol], lines[ncol], len(g))
    g["ci_low"], g["ci_high"] = wilson_interval(g["returned"].to_numpy(float) / d, g["units"].to_numpy(float) / d)
    if prepared.returns_end is not None:  # ordered after the returns file ends: not 0%, not in the file
        g.loc[g["first"] > prepared.returns_end, ["rate", "ci_low", "ci_high"]] = np.nan
    g = g.drop(columns="first")
    g["provisional"] = ~g["mature"]
    return g.drop(columns="mature")


def window_warning(prepared: Prepared, share: float = 1 / 3) -> str | None:
    """A sentence to show first when the return window leaves out more than `share` of the orders (a short
    export), naming the setting that changes it; None otherwise."""
    total = int(prepared.orders["order_id"].nunique()) if len(prepared.orders) else 0
    out = int(prepared.immature_orders_excluded)
    end = prepared.returns_end
    if total and end is not None and prepared.cutoff_date is not None:
        # the returns file stops before the orders: said whatever the share, it is what every rate rests on
        last = prepared.orders["order_date"].max()
        return (
            f"The returns file ends on {end:%d %b %Y} but the orders run to {last:%d %b %Y}: returns of later "
            f"orders are not in it, so they are not counted as kept. {out:,} of {total:,} orders ({out / total:.0%}),"
            f" those placed after {prepared.cutoff_date:%d %b %Y} (the returns' end less the {prepared.window_days}"
            f"-day return window), are left out of rates like recent orders; rates describe the other "
            f"{total - out:,}. Export the returns for the same dates as the orders."
        )
    if not total or out / total <= share:
        return None
    what = "refunded" if prepared.outcome == "order_refund" else "returned"
    return (
        f"{out:,} of {total:,} orders ({out / total:.0%}) are left out as too recent: they were placed in the last "
        f"{prepared.window_days} days of the data, so they may still be {what} (return window "
        f"{prepared.window_days} days, {prepared.window_source}). Rates describe the other "
        f"{total - out:,} orders. If returns come back faster, set a shorter return window (sidebar: "
        "'Return window in days'; CLI: --window-days)."
    )


def recent_words(recent: Headline | None, order_refund: bool = False) -> str:
    """The headline tiles' latest-90-days rates as a sentence ("" when the tiles show the whole period): the
    summary's rates are over every matured order, the tiles' over the latest 90 matured days, and a reader who
    sees both numbers is told which is which."""
    if recent is None or recent.unit_rate_prev is None or not np.isfinite(recent.unit_rate):
        return ""
    what = "the change" if order_refund else "the unit rate's change"
    if recent.unit_p is None:
        verdict = ""
    elif recent.unit_p < 0.05:
        verdict = f"; {what} is beyond chance, p = {recent.unit_p:.2g}"
    else:
        verdict = f"; {what} is within chance"
    if order_refund:
        return (
            f" In the latest 90 matured days {recent.unit_rate:.1%} of orders had a customer refund "
            f"({recent.unit_rate_prev:.1%} in the 90 days before{verdict})."
        )
    prev = (
        f"{recent.unit_rate_prev:.1%} and {recent.order_rate_prev:.1%}"
        if recent.order_rate_prev is not None
        else f"{recent.unit_rate_prev:.1%}"
    )
    return (
        f" In the latest 90 matured days: {recent.unit_rate:.1%} of units and {recent.order_rate:.1%} of orders "
        f"({prev} in the 90 days before{verdict})."
    )


def plain_summary(
    prepared: Prepared,
    totals: dict,
    fix_list: pd.DataFrame,
    segments: pd.DataFrame,
    recent: Headline | None = None,
) -> list[str]:
    """Three to five sentences a leader could read aloud. recent: the headline tiles' figures (headline()),
    said beside the whole period's rates when they are the latest 90 days'."""
    out: list[str] = []
    ur, orr = totals.get("unit_return_rate"), totals.get("order_return_rate")
    warn = window_warning(prepared)
    if warn:
        out.append(warn)
    from analysis.concentration import concentration_sentences  # a few orders carrying the rate are said first

    out.extend(concentration_sentences(prepared)[:1])
    from data.validate import HEADLINE_NOTES

    # money in several currencies, returns that matched no order: what the figures below rest on
    out.extend(n for n in prepared.notes if n.startswith(HEADLINE_NOTES))
    if totals.get("outcome") == "order_refund" and totals.get("order_refund_rate") is not None:
        out.append(
            f"{totals['order_refund_rate']:.1%} of orders had a customer refund ({totals.get('orders_refunded', 0):,} "
            f"of {totals.get('orders', 0):,} orders up to {prepared.cutoff_date:%d %b %Y}; "
            f"{totals.get('orders_cancelled', 0):,} cancelled or voided orders are not counted as refunds)."
            + recent_words(recent, order_refund=True)
        )
    elif returns_not_loaded(totals):
        # no returns loaded: nothing can be said about returns, and no segment "returns more" than another
        out.append(no_returns_words(totals))
        return out[:6]
    elif ur is not None and not np.isnan(ur):
        s = (
            f"Returns are {ur:.1%} of units sold and {orr:.1%} of orders have at least one return "
            f"({totals.get('units_returned', 0):,.0f} of {totals.get('units_sold', 0):,.0f} units, orders up to "
            f"{prepared.cutoff_date:%d %b %Y} whose return window has closed)."
        )
        out.append(s + recent_words(recent))
    if fix_list is not None and len(fix_list):
        top = fix_list.iloc[0]
        name = segment_label(str(top["dimension"]), str(top["segment"]))
        dim = DIMENSION_LABELS.get(str(top["dimension"]), str(top["dimension"])).lower()
        reasons = top.get("top_reasons")
        first = reasons[0] if isinstance(reasons, (list, tuple)) and len(reasons) else (reasons or "")
        first_txt = str(first).split("(")[0].strip().lower()
        reason_txt = (
            f", mostly {first_txt}" if first and not any(w in first_txt for w in ("unknown", "no reason")) else ""
        )
        if totals.get("outcome") == "order_refund":
            # segments compare refunded (attributed) units / units (Prepared.rate_columns), not orders
            rate_txt = f"{top['return_rate']:.1%} of its units are refunded against {top['baseline_rate']:.1%}"
            noun = "refunded units"
        else:
            rate_txt, noun = f"it returns {top['return_rate']:.1%} against {top['baseline_rate']:.1%}", "returns"
        out.append(
            f"The biggest avoidable cost is the {dim} '{name}': {rate_txt} for the rest (significant){reason_txt}, "
            f"about {top['excess_returns']:,.0f} more {noun} than expected."
        )
        if len(fix_list) > 1:
            others = ", ".join(
                segment_label(str(d), str(s))
                for d, s in zip(fix_list["dimension"].iloc[1:4], fix_list["segment"].iloc[1:4])
            )
            out.append(f"Next on the fix list: {others}.")
    else:
        out.append(empty_list_sentence(totals, segments))
    if segments is not None and len(segments) and "direction" in segments:
        n_sig = int((segments["direction"] == "higher").sum())
        n_noise = int(((segments["direction"].isna()) & (segments["dimension"] != "combination")).sum())
        out.append(
            f"{n_sig:,} segments are clearly above their comparison group; {n_noise:,} differences are within "
            "noise: too small to tell from chance at this volume."
        )
    es = totals.get("exchange_share")
    if es is not None and not np.isnan(es):
        out.append(f"{es:.0%} of returned units were exchanged rather than refunded.")
    return out[:6]


ORDER_REFUND_DIMENSIONS = ("channel", "journey", "intent", "customer_type", "promotion", "country", "addon")


def order_refunds(prepared: Prepared) -> pd.DataFrame:
    """Order-level refunds (e.g. Shopify's Refunded Amount) where no line-level returns are known.

    One row for all matured orders ("all") and one per segment of each order-level dimension with data:
    orders, refunded_orders (refund > 0), rate with its 95% Wilson interval, refunded value. Orders are
    independent units here, so the interval needs no clustering adjustment. Empty when the data has no
    order-level refunds.
    """
    cols = ["dimension", "segment", "orders", "refunded_orders", "rate", "ci_low", "ci_high", "refunded_value"]
    if not prepared.has("order_refunded"):
        return pd.DataFrame(columns=cols)
    o = prepared.mature_orders
    refunded = o["order_refunded"].fillna(0.0).astype("float64")
    frame = o.assign(_ref=(refunded > 0).astype("int64"), _val=refunded)
    parts = [
        pd.DataFrame(
            {
                "dimension": ["all"],
                "segment": ["All orders"],
                "orders": [len(frame)],
                "refunded_orders": [int(frame["_ref"].sum())],
                "refunded_value": [float(frame["_val"].sum())],
            }
        )
    ]
    for dim in ORDER_REFUND_DIMENSIONS:
        if not prepared.has(dim):
            continue
        g = (
            frame.groupby(dim, observed=True)
            .agg(orders=("_ref", "size"), refunded_orders=("_ref", "sum"), refunded_value=("_val", "sum"))
            .reset_index()
        )
        parts.append(g.rename(columns={dim: "segment"}).assign(dimension=dim))
    out = pd.concat(parts, ignore_index=True)
    out["rate"] = out["refunded_orders"] / out["orders"]
    out["ci_low"], out["ci_high"] = wilson_interval(
        out["refunded_orders"].to_numpy(float), out["orders"].to_numpy(float)
    )
    return out[cols]


def refund_segments(refunds: pd.DataFrame) -> pd.DataFrame:
    """The per-segment rows of order_refunds (without the "all orders" row)."""
    return refunds[refunds["dimension"] != "all"]


def matured_months(months: pd.DataFrame) -> pd.DataFrame:
    """The matured months of :func:`monthly` (their return window has closed)."""
    return months[~months["provisional"].astype(bool)]


def drawn_average(mat: pd.DataFrame) -> float | None:
    """The average of what the monthly chart draws: pooled over the matured months shown (returned / units);
    None when they hold no units.

    >>> drawn_average(pd.DataFrame({"returned": [10, 30], "units": [100, 100]}))  # 40 / 200
    0.2
    """
    if not len(mat) or not mat["units"].sum() > 0:
        return None
    return float(mat["returned"].sum() / mat["units"].sum())


def averages_differ(headline_rate: float | None, drawn: float | None, tolerance: float = 0.005) -> bool:
    """True when the headline rate and the chart's drawn average differ by at least ``tolerance`` (half a
    percentage point by default), so the page says why.

    >>> averages_differ(0.101, 0.1), averages_differ(0.11, 0.1), averages_differ(None, 0.1)
    (False, True, False)
    """
    return headline_rate is not None and drawn is not None and abs(headline_rate - drawn) >= tolerance


def empty_list_sentence(totals: dict, segments: pd.DataFrame | None) -> str:
    """What an empty fix list means, in one sentence (the summary and the Overview's fix-list panel say it alike):
    segments coloured clearly higher on the pages that are all left off (a category's own rate, a slice of another
    segment, one large order) are said to be left off, not "no segment returns more"."""
    refunds = totals.get("outcome") == "order_refund"
    if segments is not None and len(segments) and "direction" in segments and (segments["direction"] == "higher").any():
        return (
            "Nothing is on the fix list: the segments that "
            + ("are refunded" if refunds else "return")
            + " clearly more are left off for reasons the Fix list gives (a category's own rate, a slice of "
            "another segment, one large order)."
        )
    return (
        "No segment "
        + ("is refunded" if refunds else "returns")
        + " significantly more than the rest once chance is allowed for."
    )
