"""The DuckDB store: the ONLY module that imports duckdb (convention 5, docs/METHOD-REFERENCES.md).

One in-memory connection per Store (one per user session); every call runs on its own
`conn.cursor()` so Streamlit's session threads never share a cursor. Queries are NAMED (QUERIES);
values go in as $parameters and identifiers (table/column names, possibly from uploaded headers)
only through quote_ident(). duckdb.Error becomes data.errors.StoreError with a readable title.

Canonical tables (Store.load_dataset): a loaded Dataset's orders and returns go in once per session,
with order numbers and SKUs encoded once as integer keys (dictionary tables ``order_ids`` and
``skus``), so every join and GROUP BY works on integers rather than re-hashing text. The table
``lines`` is derived from them once per load, in SQL: the lines with their keys and decoded ids and
each line's returned units, allocated exactly as analysis.prepare does. The sidebar reads it on every
rerun (dates, distinct channels / journeys / collections), so it is materialised, not a view.
``headline_by_month`` counts orders, units, returned units and orders with a return per month from
these tables (tests/unit/test_store_canonical.py holds it equal to the pandas engine on the demo).
"""

from __future__ import annotations

import string

import duckdb
import numpy as np
import pandas as pd

from data.errors import StoreError
from data.model import Dataset

# Returned units of each order line: the returns of an (order, sku) summed, then handed to that
# order's lines of the sku in file order, each taking at most its own quantity (= analysis.prepare).
_LINES_TABLE = """
    CREATE OR REPLACE TABLE lines AS
    WITH ret AS (
        SELECT order_key, sku_key, sum(quantity) AS ret_q FROM returns GROUP BY order_key, sku_key
    ), alloc AS (
        SELECT o.*, coalesce(r.ret_q, 0) AS ret_q,
               coalesce(sum(o.quantity) OVER (PARTITION BY o.order_key, o.sku_key ORDER BY o.line_no
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_q
        FROM orders o LEFT JOIN ret r ON o.order_key = r.order_key AND o.sku_key = r.sku_key
        WHERE o.quantity > 0
    )
    SELECT i.order_id, s.sku, a.* EXCLUDE (ret_q, before_q),
           CAST(least(greatest(a.ret_q - a.before_q, 0), a.quantity) AS BIGINT) AS returned_units
    FROM alloc a LEFT JOIN order_ids i ON a.order_key = i.order_key LEFT JOIN skus s ON a.sku_key = s.sku_key
    ORDER BY a.line_no
"""

# name -> SQL. {placeholders} are identifiers (quoted by quote_ident); $names are values (parameters).
QUERIES: dict[str, str] = {
    "summary": """
        SELECT count(*) AS rows, count(DISTINCT order_id) AS orders, min(order_date) AS first_date,
               max(order_date) AS last_date, coalesce(sum(quantity), 0) AS units
        FROM {table}""",
    "distinct_values": """
        SELECT DISTINCT {column} AS value FROM {table} WHERE {column} IS NOT NULL ORDER BY 1 LIMIT $limit""",
    "monthly_units": """
        SELECT date_trunc('month', order_date) AS month, sum(quantity) AS units,
               sum(coalesce(returned_units, 0)) AS returned_units
        FROM {table} GROUP BY 1 ORDER BY 1""",
    "rows_between": """
        SELECT * FROM {table} WHERE order_date >= $start AND order_date < $end""",
    "tables": """
        SELECT table_name FROM information_schema.tables ORDER BY 1""",
    # Headline counts per order month, on the basis of analysis.metrics.totals: mature orders only (ordered
    # on or before the last order date minus the return window; every order when none is that old).
    # An order's month and maturity are those of its first line; "orders with a return" have at least one
    # returned unit.
    "headline_by_month": """
        WITH l AS (
            SELECT order_key, line_no, order_date, quantity, returned_units,
                   order_date <= max(order_date) OVER () - to_days(CAST($window_days AS INTEGER)) AS mature
            FROM lines
        ), per_order AS (
            SELECT order_key, arg_min(order_date, line_no) AS order_date, arg_min(mature, line_no) AS mature,
                   count(*) AS order_lines, sum(quantity) AS units, sum(returned_units) AS returned_units
            FROM l GROUP BY order_key
        ), used AS (
            SELECT * FROM per_order WHERE mature OR NOT (SELECT coalesce(bool_or(mature), false) FROM per_order)
        )
        SELECT date_trunc('month', order_date) AS month, count(*) AS orders,
               CAST(sum(order_lines) AS BIGINT) AS order_lines, CAST(sum(units) AS BIGINT) AS units,
               CAST(sum(returned_units) AS BIGINT) AS returned_units,
               count(*) FILTER (WHERE returned_units > 0) AS orders_with_return
        FROM used GROUP BY 1 ORDER BY 1""",
}


def quote_ident(name: str) -> str:
    """Quote an SQL identifier for DuckDB: wrap in double quotes, double any inner quote."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"An identifier must be a non-empty string without NUL characters, not {name!r}.")
    return '"' + name.replace('"', '""') + '"'


def _identifiers(sql: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(sql) if f}


class Store:
    """In-memory DuckDB database for one session."""

    def __init__(self) -> None:
        try:
            self._conn = duckdb.connect(":memory:")
            self._conn.execute("SET enable_progress_bar = false")  # no bar drawn into the server output
        except duckdb.Error as exc:
            raise StoreError(
                "Database could not start", f"DuckDB could not open an in-memory database ({exc})."
            ) from exc
        # results of named queries, by (name, arguments): the tables change only through load / load_dataset,
        # which empty it, so a page rerun (the sidebar's summary and filter options) does not query again
        self._results: dict[tuple, pd.DataFrame] = {}

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        try:
            return self._conn.cursor()
        except duckdb.Error as exc:  # closed: its session was released (dashboard.cache.release_session)
            raise StoreError("Database closed", f"This session's database was closed ({exc}).") from exc

    def load(self, name: str, df: pd.DataFrame) -> None:
        """Create (or replace) table `name` from a DataFrame."""
        self._results.clear()
        cur = self._cursor()
        try:
            cur.register("__incoming", df)
            cur.execute(f"CREATE OR REPLACE TABLE {quote_ident(name)} AS SELECT * FROM __incoming")
            cur.unregister("__incoming")
        except duckdb.Error as exc:
            raise StoreError("Table could not be loaded", f"Loading table '{name}' failed ({exc}).") from exc
        finally:
            cur.close()

    def load_dataset(self, dataset: Dataset) -> None:
        """Load a Dataset's orders and returns as the canonical tables, ids encoded once (module docstring).

        Tables: ``order_ids(order_key, order_id)``, ``skus(sku_key, sku)``, ``orders`` (line_no = row of
        dataset.orders, order_key, sku_key, every other canonical order column), ``returns`` (order_key,
        sku_key, every other canonical return column); ``lines`` (order lines with quantity > 0, keys and
        decoded ids, returned_units).
        """
        orders, returns = dataset.orders, dataset.returns
        # one dictionary per id over both tables: a return's order number gets the same key as the sale's
        o_codes, o_uniq = pd.factorize(
            pd.concat([orders["order_id"], returns["order_id"]], ignore_index=True).astype("string"),
            use_na_sentinel=True,
        )
        s_codes, s_uniq = pd.factorize(
            pd.concat([orders["sku"], returns["sku"]], ignore_index=True).astype("string"), use_na_sentinel=True
        )
        n = len(orders)

        def keyed(frame: pd.DataFrame, oc: np.ndarray, sc: np.ndarray, line_no: bool) -> pd.DataFrame:
            cols = {"line_no": np.arange(len(frame), dtype="int64")} if line_no else {}
            cols["order_key"] = pd.array(np.where(oc >= 0, oc, 0), dtype="Int32").copy()
            cols["sku_key"] = pd.array(np.where(sc >= 0, sc, 0), dtype="Int32").copy()
            cols["order_key"][oc < 0] = pd.NA
            cols["sku_key"][sc < 0] = pd.NA
            out = pd.DataFrame(cols)
            rest = frame.drop(columns=["order_id", "sku"]).reset_index(drop=True)
            return pd.concat([out, rest], axis=1)

        frames = {
            "order_ids": pd.DataFrame(
                {"order_key": np.arange(len(o_uniq), dtype="int32"), "order_id": pd.Series(o_uniq, dtype="string")}
            ),
            "skus": pd.DataFrame(
                {"sku_key": np.arange(len(s_uniq), dtype="int32"), "sku": pd.Series(s_uniq, dtype="string")}
            ),
            "orders": keyed(orders, o_codes[:n], s_codes[:n], True),
            "returns": keyed(returns, o_codes[n:], s_codes[n:], False),
        }
        self._results.clear()
        cur = self._cursor()
        try:
            cur.execute("DROP TABLE IF EXISTS lines")
            for name, df in frames.items():
                cur.register("__incoming", df)
                cur.execute(f"CREATE OR REPLACE TABLE {quote_ident(name)} AS SELECT * FROM __incoming")
                cur.unregister("__incoming")
            cur.execute(_LINES_TABLE)
        except duckdb.Error as exc:
            raise StoreError("Data could not be stored", f"Loading the canonical tables failed ({exc}).") from exc
        finally:
            cur.close()

    def headline_by_month(self, window_days: int) -> pd.DataFrame:
        """Orders, order lines, units, returned units and orders with a return per order month, mature orders
        only, computed in DuckDB from the canonical tables (see QUERIES["headline_by_month"]).

        window_days: the return window (analysis.prepare's estimate, or the user's setting).
        """
        if not isinstance(window_days, (int, np.integer)) or isinstance(window_days, bool) or window_days < 0:
            raise ValueError(f"window_days must be a whole number of days, not {window_days!r}.")
        out = self.query("headline_by_month", window_days=int(window_days)).copy()  # the stored result stays as read
        out["month"] = pd.to_datetime(out["month"]).astype("datetime64[ns]")
        for c in ("orders", "order_lines", "units", "returned_units", "orders_with_return"):
            out[c] = out[c].astype("int64")
        return out

    def tables(self) -> list[str]:
        return self.query("tables")["table_name"].tolist()

    def query(self, name: str, **params: object) -> pd.DataFrame:
        """Run the named query. Keyword arguments naming {identifiers} in the SQL are quoted into it;
        the rest are bound as $parameters. A query asked again before the tables change returns the frame it
        returned the first time: callers do not modify it."""
        key = (name, tuple(sorted((k, repr(v)) for k, v in params.items())))
        if key not in self._results:
            self._results[key] = self._run(name, params)
        return self._results[key]

    def _run(self, name: str, params: dict[str, object]) -> pd.DataFrame:
        if name not in QUERIES:
            raise ValueError(f"Unknown query '{name}'; known queries: {', '.join(sorted(QUERIES))}.")
        sql = QUERIES[name]
        idents = _identifiers(sql)
        missing = idents - params.keys()
        if missing:
            raise ValueError(f"Query '{name}' needs identifier argument(s): {', '.join(sorted(missing))}.")
        text = sql.format(**{k: quote_ident(str(params[k])) for k in idents})
        values = {k: v for k, v in params.items() if k not in idents}
        if name == "distinct_values":
            values.setdefault("limit", 10_000)
        cur = self._cursor()
        try:
            return cur.execute(text, values).fetch_df()
        except duckdb.Error as exc:
            raise StoreError(_title(exc), f"The query '{name}' failed: {exc}") from exc
        finally:
            cur.close()

    def close(self) -> None:
        self._conn.close()


def _title(exc: Exception) -> str:
    if isinstance(exc, duckdb.CatalogException):
        return "Table or column not found"
    if isinstance(exc, duckdb.BinderException):
        return "Column not found or of the wrong type"
    if isinstance(exc, duckdb.ConversionException):
        return "Value of the wrong type"
    return "Database query failed"


def read_csv_duckdb(path: str) -> pd.DataFrame:
    """Raw DuckDB CSV read (all columns as text) - the speed baseline in bench/bench_load.py."""
    conn = duckdb.connect(":memory:")
    try:
        return conn.execute("SELECT * FROM read_csv($p, all_varchar = true, header = true)", {"p": path}).fetch_df()
    except duckdb.Error as exc:
        raise StoreError("CSV could not be read", str(exc)) from exc
    finally:
        conn.close()
