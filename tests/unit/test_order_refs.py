"""Order numbers are written once with their '#': Shopify's order names already start with one ('#1012').

On the generated Shopify exports with a returns-app export the CLI's first line read 'Two orders (##1012, ##1018;
5 units sold) are 40% of all returned units'.
"""

from __future__ import annotations

import pandas as pd

from analysis.concentration import concentration, order_ref
from analysis.prepare import prepare
from tests.builders import make_dataset


def test_order_ref():
    assert [order_ref(o) for o in ("#1012", "1012", "W", " #7")] == ["#1012", "#1012", "#W", "#7"]


def test_a_shopify_order_name_is_not_given_a_second_hash():
    orders = [dict(order_id=f"#{1000 + i}", order_date="2025-01-02", sku="a", quantity=10) for i in range(20)]
    orders.append(dict(order_id="#2000", order_date="2025-01-03", sku="b", quantity=1000))
    orders.append(dict(order_id="#late", order_date="2025-04-01", sku="a", quantity=1))
    rets = [dict(order_id=f"#{1000 + i}", sku="a", quantity=1) for i in range(20)]
    rets.append(dict(order_id="#2000", sku="b", quantity=600))
    p = prepare(make_dataset(orders, pd.DataFrame(rets)), window_days=14)
    s = concentration(p)[0].sentence
    assert s.startswith("One order (#2000, 1,000 units sold)"), s
