"""A segment whose unit rate and order rate point opposite ways gets no verdict (wholesale-style data)."""

import pandas as pd

from analysis.prepare import prepare
from analysis.segments import segment_table
from data.ingest import SourceFile, load_dataset


def test_one_huge_returned_order_does_not_make_a_collection_clearly_lower_or_higher():
    rows, rets = [], []
    day = pd.Timestamp("2024-01-01")
    # collection A: 40 single-unit orders, none returned, and one 1,000-unit order returned in full
    for i in range(40):
        rows.append((f"A{i}", day + pd.Timedelta(days=i % 60), "A-1", 1, "A"))
    rows.append(("ABIG", day + pd.Timedelta(days=5), "A-1", 1000, "A"))
    rets.append(("ABIG", "A-1", 1000))
    # collection B: 300 single-unit orders, every fifth returned
    for i in range(300):
        rows.append((f"B{i}", day + pd.Timedelta(days=i % 60), "B-1", 1, "B"))
        if i % 5 == 0:
            rets.append((f"B{i}", "B-1", 1))
    rows.append(("LAST", day + pd.Timedelta(days=200), "B-1", 1, "B"))  # makes every order above mature
    o = pd.DataFrame(rows, columns=["order_id", "order_date", "sku", "quantity", "collection"])
    r = pd.DataFrame(rets, columns=["order_id", "sku", "quantity"])
    ds = load_dataset(
        [
            SourceFile("o.csv", o.to_csv(index=False).encode(), "orders"),
            SourceFile("r.csv", r.to_csv(index=False).encode(), "returns"),
        ]
    )
    t = segment_table(prepare(ds), "collection", cost_per_return=10.0).set_index("segment")
    a = t.loc["A"]
    # by units A returns 1000/1040 = 96% vs 20%; by orders 1/41 = 2% vs 20%: the two views disagree
    assert a["return_rate"] > 0.9 and a["orders_returned"] == 1
    assert a["verdict"] == "within noise" and pd.isna(a["direction"])
    assert a["test"] in ("orders vs units disagree", "fewer than 5 returning orders")
