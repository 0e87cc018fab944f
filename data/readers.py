"""Read uploaded export files into all-text frames, and convert text columns to dates and numbers.

Reading keeps every cell as text (nothing is guessed at read time), so the preview shows what the
file really says and conversion happens once, vectorised, on the canonical columns only
(see data.validate). Supported: CSV/TSV/TXT (optionally gzipped) in UTF-8, UTF-8 with BOM or
cp1252/latin-1, with , ; tab or | delimiters and preamble lines before the header; XLSX/XLSM/XLS/ODS
through python-calamine (all sheets listed, default = first non-empty sheet).

Speed: CSV goes through the pyarrow CSV engine with every column as string (about 0.3 s for the
500k-line real export); parsing is done with vectorised pandas string methods, never a Python
loop per row. Excel cells come out of calamine as Python objects, so they are turned to text
column by column.
"""
from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.errors import InputError, Problem

EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SAMPLE_BYTES = 256 * 1024
_FOOTER_RX = r"(?i)^\s*(?:grand\s+)?(?:sub)?totals?\b|^\s*(?:summe|gesamt|total g[ée]n[ée]ral|totaal|totale)\b"


@dataclass(frozen=True)
class RawTable:
    """A file (or sheet) read as text: `frame` has the file's header as columns and one row per data row.

    `footer` is a boolean array marking total/footer/blank rows (reported as rejected, never loaded).
    """

    frame: pd.DataFrame
    footer: np.ndarray
    sheets: tuple[str, ...] = ()
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int = 0  # 0-based line (CSV) or row (sheet) of the header
    decimal_hint: str | None = None  # "," when the file looks European (semicolon-delimited)
    notes: tuple[str, ...] = field(default_factory=tuple)


def is_excel(name: str, content: bytes) -> bool:
    """True for spreadsheet files (by extension, or by the zip / OLE magic bytes)."""
    low = name.lower()
    if low.endswith(EXCEL_EXTENSIONS):
        return True
    if content[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(content)).namelist()
        except zipfile.BadZipFile:
            return False
        return any(n.startswith("xl/") for n in names) or "content.xml" in names
    return content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def maybe_gunzip(name: str, content: bytes) -> tuple[str, bytes]:
    """Decompress .gz uploads (by magic bytes) and drop the .gz suffix from the name."""
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError) as exc:
            raise InputError("Damaged compressed file", f"{name} looks gzipped but cannot be decompressed ({exc}).",
                             [Problem(name, "Damaged compressed file", "The .gz file cannot be decompressed.",
                                      "Upload the uncompressed CSV or re-create the archive.")]) from exc
        if name.lower().endswith(".gz"):
            name = name[:-3]
    return name, content


def detect_encoding(content: bytes) -> tuple[str, bytes]:
    """Return (encoding label, UTF-8 bytes without BOM).

    UTF-8 is tried strictly on the whole file; otherwise cp1252 (Excel on Windows), falling back to
    latin-1 for the five byte values cp1252 leaves undefined. The bytes are transcoded once so the
    CSV engine always reads UTF-8.
    """
    if content.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", content[3:]
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = content.decode("utf-16")
        return "utf-16", text.encode("utf-8")
    try:
        content.decode("utf-8")
        return "utf-8", content
    except UnicodeDecodeError:
        pass
    try:
        return "cp1252", content.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError:
        return "latin-1", content.decode("latin-1").encode("utf-8")


def _sample_lines(data: bytes, limit: int = 60) -> list[str]:
    head = data[:_SAMPLE_BYTES].decode("utf-8", errors="replace")
    lines = head.splitlines()
    if len(data) > _SAMPLE_BYTES and lines:
        lines = lines[:-1]  # last line may be cut
    return lines[:limit]


def sniff_layout(lines: list[str]) -> tuple[str, int]:
    """Pick the delimiter and the header line from the first lines of a text file.

    The delimiter is the one giving the most consistent field count (>1) over the sample's later
    lines; the header is the first line that has that field count and mostly non-empty, non-numeric
    cells - lines above it (report titles, 'generated on ...') are preamble.
    """
    nonblank = [ln for ln in lines if ln.strip()]
    if not nonblank:
        return ",", 0
    best = (",", 1, -1.0)
    for d in DELIMITERS:
        counts = [len(r) for r in csv.reader(nonblank, delimiter=d)]
        tail = counts[len(counts) // 3:] or counts
        mode = max(set(tail), key=tail.count)
        score = tail.count(mode) / len(tail) * (mode > 1) + (mode > 1) * min(mode, 50) / 1000
        if score > best[2]:
            best = (d, mode, score)
    delim, width, _ = best
    for i, row in enumerate(csv.reader(lines, delimiter=delim)):
        cells = [c.strip() for c in row]
        filled = [c for c in cells if c]
        if len(cells) >= width and len(filled) >= max(1, width // 2):
            numeric = sum(bool(re.fullmatch(r"[-+]?[\d.,]+", c)) for c in filled)
            if numeric <= len(filled) // 2:
                return delim, i
    return delim, 0


def footer_mask(frame: pd.DataFrame) -> np.ndarray:
    """Rows that are blank, or whose first non-empty cell starts with Total / Grand total / Summe ...

    Only trailing rows count as footer when blank; a 'Total' row counts wherever it is (exports put
    subtotals between groups).
    """
    if frame.empty:
        return np.zeros(0, dtype=bool)
    first = pd.Series("", index=frame.index, dtype="string")
    for c in frame.columns:  # first non-empty cell of each row, one vectorised pass per column
        cell = frame[c].astype("string").fillna("").str.strip()
        first = first.where(first != "", cell)
    blank = (first == "").to_numpy()
    total = first.str.contains(_FOOTER_RX, regex=True).fillna(False).to_numpy(dtype=bool)
    return blank | total


def _read_csv_bytes(data: bytes, delim: str, header_row: int) -> pd.DataFrame:
    opts = dict(sep=delim, dtype=str, keep_default_na=False, skiprows=header_row)
    try:
        return pd.read_csv(io.BytesIO(data), engine="pyarrow", **opts)
    except Exception:  # ragged rows, odd quoting: the C engine copes with short rows
        pass
    try:
        return pd.read_csv(io.BytesIO(data), engine="c", skip_blank_lines=True, **opts)
    except Exception:
        pass
    width: list[int] = []

    def truncate(bad: list[str]) -> list[str]:
        return bad[: width[0]]

    head = pd.read_csv(io.BytesIO(data), engine="python", nrows=0, **opts)
    width.append(len(head.columns))
    return pd.read_csv(io.BytesIO(data), engine="python", on_bad_lines=truncate, **opts)


def _clean_columns(frame: pd.DataFrame) -> pd.DataFrame:
    cols, seen = [], {}
    for i, c in enumerate(frame.columns):
        name = str(c).strip().lstrip("\ufeff") or f"Column {i + 1}"
        if name.startswith("Unnamed: "):
            name = f"Column {i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        cols.append(name)
    frame.columns = cols
    return frame


def read_text(content: bytes) -> RawTable:
    """Read CSV/TSV/TXT bytes (already decompressed) as an all-text frame."""
    encoding, data = detect_encoding(content)
    lines = _sample_lines(data)
    delim, header_row = sniff_layout(lines)
    frame = _read_csv_bytes(data, delim, header_row) if data.strip() else pd.DataFrame()
    frame = _clean_columns(frame).astype("string").fillna("")
    notes = []
    if header_row:
        notes.append(f"Skipped {header_row} line(s) above the header row.")
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"Read as {encoding} (not UTF-8).")
    return RawTable(frame, footer_mask(frame), encoding=encoding, delimiter=delim, header_row=header_row,
                    decimal_hint="," if delim == ";" else None, notes=tuple(notes))


def _cells_to_text(values: list) -> pd.Series:
    """Calamine cell values of one column -> text: integral floats without '.0', datetimes as ISO."""
    s = pd.Series(values, dtype=object)
    if s.empty:
        return s.astype("string")
    kinds = s.map(type)
    out = s.astype(str)
    is_float = kinds.eq(float).to_numpy()
    if is_float.any():
        f = s[is_float].astype("float64")
        integral = np.isfinite(f) & (f == np.round(f)) & (f.abs() < 1e15)
        txt = f.map(repr)
        txt[integral] = f[integral].astype("int64").astype(str)
        out[is_float] = txt
    import datetime as _dt
    is_dt = kinds.isin([_dt.datetime, _dt.date]).to_numpy()
    if is_dt.any():
        out[is_dt] = pd.to_datetime(s[is_dt]).dt.strftime("%Y-%m-%d %H:%M:%S")
    out[kinds.eq(type(None)).to_numpy()] = ""
    out[kinds.eq(bool).to_numpy()] = s[kinds.eq(bool).to_numpy()].map({True: "TRUE", False: "FALSE"})
    return out.astype("string")


def list_sheets(content: bytes) -> tuple[str, ...]:
    from python_calamine import CalamineWorkbook

    return tuple(CalamineWorkbook.from_filelike(io.BytesIO(content)).sheet_names)


def read_excel(content: bytes, sheet: str | None = None) -> RawTable:
    """Read one sheet with python-calamine (default: the first sheet with any data)."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
    except Exception as exc:  # calamine raises its own error types
        raise InputError("Unreadable spreadsheet", f"The workbook cannot be opened ({exc}).",
                         [Problem("", "Unreadable spreadsheet", str(exc), "Save it again as .xlsx or export a CSV.")]
                         ) from exc
    sheets = tuple(wb.sheet_names)
    if sheet is not None and sheet not in sheets:
        raise InputError("Sheet not found", f"The workbook has no sheet '{sheet}'; it has {', '.join(sheets)}.",
                         [Problem("", "Sheet not found", f"No sheet '{sheet}'.", f"Pick one of: {', '.join(sheets)}.")])
    rows: list[list] = []
    chosen = sheet
    for name in ([sheet] if sheet else sheets):
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=True)
        if any(any(v not in ("", None) for v in r) for r in rows):
            chosen = name
            break
    else:
        chosen = sheet or (sheets[0] if sheets else None)
    wb.close()
    width = max((len(r) for r in rows), default=0)
    # header: first row with at least half of the width filled and mostly text
    header_row = 0
    for i, r in enumerate(rows[:60]):
        filled = [v for v in r if v not in ("", None)]
        if len(filled) >= max(1, width // 2) and sum(isinstance(v, str) for v in filled) > len(filled) // 2:
            header_row = i
            break
    if not rows:
        frame = pd.DataFrame()
    else:
        header = list(rows[header_row]) + [""] * (width - len(rows[header_row]))
        body = rows[header_row + 1:]
        cols = list(zip(*[r + [""] * (width - len(r)) for r in body])) if body else [()] * width
        frame = pd.DataFrame({i: _cells_to_text(list(c)) for i, c in enumerate(cols)})
        frame.columns = [("" if h is None else str(h)) for h in header]
        frame = _clean_columns(frame)
    notes = (f"Skipped {header_row} row(s) above the header row.",) if header_row else ()
    return RawTable(frame, footer_mask(frame), sheets=sheets, sheet=chosen, header_row=header_row, notes=notes)


def read_table(name: str, content: bytes, sheet: str | None = None) -> RawTable:
    """Read any supported upload (CSV/TSV/TXT, .gz of those, XLSX/XLSM/XLS/ODS) as text."""
    name, content = maybe_gunzip(name, content)
    if is_excel(name, content):
        return read_excel(content, sheet)
    return read_text(content)


# ---------------------------------------------------------------- conversion of text columns
_CURRENCY_RX = r"[£$€¥₹₽]|\b(?:GBP|USD|EUR|CHF|SEK|NOK|DKK|PLN|CZK|JPY|AUD|CAD|NZD|INR|Fr|kr|zł)\b\.?"
_SPACES_RX = r"[\s\u00a0\u202f']"


def _on_uniques(func, text: pd.Series, *args):
    """Run a text parser on the distinct values only and spread the result back (exports repeat
    prices and timestamps a lot: 500k lines hold ~25k distinct timestamps)."""
    codes, uniques = pd.factorize(text.astype("string"), use_na_sentinel=True)
    if len(uniques) > len(text) // 2:
        return func(text, *args)
    u = pd.Series(uniques, dtype="string")
    values, bad, used = func(u, *args)
    v = values.to_numpy()
    take = np.where(codes >= 0, codes, 0)
    missing = codes < 0
    out_v = v[take] if len(v) else np.full(len(codes), np.nan, dtype=v.dtype)
    if len(v):
        out_v = out_v.copy()
        out_v[missing] = np.datetime64("NaT") if out_v.dtype.kind == "M" else np.nan
    out_b = np.where(missing, False, bad.to_numpy()[take] if len(v) else False)
    return (pd.Series(out_v, index=text.index, dtype=values.dtype), pd.Series(out_b.astype(bool), index=text.index), used)


def parse_numbers(text: pd.Series, decimal: str = "auto", hint: str | None = None) -> tuple[pd.Series, pd.Series, str]:
    return _on_uniques(_parse_numbers, text, decimal, hint)


def _parse_numbers(text: pd.Series, decimal: str = "auto", hint: str | None = None) -> tuple[pd.Series, pd.Series, str]:
    """Text -> float64. Returns (values, bad mask, decimal used).

    Handles currency symbols and codes (£ $ € GBP ...), thousands separators (, . space ' ),
    decimal comma, parentheses and trailing-minus negatives. decimal="auto" decides per column:
    a comma is the decimal mark when a value has a comma after the last dot, or a comma followed by
    other than exactly three digits (e.g. 12,5 or 1.234,50); otherwise the dot is.
    `hint` ("," for semicolon-delimited files) decides when no value settles it.
    Empty cells are missing (NaN), not bad.
    """
    s = text.astype("string").str.strip()
    empty = (s.isna() | s.eq("")).fillna(True).astype(bool)
    t = s.str.replace(_CURRENCY_RX, "", regex=True).str.replace(_SPACES_RX, "", regex=True)
    neg_paren = t.str.fullmatch(r"\(.*\)").fillna(False)
    t = t.where(~neg_paren, "-" + t.str.slice(1, -1))
    neg_trail = t.str.fullmatch(r"[\d.,]+-").fillna(False)
    t = t.where(~neg_trail, "-" + t.str.slice(0, -1))
    if decimal == "auto":
        sample = t[~empty]
        comma_dec = sample.str.contains(r"\.\d*,\d+$|,(?:\d{1,2}|\d{4,})$", regex=True).fillna(False)
        dot_dec = sample.str.contains(r",\d*\.\d+$|\.(?:\d{1,2}|\d{4,})$", regex=True).fillna(False)
        nc, nd = int(comma_dec.sum()), int(dot_dec.sum())
        decimal = "," if nc > nd else "." if nd > nc or hint is None else hint
    # a mark repeated as in 1,000,000 or 1.000.000 can only be a thousands separator, whatever the column's decimal
    multi_comma = t.str.fullmatch(r"-?\d{1,3}(?:,\d{3}){2,}").fillna(False).astype(bool)
    multi_dot = t.str.fullmatch(r"-?\d{1,3}(?:\.\d{3}){2,}").fillna(False).astype(bool)
    if decimal == ",":
        t = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False).where(
            ~multi_comma, t.str.replace(",", "", regex=False))
    else:
        t = t.str.replace(",", "", regex=False).where(~multi_dot, t.str.replace(".", "", regex=False))
    values = _num(t.where(~empty))
    bad = (~empty & values.isna()).fillna(False).astype(bool)
    return values, bad, decimal


_DMY_RX = (r"^(?P<a>\d{1,2})(?P<sep>[./\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{2}|\d{4})"
           r"(?:[ T,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AaPp][Mm])?)?$")
_ISO_RX = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_TZ_RX = r"(?<=:\d\d)(?:\.\d+)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$"
_SERIAL_MIN, _SERIAL_MAX = 20_000, 80_000  # 1954 .. 2119 as Excel serial days


def _num(x) -> pd.Series:
    """Text -> float64 with NaN for missing/bad (never a nullable dtype, so masks stay plain bool)."""
    return pd.to_numeric(x, errors="coerce").astype("float64")


def _from_parts(y, m, d, hh=None, mm=None, ss=None) -> pd.Series:
    parts = pd.DataFrame({"year": y, "month": m, "day": d})
    if hh is not None:
        parts["hour"], parts["minute"], parts["second"] = hh, mm, ss
    parts = parts.astype("float64")
    ok = parts.notna().all(axis=1)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(parts[ok].astype("int64"), errors="coerce")
    return out


def parse_dates(text: pd.Series, date_format: str = "auto") -> tuple[pd.Series, pd.Series, str]:
    return _on_uniques(_parse_dates, text, date_format)


def _parse_dates(text: pd.Series, date_format: str = "auto") -> tuple[pd.Series, pd.Series, str]:
    """Text -> datetime64[ns] (time kept). Returns (values, bad mask, order used: "ymd"|"dmy"|"mdy").

    Accepts ISO (2010-12-01 07:45:00, with T or timezone suffix - the local time is kept),
    DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY, DD-MM-YYYY (2- or 4-digit years, optional time and AM/PM),
    Excel serial day numbers (origin 1899-12-30), and other spelled-out forms through pandas'
    mixed parser as a last resort. Day-first vs month-first is decided per column from the values
    (a first part above 12 means day-first, a second part above 12 month-first); when every value is
    ambiguous, settings decide, else '.' and '-' mean day-first and '/' month-first (US exports).
    """
    s = text.astype("string").str.strip()
    empty = (s.isna() | s.eq("")).fillna(True).astype(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    order = "ymd"
    todo = ~empty
    # ISO first
    iso = todo & s.str.match(_ISO_RX + "|" + _ISO_RX[:-1] + r"\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$").fillna(False)
    if iso.any():
        t = s[iso].str.replace(_TZ_RX, "", regex=True).str.replace(r"[/.]", "-", regex=True)
        out[iso] = pd.to_datetime(t, format="ISO8601", errors="coerce").astype("datetime64[ns]")
        todo &= ~iso
    # day/month/year or month/day/year
    if todo.any():
        ex = s[todo].str.extract(_DMY_RX)
        hit = ex["a"].notna().astype(bool)
        if hit.any():
            a = _num(ex["a"])
            b = _num(ex["b"])
            if date_format in ("dmy", "mdy"):
                order = date_format
            elif (a[hit] > 12).any():
                order = "dmy"
            elif (b[hit] > 12).any():
                order = "mdy"
            else:
                sep = ex.loc[hit, "sep"].mode().iloc[0]
                order = "mdy" if sep == "/" else "dmy"
            y = _num(ex["y"])
            y = y.where(y >= 100, np.where(y < 70, 2000 + y, 1900 + y))
            day, month = (a, b) if order == "dmy" else (b, a)
            hh = _num(ex["H"]).fillna(0)
            pm = ex["ampm"].str.lower().eq("pm").fillna(False)
            am = ex["ampm"].str.lower().eq("am").fillna(False)
            hh = hh.where(~(pm & (hh < 12)), hh + 12).where(~(am & (hh == 12)), 0)
            vals = _from_parts(y, month, day, hh, _num(ex["M"]).fillna(0), _num(ex["S"]).fillna(0))
            idx = vals.index[hit.to_numpy()]
            out[idx] = vals[idx]
            todo[idx] = False
    # Excel serial numbers
    if todo.any():
        num = _num(s[todo])
        serial = num.between(_SERIAL_MIN, _SERIAL_MAX)
        if serial.any():
            idx = serial.index[serial.to_numpy()]
            out[idx] = (pd.Timestamp("1899-12-30") + pd.to_timedelta(num[idx], unit="D")).dt.round("s")
            todo[idx] = False
    # last resort, on the few leftovers only (e.g. "1 Dec 2010", "Dec 1, 2010 7:45 AM")
    if todo.any():
        rest = s[todo]
        if rest.str.contains(r"[A-Za-z]{3}", regex=True).any():
            try:
                parsed = pd.to_datetime(rest, format="mixed", dayfirst=(order == "dmy"), errors="coerce", utc=False)
            except (ValueError, TypeError):
                parsed = pd.Series(pd.NaT, index=rest.index)
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_localize(None)
            out[rest.index] = parsed.astype("datetime64[ns]")
    bad = (~empty & out.isna()).fillna(False).astype(bool)
    return out, bad, order
