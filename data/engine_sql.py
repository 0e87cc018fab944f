"""Runs the analysis's counting queries (SQL kept in named files, DuckDB dialect) on an engine.

Two engines, one definition: "duckdb" (default: an in-process DuckDB connection per call, the tables
registered zero-copy from pandas) and "spark" (the query transpiled by SQLGlot to Spark SQL and run on
the active SparkSession: local mode, a master URL from SPARK_MASTER, or Spark Connect from
SPARK_REMOTE). The SQL text comes from the caller (analysis/sql/*.sql); this module only executes it,
so analysis/ stays pure numpy on the aggregated rows and only data/ imports the engines
(.importlinter: data.store and data.engine_sql may import duckdb).

>>> import pandas as pd
>>> run_sql("SELECT k, sum(v) AS s FROM t GROUP BY k ORDER BY k", {"t": pd.DataFrame({"k": [1, 1, 2], "v": [1., 2., 5.]})})
   k    s
0  1  3.0
1  2  5.0
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")
U = TypeVar("U")

ENGINES = ("duckdb", "spark")
_ENGINE: contextvars.ContextVar[str] = contextvars.ContextVar("ri_sql_engine", default="duckdb")


def current_engine() -> str:
    """The engine counting queries run on in this context ("duckdb" unless use_engine says otherwise)."""
    return _ENGINE.get()


@contextlib.contextmanager
def use_engine(name: str) -> Iterator[None]:
    """Run the counting queries inside the block on `name` ("duckdb" or "spark")."""
    if name not in ENGINES:
        raise ValueError(f"Unknown engine '{name}'; choose one of {', '.join(ENGINES)}.")
    token = _ENGINE.set(name)
    try:
        yield
    finally:
        _ENGINE.reset(token)


@functools.lru_cache(maxsize=64)
def to_spark_sql(sql: str) -> str:
    """The DuckDB-dialect query as Spark SQL (SQLGlot)."""
    import sqlglot

    out = sqlglot.transpile(sql, read="duckdb", write="spark")
    if len(out) != 1:
        raise ValueError("A counting query must be a single statement.")
    return out[0]


def run_sql(sql: str, tables: dict[str, pd.DataFrame], engine: str | None = None) -> pd.DataFrame:
    """Run one query over `tables` (name -> frame) on `engine` (default: current_engine()); a pandas frame."""
    engine = engine or current_engine()
    if engine == "duckdb":
        return _run_duckdb(sql, tables)
    if engine == "spark":
        return _run_spark(to_spark_sql(sql), tables)
    raise ValueError(f"Unknown engine '{engine}'; choose one of {', '.join(ENGINES)}.")


class _Shared:
    """One DuckDB connection for the queries of a shared_tables() block, and the frames loaded into it."""

    def __init__(self) -> None:
        self.con: Any = None
        self.loaded: dict[str, pd.DataFrame] = {}
        self.narrowed: set[str] = set()  # int64 columns stored as INTEGER (_narrow_columns)
        # loading tables is one thread's at a time; the queries then run on a cursor each, side by side
        # (side_by_side), and a table is never replaced while a query of another thread reads it
        self.lock = threading.Lock()
        self.reading: dict[str, int] = {}  # table name -> queries running on it


_SHARED: contextvars.ContextVar[_Shared | None] = contextvars.ContextVar("ri_sql_shared", default=None)


@contextlib.contextmanager
def shared_tables() -> Iterator[None]:
    """Inside the block, the DuckDB queries share one connection and each frame is loaded into it once, as a
    table, however many queries read it (a frame registered per query is scanned from pandas each time: the
    three segment-count queries over one 1M-line lines table cost 3.7 s CPU that way, 3.4 s sharing it). The
    connection is closed when the block ends; other engines run each query as run_sql always does."""
    state = _Shared()
    token = _SHARED.set(state)
    try:
        yield
    finally:
        _SHARED.reset(token)
        if state.con is not None:
            state.con.close()


def side_by_side(first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """first() and second(), the second on a thread of its own when each DuckDB query runs on one thread
    (RI_DUCKDB_THREADS=1, as the dashboard sets it): two independent queries then use the machine's two cores
    where one query at a time would use one (DuckDB releases the GIL while it counts). Inside a shared_tables()
    block both read the same loaded tables, each on its own cursor. Otherwise one after the other."""
    if os.environ.get("RI_DUCKDB_THREADS") != "1" or current_engine() != "duckdb":
        return first(), second()
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = second()
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    worker = threading.Thread(target=contextvars.copy_context().run, args=(run,), name="ri-sql-side")
    worker.start()
    try:
        a = first()
    finally:
        worker.join()
    if "error" in result:
        raise result["error"]
    return a, result["value"]


# The counting connection's working memory (issue 14, target 2). DuckDB's default is 80% of the machine's RAM
# per connection, and the segment-sums query's hash tables took all they could get: at 5M lines 5.5 GB on
# top of the frames (peak RSS 10.2 GB, bench/memory_profile.py). Capped, the hash aggregates and joins spill
# to temp_directory instead; README "Memory" has the figures. Per connection: each dashboard session and
# each CLI run has its own.
DEFAULT_MEMORY_LIMIT = "1GB"


_CONNECTIONS = itertools.count()  # numbers each connection's temp_directory


def duckdb_settings() -> dict[str, str]:
    """The settings every counting connection gets: memory_limit (RI_DUCKDB_MEMORY_LIMIT, default
    DEFAULT_MEMORY_LIMIT; DuckDB syntax such as '2GB', '500MB'), temp_directory for what spills (a folder
    of its own per connection under RI_DUCKDB_TEMP_DIR, default <system temp>/ri-duckdb, not DuckDB's
    default '.tmp' in the working directory: DuckDB creates it on the first spill and removes it when the
    connection closes, which a folder shared by the sessions' connections would not survive),
    preserve_insertion_order off (no query reads rows in load order: row_no carries it), and threads when
    RI_DUCKDB_THREADS is set."""
    import tempfile

    out = {
        "enable_progress_bar": "false",  # a long count would draw a bar into the server's output
        "memory_limit": os.environ.get("RI_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
        "temp_directory": os.path.join(
            os.environ.get("RI_DUCKDB_TEMP_DIR") or os.path.join(tempfile.gettempdir(), "ri-duckdb"),
            f"{os.getpid()}-{next(_CONNECTIONS)}",
        ),
        "preserve_insertion_order": "false",
    }
    if os.environ.get("RI_DUCKDB_THREADS"):
        out["threads"] = str(int(os.environ["RI_DUCKDB_THREADS"]))
    return out


def _connect() -> Any:
    import duckdb

    settings = duckdb_settings()
    parent = os.path.dirname(settings["temp_directory"])
    os.makedirs(parent, exist_ok=True)  # DuckDB makes only the last folder
    _remove_orphan_spills(parent)
    con = duckdb.connect(":memory:")
    for name, value in settings.items():  # names and values from the code, env and int(); quotes doubled
        con.execute(f"SET {name} = '{str(value).replace(chr(39), chr(39) * 2)}'")
    return con


_SWEPT: set[str] = set()


def _remove_orphan_spills(parent: str) -> None:
    """Remove spill folders (<pid>-<n>) of processes that no longer run (a killed process never closed its
    connection, so DuckDB could not remove them); once per parent folder and process."""
    import shutil

    if parent in _SWEPT:
        return
    _SWEPT.add(parent)
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        pid = name.split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running (or not ours to signal): leave it
        except ProcessLookupError:
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
        except OSError:
            continue


def _narrow_columns(frame: pd.DataFrame) -> tuple[str, set[str]]:
    """The select list that loads `frame` as a table with its int64 columns stored as INTEGER where every
    value fits (codes, row numbers, counts): the hash tables of the queries over them are keyed on these
    columns, and narrower keys are smaller ones (the segment-sums query over 4.8M lines: 4.4 -> 3.6 GB
    unlimited, 18.1 -> 14.9 s CPU when capped at 1 GB and spilling; the same result rows)."""
    lo, hi = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    out, narrowed = [], set()
    for col in frame.columns:
        q = '"' + str(col).replace('"', '""') + '"'
        s = frame[col]
        if s.dtype == np.dtype("int64") and (not len(s) or (lo <= int(s.min()) and int(s.max()) <= hi)):
            out.append(f"CAST({q} AS INTEGER) AS {q}")
            narrowed.add(str(col))
        else:
            out.append(q)
    return ", ".join(out) or "*", narrowed


def _run_duckdb(sql: str, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    shared = _SHARED.get()
    if shared is not None:
        with shared.lock:
            if shared.con is None:
                shared.con = _connect()
            for name, frame in tables.items():
                if shared.loaded.get(name) is not frame:  # a new frame under this name: load it (again)
                    if shared.reading.get(name):
                        raise RuntimeError(
                            f"Table '{name}' would be replaced while another thread's query reads it: queries run "
                            "side by side must read the same frames."
                        )
                    select, narrowed = _narrow_columns(frame)
                    shared.con.register("ri_frame", frame)
                    shared.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT {select} FROM ri_frame')
                    shared.con.unregister("ri_frame")
                    shared.loaded[name] = frame
                    shared.narrowed |= narrowed
            cursor = shared.con.cursor()  # the same database and tables; one query at a time per cursor
            for name in tables:
                shared.reading[name] = shared.reading.get(name, 0) + 1
        try:
            out = cursor.execute(sql).df()
        finally:
            cursor.close()
            with shared.lock:
                for name in tables:
                    shared.reading[name] -= 1
        # a narrowed column read back as it is comes back at the width it was given (as run without sharing)
        wide = {c: "int64" for c in out.columns if c in shared.narrowed and out[c].dtype == np.dtype("int32")}
        return out.astype(wide) if wide else out
    con = _connect()
    try:
        for name, frame in tables.items():
            con.register(name, frame)
        return con.execute(sql).df()
    finally:
        con.close()


def spark_session() -> Any:
    """The active SparkSession, or a new one: Spark Connect when SPARK_REMOTE is set, else the master in
    SPARK_MASTER (default local[2])."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if os.environ.get("SPARK_REMOTE"):
        return SparkSession.builder.remote(os.environ["SPARK_REMOTE"]).getOrCreate()
    spark = (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
        .appName("returns-intelligence")
        .config("spark.sql.shuffle.partitions", os.environ.get("RI_SPARK_PARTITIONS", "2"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel(os.environ.get("RI_SPARK_LOG_LEVEL", "ERROR"))
    return spark


def _spark_type(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE"
    return "STRING"


_SPARK_VIEWS: dict[str, tuple] = {}  # view name -> (session, frame) last registered: the same frame is not sent twice


def _run_spark(sql: str, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    spark = spark_session()
    for name, frame in tables.items():
        last = _SPARK_VIEWS.get(name)
        if last is not None and last[0] is spark and last[1] is frame:
            continue
        _SPARK_VIEWS[name] = (spark, frame)
        # an explicit schema: Spark cannot infer one from an empty frame, and the types must not vary
        schema = ", ".join(f"`{c}` {_spark_type(t)}" for c, t in frame.dtypes.items())
        spark.createDataFrame(frame, schema=schema).createOrReplaceTempView(name)
    return spark.sql(sql).toPandas()


def read_spark_table(source: str) -> pd.DataFrame:
    """A canonical table from Spark: a Parquet path (file or folder ending in .parquet, or any existing
    path) or a table name in the session's catalog; collected to pandas."""
    spark = spark_session()
    if source.endswith(".parquet") or os.path.exists(source):
        df = spark.read.parquet(source)
    else:
        df = spark.table(source)
    return df.toPandas()
