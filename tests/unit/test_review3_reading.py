"""Review 3: files people actually have, read end to end (found by generating small messy exports)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from analysis.cli import main
from analysis.concentration import concentration_sentences
from analysis.prepare import prepare
from data.errors import InputError
from data.ingest import SourceFile, load_dataset

CSV_ORDERS_ONLY = (
    "Order ID,Order Date,SKU,Qty,Price\n"
    "1001,2024-01-02,A,1,10\n1002,2024-01-03,B,2,10\n1003,2024-01-04,C,1,10\n"
    "1004,2024-01-05,A,2,10\n1005,2024-01-06,B,1,10\n1006,2024-01-07,C,2,10\n"
)


def test_orders_only_concentration_does_not_state_a_zero_return_rate():
    """An orders export alone: return rates are not known. Seen: 'Two orders (#1002, #1004; 4 units sold) are 44%
    of all units sold: 4 of 9. Without them the unit return rate is 0.0%, not 0.0%' - a 0% rate nobody measured."""
    ds = load_dataset([SourceFile("orders.csv", CSV_ORDERS_ONLY.encode(), "orders")])
    sentences = concentration_sentences(prepare(ds))
    assert sentences, "the units-sold finding itself is still said"
    assert all("return rate" not in s for s in sentences), sentences


def _book(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    b = io.BytesIO()
    wb.save(b)
    return b.getvalue()


ORDERS_ROWS: list[list[object]] = [["Order ID", "Order Date", "SKU", "Qty", "Price"]] + [
    [1001 + i, dt.date(2024, 1, 2 + i), "ABC", 1, 10.0] for i in range(6)
]
RETURNS_ROWS: list[list[object]] = [
    ["Order ID", "Return Date", "SKU", "Qty", "Reason"],
    [1001, dt.date(2024, 1, 20), "ABC", 1, "Too small"],
    [1003, dt.date(2024, 1, 21), "ABC", 1, "Damaged"],
]


def test_cli_says_a_workbook_sheet_of_another_role_was_not_read(tmp_path, capsys):
    """One workbook with an Orders and a Returns sheet, given as --orders only. Seen: the Returns sheet (2 return
    lines) was passed over in silence and the report said 'no returns are loaded. Add the returns export'."""
    book = tmp_path / "export.xlsx"
    book.write_bytes(_book({"Orders": ORDERS_ROWS, "Returns": RETURNS_ROWS}))
    assert main(["report", "--orders", str(book)]) == 0
    out = capsys.readouterr().out
    assert "sheet 'Returns'" in out and "--returns" in out, out
    # given both ways, nothing is said: every sheet is read
    assert main(["report", "--orders", str(book), "--returns", str(book)]) == 0
    assert "not read" not in capsys.readouterr().out


def _load(orders: str, returns: str):
    return load_dataset(
        [SourceFile("orders.csv", orders.encode(), "orders"), SourceFile("returns.csv", returns.encode(), "returns")]
    )


def test_order_numbers_excel_made_decimal_match_the_orders():
    """Orders '#1001' (Shopify), returns '1001.0' (an id column Excel turned into a number, saved as CSV). Seen: both
    return lines rejected as 'Returns for unknown orders' (loaded 0 of 2); they are orders #1001 and #1002."""
    ds = _load(
        "Order ID,Order Date,SKU,Qty,Price\n#1001,2024-01-02,A,1,10\n#1002,2024-01-03,B,1,10\n",
        "Order ID,Return Date,SKU,Qty\n1001.0,2024-01-10,A,1\n1002.0,2024-01-11,B,1\n",
    )
    rets = next(f for f in ds.files if f.role == "returns")
    assert (rets.rows_read, rets.rows_loaded, rets.rows_rejected) == (2, 2, 0)
    assert sorted(ds.returns["order_id"].astype(str)) == ["#1001", "#1002"]


def test_skus_whose_leading_zeros_were_lost_match_their_order_line():
    """Orders SKU '00123' (an ERP's text), returns SKU '123' (the same column opened in Excel). Seen: the return
    rejected as 'Returned SKU not in its order' (loaded 0 of 1)."""
    ds = _load(
        "Order ID,Order Date,SKU,Qty,Price\n1001,2024-01-02,00123,1,10\n1001,2024-01-02,00456,1,10\n",
        "Order ID,Return Date,SKU,Qty\n1001,2024-01-10,123,1\n",
    )
    rets = next(f for f in ds.files if f.role == "returns")
    assert (rets.rows_read, rets.rows_loaded, rets.rows_rejected) == (1, 1, 0)
    assert list(ds.returns["sku"].astype(str)) == ["00123"]


def test_concatenated_export_repeated_header_and_page_footer_are_not_data_errors():
    """Two exports pasted together (the header line again in the middle) ending in a 'Page 1 of 3' line. Seen: the
    header line rejected as 'Unreadable date in 'Order Date'' (with 'Unreadable number in Qty/Price' beside it) and
    the page line as 'Missing values in Order Date / SKU': five data-error problems for two lines that are not data.
    Both are now set apart as the footer rows are (rows read 5 = 3 loaded + 2 set apart), with no problem raised."""
    text = (
        '\ufeffOrder ID,Order Date,SKU,Qty,Price,,\n1001,2024-01-02,A,1,10,,\n1002,2024-01-03,B,2,"1,234.50",,\n'
        "Order ID,Order Date,SKU,Qty,Price,,\n1003,2024-01-04,A,1,10,,\nPage 1 of 3,,,,,,\n"
    )
    ds = load_dataset([SourceFile("orders.csv", text.encode(), "orders")])
    (f,) = ds.files
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (5, 3, 2)
    assert not f.problems, [p.title for p in f.problems]
    assert sorted(ds.orders["unit_price"].tolist()) == [10.0, 10.0, 1234.5]
    assert ds.rejected["row"].tolist() == [3, 5]


def test_a_file_whose_dates_could_be_either_way_follows_the_day_order_another_file_shows():
    """Orders in day/month/year ('25/01/2024' shows it), returns whose days are all 12 or less ('10/01/2024').
    Seen: the returns read month/day/year on their own - returned 2024-10-01 and 2024-11-02, nine months after
    orders of January and February; now 2024-01-10 and 2024-02-11, and the note says why."""
    ds = _load(
        "Order ID,Order Date,SKU,Qty,Price\n1001,02/01/2024,A,1,10\n1002,25/01/2024,B,1,10\n1003,03/02/2024,A,1,10\n",
        "Order ID,Return Date,SKU,Qty\n1001,10/01/2024,A,1\n1003,11/02/2024,A,1\n",
    )
    assert [str(d.date()) for d in ds.returns.sort_values("order_id")["return_date"]] == ["2024-01-10", "2024-02-11"]
    rets = next(f for f in ds.files if f.role == "returns")
    assert any("day/month/year" in n and "Order Date" in n for n in rets.notes), rets.notes
    assert not any(n.startswith("'Return Date' read as month/day/year") for n in rets.notes), rets.notes


def test_dates_shown_month_first_elsewhere_are_not_changed():
    """US orders ('01/25/2024' shows month/day/year) beside returns that could be either: both month/day/year."""
    ds = _load(
        "Order ID,Order Date,SKU,Qty,Price\n1001,01/02/2024,A,1,10\n1002,01/25/2024,B,1,10\n",
        "Order ID,Return Date,SKU,Qty\n1001,01/10/2024,A,1\n",
    )
    assert str(ds.returns["return_date"].iloc[0].date()) == "2024-01-10"


def test_workbook_header_on_two_rows_under_merged_group_cells():
    """A report workbook: merged group cells 'Order' (A1:B1) and 'Product' (C1:E1) above the header 'ID, Date, SKU,
    Qty, Price'. Seen: the group row taken as the header, 'Missing required column order_date', nothing loaded; now
    the header is the two rows together ('Order ID', 'Order Date', 'Product SKU' ...) and all 4 orders load."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Order", None, "Product", None, None])
    ws.merge_cells("A1:B1")
    ws.merge_cells("C1:E1")
    ws.append(["ID", "Date", "SKU", "Qty", "Price"])
    for i in range(4):
        ws.append([1001 + i, dt.date(2024, 1, 2 + i), "A", 1, 10.0])
    b = io.BytesIO()
    wb.save(b)
    ds = load_dataset([SourceFile("report.xlsx", b.getvalue(), "orders")])
    (f,) = ds.files
    assert (f.rows_read, f.rows_loaded) == (4, 4)
    assert f.mapping["order_id"] == "Order ID" and f.mapping["order_date"] == "Order Date"
    assert sorted(ds.orders["order_id"].astype(str)) == ["1001", "1002", "1003", "1004"]


def test_a_header_with_a_blank_cell_above_text_data_stays_the_header():
    """Numbers stored as text under a header with one blank cell: the first data row is not taken as a header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Order ID", "Order Date", None, "SKU", "Qty"])
    ws.append(["A1001", "2024-01-02", "x", "SKU-A", "1"])
    ws.append(["A1002", "2024-01-03", "y", "SKU-B", "2"])
    b = io.BytesIO()
    wb.save(b)
    ds = load_dataset([SourceFile("o.xlsx", b.getvalue(), "orders")])
    assert ds.files[0].rows_loaded == 2


def test_a_trailing_delimiter_on_every_data_line_loads():
    """Data lines ending in a delimiter the header line has not ('1001,2024-01-02,A,1,10,'). Seen: the first column
    taken as an index, every column shifted one to the left, 'Unreadable date in Order Date: row 1: "A"', nothing
    loaded (0 of 2); now 2 of 2 with their own values."""
    text = "Order ID,Order Date,SKU,Qty,Price\n1001,2024-01-02,A,1,10,\n1002,2024-01-03,B,2,15,\n"
    ds = load_dataset([SourceFile("o.csv", text.encode(), "orders")])
    assert ds.files[0].rows_loaded == 2
    assert ds.orders["order_id"].astype(str).tolist() == ["1001", "1002"]
    assert ds.orders["unit_price"].tolist() == [10.0, 15.0]


def test_an_unquoted_comma_in_a_cell_is_said_not_read_wrong():
    """'£1,234.50' without quotes gives its line one cell more than the header. Seen: with it on the first line,
    every line shifted ('Unreadable date: row 2: "B"', 0 of 3 loaded); on a later line, the cell cut to '£1' (a
    price of 1, said nowhere). Now loading stops with the line and the fix."""
    for lines in (
        ["1001,2024-01-02,A,1,£1,234.50", "1002,2024-01-03,B,2,£15.00"],
        ["1002,2024-01-03,B,2,£15.00", "1001,2024-01-02,A,1,£1,234.50"],
    ):
        text = "Order ID,Order Date,SKU,Qty,Price\n" + "\n".join(lines + ["1003,2024-01-04,B,2,£15.00"]) + "\n"
        with pytest.raises(InputError) as err:
            load_dataset([SourceFile("o.csv", text.encode(), "orders")])
        (p,) = err.value.problems
        assert p.file == "o.csv" and "more cells than the header" in p.title
        assert any("£1,234.50" in e for e in p.examples), p.examples
        assert "quote" in p.fix.lower()
