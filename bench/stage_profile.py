"""Where analyse()'s CPU goes, call by call (issue 14, target "5M no worse a ratio than 1M"): read the Parquet
part files of DIR, prepare(), then analyse() (briefs off) with the main counting functions wrapped so that each
call's CPU time (resource.getrusage: user + system, DuckDB's threads included) is added to its name; each
counting query (data.engine_sql.run_sql) is named by the first word after its first `--` comment or by its
first CTE. Times are inclusive (a function's time holds the calls it makes); a function re-entered within
itself is counted once. Run at two sizes and compare the growth per row:

    python -m bench.stage_profile /tmp/scale/d1m [--repeat 3]

Prints one JSON object: {name: median CPU s}. Not part of the test suite.
"""

from __future__ import annotations

import functools
import gc
import json
import resource
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

TARGETS = {
    "analysis.engine": [
        "compute_totals",
        "mature_returns",
        "all_segments",
        "pair_table",
        "list_wide_fdr",
        "simpson_check",
        "default_cost_per_return",
        "structural",
    ],
    "analysis.segment_sql": [
        "lines_table",
        "_scopes",
        "segment_sums",
        "counts_from_sums",
        "order_dims_constant",
        "pair_counts",
        "monthly_cohorts",
    ],
    "analysis.segments": [
        "mature_frames",
        "line_codes",
        "cluster_codes",
        "customer_codes",
        "cluster_counts",
        "segment_table",
        "compare_segments",
        "score_segments",
        "top_reasons_by",
    ],
    "analysis.pairs": ["_self_join", "_order_positions"],
}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _sql_name(sql: str) -> str:
    for line in sql.splitlines():
        s = line.strip()
        if s.startswith("WITH "):
            level = " customers" if "SELECT clu AS clu" in sql else " orders" if "SELECT ord AS clu" in sql else ""
            return "sql:" + s[5:].split()[0] + level
        if s.startswith("SELECT"):
            return "sql:" + s[:40]
    return "sql:?"


def instrument(times: dict[str, float]) -> None:
    import importlib

    active: set[str] = set()

    def wrap(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def inner(*a: Any, **k: Any) -> Any:
            key = name
            if name == "run_sql":
                key = _sql_name(a[0])
                if k.get("tables") or len(a) > 1:
                    tables = a[1] if len(a) > 1 else k["tables"]
                    key += f"[{'/'.join(f'{n}:{len(t)}' for n, t in tables.items())}]".replace("[", "(")
                key = key.split("(")[0]
            if key in active:
                return fn(*a, **k)
            active.add(key)
            t = _cpu()
            try:
                return fn(*a, **k)
            finally:
                times[key] += _cpu() - t
                active.discard(key)

        return inner

    seen: dict[int, Any] = {}
    for modname, names in TARGETS.items():
        mod = importlib.import_module(modname)
        for n in names:
            fn = getattr(mod, n)
            w = seen.setdefault(id(fn), wrap(f"{getattr(fn, '__module__', modname).split('.')[-1]}.{n}", fn))
            setattr(mod, n, w)
    # every module that imported one of them by name
    for modname in list(sys.modules):
        if not modname.startswith("analysis."):
            continue
        mod = sys.modules[modname]
        for attr, val in list(vars(mod).items()):
            if id(val) in seen and val is not seen[id(val)]:
                setattr(mod, attr, seen[id(val)])
    import data.engine_sql as es

    w = wrap("run_sql", es.run_sql)
    es.run_sql = w


def main(argv: list[str]) -> None:
    d = Path(argv[0])
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 3
    import analysis.fixlist  # noqa: F401  (imported before instrumenting, so its names are rebound too)
    import analysis.pairs  # noqa: F401
    from analysis.engine import Settings, analyse
    from analysis.prepare import prepare
    from bench.bench_engine import read_dataset

    runs: list[dict[str, float]] = []
    for _ in range(repeat):
        times: dict[str, float] = defaultdict(float)
        ds = read_dataset(d)
        t = _cpu()
        p = prepare(ds)
        times["prepare"] = _cpu() - t
        del ds
        gc.collect()
        if not runs:
            instrument_times: dict[str, float] = times
            instrument(instrument_times)
            holder = instrument_times
        else:
            holder.clear()
            times = holder
        t = _cpu()
        analyse(p, Settings(cost_per_return=40.0), briefs=False)
        times["analyse"] = _cpu() - t
        runs.append(dict(times))
        del p
        gc.collect()
    keys = sorted({k for r in runs for k in r}, key=lambda k: -statistics.median(r.get(k, 0.0) for r in runs))
    print(json.dumps({k: round(statistics.median(r.get(k, 0.0) for r in runs), 3) for k in keys}, indent=1))
    print(f"peak_rss_gb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
