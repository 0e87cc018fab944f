"""Issue 13 item 8: a closed session's big objects are released (memory returns after the sessions close).

A session's uploaded bytes, its DuckDB store and its page context are held on the server by session id
(dashboard.cache.hold), not in st.session_state, which Streamlit keeps for a closed browser until another session
replaces it. These tests check what the registry holds, not memory figures (those are in bench/load_test.py and the
README): after release nothing is held for the session, its DuckDB connection is closed, and a browser that comes
back still gets its upload (read again from disk by its key).
"""

from __future__ import annotations

import pytest

from dashboard import cache
from dashboard import session as S
from data.errors import StoreError
from tests.app.conftest import assert_clean, run_page

SID = "test session id"  # the one session id every AppTest runs under (streamlit.testing local_script_runner)


def _entry() -> dict:
    with cache._HELD_LOCK:
        return dict(cache._HELD.get(SID, {}))


@pytest.fixture()
def uploaded(tmp_path):
    """An AppTest session that uploaded a small Shopify export through Upload & map and opened the Overview."""
    from data.demo import write_demo_files

    p = write_demo_files(tmp_path / "demo", seed=3, n_orders=800)["orders_shopify_csv"]
    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value([(p.name, p.read_bytes(), "text/csv")]).run()
    at.button(key="up_load").click().run()
    at.switch_page("views/overview.py").run()
    assert_clean(at, "overview")
    return at, p.read_bytes()


def test_big_objects_are_held_outside_session_state(uploaded):
    at, content = uploaded
    entry = _entry()
    assert set(entry) >= {cache.UPLOADS, cache.STORE, cache.CONTEXT}
    assert cache.sha256(content) in entry[cache.UPLOADS]
    assert entry[cache.CONTEXT].spec == at.session_state[S.DATASET_SPEC]
    assert "lines" in entry[cache.STORE][1].tables()
    # what stays in session state is small: no bytes, no store, no context
    for old_key in (S.UPLOAD_BYTES, "ri_context", "ri_store"):  # where they were kept before
        assert old_key not in at.session_state


def test_released_session_holds_nothing_and_its_store_is_closed(uploaded):
    at, _ = uploaded
    store = _entry()[cache.STORE][1]
    assert cache.release_closed_sessions({SID}, grace=0) == []  # connected: kept
    assert cache.release_closed_sessions(None, grace=0) == []  # no Streamlit server (AppTest): never released
    assert cache.release_closed_sessions(set(), grace=0) == [SID]
    assert SID not in cache.held_sessions() and _entry() == {}
    with pytest.raises(StoreError):
        store.tables()  # its DuckDB connection was closed, not left to the garbage collector


def test_release_waits_for_streamlits_reconnect_time(uploaded):
    assert cache.release_closed_sessions(set(), now=1000.0, grace=120) == []  # gone from now on
    assert cache.release_closed_sessions(set(), now=1119.0, grace=120) == []
    assert cache.release_closed_sessions({SID}, now=1119.5, grace=120) == []  # came back: the clock restarts
    assert cache.release_closed_sessions(set(), now=1200.0, grace=120) == []
    assert cache.release_closed_sessions(set(), now=1320.0, grace=120) == [SID]


def test_a_browser_that_comes_back_after_release_gets_its_upload_from_disk(uploaded):
    """Released means Streamlit's own reconnect time is over: the browser then gets a new session, with only
    the key in its URL."""
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at, content = uploaded
    spec, key = at.session_state[S.DATASET_SPEC], at.session_state[S.BROWSER_KEY]
    cache.release_closed_sessions(set(), grace=0)
    assert S.DATASET_SPEC not in at.session_state  # the released session's state was emptied too
    with cache._DATASETS_LOCK:  # and the caches expired
        cache._DATASETS.clear()
    again = AppTest.from_file(str(APP), default_timeout=120)
    again.query_params[S.URL_KEY] = key
    again.switch_page("views/collections.py")
    again.run()
    assert_clean(again, "collections after release")
    assert again.session_state[S.DATASET_SPEC] == spec  # not the demo
    assert not any("no longer in this browser session" in w.value for w in again.warning)
    assert cache.sha256(content) in _entry()[cache.UPLOADS]


def test_another_session_under_the_same_id_never_gets_the_held_objects(uploaded):
    """AppTest runs share one session id; the token in session state tells them apart (a fresh session starts
    from the demo, not from the previous session's upload)."""
    at, _ = uploaded
    other = run_page("views/overview.py")
    assert_clean(other, "overview in a new session")
    assert other.session_state[S.DATASET_SPEC].kind == "demo"
    assert _entry()[cache.CONTEXT].spec.kind == "demo"
    assert cache.UPLOADS not in _entry() or _entry()[cache.UPLOADS] == {}


def test_arrow_buffers_on_glibc_so_the_sweeper_can_return_them():
    """Arrow's default pool is mimalloc, which kept 590 MB of a closed session's Arrow buffers in its own 1 GiB
    areas after ten sessions closed (bench/load_test.py, /proc smaps); the dashboard moves Arrow to glibc malloc,
    which the sweeper's malloc_trim empties, unless the user chose a pool with ARROW_DEFAULT_MEMORY_POOL."""
    import os
    import subprocess
    import sys

    import pyarrow

    assert pyarrow.default_memory_pool().backend_name == "system"  # dashboard.cache is imported above
    code = "import dashboard.cache, pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    env = dict(os.environ, ARROW_DEFAULT_MEMORY_POOL="jemalloc")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "jemalloc"
