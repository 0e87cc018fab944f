"""The refunded / exchanged / store-credit shares are one number: the headline (totals, Overview, CLI, workbook),
the Reasons & outcomes tiles and each fix-list row's 'refunds N%' count the same returned units.

Seen in review on the demo's orders.xlsx with a returns file whose outcome column also holds text no rule
recognises ('Approved', 'Repaired': normalize_resolution's 'other'): the headline read refund / (refund + exchange +
store credit) while the Reasons page and the fix list divided by every return with any outcome text, so one dataset
said 'refunded 75%' (CLI) and 'Refunded 60.0%' (Reasons) and 'refunds 60%' (fix list); and with only unrecognised
text, 'refunded n/a' beside 'Refunded 0.0%'. Unrecognised text says nothing about whether money went back: those
units are left out of every share, as the headline already did. Expected values by hand below.
"""

from __future__ import annotations

import math

import pytest

from analysis.fixlist import _resolution_shares
from analysis.metrics import totals
from analysis.prepare import prepare
from analysis.reasons import outcome_shares, resolution_by_segment
from tests.builders import make_dataset


def _data(outcomes: list[str]):
    orders = [
        {
            "order_id": f"O{i}",
            "order_date": "2024-01-10",
            "sku": f"S{i % 2}",
            "quantity": 1,
            "unit_price": 20.0,
            "collection": "A" if i % 2 else "B",
        }
        for i in range(40)
    ]
    rets = [
        {"order_id": f"O{i}", "sku": f"S{i % 2}", "quantity": 1, "return_date": "2024-01-20", "resolution": res}
        for i, res in enumerate(outcomes)
    ]
    ds = make_dataset(orders, rets)
    return prepare(ds, window_days=30)


def _three(p):
    head = totals(p)["refund_share"]
    tile = outcome_shares(resolution_by_segment(p, "collection"))["refund"]
    row = _resolution_shares(p.returns)[0]
    return head, tile, row


def test_unrecognised_outcome_text_is_left_out_of_every_share():
    # 6 refunds, 2 exchanges, 2 unrecognised: refunded 6 / 8 = 75% everywhere
    p = _data(["Refund"] * 6 + ["Exchange"] * 2 + ["Approved", "Repaired"])
    for got in _three(p):
        assert got == pytest.approx(0.75)
    assert outcome_shares(resolution_by_segment(p, "collection"))["exchange"] == pytest.approx(0.25)


def test_only_unrecognised_outcome_text_is_unknown_not_zero():
    p = _data(["Approved"] * 5 + ["SELLABLE"] * 3)
    head, tile, row = _three(p)
    assert head is None or math.isnan(head)
    assert math.isnan(tile) and math.isnan(row)
