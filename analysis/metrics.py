"""Headline metrics, each declared once with its label, definition, format and basis.

Pages, the CLI and the exports refer to a metric by name and take its label and format from
METRICS, so the same number is never described two ways. Rates use **mature orders only**
(orders whose return window has closed, see analysis.prepare), because open orders can still be
returned and would bias recent rates downwards (METHOD 1.1 rule 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.prepare import RETURNS_LOADED, Prepared


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    label: str
    definition: str
    format: str  # "percent" | "currency" | "count" | "number" | "text"
    basis: str  # "units" | "orders" | "value" | "rows" | "days"


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("orders", "Orders (mature)", "Orders whose return window has closed.", "count", "orders"),
        Metric("order_lines", "Order lines (mature)", "Order lines of mature orders.", "count", "rows"),
        Metric(
            "returns_matching_nothing",
            "Return lines matching no order",
            "Return lines loaded whose order number matches no order (present only when none matches): they say "
            "nothing of these orders' returns, so the return rates are not known.",
            "count",
            "rows",
        ),
        Metric("units_sold", "Units sold (mature orders)", "Units bought in mature orders.", "count", "units"),
        Metric(
            "units_returned",
            "Units returned (mature orders)",
            "Units of mature orders that came back (clipped to the units bought on the line).",
            "count",
            "units",
        ),
        Metric(
            "unit_return_rate",
            "Unit return rate (mature orders)",
            "Returned units / units sold, mature orders only.",
            "percent",
            "units",
        ),
        Metric(
            "order_return_rate",
            "Order return rate (mature orders)",
            "Share of mature orders with at least one returned unit.",
            "percent",
            "orders",
        ),
        Metric(
            "value_return_rate",
            "Value return rate (mature orders)",
            "Returned value (refund amount, else units x price) / sold value, mature orders with prices.",
            "percent",
            "value",
        ),
        Metric(
            "refund_share",
            "Refunded share of returns",
            "Returned units resolved by a refund / returned units.",
            "percent",
            "units",
        ),
        Metric(
            "exchange_share",
            "Exchanged share of returns",
            "Returned units resolved by an exchange / returned units.",
            "percent",
            "units",
        ),
        Metric(
            "store_credit_share",
            "Store-credit share of returns",
            "Returned units resolved by store credit or a gift card / returned units.",
            "percent",
            "units",
        ),
        Metric(
            "returned_value",
            "Returned value (mature orders)",
            "Money refunded, or units x price where no refund amount is known.",
            "currency",
            "value",
        ),
        Metric(
            "saved_revenue",
            "Revenue kept through exchanges and store credit",
            "Units x price of returns resolved by an exchange or store credit instead of a refund.",
            "currency",
            "value",
        ),
        Metric(
            "outcome",
            "Outcome analysed",
            "line_return: returned units from a returns file or credit notes; order_refund: orders with a customer "
            "refund (the headline), when the data records refunds per order only; segments then compare refunded "
            "units / units sold, each refund attributed to the order's items.",
            "text",
            "orders",
        ),
        Metric(
            "order_refund_rate",
            "Order refund rate (mature orders)",
            "Share of mature orders with a customer refund (cancelled and voided orders left out).",
            "percent",
            "orders",
        ),
        Metric(
            "orders_refunded",
            "Orders with a customer refund (mature orders)",
            "Mature orders whose refunded amount is above zero.",
            "count",
            "orders",
        ),
        Metric(
            "refunded_value", "Refunded value (mature orders)", "Money refunded on mature orders.", "currency", "value"
        ),
        Metric(
            "orders_cancelled",
            "Cancelled or voided orders",
            "Orders cancelled or voided: not customer returns, left out of every rate.",
            "count",
            "orders",
        ),
        Metric(
            "non_merchandise_lines",
            "Add-on lines set apart",
            "Gift cards, package protection, return insurance, tips and other lines that are not merchandise.",
            "count",
            "rows",
        ),
        Metric(
            "unmatched_returns",
            "Returns matching no purchase",
            "Return rows whose order and product were not found among the purchases (not in any rate). A return "
            "matched in part (more units than the purchase sold) is loaded and not counted here; its units beyond "
            "the purchase are listed with the unmatched returns on the load report.",
            "count",
            "rows",
        ),
        Metric(
            "rejected_rows",
            "Rows not used",
            "Rows read but not used in rates (invalid, duplicate, non-merchandise, unmatched, ...).",
            "count",
            "rows",
        ),
        Metric(
            "immature_orders_excluded",
            "Recent orders excluded",
            "Orders too recent for their return window to have closed; left out of every rate.",
            "count",
            "orders",
        ),
        Metric(
            "window_days",
            "Return window (days)",
            "Days after the order within which returns are counted.",
            "number",
            "days",
        ),
        Metric(
            "cost_per_return",
            "Cost per returned unit",
            "Average returned value per returned unit plus a handling cost, unless set by the user.",
            "currency",
            "units",
        ),
    )
}


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def totals(
    prepared: Prepared, cost_per_return: float | None = None, *, unmatched_returns: int = 0, rejected_rows: int = 0
) -> dict:
    """Headline numbers of a prepared dataset (see METRICS for each key's definition).

    Rates are computed on mature orders only. unmatched_returns / rejected_rows come from the
    Dataset (Prepared keeps no reference to it), so the caller passes them in.
    Returns a plain dict with the keys of METRICS (cost_per_return only if given) plus
    date_from / date_to (ISO dates of the mature orders).

    >>> from data.demo import generate_dataset
    >>> from analysis.prepare import prepare
    >>> t = totals(prepare(generate_dataset(seed=1, n_orders=2000)))
    >>> 0 < t["unit_return_rate"] < 1
    True
    """
    if cost_per_return is not None and not (cost_per_return >= 0):
        raise ValueError("cost_per_return must be a non-negative number of currency units.")
    from analysis.segments import mature_frames  # shared per-Prepared cache of the mature frames

    lines, orders, _ = mature_frames(prepared)
    units = float(lines["quantity"].sum())
    ret = float(lines["returned_units"].sum())
    priced = lines["unit_price"].notna()
    sold_value = float(lines.loc[priced, "line_value"].sum())
    returned_value = float(lines.loc[priced, "returned_value"].sum()) if priced.any() else float("nan")
    kept_units = lines["exchange_units"] + lines["store_credit_units"]
    saved = float((kept_units * lines["unit_price"]).sum()) if priced.any() else float("nan")
    dates = orders["order_date"]
    out = {
        "orders": int(len(orders)),
        "order_lines": int(len(lines)),
        "units_sold": int(units),
        "units_returned": int(ret),
        "unit_return_rate": _ratio(ret, units),
        "order_return_rate": _ratio(orders["any_return"].sum(), len(orders)),
        "value_return_rate": _ratio(returned_value, sold_value) if priced.any() else float("nan"),
        "returned_value": returned_value,
        # shares of the returned units whose resolution is known (one denominator, used by every page)
        **resolution_shares(lines),
        "saved_revenue": saved,
        "unmatched_returns": int(unmatched_returns),
        "rejected_rows": int(rejected_rows),
        "immature_orders_excluded": int(prepared.immature_orders_excluded),
        "window_days": int(prepared.window_days),
        "date_from": dates.min().date().isoformat() if len(dates) else None,
        "date_to": dates.max().date().isoformat() if len(dates) else None,
    }
    counts = prepared.counts or {}
    out["outcome"] = prepared.outcome
    out["orders_cancelled"] = int(counts.get("orders_cancelled", 0))
    out["non_merchandise_lines"] = int(counts.get("non_merchandise_lines", 0))
    out["orders_refunded"] = None
    out["order_refund_rate"] = None
    out["refunded_value"] = None
    if prepared.outcome == "line_return" and not prepared.has("returns.resolution"):
        # no resolution recorded: how returns were resolved is unknown, not "0% exchanged, 100% refunded"
        out.update({"refund_share": None, "exchange_share": None, "store_credit_share": None, "saved_revenue": None})
    if prepared.outcome == "order_refund":
        refunded = int(orders["any_return"].sum())
        out.update(
            {
                "orders_refunded": refunded,
                "order_refund_rate": _ratio(refunded, len(orders)),
                "refunded_value": float(lines["returned_value"].sum()),
                # not known from order-level refunds alone: unknown, never 0
                "units_returned": None,
                "unit_return_rate": None,
                "refund_share": None,
                "exchange_share": None,
                "store_credit_share": None,
                "saved_revenue": None,
            }
        )
    if prepared.outcome == "line_return" and not prepared.has(RETURNS_LOADED):
        # no returns file, no credit notes, no refunds: how often things come back is not known, never "0.0%"
        out.update(
            {
                # return lines were loaded but none matches an order: said, instead of "no returns are loaded"
                "returns_matching_nothing": int(prepared.counts.get("returns_matching_nothing", 0) or 0),
                "units_returned": None,
                "unit_return_rate": None,
                "order_return_rate": None,
                "returned_value": None,
                "value_return_rate": None,
            }
        )
    if cost_per_return is not None:
        out["cost_per_return"] = float(cost_per_return)
    return out


def resolution_shares(lines: pd.DataFrame) -> dict[str, float]:
    """refund_share / exchange_share / store_credit_share of the returned units whose resolution is known
    (refund + exchange + store credit); NaN when no resolution is known."""
    r, e, c = (float(lines[k].sum()) for k in ("refund_units", "exchange_units", "store_credit_units"))
    known = r + e + c
    return {
        "refund_share": _ratio(r, known),
        "exchange_share": _ratio(e, known),
        "store_credit_share": _ratio(c, known),
    }


def returns_not_loaded(totals: dict) -> bool:
    """Whether the totals are of orders with no returns loaded at all (no returns file, no credit notes, no
    refunds): the return rates are then None, not 0 (totals), and nothing can be ranked or drawn."""
    return totals.get("outcome") == "line_return" and totals.get("unit_return_rate") is None


def no_returns_words(totals: dict, lead: str = "Return rates are not known: ") -> str:
    """Why the return rates of totals without returns are not known, and what to do: no returns loaded, or
    return lines loaded of which none matches an order (one sentence for the pages, the summary and the CLI)."""
    n = int(totals.get("returns_matching_nothing") or 0)
    if n:
        return (
            f"{lead}none of the {n:,} return line{'s' if n != 1 else ''} loaded matches an order, so they say "
            "nothing of these orders' returns. Check that the returns and the orders come from the same store and "
            "period and write the order number alike (the load report lists the lines)."
        )
    return (
        f"{lead}no returns are loaded. Add the returns export (a returns file, an Amazon FBA returns "
        "report, or a transactions export with credit notes) on Upload & map."
    )


def unknown_reason(name: str, totals: dict) -> str | None:
    """Why a headline metric is not known (None when it is): what the data lacks and what to add."""
    if totals.get(name) is not None and not (isinstance(totals.get(name), float) and np.isnan(totals[name])):
        return None
    if totals.get("outcome") == "order_refund":
        if name in ("unit_return_rate", "units_returned"):
            return (
                "Not in your data: the orders export records refunds per order, not which units came back. "
                "Add a returns file (order number, SKU, quantity) for unit return rates."
            )
        if name in ("exchange_share", "store_credit_share", "refund_share", "saved_revenue"):
            return (
                "Not in your data: refunds vs exchanges vs store credit need a returns file with a "
                "resolution column (refund / exchange / store credit)."
            )
    if returns_not_loaded(totals) and name in (
        "unit_return_rate",
        "order_return_rate",
        "units_returned",
        "returned_value",
        "value_return_rate",
    ):
        return no_returns_words(totals, "Not known: ")
    if name in ("exchange_share", "store_credit_share", "refund_share", "saved_revenue"):
        return "Not in your data: map a resolution column (refund / exchange / store credit) in the returns file."
    if name in ("value_return_rate", "returned_value"):
        return "Not in your data: map a price column (or the refund amount) to value returns."
    return "Not in your data."


def format_value(name: str, value: float | str | None, currency: str = "") -> str:
    """Render a metric value with its declared format ("n/a" for missing)."""
    fmt = METRICS[name].format if name in METRICS else "number"
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "n/a"
    if fmt == "percent":
        return f"{float(value):.1%}"
    if fmt == "currency":
        return f"{currency}{float(value):,.0f}"
    if fmt == "count":
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if name == "outcome":  # words, not the code's key
        return OUTCOME_WORDS.get(str(value), str(value))
    return str(value)


OUTCOME_WORDS = {
    "line_return": "returned units (a returns file or credit notes)",
    "order_refund": "orders with a customer refund (refunds recorded per order)",
}
