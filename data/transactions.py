"""Split a signed-transactions table (sales and credit notes in one list) into order lines and returns.

Rules, in order (each source line gets exactly one outcome):
1. non_merchandise: service/fee codes (NON_MERCH_CODES, gift_0001_* vouchers, ADJUST*, TEST*, plus
   settings.non_merchandise_skus), descriptions such as "Manual", "Discount", "POSTAGE", "CARRIAGE",
   "... fee", and every line of a bad-debt document (document number starting "A").
2. Credit-note lines (document number starts with settings.credit_note_prefix, default "C") with a
   negative quantity are returns; a credit-note line with a positive quantity is invalid.
3. Other negative lines are stock adjustments -> write_off.
4. Positive lines with price 0 and no customer are stock adjustments too (Online Retail II books
   'found' stock and samples this way) -> write_off. Positive price-0 lines WITH a customer are kept as
   sales: a free item sent to a customer can be returned, and dropping it would hide that return.
5. Everything else with a positive quantity is an order line.

Credit notes do not name the original order, so each returned line is matched to the same customer's
most recent purchase of the same SKU dated at or before the credit note (pandas merge_asof by
customer+sku). Units are allocated to that purchase in credit-note date order up to the units it sold;
units that do not fit, and returns with no customer or no earlier purchase, are unmatched returns
(reported, never dropped silently). A partly matched line is loaded (its matched units) and its
remainder is listed in unmatched units.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

NON_MERCH_CODES = frozenset(
    {"POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "ADJUST", "TEST001", "CRUK", "PADS", "B"}
)
NON_MERCH_CODE_RX = r"^(?:GIFT_0001_.*|ADJUST\d*|TEST\d+)$"
NON_MERCH_DESC_RX = (
    r"^\s*(?:manual|discount|postage|dotcom postage|carriage|bank charges|samples?|adjust bad debt)\s*$"
    r"|\bpostage\b|\bcarriage\b|\bfees?\b|\bbank charges?\b"
)
BAD_DEBT_PREFIX = "A"


@dataclass(frozen=True)
class Split:
    """Result of split_transactions. Frames keep the source frame's index (row positions)."""

    orders: pd.DataFrame  # canonical order-line columns
    returns: pd.DataFrame  # canonical returns columns (order_id = matched invoice); one row per matched credit line
    kind: pd.Series  # per source row: reject kind, or <NA> for rows loaded
    reason: pd.Series  # per source row: sentence, or <NA>
    partial: pd.DataFrame  # unmatched remainder of partly matched lines: credit note, sku, customer, units
    notes: tuple[str, ...] = ()


def non_merchandise_mask(
    sku: pd.Series, description: pd.Series | None, extra_codes: Iterable[object] = ()
) -> pd.Series:
    """Lines that are not merchandise, by code list, code pattern and description."""
    codes = NON_MERCH_CODES | {str(c).strip().upper() for c in extra_codes}
    # evaluated on distinct codes/descriptions only (a few thousand), then mapped back to lines
    k, u = pd.factorize(sku.astype("string"))
    code = pd.Series(u, dtype="string").str.strip().str.upper()
    hit = (code.isin(codes) | code.str.match(NON_MERCH_CODE_RX).fillna(False)).to_numpy(dtype=bool)
    mask = np.where(k >= 0, hit[np.maximum(k, 0)] if len(hit) else False, False)
    if description is not None:
        k, u = pd.factorize(description.astype("string"))
        d = pd.Series(u, dtype="string").str.contains(NON_MERCH_DESC_RX, flags=re.IGNORECASE, regex=True)
        hit = d.fillna(False).to_numpy(dtype=bool)
        mask |= np.where(k >= 0, hit[np.maximum(k, 0)] if len(hit) else False, False)
    return pd.Series(mask.astype(bool), index=sku.index)


def _pair_codes(c1: pd.Series, s1: pd.Series, c2: pd.Series, s2: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of (customer, sku) pairs on two frames, equal codes exactly for equal text pairs."""
    n1 = len(c1)
    cust, _ = pd.factorize(pd.concat([c1.astype(str), c2.astype(str)], ignore_index=True))
    sku, sku_u = pd.factorize(pd.concat([s1.astype(str), s2.astype(str)], ignore_index=True))
    key = cust.astype("int64") * max(len(sku_u), 1) + sku.astype("int64")
    return key[:n1], key[n1:]


def split_transactions(
    t: pd.DataFrame,
    *,
    credit_prefix: str = "C",
    extra_non_merch: Iterable[object] = (),
    skip: np.ndarray | None = None,
) -> Split:
    """Classify each line and build order lines and matched returns (see module docstring).

    t: canonical transactions columns (order_id, order_date with time, sku, quantity int, unit_price,
    product_name, customer_id, ...). Rows already rejected upstream are either left out of t, or marked
    in ``skip`` (bool per row): such rows are neither order lines nor returns and get no kind or reason
    here (the same result as leaving them out, without copying the other rows first).
    """
    if not credit_prefix:
        raise ValueError("credit_prefix must be a non-empty prefix such as 'C'.")
    idx = t.index
    doc = t["order_id"].astype("string").str.strip()
    q = t["quantity"]
    if skip is not None:
        skip = np.asarray(skip, dtype=bool)
        q = q.where(~skip, 0)  # a rejected row's quantity may be missing
    qty = q.astype("int64")
    price = t["unit_price"].astype("float64") if "unit_price" in t else pd.Series(np.nan, index=idx)
    cust = (
        t["customer_id"].astype("string").str.strip().replace("", pd.NA)
        if "customer_id" in t
        else pd.Series(pd.NA, index=idx, dtype="string")
    )
    desc = t["product_name"] if "product_name" in t else None

    # outcomes are kept in plain object arrays while rules are applied (setting masked values on Arrow-backed
    # string Series copies the whole column each time) and become string Series once at the end
    kind_a = np.full(len(idx), None, dtype=object)
    reason_a = np.full(len(idx), None, dtype=object)
    taken = np.zeros(len(idx), dtype=bool)  # rows a rule (or skip) has classified: kind_a is not None there
    if skip is not None:
        kind_a[skip] = "skip"  # taken: no rule below assigns it, and it is neither a sale nor a return
        taken |= skip

    def assign(mask: pd.Series | np.ndarray, k: str, why: str) -> None:
        m = np.asarray(mask, dtype=bool) & ~taken  # a bool mask, not an elementwise None test of objects
        kind_a[m] = k
        reason_a[m] = why
        taken[m] = True

    nm = non_merchandise_mask(t["sku"], desc, extra_non_merch)
    assign(nm, "non_merchandise", "Service, fee, postage or adjustment code, not merchandise.")
    bad_debt = doc.str.upper().str.startswith(BAD_DEBT_PREFIX.upper()).fillna(False)
    assign(bad_debt, "non_merchandise", "Bad-debt adjustment document.")
    credit = doc.str.upper().str.startswith(credit_prefix.upper()).fillna(False)
    assign(credit & (qty > 0), "invalid", "Positive quantity on a credit note.")
    assign(qty == 0, "invalid", "Quantity is zero.")
    assign(
        ~credit & (qty < 0),
        "write_off",
        "Negative quantity on a document that is not a credit note (stock adjustment).",
    )
    no_price = price.fillna(0).eq(0)
    assign(
        ~credit & (qty > 0) & no_price & cust.isna(),
        "write_off",
        "Zero-price line with no customer (stock adjustment, not a sale).",
    )

    free = ~taken
    sale = free & (~credit & (qty > 0)).to_numpy()
    ret = free & (credit & (qty < 0)).to_numpy()

    # pandas copies on write: a selection is already a frame of its own, so no .copy() of 500k lines
    orders = t.loc[sale]
    orders["customer_id"] = cust[sale]

    # ---- match returns to purchases
    r = t.loc[ret]
    r["customer_id"] = cust[ret]
    r["units"] = -qty[ret]
    r["_pos"] = np.arange(len(r))
    has_cust = r["customer_id"].notna()
    s = orders.loc[orders["customer_id"].notna(), ["order_id", "order_date", "sku", "customer_id", "quantity"]]
    s = s.rename(columns={"order_id": "m_order", "order_date": "m_date", "quantity": "m_qty"})
    s["m_line"] = s.index
    rc = r[has_cust.to_numpy()]
    matched = pd.DataFrame(index=rc.index)
    if len(rc) and len(s):
        left = rc[["order_date", "sku", "customer_id", "units", "_pos"]].sort_values("order_date", kind="stable")
        right = s.sort_values("m_date", kind="stable")
        # the (customer, sku) key as one integer: both sides factorized together, so equal pairs get
        # equal codes (merging on a concatenated text key spent most of this function re-hashing strings)
        key_l, key_r = _pair_codes(left["customer_id"], left["sku"], right["customer_id"], right["sku"])
        left = left.assign(_k=key_l)
        right = right.assign(_k=key_r).drop(columns=["customer_id", "sku"])
        mm = pd.merge_asof(
            left.reset_index(names="_src"),
            right,
            left_on="order_date",
            right_on="m_date",
            by="_k",
            direction="backward",
            allow_exact_matches=True,
        )
        matched = mm.set_index("_src")
    r["m_order"] = matched["m_order"].reindex(r.index) if "m_order" in matched else pd.NA
    r["m_line"] = matched["m_line"].reindex(r.index) if "m_line" in matched else np.nan
    r["m_qty"] = matched["m_qty"].reindex(r.index) if "m_qty" in matched else np.nan
    found = r["m_order"].notna()
    # allocate units per matched sale line in credit-note date order
    r["alloc"] = 0
    if found.any():
        f = r[found.to_numpy()].sort_values(["order_date", "_pos"], kind="stable")
        before = f.groupby("m_line", sort=False)["units"].cumsum() - f["units"]
        alloc = np.clip(f["m_qty"].astype("int64") - before, 0, f["units"]).astype("int64")
        r.loc[f.index, "alloc"] = alloc
    r["alloc"] = r["alloc"].astype("int64")
    no_cust = r["customer_id"].isna()
    none_fit = found & r["alloc"].eq(0)
    unmatched_reason = np.where(
        no_cust,
        "Credit note line has no customer, so it cannot be matched to a purchase.",
        np.where(
            none_fit,
            "The matched purchase's units were already returned by earlier credit notes.",
            "No earlier purchase of this SKU by this customer in the data.",
        ),
    )
    um = (r["alloc"] == 0).to_numpy()
    pos = np.flatnonzero(ret)[um]  # r holds the credit lines in source order
    kind_a[pos] = "unmatched_return"
    reason_a[pos] = unmatched_reason[um]
    if skip is not None:
        kind_a[skip] = None
    kind = pd.Series(kind_a, index=idx, dtype="string")
    reason = pd.Series(reason_a, index=idx, dtype="string")

    ok = r[~um]
    returns = pd.DataFrame(
        {
            "order_id": ok["m_order"].astype("string"),
            "sku": ok["sku"].astype("string"),
            "quantity": ok["alloc"].astype("int64"),
            "return_id": ok["order_id"].astype("string"),
            "return_date": ok["order_date"],
            "reason": ok["reason"].astype("string")
            if "reason" in ok
            else pd.Series(pd.NA, index=ok.index, dtype="string"),
            "comment": pd.Series(pd.NA, index=ok.index, dtype="string"),
            "resolution": pd.Series(
                pd.NA, index=ok.index, dtype="string"
            ),  # a credit note does not say refund vs credit
            "refund_amount": (ok["alloc"] * ok["unit_price"].abs()).astype("float64")
            if "unit_price" in ok
            else pd.Series(np.nan, index=ok.index),
            "exchange_sku": pd.Series(pd.NA, index=ok.index, dtype="string"),
        },
        index=ok.index,
    )
    part = ok[ok["alloc"] < ok["units"]]
    partial = pd.DataFrame(
        {
            "return_id": part["order_id"].astype("string"),
            "sku": part["sku"].astype("string"),
            "customer_id": part["customer_id"].astype("string"),
            "return_date": part["order_date"],
            "quantity": (part["units"] - part["alloc"]).astype("int64"),
            "matched_order_id": part["m_order"].astype("string"),
        },
        index=part.index,
    )
    notes = []
    if len(partial):
        notes.append(
            f"{len(partial)} credit-note line(s) returned more units than the matched purchase sold; "
            f"{int(partial['quantity'].sum())} unit(s) could not be matched and are listed as unmatched."
        )
    return Split(orders=orders, returns=returns, kind=kind, reason=reason, partial=partial, notes=tuple(notes))
