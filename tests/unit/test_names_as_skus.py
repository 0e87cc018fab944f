"""Files that name their items instead of giving SKUs: a simple orders export or a returns form with a product
column and no SKU column was refused ("Missing required column 'sku'"), and a returns form giving the product title
beside an orders file with SKUs matched nothing. The name now tells items apart, and a title matches its order's
only line of that name. Expected counts are worked out by hand in the comments."""

from __future__ import annotations

from analysis.prepare import prepare
from data.ingest import SourceFile, load_dataset
from data.mapping import suggest_mapping

NAMES = b"""Order,Date,Product,Qty,Price
A1,2024-03-01,Classic Tee,1,20
A1,2024-03-01,Canvas Cap,1,20
A2,2024-03-02,Canvas Cap,2,15
A3,2024-03-05,Linen Shirt,1,30
"""

SKUS = b"""Order,Date,SKU,Product,Qty,Price
A1,2024-03-01,TEE-M,Classic Tee,1,20
A1,2024-03-01,CAP-1,Canvas Cap,1,20
A2,2024-03-02,TEE-S,Classic Tee,1,15
A2,2024-03-02,TEE-L,Classic Tee,1,15
A3,2024-03-05,CAP-1,Canvas Cap,1,15
"""

TITLES = b"""Order,Return Date,Product,Qty,Reason
A1,2024-03-10,classic  TEE,1,Too big
A2,2024-03-10,Classic Tee,1,Too big
A3,2024-03-10,Mug,1,Damaged
"""


def _load(orders: bytes, returns: bytes):
    return load_dataset([SourceFile("orders.csv", orders, "orders"), SourceFile("returns.csv", returns, "returns")])


def test_names_tell_items_apart_when_no_file_has_skus():
    returns = b"Order,Return Date,Product,Qty\nA1,2024-03-10,canvas cap,1\nA2,2024-03-11,Canvas Cap,1\n"
    ds = _load(NAMES, returns)
    assert all(f.reconciles and f.rows_rejected == 0 for f in ds.files)
    assert sorted(ds.orders["sku"]) == ["Canvas Cap", "Canvas Cap", "Classic Tee", "Linen Shirt"]
    for f in ds.files:
        assert any(n.startswith("No SKU column: items are told apart by their names ('Product')") for n in f.notes)
    t = prepare(ds, window_days=1).lines
    # by hand: 5 units sold, 2 returned (A1's cap written in lower case, A2's cap: 1 of its 2)
    assert int(t["quantity"].sum()) == 5 and int(t["returned_units"].sum()) == 2


def test_a_returned_title_matches_its_orders_only_line_of_that_name():
    ds = _load(SKUS, TITLES)
    r = ds.returns
    # A1 has one Classic Tee line (TEE-M): matched, case and spaces aside
    assert r.loc[r["order_id"] == "A1", "sku"].tolist() == ["TEE-M"]
    um = ds.unmatched_returns
    # A2 holds two Classic Tee lines (S and L): which size came back is unknown, so it stays unmatched; A3 never had
    # a Mug
    assert sorted(um["order_id"]) == ["A2", "A3"] and set(ds.rejected["kind"]) == {"unmatched_return"}
    (rf,) = [f for f in ds.files if f.role == "returns"]
    assert (rf.rows_read, rf.rows_loaded, rf.rows_rejected) == (3, 1, 2)
    assert any("1 return line(s) name the product instead of the SKU" in n for n in rf.notes)


def test_a_lone_item_header_is_the_sku():
    cols = ["Order No", "Date", "Item", "Qty", "Unit Price"]
    assert suggest_mapping(cols, "orders")["sku"] == "Item"
    # with a code column beside it, the code is the SKU
    assert suggest_mapping(["Order No", "Date", "Item", "Item Code", "Qty"], "orders")["sku"] == "Item Code"
