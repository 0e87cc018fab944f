"""The fix list ignores segments whose returns come from a handful of orders (one cancelled bulk order)."""

from dataclasses import replace

import pandas as pd

from analysis.engine import analyse
from analysis.fixlist import MIN_RETURNING_ORDERS
from analysis.prepare import prepare
from data.demo import generate_dataset


def test_one_bulk_order_returned_is_not_a_fix_list_item():
    ds = generate_dataset(seed=4, n_orders=6000)
    o, r = ds.orders, ds.returns
    base = o.iloc[0]
    day = o["order_date"].min() + pd.Timedelta(days=30)
    bulk = pd.DataFrame(
        [
            base.to_dict()
            | {
                "order_id": f"BULK{i}",
                "sku": "VASE-1",
                "product_name": "Bulk Vase",
                "quantity": 2000 if i == 0 else 1,
                "order_date": day + pd.Timedelta(days=i),
            }
            for i in range(12)
        ]
    ).astype(o.dtypes.to_dict())
    ret = pd.DataFrame(
        [
            r.iloc[0].to_dict()
            | {"order_id": "BULK0", "sku": "VASE-1", "quantity": 2000, "return_date": day + pd.Timedelta(days=2)}
        ]
    ).astype(r.dtypes.to_dict())
    ds2 = replace(ds, orders=pd.concat([o, bulk], ignore_index=True), returns=pd.concat([r, ret], ignore_index=True))
    a = analyse(prepare(ds2), briefs=False)
    seg = a.segments[(a.segments["dimension"] == "product") & (a.segments["segment"] == "Bulk Vase")].iloc[0]
    # the raw numbers look dramatic: 2000 of 2011 units returned, from a single order
    assert seg["returned"] == 2000 and seg["orders_returned"] == 1 < MIN_RETURNING_ORDERS
    assert "Bulk Vase" not in set(a.fix_list["segment"])
    # the planted collections are still there. (Not bracketing any more: the one 2,000-unit returned order sits
    # in the rest of every order-level comparison and inflates its design effect about 800-fold; under the
    # list-wide false-discovery family of issue 11 the intent rows no longer scrape through at q = 0.089.)
    assert {"Linen Shirts", "Smart Lighting"} <= set(a.fix_list["segment"])
