"""Saved revenue is the value of the sale kept by an exchange or store credit, not its (zero) refund."""

import pytest

from analysis.prepare import prepare
from analysis.reasons import resolution_by_segment
from data.ingest import SourceFile, load_dataset

ORDERS = """order_id,order_date,sku,quantity,unit_price,collection
O1,2024-01-01,A,2,30,Shirts
O2,2024-01-02,A,1,30,Shirts
O3,2024-01-03,A,1,30,Shirts
"""
RETURNS = """order_id,sku,quantity,resolution,refund_amount
O1,A,2,Exchange,0
O2,A,1,Store credit,0
O3,A,1,Refund,30
"""


def test_saved_revenue_counts_the_kept_sale():
    ds = load_dataset(
        [SourceFile("o.csv", ORDERS.encode(), "orders"), SourceFile("r.csv", RETURNS.encode(), "returns")]
    )
    res = resolution_by_segment(prepare(ds), "collection").set_index("segment")
    # by hand: exchange 2 x 30 + store credit 1 x 30 kept; the refund of 30 is refunded value
    assert res.loc["Shirts", "saved_revenue"] == pytest.approx(90.0)
    assert res.loc["Shirts", "refunded_value"] == pytest.approx(30.0)
