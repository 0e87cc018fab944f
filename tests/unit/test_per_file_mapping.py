"""Each uploaded file (or workbook sheet) keeps its own column mapping.

A multichannel retailer uploads a Shopify orders export and an Amazon All Orders report (or an ERP orders CSV)
together as orders. The Upload page wrote every file's columns into one mapping per role, the second file's
headers over the first's, and the loader read each file with that one mapping: the Shopify file was refused
("Mapped column 'amazon-order-id' not found"). Now the mapping carries each file's own columns.

Expected values: each file loaded on its own with no mapping (its detected layout), the Shopify export's rows
counted with pandas from the raw export (tests/unit/shopify_raw.py), the small files by hand.
"""

from __future__ import annotations

import json

import pytest

from data.errors import InputError
from data.ingest import SourceFile, inspect_file, load_dataset
from data.mapping import FileColumns, Mapping, mapping_of_files
from tests.unit.shopify_raw import raw_export
from tests.unit.test_amazon import ALL_ORDERS, TODAY

# an ERP orders CSV: "Name" is the customer's name, the order number is "Order No" (Shopify's order number is
# its "Name" column: a role mapping taken from the Shopify file reads customer names as order numbers here)
ERP = (
    b"Order No,Name,Order Date,SKU,Qty,Price\n"
    b"E-1,Ann Lee,2024-03-01,MUG-12,1,9.00\n"
    b"E-2,Bo Chan,2024-03-02,TEE-BLK-M,2,20.00\n"
    b"E-2,Bo Chan,2024-03-02,MUG-12,1,9.00\n"
)


@pytest.fixture(scope="module")
def shopify():
    name, content, raw = raw_export(seed=5, n_orders=60)
    return name, content, raw


def _as_the_page_builds_it(files: list[tuple[str, bytes]]) -> tuple[list[SourceFile], list[FileColumns]]:
    """Each file's role and columns as the Upload page chooses them when nothing is corrected: its detected role
    and suggested columns (the page's selectboxes default to info.suggested)."""
    sources, chosen = [], []
    for name, content in files:
        info = inspect_file(name, content)
        sources.append(SourceFile(name, content, info.role))
        chosen.append(FileColumns(name, info.sheet, info.role, dict(info.suggested)))
    return sources, chosen


def _solo(name: str, content: bytes, today=TODAY):
    """The file loaded alone with no mapping: its detected layout only."""
    ds = load_dataset([SourceFile(name, content, "orders")], today=today)
    (report,) = ds.files
    return report


def test_one_mapping_per_role_refuses_the_first_file(shopify):
    """The bug as it was: the page's one mapping per role, the Amazon report's columns over the Shopify export's."""
    name, content, _ = shopify
    sources, chosen = _as_the_page_builds_it([(name, content), ("All Orders.txt", ALL_ORDERS)])
    tables: dict[str, dict[str, str]] = {}
    for c in chosen:
        tables.setdefault(c.role, {}).update(c.columns)  # what upload.py did
    with pytest.raises(InputError) as err:
        load_dataset(sources, Mapping(tables=tables), today=TODAY)
    titles = {(p.file, p.title) for p in err.value.problems}
    assert (name, "Mapped column 'amazon-order-id' not found") in titles
    # and the Amazon report is read with the Shopify export's columns the Amazon one has not (Email, Vendor, ...)
    assert ("All Orders.txt", "Mapped column 'Email' not found") in titles


@pytest.mark.parametrize("other", ["amazon", "erp"])
def test_each_file_is_read_with_its_own_columns_and_counts_reconcile(shopify, other):
    name, content, raw = shopify
    second = ("All Orders.txt", ALL_ORDERS) if other == "amazon" else ("erp.csv", ERP)
    sources, chosen = _as_the_page_builds_it([(name, content), second])
    mapping = Mapping.from_json(mapping_of_files(chosen).to_json())  # through the JSON, as the page keeps it
    ds = load_dataset(sources, mapping, today=TODAY)
    by_file = {r.file: r for r in ds.files}
    assert list(by_file) == [name, second[0]]
    for (fname, fcontent), c in zip([(name, content), second], chosen):
        r, alone = by_file[fname], _solo(fname, fcontent)
        assert r.mapping == c.columns  # its own columns, not the other file's
        assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (
            alone.rows_read,
            alone.rows_loaded,
            alone.rows_rejected,
        )
        assert r.rejected_by_kind == alone.rejected_by_kind
        assert r.reconciles
    # rows read: the raw export's data rows (pandas), and by hand for the small files
    assert by_file[name].rows_read == len(raw)
    if other == "amazon":  # 7 lines, 2 of them cancelled (test_amazon.ROWS)
        assert (by_file["All Orders.txt"].rows_loaded, by_file["All Orders.txt"].rows_rejected) == (5, 2)
    else:
        assert (by_file["erp.csv"].rows_loaded, by_file["erp.csv"].rows_rejected) == (3, 0)
    assert len(ds.orders) == sum(r.rows_loaded for r in ds.files)
    assert ds.rows_read == sum(r.rows_read for r in ds.files)


def test_a_files_own_choice_wins_and_a_file_without_one_reads_the_role_mapping(shopify):
    name, content, _ = shopify
    # the role mapping (say a preset made on the Shopify export) sends order_id to "Name"; the ERP file's own
    # entry says its order number is "Order No" ("Name" holds customers there)
    role = {"orders": {"order_id": "Name"}}
    own = FileColumns(
        "erp.csv",
        None,
        "orders",
        {"order_id": "Order No", "order_date": "Order Date", "sku": "SKU", "quantity": "Qty", "unit_price": "Price"},
    )
    files = [SourceFile(name, content, "orders"), SourceFile("erp.csv", ERP, "orders")]
    ds = load_dataset(files, Mapping(tables=role, files=(own,)), today=TODAY)
    erp = ds.orders[ds.orders["order_id"].str.startswith("E-")]
    assert sorted(erp["order_id"]) == ["E-1", "E-2", "E-2"]
    assert not ds.orders["order_id"].isin(["Ann Lee", "Bo Chan"]).any()
    # without its own entry the ERP file reads the role's "Name": customer names as order numbers, as before
    ds = load_dataset(files, Mapping(tables=role), today=TODAY)
    assert sorted(ds.orders.loc[ds.orders["order_id"].isin(["Ann Lee", "Bo Chan"]), "order_id"]) == [
        "Ann Lee",
        "Bo Chan",
        "Bo Chan",
    ]


def test_a_column_left_out_of_a_files_own_mapping_is_not_read():
    """The file's entry is its whole mapping, as chosen on the page: a suggested column the user cleared is not
    read back from the detected layout."""
    full = dict(inspect_file("erp.csv", ERP).suggested)
    assert full["unit_price"] == "Price"
    del full["unit_price"]
    ds = load_dataset(
        [SourceFile("erp.csv", ERP, "orders")], Mapping(files=(FileColumns("erp.csv", None, "orders", full),))
    )
    assert ds.files[0].mapping == full and ds.orders["unit_price"].isna().all()


def test_two_uploads_of_one_name_keep_their_own_columns(shopify):
    """Two shops' exports both named orders_export_1.csv: the page's entries carry the content digest."""
    import hashlib

    name, content, _ = shopify
    erp_cols = {"order_id": "Order No", "order_date": "Order Date", "sku": "SKU", "quantity": "Qty"}
    shop_cols = dict(inspect_file(name, content).suggested)
    chosen = [
        FileColumns(name, None, "orders", shop_cols, hashlib.sha256(content).hexdigest()),
        FileColumns(name, None, "orders", erp_cols, hashlib.sha256(ERP).hexdigest()),
    ]
    mapping = mapping_of_files(chosen)
    assert all(f.sha256 for f in mapping.files)
    ds = load_dataset([SourceFile(name, content, "orders"), SourceFile(name, ERP, "orders")], mapping, today=TODAY)
    assert [r.mapping for r in ds.files] == [shop_cols, erp_cols]
    # one upload of a name: no digest written (the entry fits next week's export of that name)
    assert mapping_of_files(chosen[:1]).files[0].sha256 is None


def test_mapping_json_round_trip_with_files_and_old_files_without():
    m = mapping_of_files(
        [
            FileColumns("shop.csv", None, "orders", {"order_id": "Name"}),
            FileColumns("book.xlsx", "Retouren", "returns", {"order_id": "Bestellnummer", "sku": "Artikel"}),
        ],
        {"credit_note_prefix": "CN"},
    )
    back = Mapping.from_json(m.to_json())
    assert back.files == m.files and {k: v for k, v in back.tables.items() if v} == m.tables
    assert back.columns_for("book.xlsx", "Retouren", "returns") == {"order_id": "Bestellnummer", "sku": "Artikel"}
    assert back.columns_for("book.xlsx", "Other", "returns") is None
    # a mapping saved before files existed: read as before, and written back without a files key
    old = Mapping(tables={"orders": {"order_date": "Order Date"}}).to_json()
    assert "files" not in json.loads(old)
    assert Mapping.from_json(old).files == ()
    # an entry without a sheet fits every sheet of the file
    m = Mapping(files=(FileColumns("book.xlsx", None, "orders", {"sku": "A"}),))
    assert m.columns_for("book.xlsx", "2024", "orders") == {"sku": "A"}


@pytest.mark.parametrize(
    ("files", "title"),
    [
        ({"file": "a.csv"}, "files must be a list"),
        ([{"file": "a.csv", "role": "orders"}], "File entry must name a file and its columns"),
        ([{"file": "a.csv", "role": "sales", "columns": {}}], "Unknown file role"),
        ([{"file": "a.csv", "role": "orders", "columns": {"ordr": "X"}}], "Unknown canonical column"),
        ([{"file": "a.csv", "role": "orders", "columns": {"sku": 3}}], "Source column must be text"),
        ([{"file": "a.csv", "role": "orders", "sheet": 2, "columns": {}}], "sheet and sha256 must be text or null"),
        ([{"file": "a.csv", "role": "orders", "columns": {}, "shet": "x"}], "Unknown key in file entry"),
    ],
)
def test_a_bad_files_section_is_refused_with_its_fix(files, title):
    with pytest.raises(InputError) as err:
        Mapping.from_json(json.dumps({"orders": {}, "files": files}))
    assert [p.title for p in err.value.problems] == [title]
    assert err.value.problems[0].fix


def test_cli_reads_two_orders_files_of_different_layouts_each_with_its_own_columns(shopify, tmp_path, capsys):
    """`--orders shop.csv --orders erp.csv`: each by its detected layout, with its own columns from --mapping
    (a mapping downloaded from the Upload page: its files section names them)."""
    from analysis.cli import main

    name, content, _ = shopify
    (tmp_path / name).write_bytes(content)
    (tmp_path / "erp.csv").write_bytes(ERP)
    args = ["report", "--orders", str(tmp_path / name), "--orders", str(tmp_path / "erp.csv")]
    rejected = _solo(name, content, None).rows_rejected + _solo("erp.csv", ERP, None).rows_rejected  # today
    assert main(args) == 0
    assert f"Rows not used {rejected:,}: " in capsys.readouterr().out
    _, chosen = _as_the_page_builds_it([(name, content), ("erp.csv", ERP)])
    page = mapping_of_files(chosen)
    for label, mapping, code in (
        ("the page's mapping", page, 0),
        # the role tables alone (a mapping saved before files had their own): the Shopify columns for both files
        ("role tables only", Mapping(tables=page.tables), 2),
    ):
        path = tmp_path / "m.json"
        path.write_text(mapping.to_json())
        assert main([*args, "--mapping", str(path)]) == code, label
        out = capsys.readouterr()
        if code == 0:
            assert f"Rows not used {rejected:,}: " in out.out
        else:
            assert "Mapped column 'Created at' not found" in out.err + out.out


def test_two_sheets_of_one_role_with_different_headers_each_keep_their_columns():
    """A workbook with the web shop's orders (German headers) and the ERP's (English, "Name" = customer) on
    sheets of their own: each sheet's entry names its sheet."""
    import io

    import pandas as pd

    from data.ingest import table_sheets
    from tests.unit.test_workbook_sheets import ORDERS as WEB

    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as w:
        WEB.to_excel(w, sheet_name="Web", index=False)
        pd.read_csv(io.BytesIO(ERP), dtype=str).to_excel(w, sheet_name="ERP", index=False)
    book = buf.getvalue()
    found = table_sheets("book.xlsx", book)
    assert [(i.sheet, i.role) for i in found] == [("Web", "orders"), ("ERP", "orders")]
    chosen = [FileColumns("book.xlsx", i.sheet, i.role, dict(i.suggested)) for i in found]
    files = [SourceFile("book.xlsx", book, "orders", i.sheet) for i in found]
    tables: dict[str, dict[str, str]] = {}
    for c in chosen:
        tables.setdefault(c.role, {}).update(c.columns)  # as the page did: refused
    with pytest.raises(InputError):
        load_dataset(files, Mapping(tables=tables), today=TODAY)
    ds = load_dataset(files, mapping_of_files(chosen))  # today: the web orders are of 2025
    assert [(r.sheet, r.rows_read, r.rows_loaded) for r in ds.files] == [("Web", 80, 80), ("ERP", 3, 3)]  # by hand
    assert [r.mapping["order_id"] for r in ds.files] == ["Bestellnummer", "Order No"]
