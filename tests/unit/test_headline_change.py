"""The Overview's tiles colour a 90-day change red or green only when it is beyond chance.

Seen on the demo: "Unit return rate, 90 days 16.0%, +0.1 pp" in red with an up arrow, a change no test would call
real (16.0% against 16.0% of about 20,000 units in each period). analysis.overview.headline now gives each change
a two-sided p-value: the unit rate on Rao-Scott effective counts (units of one order come back together), the
order rate on orders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from analysis.overview import headline
from analysis.prepare import prepare
from data.demo import generate_dataset
from dashboard.formatting import rate_change


def _deff(per_order: pd.DataFrame) -> float:
    # Rao & Scott (1992) ratio-estimator design effect by hand, at least 1
    y, m = per_order["returned_units"].to_numpy(float), per_order["quantity"].to_numpy(float)
    M, g = m.sum(), len(m)
    p = y.sum() / M
    v = g / (g - 1) * ((y - p * m) ** 2).sum() / M**2
    return max(v / (p * (1 - p) / M), 1.0)


@pytest.fixture(scope="module")
def demo():
    return prepare(generate_dataset(seed=7))


def test_p_values_against_statsmodels(demo):
    h = headline(demo)
    lines, orders = demo.mature_lines, demo.mature_orders
    end = lines["order_date"].max()
    start, pstart = end - pd.Timedelta(days=90), end - pd.Timedelta(days=180)
    cur = lines[lines["order_date"] > start]
    prev = lines[(lines["order_date"] > pstart) & (lines["order_date"] <= start)]
    d = [_deff(x.groupby("order_id")[["returned_units", "quantity"]].sum()) for x in (cur, prev)]
    assert d[0] > 1.0  # the demo's orders hold several units
    xs = [cur["returned_units"].sum() / d[0], prev["returned_units"].sum() / d[1]]
    ns = [cur["quantity"].sum() / d[0], prev["quantity"].sum() / d[1]]
    _, p_unit = proportions_ztest(xs, ns)  # pooled two-sided z on the effective counts
    assert h.unit_p == pytest.approx(p_unit, rel=1e-6)
    oc = orders[orders["order_date"] > start]
    op = orders[(orders["order_date"] > pstart) & (orders["order_date"] <= start)]
    _, p_order = proportions_ztest([oc["any_return"].sum(), op["any_return"].sum()], [len(oc), len(op)])
    assert h.order_p == pytest.approx(p_order, rel=1e-6)


def test_a_change_within_chance_is_grey_and_a_real_one_coloured(demo):
    h = headline(demo)
    assert h.unit_p is not None and h.unit_p > 0.05
    assert rate_change(h.unit_rate, h.unit_rate_prev, h.unit_p)["delta_color"] == "off"
    # a planted rise: every tenth line of the latest 90 days returned in full
    lines = demo.lines.copy()
    end = demo.mature_lines["order_date"].max()
    late = (lines["order_date"] > end - pd.Timedelta(days=90)).to_numpy() & (np.arange(len(lines)) % 10 == 0)
    lines.loc[late, "returned_units"] = lines.loc[late, "quantity"]
    from dataclasses import replace

    h2 = headline(replace(demo, lines=lines))
    assert h2.unit_rate > h.unit_rate + 0.05 and h2.unit_p is not None and h2.unit_p < 1e-6
    assert rate_change(h2.unit_rate, h2.unit_rate_prev, h2.unit_p)["delta_color"] == "inverse"
