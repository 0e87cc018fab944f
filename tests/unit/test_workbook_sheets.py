"""A workbook that holds orders and returns on sheets of their own, after a cover sheet (ERP and returns-app
exports): the CLI read only the first sheet (the cover) and refused the file. Each role now reads its own sheet,
and the numbers equal those of the same tables given as two CSV files."""

from __future__ import annotations

import io
import json

import pandas as pd

from analysis.cli import main
from data.ingest import table_sheets

ORDERS = pd.DataFrame(
    {
        "Bestellnummer": [f"B{i}" for i in range(1, 41) for _ in range(2)],
        "Bestelldatum": [f"2025-0{1 + (i % 6)}-{1 + i % 27:02d}" for i in range(1, 41) for _ in range(2)],
        "Artikelnummer": ["JEANS-32", "SHIRT-M"] * 40,
        "Menge": [1, 2] * 40,
        "Einzelpreis": [59.9, 19.9] * 40,
    }
)
RETURNS = pd.DataFrame(
    {
        "Bestellnummer": [f"B{i}" for i in range(1, 41, 3)],
        "Artikelnummer": ["JEANS-32"] * 14,
        "Menge": [1] * 14,
        "Grund": ["Zu klein"] * 14,
    }
)


def _book(tmp_path) -> str:
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"Report": ["Export 2025", "Shop: Demo GmbH"]}).to_excel(w, sheet_name="Info", index=False)
        ORDERS.to_excel(w, sheet_name="Bestellungen", index=False)
        pd.DataFrame({"Summe": [1, 2]}).to_excel(w, sheet_name="Pivot", index=False)
        RETURNS.to_excel(w, sheet_name="Retouren", index=False)
    return str(path)


def test_the_sheets_holding_tables_are_found_and_the_cover_and_pivot_are_not(tmp_path):
    path = _book(tmp_path)
    found = table_sheets("export.xlsx", open(path, "rb").read())
    assert [(i.sheet, i.role) for i in found] == [("Bestellungen", "orders"), ("Retouren", "returns")]


def test_cli_reads_each_role_from_its_sheet_as_from_two_csv_files(tmp_path, capsys):
    path = _book(tmp_path)
    ORDERS.to_csv(tmp_path / "o.csv", index=False)
    RETURNS.to_csv(tmp_path / "r.csv", index=False)
    out = {}
    for label, args in (
        ("book", ["--orders", path, "--returns", path]),
        ("csv", ["--orders", str(tmp_path / "o.csv"), "--returns", str(tmp_path / "r.csv")]),
    ):
        j = tmp_path / f"{label}.json"
        assert main(["report", *args, "--json", str(j), "--window-days", "30"]) == 0
        out[label] = json.loads(j.read_text())
    text = capsys.readouterr().out
    assert "export.xlsx [Bestellungen], export.xlsx [Retouren]" in text
    for k in ("units_sold", "units_returned", "orders", "unit_return_rate"):
        assert out["book"]["totals"][k] == out["csv"]["totals"][k], k
    assert out["book"]["totals"]["units_returned"] > 0


def test_a_one_sheet_workbook_and_a_csv_are_one_table():
    buf = io.BytesIO()
    ORDERS.to_excel(buf, index=False)
    assert len(table_sheets("o.xlsx", buf.getvalue())) == 1
    assert len(table_sheets("o.csv", ORDERS.to_csv(index=False).encode())) == 1


def test_cli_reads_the_orders_past_a_cover_sheet(tmp_path, capsys):
    path = tmp_path / "orders.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"Report": ["Export 2025"]}).to_excel(w, sheet_name="Cover", index=False)
        ORDERS.to_excel(w, sheet_name="Orders", index=False)
    assert main(["report", "--orders", str(path)]) == 0
    assert "orders.xlsx [Orders]" in capsys.readouterr().out


def test_cli_reads_every_sheet_of_a_role_and_searches_the_workbook_once(tmp_path, capsys, monkeypatch):
    """Orders split over a sheet per year beside the returns: `--orders book.xlsx --returns book.xlsx` read the
    first orders sheet only, and the second year's orders were left out without a word. Every sheet detected
    as the role is read (as the dashboard chooses them all), with the numbers of the same tables as CSV files;
    and the workbook is searched for tables once, not once per role (each search reads every sheet)."""
    import data.ingest

    path = tmp_path / "export.xlsx"
    first = ORDERS["Bestellnummer"].isin([f"B{i}" for i in range(1, 21)])
    with pd.ExcelWriter(path) as w:
        ORDERS[first].to_excel(w, sheet_name="2024", index=False)
        ORDERS[~first].to_excel(w, sheet_name="2025", index=False)
        RETURNS.to_excel(w, sheet_name="Retouren", index=False)
    ORDERS.to_csv(tmp_path / "o.csv", index=False)
    RETURNS.to_csv(tmp_path / "r.csv", index=False)
    searched = []
    real = data.ingest.table_sheets
    monkeypatch.setattr(data.ingest, "table_sheets", lambda n, c: searched.append(n) or real(n, c))
    out = {}
    for label, args in (
        ("book", ["--orders", str(path), "--returns", str(path)]),
        ("csv", ["--orders", str(tmp_path / "o.csv"), "--returns", str(tmp_path / "r.csv")]),
    ):
        j = tmp_path / f"{label}.json"
        assert main(["report", *args, "--json", str(j), "--window-days", "30"]) == 0
        out[label] = json.loads(j.read_text())
    assert "export.xlsx [2024], export.xlsx [2025], export.xlsx [Retouren]" in capsys.readouterr().out
    assert searched == ["export.xlsx"]
    for k in ("units_sold", "units_returned", "orders", "unit_return_rate"):
        assert out["book"]["totals"][k] == out["csv"]["totals"][k], k


def test_a_pivot_of_skus_and_sums_is_not_taken_for_a_catalog():
    # 'Artikelnummer, Summe Menge' matched the catalog's one required column (sku): the sheet was chosen and
    # loaded as a catalog that gives no product attribute ("Catalog filled product attributes for 40 lines")
    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as w:
        ORDERS.to_excel(w, sheet_name="Bestellungen", index=False)
        pd.DataFrame({"Artikelnummer": ["JEANS-32", "SHIRT-M"], "Summe Menge": [40, 80]}).to_excel(
            w, sheet_name="Pivot", index=False
        )
        pd.DataFrame(
            {"SKU": ["JEANS-32", "SHIRT-M"], "Product name": ["Jeans", "Shirt"], "Category": ["Denim", "Tops"]}
        ).to_excel(w, sheet_name="Katalog", index=False)
    found = table_sheets("export.xlsx", buf.getvalue())
    assert [(i.sheet, i.role) for i in found] == [("Bestellungen", "orders"), ("Katalog", "catalog")]
