"""Concentration and outliers (analysis.concentration): a few orders carrying most returned units are said
first, in words, with the view without them; "within noise" carries its reason; verdicts agree with intervals.
Expected numbers are worked out by hand in the comments."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.concentration import (
    agree_with_interval,
    concentration,
    concentration_sentences,
    drop_orders,
    noise_reason,
    outlier_orders,
)
from analysis.prepare import prepare
from tests.builders import make_dataset
from tests.conftest import REAL_DATA


def wholesale(big: str = "W"):
    """20 small orders of 10 units (1 returned each, 20 returned) + one order W of 1,000 units with 600 returned
    on one credit note: returned units 620, W is 600/620 = 96.8% of them; sold 1,200, W is 1000/1200 = 83%."""
    orders, returns = [], []
    for i in range(20):
        orders.append(dict(order_id=f"O{i}", order_date="2025-01-02", sku="a", quantity=10, unit_price=2.0))
        returns.append(dict(order_id=f"O{i}", sku="a", quantity=1, return_date="2025-01-10", return_id=f"R{i}"))
    orders.append(dict(order_id=big, order_date="2025-01-03", sku="b", quantity=1000, unit_price=1.0))
    returns.append(dict(order_id=big, sku="b", quantity=600, return_date="2025-01-12", return_id="C9"))
    orders.append(dict(order_id="late", order_date="2025-04-01", sku="a", quantity=1, unit_price=2.0))
    return prepare(make_dataset(orders, returns), window_days=14)


def test_one_order_is_said_first_with_the_rate_without_it():
    p = wholesale()
    found = concentration(p)
    assert len(found) == 1  # the units-sold finding names the same order, so it is not repeated
    c = found[0]
    assert c.basis == "returned units" and c.orders == ("W",)
    assert c.share == pytest.approx(600 / 620)
    assert (c.part, c.total) == (600, 620)
    assert c.rate_with == pytest.approx(620 / 1200)
    assert c.rate_without == pytest.approx(20 / 200)  # 20 small orders: 20 of 200 units
    assert c.credit_notes == ("C9",)
    s = c.sentence
    assert s.startswith("One order (#W, 1,000 units sold) is 97% of all returned units: 600 of 620")
    assert "booked on one credit note (C9)" in s and "10.0%, not 51.7%" in s


def test_shopify_order_numbers_keep_their_one_hash():
    # Shopify writes its order numbers "#1037": the sentence names "#1037", not "##1037"
    (c,) = concentration(wholesale("#1037"))
    assert c.sentence.startswith("One order (#1037, 1,000 units sold)")


def test_many_small_orders_say_nothing():
    orders = [dict(order_id=f"O{i}", order_date="2025-01-02", sku="a", quantity=2, unit_price=2.0) for i in range(40)]
    orders.append(dict(order_id="late", order_date="2025-04-01", sku="a", quantity=1, unit_price=2.0))
    returns = [dict(order_id=f"O{i}", sku="a", quantity=1, return_date="2025-01-10") for i in range(0, 40, 2)]
    p = prepare(make_dataset(orders, returns), window_days=14)
    # largest 3 orders hold 3 of 20 returned units (15%) and 6 of 80 sold (7.5%): below the 25% threshold
    assert concentration(p) == [] and concentration_sentences(p) == []


def test_drop_orders_gives_the_view_without_them():
    p = wholesale()
    q = drop_orders(p, outlier_orders(concentration(p)))
    L = q.mature_lines
    assert L["returned_units"].sum() == 20 and L["quantity"].sum() == 200
    assert "W" not in set(q.orders["order_id"]) and "W" not in set(q.returns["order_id"])
    assert concentration(q) == []
    assert drop_orders(p, ()) is p


def test_bad_options_are_refused():
    with pytest.raises(ValueError):
        concentration(wholesale(), min_share=0)
    with pytest.raises(ValueError):
        concentration(wholesale(), max_orders=0)


def test_within_noise_reason_in_words():
    assert (
        noise_reason({"verdict": "within noise", "orders_returned": 2, "returned": 7128, "n": 7804})
        == "these 7,128 returned units come from 2 orders"
    )
    assert noise_reason({"verdict": "clearly higher", "orders_returned": 2}) == ""
    r = noise_reason({"verdict": "within noise", "orders_returned": 40, "returned": 300, "n": 10_000, "deff": 25.0})
    assert "about 400 separate units" in r  # 10,000 / 25
    r = noise_reason(
        {
            "verdict": "within noise",
            "orders_returned": 40,
            "returned": 30,
            "n": 300,
            "deff": 1.2,
            "ci_low": 0.07,
            "ci_high": 0.14,
            "baseline_rate": 0.09,
        }
    )
    assert r == "its 95% interval (7.0% to 14.0%) includes the comparison rate 9.0%"


def test_verdict_colour_agrees_with_the_interval_drawn():
    seg = pd.DataFrame(
        {
            "verdict": ["clearly higher", "clearly lower", "clearly higher", "within noise"],
            "ci_low": [0.015, 0.02, 0.20, 0.05],
            "ci_high": [0.14, 0.09, 0.30, 0.12],
            "baseline_rate": [0.08, 0.08, 0.10, 0.08],
            "orders_returned": [30, 30, 30, 1],
            "returned": [10, 10, 50, 9],
            "n": [100, 100, 200, 40],
            "deff": [1.0] * 4,
        }
    )
    out = agree_with_interval(seg)
    # "Full refresh red with an interval of 1.5-14%" around 8%: not a claim the drawing supports
    assert list(out["verdict"]) == ["within noise", "within noise", "clearly higher", "within noise"]
    assert out["noise_reason"].iloc[0] == "its 95% interval (1.5% to 14.0%) reaches the comparison rate 8.0%"
    assert out["noise_reason"].iloc[3] == "these 9 returned units come from 1 order"
    assert out["noise_reason"].iloc[2] == ""


@pytest.mark.slow
def test_real_file_one_wholesale_order_is_60_percent_of_returns():
    if not REAL_DATA.exists():
        pytest.skip(f"real export not found at {REAL_DATA} (it lives in ../shared/data)")
    from data.ingest import SourceFile, load_dataset

    # window 108 days (the pre-Kaplan-Meier estimate): the estimated 120 days leaves order #518505 among the recent
    p = prepare(
        load_dataset([SourceFile(REAL_DATA.name, REAL_DATA.read_bytes())], name="Online Retail II"), window_days=108
    )
    L = p.mature_lines
    by = L.groupby("order_id")["returned_units"].sum()  # independent plain-pandas count
    top = by.idxmax()
    c = concentration(p)[0]
    assert c.orders == (str(top),) and c.part == by.max()
    assert c.share == pytest.approx(by.max() / by.sum())
    assert 0.55 < c.share < 0.65
    assert c.sentence.startswith(f"One order (#{top}, ")


def test_orders_vs_units_reason_follows_the_direction():
    more = noise_reason(
        {
            "verdict": "within noise",
            "orders_returned": 50,
            "returned": 50,
            "n": 100,
            "baseline_rate": 0.1,
            "test": "orders vs units disagree",
        }
    )
    less = noise_reason(
        {
            "verdict": "within noise",
            "orders_returned": 50,
            "returned": 5,
            "n": 1000,
            "baseline_rate": 0.1,
            "test": "orders vs units disagree",
        }
    )
    assert more.startswith("by units it returns more") and less.startswith("by units it returns less")


@pytest.mark.slow
def test_real_file_verdicts_say_why_and_agree_with_their_intervals():
    if not REAL_DATA.exists():
        pytest.skip(f"real export not found at {REAL_DATA} (it lives in ../shared/data)")
    from analysis.segments import segment_table
    from data.ingest import SourceFile, load_dataset

    # window 108 days (the pre-Kaplan-Meier estimate): the estimated 120 days leaves order #518505 among the recent
    p = prepare(
        load_dataset([SourceFile(REAL_DATA.name, REAL_DATA.read_bytes())], name="Online Retail II"), window_days=108
    )
    prod = agree_with_interval(segment_table(p, "product", cost_per_return=10.0)).set_index("segment")
    cups = prod.loc["SET/6 FRUIT SALAD PAPER CUPS"]
    assert (cups["returned"], cups["n"]) == (7128, 7804)  # the "7,128 of 7,804 units returned"
    assert cups["verdict"] == "within noise"
    assert cups["noise_reason"] == f"these 7,128 returned units come from {int(cups['orders_returned'])} order" + (
        "s" if cups["orders_returned"] != 1 else ""
    )
    for name in ("product", "collection"):
        seg = agree_with_interval(segment_table(p, name, cost_per_return=10.0))
        up = seg["verdict"].isin(["clearly higher", "higher (borderline)"])
        down = seg["verdict"] == "clearly lower"
        assert (seg.loc[up, "ci_low"] > seg.loc[up, "baseline_rate"]).all()
        assert (seg.loc[down, "ci_high"] < seg.loc[down, "baseline_rate"]).all()
        assert (seg.loc[seg["verdict"] == "within noise", "noise_reason"].str.len() > 0).all()
    # "Full refresh red with an interval of 1.5-14%": consumer intents are not claimed for wholesale baskets at all
    assert not p.has("intent") and segment_table(p, "intent", cost_per_return=10.0).empty
