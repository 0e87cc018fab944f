"""Issue 13 item 7: property-based fuzzing of the readers and ingestion (hypothesis).

Generated exports: random encodings (utf-8, utf-8 with BOM, cp1252, UTF-16 with and without BOM), delimiters,
quoting styles, line ends, report-title lines above the header, blank and Total footer rows, mixed types and
missing cells, optionally gzipped; and xlsx workbooks with typed cells. Properties: read_table and load_dataset
either work or raise InputError (a plain message) - never another exception - and every loaded file reconciles:
rows_read == rows_loaded + rows_rejected.

`make test` runs a few hundred examples; RI_FUZZ_EXAMPLES=5000 runs a longer search (see README).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.errors import InputError
from data.ingest import SourceFile, load_dataset
from data.readers import read_table

EXAMPLES = int(os.environ.get("RI_FUZZ_EXAMPLES", "150"))
# the default run is the same every time (no flaky CI); a longer run (RI_FUZZ_EXAMPLES) explores new examples
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="RI_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# characters every generated encoding can hold (cp1252 is the narrowest), incl. the delimiters, quotes and € ü ß
ALPHABET = st.characters(codec="cp1252", exclude_categories=("Cc", "Cs"))
TEXT = st.text(ALPHABET, max_size=12)
DATES = st.dates(min_value=date(2019, 1, 1), max_value=date(2025, 12, 31))


def _date_text(d: date, style: int) -> str:
    return [
        d.isoformat(),
        d.strftime("%d/%m/%Y"),
        d.strftime("%m/%d/%Y %H:%M"),
        d.strftime("%d.%m.%Y"),
        d.strftime("%Y%m%d"),
    ][style]


CELL = {  # per column kind: mostly plausible values, sometimes missing, junk or of the wrong type
    "id": st.one_of(st.integers(1, 10**7).map(str), st.from_regex(r"[A-Z]{0,3}-?[0-9]{1,6}", fullmatch=True)),
    "date": st.builds(_date_text, DATES, st.integers(0, 4)),
    "sku": st.from_regex(r"[A-Z0-9]{1,6}(-[A-Z0-9]{1,3})?", fullmatch=True),
    "qty": st.one_of(st.integers(-5, 50).map(str), st.just("1.0"), st.just("2,5")),
    "price": st.one_of(
        st.floats(-100, 1000, allow_nan=False).map(lambda x: f"{x:.2f}"),
        st.floats(0, 1000, allow_nan=False).map(lambda x: f"€{x:,.2f}"),
        st.floats(0, 1000, allow_nan=False).map(lambda x: f"{x:.2f}".replace(".", ",")),
    ),
    "text": TEXT,
}
ORDERS = (
    ("Order ID", "id"),
    ("Order Date", "date"),
    ("SKU", "sku"),
    ("Quantity", "qty"),
    ("Price", "price"),
    ("Note", "text"),
)
RETURNS = (("Order ID", "id"), ("Return Date", "date"), ("SKU", "sku"), ("Quantity", "qty"), ("Reason", "text"))


@st.composite
def cell(draw, kind: str) -> str:
    return draw(st.one_of(CELL[kind], CELL[kind], CELL[kind], st.just(""), TEXT))  # ~1/5 missing or junk


@st.composite
def export(draw, columns) -> tuple[str, bytes]:
    """One export file: (name, bytes)."""
    cols = list(draw(st.permutations(columns)))
    cols = cols[: draw(st.integers(max(1, len(cols) - 2), len(cols)))]  # sometimes a column is missing
    n = draw(st.integers(0, 25))
    rows = [[draw(cell(kind)) for _, kind in cols] for _ in range(n)]
    for _ in range(draw(st.integers(0, 2))):  # missing trailing cells (ragged rows)
        if rows:
            r = rows[draw(st.integers(0, len(rows) - 1))]
            del r[draw(st.integers(0, len(r))) :]
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    buf = io.StringIO()
    for _ in range(draw(st.integers(0, 3))):  # report titles above the header
        buf.write(
            draw(st.sampled_from(["Sales report", "Generated on 2024-05-01", "", "Shop: Demo; all channels"])) + eol
        )
    w = csv.writer(buf, delimiter=delim, quoting=quoting, lineterminator=eol)
    w.writerow([name for name, _ in cols])
    w.writerows(rows)
    for _ in range(draw(st.integers(0, 2))):  # footers: blank lines, Total rows
        w.writerow(draw(st.sampled_from([[], ["Total", "", "123"], ["Grand total"] + [""] * (len(cols) - 1)])))
    if draw(st.booleans()) and draw(st.booleans()):  # junk line in the body or at the end
        buf.write(draw(TEXT) + eol)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "utf-16-be"]))
    data = buf.getvalue().encode(encoding)
    name = "export." + draw(st.sampled_from(["csv", "txt", "tsv"]))
    if draw(st.integers(0, 9)) == 0:
        data, name = gzip.compress(data), name + ".gz"
    return name, data


@FUZZ
@given(export(ORDERS))
def test_read_table_never_crashes(file):
    name, data = file
    try:
        raw = read_table(name, data)
    except InputError:
        return
    assert len(raw.footer) == len(raw.frame)
    assert all(str(dt) == "string" for dt in raw.frame.dtypes)


@FUZZ
@given(export(ORDERS), st.one_of(st.none(), export(RETURNS)))
def test_load_dataset_never_crashes_and_reconciles(orders, returns):
    files = [SourceFile("orders_" + orders[0], orders[1], "orders")]
    if returns is not None:
        files.append(SourceFile("returns_" + returns[0], returns[1], "returns"))
    try:
        ds = load_dataset(files, today=date(2026, 1, 1))
    except InputError as exc:
        assert exc.problems and all(p.title and p.fix for p in exc.problems)
        # "File cannot be read" is load_dataset's catch-all for an exception the readers did not turn into a message
        assert not [p for p in exc.problems if p.title == "File cannot be read"], exc
        return
    assert ds.files
    for f in ds.files:
        assert f.rows_read == f.rows_loaded + f.rows_rejected, f


XLSX_CELL = st.one_of(
    TEXT,
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.booleans(),
    st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2030, 12, 31)),
    st.none(),
)


@st.composite
def workbook(draw) -> bytes:
    """An xlsx with a title row or not, the orders header, typed cells (numbers, dates, booleans, blanks, text)."""
    import xlsxwriter

    cols = list(draw(st.permutations(ORDERS)))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(draw(st.sampled_from(["Sheet1", "Orders", "Export 2024"])))
    fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    r = 0
    if draw(st.booleans()):
        ws.write_string(0, 0, "Orders report")
        r = 2
    ws.write_row(r, 0, [name for name, _ in cols])
    for i in range(draw(st.integers(0, 15))):
        for j, (_, kind) in enumerate(cols):
            v = draw(st.one_of(CELL[kind], XLSX_CELL))
            if isinstance(v, datetime):
                ws.write_datetime(r + 1 + i, j, v, fmt)
            elif v is not None:
                ws.write(r + 1 + i, j, v)
    wb.close()
    return buf.getvalue()


@settings(FUZZ, max_examples=max(EXAMPLES // 4, 10))
@given(workbook())
def test_xlsx_never_crashes_and_reconciles(content):
    try:
        ds = load_dataset([SourceFile("orders.xlsx", content, "orders")], today=date(2026, 1, 1))
    except InputError as exc:
        assert exc.problems and not [p for p in exc.problems if p.title == "File cannot be read"], exc
        return
    for f in ds.files:
        assert f.rows_read == f.rows_loaded + f.rows_rejected, f
