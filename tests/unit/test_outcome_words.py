"""The workbook's Summary sheet read "Outcome analysed: line_return", the code's key; and a returns file whose reason
column is headed "Why" was not mapped (its reasons were lost unless mapped by hand). Found by the review of
stop 25 on the demo exports with renamed headers."""

from __future__ import annotations

import pandas as pd

from analysis.metrics import format_value
from data.mapping import suggest_mapping


def test_the_outcome_is_said_in_words():
    assert format_value("outcome", "line_return") == "returned units (a returns file or credit notes)"
    assert format_value("outcome", "order_refund").startswith("orders with a customer refund")


def test_a_why_header_is_the_return_reason():
    frame = pd.DataFrame(
        {
            "Order #": ["1001", "1002", "1003"],
            "SKU": ["A-1", "B-2", "C-3"],
            "Qty": [1, 1, 2],
            "Why": ["Too small", "Changed my mind", "Arrived damaged"],
        }
    )
    m = suggest_mapping(frame, "returns")
    assert m.get("reason") == "Why", m


def test_the_workbook_says_the_outcome_and_unmatched_returns_in_words(tmp_path):
    from openpyxl import load_workbook

    from analysis.engine import analyse
    from analysis.export import fixlist_xlsx
    from analysis.prepare import prepare
    from data.ingest import SourceFile, load_dataset
    from tests.unit.test_no_returns_loaded import ORDERS

    rets = pd.DataFrame({"Order Number": [f"X{i}" for i in range(5)], "SKU": ["A"] * 5, "Quantity": [1] * 5})
    ds = load_dataset(
        [
            SourceFile("ebay.csv", ORDERS.to_csv(index=False).encode(), "orders"),
            SourceFile("returns.csv", rets.to_csv(index=False).encode(), "returns"),
        ]
    )
    p = prepare(ds, window_days=30)
    out = tmp_path / "fix.xlsx"
    out.write_bytes(fixlist_xlsx(analyse(p, briefs=False)))
    rows = {r[0]: r[1] for r in load_workbook(out)["Summary"].iter_rows(values_only=True) if r[0]}
    assert rows["Outcome analysed"] == "returned units (a returns file or credit notes)"
    assert rows["Return lines matching no order"] == 5
    assert "returns_matching_nothing" not in rows and "line_return" not in rows.values()
