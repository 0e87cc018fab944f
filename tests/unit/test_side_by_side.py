"""data.engine_sql.side_by_side: the order and customer levels of the segment counts run on two threads when
each DuckDB query runs on one (the dashboard's setting), each on its own cursor of the shared connection. The
counts must equal those counted one level after the other, and an error in either level must reach the caller."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from analysis import segment_sql
from analysis.prepare import prepare
from bench.calibration import frailty_dataset
from data.engine_sql import run_sql, shared_tables, side_by_side


@pytest.fixture(scope="module")
def frailty():  # repeat customers, so the customer level is counted (by_customer)
    return frailty_dataset(2, 3000, customer_var=0.3)


def _counts(monkeypatch, threads: str | None, ds) -> dict[str, pd.DataFrame]:
    if threads is None:
        monkeypatch.delenv("RI_DUCKDB_THREADS", raising=False)
    else:
        monkeypatch.setenv("RI_DUCKDB_THREADS", threads)
    p = prepare(ds)  # a fresh Prepared: nothing memoised from the other run
    dims = tuple(segment_sql.segment_dimensions(p))
    return segment_sql._all_counts(p, dims, (), None)


def test_levels_side_by_side_count_what_one_after_the_other_counts(frailty, monkeypatch):
    seen: set[str] = set()
    original = segment_sql.segment_sums

    def spy(*a, **k):
        seen.add(threading.current_thread().name)
        return original(*a, **k)

    monkeypatch.setattr(segment_sql, "segment_sums", spy)
    together = _counts(monkeypatch, "1", frailty)
    assert seen == {"MainThread", "ri-sql-side"}  # the customer level ran on the second thread
    seen.clear()
    apart = _counts(monkeypatch, None, frailty)
    assert seen == {"MainThread"}
    assert together.keys() == apart.keys()
    for d in together:
        pd.testing.assert_frame_equal(together[d], apart[d])
    assert any((c["deff"] > 1).any() for c in together.values())  # the customer level did count something


def test_an_error_on_the_second_thread_reaches_the_caller(monkeypatch):
    monkeypatch.setenv("RI_DUCKDB_THREADS", "1")
    t = pd.DataFrame({"k": [1, 2, 2]})
    with shared_tables():
        with pytest.raises(Exception, match="no_such_table"):
            side_by_side(
                lambda: run_sql("SELECT count(*) AS n FROM t", {"t": t}),
                lambda: run_sql("SELECT * FROM no_such_table", {"t": t}),
            )
        a, b = side_by_side(
            lambda: run_sql("SELECT count(*) AS n FROM t", {"t": t}),
            lambda: run_sql("SELECT k, count(*) AS n FROM t GROUP BY k ORDER BY k", {"t": t}),
        )
    assert int(a["n"].iloc[0]) == 3
    assert b["n"].tolist() == [1, 2]


def test_a_table_is_never_replaced_under_a_running_query(monkeypatch):
    """Two queries side by side must read the same frames: a second thread loading another frame under a name
    the first thread's query is reading is refused, instead of changing the table under it."""
    monkeypatch.setenv("RI_DUCKDB_THREADS", "1")
    a = pd.DataFrame({"k": range(200_000)})
    b = pd.DataFrame({"k": [1]})

    def slow() -> pd.DataFrame:
        # a self-join long enough (about 0.3 s) for the other thread to try to load its frame meanwhile
        return run_sql("SELECT count(*) AS n FROM t x, t y WHERE x.k % 500 = y.k % 500", {"t": a})

    def other() -> pd.DataFrame:
        import time

        from data.engine_sql import _SHARED

        state = _SHARED.get()
        assert state is not None
        deadline = time.monotonic() + 30
        while not state.reading.get("t"):  # until the first thread's query runs
            assert time.monotonic() < deadline, "the first thread's query was never seen running"
            time.sleep(0.001)
        return run_sql("SELECT count(*) AS n FROM t", {"t": b})

    with shared_tables():
        with pytest.raises(RuntimeError, match="would be replaced"):
            side_by_side(slow, other)
