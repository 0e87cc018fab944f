"""Computations moved out of the pages (Trends, Interventions, Reasons, Items bought together) into analysis/.
Expected values by hand on small frames."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

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
    res = pd.DataFrame({"segment": ["a", "b", "c"], "units": [10.0, 6.0, 3.0], "unknown": [2.0, 0.0, 3.0],
                        "refund": [4.0, 3.0, 0.0], "exchange": [2.0, 3.0, 0.0], "store_credit": [2.0, 0.0, 0.0],
                        "saved_revenue": [50.0, 30.0, 0.0], "refunded_value": [80.0, 45.0, 0.0]})
    b = outcome_shares(res, "b")
    assert (b["refund"], b["exchange"], b["store_credit"]) == (0.5, 0.5, 0.0)
    every = outcome_shares(res)
    assert every["refund"] == 7 / 14 and every["store_credit"] == 2 / 14 and every["saved_revenue"] == 80.0
    c = outcome_shares(res, "c")  # no known outcome: no share, not 0%
    assert math.isnan(c["refund"]) and c["known_units"] == 0.0
    assert math.isnan(outcome_shares(res, "absent")["exchange"])


def test_pair_grid_is_symmetric_and_marks_pairs_worse_than_their_parts():
    pairs = pd.DataFrame({"item_a": ["A", "A", "B"], "item_b": ["B", "C", "C"], "return_rate": [0.25, 0.104, 0.3],
                          "gate_support": [True, True, False], "direction": ["higher", "none", "higher"]})
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
    many = pd.DataFrame({"item_a": [f"i{k}" for k in range(30)], "item_b": [f"j{k}" for k in range(30)],
                         "return_rate": 0.1, "gate_support": True})
    assert pair_grid(many) is None and pair_grid(many, max_items=60) is not None
