"""The canonical tables in DuckDB (ids encoded once) and the headline counts computed from them in SQL.

Expected numbers come from the pandas engine (analysis.prepare + analysis.metrics.totals, and a plain
groupby of its mature frames), which shares no code with the SQL; the small cases are worked by hand.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from data.demo import generate_dataset
from data.model import Dataset
from data.store import Store


def _dataset(orders: list[tuple], returns: list[tuple]) -> Dataset:
    o = pd.DataFrame(orders, columns=["order_id", "order_date", "sku", "quantity", "collection"])
    o["order_date"] = pd.to_datetime(o["order_date"])
    r = pd.DataFrame(returns, columns=["order_id", "sku", "quantity", "return_date"])
    r["return_date"] = pd.to_datetime(r["return_date"])
    for df in (o, r):
        for c in ("order_id", "sku"):
            df[c] = df[c].astype("string")
        df["quantity"] = df["quantity"].astype("int64")
    o["collection"] = o["collection"].astype("string")
    empty = pd.DataFrame()
    return Dataset(
        name="t",
        orders=o,
        returns=r,
        catalog=empty,
        interventions=empty,
        files=(),
        rejected=empty,
        unmatched_returns=empty,
        excluded=empty,
    )


@pytest.fixture(scope="module")
def demo():
    from analysis.prepare import prepare

    ds = generate_dataset()  # the dashboard's demo (seed 7, 45,000 orders)
    return ds, prepare(ds)


def test_headline_by_month_equals_pandas_on_the_demo(demo):
    from analysis.metrics import totals
    from analysis.segments import mature_frames

    ds, p = demo
    store = Store()
    store.load_dataset(ds)
    got = store.headline_by_month(p.window_days)
    lines, orders, _ = mature_frames(p)
    exp = (
        pd.DataFrame(
            {
                "orders": orders.groupby("month").size(),
                "order_lines": lines.groupby("month").size(),
                "units": lines.groupby("month")["quantity"].sum(),
                "returned_units": lines.groupby("month")["returned_units"].sum(),
                "orders_with_return": orders.groupby("month")["any_return"].sum(),
            }
        )
        .astype("int64")
        .reset_index(names="month")
    )
    exp["month"] = exp["month"].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(got, exp)
    t = totals(p)  # the headline figures every page shows
    assert int(got["orders"].sum()) == t["orders"] and int(got["order_lines"].sum()) == t["order_lines"]
    assert int(got["units"].sum()) == t["units_sold"] and int(got["returned_units"].sum()) == t["units_returned"]
    assert int(got["orders_with_return"].sum()) == round(t["order_return_rate"] * t["orders"])
    assert len(got) >= 12 and (got["returned_units"] > 0).all()


def test_sidebar_queries_on_the_canonical_lines_equal_the_prepared_lines(demo):
    ds, p = demo
    canon, old = Store(), Store()
    canon.load_dataset(ds)
    text = ("channel", "journey", "collection")
    # what the sidebar used to load, when prepare held these columns as strings (now categoricals: DuckDB would
    # read them as ENUMs)
    old.load(
        "lines",
        p.lines[["order_id", "order_date", "quantity", "returned_units", *text]].astype({c: "string" for c in text}),
    )
    pd.testing.assert_frame_equal(canon.query("summary", table="lines"), old.query("summary", table="lines"))
    for col in ("channel", "journey", "collection"):
        pd.testing.assert_frame_equal(
            canon.query("distinct_values", table="lines", column=col),
            old.query("distinct_values", table="lines", column=col),
        )
    # the SQL's returned units per line are prepare's, line by line
    got = canon._conn.cursor().execute("SELECT line_no, returned_units FROM lines ORDER BY line_no").fetch_df()
    assert got["returned_units"].tolist() == p.lines["returned_units"].tolist()


def test_ids_are_encoded_once_and_shared_by_orders_and_returns():
    ds = _dataset(
        [("A1", "2024-01-01", "x", 1, "c"), ("A1", "2024-01-01", "y", 1, "c"), ("B2", "2024-01-02", "x", 2, "d")],
        [("B2", "x", 1, "2024-01-05")],
    )
    s = Store()
    s.load_dataset(ds)
    assert s.tables() == ["lines", "order_ids", "orders", "returns", "skus"]
    cur = s._conn.cursor()
    types = dict(
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'orders'"
        ).fetchall()
    )
    assert types["order_key"] == "INTEGER" and types["sku_key"] == "INTEGER"
    assert "order_id" not in types and "sku" not in types  # text ids live only in the dictionaries
    assert cur.execute("SELECT count(*) FROM order_ids").fetchone()[0] == 2
    assert cur.execute("SELECT count(*) FROM skus").fetchone()[0] == 2
    row = cur.execute(
        "SELECT i.order_id, s.sku FROM returns r JOIN order_ids i USING (order_key) JOIN skus s USING (sku_key)"
    ).fetchone()
    assert row == ("B2", "x")


def test_allocation_and_maturity_worked_by_hand():
    # order 1 holds sku x on two lines (2 then 3 units); 4 returned -> 2 on the first line, 2 on the second.
    # order 2: 5 returned of 1 sold -> 1 (clipped). order 3 is 5 days before the last order: immature at a
    # 7-day window, so it is left out; order 4 (the last) likewise.
    ds = _dataset(
        [
            ("1", "2024-01-10", "x", 2, "c"),
            ("1", "2024-01-10", "y", 1, "c"),
            ("1", "2024-01-10", "x", 3, "c"),
            ("2", "2024-02-01", "x", 1, "c"),
            ("3", "2024-02-25", "x", 4, "c"),
            ("4", "2024-03-01", "z", 1, "c"),
        ],
        [("1", "x", 4, "2024-01-20"), ("2", "x", 5, "2024-02-03"), ("3", "x", 1, "2024-02-27")],
    )
    s = Store()
    s.load_dataset(ds)
    lines = s._conn.cursor().execute("SELECT order_id, sku, returned_units FROM lines ORDER BY line_no").fetchall()
    assert [r[2] for r in lines] == [2, 0, 2, 1, 1, 0]
    h = s.headline_by_month(7)
    assert h["month"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02"]
    assert h[["orders", "order_lines", "units", "returned_units", "orders_with_return"]].values.tolist() == [
        [1, 3, 6, 4, 1],
        [1, 1, 1, 1, 1],
    ]
    # a window longer than the history: nothing is mature, so every order counts (as analysis.prepare does)
    h = s.headline_by_month(365)
    assert h["orders"].tolist() == [1, 2, 1] and h["units"].tolist() == [6, 5, 1]  # Jan, Feb (orders 2, 3), Mar
    with pytest.raises(ValueError, match="window_days"):
        s.headline_by_month(-1)


def test_empty_returns_and_reload_replace_the_tables():
    s = Store()
    s.load_dataset(_dataset([("1", "2024-01-01", "x", 2, "c")], []))
    assert s.headline_by_month(0)[["orders", "returned_units", "orders_with_return"]].values.tolist() == [[1, 0, 0]]
    s.load_dataset(_dataset([("9", "2024-05-01", "q", 1, "c"), ("8", "2024-06-01", "q", 1, "c")], []))
    assert s.query("summary", table="lines")["orders"].iloc[0] == 2


def test_a_cursor_per_call_lets_session_threads_query_at_once():
    ds = generate_dataset(seed=3, n_orders=3000)
    s = Store()
    s.load_dataset(ds)
    expected = s.headline_by_month(30)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(s.headline_by_month(30))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 20
    assert all(r.equals(expected) for r in results)
    assert int(expected["units"].sum()) <= int(np.sum(ds.orders["quantity"]))


def test_a_line_without_sku_is_kept():
    ds = _dataset([("1", "2024-01-01", None, 2, "c"), ("2", "2024-01-02", "x", 1, "c")], [])
    s = Store()
    s.load_dataset(ds)
    rows = s._conn.cursor().execute("SELECT order_id, sku, quantity FROM lines ORDER BY line_no").fetchall()
    assert rows == [("1", None, 2), ("2", "x", 1)]
    assert s.query("summary", table="lines")["units"].iloc[0] == 3


def test_a_named_query_runs_once_until_the_tables_change():
    """Store.query keeps a result until load / load_dataset write a table: asked again it is the same frame (the
    sidebar's summary and filter options on every rerun), and after a new table the new values, never stale ones."""
    import pandas as pd

    from data.store import Store

    store = Store()
    store.load("lines", pd.DataFrame({"channel": ["web", "app", "web"]}))
    first = store.query("distinct_values", table="lines", column="channel")
    assert store.query("distinct_values", table="lines", column="channel") is first
    assert sorted(first["value"]) == ["app", "web"]
    store.load("lines", pd.DataFrame({"channel": ["store"]}))
    assert list(store.query("distinct_values", table="lines", column="channel")["value"]) == ["store"]
    store.close()
