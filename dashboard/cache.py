"""The dashboard's only cache. Keys are content: the dataset spec (content hashes + mapping), the
filters and the settings; big objects are passed with a leading underscore so they are not hashed.

Cached objects are shared read-only between reruns (cache_resource); nothing mutates them. A session
can only reach a dataset whose spec (hashes of bytes it uploaded itself) sits in its own session state.

This is the project's one cache, keyed on content. Below the dashboard there are only two kinds of reuse, and
no cache keyed by object identity (id(), weakref; tests/unit/test_no_identity_caches.py): a Prepared's own
memo (analysis.prepare.Prepared.memo, keyed by (function's qualified name, arguments); its values live and die
with that Prepared and a filtered or replaced copy starts empty), and functools.lru_cache on pure functions of
constants and strings (data.header_match, analysis.segment_sql.sql_text, data.engine_sql.to_spark_sql).
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import streamlit as st

from analysis.concentration import concentration, drop_orders
from analysis.engine import Analysis, Segmented, Settings, segment_stage, with_fix_list
from analysis.interventions import with_changes_judged
from analysis.prepare import Filters, Prepared, filter_prepared, prepare
from data.demo import generate_dataset
from data.ingest import FileInfo, SourceFile, inspect_file, load_dataset, table_sheets
from data.mapping import Mapping
from data.model import Dataset
from data.uploads import UploadStore, valid_key
from dashboard import heap
from dashboard import session as S
from dashboard.session import DatasetSpec

log = logging.getLogger("returns_intelligence")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


_DATASETS: "OrderedDict[DatasetSpec, tuple[Dataset, float]]" = OrderedDict()
_DATASETS_LOCK = threading.Lock()
MAX_DATASETS = 6
# Every cache entry expires after this many seconds unused (RI_CACHE_TTL; default one hour), so a server whose
# sessions have closed gives the loaded data back instead of holding it until restart.
CACHE_TTL = max(60, int(os.environ.get("RI_CACHE_TTL", "3600") or 3600))


_LAST_USE = [time.monotonic()]
# Orders in the generated demo (RI_DEMO_ORDERS; unset: data.demo's default of 45,000 orders, about 88k lines). The
# browser benchmark serves the dashboard on about 1M lines with it (bench/bench_browser.py measure_filters).
DEMO_ORDERS = int(os.environ.get("RI_DEMO_ORDERS", "0") or 0)
# The dashboard's counting queries run on one DuckDB thread each (data.engine_sql reads RI_DUCKDB_THREADS; a value
# set by whoever starts the server wins). A server shares its cores among its sessions and the browsers drawing
# them: the segment counts of a new filter at 1M lines (443k lines kept, both passes) cost 0.76-0.84 s CPU on
# one thread against 1.00-1.03 s on two, and took less wall time too on the shared 2-core machine (0.77-0.90 s
# against 1.02-1.21 s; the full 995k lines 1.83-1.91 s CPU against 2.52 s), medians of 3 in one run.
os.environ.setdefault("RI_DUCKDB_THREADS", "1")


def _expire_datasets(now: float) -> None:
    for key in [k for k, (_, used) in _DATASETS.items() if now - used > CACHE_TTL]:
        del _DATASETS[key]


# Arrow's buffers live on glibc malloc, chosen for the whole process when `data` is imported (data/__init__.py):
# mimalloc kept a closed session's pages in its own reserved areas, which the sweeper's malloc_trim never reaches.


def _trim_heap() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise); a no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _release_pools() -> None:
    """Hand freed memory back to the system: Python's cycles collected, Arrow's pool (Streamlit's dataframes)
    and glibc's heap trimmed. The collection includes the objects frozen out of Streamlit's per-run collection
    (dashboard.heap)."""
    heap.collect_everything()
    try:
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    except Exception:  # pragma: no cover - pyarrow is optional for this
        pass
    _trim_heap()


# ---------------------------------------------------------------- per-session objects, outside session state
# A session's big objects (its uploaded bytes, its DuckDB store, its page context) are kept here, keyed by the
# Streamlit session id, not in st.session_state: Streamlit keeps a closed browser's session (state included) in
# memory until another session replaces it, so anything in session state outlives the browser. The sweeper
# releases a session's entry once Streamlit has not listed it among its connected sessions for
# server.disconnectedSessionTTL seconds (the time Streamlit gives a dropped connection to come back); a session
# that does come back later finds its uploaded bytes again on disk (data.uploads, by the browser's key).
_HELD: dict[str, dict[str, object]] = {}
_HELD_LOCK = threading.Lock()
_GONE_SINCE: dict[str, float] = {}


def session_id() -> str:
    """The running Streamlit session's id ("bare" outside a script run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "bare"


def _entry() -> dict:
    """This session's entry in the registry. The entry carries a token also kept in the session's state, so an
    entry left by another session under the same id (AppTest runs all share one) is never handed out."""
    sid = session_id()
    _remember_state(sid)
    token = st.session_state.get(S.HELD_TOKEN)
    if token is None:
        token = st.session_state[S.HELD_TOKEN] = secrets.token_hex(8)
    stale = None
    with _HELD_LOCK:
        entry = _HELD.get(sid)
        if entry is None or entry.get(_TOKEN) != token:
            stale = entry
            entry = _HELD[sid] = {_TOKEN: token}
    if stale:
        for obj in stale.values():
            _close(obj)
    return entry


_TOKEN = "_token"
# session id -> its SafeSessionState (Streamlit makes one per script runner, so the latest is kept; SessionState
# itself has slots and no weak references): wiped on release
_STATES: dict[str, object] = {}


def _remember_state(sid: str) -> None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None:
        with _HELD_LOCK:
            _STATES[sid] = ctx.session_state


def _wipe_state(safe: Any) -> None:
    """Empty a released session's state. Its widgets' metadata holds their callbacks and format functions,
    whose globals are the page scripts' namespaces, and with them every DataFrame a page assigned at top level
    (the whole prepared data through `ctx`); Streamlit keeps a closed session's state until its AppSession object
    goes, which for the last session is never (its runtime loop keeps a reference). A browser that returns later
    starts from an empty state and gets its data and filters back from disk by the key in its URL."""
    state, lock = getattr(safe, "_state", None), getattr(safe, "_lock", None)
    if state is None or lock is None:
        return
    with lock:
        widgets = getattr(state, "_new_widget_state", None)
        if widgets is not None and hasattr(widgets, "widget_metadata"):
            widgets.widget_metadata.clear()
        state.clear()


def held(name: str, default: Any = None) -> Any:
    """This session's object `name` (see hold), or default."""
    entry = _entry()
    with _HELD_LOCK:
        return entry.get(name, default)


def hold(name: str, value: Any) -> None:
    """Keep `value` for this session on the server until the session closes (replacing, and closing, the
    object held under `name` before, unless it is the same object)."""
    entry = _entry()
    with _HELD_LOCK:
        before = entry.get(name)
        entry[name] = value
    if before is not None and before is not value:
        _close(before)


def let_go(name: str) -> None:
    """Drop (and close) this session's object `name`."""
    entry = _entry()
    with _HELD_LOCK:
        obj = entry.pop(name, None)
    _close(obj)


def session_uploads() -> dict:
    """This session's uploaded bytes {sha256: bytes}, held on the server (not in session state). Bytes put in
    session state under S.UPLOAD_BYTES move here; after the session was released (its browser gone longer than
    Streamlit waits for it) they are read back from disk by the browser's key (data.uploads)."""
    contents = held(UPLOADS)
    if contents is None:
        contents = dict(st.session_state.pop(S.UPLOAD_BYTES, None) or {})
        key = st.session_state.get(S.BROWSER_KEY)
        if not contents and valid_key(key):
            try:
                stored = UploadStore().load(key)
            except OSError:
                log.exception("reading stored upload")
                stored = None
            if stored is not None:
                contents = dict(stored.contents)
        hold(UPLOADS, contents)
    return contents


UPLOADS, CONTEXT, STORE = "upload_bytes", "context", "store"
NOT_HELD = object()


def held_sessions() -> set[str]:
    with _HELD_LOCK:
        return set(_HELD)


def _close(obj: Any) -> None:
    """Close what holds memory outside Python's reach (a data.store.Store's DuckDB connection; also inside a
    (key, store) pair)."""
    for o in obj if isinstance(obj, tuple) else (obj,):
        close = getattr(o, "close", None)
        if callable(close) and not isinstance(o, (bytes, dict, str, list)):
            try:
                close()
            except Exception:  # a store already closed, or one a stopping run still uses
                log.debug("closing a released session object", exc_info=True)


def release_session(sid: str) -> bool:
    """Drop everything held for session `sid` (closing its DuckDB store). True when something was held."""
    with _HELD_LOCK:
        objs = _HELD.pop(sid, None)
        _GONE_SINCE.pop(sid, None)
        safe = _STATES.pop(sid, None)
    for obj in (objs or {}).values():
        _close(obj)
    if safe is not None:
        try:
            _wipe_state(safe)
        except Exception:  # pragma: no cover - Streamlit internals changed: the state is then left as it is
            log.debug("wiping a released session's state", exc_info=True)
    return objs is not None


def connected_sessions() -> set[str] | None:
    """Ids of the sessions Streamlit has a connected browser for; None when no Streamlit server runs here
    (AppTest, bare scripts), where no session is ever released by the sweeper."""
    try:
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return None
        mgr = Runtime.instance()._session_mgr  # no public accessor; list_active_sessions is public API
        return {info.session.id for info in mgr.list_active_sessions()}
    except Exception:  # pragma: no cover - a Streamlit without these internals: never release
        log.debug("listing sessions", exc_info=True)
        return None


def _disconnected_ttl() -> float:
    try:
        from streamlit import config

        return float(config.get_option("server.disconnectedSessionTTL"))
    except Exception:  # pragma: no cover
        return 120.0


def release_closed_sessions(
    connected: set[str] | None, now: float | None = None, grace: float | None = None
) -> list[str]:
    """Release the held objects of sessions that have not been connected for `grace` seconds (default:
    Streamlit's server.disconnectedSessionTTL). `connected`: ids of connected sessions (None: release
    nothing). Returns the released ids."""
    if connected is None:
        return []
    now = time.monotonic() if now is None else now
    grace = _disconnected_ttl() if grace is None else grace
    gone = []
    with _HELD_LOCK:
        for sid in list(_HELD):
            if sid in connected:
                _GONE_SINCE.pop(sid, None)
            elif now - _GONE_SINCE.setdefault(sid, now) >= grace:
                gone.append(sid)
    released = [sid for sid in gone if release_session(sid)]
    if released:
        _forget_streamlit_session(released)
    return released


def _forget_streamlit_session(ids: list[str]) -> None:
    """Drop what Streamlit itself keeps for sessions gone longer than its own reconnect time: their uploaded
    files, download buttons' data and the DataFrames behind their st.dataframe tables (Streamlit frees them only
    when it shuts a session down, which a session kept for reconnection and then expired never is: the same
    clean-up as streamlit.runtime.app_session.AppSession.shutdown)."""
    try:
        from streamlit.runtime import Runtime

        rt = Runtime.instance()
        mgr = rt._session_mgr
        storage = getattr(getattr(mgr, "_session_storage", None), "_cache", None)
        lock = getattr(mgr, "_storage_lock", None)
        if storage is not None and hasattr(storage, "expire") and lock is not None:
            # Streamlit's session storage (a TTLCache) hides expired sessions but drops them only on its next
            # write: until then each keeps its session state, widgets and page globals alive
            with lock:
                ids = list(ids) + [sid for sid, _ in storage.expire() if sid not in ids]
        for sid in ids:
            rt.uploaded_file_mgr.remove_session_files(sid)
            rt.media_file_mgr.clear_session_refs(sid)
            rt.dataframe_source_mgr.clear_all_for_session(sid)  # every st.dataframe's frame, kept for paging
        rt.media_file_mgr.remove_orphaned_files()
    except Exception:  # pragma: no cover
        log.debug("closing released Streamlit sessions", exc_info=True)


def memory_report() -> dict:
    """What the server holds (for RI_MEMORY_DEBUG=1 runs of bench/load_test.py): sessions held here and known
    to Streamlit, cached datasets, live DataFrames and their memory, DuckDB connections. RI_MEMORY_DEBUG=allocators:
    the sessions and the allocators' figures only, never a heap walk."""
    import pandas as pd

    out: dict = {"held_sessions": len(held_sessions()), "datasets": len(_DATASETS)}
    if os.environ.get("RI_MEMORY_DEBUG") == "allocators" or connected_sessions():
        # walking the heap (gc.get_objects / get_referrers) while other threads build objects can hand out a
        # tuple still being resized (pandas raised "SystemError: bad argument to internal function" once in a
        # 10-session run): only the allocators' figures while a browser is connected
        out["connected"] = len(connected_sessions() or ())
        out.update(_allocator_report())
        return out
    frames, frame_mb, conns, biggest, big_mb = 0, 0.0, 0, None, 0.0
    for o in gc.get_objects():
        t = type(o)
        if t is pd.DataFrame:
            frames += 1
            try:
                mb = o.memory_usage(deep=False).sum() / 2**20
            except Exception:
                mb = 0.0
            frame_mb += mb
            if mb > big_mb:
                biggest, big_mb = o, mb
        elif t.__name__ == "DuckDBPyConnection":
            conns += 1
    out.update(dataframes=frames, dataframes_mb=round(frame_mb), duckdb_connections=conns)
    try:
        from streamlit.runtime import Runtime

        rt = Runtime.instance()
        out["streamlit_active"] = len(rt._session_mgr.list_active_sessions())
        out["streamlit_all"] = len(rt._session_mgr.list_sessions())
        out["dataframe_sources"] = rt.dataframe_source_mgr.get_source_count()
    except Exception:
        pass
    if biggest is not None:
        out["biggest_frame_held_by"] = _referrer_chain(biggest)
    out.update(_allocator_report())
    return out


def _allocator_report() -> dict:
    """Where freed memory sits: glibc's heap (mallinfo2: in use, free but kept, mmapped) and CPython's small-object
    arenas (sys._debugmallocstats: arenas held, bytes in live blocks)."""
    import re
    import sys
    import tempfile

    out: dict = {}
    try:

        class _MallInfo2(ctypes.Structure):
            _fields_ = [
                (f, ctypes.c_size_t)
                for f in (
                    "arena",
                    "ordblks",
                    "smblks",
                    "hblks",
                    "hblkhd",
                    "usmblks",
                    "fsmblks",
                    "uordblks",
                    "fordblks",
                    "keepcost",
                )
            ]

        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        mi = libc.mallinfo2()
        out.update(
            glibc_heap_mb=round(mi.arena / 2**20),
            glibc_in_use_mb=round(mi.uordblks / 2**20),
            glibc_free_kept_mb=round(mi.fordblks / 2**20),
            glibc_mmapped_mb=round(mi.hblkhd / 2**20),
        )
    except (OSError, AttributeError):
        pass
    try:
        with tempfile.TemporaryFile("w+") as tmp:
            saved = os.dup(2)
            os.dup2(tmp.fileno(), 2)
            try:
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            tmp.seek(0)
            text = tmp.read()
        arenas = re.search(r"# arenas allocated current\s*=\s*([\d,]+)", text)
        live = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text)
        if arenas:
            out["pymalloc_arenas_mb"] = int(arenas.group(1).replace(",", "")) * (
                1 if sys.version_info >= (3, 10) else 0.25
            )
        if live:
            out["pymalloc_live_mb"] = round(int(live.group(1).replace(",", "")) / 2**20)
    except Exception:
        pass
    return out


def _referrer_chain(obj: Any, depth: int = 12) -> list[str]:
    """Who keeps `obj` alive: one referrer per level (debug reports only)."""
    import inspect

    chain: list[str] = []
    seen = {id(obj), id(chain)}
    for _ in range(depth):
        found = gc.get_referrers(obj)
        seen.add(id(found))
        refs = [r for r in found if id(r) not in seen and not inspect.isframe(r)]
        seen.add(id(refs))
        if not refs:
            break
        obj = refs[0]
        seen.add(id(obj))
        del found, refs
        text = type(obj).__name__
        if isinstance(obj, dict):
            text += f"(file {obj['__file__']})" if "__file__" in obj else f"(keys {list(obj)[:6]})"
        elif hasattr(obj, "__qualname__"):
            text += f" {obj.__qualname__}"
        chain.append(text)
    return chain


def _collect_if_used(seen_use: float) -> float:
    """When scripts ran since `seen_use` (the last use the sweeper saw), collect everything, frozen objects
    included (dashboard.heap): a page's namespace frozen with a session's old frames may be a garbage cycle
    that Streamlit's collection after each run no longer walks. Returns the use now seen."""
    now = _LAST_USE[0]
    if now != seen_use:
        heap.collect_everything()
    return now


def _sweeper() -> None:
    """Streamlit expires cache entries only when they are next looked up; a server nobody uses would keep
    them. When no session has asked for data for CACHE_TTL seconds, every cache is emptied. Sessions whose
    browser has gone are released (release_closed_sessions)."""
    seen_use = _LAST_USE[0]
    while True:
        time.sleep(min(30.0, CACHE_TTL / 2))
        try:
            seen_use = _collect_if_used(seen_use)
            freed = bool(release_closed_sessions(connected_sessions()))
            if time.monotonic() - _LAST_USE[0] > CACHE_TTL:
                with _DATASETS_LOCK:
                    had = bool(_DATASETS)
                    _DATASETS.clear()
                if had:
                    st.cache_resource.clear()
                    st.cache_data.clear()
                    freed = True
                    log.info("Caches emptied after %s s without use", CACHE_TTL)
            if freed:
                _release_pools()
            if os.environ.get("RI_MEMORY_DEBUG"):
                log.info("memory: %s", memory_report())
        except Exception:  # the sweeper must outlive any one failure
            log.exception("cache sweeper")


threading.Thread(target=_sweeper, name="ri-cache-sweeper", daemon=True).start()


class UploadGone(KeyError):
    """The bytes of an uploaded file are not in this session any more (e.g. a new browser session)."""


def dataset_for(spec: DatasetSpec, contents: dict | None = None, progress: Any = None) -> Dataset:
    """Load the dataset named by `spec` (bounded LRU keyed on the content spec).

    `contents` maps sha256 -> bytes for uploads. Not an st.cache_* function because loading reports
    progress into the page, which Streamlit's caches would try to replay.
    """
    now = time.monotonic()
    _LAST_USE[0] = now
    with _DATASETS_LOCK:
        _expire_datasets(now)
        if spec in _DATASETS:
            _DATASETS.move_to_end(spec)
            ds = _DATASETS[spec][0]
            _DATASETS[spec] = (ds, now)
            return ds
    if spec.kind == "demo":
        ds = generate_dataset(seed=spec.seed, **({"n_orders": DEMO_ORDERS} if DEMO_ORDERS else {}))
    else:
        contents = contents or {}
        if any(f.sha256 not in contents for f in spec.files):
            raise UploadGone(spec.name)
        files = [SourceFile(name=f.name, content=contents[f.sha256], role=f.role, sheet=f.sheet) for f in spec.files]
        mapping = Mapping.from_json(spec.mapping_json) if spec.mapping_json else None
        ds = load_dataset(files, mapping, name=spec.name or "Uploaded data", progress=progress)
    with _DATASETS_LOCK:
        _DATASETS[spec] = (ds, time.monotonic())
        while len(_DATASETS) > MAX_DATASETS:
            _DATASETS.popitem(last=False)
    return ds


@st.cache_resource(max_entries=8, ttl=CACHE_TTL, show_spinner=False)
def prepared_for(spec: DatasetSpec, window_days: int | None, overrides: tuple, _dataset: Dataset) -> Prepared:
    """overrides: the user's reason corrections as sorted (raw, category) pairs (part of the key)."""
    return prepare(_dataset, window_days=window_days, reason_overrides=dict(overrides) or None)


@st.cache_resource(max_entries=8, ttl=CACHE_TTL, show_spinner=False)
def concentration_for(key: tuple, _prepared: Prepared) -> tuple:
    """The few orders that carry most returned (or sold) units of the prepared data (key: spec, window,
    reason overrides), as a tuple of analysis.concentration.Concentration."""
    return tuple(concentration(_prepared))


@st.cache_resource(max_entries=8, ttl=CACHE_TTL, show_spinner=False)
def without_orders_for(key: tuple, orders: tuple, _prepared: Prepared) -> Prepared:
    return drop_orders(_prepared, orders)


@st.cache_resource(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def filtered_for(key: tuple, filters: Filters, _prepared: Prepared) -> Prepared:
    """key = (dataset spec, window, reason overrides): everything the prepared data depends on."""
    return filter_prepared(_prepared, filters)


@st.cache_resource(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def segmented_for(
    key: tuple, filters: Filters, settings: Settings, _prepared: Prepared, _dataset: Dataset
) -> Segmented:
    """analysis.engine.segment_stage of the filtered data: segments, pairs, Simpson checks and cost per return with
    the list-wide q-values, before the fix list is ranked. What the pages that show no fix list read."""
    unmatched = _dataset.returns_matching_nothing  # rows matched in part are loaded and counted
    return segment_stage(_prepared, settings, unmatched_returns=unmatched, rejected_rows=int(_dataset.rows_rejected))


@st.cache_resource(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def analysed_for(key: tuple, filters: Filters, settings: Settings, _prepared: Prepared, _dataset: Dataset) -> Analysis:
    """analysis.engine.analyse of the filtered data, its fix list not yet judged on the logged changes: the fix list
    ranked from segmented_for's stage (computed once per filters, whichever page asks first)."""
    stage = segmented_for(key, filters, settings, _prepared, _dataset)
    return with_fix_list(
        stage, _prepared, briefs=False
    )  # briefs are built on demand, one at a time, on the Fix list page


@st.cache_resource(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def analysis_for(
    key: tuple,
    filters: Filters,
    settings: Settings,
    changes: tuple,
    _prepared: Prepared,
    _dataset: Dataset,
    _interventions: Any = None,
    _evaluations: Any = None,
) -> Analysis:
    """changes: the logged interventions as tuples of text (part of the key): each fix-list segment with a
    logged change is judged on the orders placed since it (analysis.interventions.with_changes_judged).
    _evaluations: a callable giving analysis.interventions.evaluate_all of the same data and log (from the
    cache the other pages read), so the log is evaluated once per filters; None evaluates it here."""
    an = analysed_for(key, filters, settings, _prepared, _dataset)
    if changes and _interventions is not None:
        evaluations = _evaluations() if _evaluations is not None else None
        an = with_changes_judged(an, _prepared, _interventions, evaluations=evaluations or None)
    return an


@st.cache_data(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def inspect_for(name: str, digest: str, sheet: str | None, _content: bytes) -> FileInfo:
    return inspect_file(name, _content, sheet=sheet)


@st.cache_data(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def table_sheets_for(name: str, digest: str, _content: bytes) -> tuple[FileInfo, ...]:
    """The sheets of an upload that hold a table of a known role, each inspected (data.ingest.table_sheets; the
    default sheet's alone for a CSV, a one-sheet workbook or one with no table): the Upload page reads each
    sheet once, here, and inspect_for only a sheet chosen beyond these."""
    return table_sheets(name, _content)


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def computed(name: str, key: tuple, filters: Filters, args: tuple, _fn: Callable[..., Any], _prepared: Prepared) -> Any:
    """Cache any pure analysis call on (name, data key, filters, args); args must identify the result."""
    return _fn(_prepared, *args)
