"""Run bench/hand_query.sql: issue 14's hand-written DuckDB query, from the canonical tables to the counts of the
segment and pair tables (the baseline of bench/bench_engine.py; held equal to prepare() + analyse() by
tests/unit/test_hand_query.py).

It imports nothing from analysis/ or data/: the rules (return allocation, intents, customer types, the
Kaplan-Meier return window, maturity, the pair self-join) are written again in SQL, so agreement with the
pipeline is evidence, not a tautology.

    con = duckdb.connect()
    load_tables(con, orders_frame_or_parquet_path, returns_frame_or_parquet_path)
    r = run_hand_query(con)          # r.segments, r.pairs, r.window_days, r.cutoff
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import resource
import time

import pandas as pd

SQL_PATH = Path(__file__).with_name("hand_query.sql")
NOT_SET = "(not set)"
LINE_DIMENSIONS = ("collection", "category", "product", "size")
ORDER_DIMENSIONS = ("intent", "journey", "channel", "customer_type", "promotion", "country", "addon")
DIMENSIONS = LINE_DIMENSIONS + ORDER_DIMENSIONS
WHOLESALE_MEDIAN_UNITS = 12  # above this median basket, intents are not analysed (as prepare)


def statements() -> dict[str, str]:
    """The named statements of hand_query.sql, in file order."""
    out: dict[str, str] = {}
    name = None
    for line in SQL_PATH.read_text(encoding="utf-8").splitlines():
        if line.startswith("-- name: "):
            name = line.removeprefix("-- name: ").strip()
            out[name] = ""
        elif name is not None:
            out[name] += line + "\n"
    return out


def load_tables(con: Any, orders: pd.DataFrame | str | Path, returns: pd.DataFrame | str | Path) -> None:
    """Create the canonical tables `orders` and `returns` in `con`, in file order (rowid = line position),
    from DataFrames or Parquet files (a path may be a glob of part files, read in name order)."""
    for name, src in (("orders", orders), ("returns", returns)):
        if isinstance(src, pd.DataFrame):
            con.register("_src", src)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _src")
            con.unregister("_src")
        else:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(src)])


@dataclass(frozen=True)
class HandResult:
    window_days: int
    cutoff: pd.Timestamp
    dimensions: tuple[str, ...]
    level: str | None
    segments: pd.DataFrame  # dimension, segment, n, returned, cells, orders, orders_returned, syy, sym, smm
    # the same per customer (cells = customers; orders = customers with units): None when no customer repeats
    customer_segments: pd.DataFrame | None
    pairs: pd.DataFrame  # item_a, item_b, n, returned, orders, orders_returned, n_a, n_b, expected_returns


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_hand_query(
    con: Any,
    *,
    window_days: int | None = None,
    customer_type: bool = True,
    cpu: dict[str, float] | None = None,
    wall: dict[str, float] | None = None,
) -> HandResult:
    """Every statement of hand_query.sql on the tables load_tables made. window_days: the caller's window
    (None = the Kaplan-Meier window, computed in SQL); customer_type=False: a dataset of signed transactions
    (prepare does not analyse first vs repeat customers there); cpu: a dict that receives the CPU seconds of
    each step (lines, window, segments_orders, segments_customers, pairs); wall: one that receives their wall
    seconds."""
    sql = statements()
    cpu = {} if cpu is None else cpu
    wall = {} if wall is None else wall
    t, w0 = _cpu(), time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t, w0
        now, w_now = _cpu(), time.perf_counter()
        cpu[name] = cpu.get(name, 0.0) + now - t
        wall[name] = wall.get(name, 0.0) + w_now - w0
        t, w0 = now, w_now

    av = con.execute(sql["availability"]).fetch_df().iloc[0]
    has = {k for k in av.index if k != "n_lines" and int(av[k]) > 0}
    coll_col = "collection" if "collection" in has else ("category" if "category" in has else "NULL")
    con.execute(
        sql["lines"].format(
            coll_col=coll_col,
            has_size="true" if "size" in has else "false",
            product_key="coalesce(product_name, sku)" if "product_name" in has else "sku",
            variant_key="coalesce(size, sku)" if "size" in has else "sku",
        )
    )
    lap("lines")
    con.execute(sql["window"].format(window_days=int(window_days or 0)))
    w, cutoff = con.execute("SELECT window_days, cutoff FROM hq_window").fetchone()
    lap("window")
    has.add("product")
    if "customer_id" in has and customer_type:
        has.add("customer_type")
    if "intent" not in has:
        (median,) = con.execute(
            "SELECT median(u) FROM (SELECT sum(quantity) AS u FROM hq_lines GROUP BY ord)"
        ).fetchone()
        if median is not None and float(median) <= WHOLESALE_MEDIAN_UNITS:
            has.add("intent")
    dims = tuple(d for d in DIMENSIONS if d in has)
    ids = {d: i for i, d in enumerate(dims)}

    def segments(cluster: str) -> pd.DataFrame:
        out = con.execute(
            sql["segments"].format(
                cluster=cluster,
                dim_case="CASE " + " ".join(f"WHEN s_{d} IS NOT NULL THEN {ids[d]}" for d in dims) + " END",
                seg_coalesce=", ".join(f"s_{d}" for d in dims),
                seg_cols=", ".join(f"coalesce(CAST({d} AS VARCHAR), '{NOT_SET}') AS s_{d}" for d in dims),
                cells_sets=", ".join(f"(s_{d}, {cluster})" for d in dims),
            )
        ).fetch_df()
        out["dimension"] = [dims[int(i)] for i in out["dimension"]]
        return out

    seg = segments("ord")
    lap("segments_orders")
    # customers repeat when the known customers hold more orders than there are customers (as analysis does)
    n_ord, n_cust = con.execute(
        "SELECT count(DISTINCT ord), count(DISTINCT clu) FROM hq_lines l, hq_window w "
        "WHERE l.order_date <= w.cutoff AND clu > 0"
    ).fetchone()
    cseg = segments("clu") if n_ord > n_cust else None
    lap("segments_customers")
    level = "collection" if "collection" in has else ("product" if "product" in has else None)
    if level == "collection":
        pairs = con.execute(sql["pairs"].format(level=level)).fetch_df()
    else:  # the pipeline's product pairs keep the 40 products with most units: not written here
        pairs = pd.DataFrame()
    lap("pairs")
    return HandResult(int(w), pd.Timestamp(cutoff), dims, level, seg, cseg, pairs)
