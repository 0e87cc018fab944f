"""Analysis benchmark: the full engine on ~1M generated order lines vs plain aggregations, same run.

Baselines (medians of 3, same prepared frame):
- DuckDB: one hand-written aggregation of collection return rates (returned units / units of mature
  lines). data.store.Store only runs its named queries and has none for this, so the bench uses duckdb
  directly (allowed in benchmarks only; the product goes through Store).
- pandas: the same rates with a straightforward groupby.
Timed: segment_table for collections alone (the like-for-like comparison: it adds design effects,
tests, BH, shrinkage and excess) and analyse() on everything (all dimensions, pairs, Simpson check,
fix list; guidance briefs off - they belong to analysis.briefs).
Run: .venv/bin/python -m bench analysis   (not part of the test suite).
"""

from __future__ import annotations

import json
import time

from bench.timing import median_time

N_ORDERS = 510_000  # ~1.0M order lines with the demo's basket sizes


def main() -> dict:
    import duckdb

    from analysis.engine import Settings, analyse
    from analysis.prepare import prepare
    from analysis.segments import segment_table
    from data.demo import generate_dataset

    t = time.perf_counter()
    ds = generate_dataset(seed=11, n_orders=N_ORDERS)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    p = prepare(ds)
    prep = time.perf_counter() - t
    lines = p.lines[["collection", "quantity", "returned_units", "mature"]]
    settings = Settings(cost_per_return=40.0)

    con = duckdb.connect(":memory:")
    con.register("lines", lines)
    sql = (
        "SELECT collection, sum(returned_units) AS returned, sum(quantity) AS units, "
        "sum(returned_units) / sum(quantity) AS rate FROM lines WHERE mature GROUP BY collection"
    )

    def duck():
        return con.execute(sql).fetch_df()

    def pandas_groupby():
        m = lines[lines["mature"]]
        g = m.groupby("collection")[["returned_units", "quantity"]].sum()
        return g["returned_units"] / g["quantity"]

    def seg():
        return segment_table(p, "collection", cost_per_return=40.0)

    def full():
        return analyse(p, settings, briefs=False)

    # the engine's collection rates equal the plain aggregation
    d = duck().set_index("collection")["rate"]
    s = seg().set_index("segment")["return_rate"]
    max_abs_diff = float((s.reindex(d.index) - d).abs().max())

    t_duck, t_pd, t_seg, t_full = (median_time(f) for f in (duck, pandas_groupby, seg, full))
    a = full()
    res = {
        "order_lines": int(len(p.lines)),
        "mature_lines": int(p.lines["mature"].sum()),
        "generate_s": round(gen, 2),
        "prepare_s": round(prep, 2),
        "duckdb_collection_rates_s": round(t_duck, 4),
        "pandas_groupby_s": round(t_pd, 4),
        "segment_table_collection_s": round(t_seg, 3),
        "analyse_full_s": round(t_full, 3),
        "ratio_segment_table_vs_duckdb": round(t_seg / t_duck, 1),
        "ratio_segment_table_vs_pandas": round(t_seg / t_pd, 1),
        "ratio_analyse_vs_duckdb": round(t_full / t_duck, 1),
        "ratio_analyse_vs_pandas": round(t_full / t_pd, 1),
        "rates_max_abs_diff_vs_duckdb": max_abs_diff,
        "fix_list_rows": int(len(a.fix_list)),
        "segments_rows": int(len(a.segments)),
    }
    print(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
