"""Pairs bought together: counts by plain pandas, interaction by statsmodels GLM per basket-size band."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import norm

from analysis.pairs import pair_table
from analysis.prepare import prepare
from tests.unit.test_metrics import make_dataset


def basket_data(seed: int, n_orders: int, pair_boost: float = 0.0, two_units_only: bool = False):
    """Orders of 2 lines (or 2-4 lines) of 1 unit from collections A-D; orders holding A and B return
    with probability raised by pair_boost (all their units)."""
    rng = np.random.default_rng(seed)
    names = np.array(["A", "B", "C", "D"])
    base = {"A": 0.12, "B": 0.15, "C": 0.10, "D": 0.14}
    k = np.full(n_orders, 2) if two_units_only else rng.integers(2, 5, n_orders)
    oid = np.repeat(np.arange(n_orders), k)
    j = np.concatenate([np.arange(v) for v in k])
    coll = names[rng.integers(0, 4, len(oid))]
    df = pd.DataFrame({"oid": oid, "coll": coll})
    has_ab = df.groupby("oid")["coll"].agg(lambda s: {"A", "B"} <= set(s))
    p = np.array([base[c] for c in coll]) + pair_boost * has_ab.reindex(oid).to_numpy()
    ret = rng.random(len(oid)) < p
    orders = pd.DataFrame(
        {
            "order_id": [f"O{o}" for o in oid],
            "order_date": "2025-03-01",
            "sku": [f"{c}{i}" for c, i in zip(coll, j)],
            "quantity": 1,
            "unit_price": 10.0,
            "collection": coll,
        }
    )
    r = orders[ret].assign(reason="too small", resolution="Refund")[
        ["order_id", "sku", "quantity", "reason", "resolution"]
    ]
    return orders, r


def _glm_interaction(cells):
    """statsmodels GLM Binomial on aggregated cells: any_return ~ hasA + hasB + hasA:hasB."""
    X = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1]], dtype=float)
    endog = np.array([[x, n - x] for x, n in cells], dtype=float)
    fit = sm.GLM(endog, X, family=sm.families.Binomial()).fit()
    return fit.params[3], fit.bse[3]


def _cells(orders, returns, a, b, mask=None):
    o = orders.assign(
        ret=orders.set_index(["order_id", "sku"]).index.isin(returns.set_index(["order_id", "sku"]).index)
    )
    per = o.groupby("order_id").agg(
        hasA=("collection", lambda s: a in set(s)),
        hasB=("collection", lambda s: b in set(s)),
        anyret=("ret", "any"),
        units=("quantity", "sum"),
    )
    if mask is not None:
        per = per[mask(per)]
    out = []
    for ha, hb in ((False, False), (True, False), (False, True), (True, True)):
        c = per[(per.hasA == ha) & (per.hasB == hb)]
        out.append((int(c.anyret.sum()), len(c)))
    return out


def test_single_band_interaction_equals_glm_and_counts_match():
    o, r = basket_data(1, 4000, pair_boost=0.15, two_units_only=True)
    t = pair_table(prepare(make_dataset(o, r), window_days=30), cost_per_return=10.0).set_index("segment")
    row = t.loc["A + B"]
    cells = _cells(o, r, "A", "B")
    est, se = _glm_interaction(cells)
    assert row["interaction_log_or"] == pytest.approx(est, rel=1e-6)
    assert row["interaction_se"] == pytest.approx(se, rel=1e-6)
    assert row["p_value"] == pytest.approx(norm.sf(est / se), rel=1e-6)
    assert row["orders"] == cells[3][1] and row["orders_returned"] == cells[3][0]
    # co-purchase lift by hand: n_AB N / (n_A n_B)
    per = o.groupby("order_id")["collection"].agg(set)
    nA, nB = per.map(lambda s: "A" in s).sum(), per.map(lambda s: "B" in s).sum()
    assert row["lift"] == pytest.approx(cells[3][1] * len(per) / (nA * nB))
    assert row["verdict"] == "clearly higher" and row["priority_score"] > 0
    assert set(t.index) >= {"A + C", "C + D"}  # names alphabetical
    assert all(s.split(" + ")[0] < s.split(" + ")[1] for s in t.index)


def test_basket_size_bands_combined_by_inverse_variance():
    o, r = basket_data(2, 6000, pair_boost=0.1)
    t = pair_table(prepare(make_dataset(o, r), window_days=30), cost_per_return=10.0).set_index("segment")
    ests, ws = [], []
    for lo, hi in ((2, 2), (3, 3), (4, 5)):
        cells = _cells(o, r, "A", "B", mask=lambda p, lo=lo, hi=hi: (p.units >= lo) & (p.units <= hi))
        e, se = _glm_interaction(cells)
        ests.append(e)
        ws.append(1 / se**2)
    combined = np.dot(ests, ws) / np.sum(ws)
    assert t.loc["A + B", "interaction_log_or"] == pytest.approx(combined, rel=1e-6)
    assert t.loc["A + B", "interaction_se"] == pytest.approx(1 / np.sqrt(np.sum(ws)), rel=1e-6)


def test_null_pairs_rarely_flagged_and_support_gate():
    flagged = 0
    for seed in range(3):
        o, r = basket_data(10 + seed, 3000, pair_boost=0.0)
        t = pair_table(prepare(make_dataset(o, r), window_days=30), cost_per_return=10.0)
        flagged += int(t["significant"].sum())
    assert flagged <= 1  # 6 null pairs x 3 seeds at q = 0.10
    o, r = basket_data(5, 60, pair_boost=0.0)
    t = pair_table(prepare(make_dataset(o, r), window_days=30), cost_per_return=10.0)
    assert not t["gate_support"].any() and t["p_value"].isna().all()
