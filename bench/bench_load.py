"""Load benchmark: the load path on the real export vs DuckDB and python-calamine, in the same run.

Timed (median of REPEAT runs, wall and CPU seconds; CPU counts every thread of this process):
- real CSV: ``load_dataset`` on the real Online Retail II export (502,938 lines, gzipped bytes in,
  canonical Dataset out: read, detect, map, validate, split credit notes, match returns) against
  DuckDB ``read_csv`` of the same .gz file (all columns as text), and ``read_csv`` + a GROUP BY of
  units per invoice month (the cheapest query that touches every line);
- real XLSX: ``read_table`` + ``load_dataset`` of the first XLSX_LINES lines of the same export written
  as a workbook, against reading the sheet into Python values with python-calamine (``to_python``);
- start-up: ``python -m analysis --help`` against a bare ``python -c pass``;
- the whole CLI (``python -m analysis report --transactions REAL``: load, prepare, analyse, print), CPU
  of the child process, against the DuckDB ``read_csv`` + GROUP BY above.

The real file is read from ../shared/data (never copied into the repo); without it the CSV and XLSX
parts say so and are skipped. Run: ``make bench`` or ``python -m bench load``. Not part of the tests.
To measure an older checkout with the same harness: ``cd OLD && PYTHONPATH=OLD python NEW/bench/bench_load.py``.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEAT = 3
XLSX_LINES = 100_000
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online_retail_II_2009-12_to_2010-11.csv.gz"
ROOT = Path.cwd()


def timed(fn, repeat: int = REPEAT) -> dict:
    """Median wall and CPU seconds of `repeat` runs of fn() (one untimed warm-up run first)."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return {"wall_s": round(statistics.median(walls), 3), "cpu_s": round(statistics.median(cpus), 3)}


def _ratio(a: dict, b: dict) -> dict:
    return {"wall_x": round(a["wall_s"] / b["wall_s"], 2), "cpu_x": round(a["cpu_s"] / b["cpu_s"], 2)}


def _subprocess_wall(args: list[str], repeat: int = 5) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(args, cwd=ROOT, env=env, capture_output=True, check=True)
    walls = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(args, cwd=ROOT, env=env, capture_output=True, check=True)
        walls.append(time.perf_counter() - t)
    return round(statistics.median(walls), 3)


def bench_csv(content: bytes) -> dict:
    import duckdb

    from data.ingest import SourceFile, load_dataset

    ds = load_dataset([SourceFile(REAL.name, content)])
    f = ds.files[0]
    con = duckdb.connect(":memory:")  # the baseline only: the product goes through data.store

    def duck_read():
        return con.execute("SELECT * FROM read_csv($p, all_varchar = true, header = true)", {"p": str(REAL)}).fetch_df()

    def duck_group():
        return con.execute(
            "SELECT date_trunc('month', CAST(InvoiceDate AS TIMESTAMP)) AS m, sum(Quantity) AS units "
            "FROM read_csv($p, header = true) GROUP BY 1",
            {"p": str(REAL)},
        ).fetch_df()

    rows = len(duck_read())
    load = timed(lambda: load_dataset([SourceFile(REAL.name, content)]))
    read = timed(duck_read)
    group = timed(duck_group)
    return {
        "lines": rows,
        "rows_loaded": f.rows_loaded,
        "rows_rejected": f.rows_rejected,
        "load_dataset": load,
        "duckdb_read_csv": read,
        "duckdb_read_csv_group_by": group,
        "load_vs_read_csv": _ratio(load, read),
        "load_vs_read_csv_group_by": _ratio(load, group),
    }


def bench_xlsx(content: bytes) -> dict:
    import pandas as pd
    from python_calamine import CalamineWorkbook

    from data.ingest import SourceFile, load_dataset
    from data.readers import read_table

    df = pd.read_csv(
        io.BytesIO(content),
        compression="gzip",
        nrows=XLSX_LINES,
        dtype={"Invoice": str, "StockCode": str, "Customer ID": str},
    )
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "real.xlsx"
        df.to_excel(path, index=False, engine="xlsxwriter")
        data = path.read_bytes()

    def calamine():
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return wb.get_sheet_by_index(0).to_python(skip_empty_area=True)

    read = timed(lambda: read_table("real.xlsx", data))
    load = timed(lambda: load_dataset([SourceFile("real.xlsx", data)]))
    bare = timed(calamine)
    return {
        "lines": XLSX_LINES,
        "read_table": read,
        "load_dataset": load,
        "calamine_to_python": bare,
        "read_table_vs_calamine": _ratio(read, bare),
        "load_vs_calamine": _ratio(load, bare),
    }


def bench_cli() -> dict:
    """The CLI report on the real file: median wall and CPU seconds of the child process over REPEAT runs."""
    import resource

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    walls, cpus = [], []
    for _ in range(REPEAT):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "analysis", "report", "--transactions", str(REAL)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
        )
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return {"wall_s": round(statistics.median(walls), 2), "cpu_s": round(statistics.median(cpus), 2)}


def bench_startup() -> dict:
    help_s = _subprocess_wall([sys.executable, "-m", "analysis", "--help"])
    bare_s = _subprocess_wall([sys.executable, "-c", "pass"])
    return {"analysis_help_wall_s": help_s, "python_bare_wall_s": bare_s}


def main() -> dict:
    out: dict = {"startup": bench_startup()}
    if not REAL.exists():
        out["csv"] = out["xlsx"] = f"skipped: the real export is not at {REAL}"
    else:
        content = REAL.read_bytes()
        out["csv"] = bench_csv(content)
        out["xlsx"] = bench_xlsx(content)
        cli = bench_cli()
        out["cli_report"] = {**cli, "vs_duckdb_read_csv_group_by": _ratio(cli, out["csv"]["duckdb_read_csv_group_by"])}
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    main()
