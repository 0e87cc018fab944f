"""The counting engine at scale: segment counts in SQL (DuckDB) vs in numpy, analyse() vs a hand-written
DuckDB query, and peak memory, at 1M and 5M order lines (20M with `python -m bench.bench_engine 20000000`).

Each size runs in its own child process (peak RSS = that process's ru_maxrss). CPU time, not wall time,
is what is compared (resource.getrusage: user + system of the process and all its threads, DuckDB's
included), because the machine is shared; each figure is the median of 3 runs.

- counts_sql: analysis.segments.segment_counts for every dimension (analysis/sql/segment_sums.sql on
  DuckDB: one GROUPING SETS pass per cluster level + the reference groups), the path analyse() uses;
- counts_numpy: segment_counts_numpy, the in-process bincount implementation it replaced;
- analyse: the whole analysis (all dimensions, pairs, Simpson check, fix list; briefs off), counts
  recomputed each run (caches cleared);
- duckdb_hand: one hand-written DuckDB query over the same mature lines that produces the per-segment
  counts the segment table needs (units, returned units, orders, orders with a return, and the per-order
  sums of squares and cross-products of the Rao-Scott design effect) for every dimension: the floor any
  engine producing these counts pays.
Data: bench.calibration.frailty_dataset (orders of 1-4 lines, repeat customers), prepared once (its CPU
is reported apart). Run: .venv/bin/python -m bench engine   (not part of the test suite).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys

SIZES = (1_000_000, 5_000_000)
LINES_PER_ORDER = 1.9  # frailty_dataset's mean basket (1-4 lines, p = .45/.30/.15/.10)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _median_cpu(fn, repeat: int = 3) -> float:
    out = []
    for _ in range(repeat):
        t = _cpu()
        fn()
        out.append(_cpu() - t)
    return statistics.median(out)


HAND_SQL = """
WITH cells AS (
    SELECT GROUPING(collection, category, product, size, intent, journey, channel, customer_type) AS g,
           collection, category, product, size, intent, journey, channel, customer_type, order_id,
           sum(returned_units) AS y, sum(quantity) AS m
    FROM lines WHERE mature
    GROUP BY GROUPING SETS ((collection, order_id), (category, order_id), (product, order_id), (size, order_id),
                            (intent, order_id), (journey, order_id), (channel, order_id), (customer_type, order_id))
)
SELECT g, collection, category, product, size, intent, journey, channel, customer_type,
       sum(y) AS returned, sum(m) AS units, count(*) AS orders, count(*) FILTER (WHERE y > 0) AS orders_returned,
       sum(y * y) AS syy, sum(y * m) AS sym, sum(m * m) AS smm
FROM cells GROUP BY ALL
"""


def run_size(n_lines: int) -> dict:
    import duckdb

    from analysis import segments
    from analysis.engine import Settings, analyse
    from analysis.prepare import prepare
    from bench.calibration import frailty_dataset

    t = _cpu()
    ds = frailty_dataset(1, int(n_lines / LINES_PER_ORDER), customer_var=0.3)
    gen = _cpu() - t
    t = _cpu()
    p = prepare(ds)
    prep = _cpu() - t
    del ds
    dims = [d for d in segments.DIMENSIONS if p.has(d)]

    def clear():
        p.forget("analysis.segment_sql._all_counts")  # the counts afresh, the codes and lines table warm

    def counts_sql():
        clear()
        return [segments.segment_counts(p, d) for d in dims]

    def counts_numpy():
        return [segments.segment_counts_numpy(p, d) for d in dims]

    def full():
        clear()
        return analyse(p, Settings(cost_per_return=40.0), briefs=False)

    cols = ["order_id", "returned_units", "quantity", "mature"] + dims
    lines = p.lines[cols]
    con = duckdb.connect(":memory:")
    con.register("lines", lines)

    def hand():
        return con.execute(HAND_SQL).fetch_df()

    res = {
        "order_lines": int(len(p.lines)),
        "mature_lines": int(p.lines["mature"].sum()),
        "dimensions": dims,
        "generate_cpu_s": round(gen, 2),
        "prepare_cpu_s": round(prep, 2),
    }
    for name, fn in (
        ("duckdb_hand", hand),
        ("counts_sql", counts_sql),
        ("counts_numpy", counts_numpy),
        ("analyse", full),
    ):
        res[f"{name}_cpu_s"] = round(_median_cpu(fn), 3)
    res["ratio_counts_sql_vs_hand"] = round(res["counts_sql_cpu_s"] / res["duckdb_hand_cpu_s"], 2)
    res["ratio_counts_numpy_vs_hand"] = round(res["counts_numpy_cpu_s"] / res["duckdb_hand_cpu_s"], 2)
    res["ratio_analyse_vs_hand"] = round(res["analyse_cpu_s"] / res["duckdb_hand_cpu_s"], 2)
    res["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)  # KiB on Linux
    res["fix_list_rows"] = int(len(full().fix_list))
    return res


def main(sizes=SIZES) -> dict:
    out = {}
    for n in sizes:
        r = subprocess.run(
            [sys.executable, "-m", "bench.bench_engine", "--one", str(n)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        if r.returncode != 0:
            out[str(n)] = {"error": r.stderr[-2000:]}
        else:
            out[str(n)] = json.loads(r.stdout.strip().splitlines()[-1])
        print(json.dumps({str(n): out[str(n)]}), flush=True)
    return out


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(run_size(int(sys.argv[2]))))
    else:
        main([int(a) for a in sys.argv[1:]] or SIZES)
