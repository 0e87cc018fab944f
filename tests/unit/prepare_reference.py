"""A frozen copy of analysis.prepare.prepare() as it was before it worked on integer codes (branch
prepare-speed): the reference the new prepare() is held equal to, column by column and value by value, in
tests/unit/test_prepare_codes.py. Do not edit it to follow the new code; it is the oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.maturity import EMPTY_CURVE, prepared_arrival_curve, return_window
from analysis.prepare import WHOLESALE_MEDIAN_UNITS, Prepared
from data.model import Dataset
from data.reasons import classify, normalize_resolution


def _has_data(s: pd.Series) -> bool:
    return bool(s.notna().any())


def _derive_intent(lines: pd.DataFrame, has_size: bool, has_collection: bool, has_category: bool) -> pd.Series:
    """Per-order intent: bracketing > single_item > full_refresh > multi_item (see module doc)."""
    g = lines.groupby("order_id", sort=False)
    units = g["quantity"].sum()
    product_key = lines["product_name"].fillna(lines["sku"]) if _has_data(lines["product_name"]) else lines["sku"]
    variant = lines["size"].fillna(lines["sku"]) if has_size else lines["sku"]
    pv = pd.DataFrame({"order_id": lines["order_id"], "p": product_key, "v": variant})
    nvar = pv.drop_duplicates().groupby(["order_id", "p"], sort=False).size()
    # bracketing = one product in several sizes: without a size (or variant) column it cannot be told apart
    # from buying two different items that share a description, so it is not claimed
    bracket_orders = set(nvar[nvar >= 2].index.get_level_values(0)) if has_size else set()
    if has_collection:
        ncoll = g["collection"].nunique()
    elif has_category:
        ncoll = g["category"].nunique()
    else:
        ncoll = pd.Series(0, index=units.index)
    intent = pd.Series("multi_item", index=units.index, dtype="object")
    intent[ncoll.reindex(units.index).fillna(0) >= 3] = "full_refresh"
    intent[units <= 1] = "single_item"
    if bracket_orders:
        intent[intent.index.isin(list(bracket_orders))] = "bracketing"
    return intent.astype("string")


def prepare_reference(
    dataset: Dataset, window_days: int | None = None, reason_overrides: dict[str, str] | None = None
) -> Prepared:
    """Build the analysis frames from a loaded Dataset.

    reason_overrides: the user's corrections of the reason taxonomy (raw reason -> category), which
    win over the built-in rules (see data.reasons.classify).

    >>> from data.demo import generate_dataset
    >>> p = prepare(generate_dataset(seed=1, n_orders=2000))
    >>> bool((p.lines["returned_units"] <= p.lines["quantity"]).all())
    True
    """
    notes: list[str] = []
    lines = dataset.orders.copy()
    rets = dataset.returns.copy()
    lines = lines[lines["quantity"] > 0].reset_index(drop=True)
    lines["line_no"] = np.arange(len(lines))
    lines["line_value"] = lines["quantity"] * lines["unit_price"]

    available = {c for c in lines.columns if _has_data(lines[c])}
    available |= {f"returns.{c}" for c in rets.columns if _has_data(rets[c])}

    # ---- returns: categorise once
    if len(rets):
        cls = classify(rets["reason"], rets["comment"], overrides=reason_overrides or None)
        rets["reason_category"] = cls["category"]
        rets["reason_group"] = cls["group"]
        rets["reason_rule"] = cls["rule"]
        rets["resolution_category"] = normalize_resolution(rets["resolution"])
    else:
        for c in ("reason_category", "reason_group", "reason_rule", "resolution_category"):
            rets[c] = pd.Series(dtype="string")

    # ---- allocate returned units to lines (same order, same sku), clipped to units sold
    ret_units = rets.groupby(["order_id", "sku"], sort=False)["quantity"].sum().rename("ret_q")
    lines = lines.merge(ret_units, how="left", left_on=["order_id", "sku"], right_index=True)
    lines["ret_q"] = lines["ret_q"].fillna(0).astype("int64")
    before = lines.groupby(["order_id", "sku"], sort=False)["quantity"].cumsum() - lines["quantity"]
    lines["returned_units"] = (lines["ret_q"] - before).clip(lower=0)
    lines["returned_units"] = np.minimum(lines["returned_units"], lines["quantity"]).astype("int64")
    lines = lines.drop(columns="ret_q")

    # ---- per (order, sku) return attributes: refund value, resolution split, dominant reason
    if len(rets):
        r = rets.assign(
            refund_units=np.where(rets["resolution_category"] == "refund", rets["quantity"], 0),
            exchange_units=np.where(rets["resolution_category"] == "exchange", rets["quantity"], 0),
            store_credit_units=np.where(rets["resolution_category"] == "store_credit", rets["quantity"], 0),
        )
        agg = r.groupby(["order_id", "sku"], sort=False).agg(
            refund_units=("refund_units", "sum"),
            exchange_units=("exchange_units", "sum"),
            store_credit_units=("store_credit_units", "sum"),
            all_units=("quantity", "sum"),
        )
        dom = (
            r.groupby(["order_id", "sku", "reason_category"], sort=False)["quantity"]
            .sum()
            .reset_index()
            .sort_values("quantity", ascending=False)
            .drop_duplicates(["order_id", "sku"])
            .set_index(["order_id", "sku"])["reason_category"]
        )
        agg["refund_amount"] = r.groupby(["order_id", "sku"], sort=False)["refund_amount"].sum(min_count=1)
        agg["reason_category"] = dom
        lines = lines.merge(agg, how="left", left_on=["order_id", "sku"], right_index=True)
        share = (lines["returned_units"] / lines["all_units"]).where(lines["all_units"] > 0, 0.0).fillna(0.0)
        for c in ("refund_units", "exchange_units", "store_credit_units"):
            lines[c] = (lines[c].fillna(0) * share).astype("float64")
        price_value = lines["returned_units"] * lines["unit_price"]
        lines["returned_value"] = (lines["refund_amount"] * share).where(lines["refund_amount"].notna(), price_value)
        lines = lines.drop(columns=["refund_amount", "all_units"])
    else:
        for c in ("refund_units", "exchange_units", "store_credit_units"):
            lines[c] = 0.0
        lines["returned_value"] = np.where(lines["unit_price"].notna(), 0.0, np.nan)
        lines["reason_category"] = pd.Series(pd.NA, index=lines.index, dtype="string")
    lines["reason_category"] = lines["reason_category"].astype("string")

    # ---- order-level attributes
    has_size = "size" in available
    lines["intent_derived"] = lines["order_id"].map(
        _derive_intent(lines, has_size, "collection" in available, "category" in available)
    )
    if "intent" in available:
        lines["intent"] = lines["intent"].fillna(lines["intent_derived"])
    else:
        lines["intent"] = lines["intent_derived"]
    lines = lines.drop(columns="intent_derived")
    g = lines.groupby("order_id", sort=False)
    lines["basket_units"] = lines["order_id"].map(g["quantity"].sum()).astype("int64")
    lines["basket_lines"] = lines["order_id"].map(g.size()).astype("int64")
    lines["product"] = lines["product_name"].fillna(lines["sku"]).astype("string")

    if "customer_id" in available:
        first = lines.groupby("customer_id")["order_date"].transform("min")
        ctype = np.where(
            lines["customer_id"].isna(), "unknown", np.where(lines["order_date"] <= first, "first", "repeat")
        )
        lines["customer_type"] = pd.Series(ctype, index=lines.index, dtype="string")
        if any(f.role == "transactions" for f in dataset.files):
            # credit notes are matched to a customer's earlier purchase, so guests' lines cannot have returns by
            # construction: a first-vs-repeat difference would be made by the matching rule, not by customers
            notes.append(
                "First vs repeat customers is not tested on signed transactions: credit notes can only be "
                "matched to purchases of identified customers, so the difference would come from the "
                "matching rule rather than from customers."
            )
        else:
            available.add("customer_type")
    else:
        lines["customer_type"] = pd.Series(pd.NA, index=lines.index, dtype="string")
    median_units = float(lines.groupby("order_id", sort=False)["quantity"].sum().median()) if len(lines) else 0.0
    if "intent" in available or median_units <= WHOLESALE_MEDIAN_UNITS:
        available.add("intent")
    else:
        notes.append(
            f"Customer intents (single item, bracketing, multi-item, full refresh) describe a shopper's basket; "
            f"here the median order holds {median_units:,.0f} units, as in wholesale, so intents are not shown."
        )
    available.add("product")

    # ---- the outcome: line-level returns, or order-level refunds when that is all the data holds
    lines["units"] = lines["quantity"]
    returns_known = len(rets) > 0 or any(f.role in ("returns", "transactions") for f in dataset.files)
    outcome = "order_refund" if (not returns_known and "order_refunded" in available) else "line_return"
    counts = dict(getattr(dataset, "counts", {}) or {})
    if outcome == "order_refund":
        lines, attrib_note, attrib = _order_refund_outcome(lines)
        counts.update(attrib)
        notes.append(attrib_note)
    else:
        lines["order_n"] = lines["quantity"].astype("float64")
        lines["order_x"] = lines["returned_units"].astype("float64")

    # ---- maturity
    rets_m = rets.merge(
        lines.drop_duplicates(["order_id", "sku"])[
            [
                "order_id",
                "sku",
                "order_date",
                "collection",
                "category",
                "product",
                "size",
                "channel",
                "journey",
                "intent",
                "customer_type",
                "unit_price",
                "promotion",
                "country",
                "addon",
            ]
        ],
        how="inner",
        on=["order_id", "sku"],
    )
    rets_m["days_to_return"] = (rets_m["return_date"] - rets_m["order_date"]).dt.days
    arrival = prepared_arrival_curve(lines, rets_m) if not lines.empty else EMPTY_CURVE
    if window_days is not None:
        window, source = int(window_days), "user"
    else:
        n_dated = int((pd.to_numeric(rets_m["days_to_return"], errors="coerce") >= 0).sum())
        window, source = return_window(arrival, n_dated)
    if lines.empty:
        cutoff = None
        lines["mature"] = pd.Series(dtype=bool)
    else:
        cutoff = lines["order_date"].max() - pd.Timedelta(days=window)
        lines["mature"] = lines["order_date"] <= cutoff
        if not lines["mature"].any():
            # too short a history to wait for the window: keep everything, and say so
            lines["mature"] = True
            notes.append(
                f"The data spans less than the {window}-day return window, so no orders were "
                "excluded as too recent; recent rates may still rise."
            )
            cutoff = lines["order_date"].max()
    lines["month"] = lines["order_date"].dt.to_period("M").dt.start_time

    g = lines.groupby("order_id", sort=False)
    o = g.agg(
        order_date=("order_date", "first"),
        customer_id=("customer_id", "first"),
        channel=("channel", "first"),
        journey=("journey", "first"),
        intent=("intent", "first"),
        customer_type=("customer_type", "first"),
        promotion=("promotion", "first"),
        country=("country", "first"),
        addon=("addon", "first"),
        units=("units", "sum"),
        lines=("sku", "size"),
        n_collections=("collection", "nunique"),
        returned_units=("returned_units", "sum"),
        order_refunded=("order_refunded", "first"),
        mature=("mature", "first"),
        month=("month", "first"),
    )
    # min_count=1 keeps "no prices at all" as missing rather than 0
    o["order_value"] = g["line_value"].sum(min_count=1)
    o["returned_value"] = g["returned_value"].sum(min_count=1)
    o = o.reset_index()
    o["any_return"] = (g["order_x"].sum().to_numpy() > 0) if len(o) else o["returned_units"] > 0
    immature_orders = int((~o["mature"]).sum())
    immature_lines = int((~lines["mature"]).sum())

    return Prepared(
        lines=lines,
        orders=o,
        returns=rets_m,
        window_days=window,
        window_source=source,
        cutoff_date=cutoff,
        immature_orders_excluded=immature_orders,
        immature_lines_excluded=immature_lines,
        available=frozenset(available),
        notes=tuple(notes) + tuple(dataset.notes),
        outcome=outcome,
        counts=counts,
        arrival=arrival,
    )


def _order_refund_outcome(lines: pd.DataFrame) -> tuple[pd.DataFrame, str, dict]:
    """The order-refund outcome on the lines (see Prepared.rate_columns).

    order_n = the line's share of its order's units (each order weighs 1); order_x = order_n if the order
    had a customer refund (order_refunded > 0; cancellations were set apart at loading). returned_units
    holds the refund attributed to the line: where the export says which lines were refunded
    (line_refunded, see data.shopify.attribute_refunds) those lines' units; otherwise the line's units
    times the refunded share of the order's value (refunded amount / value sold, at most 1), so the
    refund is spread over the order's lines in proportion. returned_value = the refunded amount spread
    the same way. Resolution (exchange, store credit) is not known: those columns are missing.
    """
    lines = lines.copy()
    q = lines["quantity"].astype("float64")
    oid = lines["order_id"]
    order_units = q.groupby(oid, sort=False).transform("sum")
    refunded_amt = lines.groupby("order_id", sort=False)["order_refunded"].transform("first").fillna(0.0)
    flag = (refunded_amt > 0).astype("float64")
    lines["order_n"] = (q / order_units).where(order_units > 0, 0.0)
    lines["order_x"] = lines["order_n"] * flag
    known = (
        lines["line_refunded"].astype("float64") if "line_refunded" in lines else pd.Series(np.nan, index=lines.index)
    )
    order_known = known.notna().groupby(oid, sort=False).transform("any") & (flag > 0)
    known_hit = (known.fillna(0) > 0).groupby(oid, sort=False).transform("any")
    value = lines["line_value"].astype("float64")
    order_value = value.fillna(0.0).groupby(oid, sort=False).transform("sum")
    share = (refunded_amt / order_value).clip(upper=1.0).where(order_value > 0, 1.0).fillna(1.0)
    use_known = order_known & known_hit  # an attribution that names at least one refunded line
    ret = np.where(use_known, q * (known.fillna(0) > 0), q * share * flag)
    lines["returned_units"] = ret.astype("float64")
    w = lines["returned_units"] * lines["unit_price"].fillna(1.0)
    wsum = w.groupby(oid, sort=False).transform("sum")
    lines["returned_value"] = (refunded_amt * w / wsum).where(wsum > 0, 0.0)
    lines["refund_units"] = lines["returned_units"]
    lines["exchange_units"] = np.nan
    lines["store_credit_units"] = np.nan
    refunded_orders = int(flag[~oid.duplicated()].sum())
    attributed = int((use_known & ~oid.duplicated()).sum())
    pct = attributed / refunded_orders if refunded_orders else float("nan")
    note = (
        (
            f"Only order-level refunds are known (no returns file): the headline rate is orders with a customer refund "
            f"/ orders; segments (collections, sizes, intents, channels ...) compare refunded units / units sold. "
            f"The refund is attributed to lines where the export says which "
            f"({attributed:,} of {refunded_orders:,} refunded orders, {pct:.0%}: single-line orders, restocked lines, "
            "line amounts that add up to the refund); in the other refunded orders it is spread over the lines in "
            "proportion to the share refunded. Add a returns file for line-level return rates."
        )
        if refunded_orders
        else ("Only order-level refunds are known (no returns file), and no order has a refund.")
    )
    return lines, note, {"refunded_orders": refunded_orders, "refunds_attributed": attributed}
