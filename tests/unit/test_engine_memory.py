"""Memory of the counting engine (issue 14, target 2): the DuckDB counting connection is capped and spills,
narrowed integer columns change no result, and the mature rows are a slice where they come first.

Expected values come from numpy (np.bincount) and from pandas' boolean indexing, which share no code with
the paths under test.
"""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd
import pytest

from analysis.prepare import _mature_rows, prepare
from data.demo import generate_dataset
from data.engine_sql import DEFAULT_MEMORY_LIMIT, _SHARED, _connect, duckdb_settings, run_sql, shared_tables


def _setting(name: str) -> str:
    con = _connect()
    try:
        return str(con.execute(f"SELECT current_setting('{name}')").fetchone()[0])
    finally:
        con.close()


def test_the_counting_connection_is_capped_and_spills_outside_the_working_directory(monkeypatch):
    monkeypatch.delenv("RI_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("RI_DUCKDB_TEMP_DIR", raising=False)
    s = duckdb_settings()
    assert s["memory_limit"] == DEFAULT_MEMORY_LIMIT
    assert s["temp_directory"].startswith(tempfile.gettempdir())  # not DuckDB's default '.tmp' in the cwd
    assert duckdb_settings()["temp_directory"] != s["temp_directory"]  # one folder per connection
    assert _setting("preserve_insertion_order").lower() == "false"
    # DuckDB reports the cap in MiB: 1GB = 953.6 MiB, far below its default of 80% of the machine's RAM
    assert _setting("memory_limit") == "953.6 MiB"
    monkeypatch.setenv("RI_DUCKDB_MEMORY_LIMIT", "2GB")
    assert _setting("memory_limit") == "1.8 GiB"


def test_a_count_larger_than_the_cap_spills_and_gives_the_same_rows(monkeypatch, tmp_path):
    """2M distinct groups under a 40 MB cap: the hash aggregate spills to the temp directory; the sums are
    numpy's."""
    monkeypatch.setenv("RI_DUCKDB_MEMORY_LIMIT", "40MB")
    monkeypatch.setenv("RI_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    rng = np.random.default_rng(7)
    n = 4_000_000
    key = rng.integers(0, 2_000_000, n)
    val = rng.integers(0, 5, n)
    t = pd.DataFrame({"k": key, "v": val})
    with shared_tables():
        got = run_sql("SELECT k, sum(v) AS s, count(*) AS c FROM t GROUP BY k", {"t": t})
        assert len(list((tmp_path / "spill").iterdir())) == 1  # it spilled, into this connection's own folder
    got = got.sort_values("k").reset_index(drop=True)
    ks = np.flatnonzero(np.bincount(key))
    assert got["k"].tolist() == ks.tolist()
    assert got["k"].dtype == np.dtype("int64")  # stored as INTEGER, read back at the width it was given
    assert got["s"].to_numpy().tolist() == np.bincount(key, weights=val)[ks].tolist()
    assert got["c"].to_numpy().tolist() == np.bincount(key)[ks].tolist()
    assert list((tmp_path / "spill").iterdir()) == []  # the connection's spill folder went with it


def test_a_killed_process_spill_folder_is_removed_and_a_quote_in_the_path_works(monkeypatch, tmp_path):
    """Review findings: a process killed while spilling (the bench's RSS guard sends SIGKILL) never closed its
    connection, so its folder stayed; and a quote in the temp path broke every counting connection."""
    import subprocess
    import sys

    import data.engine_sql as E

    parent = tmp_path / "it's here"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = parent / f"{int(dead.stdout)}-0"  # a pid that has exited
    orphan.mkdir(parents=True)
    (orphan / "spill.tmp").write_bytes(b"x" * 10)
    mine = parent / f"{__import__('os').getpid()}-99"
    mine.mkdir()
    monkeypatch.setenv("RI_DUCKDB_TEMP_DIR", str(parent))
    monkeypatch.setattr(E, "_SWEPT", set())
    assert _setting("temp_directory").startswith(str(parent))
    assert not orphan.exists()  # the dead process's folder is gone
    assert mine.exists()  # a running process's folder is left alone


def test_int64_columns_are_stored_narrow_only_where_every_value_fits():
    big = 2**31  # one past INTEGER's range: the column stays BIGINT, values intact
    t = pd.DataFrame({"small": [1, 2, -3], "big": [1, big, -big - 5], "f": [0.5, 1.5, 2.5]})
    q = "SELECT small, big, f, typeof(small) AS ts, typeof(big) AS tb FROM t ORDER BY small"
    alone = run_sql(q, {"t": t})
    with shared_tables():
        shared = run_sql(q, {"t": t})
        state = _SHARED.get()
        assert state is not None and state.narrowed == {"small"}
    assert alone["ts"].tolist() == ["BIGINT"] * 3 and shared["ts"].tolist() == ["INTEGER"] * 3
    assert shared["tb"].tolist() == ["BIGINT"] * 3
    pd.testing.assert_frame_equal(shared.drop(columns=["ts"]), alone.drop(columns=["ts"]))


@pytest.fixture(scope="module")
def prepared():
    return prepare(generate_dataset(seed=5, n_orders=3000))


def test_mature_rows_in_date_order_are_a_slice_of_the_same_rows(prepared):
    lines = prepared.lines
    assert lines["mature"].to_numpy()[: int(lines["mature"].sum())].all()  # the demo is in date order
    got = prepared.mature_lines
    pd.testing.assert_frame_equal(got, lines[lines["mature"]])
    assert np.shares_memory(got["quantity"].to_numpy(), lines["quantity"].to_numpy())  # no copy
    pd.testing.assert_frame_equal(prepared.mature_orders, prepared.orders[prepared.orders["mature"]])


def test_mature_rows_out_of_order_are_the_mask_copy(prepared):
    shuffled = prepared.lines.sample(frac=1.0, random_state=1)
    got = _mature_rows(shuffled)
    pd.testing.assert_frame_equal(got, shuffled[shuffled["mature"]])
    assert not np.shares_memory(got["quantity"].to_numpy(), shuffled["quantity"].to_numpy())
