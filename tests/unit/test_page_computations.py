"""Computations moved out of the pages (Trends, Interventions, Reasons, Items bought together) into analysis/.
Expected values by hand on small frames."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.pair_grid import pair_grid
from analysis.reasons import outcome_shares, segments_by_returned_units
from analysis.trends import segments_by_volume


def _prepared(lines: pd.DataFrame):
    return SimpleNamespace(lines=lines, has=lambda d: d in lines.columns)


def test_segments_by_volume_orders_by_units_and_skips_unknown_dimensions():
    lines = pd.DataFrame({"collection": pd.Categorical(["x", "y", "y", "z", "z", "z"]), "quantity": [7, 1, 1, 2, 2, 2]})
    assert segments_by_volume(_prepared(lines), "collection") == ["x", "z", "y"]  # 7, 6, 2 units
    assert segments_by_volume(_prepared(lines), "channel") == []


def test_segments_by_returned_units_counts_blank_quantity_as_one():
    r = pd.DataFrame({"size": ["M", "L", "L", "", "S"], "quantity": ["3", None, "x", "9", "1"]})
    # M: 3; L: 1 + 1 (missing / unreadable quantities count one unit); S: 1; the blank segment is dropped
    assert segments_by_returned_units(r, "size") == ["M", "L", "S"]
    assert segments_by_returned_units(r, "collection") == []


def test_outcome_shares_of_a_segment_and_of_all():
    res = pd.DataFrame(
        {
            "segment": ["a", "b", "c"],
            "units": [10.0, 6.0, 3.0],
            "unknown": [2.0, 0.0, 3.0],
            "refund": [4.0, 3.0, 0.0],
            "exchange": [2.0, 3.0, 0.0],
            "store_credit": [2.0, 0.0, 0.0],
            "saved_revenue": [50.0, 30.0, 0.0],
            "refunded_value": [80.0, 45.0, 0.0],
        }
    )
    b = outcome_shares(res, "b")
    assert (b["refund"], b["exchange"], b["store_credit"]) == (0.5, 0.5, 0.0)
    every = outcome_shares(res)
    assert every["refund"] == 7 / 14 and every["store_credit"] == 2 / 14 and every["saved_revenue"] == 80.0
    c = outcome_shares(res, "c")  # no known outcome: no share, not 0%
    assert math.isnan(c["refund"]) and c["known_units"] == 0.0
    assert math.isnan(outcome_shares(res, "absent")["exchange"])


def test_pair_grid_is_symmetric_and_marks_pairs_worse_than_their_parts():
    pairs = pd.DataFrame(
        {
            "item_a": ["A", "A", "B"],
            "item_b": ["B", "C", "C"],
            "return_rate": [0.25, 0.104, 0.3],
            "gate_support": [True, True, False],
            "direction": ["higher", "none", "higher"],
        }
    )
    g = pair_grid(pairs)
    assert g.items == ["A", "B", "C"]
    assert g.rate.equals(g.rate.T) and g.text.equals(g.text.T)
    assert g.text.loc["A", "B"] == "25%*" and g.text.loc["A", "C"] == "10%"
    assert np.isnan(g.rate.loc["B", "C"]) and g.text.loc["B", "C"] == ""  # below the support gate: not coloured
    assert np.isnan(g.rate.loc["A", "A"])


def test_pair_grid_has_nothing_to_draw():
    assert pair_grid(pd.DataFrame(columns=["item_a", "item_b", "return_rate", "gate_support"])) is None
    untested = pd.DataFrame({"item_a": ["A"], "item_b": ["B"], "return_rate": [0.2], "gate_support": [False]})
    assert pair_grid(untested) is None
    many = pd.DataFrame(
        {
            "item_a": [f"i{k}" for k in range(30)],
            "item_b": [f"j{k}" for k in range(30)],
            "return_rate": 0.1,
            "gate_support": True,
        }
    )
    assert pair_grid(many) is None and pair_grid(many, max_items=60) is not None


def test_matured_rate_and_year_on_year_counts_leave_provisional_periods_out():
    from analysis.trends import matured_rate, year_on_year_counts

    s = pd.DataFrame({"returned": [3, 7, 50], "units": [20, 30, 60], "provisional": [False, False, True]})
    assert matured_rate(s) == 10 / 50
    assert matured_rate(s.assign(provisional=True)) is None
    y = pd.DataFrame({"change_vs_last_year": [0.01, 0.03, -0.02, 0.2], "provisional": [False, False, False, True]})
    assert year_on_year_counts(y) == (3, 2, pytest.approx(0.02 / 3, abs=1e-12))
    assert year_on_year_counts(y.assign(provisional=True)) is None


def test_default_periods_compare_the_last_three_matured_months_with_the_three_before():
    from datetime import date

    from analysis.trends import default_periods

    months = pd.date_range("2024-01-01", periods=8, freq="MS")
    s = pd.DataFrame({"period": months, "provisional": [False] * 7 + [True]})
    # matured Jan..Jul: B = May-Jul, A = Feb-Apr; the data ends 15 Aug, so nothing is clipped
    a, b = default_periods(s, date(2024, 1, 1), date(2024, 8, 15))
    assert a == (date(2024, 2, 1), date(2024, 4, 30)) and b == (date(2024, 5, 1), date(2024, 7, 31))
    one = pd.DataFrame({"period": months[:1], "provisional": [False]})
    a, b = default_periods(one, date(2024, 1, 3), date(2024, 1, 21))  # within one month: halves
    assert a == (date(2024, 1, 3), date(2024, 1, 12)) and b == (date(2024, 1, 13), date(2024, 1, 21))


def test_exchange_targets_of_a_segment_and_products_by_exchanged_units():
    from analysis.reasons import products_by_exchanges, targets_in_segment

    targets = pd.DataFrame({"product": ["Tee", "Shirt", "Cap", "Tee", "Scarf"], "exchanges": [2, 5, 9, 4, 6]})
    returns = pd.DataFrame({"collection": ["Tops", "Tops", "Hats", None], "product": ["Tee", "Shirt", "Cap", "Scarf"]})
    tops = targets_in_segment(targets, returns, "collection", "Tops")
    assert tops["product"].tolist() == ["Tee", "Shirt", "Tee"]
    assert targets_in_segment(targets, returns, "collection", None) is targets
    assert products_by_exchanges(tops) == ["Tee", "Shirt"]  # 6 vs 5 units
    assert products_by_exchanges(targets) == ["Cap", "Scarf", "Tee", "Shirt"]  # 9, 6, 6 (alphabetical tie), 5


def test_partial_months_and_share_of_orders_collected():
    from analysis.interventions import PowerPlan, partial_month

    chart = pd.DataFrame({"month": pd.date_range("2024-01-01", periods=4, freq="MS")})
    # the cutoff falls on 31 Mar: March is complete, April holds no matured day
    assert partial_month(chart, pd.Timestamp("2024-03-31")).tolist() == [False, False, False, True]
    assert partial_month(chart, pd.Timestamp("2024-03-30")).tolist() == [False, False, True, True]
    assert not partial_month(chart, None).any()
    plan = dict(
        baseline_rate=0.2,
        target_rate=0.16,
        target_reduction=0.2,
        alpha=0.05,
        power=0.8,
        units_per_arm_srs=1.0,
        design_effect=1.0,
        units_needed=1.0,
        units_per_order=1.0,
        units_matured=0.0,
    )
    assert PowerPlan(**plan, orders_needed=800, orders_matured=300).share_collected == 300 / 800
    assert PowerPlan(**plan, orders_needed=800, orders_matured=900).share_collected == 1.0
    assert PowerPlan(**plan, orders_needed=0, orders_matured=0).share_collected == 0.0
