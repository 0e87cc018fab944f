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
import threading
import time
from collections import OrderedDict

import streamlit as st

from analysis.concentration import concentration, drop_orders
from analysis.engine import Analysis, Settings, analyse
from analysis.interventions import with_changes_judged
from analysis.prepare import Filters, Prepared, filter_prepared, prepare
from data.demo import generate_dataset
from data.ingest import SourceFile, inspect_file, load_dataset
from data.mapping import Mapping
from data.model import Dataset
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


def _expire_datasets(now: float) -> None:
    for key in [k for k, (_, used) in _DATASETS.items() if now - used > CACHE_TTL]:
        del _DATASETS[key]


def _trim_heap() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise); a no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _sweeper() -> None:
    """Streamlit expires cache entries only when they are next looked up; a server nobody uses would keep
    them. When no session has asked for data for CACHE_TTL seconds, every cache is emptied."""
    while True:
        time.sleep(min(60.0, CACHE_TTL / 2))
        if time.monotonic() - _LAST_USE[0] > CACHE_TTL:
            with _DATASETS_LOCK:
                had = bool(_DATASETS)
                _DATASETS.clear()
            if had:
                st.cache_resource.clear()
                st.cache_data.clear()
                gc.collect()
                _trim_heap()
                log.info("Caches emptied after %s s without use", CACHE_TTL)


threading.Thread(target=_sweeper, name="ri-cache-sweeper", daemon=True).start()


class UploadGone(KeyError):
    """The bytes of an uploaded file are not in this session any more (e.g. a new browser session)."""


def dataset_for(spec: DatasetSpec, contents: dict | None = None, progress=None) -> Dataset:
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
        ds = generate_dataset(seed=spec.seed)
    else:
        if any(f.sha256 not in (contents or {}) for f in spec.files):
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
def analysis_for(key: tuple, filters: Filters, settings: Settings, changes: tuple, _prepared: Prepared,
                 _dataset: Dataset, _interventions=None) -> Analysis:
    """changes: the logged interventions as tuples of text (part of the key): each fix-list segment with a
    logged change is judged on the orders placed since it (analysis.interventions.with_changes_judged)."""
    unmatched = int(len(_dataset.unmatched_returns))
    an = analyse(_prepared, settings, unmatched_returns=unmatched, rejected_rows=int(_dataset.rows_rejected),
                 briefs=False)  # briefs are built on demand, one at a time, on the Fix list page
    if changes and _interventions is not None:
        an = with_changes_judged(an, _prepared, _interventions)
    return an


@st.cache_data(max_entries=32, ttl=CACHE_TTL, show_spinner=False)
def inspect_for(name: str, digest: str, sheet: str | None, _content: bytes):
    return inspect_file(name, _content, sheet=sheet)


@st.cache_data(max_entries=64, ttl=CACHE_TTL, show_spinner=False)
def computed(name: str, key: tuple, filters: Filters, args: tuple, _fn, _prepared):
    """Cache any pure analysis call on (name, data key, filters, args); args must identify the result."""
    return _fn(_prepared, *args)
