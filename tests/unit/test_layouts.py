"""Each known layout with a small realistic fixture, plus header synonyms. Expected values by hand from the fixture."""

import io

import pandas as pd
import xlsxwriter

from data.ingest import SourceFile, inspect_file, load_dataset
from data.mapping import suggest_mapping

SHOPIFY = """Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Refunded Amount,Source,Landing Site
#1001,ann@example.com,paid,2024-03-01 10:15:00 +0100,1,Linen Shirt - M,49.00,LS-M,0.00,web,/collections/linen?utm_campaign=spring
#1001,,,,1,Linen Shirt - L,49.00,LS-L,,,
#1002,bob@example.com,partially_refunded,2024-03-02 09:00:00 +0100,2,Oak Lamp,120.00,OAK-1,120.00,pos,
"""

FBA = (
    "return-date\tamazon-order-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\t"
    "detailed-disposition\treason\tstatus\tlicense-plate-number\tcustomer-comments\n"
    "2024-03-10T12:00:00+00:00\t111-1\tLS-M\tB0\tX0\tLinen Shirt\t1\tLTN1\tSELLABLE\tTOO_SMALL\tUnit returned to inventory\tLPN1\truns small\n"
)


def test_shopify_orders_forward_fill_size_and_note():
    info = inspect_file("orders_export.csv", SHOPIFY.encode())
    assert (info.layout, info.role) == ("shopify_orders", "orders")
    ds = load_dataset([SourceFile("orders_export.csv", SHOPIFY.encode())], today=pd.Timestamp("2024-06-01").date())
    o = ds.orders
    assert o["order_id"].tolist() == ["#1001", "#1001", "#1002"]
    # order-level fields forward-filled onto the second line item of #1001
    assert o["customer_id"].tolist() == ["ann@example.com", "ann@example.com", "bob@example.com"]
    assert o["order_date"].tolist() == [pd.Timestamp("2024-03-01")] * 2 + [pd.Timestamp("2024-03-02")]
    assert o["channel"].tolist() == ["Online Store", "Online Store", "Point of Sale"]  # Shopify's source codes in words
    assert o["size"].tolist()[:2] == ["M", "L"] and pd.isna(o["size"].iloc[2])
    assert o["product_name"].tolist() == ["Linen Shirt", "Linen Shirt", "Oak Lamp"]
    assert o["journey"].tolist()[:2] == ["spring", "spring"]
    assert len(ds.returns) == 0  # order-level refunds are not turned into line returns
    from analysis.prepare import prepare

    p = prepare(ds)
    assert p.outcome == "order_refund" and any("order-level refunds" in n for n in p.notes)
    assert ds.files[0].reconciles and ds.files[0].rows_read == 3


def test_amazon_fba_returns_with_amazon_order_id():
    info = inspect_file("fba.tsv", FBA.encode())
    assert (info.layout, info.role, info.delimiter) == ("amazon_fba_returns", "returns", "\t")
    assert info.suggested["order_id"] == "amazon-order-id" and info.suggested["return_id"] == "license-plate-number"
    orders = "Order ID,Order Date,SKU,Quantity\n111-1,2024-03-01,LS-M,1\n"
    ds = load_dataset(
        [SourceFile("o.csv", orders.encode()), SourceFile("fba.tsv", FBA.encode())],
        today=pd.Timestamp("2024-06-01").date(),
    )
    r = ds.returns
    assert r[["order_id", "sku", "quantity", "reason", "comment"]].iloc[0].tolist() == [
        "111-1",
        "LS-M",
        1,
        "TOO_SMALL",
        "runs small",
    ]
    assert r["return_date"].iloc[0] == pd.Timestamp("2024-03-10")


def test_signed_transactions_xlsx():
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Sheet1")
    rows = [
        ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"],
        ["489434", "85048", "GLASS BALL LIGHTS", 12, "2009-12-01 07:45:00", 6.95, 13085.0, "United Kingdom"],
        ["489435", "POST", "POSTAGE", 1, "2009-12-01 08:00:00", 18.0, 13085.0, "United Kingdom"],
        ["C489449", "85048", "GLASS BALL LIGHTS", -2, "2009-12-03 10:00:00", 6.95, 13085.0, "United Kingdom"],
    ]
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    wb.close()
    content = buf.getvalue()
    info = inspect_file("tx.xlsx", content)
    assert (info.layout, info.role) == ("signed_transactions", "transactions")
    ds = load_dataset([SourceFile("tx.xlsx", content)], today=pd.Timestamp("2024-01-01").date())
    assert ds.orders["order_id"].tolist() == ["489434"] and ds.orders["customer_id"].tolist() == ["13085"]
    assert ds.orders["collection"].tolist() == ["Lights"]  # keyword family from the description
    assert ds.returns[["order_id", "return_id", "quantity"]].iloc[0].tolist() == ["489434", "C489449", 2]
    assert ds.returns["refund_amount"].iloc[0] == 2 * 6.95
    assert ds.files[0].rejected_by_kind == {"non_merchandise": 1}


def test_suggest_mapping_languages():
    de = suggest_mapping(["Bestellnummer", "Bestelldatum", "Artikelnummer", "Menge", "Preis", "Größe"], "orders")
    assert de == {
        "order_id": "Bestellnummer",
        "order_date": "Bestelldatum",
        "sku": "Artikelnummer",
        "quantity": "Menge",
        "unit_price": "Preis",
        "size": "Größe",
    }
    fr = suggest_mapping(
        ["Numéro de commande", "Référence", "Quantité", "Motif de retour", "Date de retour"], "returns"
    )
    assert fr == {
        "order_id": "Numéro de commande",
        "sku": "Référence",
        "quantity": "Quantité",
        "return_date": "Date de retour",
        "reason": "Motif de retour",
    }
    es = suggest_mapping(["Pedido", "Fecha", "Referencia", "Cantidad", "Talla"], "orders")
    assert es["order_id"] == "Pedido" and es["order_date"] == "Fecha" and es["size"] == "Talla"
    nl = suggest_mapping(["Bestelnummer", "Besteldatum", "Artikelcode", "Aantal", "Maat"], "orders")
    assert nl["quantity"] == "Aantal" and nl["size"] == "Maat"
    it = suggest_mapping(["Numero ordine", "Data ordine", "Codice articolo", "Quantità", "Taglia"], "orders")
    assert it["order_date"] == "Data ordine" and it["sku"] == "Codice articolo"


def test_generic_role_guess():
    assert inspect_file("r.csv", b"Order ID,SKU,Return Reason\n1,A,too big\n").role == "returns"
    assert inspect_file("c.csv", b"SKU,Collection,Size\nA,Linen,M\n").role == "catalog"
    assert (
        inspect_file("i.csv", b"dimension,segment,start_date,description\ncollection,Linen,2024-01-01,fit guide\n").role
        == "interventions"
    )
    assert inspect_file("o.csv", b"Order ID,Date,SKU,Qty\n1,2024-01-01,A,1\n").role == "orders"
