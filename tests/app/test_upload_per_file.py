"""Upload page: files of one role with different headers each keep their own column mapping, and each workbook
sheet is read once while the page is built.

Before: a Shopify orders export and an Amazon All Orders report uploaded together as orders wrote one mapping
for "orders", the second file's headers over the first's; loading refused both files ("Mapped column
'amazon-order-id' not found" in the Shopify export). Expected counts: each file loaded alone with no mapping.
"""

from __future__ import annotations

import io
import json

import pandas as pd

from dashboard import session as S
from data.ingest import SourceFile, load_dataset
from data.mapping import FileColumns, Mapping
from tests.app.conftest import assert_clean, run_page
from tests.unit.shopify_raw import raw_export
from tests.unit.test_amazon import ALL_ORDERS
from tests.unit.test_per_file_mapping import ERP

ORDERS = b"Ordre ID,OrderDate,Code X,Qty (pcs)\nA1,2024-03-01,SKU-1,1\nA2,2024-03-02,SKU-2,2\n"


def _boxes(at, file_no: int) -> dict[str, object]:
    """The mapping selectboxes of the file_no-th file on the page, by label."""
    role_boxes = [i for i, b in enumerate(at.selectbox) if b.label == "Use as"]
    start = role_boxes[file_no]
    end = role_boxes[file_no + 1] if file_no + 1 < len(role_boxes) else len(at.selectbox)
    return {b.label: b for b in list(at.selectbox)[start + 1 : end]}


def test_shopify_and_amazon_orders_load_together_each_with_its_own_columns():
    name, content, raw = raw_export(seed=5, n_orders=60)
    files = [(name, content, "text/csv"), ("All Orders.txt", ALL_ORDERS, "text/plain")]
    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value(files).run()
    assert_clean(at, "upload (mapped)")
    assert [b.value for b in at.selectbox if b.label == "Use as"] == ["orders", "orders"]
    assert not [w.value for w in at.warning if "Map the required" in w.value]
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (loaded)")
    alone = [load_dataset([SourceFile(n, c, "orders")]).files[0] for n, c, _ in files]
    read, loaded = sum(r.rows_read for r in alone), sum(r.rows_loaded for r in alone)
    assert read == len(raw) + 7  # the export's rows (pandas) and the report's 7 lines
    assert any(f"Loaded {loaded:,} of {read:,} rows" in s.value for s in at.success), [s.value for s in at.success]
    spec = at.session_state[S.DATASET_SPEC]
    doc = json.loads(spec.mapping_json)
    own = {e["file"]: e["columns"] for e in doc["files"]}
    assert own[name]["order_id"] == "Name" and own["All Orders.txt"]["order_id"] == "amazon-order-id"
    # the load report lists each file with its own count
    shown = next(d.value for d in at.dataframe if "Rows read" in d.value.columns)
    assert list(shown["File"]) == [name, "All Orders.txt"]
    assert list(shown["Loaded"]) == [r.rows_loaded for r in alone]
    assert list(shown["Reconciles"]) == ["yes", "yes"]


def test_a_correction_on_one_file_stays_on_that_file():
    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value([("a.csv", ORDERS, "text/csv"), ("erp.csv", ERP, "text/csv")]).run()
    _boxes(at, 0)["sku *"].set_value("Code X").run()
    assert_clean(at, "upload (mapped)")
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (loaded)")
    assert any("Loaded 5 of 5 rows" in s.value for s in at.success)  # 2 + 3 lines, by hand
    m = Mapping.from_json(at.session_state[S.DATASET_SPEC].mapping_json)
    assert m.columns_for("a.csv", None, "orders")["sku"] == "Code X"
    assert m.columns_for("erp.csv", None, "orders")["sku"] == "SKU"


def test_a_preset_fills_each_file_where_its_columns_exist():
    """A preset saved before files had their own columns (role level only) pre-fills any file of the role where
    its columns exist; a preset with a file's own entry fills that file by name."""
    from data.state import StateStore

    store = StateStore()
    store.save_preset("old", Mapping(tables={"orders": {"sku": "Code X", "order_id": "Ordre ID"}}).to_json())
    with_files = Mapping(
        tables={"orders": {"sku": "Code X"}},
        files=(FileColumns("erp.csv", None, "orders", {"product_name": "Price"}),),  # odd on purpose: seen
    )
    store.save_preset("new", with_files.to_json())
    for preset in ("old", "new"):
        at = run_page("views/upload.py")
        at.selectbox(key=S.U_PRESET).set_value(preset).run()
        at.file_uploader(key=S.U_FILES).set_value([("a.csv", ORDERS, "text/csv"), ("erp.csv", ERP, "text/csv")]).run()
        assert_clean(at, f"upload (preset {preset})")
        a, erp = _boxes(at, 0), _boxes(at, 1)
        assert a["sku *"].value == "Code X"
        assert erp["sku *"].value == "SKU" and erp["order_id *"].value == "Order No"  # not in erp.csv: detected
        assert erp["product_name"].value == ("Price" if preset == "new" else "Name")


def test_each_workbook_sheet_is_read_once_on_upload(monkeypatch):
    """A cover sheet, orders and returns: the sheet search's reading is the preview's (was 6 reads: every sheet
    twice: the page inspected each chosen sheet again after the search had)."""
    import data.ingest
    from tests.unit.test_workbook_sheets import ORDERS as O
    from tests.unit.test_workbook_sheets import RETURNS as R

    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as w:
        pd.DataFrame({"Report": ["Export read-once"]}).to_excel(w, sheet_name="Info", index=False)
        O.to_excel(w, sheet_name="Bestellungen", index=False)
        R.to_excel(w, sheet_name="Retouren", index=False)
    reads: list[str | None] = []
    real = data.ingest.read_table
    monkeypatch.setattr(data.ingest, "read_table", lambda n, c, s=None: reads.append(s) or real(n, c, s))
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value([("export.xlsx", buf.getvalue(), xlsx)]).run()
    assert_clean(at, "upload (workbook)")
    assert [b.value for b in at.selectbox if b.label == "Use as"] == ["orders", "returns"]
    # the default sheet (None: the workbook's first) and the two others, once each
    assert sorted(map(str, reads)) == ["Bestellungen", "None", "Retouren"]
    reads.clear()
    at.run()  # a rerun reads nothing again
    assert reads == []
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (workbook loaded)")
    shown = next(d.value for d in at.dataframe if "Rows read" in d.value.columns)
    # each sheet named once (was 'export.xlsx [Bestellungen] [Bestellungen]'), with its rows: 80 and 14 by hand
    assert list(shown["File"]) == ["export.xlsx [Bestellungen]", "export.xlsx [Retouren]"]
    assert list(shown["Rows read"]) == [80, 14]
