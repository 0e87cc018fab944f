"""The benchmark's hand-written DuckDB query (bench/hand_query.sql) produces the pipeline's counts.

bench/bench_engine.py compares prepare() + analyse() with this query, so the query must count exactly what
the pipeline counts. Expected side: the pipeline (analysis.prepare.prepare, analysis.engine.analyse, and
analysis.segment_sql.segment_sums for the per-order sums of squares); the other side is independent SQL
from the canonical tables (bench/hand_query.py imports nothing from analysis/ or data/). Counts must be
identical; the pairs' expected returns (a sum of rate x units) agree to float rounding.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.engine import Settings, analyse
from analysis.prepare import prepare
from analysis.segment_sql import segment_sums
from analysis.segments import line_codes
from bench.calibration import frailty_dataset
from bench.hand_query import load_tables, run_hand_query
from data.demo import generate_dataset

COUNTS = ["n", "returned", "orders", "orders_returned"]
PAIR_COUNTS = ["n", "returned", "orders", "orders_returned", "n_a", "n_b"]


def _with_split_lines(ds):
    """The frailty dataset with 300 returned lines repeated at the end of the file (same order and SKU, 2 units,
    a product name of their own so that segments tell the copies apart) and two more units returned against
    each: the allocation must fill the lines in file order, each up to its own units."""
    orders, rets = ds.orders, ds.returns
    picked = rets.iloc[:300][["order_id", "sku"]]
    extra = orders.merge(picked, on=["order_id", "sku"]).drop_duplicates(["order_id", "sku"])
    extra = extra.assign(quantity=2, product_name=extra["product_name"] + " (second line)")
    more = rets.iloc[:300].assign(quantity=2)
    return type(ds)(
        **{
            **{f: getattr(ds, f) for f in ds.__dataclass_fields__},
            "orders": pd.concat([orders, extra], ignore_index=True),
            "returns": pd.concat([rets, more], ignore_index=True),
        }
    )


def _both(ds, window_days=None):
    p = prepare(ds, window_days=window_days)
    a = analyse(p, Settings(cost_per_return=40.0, window_days=window_days), briefs=False)
    con = duckdb.connect(":memory:")
    load_tables(con, ds.orders, ds.returns)
    return p, a, run_hand_query(con, window_days=window_days)


@pytest.fixture(scope="module")
def frailty():  # ~19k lines, repeat customers, split lines
    return _both(_with_split_lines(frailty_dataset(5, 10_000, customer_var=0.3)))


@pytest.fixture(scope="module")
def demo():  # returns 2-45 days after the order: a Kaplan-Meier window above the 14-day floor
    return _both(generate_dataset(seed=2, n_orders=5000))


def _segments_equal(p, a, h):
    pipe = a.segments[a.segments["dimension"] != "combination"][["dimension", "segment"] + COUNTS]
    hand = h.segments[["dimension", "segment"] + COUNTS].astype({c: "int64" for c in COUNTS})
    m = pipe.merge(hand, on=["dimension", "segment"], how="outer", suffixes=("_p", "_h"), indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    for c in COUNTS:
        assert (m[f"{c}_p"] == m[f"{c}_h"]).all(), m[m[f"{c}_p"] != m[f"{c}_h"]]
    assert set(pipe["dimension"]) == set(h.dimensions)
    # every dimension partitions the same mature lines
    mature_units = int(p.mature_lines["quantity"].sum())
    assert (hand.groupby("dimension")["n"].sum() == mature_units).all()


def test_window_and_cutoff_equal_prepare(frailty, demo):
    for p, _, h in (frailty, demo):
        assert h.window_days == p.window_days
        assert h.cutoff == p.cutoff_date
    assert demo[0].window_source == "estimated" and demo[0].window_days > 14  # the Kaplan-Meier rule at work


def test_segment_counts_equal_pipeline(frailty, demo):
    for p, a, h in (frailty, demo):
        _segments_equal(p, a, h)


def test_split_lines_exercise_the_allocation(frailty):
    p, _, _ = frailty
    lines = p.lines
    dup = lines.duplicated(["order_id", "sku"], keep=False)
    # the first lines are filled, the second lines get what is left (from 0 to both units)
    assert dup.sum() >= 600
    second = lines.loc[dup & lines["product"].str.endswith("(second line)"), "returned_units"]
    assert set(second) == {0, 1, 2}


@pytest.mark.parametrize("cluster", ["ord", "clu"])
def test_sums_of_squares_equal_segment_sql(frailty, cluster):
    """The per-order and per-customer sums behind the design effects (customers repeat in this dataset)."""
    p, _, h = frailty
    dims = list(h.dimensions)
    s = segment_sums(p, dims, cluster=cluster, first_rows=cluster == "ord")
    s = s.assign(
        dimension=[dims[i] for i in s["dim"]],
        segment=[line_codes(p, dims[i])[1][g] for i, g in zip(s["dim"], s["seg"])],
    )
    hand = h.segments if cluster == "ord" else h.customer_segments
    assert hand is not None
    m = s.merge(hand, on=["dimension", "segment"], suffixes=("_p", "_h"))
    assert len(m) == len(hand) == len(h.segments)
    for c in ("cells", "syy", "sym", "smm"):
        assert np.array_equal(m[f"{c}_p"].to_numpy("float64"), m[f"{c}_h"].to_numpy("float64")), c
    if cluster == "clu":  # fewer customers than orders: the customer pass is not the order pass again
        assert (
            m["cells_h"].to_numpy()
            < h.segments.set_index(["dimension", "segment"])
            .loc[list(zip(m["dimension"], m["segment"])), "cells"]
            .to_numpy()
        ).any()


def test_pair_counts_equal_pipeline(frailty, demo):
    for _, a, h in (frailty, demo):
        pipe = a.pairs[["item_a", "item_b", *PAIR_COUNTS, "expected_returns"]]
        m = pipe.merge(h.pairs, on=["item_a", "item_b"], how="outer", suffixes=("_p", "_h"), indicator=True)
        assert len(m) > 20 and (m["_merge"] == "both").all()
        for c in PAIR_COUNTS:
            assert (m[f"{c}_p"].astype("int64") == m[f"{c}_h"].astype("int64")).all(), c
        assert m["expected_returns_h"].to_numpy() == pytest.approx(m["expected_returns_p"].to_numpy(), rel=1e-12)


def test_parquet_tables_and_a_given_window(tmp_path):
    ds = generate_dataset(seed=4, n_orders=1500)
    ds.orders.to_parquet(tmp_path / "orders.parquet")
    ds.returns.to_parquet(tmp_path / "returns.parquet")
    con = duckdb.connect(":memory:")
    load_tables(con, tmp_path / "orders.parquet", tmp_path / "returns.parquet")
    h = run_hand_query(con, window_days=45)
    p = prepare(ds, window_days=45)
    a = analyse(p, Settings(cost_per_return=40.0, window_days=45), briefs=False)
    assert h.window_days == 45 and h.cutoff == p.cutoff_date
    _segments_equal(p, a, h)
