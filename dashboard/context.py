"""The data context every page reads: the dataset of this session (demo, upload, or restored after a refresh),
prepared and filtered by the sidebar, its DuckDB store, and the page guard `require_data`.

A page starts with ``ctx = require_data()`` and reads numbers from ``ctx.analysis`` (the cached
analysis.engine.analyse result; ``ctx.segment_analysis`` on pages that show no fix list) or ``ctx.cached(name, fn)`` (a cached pure analysis function).
The sidebar is drawn by dashboard.sidebar, segment views by dashboard.segment_views.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd
import streamlit as st

from analysis.concentration import order_ref, outlier_orders
from analysis.engine import Analysis, Segmented, Settings
from analysis.metrics import no_returns_words
from analysis.prepare import RETURNS_LOADED, Filters, Prepared
from data.errors import RIError
from data.reasons import CATEGORIES
from data.model import Dataset
from data.store import Store
from data.uploads import UploadStore, new_key, valid_key
from dashboard import cache, heap
from dashboard import session as S
from dashboard.errors import show_error
from dashboard.formatting import md
from dashboard.sidebar import BASIS_OPTIONS, sidebar

log = logging.getLogger("returns_intelligence")

UPLOAD_PAGE = "views/upload.py"


@dataclass(frozen=True)
class Context:
    spec: S.DatasetSpec
    dataset: Dataset
    full: Prepared  # unfiltered
    prepared: Prepared  # filtered
    filters: Filters
    settings: Settings
    key: tuple  # (spec, window, reason overrides): what the prepared data depends on
    basis: str = "units"  # "units" (returned units / units sold) or "orders" (orders with a return / orders)
    findings: tuple = ()  # analysis.concentration findings on the whole prepared data (a few orders dominate)
    left_out: tuple[str, ...] = ()  # orders left out of every page at the user's request (the findings' orders)

    @cached_property
    def analysis(self) -> Analysis:
        """The cached analysis of this run's data and filters. Kept on the Context, which lives for one script
        run: a page reads it several times, and the intervention log behind it is read from disk once per run
        (every change to the log reruns the script, so a new Context reads it again)."""
        from dashboard.presets import intervention_rows, interventions_frame

        iv = interventions_frame(self)
        changes = (
            tuple(map(tuple, iv[["dimension", "segment", "start_date", "description"]].astype(str).values))
            if len(iv)
            else ()
        )
        # the log's evaluations are the ones the Interventions page, the summary and the workbook show (cached
        # once per filters and log), asked for only when the analysis is not cached yet
        return cache.analysis_for(
            self.key,
            self.filters,
            self.settings,
            changes,
            self.prepared,
            self.dataset,
            iv,
            lambda: intervention_rows(self),
        )

    @cached_property
    def segment_analysis(self) -> Segmented:
        """The analysis before its fix list is ranked and judged on the logged changes
        (dashboard.cache.segmented_for): the same segments, pairs, Simpson checks and cost per return as
        ``analysis``, without a fix list. Pages that show no fix list read this, so a new filter there neither
        ranks a fix list (0.27 s CPU at 1M lines) nor waits for the judging (about 1.3 s on the demo's log)."""
        return cache.segmented_for(self.key, self.filters, self.settings, self.prepared, self.dataset)

    def cached(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a pure analysis function of the filtered data, cached on content + filters + args."""
        return cache.computed(name, self.key, self.filters, args, fn, self.prepared)


# ---------------------------------------------------------------- data context
def _default_spec() -> S.DatasetSpec:
    return S.DatasetSpec(kind="demo", seed=7, name="Demo: Northwind Living (generated)")


def reason_overrides() -> tuple:
    """This session's reason corrections as a hashable, sorted tuple of (raw reason, category)."""
    raw = st.session_state.get(S.REASON_OVERRIDES) or {}
    # only valid categories reach the analysis; the Reasons page reports and drops the others
    return tuple(sorted((str(k), str(v)) for k, v in raw.items() if str(v) in CATEGORIES))


FILTER_KEYS = (
    S.F_DATES,
    S.F_CHANNELS,
    S.F_JOURNEYS,
    S.F_COUNTRIES,
    S.F_COLLECTIONS,
    S.F_BASIS,
    S.LEAVE_OUT_OUTLIERS,
)


def _restore_from_url() -> bool:
    """After a refresh or a server restart: load this browser's stored dataset (and filters) by the key in
    the URL. False when there is no key or nothing usable is stored under it."""
    key = st.query_params.get(S.URL_KEY)
    if not valid_key(key):
        return False
    try:
        stored = UploadStore().load(key)
    except OSError:
        log.exception("reading stored upload")
        return False
    if stored is None:
        return False
    spec = S.spec_from_dict(stored.dataset)
    st.session_state[S.BROWSER_KEY] = key
    cache.hold(cache.UPLOADS, dict(stored.contents))
    st.session_state[S.DATASET_SPEC] = spec
    saved = stored.dataset.get("filters") or {}
    for k in FILTER_KEYS:
        if k in saved and k not in st.session_state:
            v = saved[k]
            if k == S.F_DATES and isinstance(v, list):
                v = tuple(pd.Timestamp(x).date() for x in v)
            st.session_state[k] = v
    st.session_state[S.SAVED_FILTERS] = saved
    if spec.kind == "upload":
        st.session_state[S.RESTORED] = f"Your data ({spec.name or 'uploaded files'}) was restored from this server."
    return True


def current_spec() -> S.DatasetSpec:
    if S.DATASET_SPEC not in st.session_state and not _restore_from_url():
        st.session_state[S.DATASET_SPEC] = _default_spec()
    return st.session_state[S.DATASET_SPEC]


def remember_dataset(spec: S.DatasetSpec, contents: dict | None = None) -> None:
    """Keep the dataset just loaded on the server for this browser (a private random key in the URL), so a
    refresh or a server restart finds it again. The demo is only remembered when the browser already has a
    key (then its stored upload is replaced by 'demo')."""
    key = st.session_state.get(S.BROWSER_KEY)
    if spec.kind != "upload" and not key:
        return
    key = key or new_key()
    try:
        UploadStore().save(key, S.spec_to_dict(spec), contents or {})
    except (OSError, KeyError, ValueError):
        log.exception("storing the upload")
        st.warning("Your data could not be kept on this server, so a browser refresh will lose it.")
        return
    st.session_state[S.BROWSER_KEY] = key
    st.session_state[S.SAVED_FILTERS] = {}
    st.query_params[S.URL_KEY] = key


def forget_dataset() -> None:
    """Remove this browser's stored data from the server and go back to the demo."""
    key = st.session_state.pop(S.BROWSER_KEY, None)
    if key:
        UploadStore().remove(key)
    if S.URL_KEY in st.query_params:
        del st.query_params[S.URL_KEY]
    cache.let_go(cache.UPLOADS)
    st.session_state.pop(S.UPLOAD_BYTES, None)
    st.session_state[S.DATASET_SPEC] = _default_spec()


def stored_data_controls() -> None:
    """On Upload & map: say that the upload is kept for this browser, and offer to remove it."""
    if not st.session_state.get(S.BROWSER_KEY):
        return
    c1, c2 = st.columns([3, 1])
    c1.caption(
        "Your uploaded data is kept on this server for this browser, so a refresh or a restart keeps it. "
        "The link in the address bar opens it: do not share that link."
    )
    if c2.button("Remove my data from this server", key="up_forget", icon=":material/delete:", width="stretch"):
        forget_dataset()
        st.rerun()


def _save_filters() -> None:
    key = st.session_state.get(S.BROWSER_KEY)
    if not key:
        return
    now = {}
    for k in FILTER_KEYS:
        if k in st.session_state:
            v = st.session_state[k]
            now[k] = (
                [str(x) for x in v]
                if k == S.F_DATES and isinstance(v, (tuple, list))
                else (list(v) if isinstance(v, (tuple, list)) else v)
            )
    if now != st.session_state.get(S.SAVED_FILTERS):
        try:
            UploadStore().update(key, filters=now)
        except OSError:
            log.exception("storing filters")
            return
        st.session_state[S.SAVED_FILTERS] = now


def load_context() -> Context | None:
    """The dataset of this session (demo by default), prepared and filtered by the sidebar."""
    spec = current_spec()
    try:
        with st.spinner("Loading data…"):
            dataset = cache.dataset_for(spec, cache.session_uploads())
            window = st.session_state.get(S.S_WINDOW) or None
            overrides = reason_overrides()
            full = cache.prepared_for(spec, window, overrides, dataset)
    except RIError as e:
        show_error(e)
        return None
    except cache.UploadGone:
        # the uploaded bytes of this spec are gone (new session after a refresh): fall back to the demo
        st.session_state[S.DATASET_SPEC] = _default_spec()
        st.warning(
            "The uploaded files are no longer in this browser session; showing the demo data. "
            "Upload them again (your saved mapping preset loads them in one click)."
        )
        return load_context()
    findings = cache.concentration_for((spec, window, overrides), full)
    left_out: tuple[str, ...] = ()
    if findings and st.session_state.get(S.LEAVE_OUT_OUTLIERS):
        left_out = outlier_orders(list(findings))
        full = cache.without_orders_for((spec, window, overrides), left_out, full)
    try:
        store = session_store((spec, window, left_out), full, dataset)
    except RIError as e:
        show_error(e)
        return None
    filters = sidebar(dataset, full, store)
    if left_out:
        st.sidebar.caption(
            f"Left out of every page at your request: order{'s' if len(left_out) > 1 else ''} "
            f"{', '.join(md(order_ref(o)) for o in left_out)} (see Overview)."
        )
    cost = st.session_state.get(S.S_COST) or None
    handling = float(st.session_state.get(S.S_HANDLING, 8.0) or 0.0)
    settings = Settings(cost_per_return=cost, handling_cost=handling, window_days=window)
    key = (spec, window, overrides, left_out)
    prepared = cache.filtered_for(key, filters, full)
    basis = "orders" if st.session_state.get(S.F_BASIS) == BASIS_OPTIONS[1] else "units"
    return Context(spec, dataset, full, prepared, filters, settings, key, basis, findings, left_out)


def shell() -> None:
    """Run by the router before every page: load this session's data and draw the sidebar.

    The sidebar's filter widgets live in the entrypoint run, so their values survive page changes. The
    browser's key to its stored data is put back in the URL on every page (page changes drop it).
    """
    heap.freeze_new_modules()  # Streamlit's collection after each run then skips the modules' objects
    pending = st.session_state.pop(S.LOAD_PENDING, None)
    if pending:
        st.warning(
            f"Loading {pending} was stopped before it finished (the page was left while reading). "
            "Load it again on Upload & map; the data shown is the dataset loaded before.",
            icon=":material/warning:",
        )
    cache.hold(cache.CONTEXT, load_context())  # on the server, not in session state (dashboard.cache.hold)
    key = st.session_state.get(S.BROWSER_KEY)
    if key and st.query_params.get(S.URL_KEY) != key:
        st.query_params[S.URL_KEY] = key
    if S.RESTORED in st.session_state:
        st.toast(st.session_state.pop(S.RESTORED), icon=":material/restore:")
    _save_filters()


def require_data(*, rates: bool = True) -> Context:
    """Page guard: returns the context, or explains what to do and stops the page. rates: the page shows return
    rates, and stops after saying they are not known when no returns are loaded (the Overview, rates=False, still
    shows the orders and units it holds, with its rates as Unknown)."""
    ctx = cache.held(cache.CONTEXT, cache.NOT_HELD)
    ctx = load_context() if ctx is cache.NOT_HELD else ctx
    if ctx is None:
        st.page_link(UPLOAD_PAGE, label="Go to Upload & map", icon=":material/upload:")
        st.stop()
    if ctx.prepared.lines.empty:
        st.info("No order lines match the current filters. Widen the date range or clear the filters in the sidebar.")
        st.stop()
    if ctx.prepared.outcome == "order_refund":
        st.caption(
            "Outcome: **customer refunds** (the orders export records refunds per order; cancelled and voided "
            "orders left out). The headline is orders with a refund / orders; collections, intents, journeys and "
            "the fix list compare **refunded units / units sold**, each refund attributed to the order's items, "
            "because an order with more items has more chances to hold a refund. Add a returns file on Upload & "
            "map for line-level return rates, reasons and exchanges."
        )
    elif not ctx.full.has(RETURNS_LOADED):  # set by prepare: no returns file, no credit notes, no refunds
        unmatched = int(ctx.full.counts.get("returns_matching_nothing", 0) or 0)
        st.warning(
            "**No returns are loaded, so return rates are not known.** Add the returns export (a returns "
            "file, an Amazon FBA returns report, or a transactions export with credit notes) on Upload & map."
            if not unmatched
            else "**Return rates are not known:** " + no_returns_words({"returns_matching_nothing": unmatched}, ""),
            icon=":material/warning:",
        )
        if rates:  # every figure of the page would be a rate of 0 for returns that were never loaded
            st.page_link(UPLOAD_PAGE, label="Go to Upload & map", icon=":material/upload:")
            st.stop()
    return ctx


STORE_COLUMNS = (
    "order_id",
    "order_date",
    "quantity",
    "returned_units",
    "channel",
    "journey",
    "country",
    "collection",
)


def session_store(key: tuple, full: Prepared, dataset: Dataset | None = None) -> Store:
    """This session's own DuckDB database (rebuilt when the data changes): the dataset's canonical tables,
    ids encoded once, whose ``lines`` view the sidebar reads (data.store.Store.load_dataset).

    One Store per browser session: another session never sees its tables.
    """
    held = cache.held(cache.STORE)
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        held[1].close()
    store = Store()
    if dataset is not None:
        store.load_dataset(dataset)
    else:
        # the text columns as text (prepare holds them as categoricals, which DuckDB would read as ENUMs)
        lines = full.lines[list(STORE_COLUMNS)]
        store.load("lines", lines.astype({c: "string" for c in STORE_COLUMNS if lines[c].dtype == "category"}))
    cache.hold(cache.STORE, (key, store))
    return store
