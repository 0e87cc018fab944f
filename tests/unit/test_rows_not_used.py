"""The CLI and the workbook say which rows were not used and why, and count unmatched returns once.

On the real Online Retail II export the CLI printed 'Rows not used 14,536 (of which unmatched returns 1,846)' and
the workbook's Summary 'Returns matching no purchase 1,846 - not in any rate'. But 1,638 credit-note lines match
no purchase (the load report's own figure); the other 208 matched a purchase in part (returned more units than it
sold): they are loaded, their matched units are in the rates, and they are not among the 14,536. And the 14,536
were given without a word of what they are (6,544 exact duplicates, 3,445 stock write-offs, 2,909 non-merchandise
lines, 1,638 unmatched credit notes).
"""

from __future__ import annotations

import json

import pytest

from analysis import cli
from tests.conftest import REAL_DATA

HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"


def _transactions() -> str:
    rows = [HEADER]
    for i in range(60):  # 60 ordinary invoices, Jan-Feb 2024, one customer each
        day = 1 + i % 28
        month = 1 + i // 30
        rows.append(f"{1000 + i},A{i % 3},MUG {i % 3},2,2024-{month:02d}-{day:02d} 10:00,2.50,{500 + i},United Kingdom")
    rows.append("1000,A0,MUG 0,2,2024-01-01 10:00,2.50,500,United Kingdom")  # exact duplicate of the first line
    rows.append("1001,POST,POSTAGE,1,2024-01-02 10:00,18.00,501,United Kingdom")  # not merchandise
    rows.append("1002,A2,damages,-7,2024-01-03 11:00,0.00,,United Kingdom")  # stock write-off
    rows.append("C2000,A1,MUG 1,-5,2024-01-20 10:00,2.50,501,United Kingdom")  # bought 2: matched in part
    rows.append("C2001,A2,MUG 2,-1,2024-01-21 10:00,2.50,999,United Kingdom")  # customer 999 bought nothing
    rows.append("C2002,A0,MUG 0,-1,2024-01-22 10:00,2.50,503,United Kingdom")  # customer 503 bought A0: matched
    for i in range(5):  # recent invoices so that the return window closes before the data ends
        rows.append(f"{3000 + i},A0,MUG 0,1,2024-06-{10 + i} 10:00,2.50,{800 + i},United Kingdom")
    return "\n".join(rows) + "\n"


def test_rows_not_used_are_listed_by_kind_and_unmatched_counts_only_rows_matching_nothing(tmp_path, capsys):
    f = tmp_path / "erp.csv"
    f.write_text(_transactions())
    js = tmp_path / "s.json"
    assert cli.main(["report", "--transactions", str(f), "--json", str(js), "--window-days", "30"]) == 0
    out = capsys.readouterr().out
    # by hand from the rows written above: 1 duplicate, 1 postage line, 1 write-off, 1 credit note matching nothing
    # (largest first, ties in the order of their kind's name)
    assert (
        "Rows not used 4: 1 exact duplicate, 1 not merchandise, 1 return matching no purchase, 1 stock write-off;"
        in (out)
    ), out
    t = json.loads(js.read_text())["totals"]
    assert t["rejected_rows"] == 4
    assert t["unmatched_returns"] == 1  # C2001; C2000 matched 2 of its 5 units and is loaded
    assert "of which unmatched" not in out


def test_the_real_export_counts_1638_unmatched_credit_note_lines(tmp_path, capsys):
    if not REAL_DATA.exists():
        pytest.skip(f"real export not found at {REAL_DATA}")
    js = tmp_path / "s.json"
    assert cli.main(["report", "--transactions", str(REAL_DATA), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    # the load report's counts of the real file (data.model.FileReport.rejected_by_kind; README of the shared data:
    # about 6.9k duplicate lines, 2,121 + write-offs, ...): 6,544 + 3,445 + 2,909 + 1,638 = 14,536
    assert (
        "Rows not used 14,536: 6,544 exact duplicates, 3,445 stock write-offs, 2,909 not merchandise, "
        "1,638 returns matching no purchase" in out
    ), out
    assert json.loads(js.read_text())["totals"]["unmatched_returns"] == 1638
