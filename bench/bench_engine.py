"""The counting engine at scale (issue 14): prepare() + analyse() against the hand-written DuckDB query that
produces the same counts from the same canonical tables, at 1M and 5M order lines (20M with
`python -m bench.bench_engine 20000000`).

Per size, each step in its own child process, so that every peak RSS is that step's alone:

1. generate: bench.calibration.frailty_dataset (orders of 1-4 lines, repeat customers), in chunks of at most
   CHUNK_LINES lines (order and customer ids prefixed per chunk), written as Parquet part files
   (<dir>/orders/part-NNN.parquet, <dir>/returns/...);
2. pipeline: read the Parquet files into a Dataset (its CPU reported apart), then 3 x (prepare(); analyse(),
   briefs off), each on a fresh Prepared, with the Dataset released once prepared as the CLI does
   (dataset_released; RI_BENCH_KEEP_DATASET=1 keeps it, as the dashboard does, and reads it once); and, on the last Prepared, 3 x today's grouping-sets-only hand
   query (GROUPING_SETS_SQL, on the already prepared lines) for the analyse/grouping-sets ratio;
3. hand: load the Parquet files into DuckDB tables (CPU reported apart), then 3 x bench/hand_query.sql
   (bench.hand_query.run_hand_query: allocation, Kaplan-Meier window, intents, GROUPING SETS, pair self-join).

CPU time, not wall time, is compared (resource.getrusage: user + system of the process and all its threads,
DuckDB's included), because the machine is shared; each figure is the median of 3 runs. Both sides start
from canonical tables in memory (pandas frames / DuckDB tables); reading Parquet is reported apart. Peak RSS
= ru_maxrss of the child after its first run (read + one prepare + analyse; load + one hand query), with
its peak virtual size (VmPeak) beside it. The parent polls each child's resident memory and stops it above
min(16 GB, 90% of MemAvailable) (RssWatch), so that a size too large fails in the child, not by exhausting
the shared machine; the last stage reached and its RSS are reported. (Until issue 14's memory work the limit
was RLIMIT_AS on address space, which failed children for virtual areas never touched: see RssWatch.)
The counting connections' DuckDB memory_limit is data.engine_sql's default unless RI_DUCKDB_MEMORY_LIMIT
is set (recorded as duckdb_memory_limit). The parent compares the two sides' segment and pair counts (differences must be 0).

Run: python -m bench engine   (not part of the test suite); README table: python -m bench.readme_table.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SIZES = (1_000_000, 5_000_000)
LINES_PER_ORDER = 1.9  # frailty_dataset's mean basket (1-4 lines, p = .45/.30/.15/.10)
CHUNK_LINES = 5_000_000
REPEAT = 3
GB = 1024**3

# Today's figure (the bench before the full hand query): the per-segment counts by one GROUPING SETS pass
# over the already prepared mature lines.
GROUPING_SETS_SQL = """
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
SEG_KEYS = ["dimension", "segment", "n", "returned", "orders", "orders_returned"]
PAIR_KEYS = ["item_a", "item_b", "n", "returned", "orders", "orders_returned", "n_a", "n_b"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB  # KiB on Linux


def _vm(pid: int | str = "self") -> dict[str, float]:
    """VmRSS (resident now), VmHWM (peak resident) and VmPeak (peak virtual: what RLIMIT_AS limits) in GB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "VmPeak"):
                out[k] = int(v.split()[0]) * 1024 / GB
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def _stage(name: str) -> None:
    """A progress line on stderr: the parent reports the last one reached when a child fails."""
    vm = _vm()
    print(
        f"STAGE {name} peak_rss_gb={_rss_gb():.2f} rss_gb={vm.get('VmRSS', 0):.2f} "
        f"peak_virtual_gb={vm.get('VmPeak', 0):.2f}",
        file=sys.stderr,
        flush=True,
    )


def _mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 16 * GB


def rss_limit() -> int:
    """The resident memory a child may reach before the parent stops it: min(16 GB, 90% of MemAvailable)."""
    return int(min(16 * GB, 0.9 * _mem_available()))


def _limit(as_bytes: int) -> None:
    if as_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))


class RssWatch(threading.Thread):
    """Polls a child's VmRSS every `every` s; kills it (SIGKILL) above `limit` bytes. Limiting resident memory,
    not address space: pyarrow's mimalloc pool and DuckDB reserve virtual areas they never touch (at 5M lines
    VmPeak 14.8 GB against VmHWM 10.2 GB), so an RLIMIT_AS of 16 GB failed the 20M pipeline with
    "MemoryError: cannot allocate memory for array" at 7.1 GB resident."""

    def __init__(self, pid: int, limit: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.limit, self.every = pid, limit, every
        self.max_rss = 0.0
        self.killed_at: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            rss = _vm(self.pid).get("VmRSS", 0.0)
            self.max_rss = max(self.max_rss, rss)
            if rss * GB > self.limit:
                self.killed_at = rss
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return


# ---- child steps ------------------------------------------------------------------------------------------
def generate(n_lines: int, out: Path) -> dict:
    """frailty_dataset in chunks of at most CHUNK_LINES lines, written as Parquet part files."""
    from bench.calibration import frailty_dataset

    n_orders = int(n_lines / LINES_PER_ORDER)
    chunks = max(1, -(-n_lines // CHUNK_LINES))
    t = _cpu()
    lines = 0
    for k in range(chunks):
        ds = frailty_dataset(1 + k, n_orders // chunks + (1 if k < n_orders % chunks else 0), customer_var=0.3)
        orders, rets = ds.orders, ds.returns
        if chunks > 1:  # distinct orders and customers per chunk
            orders = orders.assign(order_id=f"K{k}-" + orders["order_id"], customer_id=f"K{k}-" + orders["customer_id"])
            rets = rets.assign(order_id=f"K{k}-" + rets["order_id"])
        for name, df in (("orders", orders), ("returns", rets)):
            (out / name).mkdir(parents=True, exist_ok=True)
            df.to_parquet(out / name / f"part-{k:03d}.parquet", index=False)
        lines += len(orders)
        del ds, orders, rets
        gc.collect()
        _stage(f"generated chunk {k + 1}/{chunks}")
    size = sum(f.stat().st_size for f in out.rglob("*.parquet"))
    return {"order_lines": lines, "generate_cpu_s": round(_cpu() - t, 2), "parquet_mb": round(size / 1e6, 1)}


def read_dataset(d: Path) -> Any:
    """The canonical tables from Parquet part files, as the Dataset load_dataset would hand over."""
    import pandas as pd

    from data.demo_generator import canonical_frame
    from data.model import Dataset
    from data.schema import CATALOG, INTERVENTIONS, ORDERS, RETURNS

    def frame(name: str, table: Any) -> pd.DataFrame:
        parts = sorted((d / name).glob("part-*.parquet"))
        df = (
            pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
            if len(parts) > 1
            else pd.read_parquet(parts[0])
        )
        return canonical_frame(df, table)

    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in ("file", "row", "kind", "reason", "data")})
    return Dataset(
        name=f"bench {d.name}",
        orders=frame("orders", ORDERS),
        returns=frame("returns", RETURNS),
        catalog=canonical_frame(pd.DataFrame(), CATALOG),
        interventions=canonical_frame(pd.DataFrame(), INTERVENTIONS),
        files=(),
        rejected=empty,
        unmatched_returns=empty,
        excluded=empty,
    )


def keep_dataset() -> bool:
    """Whether the pipeline keeps the Dataset as read beside the Prepared (RI_BENCH_KEEP_DATASET=1, as the
    dashboard does for its other pages) instead of releasing it once prepared (as the CLI and the default)."""
    return os.environ.get("RI_BENCH_KEEP_DATASET", "") not in ("", "0")


def run_pipeline(d: Path, repeat: int = REPEAT) -> dict:
    import duckdb

    from analysis.engine import Settings, analyse
    from analysis.prepare import prepare

    _stage("start")
    keep = keep_dataset()
    prep, anal, both = [], [], []
    peak = peak_virtual = read = 0.0
    p = a = ds = None
    for i in range(repeat):
        p = a = None
        gc.collect()
        if ds is None:  # read once when the Dataset is kept, per run when it is released (outside the timing)
            t = _cpu()
            ds = read_dataset(d)
            read = read or _cpu() - t
            _stage("read parquet")
        t0 = _cpu()
        p = prepare(ds)
        t1 = _cpu()
        _stage(f"prepare {i + 1}")
        if not keep:  # as the CLI needs it: the rows as read are not read again once prepared
            ds = None
            gc.collect()
        t1b = _cpu()
        a = analyse(p, Settings(cost_per_return=40.0), briefs=False)
        t2 = _cpu()
        _stage(f"analyse {i + 1}")
        prep.append(t1 - t0)
        anal.append(t2 - t1b)
        both.append(t2 - t1b + t1 - t0)
        if i == 0:
            peak = _rss_gb()
            peak_virtual = _vm().get("VmPeak", 0.0)
    assert p is not None and a is not None
    segs = a.segments[a.segments["dimension"] != "combination"]
    (d / "pipeline_segments.csv").write_text(segs[SEG_KEYS].to_csv(index=False))
    (d / "pipeline_pairs.csv").write_text(a.pairs[PAIR_KEYS].to_csv(index=False))
    res = {
        "order_lines": int(len(p.lines)),
        "mature_lines": int(p.lines["mature"].sum()),
        "window_days": int(p.window_days),
        "dimensions": sorted(set(segs["dimension"])),
        "read_parquet_cpu_s": round(read, 2),
        "dataset_released": not keep,
        "prepare_cpu_s": round(statistics.median(prep), 2),
        "analyse_cpu_s": round(statistics.median(anal), 2),
        "prepare_analyse_cpu_s": round(statistics.median(both), 2),
        "prepare_analyse_runs_cpu_s": [round(v, 2) for v in both],
        "peak_rss_gb": round(peak, 2),
        "peak_rss_all_runs_gb": round(_rss_gb(), 2),
        "peak_virtual_gb": round(peak_virtual, 2),
        "segments": int(len(segs)),
        "pairs": int(len(a.pairs)),
        "fix_list_rows": int(len(a.fix_list)),
    }
    del a
    ds = None
    gc.collect()
    cols = ["order_id", "returned_units", "quantity", "mature"] + res["dimensions"]
    from data.engine_sql import duckdb_settings

    con = duckdb.connect(":memory:")
    # the counting connections' memory_limit (and spill folder), so that this comparison query does not take
    # DuckDB's default 80% of the machine: at 20M lines it did, and the guard stopped the child after its analyse
    for name in ("memory_limit", "temp_directory"):
        con.execute(f"SET {name} = '{duckdb_settings()[name]}'")
    con.register("lines", p.lines[cols])
    gs = []
    for _ in range(repeat):
        t = _cpu()
        con.execute(GROUPING_SETS_SQL).fetch_df()
        gs.append(_cpu() - t)
    res["grouping_sets_only_cpu_s"] = round(statistics.median(gs), 3)
    _stage("grouping sets")
    return res


def run_hand(d: Path, repeat: int = REPEAT, memory_limit_gb: float | None = None) -> dict:
    import duckdb

    from bench.hand_query import load_tables, run_hand_query

    _stage("start")
    con = duckdb.connect(":memory:")
    if memory_limit_gb:  # below the address-space limit, so that DuckDB spills to disk instead of failing
        con.execute(f"SET memory_limit = '{memory_limit_gb:.1f}GB'")
        con.execute(f"SET temp_directory = '{d / 'duckdb_tmp'}'")
    t = _cpu()
    load_tables(con, str(d / "orders" / "part-*.parquet"), str(d / "returns" / "part-*.parquet"))
    load = _cpu() - t
    _stage("load parquet into duckdb")
    runs = []
    steps: list[dict[str, float]] = []
    peak = peak_virtual = 0.0
    r = None
    for i in range(repeat):
        t = _cpu()
        steps.append({})
        r = run_hand_query(con, cpu=steps[-1])
        runs.append(_cpu() - t)
        _stage(f"hand query {i + 1}")
        if i == 0:
            peak = _rss_gb()
            peak_virtual = _vm().get("VmPeak", 0.0)
    assert r is not None
    (d / "hand_segments.csv").write_text(r.segments[SEG_KEYS].to_csv(index=False))
    (d / "hand_pairs.csv").write_text(r.pairs[PAIR_KEYS].to_csv(index=False))
    return {
        "window_days": r.window_days,
        "duckdb_load_cpu_s": round(load, 2),
        "hand_full_cpu_s": round(statistics.median(runs), 2),
        "hand_full_runs_cpu_s": [round(v, 2) for v in runs],
        "hand_steps_cpu_s": {k: round(statistics.median(s[k] for s in steps), 2) for k in steps[0]},
        "peak_rss_gb": round(peak, 2),
        "peak_rss_all_runs_gb": round(_rss_gb(), 2),
        "peak_virtual_gb": round(peak_virtual, 2),
        "threads": int(con.execute("SELECT current_setting('threads')").fetchone()[0]),
    }


# ---- the parent --------------------------------------------------------------------------------------------
def _child(args: list[str], limit: int) -> tuple[dict | None, dict]:
    """Run `python -m bench.bench_engine <args>`, stopped by RssWatch above `limit` bytes resident:
    (its JSON or None, info)."""
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_engine", *args],
            stdout=out,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        watch = RssWatch(proc.pid, limit)
        watch.start()
        returncode = proc.wait()
        watch.done.set()
        watch.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    info: dict[str, Any] = {"wall_s": round(time.perf_counter() - t, 1)}
    stages = [ln for ln in stderr.splitlines() if ln.startswith("STAGE ")]
    if stages:  # the child's last stage line: its peak virtual size next to its peak RSS
        info["last_stage"] = stages[-1][6:]
    if returncode != 0:
        error = (stderr.strip().splitlines() or ["(no output)"])[-1][-500:]
        if watch.killed_at is not None:
            error = f"stopped at {watch.killed_at:.2f} GB resident (limit {limit / GB:.1f} GB)"
        info["failed"] = {
            "returncode": returncode,
            "last_stage": stages[-1][6:] if stages else None,
            "error": error,
        }
        return None, info
    return json.loads(stdout.strip().splitlines()[-1]), info


def _differences(d: Path) -> dict:
    import pandas as pd

    out = {}
    for kind, keys, on in (
        ("segments", SEG_KEYS, ["dimension", "segment"]),
        ("pairs", PAIR_KEYS, ["item_a", "item_b"]),
    ):
        p = pd.read_csv(d / f"pipeline_{kind}.csv", keep_default_na=False)
        h = pd.read_csv(d / f"hand_{kind}.csv", keep_default_na=False)
        m = p.merge(h, on=on, how="outer", suffixes=("_p", "_h"), indicator=True)
        diff = m["_merge"] != "both"
        for c in keys:
            if c not in on:
                diff |= m[f"{c}_p"] != m[f"{c}_h"]
        out[kind] = {"rows": int(len(p)), "differences": int(diff.sum())}
    return out


def run_size(n_lines: int, workdir: Path | None = None) -> dict:
    base = Path(workdir or tempfile.mkdtemp(prefix=f"ri-bench-engine-{n_lines}-"))
    limit = rss_limit()
    res: dict[str, Any] = {
        "requested_lines": n_lines,
        "rss_limit_gb": round(limit / GB, 1),
        "duckdb_memory_limit": os.environ.get("RI_DUCKDB_MEMORY_LIMIT") or "default",
        "load_average_start": [round(v, 1) for v in os.getloadavg()],
    }
    try:
        gen, info = _child(["--generate", str(n_lines), str(base)], limit)
        res["generate"] = gen or info
        if gen is None:
            return res
        for name in ("pipeline", "hand"):
            args = [f"--{name}", str(base)]
            if n_lines > 5_000_000:
                args += ["--repeat", "1"]
            if name == "hand":  # leave DuckDB room below the RSS limit to spill instead
                args += ["--memory-limit-gb", f"{max(1.0, limit / GB * 0.5):.1f}"]
            out, info = _child(args, limit)
            res[name] = {**(out or {}), **info}
        pipe, hand = res["pipeline"], res["hand"]
        if "prepare_analyse_cpu_s" in pipe and "hand_full_cpu_s" in hand:
            res["ratio_prepare_analyse_vs_hand_full"] = round(
                pipe["prepare_analyse_cpu_s"] / hand["hand_full_cpu_s"], 2
            )
            res["ratio_analyse_vs_grouping_sets_only"] = round(
                pipe["analyse_cpu_s"] / pipe["grouping_sets_only_cpu_s"], 2
            )
            res["counts"] = _differences(base)
            res["same_window"] = pipe["window_days"] == hand["window_days"]
    finally:
        res["load_average_end"] = [round(v, 1) for v in os.getloadavg()]
        if workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    return res


def main(sizes: tuple[int, ...] | list[int] = SIZES) -> dict:
    out = {}
    for n in sizes:
        out[str(n)] = run_size(n)
        print(json.dumps({str(n): out[str(n)]}), flush=True)
    return out


def _cli(argv: list[str]) -> None:
    opts = {"--repeat": str(REPEAT), "--as-limit": "0", "--memory-limit-gb": "0"}
    rest = []
    it = iter(argv)
    for a in it:
        if a in opts:
            opts[a] = next(it)
        else:
            rest.append(a)
    _limit(int(opts["--as-limit"]))
    repeat = int(opts["--repeat"])
    if rest and rest[0] == "--generate":
        print(json.dumps(generate(int(rest[1]), Path(rest[2]))))
    elif rest and rest[0] == "--pipeline":
        print(json.dumps(run_pipeline(Path(rest[1]), repeat)))
    elif rest and rest[0] == "--hand":
        print(json.dumps(run_hand(Path(rest[1]), repeat, float(opts["--memory-limit-gb"]) or None)))
    else:
        main([int(a) for a in rest] or SIZES)


if __name__ == "__main__":
    _cli(sys.argv[1:])
