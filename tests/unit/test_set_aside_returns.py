"""A return of an order the orders file holds but that was set aside while loading (cancelled, voided, an exchange
order made by a returns app, an add-on line such as a gift card) is not an "order not found": a returns-app export
beside a real Shopify export had 16 such returns listed as unmatched, for orders plainly in the file. They are
their own kind (set_aside_return) with the order's own reason, and the unmatched count holds only unknown ones.

Expected kinds come from the raw export (its Cancelled at, Financial Status, Tags and Lineitem requires shipping
columns), read here with pandas, not from the loader."""

from __future__ import annotations


import pandas as pd
import pytest

from data.ingest import SourceFile, load_dataset
from tests.unit.shopify_raw import order_kinds, raw_export


@pytest.fixture(scope="module")
def case():
    name, content, raw = raw_export(seed=11, n_orders=1500)
    kinds = order_kinds(raw)
    cancelled, exchange, live = kinds["cancelled"], kinds["exchange"], kinds["live"]
    addon = raw["Lineitem requires shipping"] == "false"
    goods = raw[live & ~addon & (raw["Lineitem sku"] != "")]
    picks = {
        "cancelled": raw[cancelled & (raw["Lineitem sku"] != "")].iloc[0],
        "addon": raw[live & addon & (raw["Lineitem sku"] != "")].iloc[0],
        "normal": goods.iloc[0],
    }
    if exchange.any():
        picks["exchange"] = raw[exchange & (raw["Lineitem sku"] != "")].iloc[0]
    # a gift card bought beside goods: its line is set aside, its order is loaded
    card = goods.iloc[[0]].copy()
    card["Lineitem sku"], card["Lineitem name"], card["Lineitem price"] = "GIFTCARD-50", "Gift card - $50", "50.00"
    card["Lineitem requires shipping"] = "false"
    raw = pd.concat([raw.iloc[: card.index[0] + 1], card, raw.iloc[card.index[0] + 1 :]], ignore_index=True)
    content = raw.to_csv(index=False).encode()
    picks["card"] = card.iloc[0]
    rows = [
        {"Order Name": r["Name"], "Product SKU": r["Lineitem sku"], "Quantity": 1, "Return Reason": "Too small"}
        for r in picks.values()
    ]
    rows.append({"Order Name": "#999999", "Product SKU": "NOPE-1", "Quantity": 1, "Return Reason": "Too small"})
    rows.append(
        {"Order Name": picks["normal"]["Name"], "Product SKU": "NEVER-SOLD", "Quantity": 1, "Return Reason": "x"}
    )
    returns = pd.DataFrame(rows).to_csv(index=False).encode()
    ds = load_dataset([SourceFile(name, content, "orders"), SourceFile("loop_returns.csv", returns, "returns")])
    return picks, ds, set(goods["Name"])


def test_returns_of_set_aside_orders_are_their_own_kind_with_the_orders_reason(case):
    picks, ds, with_goods = case
    rej = ds.rejected[ds.rejected["file"] == "loop_returns.csv"].sort_values("row")
    by_row = dict(zip(rej["row"], zip(rej["kind"], rej["reason"])))
    keys = list(picks)
    # rows are 1-based data rows in file order: the picks first, then the unknown order, then the unsold SKU
    for i, k in enumerate(keys, start=1):
        if k == "normal":
            assert i not in by_row  # loaded as a return
            continue
        kind, reason = by_row[i]
        assert kind == "set_aside_return", (k, reason)
        assert "not counted" in reason
        if k == "cancelled":
            assert "order was set aside" in reason and ("cancel" in reason.lower() or "void" in reason.lower())
        if k == "addon":  # a gift card: the line of an order whose goods were loaded, else the whole order
            whole = picks[k]["Name"] not in with_goods
            assert ("order was set aside" if whole else "order line was set aside") in reason
            assert "not merchandise" in reason
        if k == "card":
            assert "order line was set aside" in reason and "gift card" in reason
        if k == "exchange":
            assert "Exchange order" in reason
    n = len(keys)
    assert by_row[n + 1] == ("unmatched_return", "Order not found in the orders data.")
    assert by_row[n + 2] == ("unmatched_return", "The order exists but has no line with this SKU.")


def test_only_unknown_returns_are_counted_unmatched_and_every_row_reconciles(case):
    _, ds, _ = case
    assert len(ds.unmatched_returns) == 2
    assert len(ds.returns) == 1
    for f in ds.files:
        assert f.reconciles
    titles = [p.title for p in ds.problems]
    assert "Returns of orders set aside" in titles
    assert "Returns for unknown orders" in titles and "Returned SKU not in its order" in titles


def test_a_set_aside_line_written_in_another_case_is_still_set_aside():
    # a gift card's return whose SKU is written 'giftcard-50' for the orders file's 'GIFTCARD-50': the line was set
    # aside while loading, so its return is a set-aside return, not "the order has no line with this SKU"
    name, content, raw = raw_export(seed=11, n_orders=300)
    live = order_kinds(raw)["live"]
    goods = raw[live & (raw["Lineitem requires shipping"] == "true") & (raw["Lineitem sku"] != "")]
    card = goods.iloc[[0]].copy()
    card["Lineitem sku"], card["Lineitem name"], card["Lineitem price"] = "GIFTCARD-50", "Gift card - $50", "50.00"
    card["Lineitem requires shipping"] = "false"
    raw = pd.concat([raw.iloc[: card.index[0] + 1], card, raw.iloc[card.index[0] + 1 :]], ignore_index=True)
    returns = pd.DataFrame({"Order Name": [card.iloc[0]["Name"]], "Product SKU": ["giftcard-50"], "Quantity": [1]})
    ds = load_dataset(
        [
            SourceFile(name, raw.to_csv(index=False).encode(), "orders"),
            SourceFile("returns.csv", returns.to_csv(index=False).encode(), "returns"),
        ]
    )
    (kind,) = ds.rejected.loc[ds.rejected["file"] == "returns.csv", "kind"]
    assert kind == "set_aside_return" and len(ds.unmatched_returns) == 0
