"""A synthetic Shopify orders export with every quirk real stores show, and planted effects with known truth.

Quirks (see ../shared/formats/shopify_orders_export.md): one row per line item with order-level fields on
the first row only; timestamps with a UTC offset that changes with daylight saving (-0700 / -0800);
partial and full refunds as an order-level `Refunded Amount`; cancelled orders (some refunded, some voided)
and voided orders; add-on lines (package protection, the misspelt "Package Protetion", return insurance,
Route, tips, gift cards) that do not require shipping; numeric sales-channel app ids in Source; variants
written "Colour / Size" (some longer than 20 characters) and "30W x 32L"; Vendor holding the fit; tags
marking returns and exchange orders; restocked line statuses; and an export split in two files that
overlap by a few orders.

Planted effects (the truth tests look for), on the per-line refund probability:
- bracketing orders (one jean in two sizes) send one size back most of the time (order refund ~45%);
- the Nordstrom marketplace source refunds 3x as often as the web store;
- the SKINNY fit refunds 2.2x as often as other jeans;
- discount code NA40 doubles the chance; buyers of the return-insurance add-on 1.6x.
With `effects=False` none of these is planted (every multiplier 1, the extra sizes of bracketing orders come
back at their product's base probability) but the product types keep their base rates (jeans 0.085, tees 0.05,
carpenter pants 0.09, belts 0.03: structure, not a finding). The two modes share a seed's random stream only up
to the first refund that differs (later draws depend on refunds), so they are different exports, not a pair.

>>> files, truth = generate_shopify_export(seed=1, n_orders=400)
>>> sorted(files)
['orders_export_1.csv', 'orders_export_2.csv']
>>> bool(truth.orders["cancelled"].sum() > 0)
True
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

COLUMNS = (
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
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
)
# order-level fields: written on an order's first line only (the export's quirk); Name, Vendor and the
# Lineitem columns are on every line
ORDER_LEVEL = tuple(c for c in COLUMNS if c not in ("Name", "Vendor") and not c.startswith("Lineitem"))

JEANS = (
    ("Greyson Jean", "GREYSON", 128.0),
    ("Brando Jean", "BRANDO", 138.0),
    ("Skinny Jean", "SKINNY", 118.0),
    ("Slim Jean", "SLIM", 124.0),
)
JEAN_COLOURS = ("Noir", "Distressed Acid Noir", "Indigo Rinse", "Light Wash")
WAISTS = tuple(str(w) for w in range(28, 37))
TEES = (("Pocket Tee", "BASICS", 38.0), ("Heavyweight Tee", "BASICS", 44.0))
TEE_COLOURS = ("Cool Grey", "Black", "Bone")
TEE_SIZES = ("S", "M", "L", "XL", "XXL")
CARPENTER = ("Carpenter Pant", "WORKWEAR", 148.0)
CARPENTER_SIZES = ("30W x 30L", "30W x 32L", "32W x 30L", "32W x 32L", "34W x 32L", "36W x 34L")
BELT = ("Leather Belt", "ACCESSORIES", 58.0)
SOURCES = (
    ("web", 0.66),
    ("pos", 0.04),
    ("shopify_draft_order", 0.02),
    ("580111", 0.08),
    ("Nordstrom", 0.10),
    ("tiktok", 0.06),
    ("24986320897", 0.04),
)
SOURCE_MULT = {"Nordstrom": 3.0}
BASE_P = {"jean": 0.085, "tee": 0.05, "carpenter": 0.09, "belt": 0.03}
SKINNY_MULT, NA40_MULT, INSURANCE_MULT = 2.2, 2.0, 1.6
BRACKET_P = 0.5  # chance each extra size of a bracketing order comes back
TAX = 0.08
ADDONS = {
    "protection": ("Package Protetion Valid in US.", "$4.98", 4.98),
    "protection_ok": ("Package Protection Valid in US.", "$2.98", 2.98),
    "insurance": ("Free Unlimited Return Valid in US.", "$3.50", 3.50),
    "route": ("Route Package Protection", "$1.95", 1.95),
    "tip": ("Tip", None, 5.00),
}


@dataclass(frozen=True)
class ShopifyTruth:
    """What the generator planted. orders: one row per order (name, source, cancelled, voided, refunded,
    intent, discount, insurance, exchange_order, in_file_1, in_file_2); lines: one row per merchandise line
    (name, sku, product, vendor, size, quantity, refunded); addon_lines: count of add-on lines written."""

    orders: pd.DataFrame
    lines: pd.DataFrame
    addon_lines: int
    gift_card_lines: int
    # the multipliers actually applied ({} when nothing was planted) and the return chance of a bracketing
    # order's extra sizes (None: they return at their base probability)
    multipliers: dict[str, float] = field(default_factory=dict)
    bracket_p: float | None = None


def _ts(t: pd.Timestamp) -> str:
    """Shopify's '2026-03-28 22:29:09 -0700' with the offset of US Pacific time on that day."""
    off = "-0700" if _pdt(t) else "-0800"
    return t.strftime("%Y-%m-%d %H:%M:%S ") + off


def _pdt(t: pd.Timestamp) -> bool:
    y = t.year
    start = pd.Timestamp(date(y, 3, 8)) + pd.Timedelta(days=(6 - date(y, 3, 8).weekday()) % 7)  # 2nd Sunday of March
    end = pd.Timestamp(date(y, 11, 1)) + pd.Timedelta(days=(6 - date(y, 11, 1).weekday()) % 7)  # 1st Sunday of Nov
    return bool(start <= t < end)


def _money(x: float) -> str:
    return f"{x:.2f}"


def generate_shopify_export(
    seed: int = 7,
    n_orders: int = 6000,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
    overlap: int = 25,
    effects: bool = True,
) -> tuple[dict[str, bytes], ShopifyTruth]:
    """Two overlapping Shopify orders-export CSV files (name -> bytes) and the truth behind them;
    `effects=False` plants nothing but keeps the product types' base rates (module docstring)."""
    rng = np.random.default_rng(seed)
    source_mult = SOURCE_MULT if effects else {}
    skinny_mult, na40_mult, insurance_mult = (SKINNY_MULT, NA40_MULT, INSURANCE_MULT) if effects else (1.0, 1.0, 1.0)
    bracket_p = BRACKET_P if effects else None
    span = (pd.Timestamp(end) - pd.Timestamp(start)).days
    days = np.sort(rng.integers(0, span + 1, n_orders))
    secs = rng.integers(6 * 3600, 23 * 3600, n_orders)
    created = [pd.Timestamp(start) + pd.Timedelta(days=int(d), seconds=int(s)) for d, s in zip(days, secs)]
    src_names = [s for s, _ in SOURCES]
    src_p = np.array([p for _, p in SOURCES])
    sources = rng.choice(src_names, n_orders, p=src_p / src_p.sum())
    rows: list[dict] = []
    olist: list[dict] = []
    lines_truth: list[dict] = []
    addon_lines = gift_lines = 0
    customers = [f"customer{i}@example.com" for i in range(int(n_orders * 0.75))]
    for i in range(n_orders):
        name = f"#{1001 + i}"
        src = str(sources[i])
        t = created[i]
        kind = rng.random()
        discount = "NA40" if rng.random() < 0.10 else ("WELCOME10" if rng.random() < 0.1 else "")
        insurance = src == "web" and rng.random() < 0.15
        protection = src in ("web", "tiktok") and rng.random() < 0.35
        items: list[tuple] = []  # (product, vendor, variant, price, qty, family, sku)
        intent = "multi_item"
        if kind < 0.02:
            intent = "gift_card"
        elif kind < 0.47:
            intent = "single_item"
            items.append(_jean(rng))
        elif kind < 0.57:
            intent = "bracketing"
            j = _jean(rng)
            w = int(j[2].split(" / ")[1])
            other = str(w + 1 if w < 36 else w - 1)
            colour = j[2].split(" / ")[0]
            items += [j, (j[0], j[1], f"{colour} / {other}", j[3], 1, "jean", _sku(j[0], colour, other))]
        else:
            k = int(rng.integers(2, 4))
            for _ in range(k):
                r = rng.random()
                items.append(
                    _jean(rng)
                    if r < 0.35
                    else _tee(rng)
                    if r < 0.7
                    else _carpenter(rng)
                    if r < 0.88
                    else (BELT[0], BELT[1], None, BELT[2], 1, "belt", "BELT-OS")
                )
            names = {(it[0], it[2]) for it in items}
            if len(names) < len(items):  # a repeated variant: one line, two units
                items = list({(it[0], it[2]): it for it in items}.values())
                items[0] = items[0][:4] + (2,) + items[0][5:]
            prods = [it[0] for it in items]
            if len(set(prods)) < len(prods):
                intent = (
                    "bracketing"
                    if any(  # the same product in two sizes (a second colour is not bracketing)
                        len({(it[2] or "").split(" / ")[-1] for it in items if it[0] == p}) > 1 for p in set(prods)
                    )
                    else intent
                )
        # ---- refunds (per merchandise line)
        mult = (
            source_mult.get(src, 1.0)
            * (na40_mult if discount == "NA40" else 1.0)
            * (insurance_mult if insurance else 1.0)
        )
        refunded: list[bool] = []
        p_refund: list[float] = []  # each merchandise line's refund probability before cancellation
        seen_products: dict[str, int] = {}
        for it in items:
            p = BASE_P[it[5]] * mult * (skinny_mult if it[1] == "SKINNY" else 1.0)
            if bracket_p is not None and intent == "bracketing" and it[0] in seen_products:
                p = max(p, bracket_p)
            seen_products[it[0]] = seen_products.get(it[0], 0) + 1
            p_refund.append(min(p, 0.95))
            refunded.append(bool(rng.random() < p_refund[-1]))
        disc_rate = 0.4 if discount == "NA40" else (0.1 if discount == "WELCOME10" else 0.0)
        nets = [it[3] * it[4] * (1 - disc_rate) for it in items]
        addons: list[tuple[str, str | None, float, str]] = []
        if intent == "gift_card":
            gift_lines += 1
            addons.append(("HOLIDAY GIFT CARD", "$100.00 USD", 100.0, "GIFTCARD-100"))
        if protection:
            addons.append(ADDONS["protection" if rng.random() < 0.7 else "protection_ok"] + ("",))
        if insurance:
            addons.append(ADDONS["insurance"] + ("",))
        if src == "web" and rng.random() < 0.03:
            addons.append(ADDONS["route"] + ("",))
        if src == "pos" and rng.random() < 0.3:
            addons.append(ADDONS["tip"] + ("",))
        addon_lines += sum(1 for a in addons if not a[0].startswith("HOLIDAY"))
        subtotal = sum(nets) + sum(a[2] for a in addons)
        shipping = 0.0 if subtotal >= 100 or intent == "gift_card" else 8.0
        taxes = round(sum(nets) * TAX, 2)
        total = round(subtotal + shipping + taxes, 2)
        # ---- status
        cancelled = rng.random() < 0.035
        voided = (not cancelled) and rng.random() < 0.01
        restocked = False
        if cancelled:
            refunded = [False] * len(items)
            fin = "refunded" if rng.random() < 0.5 else "voided"
            refund_amt = total if fin == "refunded" else 0.0
        elif voided:
            refunded = [False] * len(items)
            fin, refund_amt = "voided", 0.0
        elif any(refunded):
            refund_amt = round(sum(n * (1 + TAX) for n, r in zip(nets, refunded) if r), 2)
            if rng.random() < 0.15:
                refund_amt = round(max(refund_amt - 6.0, 1.0), 2)  # a restocking fee: amounts no longer add up
            fin = "refunded" if all(refunded) else "partially_refunded"
            restocked = rng.random() < 0.4
        else:
            fin, refund_amt = "paid", 0.0
        tags = []
        if any(refunded) and rng.random() < 0.3:
            tags.append("Return Requested")
        if src == "Nordstrom":
            tags.append("Nordstrom")
        exchange_order = (not cancelled) and (not any(refunded)) and rng.random() < 0.015
        if exchange_order:
            tags.append(f"redo-exchange-{rng.integers(10**6, 10**7)}")
        if intent == "gift_card":
            refunded, refund_amt, fin = [], 0.0, fin if (cancelled or voided) else "paid"
        in1 = i < n_orders // 2 + overlap
        in2 = i >= n_orders // 2
        olist.append(
            {
                "name": name,
                "order_date": t.normalize(),
                "source": src,
                "cancelled": cancelled,
                "voided": voided and not cancelled,
                "refunded": bool(any(refunded)),
                "refund_amount": refund_amt,
                "intent": intent,
                "discount": discount,
                "insurance": insurance,
                "exchange_order": exchange_order,
                "in_file_1": in1,
                "in_file_2": in2,
                "n_items": len(items),
            }
        )
        email = customers[int(rng.integers(0, len(customers)))]
        order_fields = {
            "Email": email,
            "Financial Status": fin,
            "Paid at": _ts(t),
            "Fulfillment Status": "unfulfilled"
            if cancelled
            else ("restocked" if restocked and all(refunded) else "fulfilled"),
            "Fulfilled at": "" if cancelled else _ts(t + pd.Timedelta(days=1)),
            "Accepts Marketing": "no",
            "Currency": "USD",
            "Subtotal": _money(subtotal),
            "Shipping": _money(shipping),
            "Taxes": _money(taxes),
            "Total": _money(total),
            "Discount Code": discount,
            "Discount Amount": _money(sum(it[3] * it[4] for it in items) * disc_rate),
            "Shipping Method": "Standard" if shipping else "Free Shipping",
            "Created at": _ts(t),
            "Billing Country": "US",
            "Shipping Country": "US" if rng.random() < 0.9 else "CA",
            "Notes": "",
            "Note Attributes": "",
            "Cancelled at": _ts(t + pd.Timedelta(hours=3)) if cancelled else "",
            "Payment Method": "Shopify Payments",
            "Refunded Amount": _money(refund_amt) if refund_amt or fin != "paid" else "0.00",
            "Outstanding Balance": "0.00",
            "Id": str(5_210_000_000_000 + i),
            "Tags": ", ".join(tags),
            "Risk Level": "Low",
            "Source": src,
        }
        all_lines: list[tuple[tuple, bool | None]] = [(it, r) for it, r in zip(items, refunded)] + [
            (a, None) for a in addons
        ]
        for k, (it, refd) in enumerate(all_lines):
            first = k == 0
            row = {c: "" for c in COLUMNS}
            row["Name"] = name
            if first:
                row.update(order_fields)
            if refd is None:  # add-on or gift card
                title, variant, price, sku = it
                row.update(
                    {
                        "Lineitem quantity": "1",
                        "Lineitem name": title + (f" - {variant}" if variant else ""),
                        "Lineitem price": _money(price),
                        "Lineitem sku": sku,
                        "Lineitem requires shipping": "false",
                        "Lineitem taxable": "false",
                        "Lineitem fulfillment status": "fulfilled" if not cancelled else "pending",
                        "Vendor": "re:do" if "Return" in title else ("Route" if "Route" in title else "Denim Co"),
                    }
                )
            else:
                prod, vendor, variant, price, qty, fam, sku = it
                status = "restocked" if (restocked and refd) else ("pending" if cancelled else "fulfilled")
                row.update(
                    {
                        "Lineitem quantity": str(qty),
                        "Lineitem name": prod + (f" - {variant}" if variant else ""),
                        "Lineitem price": _money(price),
                        "Lineitem sku": sku,
                        "Lineitem requires shipping": "true",
                        "Lineitem taxable": "true",
                        "Lineitem fulfillment status": status,
                        "Vendor": vendor,
                        "Lineitem discount": _money(price * qty * disc_rate),
                    }
                )
                size = variant.split(" / ")[-1] if variant else None
                lines_truth.append(
                    {
                        "name": name,
                        "sku": sku,
                        "product": prod,
                        "vendor": vendor,
                        "size": size,
                        "quantity": qty,
                        "refunded": bool(refd),
                        "p_refund": p_refund[k],
                        "cancelled": cancelled,
                        "voided": voided and not cancelled,
                        "source": src,
                        "intent": intent,
                        "exchange_order": exchange_order,
                        "order_date": t.normalize(),
                    }
                )
            rows.append(row)
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    odf = pd.DataFrame(olist)
    f1 = set(odf.loc[odf["in_file_1"], "name"])
    f2 = set(odf.loc[odf["in_file_2"], "name"])
    files = {}
    for fname, keep in (("orders_export_1.csv", f1), ("orders_export_2.csv", f2)):
        part = df[df["Name"].isin(keep)]
        buf = io.StringIO()
        part.to_csv(buf, index=False)
        files[fname] = buf.getvalue().encode("utf-8")
    return files, ShopifyTruth(
        orders=odf,
        lines=pd.DataFrame(lines_truth),
        addon_lines=addon_lines,
        gift_card_lines=gift_lines,
        multipliers=(
            {f"source={s}": m for s, m in source_mult.items()}
            | (
                {"vendor=SKINNY": skinny_mult, "discount=NA40": na40_mult, "insurance": insurance_mult}
                if effects
                else {}
            )
        ),
        bracket_p=bracket_p,
    )


def _sku(product: str, colour: str | None, size: str | None) -> str:
    code = "".join(w[0] for w in product.split()).upper()
    col = "".join(w[:2] for w in (colour or "").split()).upper()
    return "-".join(x for x in (code, col, (size or "").replace(" ", "")) if x)


def _jean(rng: np.random.Generator) -> tuple:
    prod, vendor, price = JEANS[int(rng.integers(0, len(JEANS)))]
    colour = JEAN_COLOURS[int(rng.integers(0, len(JEAN_COLOURS)))]
    w = WAISTS[int(rng.integers(1, len(WAISTS) - 1))]
    return (prod, vendor, f"{colour} / {w}", price, 1, "jean", _sku(prod, colour, w))


def _tee(rng: np.random.Generator) -> tuple:
    prod, vendor, price = TEES[int(rng.integers(0, len(TEES)))]
    colour = TEE_COLOURS[int(rng.integers(0, len(TEE_COLOURS)))]
    s = TEE_SIZES[int(rng.integers(0, len(TEE_SIZES)))]
    return (prod, vendor, f"{colour} / {s}", price, 1, "tee", _sku(prod, colour, s))


def _carpenter(rng: np.random.Generator) -> tuple:
    s = CARPENTER_SIZES[int(rng.integers(0, len(CARPENTER_SIZES)))]
    return (CARPENTER[0], CARPENTER[1], f"Khaki / {s}", CARPENTER[2], 1, "carpenter", _sku(CARPENTER[0], "Khaki", s))


__all__ = ["generate_shopify_export", "ShopifyTruth", "COLUMNS"]
