"""Load benchmark: load_dataset vs the raw readers, in the same run (median of 3).

CSV: 1,000,000 generated order lines (generic orders layout, ISO dates, prices with 2 decimals),
compared with DuckDB read_csv (all_varchar). XLSX: 200,000 lines (smaller: writing a 1M-row XLSX
with xlsxwriter takes minutes), compared with iterating the sheet with python-calamine.
Run: .venv/bin/python -m bench.bench_load   (not part of the test suite).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.timing import median_time

CSV_LINES = 1_000_000
XLSX_LINES = 200_000


def _frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    order = rng.integers(0, n // 2, n)
    order.sort()
    start = np.datetime64("2023-01-01")
    days = (order * 730 // (n // 2)).astype("timedelta64[D]")
    return pd.DataFrame({
        "Order ID": "SO" + pd.Series(order).astype(str),
        "Order Date": pd.Series(start + days).dt.strftime("%Y-%m-%d"),
        "SKU": "SKU-" + pd.Series(rng.integers(0, 5000, n)).astype(str),
        "Quantity": rng.integers(1, 4, n),
        "Unit Price": np.round(rng.uniform(5, 200, n), 2),
        "Customer ID": "C" + pd.Series(rng.integers(0, n // 5, n)).astype(str),
        "Collection": pd.Series(rng.choice(["Linen", "Lighting", "Sofas", "Rugs", "Denim"], n)),
        "Size": pd.Series(rng.choice(["XS", "S", "M", "L", "XL"], n)),
    })




def main() -> dict:
    from python_calamine import CalamineWorkbook

    from data.ingest import SourceFile, load_dataset
    from data.store import read_csv_duckdb

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "orders_1m.csv"
        _frame(CSV_LINES).to_csv(csv_path, index=False)
        content = csv_path.read_bytes()
        ds = load_dataset([SourceFile("orders_1m.csv", content)])
        assert ds.files[0].rows_loaded == CSV_LINES, ds.files[0]
        t_load = median_time(lambda: load_dataset([SourceFile("orders_1m.csv", content)]))
        t_raw = median_time(lambda: read_csv_duckdb(str(csv_path)))
        out["csv"] = {"lines": CSV_LINES, "load_dataset_s": round(t_load, 2), "duckdb_read_csv_s": round(t_raw, 2),
                      "ratio": round(t_load / t_raw, 1)}

        xlsx_path = Path(tmp) / "orders_200k.xlsx"
        _frame(XLSX_LINES, seed=2).to_excel(xlsx_path, index=False, engine="xlsxwriter")
        xcontent = xlsx_path.read_bytes()

        def calamine_iter():
            wb = CalamineWorkbook.from_path(str(xlsx_path))
            for _ in wb.get_sheet_by_index(0).iter_rows():
                pass

        t_xload = median_time(lambda: load_dataset([SourceFile("orders_200k.xlsx", xcontent)]))
        t_xraw = median_time(calamine_iter)
        out["xlsx"] = {"lines": XLSX_LINES, "load_dataset_s": round(t_xload, 2), "calamine_iter_s": round(t_xraw, 2),
                       "ratio": round(t_xload / t_xraw, 1)}
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
