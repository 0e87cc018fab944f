"""A segment the pages call 'clearly higher' is either on the fix list or said to be left off, with why.

On the generated Shopify exports with a returns-app export, the Collections page coloured ACCESSORIES red ('clearly
higher', 12.4% vs 6.6%) and the Overview said '4 segments are clearly above their comparison group' next to 'No
segment returns significantly more than the rest once chance is allowed for', while the Fix list said 'Nothing to
fix yet' and listed nothing as left off: the four (the collection, its category, its one product and the lines
without a size) were kept off as structure (a collection alone in its category can only be compared with other
categories: analysis.fixlist.structural) or as '(not set)', without a word.
"""

from __future__ import annotations

import pandas as pd

from analysis.engine import analyse
from analysis.fixlist import dropped_sentences
from analysis.overview import plain_summary
from analysis.prepare import prepare
from tests.builders import make_dataset


def _data():
    rows, rets = [], []
    # Jeans: two collections returning alike (every 20th order); Accessories: one collection returning every 4th
    layout = (("Jeans", "SKINNY", 1500, 20), ("Jeans", "STRAIGHT", 1500, 20), ("Accessories", "ACC", 600, 4))
    for cat, col, n, every in layout:
        for i in range(n):
            oid = f"{col}{i}"
            sku = f"{col}-{i % 3}"
            rows.append(
                {
                    "order_id": oid,
                    "order_date": pd.Timestamp("2024-01-01") + pd.Timedelta(days=i % 150),
                    "sku": sku,
                    "quantity": 1,
                    "unit_price": 30.0,
                    "collection": col,
                    "category": cat,
                    "customer_id": f"c{oid}",
                }
            )
            if i % every == 0:
                rets.append({"order_id": oid, "sku": sku, "quantity": 1})
    rows.append(
        {
            "order_id": "late",
            "order_date": "2024-08-30",
            "sku": "SKINNY-0",
            "quantity": 1,
            "collection": "SKINNY",
            "category": "Jeans",
        }
    )
    return make_dataset(rows, pd.DataFrame(rets))


def test_a_clearly_higher_segment_kept_off_as_structure_is_said():
    p = prepare(_data(), window_days=30)
    a = analyse(p, briefs=False)
    seg = a.segments.set_index(["dimension", "segment"])
    assert seg.loc[("collection", "ACC"), "verdict"] == "clearly higher"  # by construction: 25% vs 5%
    listed = set(zip(a.fix_list["dimension"], a.fix_list["segment"]))
    said = dropped_sentences(a.dropped)
    for dim, s in seg.index[seg["verdict"] == "clearly higher"]:
        assert (dim, s) in listed or any(x.startswith(f"{s} ({dim}") for x in said), (dim, s, said)
    acc = next(x for x in said if x.startswith("ACC (collection)"))
    assert "only collection of its category (Accessories)" in acc, acc
    summary = " ".join(plain_summary(p, a.totals, a.fix_list, a.segments))
    assert "No segment returns significantly more than the rest" not in summary, summary


def test_within_noise_is_not_called_no_action():
    # 'within noise' means the data cannot tell the difference from chance (a small segment can hide a real one),
    # not that it needs no action: on the real Online Retail II export the summary said '3,928 differences are
    # within noise and need no action', most of them products with a few dozen units
    p = prepare(_data(), window_days=30)
    a = analyse(p, briefs=False)
    summary = " ".join(plain_summary(p, a.totals, a.fix_list, a.segments))
    assert "need no action" not in summary
    assert "differences are within noise: too small to tell from chance at this volume" in summary, summary


def test_the_overview_panel_and_the_summary_say_the_same_of_an_empty_list():
    # the Overview's "Top of the fix list" panel read "No segment returns significantly more than the rest" beside a
    # summary saying the clearly higher segments are left off: both now read analysis.overview.empty_list_sentence
    from analysis.overview import empty_list_sentence

    p = prepare(_data(), window_days=30)
    a = analyse(p, briefs=False)
    assert a.fix_list.empty
    said = empty_list_sentence(a.totals, a.segments)
    assert said.startswith("Nothing is on the fix list") and said in plain_summary(p, a.totals, a.fix_list, a.segments)
