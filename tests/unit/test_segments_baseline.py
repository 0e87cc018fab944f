"""Issue 11: the excess and the shrinkage centre use the comparison group WITHOUT the segment, and design
effects are clustered by customer where customers repeat (METHOD 4.3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.engine import Settings, analyse
from analysis.prepare import prepare
from analysis.segments import segment_table
from tests.unit.test_metrics import make_dataset


def _orders(rows):
    """One single-unit order per (collection, returned) entry, all in category Cat; two products per collection."""
    o = pd.DataFrame(rows, columns=["collection", "returned"])
    o["order_id"] = [f"O{i}" for i in range(len(o))]
    o["sku"] = o["collection"] + "-" + (np.arange(len(o)) % 2).astype(str)
    o = o.assign(order_date="2025-03-01", quantity=1, unit_price=20.0, product_name=o["sku"], category="Cat")
    r = o[o["returned"]].assign(reason="Too small", resolution="Refund")[
        ["order_id", "sku", "quantity", "reason", "resolution"]
    ]
    return o.drop(columns="returned"), r


def test_large_segment_excess_is_measured_against_the_rest_of_its_category():
    # the example: 900 returns of 3,000 units; the rest of the category returns 10% (600 of 6,000 in two
    # other collections). Expected = 3,000 x 10% = 300, excess = 600 by plain arithmetic. The old baseline (the whole
    # category, segment included: 1,500 / 9,000 = 16.7%) gave 900 - 500 = 400.
    rows = [("Big", i < 900) for i in range(3000)]
    rows += [("Other A", i < 300) for i in range(3000)] + [("Other B", i < 300) for i in range(3000)]
    o, r = _orders(rows)
    t = segment_table(prepare(make_dataset(o, r), window_days=30), "collection", cost_per_return=10.0).set_index(
        "segment"
    )
    big = t.loc["Big"]
    assert big["reference"] == "category: Cat"
    assert big["baseline_rate"] == pytest.approx(0.10)
    assert big["expected_returns"] == pytest.approx(300.0)
    assert big["excess_returns"] == pytest.approx(600.0)
    assert big["excess_cost"] == pytest.approx(6000.0)
    # shrinkage is centred on the same baseline: between the rest's 10% and the raw 30%, so positive shrunk excess
    assert 0.10 < big["shrunk_rate"] <= 0.30
    assert big["priority_score"] == pytest.approx(big["shrunk_excess"] * 10.0) and big["priority_score"] > 0
    # "at least" excess against the same baseline: n x (one-sided Wilson lower bound - 10%) on effective counts
    assert 0 < big["conservative_excess"] < 600.0


def test_why_sentence_and_excess_agree_on_the_baseline():
    rows = [("Big", i < 900) for i in range(3000)]
    rows += [("Other A", i < 300) for i in range(3000)] + [("Other B", i < 300) for i in range(3000)]
    o, r = _orders(rows)
    a = analyse(prepare(make_dataset(o, r), window_days=30), Settings(cost_per_return=10.0), briefs=False)
    row = a.fix_list.iloc[0]
    assert row["segment"] == "Big"
    assert row["why"].startswith("returns 30.0% vs 10.0% for the rest of Cat")
    assert row["excess_returns"] == pytest.approx(600.0)


def repeat_customers(seed=5, n_customers=400, orders_each=6):
    """Customers with their own return propensity (0.02 or 0.5) who order several times, one unit per order;
    every customer buys a single collection (A or B), so B's units cluster within its customers."""
    rng = np.random.default_rng(seed)
    cust = np.repeat(np.arange(n_customers), orders_each)
    propensity = np.where(rng.random(n_customers) < 0.2, 0.5, 0.02)[cust]
    coll = np.where(rng.random(n_customers) < 0.3, "B", "A")[cust]
    ret = rng.random(len(cust)) < propensity
    o = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(cust))],
            "order_date": "2025-03-01",
            "sku": [f"{c}-1" for c in coll],
            "quantity": 1,
            "unit_price": 10.0,
            "collection": coll,
            "customer_id": [f"C{c}" for c in cust],
        }
    )
    r = o[ret].assign(reason="Too small", resolution="Refund")[["order_id", "sku", "quantity", "reason", "resolution"]]
    return o, r


def _rao_scott_by(frame: pd.DataFrame, cluster: str) -> float:
    """Ratio-estimator design effect with `cluster` as the cluster, by plain pandas (METHOD 4.2)."""
    g = frame.groupby(cluster).agg(y=("y", "sum"), m=("y", "size"))
    p, M, k = g["y"].sum() / g["m"].sum(), g["m"].sum(), len(g)
    v = k / (k - 1) * ((g["y"] - p * g["m"]) ** 2).sum() / M**2
    return max(v / (p * (1 - p) / M), 1.0)


def test_design_effect_is_clustered_by_customer_when_customers_repeat():
    o, r = repeat_customers()
    prep = prepare(make_dataset(o, r), window_days=30)
    t = segment_table(prep, "collection", cost_per_return=10.0).set_index("segment")
    lines = o.assign(y=o["order_id"].isin(r["order_id"]).astype(float))
    seg_b = lines[lines["collection"] == "B"]
    by_customer = _rao_scott_by(seg_b, "customer_id")
    by_order = _rao_scott_by(seg_b, "order_id")
    # one unit per order: clustering by order sees nothing (deff = g/(g-1) ~ 1); by customer it sees the propensity
    assert by_order == pytest.approx(1.0, abs=0.01) and by_customer > 2
    assert t.loc["B", "deff"] == pytest.approx(by_customer, rel=1e-9)
    assert t.loc["B", "rest_deff"] == pytest.approx(
        _rao_scott_by(lines[lines["collection"] == "A"], "customer_id"), rel=1e-9
    )


def test_without_repeat_customers_the_order_is_the_cluster():
    o, r = repeat_customers(orders_each=1, n_customers=2000)
    t = segment_table(prepare(make_dataset(o, r), window_days=30), "collection", cost_per_return=10.0).set_index(
        "segment"
    )
    n_b = int((o["collection"] == "B").sum())
    assert t.loc["B", "deff"] == pytest.approx(n_b / (n_b - 1), rel=1e-9)  # one unit per order: g/(g-1)
