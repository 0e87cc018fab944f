"""Known export layouts, recognised by their headers and mapped with no user effort.

1. shopify_orders - Shopify "Export orders" CSV: one row per line item, order-level fields only on an
   order's first row (forward-filled here), `Name` is the order number, size after " - " in the line name.
2. amazon_fba_returns - Amazon FBA customer returns report (tab-separated).
2b. amazon_all_orders - Amazon's All Orders report: item-price per line turned into a unit price, style
   and size from per-size SKUs, Cancelled lines rejected as "cancelled" (data.amazon).
2c. returns_app - returns-app exports (ParcelWILL and the like) with several products in one cell
   ("x1 Men's Nuke Vest, x2 Trail Sock", SKUs in a parallel cell), split into lines (data.returns_apps).
3. signed_transactions - ERP/POS exports with signed quantities and credit notes (e.g. the UCI
   Online Retail II file: Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID,
   Country); split by data.transactions.
4. generic - anything else, mapped through data.mapping.suggest_mapping, role guessed from headers.

Styles: a generic table with no size column whose SKUs (or names) end in a size ("TEE-BLK-M",
"Jeans, 32W x 30L") gets style and size columns, so that two sizes of one style read as bracketing.
layout_rejects() sets apart rows that are not what they seem: Amazon's Cancelled lines, and carrier
returns (undeliverable, lost in transit) in any returns file.

prepare_frame() adds derived source columns (e.g. "Lineitem name (size)") so that every mapping,
including a layout's, still names source columns the user can see and change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.amazon import SIZE_COL as STYLE_SIZE_COL
from data.amazon import STYLE_COL, add_style_size
from data.amazon import all_orders_mapping, cancelled_rows, carrier_return_rows, is_all_orders, prepare_all_orders
from data.header_match import MAX_COLUMNS, concepts, header_words
from data.mapping import normalize_header, suggest_mapping
from data.returns_apps import QTY_COL as RA_QTY_COL
from data.returns_apps import SKU_COL as RA_SKU_COL
from data.returns_apps import find_product_cell, is_multi_product, split_lines
from data.sizes import derive_style_size

LAYOUT_LABELS = {
    "shopify_orders": "Shopify orders export",
    "shopify_products": "Shopify products export (catalog)",
    "amazon_fba_returns": "Amazon FBA customer returns report",
    "amazon_all_orders": "Amazon All Orders report",
    "magento_orders": "Magento orders export",
    "returns_app": "Returns-app export (several products per return request)",
    "signed_transactions": "Signed transactions (sales and credit notes)",
    "generic": "Generic table",
}

from data.shopify import (  # noqa: E402
    PRODUCTS_MAPPING,
    is_shopify_products,
    orders_mapping,
    prepare_orders,
    prepare_products,
)


@dataclass(frozen=True, slots=True)
class Layout:
    key: str
    label: str
    role: str
    suggested: dict  # canonical -> source column (after prepare_frame)
    notes: tuple[str, ...] = ()


def _has(norm: set[str], *names: str) -> bool:
    return all(normalize_header(n) in norm for n in names)


def detect_layout(columns: Sequence[str], frame: pd.DataFrame | None = None, role: str | None = None) -> Layout:
    """Recognise a known layout from the headers; otherwise guess the role and suggest a generic mapping.

    `frame` (text) lets the generic path tell signed transactions (negative quantities) from orders.
    An explicit `role` wins over the guess but a recognised layout still supplies its mapping.
    """
    cols = list(columns)
    norm = {normalize_header(c) for c in cols}
    if _has(norm, "Name", "Lineitem sku", "Lineitem quantity", "Created at") and (role in (None, "orders")):
        return Layout("shopify_orders", LAYOUT_LABELS["shopify_orders"], "orders", orders_mapping(cols))
    if is_shopify_products(norm) and role in (None, "catalog"):
        return Layout(
            "shopify_products",
            LAYOUT_LABELS["shopify_products"],
            "catalog",
            {k: v for k, v in PRODUCTS_MAPPING.items() if v in cols or "(" in v},
        )
    fba_specific = {
        normalize_header(c)
        for c in ("asin", "fnsku", "fulfillment-center-id", "detailed-disposition", "license-plate-number")
    }
    if (
        _has(norm, "sku", "return-date", "quantity", "reason")
        and ({"order id", "amazon order id"} & norm)
        and len(fba_specific & norm) >= 2
        and role in (None, "returns")
    ):
        oid = next(c for c in cols if normalize_header(c) in ("order id", "amazon order id"))
        # _has() above found these four headers, so each _col() names a column
        found = {
            canon: _col(cols, h)
            for canon, h in (
                ("sku", "sku"),
                ("quantity", "quantity"),
                ("return_date", "return-date"),
                ("reason", "reason"),
            )
        }
        sug = {**suggest_mapping(cols, "returns"), "order_id": oid, **{k: v for k, v in found.items() if v}}
        # detailed-disposition (SELLABLE, CUSTOMER_DAMAGED ...) is the unit's condition, not refund/exchange: unmapped
        # (the header matcher's "disposition" synonym picked it, and every return then read as resolved 'other')
        if normalize_header(sug.get("resolution") or "") in ("detailed disposition", "disposition"):
            del sug["resolution"]
        for canon, src in (("return_id", "license-plate-number"), ("comment", "customer-comments")):
            if col := _col(cols, src):
                sug[canon] = col
        return Layout("amazon_fba_returns", LAYOUT_LABELS["amazon_fba_returns"], "returns", sug)
    if is_all_orders(cols) and role in (None, "orders"):
        return Layout("amazon_all_orders", LAYOUT_LABELS["amazon_all_orders"], "orders", all_orders_mapping(cols))
    if is_magento(cols) and role in (None, "orders"):
        # Magento's "ID" is the order number customers see (its increment id); its "closed" status is a refund
        # (status_kinds)
        sug = suggest_mapping(cols, "orders", frame)
        if "order_id" not in sug and (increment_id := _col(cols, "ID")):
            sug["order_id"] = increment_id
        if _styles_in_skus(sug, frame, "orders"):
            sug = {**sug, "size": STYLE_SIZE_COL, "product_name": STYLE_COL}
        return Layout("magento_orders", LAYOUT_LABELS["magento_orders"], "orders", sug)
    guessed = role or guess_role(cols, frame)
    sug = suggest_mapping(cols, guessed, frame)
    if guessed == "returns" and is_multi_product(frame, sug.get("sku")):
        app = {**sug, "sku": RA_SKU_COL}
        if find_product_cell(frame) is not None:
            app["quantity"] = RA_QTY_COL
        return Layout("returns_app", LAYOUT_LABELS["returns_app"], "returns", app)
    if _styles_in_skus(sug, frame, guessed):  # no size column, but SKUs (or names) end in sizes
        sug = {**sug, "size": STYLE_SIZE_COL, "product_name": STYLE_COL}
    if (
        guessed == "transactions"
        and _has(norm, "Invoice", "StockCode", "Quantity")
        and ({"invoicedate", "invoice date"} & norm)
    ):
        return Layout("signed_transactions", LAYOUT_LABELS["signed_transactions"], "transactions", sug)
    if guessed == "transactions":
        return Layout("signed_transactions", LAYOUT_LABELS["signed_transactions"], "transactions", sug)
    return Layout("generic", LAYOUT_LABELS["generic"], guessed, sug)


STYLE_MIN_SHARE = 0.2  # share of distinct products that must come in sizes before a generic table gets styles


def _styles_in_skus(sug: dict[str, str], frame: pd.DataFrame | None, role: str) -> bool:
    """True when a table without a size column sells styles in several sizes, each size its own SKU."""
    if role not in ("orders", "transactions") or frame is None or "size" in sug or sug.get("sku") not in frame.columns:
        return False
    name = sug.get("product_name")
    has_name = name in frame.columns
    cols = list(dict.fromkeys([sug["sku"], name] if has_name else [sug["sku"]]))
    # the answer depends on the distinct (SKU, name) pairs only, in order of first appearance: 500k lines
    # of the Online Retail II export hold ~7k, so the lines are not spread back and grouped again
    pairs = frame[cols].drop_duplicates()
    _, size, n_styles = derive_style_size(pairs[sug["sku"]], pairs[name] if has_name else None)
    # a sized catalogue, not a few look-alikes: in a gift shop "DOOR SIGN, 5" or "gift_0001_10" end in
    # numbers too (the Online Retail II file has 5 such series among ~5,000 products)
    share = float(pd.Series(size != "").groupby(pairs[sug["sku"]].to_numpy()).first().mean()) if n_styles else 0.0
    return n_styles > 0 and share >= STYLE_MIN_SHARE


def _prepare_styles(layout: Layout, frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Style and size columns for a generic table whose SKUs end in sizes (see _styles_in_skus)."""
    sug = suggest_mapping(list(frame.columns), layout.role, frame)
    if sug.get("sku") not in frame.columns:
        return frame, ()
    return add_style_size(frame, sug["sku"], sug.get("product_name"))


def _col(cols: Sequence[str], name: str) -> str | None:
    n = normalize_header(name)
    return next((c for c in cols if normalize_header(c) == n), None)


_RETURNISH = (
    "return",
    "retour",
    "rücksend",
    "rucksend",
    "retoure",
    "devoluc",
    "reso",
    "rma",
    "refund",
    "reason",
    "grund",
    "motif",
    "motivo",
    "reden",
)


def _returnish_words(columns: Sequence[str], strong: bool = False) -> bool:
    """A header *word* about returns ('Return Reason', 'Retourengrund'), not a stray substring ('Format');
    strong: a return, RMA or reason word (a refund amount alone also appears in orders exports)."""
    words = {"return", "rma", "reason"} if strong else {"return", "rma", "refund", "reason"}
    for c in list(columns)[:MAX_COLUMNS]:
        cs = concepts(c)
        if cs & words:
            return True
        if any(w.startswith(_RETURNISH[:6]) for w in header_words(c)):
            return True
    return False


def guess_role(columns: Sequence[str], frame: pd.DataFrame | None = None) -> str:
    """Role of a generic table from its headers (and, for signed quantities, its values)."""
    norm = [normalize_header(c) for c in columns]
    joined = " | ".join(norm)
    if any(n in ("dimension", "segment") for n in norm) and any("start" in n or "date" in n for n in norm):
        return "interventions"
    orders = suggest_mapping(columns, "orders", frame)
    if any(w in joined for w in _RETURNISH) and _returnish_words(columns):
        # an orders export with an order-level refund column (WooCommerce's "Order Refund Amount") is still orders
        if _returnish_words(columns, strong=True) or not {"order_id", "order_date", "sku"} <= orders.keys():
            return "returns"
    if "order_id" not in orders and "order_date" not in orders and "sku" in orders:
        return "catalog"
    if frame is not None and "quantity" in orders and len(frame):
        # share of lines with a negative quantity, read off the distinct values (an export repeats a few
        # hundred quantities over all its lines) weighted by how often each occurs
        codes, uniq = pd.factorize(frame[orders["quantity"]])
        q = pd.to_numeric(
            pd.Series(uniq, dtype="string").str.strip().str.replace(",", ".", regex=False), errors="coerce"
        ).astype("float64")
        lines = np.bincount(codes[codes >= 0], minlength=len(uniq))
        if int(lines[(q < 0).to_numpy()].sum()) / len(frame) > 0.001:
            return "transactions"
    return "orders"


def prepare_frame(layout: Layout, frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Layout-specific fixes on the raw text frame; returns (frame, notes).

    The row count changes only for returns_app (one line per product); the returned frame's index then
    gives each line's row position in `frame`.
    """
    f, notes, _ = prepare_frame_with_kinds(layout, frame)
    return f, notes


def prepare_frame_with_kinds(
    layout: Layout, frame: pd.DataFrame
) -> tuple[pd.DataFrame, tuple[str, ...], tuple[pd.Series, pd.Series] | None]:
    """prepare_frame plus the (kind, reason) of rows the layout sets apart before validation (Shopify
    cancellations, add-on lines, exchange orders; kinds of data.model.REJECT_KINDS), or None."""
    if layout.key == "shopify_orders":
        f, notes, kind, reason = prepare_orders(frame)
        return f, notes, (kind, reason)
    if layout.key == "shopify_products":
        return prepare_products(frame), (), None
    if layout.key in _PREPARERS:
        f, notes = _PREPARERS[layout.key](frame)
        return f, notes, None
    if (
        layout.key in ("generic", "signed_transactions", "magento_orders")
        and layout.suggested.get("size") == STYLE_SIZE_COL
    ):
        f, notes = _prepare_styles(layout, frame)
        return f, notes, None
    return frame, (), None


def _prepare_returns_app(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Split multi-product cells into lines (the row count grows; the index keeps each line's file row)."""
    sug = suggest_mapping(list(frame.columns), "returns", frame)
    return split_lines(
        frame,
        sug.get("sku"),
        tuple(c for c in (sug.get("refund_amount"),) if c),
        tuple(c for c in (sug.get("comment"),) if c),
    )


_PREPARERS = {"amazon_all_orders": prepare_all_orders, "returns_app": _prepare_returns_app}


# An orders export's order status (WooCommerce, Magento, ERPs): the headers it goes by, and the statuses that say
# the order was never sold or was refunded as a whole (case-folded, accents kept; a "wc-" prefix dropped).
STATUS_HEADERS = frozenset(
    {
        "order status",
        "status",
        "orderstatus",
        "bestellstatus",
        "status der bestellung",
        "statut",
        "statut de la commande",
        "estado",
        "estado del pedido",
        "stato",
        "stato ordine",
        "stato dell ordine",
        "bestelstatus",
    }
)
NOT_SOLD_STATUS = re.compile(
    r"^(cancell?ed|failed|void(ed)?|declined|trash(ed)?|abandoned|storniert|abgebrochen|fehlgeschlagen|"
    r"annul[ée]e?|[ée]chou[ée]e?|cancelad[oa]|fallid[oa]|annullat[oa]|geannuleerd|mislukt)$"
)
REFUNDED_STATUS = re.compile(
    r"^(fully )?(refunded|erstattet|r[üu]ckerstattet|rembours[ée]e?|reembolsad[oa]|rimborsat[oa]|terugbetaald)$|"
    # the goods came back (marketplaces, ERPs): a return of the order, counted as its refund
    r"^(returned|retourniert|zur[üu]ckgesendet|retourn[ée]e?|devuelt[oa]|res[oa]|geretourneerd)$"
)
PARTLY_REFUNDED_STATUS = re.compile(
    r"^(partially|partly)[ _-]?refunded$|^teilweise (r[üu]ck)?erstattet$|^partiellement rembours[ée]e?$|"
    r"^parcialmente reembolsad[oa]$|^parzialmente rimborsat[oa]$|^gedeeltelijk terugbetaald$"
)


# statuses that say the order was sold and is (being) fulfilled: counted as sales without a word. Any other value
# (Magento's "closed", "pending", "on-hold", a store's own statuses) is counted as sold too, but the load report
# names it with its orders, since it may mean a refund or a cancellation in that system (settings
# refunded_statuses / cancelled_statuses say so).
SOLD_STATUS = re.compile(
    r"^(completed?|processing|shipped|partially shipped|delivered|fulfill?ed|paid|invoiced|dispatched|in transit|"
    r"ready to ship|abgeschlossen|versendet|verschickt|in bearbeitung|bezahlt|geliefert|zugestellt|"
    r"termin[ée]e?|exp[ée]di[ée]e?|en cours|livr[ée]e?|pay[ée]e?|completad[oa]|enviad[oa]|procesando|"
    r"entregad[oa]|pagad[oa]|completat[oa]|spedit[oa]|in lavorazione|consegnat[oa]|pagat[oa]|voltooid|"
    r"verzonden|in behandeling|afgeleverd|betaald)$"
)
# Magento's order grid export (headers of its own): "closed" is an order refunded in full by a credit memo there
MAGENTO_HEADERS = frozenset({"purchase point", "grand total purchased", "grand total base", "bill to name"})
MAGENTO_REFUNDED = "closed"


def is_magento(columns: Sequence[str]) -> bool:
    """True for Magento's order grid export: two or more of its own headers (MAGENTO_HEADERS)."""
    return len({normalize_header(c) for c in columns} & MAGENTO_HEADERS) >= 2


def status_kinds(
    status: pd.Series, columns: Sequence[str], settings: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(never sold, refunded in full, partly refunded) per row of an order-status column read by order_statuses:
    the words of NOT_SOLD_STATUS / REFUNDED_STATUS / PARTLY_REFUNDED_STATUS, Magento's "closed" as refunded
    (is_magento), and the user's own words (settings cancelled_statuses / refunded_statuses, any case)."""
    own_cancel = {str(v).strip().lower() for v in settings.get("cancelled_statuses") or ()}
    own_refund = {str(v).strip().lower() for v in settings.get("refunded_statuses") or ()}
    if is_magento(columns):
        own_refund.add(MAGENTO_REFUNDED)
    own_refund -= own_cancel
    # read per distinct status (an export holds a handful), then spread to the rows: a missing status is none
    codes, uniq = pd.factorize(status)
    words = pd.Series(uniq, dtype="string")
    not_sold = (words.str.fullmatch(NOT_SOLD_STATUS) | words.isin(list(own_cancel))).fillna(False).to_numpy(bool)
    refunded = (words.str.fullmatch(REFUNDED_STATUS) | words.isin(list(own_refund))).fillna(False).to_numpy(bool)
    refunded &= ~not_sold
    partly = words.str.fullmatch(PARTLY_REFUNDED_STATUS).fillna(False).to_numpy(bool) & ~not_sold & ~refunded
    known = codes >= 0

    def per_row(per_word: np.ndarray) -> np.ndarray:
        out = np.zeros(len(codes), dtype=bool)
        out[known] = per_word[codes[known]]
        return out

    return per_row(not_sold), per_row(refunded), per_row(partly)


def order_status_column(columns: Sequence[str]) -> str | None:
    """The order-status column of an orders export (STATUS_HEADERS), or None."""
    return next((c for c in columns if normalize_header(c) in STATUS_HEADERS), None)


def order_statuses(frame: pd.DataFrame, column: str) -> pd.Series:
    """The order status of each row, case-folded, spaces trimmed and WooCommerce's "wc-" prefix dropped (cleaned
    per distinct value: an export holds a handful)."""
    codes, uniq = pd.factorize(frame[column].astype("string"))
    clean = pd.Series(uniq, dtype="string").str.strip().str.lower().str.replace(r"^wc-", "", regex=True)
    return clean.reindex(codes).set_axis(frame.index)  # code -1 (no status): missing


def layout_rejects(
    layout: Layout, frame: pd.DataFrame, mapping: dict[str, str], settings: dict
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Rows a layout knows are not sales, or not customer returns: (kind per row or None, reason per row, notes).

    - Amazon All Orders: order-status Cancelled -> "cancelled" (never sold; counted, left out of every rate).
    - Any returns file: a reason or status saying the carrier brought the parcel back (UNDELIVERABLE_*,
      lost in transit, return to sender) -> "carrier_return", unless settings["count_carrier_returns"].
    """
    kind = np.full(len(frame), None, dtype=object)
    reason = np.full(len(frame), None, dtype=object)
    notes: list[str] = []
    if layout.key == "amazon_all_orders":
        m = cancelled_rows(frame)
        kind[m] = "cancelled"
        reason[m] = "Order status Cancelled: never sold, so neither a sale nor a return."
        if m.any():
            notes.append(
                f"{int(m.sum())} line(s) of cancelled orders are left out of every rate (listed as cancelled)."
            )
    status_col = order_status_column(list(frame.columns))
    if layout.role == "orders" and layout.key not in ("shopify_orders", "amazon_all_orders") and status_col:
        status = order_statuses(frame, status_col)
        m = status_kinds(status, list(frame.columns), settings)[0]
        if m.any():
            kind[m] = "cancelled"
            reason[m] = (
                f"{status_col} '" + frame[status_col].astype("string").str.strip()[m].to_numpy() + "': the order was "
                "never sold (cancelled or failed), so it is neither a sale nor a return."
            )
            notes.append(
                f"{int(m.sum()):,} line(s) of cancelled or failed orders ({status_col}) are left out of every rate "
                "(listed as cancelled)."
            )
    if layout.role == "returns" and not settings.get("count_carrier_returns", False):
        cols = [
            mapping.get("reason"),
            *[
                c
                for c in frame.columns
                if normalize_header(c)
                in (
                    "status",
                    "detailed disposition",
                    "return status",
                    "disposition",
                    "return type",
                    "return request status",
                )
            ],
        ]
        m = carrier_return_rows(frame, [c for c in cols if c]) & (kind == None)  # noqa: E711 - numpy object compare
        kind[m] = "carrier_return"
        reason[m] = (
            "The carrier brought the parcel back (undeliverable, refused or lost in transit): not a customer return."
        )
        if m.any():
            notes.append(
                f"{int(m.sum())} carrier return(s) (undeliverable, refused, lost in transit) are shown on the "
                "load report but left out of the customer return rate; set count_carrier_returns in the "
                "mapping settings to count them."
            )
    return kind, reason, tuple(notes)


# Product families for files without a collection (e.g. Online Retail II). Order matters: the first
# keyword found in the description wins, so specific families come before generic words.
FAMILY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Christmas", ("CHRISTMAS", "XMAS", "ADVENT", "SNOWFLAKE", "REINDEER", "SANTA", "BAUBLE")),
    ("Candles & T-lights", ("CANDLE", "T-LIGHT", "TLIGHT", "TEA LIGHT")),
    ("Lights", ("LIGHTS", "LIGHT", "LAMP", "LANTERN")),
    ("Bags", ("BAG", "PURSE", "TOTE", "SHOPPER")),
    ("Mugs & cups", ("MUG", "CUP", "BEAKER", "TEACUP")),
    (
        "Kitchen & baking",
        (
            "CAKE",
            "BAKING",
            "CAKESTAND",
            "PLATE",
            "BOWL",
            "JUG",
            "TEAPOT",
            "NAPKIN",
            "APRON",
            "TEA TOWEL",
            "LUNCH BOX",
            "JAR",
            "CUTLERY",
            "SPOON",
            "TIN",
        ),
    ),
    ("Cards & wrap", ("CARD", "WRAP", "GIFT TAG", "ENVELOPE", "PAPER", "TISSUE")),
    ("Boxes & storage", ("BOX", "BASKET", "STORAGE", "DRAWER", "CRATE", "HOLDER")),
    ("Signs & plaques", ("SIGN", "PLAQUE")),
    ("Cushions & textiles", ("CUSHION", "THROW", "BLANKET", "QUILT")),
    ("Clocks", ("CLOCK",)),
    ("Frames", ("FRAME",)),
    ("Hearts", ("HEART",)),
    ("Stationery", ("NOTEBOOK", "PENCIL", "PEN ", "STICKER", "CALENDAR", "DIARY", "ERASER", "RUBBER", "CHALK")),
    ("Jewellery & accessories", ("NECKLACE", "EARRINGS", "BRACELET", "RING", "HAIR", "BROOCH", "UMBRELLA")),
    ("Toys & games", ("TOY", "GAME", "DOLL", "PUZZLE", "DOMINO", "SKIPPING", "SPACEBOY", "DOLLY")),
    ("Garden", ("GARDEN", "PLANT", "FLOWER POT", "BIRD", "WATERING")),
    ("Decorations", ("DECORATION", "HANGING", "GARLAND", "BUNTING", "ORNAMENT", "WREATH")),
)


_FAMILY_RX = tuple(
    (family, re.compile("|".join(rf"\b{w.strip()}S?\b" if w.endswith(" ") else rf"\b{w}(?:S|ES)?\b" for w in words)))
    for family, words in FAMILY_KEYWORDS
)
_FAMILY_ANY = re.compile("|".join(rx.pattern for _, rx in _FAMILY_RX))  # matches where any family's words do


def family_from_description(descriptions: pd.Series) -> pd.Series:
    """Product family from a free-text description (FAMILY_KEYWORDS; else "Other").

    Computed on the distinct descriptions only, then mapped back, so 500k lines cost ~5k regex checks.
    """
    codes, values = pd.factorize(descriptions)
    up = pd.Series(values, dtype="string").str.upper().tolist()
    # the first family in the table's order whose words a description holds; one search with every family's
    # words first, so a description that names none of them (most of a gift shop's) costs one search, not 13
    found: list[str] = []
    for u in up:
        fam = "Other"
        if _FAMILY_ANY.search(u) is not None:
            fam = next(family for family, rx in _FAMILY_RX if rx.search(u) is not None)
        found.append(fam)
    out = pd.array(found, dtype="string")
    spread = out.take(codes, allow_fill=True) if len(codes) else out[:0]  # code -1 (missing) -> <NA>
    return pd.Series(spread, index=descriptions.index, dtype="string", name=descriptions.name).fillna("Other")


# Apparel product types read from product names, for orders exports without a category (a Shopify orders
# export names "Skinny Jean - Indigo / 32" but has no product type column). The right-most keyword of a title
# names its type; the table's order only breaks ties.
PRODUCT_TYPE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Jeans", ("JEAN", "DENIM")),
    ("T-shirts", ("TEE", "T-SHIRT", "TSHIRT", "T SHIRT")),
    ("Dresses", ("DRESS",)),
    ("Skirts", ("SKIRT",)),
    ("Shorts", ("SHORT",)),
    ("Trousers", ("PANT", "TROUSER", "CHINO", "JOGGER", "LEGGING")),
    ("Knitwear", ("SWEATER", "JUMPER", "CARDIGAN", "HOODIE", "SWEATSHIRT", "PULLOVER")),
    ("Shirts & tops", ("SHIRT", "BLOUSE", "TOP", "TANK", "POLO", "BODYSUIT")),
    ("Outerwear", ("JACKET", "COAT", "RAINCOAT", "OVERCOAT", "TRENCH", "PARKA", "BLAZER", "VEST", "GILET", "ANORAK")),
    ("Footwear", ("SHOE", "SNEAKER", "TRAINER", "BOOT", "SANDAL", "LOAFER", "HEEL")),
    ("Swimwear", ("SWIMSUIT", "BIKINI", "SWIM")),
    ("Underwear & socks", ("SOCK", "BRA", "BRIEF", "BOXER", "UNDERWEAR", "LINGERIE")),
    ("Accessories", ("BELT", "HAT", "CAP", "SCARF", "GLOVE", "BAG", "WALLET", "BEANIE")),
)
PRODUCT_TYPE_MIN_SHARE = 0.6  # of units: below it the names do not say the type (homeware, electronics ...)


_PRODUCT_TYPE_RX = tuple(
    (kind, re.compile("|".join(rf"\b{w}(?:S|ES)?\b" for w in words))) for kind, words in PRODUCT_TYPE_KEYWORDS
)
_PRODUCT_TYPE_ANY = re.compile("|".join(rx.pattern for _, rx in _PRODUCT_TYPE_RX))


def product_type_from_name(names: pd.Series, units: pd.Series | None = None) -> pd.Series | None:
    """Apparel product type per line from its product name (PRODUCT_TYPE_KEYWORDS; unrecognised names "Other"),
    or None when the names do not carry one: fewer than PRODUCT_TYPE_MIN_SHARE of the units recognised, or a
    single type (nothing to compare within). Computed on the distinct names, then mapped back.

    >>> product_type_from_name(pd.Series(["Skinny Jean - Blue / 32", "Pocket Tee - Black / M", "Pocket Tee"])).tolist()
    ['Jeans', 'T-shirts', 'T-shirts']
    >>> product_type_from_name(pd.Series(["Denim Jacket", "Short Sleeve Shirt", "T-Shirt Dress", "Raincoat"])).tolist()
    ['Outerwear', 'Shirts & tops', 'Dresses', 'Outerwear']
    >>> product_type_from_name(pd.Series(["WHITE HANGING HEART T-LIGHT HOLDER", "JUMBO BAG RED RETROSPOT"])) is None
    True
    """
    codes, values = pd.factorize(names)
    titles = pd.Series(values, dtype="string").str.split(" - ").str[0].str.upper()  # the title before the variant
    # English names the type with the last noun ("Denim Jacket", "Short Sleeve Shirt", "T-Shirt Dress"): the
    # right-most keyword of the title wins (ties: the table's order)
    found: list[str | None] = []
    for t in titles.fillna("").tolist():
        best, where = None, -1
        if _PRODUCT_TYPE_ANY.search(t) is None:  # no keyword at all (a gift shop's names): one search, not 13
            found.append(None)
            continue
        for kind, pat in _PRODUCT_TYPE_RX:
            for m in pat.finditer(t):
                if m.start() > where:
                    best, where = kind, m.start()
        found.append(best)
    typ = pd.Series(found, dtype="string")
    known = typ.notna().to_numpy(dtype=bool)
    if not len(codes) or not known.any():
        return None
    w = np.ones(len(codes)) if units is None else pd.to_numeric(units, errors="coerce").fillna(0).to_numpy(float)
    line_known = np.where(codes >= 0, known[np.maximum(codes, 0)], False)
    if w.sum() <= 0 or w[line_known].sum() / w.sum() < PRODUCT_TYPE_MIN_SHARE:
        return None
    if typ.dropna().nunique() < 2:
        return None
    out = pd.array(typ.fillna("Other").to_numpy(dtype=object), dtype="string")
    spread = out.take(codes, allow_fill=True)  # code -1 (no name) -> <NA>
    return pd.Series(spread, index=names.index, dtype="string", name="category")


__all__ = [
    "PRODUCT_TYPE_KEYWORDS",
    "product_type_from_name",
    "Layout",
    "LAYOUT_LABELS",
    "detect_layout",
    "guess_role",
    "prepare_frame",
    "layout_rejects",
    "family_from_description",
    "FAMILY_KEYWORDS",
]
