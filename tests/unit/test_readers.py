"""Reader paths: encodings, delimiters, decimal comma, preamble/footer, xlsx sheets, date and number formats.

Expected values are written by hand from the fixture text (each fixture is built in the test)."""

import gzip
import io

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from data.readers import parse_dates, parse_numbers, read_table

CSV = "order,date,sku,price\n1,2024-01-05,A,£12.50\n2,2024-01-06,Bé,3\n"


@pytest.mark.parametrize("encoding,prefix", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")])
def test_encodings_round_trip(encoding, prefix):
    t = read_table("x.csv", prefix + CSV.encode(encoding))
    assert list(t.frame.columns) == ["order", "date", "sku", "price"]
    assert t.frame["sku"].tolist() == ["A", "Bé"]
    assert t.encoding == ("utf-8-sig" if prefix else encoding)


def test_gzip_is_decompressed():
    t = read_table("x.csv.gz", gzip.compress(CSV.encode()))
    assert len(t.frame) == 2 and t.frame["price"].tolist() == ["£12.50", "3"]


def test_semicolon_decimal_comma_preamble_and_footer():
    text = (
        "Report generated 2024-02-01 by ShopSystem\n\n"
        "Bestellnummer;Datum;Artikel;Menge;Preis\n"
        "1001;31.01.2024;A;1;1.234,50\n1002;01.02.2024;B;2;12,99\n"
        "Gesamt;;;3;1.260,48\n;;;;\n"
    )
    t = read_table("de.csv", text.encode("cp1252"))
    assert t.delimiter == ";" and t.header_row == 2
    assert len(t.frame) == 4
    assert t.footer.tolist() == [False, False, True, True]
    values, bad, dec = parse_numbers(t.frame["Preis"][~t.footer], hint=t.decimal_hint)
    assert dec == "," and values.tolist() == [1234.5, 12.99] and not bad.any()


@pytest.mark.parametrize("delim", ["\t", "|", ";", ","])
def test_delimiters(delim):
    t = read_table("x.txt", delim.join(["a", "b", "c"]).encode() + b"\n" + delim.join(["1", "2", "3"]).encode() + b"\n")
    assert t.delimiter == delim and t.frame.iloc[0].tolist() == ["1", "2", "3"]


def _xlsx(sheets: dict) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, pd.Timestamp):
                    ws.write_datetime(r, c, v.to_pydatetime(), date_fmt)
                elif v is not None:
                    ws.write(r, c, v)
    wb.close()
    return buf.getvalue()


def test_xlsx_two_sheets_default_first_nonempty_and_pick():
    content = _xlsx(
        {
            "Empty": [],
            "Orders": [["Order", "Date", "Qty"], [1001, pd.Timestamp("2024-03-01"), 2.0]],
            "Returns": [["Order", "Reason"], [1001, "too small"]],
        }
    )
    t = read_table("book.xlsx", content)
    assert t.sheets == ("Empty", "Orders", "Returns") and t.sheet == "Orders"
    # integral floats lose ".0" (order ids), datetimes become ISO text
    assert t.frame.iloc[0].tolist() == ["1001", "2024-03-01 00:00:00", "2"]
    r = read_table("book.xlsx", content, sheet="Returns")
    assert r.frame["Reason"].tolist() == ["too small"]


@pytest.mark.parametrize(
    "values,fmt,expected,order",
    [
        (["2024-03-31", "2024-04-01T10:15:00+02:00"], "auto", ["2024-03-31", "2024-04-01 10:15"], "ymd"),
        (["03/31/2024", "04/01/2024 1:30 PM"], "auto", ["2024-03-31", "2024-04-01 13:30"], "mdy"),
        (["31-03-2024", "01-04-2024"], "auto", ["2024-03-31", "2024-04-01"], "dmy"),
        (["31.03.2024 08:00", "01.04.24"], "auto", ["2024-03-31 08:00", "2024-04-01"], "dmy"),
        (["31/03/2024", "01/04/2024"], "auto", ["2024-03-31", "2024-04-01"], "dmy"),
        (["01/04/2024"], "dmy", ["2024-04-01"], "dmy"),  # ambiguous: the setting decides
        (["01/04/2024"], "auto", ["2024-01-04"], "mdy"),  # ambiguous with '/': month-first (US export)
        (["45382", "45383.5"], "auto", ["2024-03-31", "2024-04-01 12:00"], "ymd"),  # Excel serials (1899-12-30 origin)
    ],
)
def test_date_formats(values, fmt, expected, order):
    got, bad, used = parse_dates(pd.Series(values, dtype="string"), fmt)
    assert not bad.any()
    assert got.tolist() == [pd.Timestamp(e) for e in expected]
    assert used == order


def test_bad_and_empty_dates():
    got, bad, _ = parse_dates(pd.Series(["2024-02-30", "", "soon", "2024-02-01"], dtype="string"))
    assert bad.tolist() == [True, False, True, False]
    assert got.isna().tolist() == [True, True, True, False]


@pytest.mark.parametrize(
    "text,expected",
    [
        (["$1,234.50", "(12.00)", "EUR 3", "7-"], [1234.5, -12.0, 3.0, -7.0]),
        (["1.234,50 €", "12,5", "1 000,00"], [1234.5, 12.5, 1000.0]),
        (["1'234.50", "GBP 2"], [1234.5, 2.0]),
    ],
)
def test_numbers(text, expected):
    values, bad, _ = parse_numbers(pd.Series(text, dtype="string"))
    assert values.tolist() == pytest.approx(expected) and not bad.any()


def test_number_bad_values_flagged_empty_not():
    values, bad, _ = parse_numbers(pd.Series(["1", "", "abc"] * 400, dtype="string"))  # > uniques path
    assert bad.tolist() == [False, False, True] * 400
    assert np.isnan(values.iloc[1]) and values.iloc[0] == 1.0


def test_repeated_marks_are_thousands_separators_in_any_decimal_convention():
    # 1,000,000,000 in a decimal-comma column and 1.000.000 in a decimal-dot column (found in review)
    v, bad, used = parse_numbers(pd.Series(["1,000,000,000", "12,5", "1.234,50"]), "auto")
    assert used == "," and v.tolist() == [1_000_000_000.0, 12.5, 1234.5] and not bad.any()
    v, bad, used = parse_numbers(pd.Series(["1.000.000", "2.5", "1,234.5"]), "auto")
    assert used == "." and v.tolist() == [1_000_000.0, 2.5, 1234.5] and not bad.any()
