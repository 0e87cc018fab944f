"""Returns-app exports load with no mapping beside an orders file; multi-product cells become lines and
every file still reconciles (rows read = loaded + rejected). Headers are modelled on each app's export
(ParcelWILL's documented 'Product info' / 'Product SKU' cells; the others one row per item); expected
values by hand from the files below."""

import json

import pandas as pd
import pytest

from data.ingest import SourceFile, inspect_file, load_dataset
from data.returns_apps import items_of, list_of
from tests.unit.test_cli import run

TODAY = pd.Timestamp("2024-06-01").date()
ORDERS = b"""Order ID,Order Date,SKU,Product,Qty,Price
1001,2024-03-01,NUKE-VEST-M,Men's Nuke Vest,1,120
1001,2024-03-01,TRAIL-SOCK-L,Trail Sock,2,15
1002,2024-03-02,NUKE-VEST-L,Men's Nuke Vest,1,120
1002,2024-03-02,NUKE-VEST-XL,Men's Nuke Vest,1,120
1003,2024-03-03,CAP-OS,Cap,1,25
1004,2024-03-03,CAP-OS,Cap,1,25
"""
PARCELWILL = """RMA,Order number,Customer email,Product info,Product SKU,Return reason,Customer note,Refund amount,Request date,Status
R001,1001,a@x.com,"x1 Men's Nuke Vest, x2 Trail Sock","NUKE-VEST-M, TRAIL-SOCK-L","Too small, Changed mind","Lovely, but small",150.00,2024-03-10,Refunded
R002,1002,b@x.com,x1 Men's Nuke Vest,NUKE-VEST-XL,Too large,,120.00,2024-03-11,Refunded
R003,9999,c@x.com,"x1 Cap, x1 Men's Nuke Vest","CAP-OS, NUKE-VEST-M",Other,,145.00,2024-03-12,Refunded
R004,1004,d@x.com,x1 Cap,CAP-OS,UNDELIVERABLE_REFUSED,,25.00,2024-03-12,Refunded
Total,,,,,,,440.00,,
""".encode()
APPS = {
    "loop": (
        b"Return ID,Order Name,Created At,Line Item SKU,Line Item Title,Return Reason,Parent Reason,Outcome,Refund Amount\n"
        b"L1,1001,2024-03-10,NUKE-VEST-M,Men's Nuke Vest,Too small,Fit,refund,120\n"
        b"L1,1001,2024-03-10,TRAIL-SOCK-L,Trail Sock,Changed mind,Other,exchange,0\n",
        {
            "order_id": "Order Name",
            "return_id": "Return ID",
            "return_date": "Created At",
            "sku": "Line Item SKU",
            "reason": "Return Reason",
            "resolution": "Outcome",
            "refund_amount": "Refund Amount",
        },
    ),
    "aftership": (
        b"RMA Number,Order Number,Return Created Date,Item SKU,Item Title,Return Quantity,Return Reason,"
        b"Resolution,Refund Amount\nA1,1001,2024-03-10,NUKE-VEST-M,Men's Nuke Vest,1,Too small,refund,120\n"
        b"A1,1001,2024-03-10,TRAIL-SOCK-L,Trail Sock,2,Changed mind,store credit,30\n",
        {
            "order_id": "Order Number",
            "return_id": "RMA Number",
            "return_date": "Return Created Date",
            "sku": "Item SKU",
            "quantity": "Return Quantity",
            "reason": "Return Reason",
            "resolution": "Resolution",
            "refund_amount": "Refund Amount",
        },
    ),
    "returngo": (
        b"RMA ID,Order Name,Product SKU,Product Name,Quantity,Return Reason,Resolution Type,Created Date\n"
        b"G1,1001,NUKE-VEST-M,Men's Nuke Vest,1,Too small,Refund,2024-03-10\n"
        b"G1,1001,TRAIL-SOCK-L,Trail Sock,2,Changed mind,Exchange,2024-03-10\n",
        {
            "order_id": "Order Name",
            "return_id": "RMA ID",
            "sku": "Product SKU",
            "quantity": "Quantity",
            "reason": "Return Reason",
            "resolution": "Resolution Type",
            "return_date": "Created Date",
        },
    ),
}


def test_item_cells_parse():
    assert items_of("x1 Men's Nuke Vest, x2 Trail Sock") == [(1, "Men's Nuke Vest"), (2, "Trail Sock")]
    assert items_of("2 x Trail Sock; 1 x Vest, Black") == [(2, "Trail Sock"), (1, "Vest, Black")]
    assert items_of("Men's Nuke Vest") is None
    assert list_of("A-1, B-2") == ["A-1", "B-2"] and list_of("12,50 €") == ["12,50 €"]


def test_parcelwill_like_export_split_into_lines_and_reconciled():
    info = inspect_file("returns.csv", PARCELWILL)
    assert (info.layout, info.role) == ("returns_app", "returns")
    ds = load_dataset([SourceFile("orders.csv", ORDERS), SourceFile("returns.csv", PARCELWILL)], today=TODAY)
    f = next(x for x in ds.files if x.file == "returns.csv")
    # 5 rows -> 7 lines (R001 and R003 hold two products each); by hand: 3 loaded (R001 x2, R002),
    # R003's two lines are for an unknown order, R004 is a carrier return, the Total row is a footer
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (7, 3, 4) and f.reconciles
    assert f.rejected_by_kind == {"unmatched_return": 2, "carrier_return": 1, "not_data": 1}  # the Total row
    r = ds.returns.sort_values("sku")
    assert r[["order_id", "sku", "quantity", "reason"]].values.tolist() == [
        ["1001", "NUKE-VEST-M", 1, "Too small"],
        ["1002", "NUKE-VEST-XL", 1, "Too large"],
        ["1001", "TRAIL-SOCK-L", 2, "Changed mind"],
    ]
    # the request's 150.00 shared by units: 1 of 3 units -> 50, 2 of 3 -> 100; the comment is not split
    assert r["refund_amount"].tolist() == [50.0, 120.0, 100.0]
    assert r["comment"].tolist() == ["Lovely, but small", pd.NA, "Lovely, but small"]
    rows = ds.rejected[ds.rejected["file"] == "returns.csv"]
    assert rows["data"].str.contains("Source row=3").sum() == 2  # both lines of R003 trace to file row 3


@pytest.mark.parametrize("app", sorted(APPS))
def test_one_row_per_item_exports_map_with_no_mapping(app):
    content, expected = APPS[app]
    info = inspect_file(f"{app}.csv", content)
    assert info.role == "returns" and info.suggested == expected
    ds = load_dataset([SourceFile("orders.csv", ORDERS), SourceFile(f"{app}.csv", content)], today=TODAY)
    assert sorted(ds.returns["sku"]) == ["NUKE-VEST-M", "TRAIL-SOCK-L"]
    assert all(x.reconciles for x in ds.files)


def test_cli_orders_and_returns_app_export_with_no_mapping(tmp_path):
    (tmp_path / "orders.csv").write_bytes(ORDERS)
    (tmp_path / "returns.csv").write_bytes(PARCELWILL)
    js = tmp_path / "s.json"
    res = run("report", "--orders", tmp_path / "orders.csv", "--returns", tmp_path / "returns.csv", "--json", js)
    assert res.returncode == 0, res.stderr
    t = json.loads(js.read_text())["totals"]
    assert t["orders"] == 4 and t["rejected_rows"] == 4


def test_per_item_amounts_are_kept_not_shared_again():
    from data.returns_apps import split_lines

    f = pd.DataFrame(
        {
            "RMA": ["R1", "R2"],
            "Product info": ["x1 A, x2 B", "x1 C"],
            "Product SKU": ["A-1, B-1", "C-1"],
            "Refund": ["10.00, 20.00", "5"],
            "Reason": ["Too small, Other", "Fit"],
        }
    )
    out, notes = split_lines(f, "Product SKU", ("Refund",))
    assert out["Refund"].tolist() == ["10.00", "20.00", "5"] and out["Reason"].tolist() == ["Too small", "Other", "Fit"]
    assert out.index.tolist() == [0, 0, 1] and out["Source row"].tolist() == ["1", "1", "2"]
