"""analysis.dimension_view: what the Collections / Intents / Journeys views draw, checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.dimension_view import dimension_view, simpson_flips


def _segments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension": ["channel", "channel", "channel", "collection"],
            "segment": ["Web", "Store", "App", "Tops"],
            "n": [300.0, 100.0, 0.0, 50.0],
            "returned": [30.0, 20.0, 0.0, 5.0],
            "orders": [200, 80, 0, 40],
            "orders_returned": [20, 16, 0, 4],
            "excess_cost": [10.0, 250.0, None, 1.0],
            "excess_returns": [0.0, 7.5, 0.0, 0.1],
            "basis": ["units"] * 4,
            "verdict": ["within noise", "clearly higher", "within noise", "within noise"],
            "ci_low": [0.07, 0.13, math.nan, 0.03],
            "ci_high": [0.14, 0.29, math.nan, 0.2],
            "baseline_rate": [0.1, 0.1, 0.1, 0.1],
        }
    )


def test_units_basis_sorts_by_excess_cost_and_draws_the_pooled_rate():
    v = dimension_view(_segments(), "channel", orders_basis=False, refunds=False)
    assert list(v.segments["segment"]) == ["Store", "Web", "App"]  # excess cost 250, 10, unknown last
    assert v.baseline == pytest.approx(50 / 400)  # (30 + 20 + 0) / (300 + 100 + 0) by hand
    assert (v.basis, v.basis_label, v.funnel_basis) == ("units", "share of units returned", "units")


def test_orders_basis_redraws_rates_on_orders_and_judges_against_the_overall_line():
    v = dimension_view(_segments(), "channel", orders_basis=True, refunds=False)
    store = v.segments.set_index("segment").loc["Store"]
    assert store["return_rate"] == pytest.approx(16 / 80)  # orders with a return / orders
    assert v.baseline == pytest.approx(36 / 280)  # (20 + 16) / (200 + 80), by hand
    assert (v.basis_label, v.funnel_basis) == ("share of orders with a return", "orders")
    # Store's Wilson interval on 16 / 80 is 0.1270 to 0.3005 (statsmodels proportion_confint, method="wilson"): it
    # reaches the overall line 36 / 280 = 0.1286, so the unit-level "clearly higher" is not shown as such
    assert store["verdict"] == "within noise" and store["noise_reason"]
    assert v.segments.set_index("segment").loc["Web", "verdict"] == "within noise"


def test_refund_outcome_keeps_the_datas_basis_and_says_so():
    seg = _segments().assign(basis="orders")
    v = dimension_view(seg, "channel", orders_basis=True, refunds=True)
    assert v.basis_label == "share of orders with a customer refund"
    assert v.baseline == pytest.approx(50 / 400)  # not re-expressed on orders: the refund data is per order already
    assert v.funnel_basis == "orders"


def test_no_segments_is_none_and_flips_need_the_check():
    assert dimension_view(_segments(), "intent", orders_basis=False, refunds=False) is None
    assert simpson_flips(None, "collection") is None
    assert simpson_flips(pd.DataFrame({"dimension": ["collection"]}), "collection") is None  # no 'disagree' column
