"""The sidebar: the dataset's summary, the filters (dates, channel, journey, collection, rate basis), the
settings (cost per return, handling cost, return window, currency), and the controls that act like filters
(leaving the few orders that dominate the data out of every page). ``money`` formats with the currency set here.

Filter widgets keep their values in session_state (dashboard.session keys), so they survive page changes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from analysis.concentration import order_ref, outlier_orders
from analysis.prepare import FILTER_COLUMNS, Filters, Prepared
from data.model import Dataset
from data.store import Store
from dashboard import session as S
from dashboard.formatting import md, num

if TYPE_CHECKING:  # dashboard.context draws the sidebar
    from dashboard.context import Context

BASIS_OPTIONS = ("Units", "Orders")


def money(x: float | None, symbol: str | None = None) -> str:
    """Whole money amount with the currency symbol set in the sidebar (none by default)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if symbol is None:
        symbol = str(st.session_state.get(S.S_CURRENCY) or "")
    return f"{symbol}{x:,.0f}"


def _options(store: Store, full: Prepared, column: str) -> list[str]:
    if not full.has(column):
        return []
    return [str(v) for v in store.query("distinct_values", table="lines", column=column)["value"]]


def _date_span(lines: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last order date of the unfiltered lines: asked on every run, computed once per prepared data
    (Prepared.memo), not two scans of the date column per rerun."""
    return lines["order_date"].min(), lines["order_date"].max()


# the value filters (analysis.prepare.FILTER_COLUMNS): column, label, session key, plural for "All ..."
VALUE_FILTERS = (
    ("channel", "Channel", S.F_CHANNELS, "channels"),
    ("journey", "Journey", S.F_JOURNEYS, "journeys"),
    ("country", "Country", S.F_COUNTRIES, "countries"),
    ("collection", "Collection", S.F_COLLECTIONS, "collections"),
)


def sidebar(dataset: Dataset, full: Prepared, store: Store) -> Filters:
    """store: this session's store; its named queries run once per loaded data (data.store.Store.query)."""
    sb = st.sidebar
    lines = full.lines
    summary = store.query("summary", table="lines").iloc[0]
    with sb.container(border=True):
        st.markdown(f"**{md(dataset.name)}**")
        if len(lines):
            d0, d1 = pd.Timestamp(summary["first_date"]).date(), pd.Timestamp(summary["last_date"]).date()
            why = (
                f"the returns file ends on {full.returns_end:%d %b %Y}, so orders after "
                f"{full.cutoff_date:%d %b %Y} are excluded from rates"
                if full.returns_end is not None
                else f"orders after {full.cutoff_date:%d %b %Y} are too recent and excluded from rates"
            )
            st.caption(
                f"{num(int(summary['rows']))} order lines · {num(int(summary['orders']))} orders  \n"
                f"{d0:%d %b %Y} – {d1:%d %b %Y}  \n"
                f"Return window {full.window_days} days ({full.window_source}); {why} "
                f"({num(full.immature_orders_excluded)} orders)."
            )
    sb.markdown("**Filters**")
    first = last = None
    if len(lines):
        first, last = full.memo(("dashboard.sidebar.order_dates",), lambda: _date_span(lines))
        d0, d1 = first.date(), last.date()
        dates = sb.date_input("Order date", value=(d0, d1), min_value=d0, max_value=d1, key=S.F_DATES)
    else:
        dates = ()
    date_from = pd.Timestamp(dates[0]) if isinstance(dates, (tuple, list)) and len(dates) >= 1 else None
    date_to = pd.Timestamp(dates[1]) if isinstance(dates, (tuple, list)) and len(dates) == 2 else None
    if first is not None and date_from is not None and date_from <= first:
        date_from = None
    if last is not None and date_to is not None and date_to >= last:
        date_to = None
    chosen = {
        column: sb.multiselect(
            label,
            _options(store, full, column),
            key=key,
            placeholder=f"All {plural}",
            disabled=not full.has(column),
        )
        for column, label, key, plural in VALUE_FILTERS
    }
    refunds_only = full.outcome == "order_refund"
    sb.radio(
        "Rate basis",
        BASIS_OPTIONS,
        key=S.F_BASIS,
        horizontal=True,
        # with order-level refunds only, which items came back is attributed, not known: the pages compare
        # refunded units / units (Prepared.rate_columns) and an orders basis would only re-count refunded orders
        disabled=refunds_only,
        help=(
            "This export records refunds per order only: segments compare refunded units / units sold (each "
            "refund attributed to the order's items). Add a returns file for an orders basis."
            if refunds_only
            else "Units: returned units / units sold. Orders: orders with a return of the segment's items / "
            "orders containing them. Significance always comes from the unit-level test, clustered by customer "
            "where customers repeat (else by order)."
        ),
    )
    with sb.expander("Settings"):
        st.number_input(
            "Cost per return (blank = refund value + handling)", min_value=0.0, value=None, step=1.0, key=S.S_COST
        )
        st.number_input("Handling cost per return", min_value=0.0, value=8.0, step=1.0, key=S.S_HANDLING)
        st.number_input(
            "Return window in days (blank = estimated)", min_value=1, max_value=365, value=None, step=1, key=S.S_WINDOW
        )
        st.text_input("Currency symbol", value="", max_chars=3, key=S.S_CURRENCY, placeholder="e.g. £, €, $")
    return Filters(
        date_from=date_from,
        date_to=date_to,
        **{FILTER_COLUMNS[column]: tuple(values) for column, values in chosen.items()},
    )


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
    what = f"order {order_ref(ids[0])}" if len(ids) == 1 else f"these {len(ids)} orders"
    st.toggle(
        f"Leave {what} out of every page",
        value=bool(st.session_state.get(S.LEAVE_OUT_OUTLIERS)),
        key="ov_leave_out",
        on_change=_sync_leave_out,
        help="Every rate, chart, segment and the fix list are then computed without it. Switch off to put it back.",
    )
    if ctx.left_out:
        st.caption(f"Left out of every page: {', '.join(md(order_ref(o)) for o in ctx.left_out)}.")
