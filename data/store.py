"""The DuckDB store: the ONLY module that imports duckdb (STYLE.md habit 5).

One in-memory connection per Store (one per user session); every call runs on its own
`conn.cursor()` so Streamlit's session threads never share a cursor. Queries are NAMED (QUERIES);
values go in as $parameters and identifiers (table/column names, possibly from uploaded headers)
only through quote_ident(). duckdb.Error becomes data.errors.StoreError with a readable title.
"""
from __future__ import annotations

import string

import duckdb
import pandas as pd

from data.errors import StoreError

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
        except duckdb.Error as exc:
            raise StoreError("Database could not start", f"DuckDB could not open an in-memory database ({exc}).") from exc

    def load(self, name: str, df: pd.DataFrame) -> None:
        """Create (or replace) table `name` from a DataFrame."""
        cur = self._conn.cursor()
        try:
            cur.register("__incoming", df)
            cur.execute(f"CREATE OR REPLACE TABLE {quote_ident(name)} AS SELECT * FROM __incoming")
            cur.unregister("__incoming")
        except duckdb.Error as exc:
            raise StoreError("Table could not be loaded", f"Loading table '{name}' failed ({exc}).") from exc
        finally:
            cur.close()

    def tables(self) -> list[str]:
        return self.query("tables")["table_name"].tolist()

    def query(self, name: str, **params) -> pd.DataFrame:
        """Run the named query. Keyword arguments naming {identifiers} in the SQL are quoted into it;
        the rest are bound as $parameters."""
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
        cur = self._conn.cursor()
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
