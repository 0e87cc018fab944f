"""Headline metrics on a tiny hand-built Dataset; expected values worked out by hand in comments.

make_dataset() is also used by the other engine tests to build small canonical Datasets.
"""

from __future__ import annotations

import math

import pytest

from analysis.metrics import METRICS, format_value, totals
from analysis.prepare import prepare
from data.model import Dataset
from tests.builders import make_dataset  # also imported from here by the other engine tests


def tiny() -> Dataset:
    """4 orders, 6 lines, 9 units; 3 units returned from 2 orders (all mature: window 14 days)."""
    d1, d2 = "2025-01-01", "2025-01-02"
    orders = [
        dict(order_id="A", order_date=d1, sku="s1", quantity=2, unit_price=10.0, collection="C1", channel="web"),
        dict(order_id="A", order_date=d1, sku="s2", quantity=1, unit_price=20.0, collection="C2", channel="web"),
        dict(order_id="B", order_date=d1, sku="s1", quantity=1, unit_price=10.0, collection="C1", channel="app"),
        dict(order_id="C", order_date=d2, sku="s3", quantity=3, unit_price=5.0, collection="C2", channel="web"),
        dict(order_id="D", order_date=d2, sku="s2", quantity=1, unit_price=20.0, collection="C2", channel="app"),
        dict(order_id="D", order_date=d2, sku="s3", quantity=1, unit_price=5.0, collection="C2", channel="app"),
        # a late order (placed 60 days later) to make the first four mature with a 14-day window
        dict(order_id="Z", order_date="2025-03-03", sku="s1", quantity=1, unit_price=10.0, collection="C1"),
    ]
    returns = [
        dict(
            order_id="A",
            sku="s1",
            quantity=2,
            return_date="2025-01-10",
            reason="Too small",
            resolution="Refund",
            refund_amount=20.0,
        ),
        dict(
            order_id="C",
            sku="s3",
            quantity=1,
            return_date="2025-01-12",
            reason="changed my mind",
            resolution="Exchange",
            refund_amount=0.0,
        ),
    ]
    return make_dataset(orders, returns)


def test_totals_on_hand_built_dataset():
    p = prepare(tiny(), window_days=14)
    t = totals(p, 12.5, unmatched_returns=3, rejected_rows=7)
    # mature: orders A, B, C, D (Z is 60 days after them, within the 14-day window of the last date)
    assert t["orders"] == 4 and t["order_lines"] == 6
    assert t["units_sold"] == 9  # 2+1+1+3+1+1
    assert t["units_returned"] == 3  # 2 from A/s1, 1 from C/s3
    assert t["unit_return_rate"] == pytest.approx(3 / 9)
    assert t["order_return_rate"] == pytest.approx(2 / 4)  # A and C
    # sold value 20+20+10+15+20+5 = 90; returned value: refund 20 (A/s1), exchange line valued 0 refund
    assert t["value_return_rate"] == pytest.approx(20 / 90)
    assert t["returned_value"] == pytest.approx(20.0)
    assert t["refund_share"] == pytest.approx(2 / 3)
    assert t["exchange_share"] == pytest.approx(1 / 3)
    assert t["store_credit_share"] == pytest.approx(0.0)
    assert t["saved_revenue"] == pytest.approx(5.0)  # one exchanged unit at 5.0
    assert t["unmatched_returns"] == 3 and t["rejected_rows"] == 7
    assert t["immature_orders_excluded"] == 1 and t["window_days"] == 14
    assert (t["date_from"], t["date_to"]) == ("2025-01-01", "2025-01-02")
    assert t["cost_per_return"] == 12.5


def test_totals_rejects_negative_cost():
    with pytest.raises(ValueError, match="non-negative"):
        totals(prepare(tiny(), window_days=14), -1.0)


def test_metrics_declared_once_with_formats():
    p = prepare(tiny(), window_days=14)
    t = totals(p)
    for key in t:
        if key not in ("date_from", "date_to"):
            assert key in METRICS, key
    assert "mature" in METRICS["unit_return_rate"].label
    assert format_value("unit_return_rate", 0.1234) == "12.3%"
    assert format_value("unit_return_rate", math.nan) == "n/a"
