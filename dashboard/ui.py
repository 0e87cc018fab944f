"""Shared UI helpers: the data context every page reads, the sidebar, errors, segment tables and views.

Charts live in dashboard.charts and formatting in dashboard.formatting (both free of Streamlit calls); the
names pages use from them are re-exported here so a page needs only `ui`.

User-provided text is only ever shown through Streamlit's escaped text/markdown paths (never
unsafe_allow_html); markdown control characters are escaped by `md()`.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analysis.columns import Column, page_columns
from analysis.concentration import agree_with_interval, outlier_orders
from analysis.engine import Analysis, Settings
from analysis.prepare import DIMENSION_LABELS, Filters, Prepared
from analysis.segments import order_basis
from data.errors import RIError
from data.reasons import CATEGORIES
from data.model import Dataset
from data.store import Store
from data.uploads import UploadStore, new_key, valid_key
from dashboard import cache
from dashboard import session as S
from dashboard.charts import COLORS as COLORS
from dashboard.charts import FUNNEL_COLORS as FUNNEL_COLORS
from dashboard.charts import VERDICT_COLORS as VERDICT_COLORS
from dashboard.charts import effective_volume as effective_volume
from dashboard.charts import funnel_chart as funnel_chart
from dashboard.charts import funnel_position as funnel_position
from dashboard.charts import pct_tickformat as pct_tickformat
from dashboard.charts import rate_chart as rate_chart
from dashboard.charts import verdict_words as verdict_words
from dashboard.errors import missing as missing
from dashboard.errors import show_error as show_error
from dashboard.errors import show_unexpected as show_unexpected
from dashboard.formatting import compared_with as compared_with
from dashboard.formatting import md as md
from dashboard.formatting import num as num
from dashboard.formatting import pct as pct
from dashboard.formatting import plot_text as plot_text
from dashboard.formatting import rate_words as rate_words
from dashboard.formatting import pp as pp
from dashboard.formatting import seg_label as seg_label
from dashboard.formatting import segment_frame as segment_frame

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

    @property
    def analysis(self) -> Analysis:
        from dashboard.presets import interventions_frame

        iv = interventions_frame(self)
        changes = tuple(map(tuple, iv[["dimension", "segment", "start_date", "description"]].astype(str).values)) \
            if len(iv) else ()
        return cache.analysis_for(self.key, self.filters, self.settings, changes, self.prepared, self.dataset, iv)

    def cached(self, name: str, fn, *args):
        """Run a pure analysis function of the filtered data, cached on content + filters + args."""
        return cache.computed(name, self.key, self.filters, args, fn, self.prepared)


# ---------------------------------------------------------------- text & numbers

def money(x: float | None, symbol: str | None = None) -> str:
    """Whole money amount with the currency symbol set in the sidebar (none by default)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if symbol is None:
        symbol = str(st.session_state.get(S.S_CURRENCY) or "")
    return f"{symbol}{x:,.0f}"





# ---------------------------------------------------------------- data context & sidebar
def _default_spec() -> S.DatasetSpec:
    return S.DatasetSpec(kind="demo", seed=7, name="Demo: Northwind Living (generated)")


def reason_overrides() -> tuple:
    """This session's reason corrections as a hashable, sorted tuple of (raw reason, category)."""
    raw = st.session_state.get(S.REASON_OVERRIDES) or {}
    # only valid categories reach the analysis; the Reasons page reports and drops the others
    return tuple(sorted((str(k), str(v)) for k, v in raw.items() if str(v) in CATEGORIES))


FILTER_KEYS = (S.F_DATES, S.F_CHANNELS, S.F_JOURNEYS, S.F_COLLECTIONS, S.F_BASIS, S.LEAVE_OUT_OUTLIERS)


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
    c1.caption("Your uploaded data is kept on this server for this browser, so a refresh or a restart keeps it. "
               "The link in the address bar opens it: do not share that link.")
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
            now[k] = [str(x) for x in v] if k == S.F_DATES and isinstance(v, (tuple, list)) else \
                (list(v) if isinstance(v, (tuple, list)) else v)
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
        st.warning("The uploaded files are no longer in this browser session; showing the demo data. "
                   "Upload them again (your saved mapping preset loads them in one click).")
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
        st.sidebar.caption(f"Left out of every page at your request: order{'s' if len(left_out) > 1 else ''} "
                           f"{', '.join('#' + md(o) for o in left_out)} (see Overview).")
    cost = st.session_state.get(S.S_COST) or None
    handling = float(st.session_state.get(S.S_HANDLING, 8.0) or 0.0)
    settings = Settings(cost_per_return=cost, handling_cost=handling, window_days=window)
    key = (spec, window, overrides, left_out)
    prepared = cache.filtered_for(key, filters, full)
    basis = "orders" if st.session_state.get(S.F_BASIS) == BASIS_OPTIONS[1] else "units"
    return Context(spec, dataset, full, prepared, filters, settings, key, basis, findings, left_out)


def _sync_leave_out() -> None:
    st.session_state[S.LEAVE_OUT_OUTLIERS] = bool(st.session_state.get("ov_leave_out"))


def concentration_note(ctx: Context) -> None:
    """Said first on the Overview: a few orders carry most returned (or sold) units; offer the view without them.

    The choice is kept in a plain session key (not only the widget's), so it holds on every page.
    """
    if not ctx.findings:
        return
    for c in ctx.findings:
        st.warning(md(c.sentence), icon=":material/priority_high:")
    ids = outlier_orders(list(ctx.findings))
    what = f"order #{ids[0]}" if len(ids) == 1 else f"these {len(ids)} orders"
    st.toggle(f"Leave {what} out of every page", value=bool(st.session_state.get(S.LEAVE_OUT_OUTLIERS)),
              key="ov_leave_out", on_change=_sync_leave_out,
              help="Every rate, chart, segment and the fix list are then computed without it. Switch off to put "
                   "it back.")
    if ctx.left_out:
        st.caption(f"Left out of every page: {', '.join('#' + md(o) for o in ctx.left_out)}.")


def shell() -> None:
    """Run by the router before every page: load this session's data and draw the sidebar.

    The sidebar's filter widgets live in the entrypoint run, so their values survive page changes. The
    browser's key to its stored data is put back in the URL on every page (page changes drop it).
    """
    pending = st.session_state.pop(S.LOAD_PENDING, None)
    if pending:
        st.warning(f"Loading {pending} was stopped before it finished (the page was left while reading). "
                   "Load it again on Upload & map; the data shown is the dataset loaded before.",
                   icon=":material/warning:")
    cache.hold(cache.CONTEXT, load_context())  # on the server, not in session state (dashboard.cache.hold)
    key = st.session_state.get(S.BROWSER_KEY)
    if key and st.query_params.get(S.URL_KEY) != key:
        st.query_params[S.URL_KEY] = key
    if S.RESTORED in st.session_state:
        st.toast(st.session_state.pop(S.RESTORED), icon=":material/restore:")
    _save_filters()


def require_data() -> Context:
    """Page guard: returns the context, or explains what to do and stops the page."""
    ctx = cache.held(cache.CONTEXT, cache.NOT_HELD)
    ctx = load_context() if ctx is cache.NOT_HELD else ctx
    if ctx is None:
        st.page_link(UPLOAD_PAGE, label="Go to Upload & map", icon=":material/upload:")
        st.stop()
    if ctx.prepared.lines.empty:
        st.info("No order lines match the current filters. Widen the date range or clear the filters in the sidebar.")
        st.stop()
    if ctx.prepared.outcome == "order_refund":
        st.caption("Outcome on every page: **orders with a customer refund** (the orders export records refunds per "
                   "order; cancelled and voided orders left out). Add a returns file on Upload & map for line-level "
                   "return rates, reasons and exchanges.")
    elif ctx.full.returns.empty and not any(f.role == "transactions" for f in ctx.dataset.files):
        st.warning("**No returns are loaded, so return rates are not known.** Add the returns export (a returns "
                   "file, an Amazon FBA returns report, or a transactions export with credit notes) on Upload & map.",
                   icon=":material/warning:")
    return ctx


BASIS_OPTIONS = ("Units", "Orders")
STORE_COLUMNS = ("order_id", "order_date", "quantity", "returned_units", "channel", "journey", "collection")


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
        store.load("lines", full.lines[list(STORE_COLUMNS)])
    cache.hold(cache.STORE, (key, store))
    return store


def _options(store: Store, full: Prepared, column: str) -> list[str]:
    if not full.has(column):
        return []
    return [str(v) for v in store.query("distinct_values", table="lines", column=column)["value"]]


def sidebar(dataset: Dataset, full: Prepared, store: Store) -> Filters:
    sb = st.sidebar
    lines = full.lines
    summary = store.query("summary", table="lines").iloc[0]
    with sb.container(border=True):
        st.markdown(f"**{md(dataset.name)}**")
        if len(lines):
            d0, d1 = pd.Timestamp(summary["first_date"]).date(), pd.Timestamp(summary["last_date"]).date()
            st.caption(f"{num(int(summary['rows']))} order lines · {num(int(summary['orders']))} orders  \n"
                       f"{d0:%d %b %Y} – {d1:%d %b %Y}  \n"
                       f"Return window {full.window_days} days ({full.window_source}); orders after "
                       f"{full.cutoff_date:%d %b %Y} are too recent and excluded from rates "
                       f"({num(full.immature_orders_excluded)} orders).")
    sb.markdown("**Filters**")
    if len(lines):
        d0, d1 = lines["order_date"].min().date(), lines["order_date"].max().date()
        dates = sb.date_input("Order date", value=(d0, d1), min_value=d0, max_value=d1, key=S.F_DATES)
    else:
        dates = ()
    date_from = pd.Timestamp(dates[0]) if isinstance(dates, (tuple, list)) and len(dates) >= 1 else None
    date_to = pd.Timestamp(dates[1]) if isinstance(dates, (tuple, list)) and len(dates) == 2 else None
    if len(lines) and date_from is not None and date_from <= lines["order_date"].min():
        date_from = None
    if len(lines) and date_to is not None and date_to >= lines["order_date"].max():
        date_to = None
    chans = sb.multiselect("Channel", _options(store, full, "channel"), key=S.F_CHANNELS,
                           placeholder="All channels", disabled=not full.has("channel"))
    journeys = sb.multiselect("Journey", _options(store, full, "journey"), key=S.F_JOURNEYS,
                              placeholder="All journeys", disabled=not full.has("journey"))
    colls = sb.multiselect("Collection", _options(store, full, "collection"), key=S.F_COLLECTIONS,
                           placeholder="All collections", disabled=not full.has("collection"))
    sb.radio("Rate basis", BASIS_OPTIONS, key=S.F_BASIS, horizontal=True,
             help="Units: returned units / units sold. Orders: orders with a return of the segment's items / "
                  "orders containing them. Significance always comes from the unit-level test, clustered by order.")
    with sb.expander("Settings"):
        st.number_input("Cost per return (blank = refund value + handling)", min_value=0.0, value=None,
                        step=1.0, key=S.S_COST)
        st.number_input("Handling cost per return", min_value=0.0, value=8.0, step=1.0, key=S.S_HANDLING)
        st.number_input("Return window in days (blank = estimated)", min_value=1, max_value=365, value=None,
                        step=1, key=S.S_WINDOW)
        st.text_input("Currency symbol", value="", max_chars=3, key=S.S_CURRENCY, placeholder="e.g. £, €, $")
    return Filters(date_from=date_from, date_to=date_to, channels=tuple(chans), journeys=tuple(journeys),
                   collections=tuple(colls))


# ---------------------------------------------------------------- segment tables & charts

_NUMBER_FORMATS = {"int": "localized", "num": "%.0f", "pct": "percent", "money": "localized", "p": "%.3f"}


def _column_config(c: Column):
    if c.kind == "text":
        return st.column_config.TextColumn(c.header, help=c.help or None, width="large" if c.wide else None)
    return st.column_config.NumberColumn(c.header, format=_NUMBER_FORMATS[c.kind], help=c.help or None)


# page column -> Streamlit config, from the one spec the workbook uses too (analysis.columns)
SEGMENT_COLUMNS = {(c.page_key or c.key): _column_config(c) for c in page_columns()}


def segment_table(seg: pd.DataFrame, dimension: str, key: str) -> None:
    if "noise_reason" not in seg.columns and "verdict" in seg.columns:
        seg = agree_with_interval(seg)
    d = segment_frame(seg, dimension)
    cols = [c for c in SEGMENT_COLUMNS if c in d.columns]
    st.dataframe(d[cols], hide_index=True, column_config=SEGMENT_COLUMNS, key=key, width="stretch",
                 height=min(38 + 35 * len(d), 640))


def explain_significance() -> None:
    st.caption("Verdicts: each segment is compared with its comparison group - the rest of its category for "
               "collections, products and sizes when categories are known (the black tick on each bar), otherwise the "
               "rest of the business - with a one-sided test for higher and a test for lower, clustered by order, "
               "and false-discovery control at 10% per view. "
               "'Within noise' means the difference could well be chance at this volume; the table says why for each "
               "(e.g. the returns come from a few orders). A bar is only coloured when its 95% interval clears its "
               "comparison rate. Colours: red clearly higher, amber higher (borderline), grey within noise, green "
               "clearly lower.")


def dimension_segments(ctx: Context, dimension: str) -> pd.DataFrame:
    seg = ctx.analysis.segments
    d = seg[seg["dimension"] == dimension]
    if "excess_cost" in d and d["excess_cost"].notna().any():
        d = d.sort_values("excess_cost", ascending=False, na_position="last")
    else:
        d = d.sort_values("excess_returns", ascending=False)
    return d



def dimension_view(ctx: Context, dimension: str, *, key: str) -> pd.DataFrame | None:
    """Bar chart with intervals, funnel plot and table for one dimension. Returns the segments shown."""
    d = dimension_segments(ctx, dimension)
    if d.empty:
        return None
    refunds = ctx.prepared.outcome == "order_refund"
    basis = str(d["basis"].iloc[0]) if "basis" in d else "units"
    if refunds:  # order-level refunds: orders for order attributes, attributed units for items (see prepare)
        basis_label = ("share of orders with a customer refund" if basis == "orders"
                       else "share of units refunded, refunds attributed to items")
    elif ctx.basis == "orders":
        d = order_basis(d)
        basis_label = "share of orders with a return"
    else:
        basis_label = "share of units returned" if basis == "units" else "share of units returned, orders as the unit"
    n_all, x_all = float(d["n"].sum()), float(d["returned"].sum())
    baseline = x_all / n_all if n_all else float("nan")
    # one calculation for colour and interval: a verdict the drawn interval does not show is "within noise",
    # with its reason in words (orders basis: against the overall line drawn)
    d = agree_with_interval(d, comparison=baseline if ctx.basis == "orders" and not refunds else None)
    label = DIMENSION_LABELS.get(dimension, dimension)
    t1, t2, t3 = st.tabs(["Rates", "Funnel plot", "Table"])
    with t1:
        word = "Refund rate" if refunds else "Return rate"
        st.plotly_chart(rate_chart(d, dimension, title=f"{word} by {label.lower()}, sorted by excess cost",
                                   baseline=baseline, basis_label=basis_label,
                                   show_ticks=ctx.basis == "units" or refunds),
                        key=f"{key}_bars")
        if refunds:
            st.caption(f"Outcome: {basis_label}. This export records refunds per order; cancelled and voided orders "
                       "are left out.")
        elif ctx.basis == "orders":
            st.caption("Shown as orders with a return; the colours (verdicts) come from the unit-level test.")
    with t2:
        st.plotly_chart(funnel_chart(d, dimension, baseline=baseline,
                                     basis_label="orders" if (ctx.basis == "orders" and not refunds) or basis == "orders" else "units",
                                     title=f"{label}: rate vs volume with control limits"), key=f"{key}_funnel")
        st.caption("Here every point is compared with the whole business; points outside the dashed lines are "
                   "unusual for their volume, and small segments inside the funnel are noise, however high their raw "
                   "rate. Volume counts units of one order as one when they come back together, as the verdicts do. "
                   "The Rates tab compares each segment with comparable items instead.")
    with t3:
        segment_table(d, dimension, key=f"{key}_table")
    explain_significance()
    return d
