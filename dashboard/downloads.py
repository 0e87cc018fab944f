"""Bytes for download buttons. Every text cell is escaped against spreadsheet formula injection."""
import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.export import escape_cell
from data.demo import write_demo_files
from data.shopify_sample import generate_shopify_export


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM) per RFC 4180: CRLF line ends, so a value holding a bare CR or LF is quoted and can
    never start a new row; every text cell (object, string or categorical columns) formula-escaped."""
    safe = df.copy()
    for c in safe.columns:
        col = safe[c]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
                or pd.api.types.is_datetime64_any_dtype(col)):
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
