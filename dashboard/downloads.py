"""Bytes for download buttons. Every text cell is escaped against spreadsheet formula injection."""
import pandas as pd

from analysis.export import escape_cell


def csv_bytes(df: pd.DataFrame) -> bytes:
    safe = df.copy()
    for c in safe.columns:
        if safe[c].dtype == object or pd.api.types.is_string_dtype(safe[c]):
            safe[c] = safe[c].map(escape_cell)
    safe.columns = [escape_cell(str(c)) for c in safe.columns]
    return safe.to_csv(index=False).encode("utf-8-sig")
