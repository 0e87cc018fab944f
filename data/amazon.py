"""Amazon seller exports: the All Orders report, styles and sizes from per-size SKUs, and the rows
that are not what they seem (Cancelled orders; carrier returns in the FBA returns report).

All Orders report (Seller Central > Reports > Fulfillment > All Orders, tab-separated): one row per
order item with amazon-order-id, purchase-date, order-status (Pending, Shipped, Cancelled ...),
sku, product-name, quantity and item-price, where item-price is the price of the line (all its
units), not of one unit. Cancelled lines were never sold: they are rejected with kind "cancelled"
and counted on the load report.

FBA customer returns report: reasons UNDELIVERABLE_* (and returns lost in transit) are the carrier
bringing a parcel back, not a customer returning an item: they are rejected with kind
"carrier_return" and left out of the return rate unless the setting count_carrier_returns is on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from data.readers import parse_numbers
from data.sizes import derive_style_size, strip_name_size

STYLE_COL = "product (style)"
SIZE_COL = "sku (size)"
UNIT_PRICE_COL = "item-price (per unit)"

ORDER_ID = ("amazon-order-id", "order-id")
QUANTITY = ("quantity", "quantity-purchased")
STATUS = "order-status"


def _col(frame_cols: Iterable[Any], names: Iterable[str]) -> str | None:
    low = {str(c).strip().lower(): c for c in frame_cols}
    return next((low[n] for n in names if n in low), None)


def is_all_orders(columns: Iterable[Any]) -> bool:
    """The All Orders report (or the older order report): Amazon's own hyphenated headers."""
    low = {str(c).strip().lower() for c in columns}
    return (
        bool(low & set(ORDER_ID))
        and "purchase-date" in low
        and "sku" in low
        and bool(low & set(QUANTITY))
        and bool(low & {"order-status", "asin", "order-item-id", "item-status"})
    )


def all_orders_mapping(columns: Iterable[Any]) -> dict[str, str]:
    """The mapping after prepare_all_orders() (canonical -> source column)."""
    cols = list(columns)
    sug = {
        "order_id": _col(cols, ORDER_ID),
        "order_date": _col(cols, ("purchase-date",)),
        "sku": _col(cols, ("sku",)),
        "quantity": _col(cols, QUANTITY),
        "product_name": STYLE_COL,
        "size": SIZE_COL,
    }
    if _col(cols, ("item-price",)):
        sug["unit_price"] = UNIT_PRICE_COL
    ch = _col(cols, ("sales-channel", "marketplace"))
    if ch:
        sug["channel"] = ch
    cust = _col(cols, ("buyer-email", "buyer-name"))
    if cust:
        sug["customer_id"] = cust
    return {k: v for k, v in sug.items() if v}


def add_style_size(frame: pd.DataFrame, sku_col: str, name_col: str | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Add STYLE_COL (parent product) and SIZE_COL from SKUs that end in a size (else names that do)."""
    f = frame.copy()
    sku = f[sku_col].astype("string").str.strip()
    name = f[name_col].astype("string").str.strip() if name_col else None
    style, size, n_styles = derive_style_size(sku, name)
    # one display name per style: the first line's name without its size (or the style code)
    if name is not None:
        clean = strip_name_size(name)
        first = pd.DataFrame({"style": style, "name": clean.where(clean != "")}).dropna().drop_duplicates("style")
        label = style.map(dict(zip(first["style"], first["name"]))).fillna(style)
    else:
        label = style
    f[STYLE_COL] = label.astype("string").fillna("")
    f[SIZE_COL] = size.astype("string").fillna("")
    notes: tuple[str, ...] = ()
    if n_styles:
        notes = (
            f"{n_styles} style(s) are sold in several sizes, each size its own SKU: the size is taken from the "
            f"end of the SKU or name ('{SIZE_COL}') and the style from the rest ('{STYLE_COL}'), so two sizes "
            "of one style in an order count as bracketing.",
        )
    return f, notes


def prepare_all_orders(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Per-unit price, style and size columns for the All Orders report. Row count never changes."""
    cols = list(frame.columns)
    sku = _col(cols, ("sku",))
    if sku is None:  # is_all_orders() requires it; a direct call without one is a programming error
        raise ValueError("prepare_all_orders needs the report's 'sku' column.")
    f, notes = add_style_size(frame, sku, _col(cols, ("product-name",)))
    price, qty = _col(cols, ("item-price",)), _col(cols, QUANTITY)
    if price and qty:
        p, _, _ = parse_numbers(f[price].astype("string").str.strip().replace("", pd.NA))
        q, _, _ = parse_numbers(f[qty].astype("string").str.strip().replace("", pd.NA))
        unit = (p / q.where(q > 0)).round(4)
        f[UNIT_PRICE_COL] = unit.map(lambda x: "" if pd.isna(x) else f"{x:.4f}".rstrip("0").rstrip(".")).astype(
            "string"
        )
        notes += (
            "item-price is the price of the whole line in Amazon's report: the unit price is item-price / quantity.",
        )
    return f, notes


def cancelled_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose order-status (or item-status) is Cancelled."""
    out = np.zeros(len(frame), dtype=bool)
    for c in (_col(frame.columns, (STATUS,)), _col(frame.columns, ("item-status",))):
        if c:
            out |= (
                frame[c]
                .astype("string")
                .str.strip()
                .str.lower()
                .isin(["cancelled", "canceled"])
                .fillna(False)
                .to_numpy(bool)
            )
    return out


CARRIER_RX = (
    r"(?i)^\s*UNDELIVERABLE|LOST[ _-]?IN[ _-]?TRANSIT|\bundeliverable\b|return(?:ed)? to sender|"
    r"\bRTS\b|refused (?:by|at) (?:the )?(?:customer|recipient|delivery)|delivery refused|"
    r"address (?:not found|unknown|insufficient)|unzustellbar|non distribuable|no entregable|onbestelbaar"
)


def carrier_return_rows(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows whose reason (or status/disposition) says the carrier brought the parcel back."""
    out = np.zeros(len(frame), dtype=bool)
    for c in columns:
        if c and c in frame.columns:
            t = frame[c].astype("string")
            out |= t.str.contains(CARRIER_RX, regex=True).fillna(False).to_numpy(bool)
    return out


__all__ = [
    "is_all_orders",
    "all_orders_mapping",
    "prepare_all_orders",
    "add_style_size",
    "cancelled_rows",
    "carrier_return_rows",
    "STYLE_COL",
    "SIZE_COL",
    "UNIT_PRICE_COL",
]
