"""Upload page: each suggested column says how sure the matcher is and why; unsure ones ask."""

from dashboard import session as S
from tests.app.conftest import assert_clean, run_page

ORDERS = b"Ordre ID,OrderDate,Code X,Qty (pcs)\nA1,2024-03-01,SKU-1,1\nA2,2024-03-02,SKU-2,2\n"


def test_upload_shows_confidence_reason_and_asks_when_unsure():
    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value([("orders.csv", ORDERS, "text/csv")]).run()
    assert_clean(at, "upload (mapped)")
    captions = [c.value for c in at.caption]
    # exact matches load as they are, saying why
    assert any(c.startswith("Sure (") and "order date" in c for c in captions)
    # a typo is matched but marked for checking, with what was read
    assert any(c.startswith("Check (") and "reading 'ordre' as 'order'" in c for c in captions)
    assert any("order_id" in w.value for w in at.warning)
    # a weak guess is asked, not applied
    assert any(c.startswith("Did you mean **Code X**?") for c in captions)
    boxes = {b.label: b for b in at.selectbox}
    assert boxes["order_id *"].value == "Ordre ID" and boxes["quantity"].value == "Qty (pcs)"
    assert boxes["sku *"].value == ""
    boxes["sku *"].set_value("Code X").run()
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (loaded)")
    assert any("Loaded 2 of 2 rows" in s.value for s in at.success)


def test_upload_amazon_all_orders_and_returns_app_export_with_no_mapping():
    from tests.unit.test_amazon import ALL_ORDERS, FBA
    from tests.unit.test_returns_apps import ORDERS as ORDERS_CSV
    from tests.unit.test_returns_apps import PARCELWILL

    for files, label in (
        ([("All Orders.txt", ALL_ORDERS, "text/plain"), ("fba.tsv", FBA, "text/plain")], "Amazon All Orders report"),
        ([("orders.csv", ORDERS_CSV, "text/csv"), ("returns.csv", PARCELWILL, "text/csv")], "Returns-app export"),
    ):
        at = run_page("views/upload.py")
        at.file_uploader(key=S.U_FILES).set_value(files).run()
        assert_clean(at, "upload (mapped)")
        assert label in " ".join(m.value for m in at.markdown).replace("\\", "")
        assert not [w.value for w in at.warning if "Map the required" in w.value]
        at.button(key="up_load").click().run()
        assert_clean(at, "upload (loaded)")
        assert any("Loaded" in s.value for s in at.success)


def test_carrier_returns_setting_reaches_the_load():
    from tests.unit.test_amazon import ALL_ORDERS, FBA

    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value(
        [("All Orders.txt", ALL_ORDERS, "text/plain"), ("fba.tsv", FBA, "text/plain")]
    ).run()
    at.checkbox(key="up_carrier").check().run()
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (loaded)")
    assert '"count_carrier_returns": true' in at.session_state[S.DATASET_SPEC].mapping_json
    # by hand: 7 order lines (2 cancelled) + 3 FBA returns, the 2 carrier returns now counted
    assert any("Loaded 8 of 10 rows" in s.value for s in at.success)


def test_last_used_preset_is_preselected_and_roles_show_their_labels():
    from data.mapping import Mapping
    from data.state import StateStore

    at = run_page("views/upload.py")  # no preset used yet: nothing chosen
    assert at.selectbox(key=S.U_PRESET).value == ""
    store = StateStore()  # RI_STATE_DIR is this test's folder (tests/app/conftest.py)
    for name in ("Shopify weekly", "ERP monthly"):
        store.save_preset(name, Mapping(tables={}).to_json())
    store.set_last_preset("Shopify weekly")
    at = run_page("views/upload.py")
    presets = at.selectbox(key=S.U_PRESET)
    assert presets.options == ["", "ERP monthly", "Shopify weekly"] and presets.value == "Shopify weekly"
    store.set_last_preset("Deleted since")  # a last preset that is no longer saved: nothing chosen
    assert run_page("views/upload.py").selectbox(key=S.U_PRESET).value == ""

    at.file_uploader(key=S.U_FILES).set_value([("orders.csv", ORDERS, "text/csv")]).run()
    assert_clean(at, "upload (mapped)")
    role = next(b for b in at.selectbox if b.label == "Use as")
    assert role.value == "orders" and role.options == [
        "Order lines",
        "Returns",
        "Signed transactions (sales + credit notes)",
        "Catalog",
        "Interventions log",
    ]


def test_a_workbook_with_orders_and_returns_on_their_own_sheets_loads_both():
    """A cover sheet first, then orders and returns sheets: both table sheets are chosen, each mapped as a file
    of its own, and loading them gives the numbers of the same tables uploaded as two CSV files."""
    import io

    import pandas as pd

    from tests.unit.test_workbook_sheets import ORDERS as O
    from tests.unit.test_workbook_sheets import RETURNS as R

    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as w:
        pd.DataFrame({"Report": ["Export 2025"]}).to_excel(w, sheet_name="Info", index=False)
        O.to_excel(w, sheet_name="Bestellungen", index=False)
        R.to_excel(w, sheet_name="Retouren", index=False)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value([("export.xlsx", buf.getvalue(), xlsx)]).run()
    assert_clean(at, "upload (workbook)")
    chosen = at.multiselect[0]
    assert chosen.label == "Sheets of export\\.xlsx to load" and chosen.value == ["Bestellungen", "Retouren"]
    roles = [b.value for b in at.selectbox if b.label == "Use as"]
    assert roles == ["orders", "returns"]
    assert not [w.value for w in at.warning if "Map the required" in w.value]
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (workbook loaded)")
    spec = at.session_state[S.DATASET_SPEC]
    assert [(f.sheet, f.role) for f in spec.files] == [("Bestellungen", "orders"), ("Retouren", "returns")]

    csv = [("o.csv", O.to_csv(index=False).encode(), "text/csv"), ("r.csv", R.to_csv(index=False).encode(), "text/csv")]
    at2 = run_page("views/upload.py")
    at2.file_uploader(key=S.U_FILES).set_value(csv).run()
    at2.button(key="up_load").click().run()
    loaded = [s.value for s in at.success if "Loaded" in s.value]
    loaded2 = [s.value for s in at2.success if "Loaded" in s.value]
    assert loaded and [t.split(" (")[0] for t in loaded] == [t.split(" (")[0] for t in loaded2]


def test_a_workbook_name_is_shown_literally_not_as_markdown():
    """An uploaded file's name is the user's text: a name holding markdown ('[..](..)', '*..*') shows as written
    in the sheet chooser and its warning, never as a link or emphasis."""
    import io

    import pandas as pd

    from dashboard.formatting import md
    from tests.unit.test_workbook_sheets import ORDERS as O
    from tests.unit.test_workbook_sheets import RETURNS as R

    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as w:
        O.to_excel(w, sheet_name="Bestellungen", index=False)
        R.to_excel(w, sheet_name="Retouren", index=False)
    name = "[Q1](https://example.com) *sales*.xlsx"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value([(name, buf.getvalue(), xlsx)]).run()
    chosen = at.multiselect[0]
    assert chosen.label == f"Sheets of {md(name)} to load"
    chosen.set_value([]).run()
    warned = [w.value for w in at.warning if "Choose at least one sheet" in w.value]
    assert warned == [f"Choose at least one sheet of {md(name)}, or remove the file."]


def test_the_load_report_shows_what_loading_did_to_each_file():
    """Per-file load notes (an order status read as refunds, cancelled lines set apart) were kept on the file's
    report but shown nowhere; the load report now lists them under the file's name."""
    from tests.unit.test_order_status import STATUSES

    rows = [
        {
            "Order Number": 100 + i,
            "Order Date": "2024-03-01",
            "Order Status": STATUSES[i % 4],
            "SKU": "TEE-M",
            "Quantity": 1,
            "Item Cost": 20.0,
        }
        for i in range(40)
    ]
    import pandas as pd

    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value(
        [("woo.csv", pd.DataFrame(rows).to_csv(index=False).encode(), "text/csv")]
    ).run()
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (loaded)")
    captions = [c.value.replace("\\", "") for c in at.caption]  # shown as escaped markdown
    assert any(c.startswith("woo.csv: Order Status records refunds per order: 10 refunded order(s)") for c in captions)
    assert any(c.startswith("woo.csv: 20 line(s) of cancelled or failed orders") for c in captions)


def test_order_status_words_reach_the_load_and_the_report_names_the_others():
    # a store whose "Retour" status means refunded and "Abgelehnt" never sold; "closed" stays unread and is named
    rows = ["Order Number,Order Date,Order Status,SKU,Quantity,Item Cost"]
    statuses = ["completed", "Retour", "Abgelehnt", "closed"]
    for i in range(8):
        rows.append(f"{100 + i},2024-03-0{1 + i % 5},{statuses[i % 4]},{['TEE', 'CAP', 'MUG'][i % 3]},1,10")
    data = ("\n".join(rows) + "\n").encode()
    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value([("woo.csv", data, "text/csv")]).run()
    at.text_input(key="up_refunded_statuses").set_value("retour").run()
    at.text_input(key="up_cancelled_statuses").set_value("Abgelehnt").run()
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (loaded)")
    spec = at.session_state[S.DATASET_SPEC].mapping_json
    assert '"refunded_statuses": [\n      "retour"\n    ]' in spec and '"cancelled_statuses"' in spec
    # by hand: 8 lines, the 2 "Abgelehnt" ones set apart as never sold, listed whole under "Rows not used"
    assert any("Loaded 6 of 8 rows" in s.value for s in at.success)
    assert any(m.value.startswith("- **2** Cancelled or voided order") for m in at.markdown)
    captions = " ".join(c.value for c in at.caption).replace("\\", "")  # the report escapes markdown
    assert "2 refunded order(s)" in captions
    assert "'closed' (2 orders)" in captions


def test_a_file_without_skus_loads_on_its_product_names():
    from tests.unit.test_names_as_skus import NAMES

    at = run_page("views/upload.py")
    at.file_uploader(key=S.U_FILES).set_value([("orders.csv", NAMES, "text/csv")]).run()
    assert_clean(at, "upload (mapped)")
    assert not [w.value for w in at.warning if "Map the required" in w.value]
    assert any(c.value.startswith("No SKU column: items are told apart by their names") for c in at.caption)
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (loaded)")
    assert any("Loaded 4 of 4 rows" in s.value for s in at.success)
