"""The demo as raw export files in real-world layouts (Excel orders, returns CSV, Amazon FBA report, Shopify
orders export, catalog CSV), written from data.demo_generator's frames for upload tests and for trying the app.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from data.demo_generator import RETAILER, generate_frames

# ---------------------------------------------------------------------------------------------
# Raw export files
# ---------------------------------------------------------------------------------------------
_SHOPIFY_SOURCE = {"Web": "web", "App": "northwind-app", "Instagram Shop": "instagram"}
_LANDING = {
    "Homepage": ("/", "https://www.northwind-living.example/"),
    "Direct": ("/", ""),
    "Google Shopping": (
        "/products/item?utm_source=google&utm_medium=cpc&utm_campaign=google_shopping",
        "https://www.google.com/",
    ),
    "Summer Sale email": ("/collections/sale?utm_source=newsletter&utm_medium=email&utm_campaign=summer_sale", ""),
    "TikTok campaign": (
        "/collections/new-in?utm_source=tiktok&utm_medium=social&utm_campaign=tiktok_campaign",
        "https://www.tiktok.com/",
    ),
    "Gift guide": (
        "/pages/gift-guide?utm_source=instagram&utm_medium=social&utm_campaign=gift_guide",
        "https://l.instagram.com/",
    ),
}
_SHOPIFY_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Country",
    "Shipping Country",
    "Notes",
    "Cancelled at",
    "Payment Method",
    "Refunded Amount",
    "Vendor",
    "Id",
    "Tags",
    "Source",
    "Landing Site",
    "Referring Site",
)
ORDERS_XLSX_COLUMNS = (
    "Order Number",
    "Order Date",
    "SKU",
    "Qty",
    "Unit Price",
    "Product",
    "Collection",
    "Category",
    "Size",
    "Customer",
    "Channel",
    "Campaign",
)
RETURNS_CSV_COLUMNS = (
    "Order Number",
    "SKU",
    "Qty",
    "RMA",
    "Return Date",
    "Reason",
    "Customer Comment",
    "Outcome",
    "Refund",
    "Exchange SKU",
)
FBA_COLUMNS = (
    "return-date",
    "order-id",
    "sku",
    "asin",
    "fnsku",
    "product-name",
    "quantity",
    "fulfillment-center-id",
    "detailed-disposition",
    "reason",
    "status",
    "license-plate-number",
    "customer-comments",
)
CATALOG_CSV_COLUMNS = ("SKU", "Product", "Collection", "Category", "Size", "Price")


def _code(values: pd.Series, prefix: str, length: int) -> pd.Series:
    """A stable pseudo-random upper-case code per value (e.g. an ASIN per SKU)."""
    digest = values.map(lambda v: hashlib.sha1(f"{prefix}{v}".encode()).hexdigest().upper())
    return prefix + digest.str[: length - len(prefix)]


def _money(x: pd.Series) -> pd.Series:
    return x.map(lambda v: "" if pd.isna(v) else f"{v:.2f}")


def write_demo_files(directory: Path, seed: int = 7, n_orders: int = 3_000) -> dict[str, Path]:
    """Write the demo as raw exports in real-world layouts, for upload tests and for trying the app.

    Returns {key: path} for
      orders_xlsx        orders.xlsx (xlsxwriter): every order line with generic headers ("Order Number", ...);
      orders_shopify_csv shopify_orders_export.csv: Shopify orders export of the web/app/Instagram orders,
                         order-level fields (Email, Financial Status, Created at, Refunded Amount, Source, ...)
                         only on the first line of each order; size after " - " in Lineitem name;
      returns_csv        returns.csv (UTF-8 with BOM, as Excel saves it): returns of the web/app/Instagram orders,
                         dates mixing "2026-03-04" and "2026-03-04 14:05";
      returns_fba_tsv    fba_customer_returns.tsv: Amazon FBA customer returns report (tab-separated) of the
                         marketplace orders (Amazon order ids);
      catalog_csv        catalog.csv; interventions_csv interventions.csv (dimension, segment, start_date, description).
    orders.xlsx + returns.csv + the FBA report together hold exactly generate_frames(seed, n_orders)'s lines and
    returns; the Shopify export + returns.csv hold the non-marketplace part.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    orders, returns, catalog, interventions = generate_frames(seed=seed, n_orders=n_orders)
    rng = np.random.default_rng([seed, 1])
    paths = {
        "orders_xlsx": directory / "orders.xlsx",
        "orders_shopify_csv": directory / "shopify_orders_export.csv",
        "returns_csv": directory / "returns.csv",
        "returns_fba_tsv": directory / "fba_customer_returns.tsv",
        "catalog_csv": directory / "catalog.csv",
        "interventions_csv": directory / "interventions.csv",
    }

    # ---- orders.xlsx (all lines)
    xl = pd.DataFrame(
        dict(
            zip(
                ORDERS_XLSX_COLUMNS,
                (
                    orders["order_id"],
                    orders["order_date"],
                    orders["sku"],
                    orders["quantity"],
                    orders["unit_price"],
                    orders["product_name"],
                    orders["collection"],
                    orders["category"],
                    orders["size"],
                    orders["customer_id"],
                    orders["channel"],
                    orders["journey"],
                ),
            )
        )
    )
    with pd.ExcelWriter(
        paths["orders_xlsx"], engine="xlsxwriter", date_format="yyyy-mm-dd", datetime_format="yyyy-mm-dd"
    ) as writer:
        xl.to_excel(writer, sheet_name="Orders", index=False)

    # ---- Shopify orders export (non-marketplace orders)
    shop = orders[orders["channel"] != "Marketplace"].reset_index(drop=True)
    first = ~shop["order_id"].duplicated()
    line_total = shop["quantity"] * shop["unit_price"]
    list_price = shop["sku"].map(catalog.set_index("sku")["unit_price"])
    subtotal = line_total.groupby(shop["order_id"]).transform("sum")
    shipping = pd.Series(np.where(subtotal < 75, 4.95, 0.0), index=shop.index)
    total = subtotal + shipping
    refunded = returns.groupby("order_id")["refund_amount"].sum()
    refunded_o = shop["order_id"].map(refunded).fillna(0.0)
    sold_units = shop.groupby("order_id")["quantity"].transform("sum")
    ret_units = shop["order_id"].map(returns.groupby("order_id")["quantity"].sum()).fillna(0)
    status = np.where(refunded_o <= 0, "paid", np.where(ret_units >= sold_units, "refunded", "partially_refunded"))
    n_orders_shop = int(first.sum())
    secs = pd.Series(rng.integers(7 * 3600, 23 * 3600, n_orders_shop), index=shop.index[first])
    created = shop["order_date"] + pd.to_timedelta(secs.reindex(shop.index).ffill().astype("int64"), unit="s")
    created_txt = created.dt.strftime("%Y-%m-%d %H:%M:%S +0000")
    fulfilled_txt = (created + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d %H:%M:%S +0000")
    landing = shop["journey"].map({k: v[0] for k, v in _LANDING.items()})
    referring = shop["journey"].map({k: v[1] for k, v in _LANDING.items()})
    one_size = shop["size"] == "One size"
    name = shop["product_name"].where(one_size, shop["product_name"] + " - " + shop["size"])
    discounted = shop["unit_price"] < list_price - 0.005
    email = shop["customer_id"].str.lower() + "@example.com"

    def order_level(values: object) -> pd.Series:
        s = pd.Series(values, index=shop.index).astype("object")
        return s.where(first, "")

    sh = pd.DataFrame(
        {
            "Name": shop["order_id"],
            "Email": order_level(email),
            "Financial Status": order_level(status),
            "Paid at": order_level(created_txt),
            "Fulfillment Status": order_level("fulfilled"),
            "Fulfilled at": order_level(fulfilled_txt),
            "Accepts Marketing": order_level(np.where(rng.random(len(shop)) < 0.4, "yes", "no")),
            "Currency": order_level("GBP"),
            "Subtotal": order_level(_money(subtotal)),
            "Shipping": order_level(_money(shipping)),
            "Taxes": order_level(_money(total - total / 1.2)),
            "Total": order_level(_money(total)),
            "Discount Code": order_level(np.where(shop["journey"] == "Summer Sale email", "SUMMER20", "")),
            "Discount Amount": order_level(
                _money((list_price * shop["quantity"] - line_total).groupby(shop["order_id"]).transform("sum"))
            ),
            "Shipping Method": order_level(np.where(shipping > 0, "Standard", "Free Standard")),
            "Created at": order_level(created_txt),
            "Lineitem quantity": shop["quantity"],
            "Lineitem name": name,
            "Lineitem price": _money(shop["unit_price"]),
            "Lineitem compare at price": _money(list_price.where(discounted)),
            "Lineitem sku": shop["sku"],
            "Lineitem requires shipping": "true",
            "Lineitem taxable": "true",
            "Lineitem fulfillment status": "fulfilled",
            "Billing Country": order_level("GB"),
            "Shipping Country": order_level("GB"),
            "Notes": "",
            "Cancelled at": "",
            "Payment Method": order_level(
                np.where(rng.random(len(shop)) < 0.7, "Shopify Payments", "PayPal Express Checkout")
            ),
            "Refunded Amount": order_level(_money(refunded_o)),
            "Vendor": RETAILER,
            "Id": order_level(shop["order_id"].str.slice(2).astype("int64") + 5_210_000_000_000),
            "Tags": "",
            "Source": order_level(shop["channel"].map(_SHOPIFY_SOURCE)),
            "Landing Site": order_level(landing),
            "Referring Site": order_level(referring),
        },
        columns=list(_SHOPIFY_COLUMNS),
    )
    sh.to_csv(paths["orders_shopify_csv"], index=False)

    # ---- returns of web/app/Instagram orders (generic returns CSV) and of marketplace orders (FBA report)
    mkt_orders = set(orders.loc[orders["channel"] == "Marketplace", "order_id"].unique())
    is_mkt = returns["order_id"].isin(mkt_orders)
    gen = returns[~is_mkt].reset_index(drop=True)
    with_time = rng.random(len(gen)) < 0.2
    times = pd.to_timedelta(rng.integers(8 * 60, 18 * 60, len(gen)), unit="min")
    date_txt = (
        gen["return_date"]
        .dt.strftime("%Y-%m-%d")
        .where(~with_time, (gen["return_date"] + times).dt.strftime("%Y-%m-%d %H:%M"))
    )
    rc = pd.DataFrame(
        dict(
            zip(
                RETURNS_CSV_COLUMNS,
                (
                    gen["order_id"],
                    gen["sku"],
                    gen["quantity"],
                    gen["return_id"],
                    date_txt,
                    gen["reason"],
                    gen["comment"],
                    gen["resolution"],
                    _money(gen["refund_amount"]),
                    gen["exchange_sku"],
                ),
            )
        )
    )
    rc.to_csv(paths["returns_csv"], index=False, encoding="utf-8-sig")

    fba = returns[is_mkt].reset_index(drop=True)
    reason = fba["reason"].astype("object")
    disp = np.where(
        reason == "DEFECTIVE",
        "DEFECTIVE",
        np.where(
            reason == "DAMAGED_BY_CARRIER",
            "CARRIER_DAMAGED",
            np.where(rng.random(len(fba)) < 0.85, "SELLABLE", "CUSTOMER_DAMAGED"),
        ),
    )
    secs = pd.to_timedelta(rng.integers(6 * 3600, 22 * 3600, len(fba)), unit="s")
    lpn = pd.Series(rng.integers(10**9, 10**10 - 1, len(fba))).astype(str)
    ft = pd.DataFrame(
        dict(
            zip(
                FBA_COLUMNS,
                (
                    (fba["return_date"] + secs).dt.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                    fba["order_id"],
                    fba["sku"],
                    _code(fba["sku"], "B0", 10),
                    _code(fba["sku"], "X00", 10),
                    fba["sku"].map(catalog.set_index("sku")["product_name"]),
                    fba["quantity"],
                    rng.choice(np.array(["LTN4", "BHX4", "MAN1", "EUK5"]), len(fba)),
                    disp,
                    reason.fillna("NO_REASON_GIVEN"),
                    np.where(disp == "SELLABLE", "Unit returned to inventory", "Reimbursed"),
                    "LPN" + lpn,
                    fba["comment"],
                ),
            )
        )
    )
    ft.to_csv(paths["returns_fba_tsv"], index=False, sep="\t")

    # ---- catalog and interventions
    pd.DataFrame(
        dict(
            zip(
                CATALOG_CSV_COLUMNS,
                (
                    catalog["sku"],
                    catalog["product_name"],
                    catalog["collection"],
                    catalog["category"],
                    catalog["size"],
                    _money(catalog["unit_price"]),
                ),
            )
        )
    ).to_csv(paths["catalog_csv"], index=False)
    iv = interventions.assign(start_date=interventions["start_date"].dt.strftime("%Y-%m-%d"))
    iv.to_csv(paths["interventions_csv"], index=False)
    return paths
