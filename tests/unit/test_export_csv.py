"""CSV downloads per RFC 4180 with formula escaping (issue 13, finding 5): a value holding a bare carriage return
cannot start a new row whose first cell is a live formula; full-width and whitespace-led formulas are escaped.

Read back with Python's csv module (an RFC 4180 reader) and with pandas."""

from __future__ import annotations

import csv
import io

import pandas as pd

from dashboard.downloads import csv_bytes

ATTACK = "x\r=cmd|' /C calc'!A0"


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_bare_carriage_return_cannot_start_a_row():
    df = pd.DataFrame({"file": ["returns.csv", "returns.csv"], "row": [7, 8], "comment": [ATTACK, "ok"]})
    data = csv_bytes(df)
    rows = _rows(data)
    # before: '\n' line ends left "x\r=cmd..." unquoted; a spreadsheet split it into a row starting with =cmd
    assert rows == [["file", "row", "comment"], ["returns.csv", "7", ATTACK], ["returns.csv", "8", "ok"]]
    assert data.count(b"\r\n") == 3  # one CRLF per record, none inside the quoted field
    assert b'"' + ATTACK.encode() + b'"' in data  # the CR sits inside a quoted field
    assert pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")["comment"].tolist() == [ATTACK, "ok"]


def test_formula_variants_escaped_in_every_text_column():
    evil = ["=1+1", '\uff1dHYPERLINK("http://x")', " +1", "\uff20SUM(A1)", "\uff0d2", "plain"]
    df = pd.DataFrame(
        {
            "obj": pd.Series(evil, dtype=object),
            "str": pd.Series(evil, dtype="string"),
            "cat": pd.Series(evil, dtype="category"),
            "n": range(6),
        }
    )
    rows = _rows(csv_bytes(df))[1:]
    for col in range(3):
        got = [r[col] for r in rows]
        assert got == ["'" + v for v in evil[:5]] + ["plain"], col
    assert [r[3] for r in rows] == ["0", "1", "2", "3", "4", "5"]  # numbers untouched


def test_header_escaped():
    assert _rows(csv_bytes(pd.DataFrame({"\uff1dx": [1]})))[0] == ["'\uff1dx"]
