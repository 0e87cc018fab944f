"""Bytes for download buttons. Every text cell is escaped against spreadsheet formula injection."""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from analysis.briefs import brief_html, brief_markdown
from analysis.export import escape_cell
from analysis.reasons import export_frames
from data.demo import write_demo_files
from data.shopify_sample import generate_shopify_export
from dashboard.presets import intervention_rows

if TYPE_CHECKING:  # annotations only: the helpers stay importable without the data context and its sidebar
    from dashboard.context import Context

log = logging.getLogger("returns_intelligence")


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM) per RFC 4180: CRLF line ends, so a value holding a bare CR or LF is quoted and can
    never start a new row; every text cell (object, string or categorical columns) formula-escaped."""
    safe = df.copy()
    for c in safe.columns:
        col = safe[c]
        if not (
            pd.api.types.is_numeric_dtype(col)
            or pd.api.types.is_bool_dtype(col)
            or pd.api.types.is_datetime64_any_dtype(col)
        ):
            safe[c] = col.astype(object).map(escape_cell)
    safe.columns = [escape_cell(str(c)) for c in safe.columns]
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


@st.cache_data(show_spinner=False, max_entries=1)
def sample_exports_zip() -> bytes:
    """The demo retailer's exports in real-world layouts (orders.xlsx, Shopify CSV, returns CSV, FBA TSV, ...)."""
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in write_demo_files(Path(tmp), seed=11, n_orders=3000).values():
            zf.write(path, arcname=Path(path).name)
        # a second store: a Shopify orders export in two overlapping pieces, with every quirk real stores show
        # (cancellations, add-on lines, numeric sources, "Colour / Size" variants) and order-level refunds only
        for name, content in generate_shopify_export(seed=11, n_orders=3000)[0].items():
            zf.writestr("shopify_store/" + name, content)
    return buf.getvalue()


def export_extra_sheets(ctx: Context) -> dict[str, pd.DataFrame]:
    """Optional sheets of the fix-list workbook: the reason tables and the evaluated interventions."""
    sheets: dict[str, pd.DataFrame] = {}
    try:
        sheets.update(ctx.cached("export_frames", export_frames))
    except Exception:  # noqa: BLE001 - the workbook still downloads without the optional sheets
        log.exception("reason sheets for export")
    try:
        rows = intervention_rows(ctx)
        if rows:
            sheets["Interventions"] = pd.DataFrame(rows)
    except Exception:  # noqa: BLE001
        log.exception("interventions sheet for export")
    return sheets


def brief_for(ctx: Context, row: pd.Series) -> tuple[str, str]:
    """A fix-list row's guidance brief as (markdown, printable HTML); ("", "") when it cannot be written."""
    try:
        md_text = ctx.cached(
            "brief",
            lambda p, d, s, _r, _settings, _why, _change: brief_markdown(row, p, analysis=ctx.analysis),
            str(row["dimension"]),
            str(row["segment"]),
            int(row["rank"]),
            ctx.settings,
            str(row.get("why")),
            str(row.get("change_start")),
        )
        return md_text, brief_html(md_text)
    except Exception:  # noqa: BLE001
        log.exception("brief for %s", row.get("segment"))
        return "", ""
