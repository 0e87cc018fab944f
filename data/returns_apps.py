"""Returns-app exports (ParcelWILL, and Loop / AfterShip Returns / ReturnGO / Redo exports written one
row per return request): several products in one cell, split into one return line each.

ParcelWILL's CSV has one row per return request (RMA); "If a return includes more than one product,
all products are listed together in the same row": `Product info` holds "x1 Men's Nuke Vest, x2 Trail
Sock" and `Product SKU` the SKUs in the same order ("NUKE-VEST-M, TRAIL-SOCK-L"). Such a file is
recognised from its values, whatever its headers: a product cell of "xN name" items, or a SKU cell
holding a list. Each item becomes one line with its SKU and quantity; other cells that hold a list of
the same length are split alongside (per-item reasons), single values are repeated, and a money
amount that is one total for the request is shared over the lines by units (so the sum is kept).

Row accounting: rows read counts return lines after the split, and SOURCE_ROW names the file row
each line came from, so rows read = loaded + rejected still holds and every line can be traced.
A cell whose products and SKUs do not pair up is left whole and said so.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

SOURCE_ROW = "Source row"
SKU_COL = "SKU (one per line)"
QTY_COL = "Quantity (one per line)"
NAME_COL = "Product (one per line)"

_ITEM = re.compile(
    r"^\s*(?:[x×]\s*(?P<q1>\d{1,4})\s+(?P<n1>.+?)|(?P<q2>\d{1,4})\s*[x×]\s+(?P<n2>.+?))\s*$", re.IGNORECASE
)
_ITEM_START = r"(?:[x×]\s*\d{1,4}\s|\d{1,4}\s*[x×]\s)"
_ITEMS_SPLIT = re.compile(rf"\s*(?:[,;\n|]\s*(?={_ITEM_START})|\n)\s*", re.IGNORECASE)
_LIST_SPLIT = re.compile(r"\s*[,;\n|]\s*")
MAX_CELL = 5000  # longer cells are left whole (bounded work per cell)
MAX_ITEMS = 200


def items_of(cell: str) -> list[tuple[int, str]] | None:
    """[(quantity, name)] for a cell of "xN name" items, else None.

    >>> items_of("x1 Men's Nuke Vest, x2 Trail Sock")
    [(1, "Men's Nuke Vest"), (2, 'Trail Sock')]
    """
    s = str(cell or "")
    if not s.strip() or len(s) > MAX_CELL:
        return None
    parts = [p for p in _ITEMS_SPLIT.split(s.strip()) if p.strip()]
    out = []
    for p in parts[:MAX_ITEMS]:
        m = _ITEM.match(p)
        if not m:
            return None
        out.append((int(m["q1"] or m["q2"]), (m["n1"] or m["n2"]).strip()))
    return out or None


_DECIMAL_COMMA = re.compile(r"[-+]?[^\d,]{0,3}\d{1,3}(?:[.\s]\d{3})*,\d{1,2}[^\d,]{0,4}")


def list_of(cell: str) -> list[str]:
    """A cell's list items ("A, B; C"); one item for an empty, huge or decimal-comma cell ("12,50 €")."""
    s = str(cell or "").strip()
    if not s or len(s) > MAX_CELL or _DECIMAL_COMMA.fullmatch(s):
        return [s]
    return [p for p in _LIST_SPLIT.split(s) if p][:MAX_ITEMS] or [s]


def find_product_cell(frame: pd.DataFrame, sample: int = 200) -> str | None:
    """The column whose values are "xN name" item lists (at least half of the filled sample)."""
    head = frame.head(sample)
    for c in head.columns:
        t = head[c].astype("string").str.strip()
        t = t[t.notna() & (t != "")]
        if len(t) and t.str.match(rf"^{_ITEM_START}", case=False).fillna(False).mean() >= 0.5:
            if sum(items_of(v) is not None for v in t) >= 0.5 * len(t):
                return c
    return None


def is_multi_product(frame: pd.DataFrame | None, sku_col: str | None) -> bool:
    """A returns export with several products per row: an item-list cell, or SKU cells that are lists."""
    if frame is None or not len(frame):
        return False
    if find_product_cell(frame) is not None:
        return True
    if sku_col and sku_col in frame.columns:
        t = frame[sku_col].head(200).astype("string").str.strip()
        t = t[t.notna() & (t != "")]
        # SKUs never hold ", " (a comma then a space): a cell that does is a list of SKUs
        return bool(len(t)) and t.str.contains(r"[,;|]\s|\n", regex=True).fillna(False).mean() >= 0.2
    return False


def split_lines(
    frame: pd.DataFrame, sku_col: str | None, money_cols: tuple[str, ...] = (), keep_whole: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """One row per returned product. The index of the result is the source row position (repeated for
    the lines of one request); SOURCE_ROW holds it 1-based, as shown to users. `money_cols` are shared
    over a request's lines by units; `keep_whole` columns (comments) are never split."""
    prod_col = find_product_cell(frame)
    n = len(frame)
    prod = frame[prod_col].astype("string").fillna("").to_numpy() if prod_col else np.full(n, "", dtype=object)
    skus = (
        frame[sku_col].astype("string").fillna("").to_numpy()
        if sku_col and sku_col in frame.columns
        else np.full(n, "", dtype=object)
    )
    src, out_sku, out_qty, out_name, k_of = [], [], [], [], []
    mismatched = 0
    for i in range(n):
        items = items_of(prod[i]) if prod_col else None
        sk = list_of(skus[i])
        if items and len(sk) == len(items):
            lines: list[tuple[str, int | None, str]] = [(s, q, name) for s, (q, name) in zip(sk, items)]
        elif items and len(items) == 1:
            lines = [(skus[i].strip(), items[0][0], items[0][1])]
        elif not items and len(sk) > 1:
            lines = [(s, 1, "") for s in sk]
        else:
            if items and len(sk) != len(items):
                mismatched += 1
            lines = [(skus[i].strip(), None, prod[i])]
        for k, (s, q, name) in enumerate(lines):
            src.append(i)
            out_sku.append(s)
            out_qty.append("" if q is None else str(q))
            out_name.append(name)
            k_of.append((k, len(lines)))
    f = frame.iloc[src].copy()
    f.index = pd.Index(src)
    counts = np.array([t[1] for t in k_of])
    pos = np.array([t[0] for t in k_of])
    split_rows: dict[str, np.ndarray] = {}
    # other cells that hold a list as long as the request's lines are split alongside (per-item reasons);
    # free text stays whole: a comment column, or parts that read as one sentence ("Lovely, but small")
    for c in frame.columns:
        if c in (prod_col, sku_col) or c in keep_whole:
            continue
        vals = f[c].astype("string").fillna("").to_numpy()
        parts = [list_of(v) for v in vals]
        lens = np.array([len(p) for p in parts])
        multi = counts > 1
        fits = multi & (lens == counts)
        clash = multi & (lens > 1) & (lens != counts)
        single = [p for p, m in zip(parts, multi) if not m]
        listy = np.mean([len(p) > 1 for p in single]) if single else 0.0
        labels = all(q[:1].isupper() or q[:1].isdigit() for p, ok in zip(parts, fits) if ok for q in p)
        if fits.any() and not clash.any() and listy < 0.1 and labels:
            f[c] = [p[j] if ok else v for p, j, ok, v in zip(parts, pos, fits, vals)]
            split_rows[c] = fits
    f[SKU_COL] = out_sku
    if prod_col:
        f[QTY_COL] = out_qty
        f[NAME_COL] = out_name
    units = pd.to_numeric(pd.Series(out_qty, index=f.index), errors="coerce").fillna(1).to_numpy()
    notes: list[str] = []
    shared = []
    for c in money_cols:
        if c not in f.columns:
            continue
        req = pd.Series(src)
        total_units = pd.Series(units).groupby(req).transform("sum").to_numpy()
        v = pd.to_numeric(f[c].astype("string").str.replace(r"[^\d.\-]", "", regex=True), errors="coerce").to_numpy()
        repeated = (counts > 1) & ~split_rows.get(c, np.zeros(len(f), dtype=bool))  # a per-item list is kept
        if repeated.any():
            share = np.where(repeated, v * units / total_units, v)
            f[c] = [
                ("" if np.isnan(x) else f"{x:.4f}".rstrip("0").rstrip(".")) if r else orig
                for x, r, orig in zip(share, repeated, f[c].astype("string").fillna("").to_numpy())
            ]
            shared.append(c)
    f[SOURCE_ROW] = [str(i + 1) for i in src]
    n_multi = int(len(set(i for i, (k, m) in zip(src, k_of) if m > 1)))
    if n_multi:
        notes.append(
            f"{n_multi} return request(s) list several products in one cell: split into one line per "
            f"product ({len(f)} lines from {n} rows; rows read counts lines, '{SOURCE_ROW}' gives the file row)."
        )
    if shared:
        notes.append(f"{', '.join(shared)}: one amount per request, shared over its lines by units.")
    if mismatched:
        notes.append(
            f"{mismatched} request(s) list a different number of products and SKUs: left whole (check "
            f"'{prod_col}' and '{sku_col}')."
        )
    return f, tuple(notes)


__all__ = [
    "items_of",
    "list_of",
    "find_product_cell",
    "is_multi_product",
    "split_lines",
    "SOURCE_ROW",
    "SKU_COL",
    "QTY_COL",
    "NAME_COL",
]
