"""prepare() and analyse() at scale, CPU and peak memory, for comparing two versions of the code side by side.

    PYTHONPATH=<checkout> .venv/bin/python bench/bench_prepare.py 1000000      # one size, one process
    PYTHONPATH=<checkout> .venv/bin/python bench/bench_prepare.py 5000000 3 prepare   # prepare() only

Data: bench.calibration.frailty_dataset(1, n_lines / 1.9, customer_var=0.3), generated once. CPU seconds
(resource.getrusage: user + system of the process and its threads, DuckDB's included), medians of 3: prepare()
on the dataset, analyse(p, Settings(cost_per_return=40.0), briefs=False) on a fresh Prepared each time (nothing
memoized), and the hand-written DuckDB GROUPING SETS query of bench/bench_engine.py (GROUPING_SETS_SQL) over the same mature
lines as the yardstick. Peak RSS (ru_maxrss) is read after the generator, after the prepare/analyse runs and
before the hand query registers its own copy of the columns. Prints one JSON line. Not part of the test suite.
"""

from __future__ import annotations

import gc
import json
import resource
import statistics
import sys


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)  # KiB on Linux


def run(n_lines: int, repeat: int = 3, prepare_only: bool = False) -> dict:
    """The figures of one size (see the module doc); prepare_only: prepare() alone (less memory)."""
    from analysis.engine import Settings, analyse
    from analysis.prepare import prepare
    from bench.bench_engine import GROUPING_SETS_SQL
    from bench.calibration import frailty_dataset

    ds = frailty_dataset(1, int(n_lines / 1.9), customer_var=0.3)
    out: dict = {"order_lines": len(ds.orders), "peak_rss_after_generate_gb": _rss_gb()}
    prep, full, fix = [], [], None
    for _ in range(repeat):
        gc.collect()
        t = _cpu()
        p = prepare(ds)
        prep.append(_cpu() - t)
        if prepare_only:
            del p
            continue
        t = _cpu()
        a = analyse(p, Settings(cost_per_return=40.0), briefs=False)
        full.append(_cpu() - t)
        fix = [f"{d} / {s}" for d, s in zip(a.fix_list["dimension"], a.fix_list["segment"])]
        del a
        if _ < repeat - 1:
            del p
    out["peak_rss_gb"] = _rss_gb()
    out["prepare_cpu_s"] = round(statistics.median(prep), 2)
    if prepare_only:
        return out
    out["analyse_cpu_s"] = round(statistics.median(full), 2)
    import duckdb

    dims = ["collection", "category", "product", "size", "intent", "journey", "channel", "customer_type"]
    con = duckdb.connect(":memory:")
    con.register("lines", p.lines[["order_id", "returned_units", "quantity", "mature", *dims]])
    hand = []
    for _ in range(repeat):
        t = _cpu()
        con.execute(GROUPING_SETS_SQL).fetch_df()
        hand.append(_cpu() - t)
    out["duckdb_hand_cpu_s"] = round(statistics.median(hand), 2)
    out["analyse_vs_hand"] = round(out["analyse_cpu_s"] / out["duckdb_hand_cpu_s"], 2)
    out["prepare_plus_analyse_vs_hand"] = round(
        (out["prepare_cpu_s"] + out["analyse_cpu_s"]) / out["duckdb_hand_cpu_s"], 2
    )
    out["fix_list"] = fix
    return out


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(json.dumps(run(size, repeat, prepare_only=sys.argv[3:4] == ["prepare"])), flush=True)
