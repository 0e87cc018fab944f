"""Sizes in SKUs and product names, and the style (parent product) left when the size is taken off.

Marketplaces such as Amazon list one "product" per size (the SKU ends in the size), so without a
catalog there is no style to see that an order holds two sizes of one thing. split_sku() strips a
recognised size suffix; derive_style_size() keeps the split only for styles seen in at least two
sizes in the file, so an accidental match (a mug SKU ending in -12) changes nothing.

Size vocabulary: letter sizes (XXS..5XL, 2X, XL-T, Small/Medium/X-Large), numeric sizes (0-60, half sizes), waist x length
("30W x 32L", "30x32", "32/34", "W30L32"), EU/UK/US/FR/IT shoe and clothing sizes ("EU 42", "UK8"),
kids' ages ("4Y", "6-7Y") and one-size words ("One Size", "OS", "OSFA", "TU", "Einheitsgröße").
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_LETTER = r"(?:[2-6]?X{0,3}[SL]|XXS|XS|M|[2-6]XL|[1-6]X|XXXL|XXL|XL)(?:[-/ ]?(?:T|TALL|P|PETITE|R|REG|LONG|SHORT))?"
_NUM = r"\d{1,2}(?:[.,]5)?"
_WAIST_LEN = (
    r"W?\s?\d{2}\s?W?\s?(?:X|/|-)\s?L?\s?\d{2}\s?L?"  # 30W x 32L, 30x32, 32/34, W30-L32
    r"|W\s?\d{2}\s?L\s?\d{2}"
)  # W30L32
_REGION = r"(?:EU|UK|US|FR|IT|DE|JP|AU)\s?" + _NUM
_KIDS = r"\d{1,2}(?:-\d{1,2})?\s?(?:Y|YR|YRS|YEARS|M|MO|MONTHS)"
_WORDS = r"(?:X{1,3}-?)?(?:SMALL|LARGE)|MEDIUM|PETITE|PLUS"
_ONE = r"ONE\s?SIZE|ONESIZE|OS|OSFA|OSFM|TU|TAILLE\s?UNIQUE|EINHEITSGR(?:Ö|OE)(?:SS|ß)E|TALLA\s?(?:ÚNICA|UNICA)|TAGLIA\s?UNICA"
SIZE_RX = re.compile(rf"^(?:{_WAIST_LEN}|{_REGION}|{_KIDS}|{_ONE}|{_WORDS}|{_LETTER}|{_NUM})$", re.IGNORECASE)
# Size systems: sizes of one system are worn on one kind of product (waists on trousers, letters on tops), so
# a size is compared with the other sizes of its system when no category says what each product is.
SIZE_SYSTEMS = (
    ("waist x length", re.compile(rf"^(?:{_WAIST_LEN})$", re.IGNORECASE)),
    ("regional sizes", re.compile(rf"^(?:{_REGION})$", re.IGNORECASE)),
    ("kids' ages", re.compile(rf"^(?:{_KIDS})$", re.IGNORECASE)),
    ("one size", re.compile(rf"^(?:{_ONE})$", re.IGNORECASE)),
    ("letter sizes", re.compile(rf"^(?:{_WORDS}|{_LETTER})$", re.IGNORECASE)),
    ("numeric sizes", re.compile(rf"^(?:{_NUM})$", re.IGNORECASE)),
)
# SKU: the size is the last part after a separator ('-', '_', '/', '.', space)
_SKU_SPLIT = re.compile(r"^(?P<stem>.+?)[-_/. ]+(?P<size>[^-_/. ][^-_/.]*?)$")
_SKU_WAIST = re.compile(rf"^(?P<stem>.+?)[-_/. ]+(?P<size>{_WAIST_LEN})$", re.IGNORECASE)
# Names: ", 32W x 30L" / " - M" / " (XL)" / " Size M" / " | Größe 42" at the end
_NAME_SIZE = re.compile(
    r"^(?P<stem>.+?)\s*(?:[,|]\s*|\s-\s|\s+(?:size|größe|taille|talla|maat|taglia)[:\s]+|\s*\()"
    r"(?:(?:size|größe|taille|talla|maat|taglia)[:\s]+)?(?P<size>[^,()|]{1,15}?)\)?\s*$",
    re.IGNORECASE,
)
MAX_LEN = 200  # longer SKUs or names are left alone (bounded regex work per value)


def is_size(text: str) -> bool:
    """True for a recognised size.

    >>> [is_size(s) for s in ("M", "XXL", "30W x 32L", "32/34", "EU 42", "One Size", "6-7Y", "10.5", "RED", "2024")]
    [True, True, True, True, True, True, True, True, False, False]
    """
    t = str(text).strip()
    return 0 < len(t) <= 20 and bool(SIZE_RX.match(t))


def size_system(text: object) -> str | None:
    """The size system a size belongs to (None when it is no recognised size).

    >>> [size_system(s) for s in ("M", "XL-T", "30W x 32L", "32", "10.5", "EU 42", "6-7Y", "One Size", "RED")]
    ['letter sizes', 'letter sizes', 'waist x length', 'numeric sizes', 'numeric sizes', 'regional sizes', "kids' ages", 'one size', None]
    """
    t = str(text).strip()
    if not 0 < len(t) <= 20:
        return None
    for name, rx in SIZE_SYSTEMS:
        if rx.match(t):
            return name
    return None


def split_sku(sku: str) -> tuple[str, str] | None:
    """(style, size) when the SKU ends in a recognised size after a separator, else None.

    >>> split_sku("LEVI-505-RINSE-32Wx30L"), split_sku("TEE_BLK_XL"), split_sku("SHOE-RUN-EU42"), split_sku("85123A")
    (('LEVI-505-RINSE', '32Wx30L'), ('TEE_BLK', 'XL'), ('SHOE-RUN', 'EU42'), None)
    """
    s = str(sku).strip()
    if not s or len(s) > MAX_LEN:
        return None
    for rx in (_SKU_WAIST, _SKU_SPLIT):
        m = rx.match(s)
        if m and is_size(m["size"]) and m["stem"].strip("-_/. "):
            return m["stem"].strip("-_/. "), m["size"].strip()
    return None


def split_name(name: str) -> tuple[str, str] | None:
    """(product name without the size, size) when a name ends in a recognised size, else None.

    >>> split_name("Levi's Men's 505 Regular Fit Jeans, Rinse, 32W x 30L"), split_name("Trail Sock (M)")
    (("Levi's Men's 505 Regular Fit Jeans, Rinse", '32W x 30L'), ('Trail Sock', 'M'))
    """
    s = str(name).strip()
    if not s or len(s) > MAX_LEN:
        return None
    m = _NAME_SIZE.match(s)
    if m and is_size(m["size"]):
        return m["stem"].strip(" ,-|"), m["size"].strip()
    return None


def derive_style_size(sku: pd.Series, name: pd.Series | None = None) -> tuple[pd.Series, pd.Series, int]:
    """Style and size per line from the SKU (else the name), kept only for styles seen in 2+ sizes.

    Returns (style, size, number of styles found); style falls back to the SKU and size to "" where no
    split is kept. Work is done once per distinct (SKU, name) pair, then spread back to the lines.
    """
    sku = sku.astype("string").fillna("")
    c1, u1 = pd.factorize(sku)
    if name is not None:
        c2, u2 = pd.factorize(name.astype("string").fillna(""))
    else:
        c2, u2 = np.zeros(len(sku), dtype=np.int64), pd.Index([""])
    # (SKU, name) pairs as one integer code each: factorizing tuples of strings is ~10x slower
    codes, pair = pd.factorize(c1.astype(np.int64) * max(len(u2), 1) + c2)
    l1, l2 = u1.tolist(), u2.tolist()  # element access on an Index costs ~10x a list's
    u_sku = [str(l1[k // max(len(u2), 1)]) for k in pair]
    u_name = [str(l2[k % max(len(u2), 1)]) for k in pair]
    style, size = [], []
    for sk, nm in zip(u_sku, u_name):
        p = split_sku(sk) or split_name(nm)  # a SKU without a size suffix: the name's size, if any
        style.append(p[0] if p else None)
        size.append(p[1] if p else None)
    key = pd.DataFrame({"style": style, "size": [x.upper().replace(" ", "") if x else None for x in size]})
    n_sizes = key.dropna().drop_duplicates().groupby("style")["size"].size()
    keep = pd.Series(style, dtype="object").map(n_sizes).fillna(0).ge(2).to_numpy()
    u_style = pd.array([st if k else sk for st, k, sk in zip(style, keep, u_sku)], dtype="string")
    u_size = pd.array([sz if k else "" for sz, k in zip(size, keep)], dtype="string")
    out_style = pd.Series(u_style.take(codes) if len(codes) else u_style[:0], index=sku.index, dtype="string")
    out_size = pd.Series(u_size.take(codes) if len(codes) else u_size[:0], index=sku.index, dtype="string")
    return out_style, out_size, int((n_sizes >= 2).sum())


def strip_name_size(name: pd.Series) -> pd.Series:
    """Product names with a trailing recognised size removed ("Trail Sock (M)" -> "Trail Sock")."""
    name = name.astype("string").fillna("")
    parts = {n: split_name(n) for n in pd.unique(name.to_numpy())}
    return pd.Series(
        [p[0] if (p := parts[n]) is not None else n for n in name.to_numpy()], index=name.index, dtype="string"
    )


__all__ = ["is_size", "split_sku", "split_name", "derive_style_size", "strip_name_size", "SIZE_RX"]
