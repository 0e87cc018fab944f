"""The canonical tables and columns, declared once.

Every reader and layout maps raw headers onto these names; everything downstream
(analysis, dashboard, CLI) speaks only canonical names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    dtype: str  # "str" | "date" | "int" | "float"
    required: bool
    description: str
    default: object = None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    label: str
    description: str
    columns: tuple[Column, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


ORDERS = Table(
    "orders",
    "Order lines",
    "One row per order line (product bought in an order).",
    (
        Column("order_id", "str", True, "Order number; lines of one order share it."),
        Column("order_date", "date", True, "Date the order was placed."),
        Column("sku", "str", True, "Product/variant code (SKU)."),
        Column("quantity", "int", False, "Units bought on this line.", 1),
        Column("unit_price", "float", False, "Price of one unit (net of discounts where known)."),
        Column("product_name", "str", False, "Product title."),
        Column("collection", "str", False, "Collection the product belongs to."),
        Column("category", "str", False, "Product category (e.g. Dresses, Lighting)."),
        Column("size", "str", False, "Size or variant (e.g. M, 42, 2-seater)."),
        Column("customer_id", "str", False, "Customer identifier (for first vs repeat and return matching)."),
        Column("channel", "str", False, "Sales channel (web, app, marketplace, store)."),
        Column("journey", "str", False, "Campaign, landing collection or curated journey of the visit."),
        Column("intent", "str", False, "Customer intent override (single_item, bracketing, multi_item, full_refresh)."),
        Column(
            "order_refunded",
            "float",
            False,
            "Money refunded on the whole order, where the export records "
            "refunds per order only (e.g. Shopify's Refunded Amount).",
        ),
        Column(
            "line_refunded",
            "float",
            False,
            "Whether an order-level refund was for this line (1 / 0), where "
            "the export says so (e.g. restocked lines); empty = not known.",
        ),
        Column("promotion", "str", False, "Discount code or promotion used on the order."),
        Column("country", "str", False, "Country the order was shipped to."),
        Column("addon", "str", False, "Add-ons bought with the order (package protection, return insurance)."),
    ),
)

RETURNS = Table(
    "returns",
    "Returns",
    "One row per returned line (product returned from an order).",
    (
        Column("order_id", "str", True, "Order the returned item was bought in."),
        Column("sku", "str", True, "Returned product/variant code."),
        Column("quantity", "int", False, "Units returned.", 1),
        Column("return_id", "str", False, "Return/RMA number."),
        Column("return_date", "date", False, "Date the return was created or received."),
        Column("reason", "str", False, "Return reason as recorded (code or text)."),
        Column("comment", "str", False, "Customer's free-text comment."),
        Column("resolution", "str", False, "Outcome: refund, exchange, store credit, ..."),
        Column("refund_amount", "float", False, "Money refunded for this line."),
        Column("exchange_sku", "str", False, "SKU sent as an exchange, if any."),
    ),
)

CATALOG = Table(
    "catalog",
    "Catalog",
    "Optional product master: fills collection, category, size and price where order lines lack them.",
    (
        Column("sku", "str", True, "Product/variant code."),
        Column("product_name", "str", False, "Product title."),
        Column("collection", "str", False, "Collection."),
        Column("category", "str", False, "Category."),
        Column("size", "str", False, "Size or variant."),
        Column("unit_price", "float", False, "List price of one unit."),
    ),
)

INTERVENTIONS = Table(
    "interventions",
    "Interventions",
    "Optional log of guidance changes (fit advice, setup video, new photos) to evaluate.",
    (
        Column(
            "dimension",
            "str",
            True,
            "Dimension of the treated segment (collection, category, product, journey, channel).",
        ),
        Column("segment", "str", True, "Treated segment (e.g. the collection name)."),
        Column("start_date", "date", True, "Date the change went live."),
        Column("description", "str", False, "What changed."),
    ),
)

TRANSACTIONS = Table(
    "transactions",
    "Signed transactions",
    "One table of sales and returns (ERP/POS export): returns are lines with negative quantity, "
    "often on credit notes whose document number carries a prefix such as 'C'.",
    (
        Column("order_id", "str", True, "Document (invoice or credit-note) number."),
        Column("order_date", "date", True, "Document date."),
        Column("sku", "str", True, "Product code."),
        Column("quantity", "int", True, "Signed quantity: negative for returns."),
        Column("unit_price", "float", False, "Unit price."),
        Column("product_name", "str", False, "Description."),
        Column("customer_id", "str", False, "Customer identifier (needed to match credit notes to purchases)."),
        Column("channel", "str", False, "Sales channel (web, store, marketplace)."),
        Column("country", "str", False, "Country the order was shipped to."),
        Column("collection", "str", False, "Collection."),
        Column("category", "str", False, "Category."),
        Column("size", "str", False, "Size or variant."),
        Column("journey", "str", False, "Journey or campaign."),
        Column("reason", "str", False, "Return reason, where recorded."),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ORDERS, RETURNS, CATALOG, INTERVENTIONS, TRANSACTIONS)}

INTENTS = ("single_item", "bracketing", "multi_item", "full_refresh")

RESOLUTIONS = ("refund", "exchange", "store_credit", "other", "unknown")
