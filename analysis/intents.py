"""Customer intent views: how intent mix differs by collection, and the bracketing story."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.prepare import INTENT_LABELS, Prepared


def intent_mix(prepared: Prepared, by: str = "collection") -> pd.DataFrame:
    """Share of each segment's matured units bought under each intent (rows sum to 1).

    >>> from data.demo import generate_dataset
    >>> from analysis.prepare import prepare
    >>> m = intent_mix(prepare(generate_dataset(seed=1, n_orders=2000)))
    >>> bool(((m.sum(axis=1) - 1).abs() < 1e-9).all())
    True
    """
    lines = prepared.mature_lines
    if not prepared.has(by) or lines.empty:
        return pd.DataFrame()
    t = lines.pivot_table(index=by, columns="intent", values="quantity", aggfunc="sum", fill_value=0, observed=True)
    t = t.reindex(columns=[c for c in INTENT_LABELS if c in t.columns])
    return t.div(t.sum(axis=1), axis=0)


@dataclass(frozen=True, slots=True)
class BracketingStory:
    orders: int
    bracketing_orders: int
    share_of_orders: float
    units_in_bracketing: int
    kept_share: float  # share of units in bracketing orders that were kept
    avg_variants: float  # mean number of sizes ordered of the bracketed product
    top_products: pd.DataFrame  # product, orders, kept_share


def bracketing_story(prepared: Prepared) -> BracketingStory:
    """How often customers order one product in several sizes, and how much of it they keep."""
    lines = prepared.mature_lines
    orders = prepared.mature_orders
    b = lines[lines["intent"] == "bracketing"]
    n_orders = len(orders)
    n_b = int(b["order_id"].nunique())
    units = int(b["quantity"].sum())
    kept = 1 - b["returned_units"].sum() / units if units else float("nan")
    # size is a categorical (analysis.prepare.CATEGORICAL_COLUMNS): filled with skus as text
    variant = b["size"].astype("string").fillna(b["sku"]) if prepared.has("size") else b["sku"]
    per = b.assign(variant=variant).groupby(["order_id", "product"], observed=True)["variant"].nunique()
    per = per[per >= 2]
    avg_var = float(per.mean()) if len(per) else float("nan")
    if len(per):
        pb = per.reset_index()[["order_id", "product"]]
        bl = b.merge(pb, on=["order_id", "product"])
        top = (
            bl.groupby("product", observed=True)
            .agg(orders=("order_id", "nunique"), units=("quantity", "sum"), returned=("returned_units", "sum"))
            .reset_index()
        )
        top["product"] = top["product"].astype("string")  # a table to show: text, not the lines' categorical
        top["kept_share"] = 1 - top["returned"] / top["units"]
        top = top.sort_values("orders", ascending=False).head(10)
    else:
        top = pd.DataFrame(columns=["product", "orders", "units", "returned", "kept_share"])
    return BracketingStory(
        n_orders, n_b, n_b / n_orders if n_orders else float("nan"), units, float(kept), avg_var, top
    )
