"""prepare(): returns allocated to lines, intents, customer type and maturity on a hand-built example.

Expected values are worked out by hand from the rows below (the comments say how)."""

import pandas as pd
import pytest

from analysis.prepare import Filters, filter_prepared, prepare
from data.ingest import SourceFile, load_dataset

ORDERS = """order_id,order_date,sku,quantity,unit_price,product_name,collection,size,customer_id,channel
O1,2024-01-01,A-M,1,30,Shirt,Shirts,M,c1,Web
O1,2024-01-01,A-L,1,30,Shirt,Shirts,L,c1,Web
O2,2024-01-02,B,1,10,Mug,Kitchen,,c2,App
O3,2024-01-03,C,1,5,Cup,Kitchen,,c3,Web
O3,2024-01-03,D,1,7,Lamp,Lighting,,c3,Web
O3,2024-01-03,E,1,9,Rug,Rugs,,c3,Web
O4,2024-01-04,B,2,10,Mug,Kitchen,,c1,Web
O5,2024-06-30,B,1,10,Mug,Kitchen,,c4,App
"""
RETURNS = """order_id,sku,quantity,return_date,reason,resolution,refund_amount
O1,A-L,1,2024-01-10,Too big,Refund,30
O4,B,3,2024-01-12,Changed my mind,Exchange,
"""


@pytest.fixture(scope="module")
def prepared():
    ds = load_dataset(
        [SourceFile("orders.csv", ORDERS.encode(), "orders"), SourceFile("returns.csv", RETURNS.encode(), "returns")]
    )
    return prepare(ds)


def test_intents_follow_the_documented_rules(prepared):
    intent = prepared.orders.set_index("order_id")["intent"]
    # O1: one product in sizes M and L; O2: one unit; O3: three collections; O4: two units of one sku
    assert intent["O1"] == "bracketing"
    assert intent["O2"] == "single_item"
    assert intent["O3"] == "full_refresh"
    assert intent["O4"] == "multi_item"


def test_returned_units_are_clipped_to_units_sold(prepared):
    lines = prepared.lines.set_index(["order_id", "sku"])
    assert lines.loc[("O1", "A-L"), "returned_units"] == 1
    assert lines.loc[("O1", "A-M"), "returned_units"] == 0
    # 3 returned against 2 bought: clipped to 2
    assert lines.loc[("O4", "B"), "returned_units"] == 2
    assert int(prepared.lines["returned_units"].sum()) == 3


def test_returned_value_uses_refund_else_price(prepared):
    lines = prepared.lines.set_index(["order_id", "sku"])
    assert lines.loc[("O1", "A-L"), "returned_value"] == pytest.approx(30.0)  # refund amount
    assert lines.loc[("O4", "B"), "returned_value"] == pytest.approx(20.0)  # 2 units x price 10, no refund amount
    assert lines.loc[("O4", "B"), "exchange_units"] == pytest.approx(2.0)


def test_customer_type(prepared):
    ct = prepared.orders.set_index("order_id")["customer_type"]
    assert ct["O1"] == "first" and ct["O4"] == "repeat"  # c1 bought on Jan 1, then again on Jan 4


def test_generic_returns_file_is_not_taken_for_amazon():
    from data.ingest import inspect_file

    info = inspect_file("returns.csv", RETURNS.encode())
    assert info.layout == "generic" and info.role == "returns"
    assert info.suggested["resolution"] == "resolution" and info.suggested["refund_amount"] == "refund_amount"


def test_maturity_excludes_recent_orders(prepared):
    # fewer than 20 returns with dates: default 30-day window; last order 2024-06-30 -> cutoff 2024-05-31
    assert prepared.window_days == 30 and prepared.window_source == "default"
    assert prepared.cutoff_date == pd.Timestamp("2024-05-31")
    assert prepared.immature_orders_excluded == 1
    assert set(prepared.mature_orders["order_id"]) == {"O1", "O2", "O3", "O4"}


def test_user_window_and_reason_override():
    ds = load_dataset(
        [SourceFile("orders.csv", ORDERS.encode(), "orders"), SourceFile("returns.csv", RETURNS.encode(), "returns")]
    )
    p = prepare(ds, window_days=200, reason_overrides={"Too big": "fit_other"})
    # every order is within 200 days of the last one: nothing can be excluded, and the note says so
    assert p.window_source == "user" and p.immature_orders_excluded == 0
    assert any("return window" in n for n in p.notes)
    assert p.returns.set_index("sku").loc["A-L", "reason_category"] == "fit_other"
    assert prepare(ds).returns.set_index("sku").loc["A-L", "reason_category"] == "size_too_large"


def test_filters_select_orders_and_lines(prepared):
    f = filter_prepared(prepared, Filters(channels=("App",)))
    assert set(f.orders["order_id"]) == {"O2", "O5"}
    f = filter_prepared(prepared, Filters(collections=("Shirts",)))
    # O1's returned shirt counts; by hand: order O1 holds 2 shirt units, 1 returned
    o1 = f.orders.set_index("order_id").loc["O1"]
    assert (o1["units"], o1["returned_units"], bool(o1["any_return"])) == (2, 1, True)
    f = filter_prepared(prepared, Filters(collections=("Kitchen",)))
    assert set(f.lines["sku"]) == {"B", "C"}
    # O3 holds a Kitchen cup (not returned) next to items of other collections: only the cup counts
    o3 = f.orders.set_index("order_id").loc["O3"]
    assert (o3["units"], o3["returned_units"]) == (1, 0)
    assert set(f.returns["sku"]) == {"B"}
    assert filter_prepared(prepared, Filters()) is prepared
