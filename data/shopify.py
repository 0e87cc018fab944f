"""Shopify exports read as what they are: orders with order-level refunds, cancellations apart, add-ons out.

Orders export (one row per line item; see ../shared/formats/shopify_orders_export.md):
- order-level fields are on an order's first row only: forward-filled within the order;
- `Lineitem name` is "Product title - Variant title"; the variant is split on " / " into colour and size,
  where the size is the part that reads as one (waist 28-40, XS-XXXL, "30W x 32L", EU/UK sizes, One Size);
- add-on lines (gift cards, package/shipping protection, return insurance, Route, tips, donations, and any
  line that does not require shipping) are not merchandise: reported, not analysed as products; buying
  protection or return insurance becomes an order attribute (`addon`);
- cancelled (`Cancelled at` set) and voided orders are not customer returns: their lines are set apart
  with kind "cancelled"; exchange orders created by a returns app (tag "redo-exchange-...", zero value)
  are replacements, not sales;
- `Source` becomes a readable channel (web = Online Store, numbers = "App 580111");
- the order-level `Refunded Amount` is attributed to lines where the data says which (see
  attribute_refunds), and `line_refunded` says so per line (1 / 0, missing = not known).

Products export (Handle, Title, Vendor, Type, Option1 Name/Value..., Variant SKU): recognised as the
catalog, giving product, collection (Type, else Product Category), category and size by SKU.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd

SHOPIFY_ORDER_LEVEL = (
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Created at",
    "Refunded Amount",
    "Source",
    "Referring Site",
    "Landing Site",
    "Tags",
    "Cancelled at",
    "Payment Method",
    "Billing Country",
    "Shipping Country",
    "Id",
    "Customer ID",
)
SIZE_COL = "Lineitem name (size)"
COLOUR_COL = "Lineitem name (colour)"
PRODUCT_COL = "Lineitem name (product)"
JOURNEY_COL = "Landing Site (journey)"
SKU_COL = "Lineitem sku (or name)"
CHANNEL_COL = "Source (channel)"
PROMOTION_COL = "Discount Code (promotion)"
ADDON_COL = "Add-ons bought"
COUNTRY_COL = "Shipping Country"
COLLECTION_COL = "Vendor (collection)"
LINE_REFUND_COL = "Refund attributed to line"

SOURCE_NAMES = {
    "web": "Online Store",
    "pos": "Point of Sale",
    "shopify_draft_order": "Draft orders",
    "subscription_contract": "Subscriptions",
    "tiktok": "TikTok Shop",
    "iphone": "Shopify app",
    "android": "Shopify app",
    "buy_button": "Buy Button",
}

_ADDON_PATTERNS = (
    ("Gift card", r"\bgift\s*card\b|\be-?gift\b"),
    ("Return insurance", r"free\s+(unlimited\s+)?returns?\b|return\s+(insurance|protection|guarantee)|\bre:?do\b"),
    ("Package protection", r"\bprotet?ct?ion\b|\broute\b|\binsurance\b|shipping\s+protection|\bnavidium\b|\bextend\b"),
    ("Tip", r"^\s*tip\b|\bgratuity\b"),
    ("Donation", r"\bdonation\b|\bcharity\b|\broundup\b|\bround\s*up\b"),
)
_ADDON_RE = [(label, re.compile(re.sub(r"\((?!\?)", "(?:", p), re.IGNORECASE)) for label, p in _ADDON_PATTERNS]
# size vocabulary: letter sizes, waist(/length) numbers, "30W x 32L", EU/UK/US prefixed, one size, kids' ages
_SIZE_RE = re.compile(
    r"^(?:(?:XXS|XS|S|M|L|XL|XXL|XXXL|2XL|3XL|4XL|5XL|SMALL|MEDIUM|LARGE|X-LARGE|XX-LARGE)(?:\s*(?:TALL|PETITE|SHORT|LONG))?"
    r"|(?:(?:EU|UK|US|FR|IT|DE)\s*)?\d{1,2}(?:[.,]5)?(?:\s*(?:W|L|R|S|T))?"
    r"|\d{2}\s*W?\s*[xX/]\s*\d{2}\s*L?"
    r"|W\s*\d{2}\s*L\s*\d{2}"
    r"|ONE\s*SIZE|OS|O/S|ONESIZE|FREE\s*SIZE"
    r"|\d{1,2}\s*-\s*\d{1,2}\s*(?:Y|YRS|YEARS|M|MONTHS)?"
    r"|\d{1,2}(?:[.,]5)?\s*(?:US|UK|EU))$",
    re.IGNORECASE,
)
_PRICE_RE = re.compile(r"^[$€£¥]\s?\d|^\d+[.,]\d{2}\s?(?:USD|EUR|GBP|CAD|AUD)?$", re.IGNORECASE)
_EXCHANGE_TAG = re.compile(
    r"(?:^|,)\s*(?:redo-exchange|loop-exchange|exchange order|aftership-exchange)[^,]*", re.IGNORECASE
)
_RETURN_TAG = re.compile(r"(?:^|,)\s*(?:return requested|returned|return|order returned[^,]*)\s*(?:,|$)", re.IGNORECASE)


def is_shopify_products(norm_columns: set[str]) -> bool:
    """Shopify products export: Handle, Title, Variant SKU and option columns (normalised headers)."""
    return {"handle", "title", "variant sku", "option1 name", "option1 value"} <= norm_columns


def addon_kind(names: pd.Series) -> pd.Series:
    """'Gift card' / 'Return insurance' / 'Package protection' / 'Tip' / 'Donation' for add-on line names, else NA."""
    out = pd.Series(pd.NA, index=names.index, dtype="string")
    text = names.astype("string").fillna("")
    for label, rx in _ADDON_RE:
        hit = out.isna() & text.str.contains(rx, regex=True).fillna(False)
        out = out.mask(hit, label)
    return out


def is_size(text: pd.Series) -> pd.Series:
    """Whether each text reads as a size (see _SIZE_RE); prices such as '$4.98' do not."""
    t = text.astype("string").fillna("").str.strip()
    full = t.str.fullmatch(_SIZE_RE).fillna(False).astype(bool)
    price = t.str.contains(_PRICE_RE).fillna(False).astype(bool)
    return full & ~price


def split_variant(names: pd.Series) -> pd.DataFrame:
    """product, size and colour from "Product - Colour / Size" line-item names (any order of the options).

    >>> split_variant(pd.Series(["Jean - Distressed Acid Noir / 31", "Tee - M", "Pant - Khaki / 30W x 32L", "Tip"]))[
    ...     ["product", "size", "colour"]].values.tolist()
    [['Jean', '31', 'Distressed Acid Noir'], ['Tee', 'M', <NA>], ['Pant', '30W x 32L', 'Khaki'], ['Tip', <NA>, <NA>]]
    """
    name = names.astype("string").fillna("").str.strip()
    parts = name.str.rsplit(" - ", n=1, expand=True)
    if parts.shape[1] < 2:
        parts[1] = pd.NA
    product = parts[0].astype("string")
    variant = parts[1].astype("string")
    opts = variant.str.split(" / ", expand=True)
    size = pd.Series(pd.NA, index=name.index, dtype="string")
    colour = pd.Series(pd.NA, index=name.index, dtype="string")
    if opts.shape[1]:
        opts = opts.astype("string").apply(lambda s: s.str.strip())
        for k in range(opts.shape[1] - 1, -1, -1):  # the size is usually the last option
            o = opts[k]
            hit = (size.isna() & is_size(o) & o.notna()).fillna(False).astype(bool)
            size = size.mask(hit, o)
        rest = []
        for k in range(opts.shape[1]):
            o = opts[k]
            rest.append(o.where((o.notna() & (o != size.fillna("\0"))).fillna(False).astype(bool)))
        others = pd.concat(rest, axis=1)
        colour = (
            others.apply(lambda r: " / ".join(str(v) for v in r if isinstance(v, str) and v), axis=1)
            if len(others)
            else colour
        )
        colour = colour.astype("string").replace("", pd.NA)
        # a variant that is neither a size nor anything else known ("$4.98", "Default Title") is no colour
        junk = colour.fillna("").str.contains(_PRICE_RE).fillna(False).astype(bool) | colour.fillna("").eq(
            "Default Title"
        )
    colour = colour.mask(junk.to_numpy(dtype=bool), pd.NA)
    no_variant = variant.isna()
    product = product.where(~no_variant, name)
    return pd.DataFrame({"product": product, "size": size.astype("string"), "colour": colour.astype("string")})


def channel_names(source: pd.Series) -> pd.Series:
    """Readable channel names: web -> Online Store, pos -> Point of Sale, digits -> 'App 580111'."""
    s = source.astype("string").fillna("").str.strip()
    low = s.str.lower()
    out = low.map(SOURCE_NAMES).astype("string")
    numeric = s.str.fullmatch(r"\d+(\.0)?").fillna(False)
    out = out.mask(numeric, "App " + s.str.replace(r"\.0$", "", regex=True))
    out = out.fillna(s.where(s != "", pd.NA))
    return out.astype("string")


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype("string").str.replace(r"[,$€£\s]", "", regex=True), errors="coerce").astype("float64")


def _true(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("").str.strip().str.lower().isin(["false", "no", "0"])


def prepare_orders(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...], pd.Series, pd.Series]:
    """Derived source columns for a Shopify orders export, plus the kind and reason of rows set apart.

    Returns (frame with derived columns, notes, kind, reason): kind is "cancelled" / "non_merchandise" /
    "exchange_order" (replaces a returned item; no new sale) or missing for rows
    that are loaded. The row count never changes.
    """
    notes: list[str] = []
    f = frame.copy()
    order = f["Name"].where(f["Name"].str.strip() != "").ffill().fillna("")
    f["Name"] = order
    level = [c for c in SHOPIFY_ORDER_LEVEL if c in f.columns]
    if level:
        vals = f[level].where(f[level].apply(lambda s: s.str.strip() != ""))
        f[level] = vals.groupby(order.to_numpy(), sort=False).ffill().fillna("")
    name = (
        f["Lineitem name"].astype("string").fillna("").str.strip()
        if "Lineitem name" in f.columns
        else pd.Series("", index=f.index, dtype="string")
    )
    uniq = pd.Series(name.unique(), dtype="string")  # line names repeat: split each distinct name once
    parts = split_variant(uniq).set_index(uniq.to_numpy()).reindex(name.to_numpy())
    parts.index = f.index
    f[PRODUCT_COL] = parts["product"].fillna("")
    f[SIZE_COL] = parts["size"].fillna("")
    f[COLOUR_COL] = parts["colour"].fillna("")
    sku = (
        f["Lineitem sku"].astype("string").fillna("").str.strip()
        if "Lineitem sku" in f.columns
        else pd.Series("", index=f.index, dtype="string")
    )
    no_sku = sku.eq("")
    f[SKU_COL] = sku.where(~no_sku, name)

    # ---- rows set apart: cancelled / voided orders, add-on lines, exchange orders
    kind = pd.Series(pd.NA, index=f.index, dtype="object")
    reason = pd.Series(pd.NA, index=f.index, dtype="object")
    fin = (
        f["Financial Status"].astype("string").fillna("").str.strip().str.lower()
        if "Financial Status" in f
        else pd.Series("", index=f.index, dtype="string")
    )
    cancelled_at = (
        f["Cancelled at"].astype("string").fillna("").str.strip()
        if "Cancelled at" in f
        else pd.Series("", index=f.index, dtype="string")
    )
    is_cancel = cancelled_at.ne("")
    is_void = fin.eq("voided") & ~is_cancel
    kind[is_cancel] = "cancelled"
    reason[is_cancel] = "Order cancelled (Cancelled at is set): a cancellation, not a customer return."
    kind[is_void] = "cancelled"
    reason[is_void] = "Order voided (Financial Status voided): the payment was never taken."
    addon = addon_kind(name)
    no_ship = (
        _true(f["Lineitem requires shipping"]) if "Lineitem requires shipping" in f else pd.Series(False, index=f.index)
    )
    addon = addon.mask(addon.isna() & no_ship, "Other item that does not ship")
    nm = addon.notna() & kind.isna()
    kind[nm] = "non_merchandise"
    reason[nm] = "Add-on line, not merchandise (" + addon[nm].astype(str).str.lower() + ")"
    tags = f["Tags"].astype("string").fillna("") if "Tags" in f else pd.Series("", index=f.index, dtype="string")
    exch = tags.str.contains(_EXCHANGE_TAG).fillna(False) & kind.isna()
    kind[exch] = "exchange_order"
    reason[exch] = (
        "Exchange order created by a returns app (tag "
        + tags[exch]
        .astype(str)
        .str.extract(r"((?:redo|loop|aftership)-exchange[^,]*|exchange order)", flags=re.IGNORECASE)[0]
        .fillna("exchange")
        + "): a replacement for a returned item, not a new sale."
    )
    if bool((no_sku & kind.isna()).any()):  # add-on lines set apart often have no SKU: not worth a note
        notes.append(
            f"{int((no_sku & kind.isna()).sum()):,} merchandise line item(s) have no SKU; their line item "
            "name is used as the SKU."
        )
    # ---- order attributes
    bought = addon.isin(["Return insurance", "Package protection"])
    per_order = (
        pd.DataFrame(
            {"o": order, "ins": bought & addon.eq("Return insurance"), "prot": bought & addon.eq("Package protection")}
        )
        .groupby("o", sort=False)[["ins", "prot"]]
        .any()
    )
    lab = np.where(
        per_order["ins"] & per_order["prot"],
        "Protection and return insurance",
        np.where(per_order["ins"], "Return insurance", np.where(per_order["prot"], "Package protection", "No add-on")),
    )
    f[ADDON_COL] = order.map(dict(zip(per_order.index, lab))).fillna("No add-on")
    if "Source" in f:
        f[CHANNEL_COL] = channel_names(f["Source"]).fillna("")
    if "Discount Code" in f:
        code = f["Discount Code"].astype("string").fillna("").str.strip().str.upper()
        f[PROMOTION_COL] = code.where(code != "", "No code")
    if "Vendor" in f:
        v = f["Vendor"].astype("string").fillna("").str.strip()
        merch_vendors = v[kind.isna() & (v != "")].unique()
        f[COLLECTION_COL] = v if len(merch_vendors) >= 2 else ""
    if {"Landing Site", "Referring Site"} & set(f.columns):
        landing = f["Landing Site"] if "Landing Site" in f.columns else pd.Series("", index=f.index, dtype="string")
        referring = (
            f["Referring Site"] if "Referring Site" in f.columns else pd.Series("", index=f.index, dtype="string")
        )
        utm = landing.str.extract(r"[?&]utm_campaign=([^&#]+)", expand=False)
        path = landing.str.extract(r"^(?:https?://[^/]+)?(/[^?#]*)", expand=False).str.rstrip("/")
        ref = referring.str.extract(r"^(?:https?://)?(?:www\.)?([^/?#]+)", expand=False)
        f[JOURNEY_COL] = utm.fillna(path.where(path.fillna("").str.len() > 0)).fillna(ref).fillna("")
    if "Refunded Amount" in f:
        f[LINE_REFUND_COL] = (
            attribute_refunds(f, kind.isna()).map(lambda v: "" if pd.isna(v) else ("1" if v else "0")).astype("string")
        )
    rtag = tags.str.contains(_RETURN_TAG).fillna(False) & kind.isna()
    if rtag.any():
        notes.append(
            f"{order[rtag].nunique():,} order(s) are tagged as returned or return requested; the refund "
            "outcome counts an order when money was refunded."
        )
    return f, tuple(notes), kind, reason


def attribute_refunds(f: pd.DataFrame, merch: pd.Series, max_lines: int = 12) -> pd.Series:
    """Which lines an order-level refund was for, where the data says so (1 refunded, 0 not, NaN unknown).

    Per order with a refund and merchandise lines: a single line takes the refund; otherwise lines marked
    `restocked` are the refunded ones; otherwise the unique set of lines whose amounts (price x quantity
    less the line discount, plus the order's tax at its rate, with or without the order's shipping) add
    up to the refunded amount within 1% (orders of at most `max_lines` lines). Orders without a refund:
    every line 0. Anything else stays unknown.
    """
    out = pd.Series(np.nan, index=f.index, dtype="float64")
    order = f["Name"]
    refunded = _num(f["Refunded Amount"]).fillna(0.0)
    price = _num(f["Lineitem price"]) if "Lineitem price" in f else pd.Series(np.nan, index=f.index)
    qty = _num(f["Lineitem quantity"]).fillna(1.0) if "Lineitem quantity" in f else pd.Series(1.0, index=f.index)
    disc = _num(f["Lineitem discount"]).fillna(0.0) if "Lineitem discount" in f else pd.Series(0.0, index=f.index)
    net = price * qty - disc
    taxes = _num(f["Taxes"]).fillna(0.0) if "Taxes" in f else pd.Series(0.0, index=f.index)
    shipping = _num(f["Shipping"]).fillna(0.0) if "Shipping" in f else pd.Series(0.0, index=f.index)
    status = (
        f["Lineitem fulfillment status"].astype("string").fillna("").str.lower()
        if "Lineitem fulfillment status" in f
        else pd.Series("", index=f.index, dtype="string")
    )
    m = merch.to_numpy()
    out[m & (refunded <= 0).to_numpy()] = 0.0
    cand = m & (refunded > 0).to_numpy()
    if not cand.any():
        return out
    idx = np.flatnonzero(cand)
    # per refunded order, in plain arrays (a pandas groupby per order costs ~0.5 ms each)
    okey = pd.factorize(order.to_numpy()[idx])[0]
    sort = np.argsort(okey, kind="stable")
    idx, okey = idx[sort], okey[sort]
    bounds = np.flatnonzero(np.diff(okey)) + 1
    net_a, st_a = net.to_numpy(dtype="float64"), status.to_numpy(dtype=object)
    R_a, tax_a, ship_a = (
        refunded.to_numpy(dtype="float64"),
        taxes.to_numpy(dtype="float64"),
        shipping.to_numpy(dtype="float64"),
    )
    res = out.to_numpy(dtype="float64").copy()
    for ix in np.split(idx, bounds):
        if len(ix) == 1:
            res[ix] = 1.0
            continue
        rest = st_a[ix] == "restocked"
        if rest.any():
            res[ix] = rest.astype("float64")
            continue
        nets = net_a[ix]
        if len(ix) > max_lines or np.isnan(nets).any():
            continue
        base = nets.sum()
        rate = tax_a[ix[0]] / base if base > 0 else 0.0
        R, ship = float(R_a[ix[0]]), float(ship_a[ix[0]])
        tol = max(0.02, 0.01 * R)
        hits = []
        for k in range(1, len(ix) + 1):
            for combo in itertools.combinations(range(len(ix)), k):
                tot = nets[list(combo)].sum() * (1 + rate)
                if abs(tot - R) <= tol or (ship > 0 and abs(tot + ship - R) <= tol):
                    hits.append(set(combo))
        if len(hits) == 1:
            pick = np.zeros(len(ix))
            pick[list(hits[0])] = 1.0
            res[ix] = pick
        elif hits:
            # several subsets fit (e.g. two lines of the same price): the lines common to every fit are known
            common = set.intersection(*hits)
            never = set(range(len(ix))) - set().union(*hits)
            for j in common:
                res[ix[j]] = 1.0
            for j in never:
                res[ix[j]] = 0.0
    out = pd.Series(res, index=f.index, dtype="float64")
    return out


def prepare_products(frame: pd.DataFrame) -> pd.DataFrame:
    """Shopify products export -> derived columns for the catalog mapping: product title, collection
    (Type, else Product Category), category and size (the option named Size) forward-filled by Handle."""
    f = frame.copy()
    handle = f["Handle"].astype("string").fillna("")
    for c in ("Title", "Vendor", "Type", "Product Category", "Option1 Name", "Option2 Name", "Option3 Name"):
        if c in f:
            v = f[c].astype("string").where(f[c].astype("string").fillna("").str.strip() != "")
            f[c] = v.groupby(handle.to_numpy(), sort=False).ffill().fillna("")
    size = pd.Series("", index=f.index, dtype="string")
    for k in (1, 2, 3):
        n, v = f"Option{k} Name", f"Option{k} Value"
        if n in f and v in f:
            pick = (
                f[n]
                .astype("string")
                .str.strip()
                .str.lower()
                .isin(["size", "taille", "größe", "grosse", "talla", "waist"])
            )
            size = size.mask((size == "") & pick, f[v].astype("string").fillna(""))
    f["Size (option)"] = size
    typ = f["Type"].astype("string").fillna("") if "Type" in f else pd.Series("", index=f.index, dtype="string")
    cat = f["Product Category"].astype("string").fillna("") if "Product Category" in f else typ
    f["Collection (type)"] = typ.where(typ != "", cat.str.split(" > ").str[-1].fillna(""))
    f["Category (product category)"] = cat.str.split(" > ").str[-1].fillna("").where(cat != "", typ)
    return f


PRODUCTS_MAPPING = {
    "sku": "Variant SKU",
    "product_name": "Title",
    "collection": "Collection (type)",
    "category": "Category (product category)",
    "size": "Size (option)",
    "unit_price": "Variant Price",
}


def orders_mapping(cols: list[str]) -> dict:
    """The no-effort mapping of a Shopify orders export (source columns after prepare_orders)."""
    sug = {
        "order_id": "Name",
        "order_date": "Created at",
        "sku": SKU_COL,
        "quantity": "Lineitem quantity",
        "unit_price": "Lineitem price",
        "product_name": PRODUCT_COL,
        "size": SIZE_COL,
    }
    present = set(cols)
    if "Email" in present:
        sug["customer_id"] = "Email"
    elif "Customer ID" in present:
        sug["customer_id"] = "Customer ID"
    if "Source" in present:
        sug["channel"] = CHANNEL_COL
    if {"Landing Site", "Referring Site"} & present:
        sug["journey"] = JOURNEY_COL
    if "Discount Code" in present:
        sug["promotion"] = PROMOTION_COL
    if "Shipping Country" in present:
        sug["country"] = COUNTRY_COL
    if "Vendor" in present:
        sug["collection"] = COLLECTION_COL
    if "Lineitem name" in present:
        sug["addon"] = ADDON_COL
    if "Refunded Amount" in present:  # order-level refunds: the outcome when no returns file is loaded
        sug["order_refunded"] = "Refunded Amount"
        sug["line_refunded"] = LINE_REFUND_COL
    return sug


__all__ = [
    "prepare_orders",
    "prepare_products",
    "attribute_refunds",
    "split_variant",
    "channel_names",
    "addon_kind",
    "is_size",
    "orders_mapping",
    "is_shopify_products",
    "PRODUCTS_MAPPING",
]
