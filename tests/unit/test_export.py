"""Exports: xlsx read back with openpyxl, CSV with the csv module, JSON with json; formula injection escaped."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pandas as pd
import pytest

from analysis.engine import Settings, analyse
from analysis.export import escape_cell, fixlist_csv, fixlist_xlsx, to_json
from analysis.prepare import prepare
from tests.unit.test_metrics import make_dataset
from tests.unit.test_segments import synth

EVIL = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def analysis():
    o, r = synth(11, 5000, {EVIL: 0.35, "Plain": 0.10, "-2+3": 0.10, "@SUM(A1)": 0.11}, max_lines=2)
    r = r.assign(comment=["+cmd|' /C calc'!A0" if i % 2 else "runs small" for i in range(len(r))])
    return analyse(prepare(make_dataset(o, r), window_days=30), Settings(cost_per_return=20.0), briefs=False)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("safe", "safe"),
        ("a=b", "a=b"),
        (3.5, 3.5),
        (None, None),
        # full-width forms (U+FF1D U+FF0B U+FF0D U+FF20) and leading whitespace: spreadsheet apps normalise them
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20x", "'\uff20x"),
        (" =1+1", "' =1+1"),
        ("\u00a0\u3000+1", "'\u00a0\u3000+1"),
        ("\nx", "'\nx"),
        ("  safe", "  safe"),
    ],
)
def test_escape_cell_owasp_triggers(value, expected):
    assert escape_cell(value) == expected


def test_xlsx_round_trip_and_escaping(analysis):
    assert EVIL in set(analysis.fix_list["segment"])  # 35% vs ~10%: it must be on the fix list
    data = fixlist_xlsx(
        analysis,
        extra_sheets={"Reasons": pd.DataFrame({"reason": [EVIL, "\uff1dcmd", " +1"], "share": [0.5, 0.2, 0.1]})},
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:4] == ["Fix list", "Summary", "Segments", "Method"] and "Reasons" in wb.sheetnames
    ws = wb["Fix list"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Rank", "Dimension", "Segment"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref is not None
    assert ws.max_row == len(analysis.fix_list) + 1
    rate_col = header.index("Return rate") + 1
    assert ws.cell(2, rate_col).number_format == "0.0%"
    assert ws.cell(2, rate_col).value == pytest.approx(analysis.fix_list["return_rate"].iloc[0])
    texts = []
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", f"formula in {sheet.title}!{c.coordinate}"
                if isinstance(c.value, str):
                    texts.append(c.value)
    # text stays as typed (no visible apostrophe); formula-like text is a string cell with Excel's quote prefix
    assert EVIL in texts and "'" + EVIL not in texts
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.lstrip().startswith(("=", "+", "-", "@", "\uff1d")):
                    assert c.data_type == "s" and c.quotePrefix, f"{sheet.title}!{c.coordinate} {c.value!r}"
                elif isinstance(c.value, str) and c.value:
                    assert not c.quotePrefix, f"{sheet.title}!{c.coordinate} {c.value!r}"
    seg_sheet = wb["Segments"]
    assert seg_sheet.max_row == len(analysis.segments) + 1
    summary = {r[0].value: r[1].value for r in wb["Summary"].iter_rows(min_row=2)}
    # review (demo orders.xlsx + FBA returns, CLI --out): the Summary sheet showed the raw keys 'date_from' and
    # 'date_to' with no definition, and 'Cost per returned unit' twice
    labels = [r[0].value for r in wb["Summary"].iter_rows(min_row=2)]
    assert "date_from" not in labels and "date_to" not in labels
    assert summary["First order date (mature orders)"] == analysis.totals["date_from"]
    assert labels.count("Cost per returned unit") == 1
    assert summary["Units sold (mature orders)"] == analysis.totals["units_sold"]


def test_csv_escaped_and_complete(analysis):
    text = fixlist_csv(analysis).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(analysis.fix_list)
    segs = [r["Segment"] for r in rows]
    assert "'" + EVIL in segs and EVIL not in segs
    for r in rows:
        for v in r.values():
            assert not v.startswith(("=", "+", "@")), v
    assert float(rows[0]["Return rate"]) == pytest.approx(analysis.fix_list["return_rate"].iloc[0])
    # the rank is a whole number, as in the workbook (review: the CLI's --out fixlist.csv wrote 1.0, 2.0, ...)
    assert [r["Rank"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]


def test_json_matches_spec(analysis):
    d = json.loads(to_json(analysis))
    for k in (
        "orders",
        "order_lines",
        "units_sold",
        "units_returned",
        "unit_return_rate",
        "order_return_rate",
        "returned_value",
        "refund_share",
        "exchange_share",
        "unmatched_returns",
        "rejected_rows",
        "immature_orders_excluded",
    ):
        assert k in d["totals"], k
    seg_keys = {
        "dimension",
        "segment",
        "basis",
        "n",
        "returned",
        "return_rate",
        "baseline_rate",
        "ci_low",
        "ci_high",
        "p_value",
        "q_value",
        "significant",
        "direction",
        "shrunk_rate",
        "excess_returns",
        "excess_cost",
        "priority_score",
        "top_reason",
    }
    assert d["segments"] and all(seg_keys <= set(s) for s in d["segments"])
    assert {s["basis"] for s in d["segments"]} <= {"units", "orders"}
    assert {s["direction"] for s in d["segments"]} <= {"higher", "lower", None}
    fix_keys = {
        "rank",
        "dimension",
        "segment",
        "return_rate",
        "baseline_rate",
        "excess_returns",
        "excess_cost",
        "q_value",
        "why",
        "suggested_action",
    }
    assert d["fix_list"] and all(fix_keys <= set(f) for f in d["fix_list"])
    assert d["fix_list"][0]["segment"] == EVIL  # JSON is data, not a spreadsheet: not escaped
    assert "NaN" not in to_json(analysis)
