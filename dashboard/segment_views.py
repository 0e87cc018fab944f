"""Segment tables and the per-dimension view (rates with intervals, funnel plot, table) that the Collections,
Intents and Journeys pages show. What is shown is computed in analysis.dimension_view; charts come from
dashboard.charts; the table's columns from analysis.columns (the same spec the Excel export uses)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from analysis.columns import Column, page_columns
from analysis.concentration import agree_with_interval
from analysis.dimension_view import dimension_view as compute_view
from analysis.prepare import DIMENSION_LABELS
from dashboard.charts import funnel_chart, rate_chart
from dashboard.formatting import PCT_STEP
from dashboard.memo import chart, result
from dashboard.formatting import segment_frame

if TYPE_CHECKING:
    from streamlit.elements.lib.column_types import ColumnConfig  # what st.column_config.* return

    from dashboard.context import Context

_NUMBER_FORMATS = {"int": "localized", "num": "%.0f", "pct": "percent", "money": "localized", "p": "%.3f"}


def _column_config(c: Column) -> ColumnConfig:
    if c.kind == "text":
        return st.column_config.TextColumn(c.header, help=c.help or None, width="large" if c.wide else None)
    step = PCT_STEP if c.kind == "pct" else None  # one decimal place, as every rate reads
    return st.column_config.NumberColumn(c.header, format=_NUMBER_FORMATS[c.kind], help=c.help or None, step=step)


# page column -> Streamlit config, from the one spec the workbook uses too (analysis.columns)
SEGMENT_COLUMNS = {(c.page_key or c.key): _column_config(c) for c in page_columns()}


def table_rows(seg: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """The rows and columns a segment table shows."""
    if "noise_reason" not in seg.columns and "verdict" in seg.columns:
        seg = agree_with_interval(seg)
    d = segment_frame(seg, dimension)
    return d[[c for c in SEGMENT_COLUMNS if c in d.columns]]


def segment_table(seg: pd.DataFrame, dimension: str, key: str) -> None:
    d: pd.DataFrame = result(table_rows, seg, dimension)
    st.dataframe(
        d,
        hide_index=True,
        column_config=SEGMENT_COLUMNS,
        key=key,
        width="stretch",
        height=min(38 + 35 * len(d), 640),
    )


def explain_significance() -> None:
    st.caption(
        "Verdicts: each segment is compared with its comparison group - the rest of its category for "
        "collections, products and sizes when categories are known (the black tick on each bar); without "
        "categories, the other sizes of a size's system (waists with waists, letters with letters); otherwise the "
        "rest of the business - with a one-sided test for higher and a test for lower, clustered by customer "
        "where customers repeat (else by order), "
        "and false-discovery control at 10% over every test that can put a row on the fix list, one family for "
        "every page (categories, and segments compared with everything because their category is no fair "
        "comparison group, cannot be listed: they are judged among all the tests). "
        "'Within noise' means the difference could well be chance at this volume; the table says why for each "
        "(e.g. the returns come from a few orders). A bar is only coloured when its 95% interval clears its "
        "comparison rate. Colours: red clearly higher, amber higher (borderline), grey within noise, green "
        "clearly lower."
    )


def dimension_view(ctx: Context, dimension: str, *, key: str) -> pd.DataFrame | None:
    """Bar chart with intervals, funnel plot and table for one dimension. Returns the segments shown."""
    refunds = ctx.prepared.outcome == "order_refund"
    view = result(
        compute_view, ctx.segment_analysis.segments, dimension, orders_basis=ctx.basis == "orders", refunds=refunds
    )
    if view is None:
        return None
    d = view.segments
    label = DIMENSION_LABELS.get(dimension, dimension)
    t1, t2, t3 = st.tabs(["Rates", "Funnel plot", "Table"])
    with t1:
        word = "Refund rate" if refunds else "Return rate"
        chart(
            f"{key}_bars",
            rate_chart,
            d,
            dimension,
            title=f"{word} by {label.lower()}, sorted by excess cost",
            baseline=view.baseline,
            basis_label=view.basis_label,
            show_ticks=ctx.basis == "units" or refunds,
        )
        if refunds:
            st.caption(
                f"Outcome: {view.basis_label}. This export records refunds per order; cancelled and voided "
                "orders are left out."
            )
        elif ctx.basis == "orders":
            st.caption("Shown as orders with a return; the colours (verdicts) come from the unit-level test.")
    with t2:
        chart(
            f"{key}_funnel",
            funnel_chart,
            d,
            dimension,
            baseline=view.baseline,
            basis_label=view.funnel_basis,
            title=f"{label}: rate vs volume with control limits",
        )
        st.caption(
            "Here every point is compared with the whole business; points outside the dashed lines are "
            "unusual for their volume, and small segments inside the funnel are noise, however high their raw "
            "rate. Volume counts units of one order as one when they come back together, as the verdicts do. "
            "The Rates tab compares each segment with comparable items instead."
        )
    with t3:
        segment_table(d, dimension, key=f"{key}_table")
    explain_significance()
    return d
