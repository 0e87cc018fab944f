"""Segment counts from SQL (analysis/sql/segment_sums.sql on DuckDB) equal the in-process numpy counts.

The oracle is analysis.segments.segment_counts_numpy: per-line codes and bincounts over the mature
lines (cluster_counts, stats.design_effect), an implementation that shares no code with the SQL path.
Counts (units, returned units, orders) must be identical; the design effects agree to rounding (the
SQL side expands sum (y - p m)^2 into sums of squares, METHOD 4.2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.prepare import prepare
from analysis.segments import DIMENSIONS, cluster_codes, line_codes, segment_counts, segment_counts_numpy
from bench.calibration import Plant, frailty_dataset
from data.demo import generate_dataset

EXACT = (
    "x",
    "n",
    "rest_x",
    "rest_n",
    "orders",
    "orders_returned",
    "rest_orders",
    "rest_orders_returned",
    "top_x",
    "top_n",
)


@pytest.fixture(scope="module")
def demo():
    return prepare(generate_dataset(seed=3, n_orders=4000))


@pytest.fixture(scope="module")
def frailty():  # repeat customers: the design effects cluster by customer (METHOD 4.3)
    return prepare(frailty_dataset(2, 6000, customer_var=0.4, plant=Plant(collection="Tops B", collection_mult=1.5)))


def _same(a: pd.DataFrame | None, b: pd.DataFrame | None):
    assert (a is None) == (b is None)
    if a is None:
        return
    assert list(a.index) == list(b.index)  # same segments, same order (the order ties are broken in)
    for k in EXACT:
        assert a[k].to_numpy(float).tolist() == b[k].to_numpy(float).tolist(), k
    for k in ("deff", "rest_deff", "p0"):
        np.testing.assert_allclose(a[k].to_numpy(float), b[k].to_numpy(float), rtol=1e-10, err_msg=k)
    assert a["reference"].tolist() == b["reference"].tolist()
    if "shrink_centre" in b.columns:
        np.testing.assert_allclose(
            a["shrink_centre"].to_numpy(float), b["shrink_centre"].to_numpy(float), rtol=1e-12, equal_nan=True
        )


@pytest.mark.parametrize("data", ["demo", "frailty"])
def test_every_dimension_counts_like_numpy(data, request):
    p = request.getfixturevalue(data)
    dims = [d for d in DIMENSIONS if p.has(d)]
    if data == "frailty":
        assert cluster_codes(p) is not line_codes(p, "order_id")[0]  # customers repeat: a second cluster level
    assert "collection" in dims and "intent" in dims
    for d in dims:
        _same(segment_counts(p, d), segment_counts_numpy(p, d))


def test_reference_groups_are_used_and_match(demo):
    sql = segment_counts(demo, "product")
    assert sql["reference"].str.startswith("category: ").any()  # compared within categories
    _same(sql, segment_counts_numpy(demo, "product"))
    _same(segment_counts(demo, "product", reference=None), segment_counts_numpy(demo, "product", reference=None))


def test_drill_down_is_a_where_clause(demo):
    coll = str(segment_counts(demo, "collection").index[0])
    for d in ("product", "size", "intent"):
        _same(
            segment_counts(demo, d, within=("collection", coll)),
            segment_counts_numpy(demo, d, within=("collection", coll)),
        )
    assert segment_counts(demo, "product", within=("collection", "no such collection")) is None


def test_queries_transpile_to_spark():
    from analysis.segment_sql import segment_sums_sql
    from data.engine_sql import to_spark_sql

    sql = segment_sums_sql(["collection", "intent"], ["collection"], cluster="ord", row_scale=1001)
    spark = to_spark_sql(sql)
    # one GROUP BY per dimension joined by UNION ALL (no GROUPING SETS: DuckDB copies their input first)
    assert "GROUP BY GROUPING SETS" not in spark and spark.count("UNION ALL") >= 4 and "MAX_BY(" in spark.upper()
    from analysis.segment_sql import sql_text

    assert "DATE_TRUNC('MONTH'" in to_spark_sql(sql_text("monthly_cohorts")).upper()
    assert " JOIN " in to_spark_sql(sql_text("pair_counts")).upper()


def test_pair_counts_sql_equals_the_pair_table(demo):
    """analysis/sql/pair_counts.sql (self-join in SQL) against analysis.pairs.pair_table (numpy bincounts
    over a pandas self-merge): orders with both items, of those with a return, and the pair's units and
    returned units, summed over basket-size bands."""
    from analysis.pairs import pair_table
    from analysis.segment_sql import pair_counts
    from analysis.segments import NOT_SET

    lc, ll = line_codes(demo, "collection")
    items = np.asarray(sorted(ll[ll != NOT_SET]), dtype=object)
    rank = np.full(len(ll), -1)
    rank[ll != NOT_SET] = pd.Index(items).get_indexer(ll[ll != NOT_SET])
    sql = pair_counts(demo, rank[lc]).groupby(["item_a", "item_b"]).sum()
    sql.index = [f"{items[a]} + {items[b]}" for a, b in sql.index]
    t = pair_table(demo, "collection", cost_per_return=40.0)
    t = t.set_index(t["item_a"] + " + " + t["item_b"])
    assert len(t) > 10 and set(t.index) <= set(sql.index)
    got = sql.loc[t.index]
    assert got["n_ab"].tolist() == t["orders"].astype(float).tolist()
    assert got["x_ab"].tolist() == t["orders_returned"].astype(float).tolist()
    assert (got["m_a"] + got["m_b"]).tolist() == t["n"].astype(float).tolist()
    assert (got["y_a"] + got["y_b"]).tolist() == t["returned"].astype(float).tolist()


def test_cli_reads_canonical_parquet_tables(tmp_path, capsys):
    """`report --orders-table/--returns-table` on Parquet gives the JSON of the same Dataset analysed directly."""
    import json

    from analysis import cli
    from analysis.engine import Settings, analyse

    ds = frailty_dataset(4, 3000, plant=Plant(collection="Lighting C", collection_mult=2.0))
    ds.orders.to_parquet(tmp_path / "orders.parquet", index=False)
    ds.returns.to_parquet(tmp_path / "returns.parquet", index=False)
    code = cli.main(
        [
            "report",
            "--orders-table",
            str(tmp_path / "orders.parquet"),
            "--returns-table",
            str(tmp_path / "returns.parquet"),
            "--cost-per-return",
            "40",
            "--json",
            str(tmp_path / "s.json"),
        ]
    )
    capsys.readouterr()
    assert code == 0
    out = json.loads((tmp_path / "s.json").read_text())
    direct = analyse(prepare(ds), Settings(cost_per_return=40.0), briefs=False)
    assert [(r["dimension"], r["segment"], r["n"], r["returned"]) for r in out["segments"]] == list(
        direct.segments[["dimension", "segment", "n", "returned"]].itertuples(index=False, name=None)
    )
    assert [(r["dimension"], r["segment"]) for r in out["fix_list"]] == list(
        direct.fix_list[["dimension", "segment"]].itertuples(index=False, name=None)
    )
    assert cli.main(["report", "--orders-table", str(tmp_path / "nope.parquet")]) == 2


def test_monthly_cohorts_sql_equals_cohort_series(demo):
    """analysis/sql/monthly_cohorts.sql against analysis.trends.cohort_series (pandas groupby)."""
    from analysis.segment_sql import monthly_cohorts
    from analysis.trends import cohort_series

    sql = monthly_cohorts(demo)
    ref = cohort_series(demo, "M")
    assert len(ref) >= 12
    assert sql["period"].dt.strftime("%Y-%m").tolist() == pd.to_datetime(ref["period"]).dt.strftime("%Y-%m").tolist()
    assert sql["units"].round().tolist() == ref["units"].astype(float).tolist()
    assert sql["returned"].round().tolist() == ref["returned"].astype(float).tolist()
    assert sql["orders"].tolist() == ref["orders"].tolist()
    assert sql["provisional"].tolist() == ref["provisional"].astype(bool).tolist()


def test_shared_tables_give_the_same_counts_and_never_a_stale_frame():
    """data.engine_sql.shared_tables: one connection, each frame loaded once. The counts equal a connection per
    query, and a different frame under the same name is loaded again, not served from the first one."""
    import pandas as pd

    from data.engine_sql import _SHARED, run_sql, shared_tables

    a = pd.DataFrame({"k": [1, 1, 2], "v": [1.0, 2.0, 5.0]})
    b = pd.DataFrame({"k": [3], "v": [7.0]})
    q = "SELECT k, sum(v) AS s, count(*) AS n FROM t GROUP BY k ORDER BY k"
    alone = [run_sql(q, {"t": a}), run_sql(q, {"t": b})]
    with shared_tables():
        first = run_sql(q, {"t": a})
        again = run_sql(q, {"t": a})  # read from the table already loaded
        other = run_sql(q, {"t": b})  # a new frame under the same name
        state = _SHARED.get()
        assert state is not None and state.loaded["t"] is b
    assert _SHARED.get() is None
    pd.testing.assert_frame_equal(first, alone[0])
    pd.testing.assert_frame_equal(again, alone[0])
    pd.testing.assert_frame_equal(other, alone[1])


def test_order_level_cells_with_and_without_the_one_row_per_order_shortcut(demo, monkeypatch):
    """The order-level pass reads the order dimensions' cells straight from the per-order sums when every
    order dimension is constant within each order (analysis.segment_sql.order_dims_constant); an uploaded
    intent may differ between the lines of one order, and then the cells are grouped. Both paths equal the
    numpy oracle."""
    import dataclasses

    from analysis import segment_sql

    order_dims = [d for d in DIMENSIONS if d in segment_sql.ORDER_DIMENSIONS and demo.has(d)]
    assert order_dims and segment_sql.order_dims_constant(demo, order_dims)

    ds = generate_dataset(seed=3, n_orders=4000)
    orders = ds.orders.copy()
    multi = orders["order_id"].duplicated(keep=False).to_numpy()
    # per line: alternate two intents inside multi-line orders (an uploaded per-line intent column)
    orders["intent"] = np.where(multi & (np.arange(len(orders)) % 2 == 0), "Gift", orders["intent"].astype(object))
    mixed = prepare(dataclasses.replace(ds, orders=orders))
    assert not segment_sql.order_dims_constant(mixed, ["intent"])
    for d in ("intent", "channel", "collection"):
        _same(segment_counts(mixed, d), segment_counts_numpy(mixed, d))

    fresh = prepare(generate_dataset(seed=3, n_orders=4000))
    monkeypatch.setattr(segment_sql, "order_dims_constant", lambda prepared, dims: False)
    for d in order_dims:
        _same(segment_counts(fresh, d), segment_counts_numpy(fresh, d))


def test_sums_read_the_lines_table_directly_or_through_the_where_cte_alike(demo):
    """Without a WHERE clause segment_sums.sql reads seg_lines itself (DuckDB materializes a CTE read five times);
    with one, a CTE `base` holds the selected rows. A WHERE that keeps every line must give the same rows."""
    from analysis.segment_sql import segment_dimensions, segment_sums, segment_sums_sql

    plain = segment_sums_sql(["collection", "intent"], ["collection"], cluster="ord", row_scale=1001)
    assert "base" not in plain and "FROM seg_lines" in plain
    assert "base AS (" in segment_sums_sql(["collection"], [], where="WHERE 1 = 1")
    dims = segment_dimensions(demo)
    for cluster in ("ord", "clu"):
        a = segment_sums(demo, dims, cluster=cluster)
        b = segment_sums(demo, dims, cluster=cluster, where="WHERE 1 = 1")
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_sums_without_order_dimensions_read_the_cluster_totals_from_o(frailty):
    """With no order dimension the per-cluster sums o hold one row per cluster, which is then the cluster's
    total (no aggregate, no join): the line dimensions' rows equal those of the query over every dimension,
    at both cluster levels (orders; customers, which repeat in the frailty data)."""
    from analysis.segment_sql import ORDER_DIMENSIONS, segment_dimensions, segment_sums, segment_sums_sql

    assert "FROM o GROUP BY clu" not in segment_sums_sql(["collection"], ["collection"], cluster="clu")
    assert "FROM o GROUP BY clu" in segment_sums_sql(["collection", "intent"], ["collection"], cluster="clu")
    dims = segment_dimensions(frailty)
    ldims = [d for d in dims if d not in ORDER_DIMENSIONS]
    assert ldims and len(ldims) < len(dims)
    for cluster in ("ord", "clu"):
        every = segment_sums(frailty, dims, cluster=cluster)
        every = every[every["dim"] < len(ldims)].reset_index(drop=True) if dims[: len(ldims)] == ldims else None
        alone = segment_sums(frailty, ldims, cluster=cluster)
        assert every is not None and len(alone) == len(every)
        cols = [c for c in alone.columns if c != "top_n" or cluster == "ord"]
        pd.testing.assert_frame_equal(alone[cols], every[cols], check_exact=False, rtol=1e-12)


def test_sums_read_order_rate_columns_when_the_lines_table_holds_them(demo):
    """lines_table carries x_o / n_o only when the order dimensions' rate differs from x_u / n_u (today it never
    does); a table that holds them (here copies) is read through them, with the same rows."""
    from analysis.segment_sql import lines_table, segment_dimensions, segment_sums, segment_sums_sql

    table = lines_table(demo)
    assert "x_o" not in table.columns
    assert "sum(x_o) AS yo" in segment_sums_sql(["intent"], [])
    assert "sum(x_u) AS yo" in segment_sums_sql(["intent"], [], order_rate=("x_u", "n_u"))
    dims = segment_dimensions(demo)
    with_o = table.assign(x_o=table["x_u"], n_o=table["n_u"])
    for cluster in ("ord", "clu"):
        a = segment_sums(demo, dims, cluster=cluster)
        b = segment_sums(demo, dims, cluster=cluster, rows=with_o)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_cluster_bounds_split_the_lines_into_ranges_of_clusters():
    from analysis.segment_sql import cluster_bounds
    from data.engine_sql import use_engine

    codes = np.repeat(np.arange(1000), np.r_[np.full(500, 1), np.full(500, 9)])  # most lines in the upper codes
    b = cluster_bounds(codes, len(codes), part_lines=1000)
    assert b[0] == 0 and b[-1] == 1000 and (np.diff(b) > 0).all() and len(b) == 6
    per_part = np.histogram(codes, bins=b)[0]
    assert per_part.sum() == len(codes) and per_part.max() <= 1000 + 9  # a range ends at a cluster's edge
    assert list(cluster_bounds(codes, len(codes), part_lines=10_000)) == [0, 1000]  # small: one pass
    with use_engine("spark"):
        assert list(cluster_bounds(codes, len(codes), part_lines=1000)) == [0, 1000]  # Spark partitions itself


@pytest.mark.parametrize("part_lines", ["997", "5000"])
def test_sums_in_passes_over_ranges_of_clusters_equal_one_pass(frailty, monkeypatch, part_lines):
    """Past PART_LINES lines the segment sums are counted per range of clusters and added up: the same rows as
    one pass (the largest cluster's top_n included at the order level), with reference groups and at both
    cluster levels, and the same segment counts as the numpy oracle."""
    from analysis import segment_sql
    from analysis.segment_sql import ORDER_DIMENSIONS, segment_dimensions, segment_sums
    from analysis.segments import segment_counts, segment_counts_numpy

    dims = segment_dimensions(frailty)
    table = segment_sql.lines_table(frailty)
    ldims = [d for d in dims if d not in ORDER_DIMENSIONS]
    scopes = segment_sql._scopes(frailty, table, ldims)[0]
    scopes = scopes.assign(dim=[dims.index(ldims[i]) for i in scopes["dim"]])
    one = {c: segment_sums(frailty, dims, cluster=c, scope_table=scopes) for c in ("ord", "clu")}
    calls = []
    real = segment_sql.combine_parts
    monkeypatch.setattr(segment_sql, "combine_parts", lambda parts: calls.append(len(parts)) or real(parts))
    monkeypatch.setenv("RI_SEGMENT_PART_LINES", part_lines)
    for c in ("ord", "clu"):
        many = segment_sums(frailty, dims, cluster=c, scope_table=scopes)
        cols = [k for k in many.columns if k != "top_n" or c == "ord"]
        pd.testing.assert_frame_equal(many[cols], one[c][cols], check_exact=False, rtol=1e-12, check_dtype=False)
    assert calls and min(calls) >= len(table) // int(part_lines)
    fresh = prepare(frailty_dataset(2, 6000, customer_var=0.4, plant=Plant(collection="Tops B", collection_mult=1.5)))
    for d in ("collection", "product", "intent"):
        _same(segment_counts(fresh, d), segment_counts_numpy(fresh, d))
