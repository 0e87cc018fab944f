"""The load path's fast code gives exactly what the code it replaced gave (issue 14, load hot spots).

The replaced implementations of footer_mask, split_transactions and the calamine cell conversion are
kept below, verbatim apart from their names, as the oracle: every new result must equal the old one
to the value, on the first 50k lines of the real Online Retail II export (skipped when absent) and on
synthetic edge cases. Their speed is measured in bench/bench_load.py, never here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import io

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from data import readers as R
from data import transactions as T
from tests.conftest import REAL_DATA


# ---------------------------------------------------------------- the replaced code (oracle)
def old_footer_mask(frame: pd.DataFrame) -> np.ndarray:
    """Rows that are blank, or whose first non-empty cell starts with Total / Grand total / Summe ...

    Only trailing rows count as footer when blank; a 'Total' row counts wherever it is (exports put
    subtotals between groups).
    """
    if frame.empty:
        return np.zeros(0, dtype=bool)
    first = pd.Series("", index=frame.index, dtype="string")
    for c in frame.columns:  # first non-empty cell of each row, one vectorised pass per column
        cell = frame[c].astype("string").fillna("").str.strip()
        first = first.where(first != "", cell)
    blank = (first == "").to_numpy()
    total = first.str.contains(R._FOOTER_RX, regex=True).fillna(False).to_numpy(dtype=bool)
    return blank | total


def old_cells_to_text(values: list) -> pd.Series:
    """Calamine cell values of one column -> text: integral floats without '.0', datetimes as ISO."""
    s = pd.Series(values, dtype=object)
    if s.empty:
        return s.astype("string")
    kinds = s.map(type)
    out = s.astype(str)
    is_float = kinds.eq(float).to_numpy()
    if is_float.any():
        f = s[is_float].astype("float64")
        integral = np.isfinite(f) & (f == np.round(f)) & (f.abs() < 1e15)
        txt = f.map(repr)
        txt[integral] = f[integral].astype("int64").astype(str)
        out[is_float] = txt
    import datetime as _dt

    is_dt = kinds.isin([_dt.datetime, _dt.date]).to_numpy()
    if is_dt.any():
        out[is_dt] = pd.to_datetime(s[is_dt]).dt.strftime("%Y-%m-%d %H:%M:%S")
    out[kinds.eq(type(None)).to_numpy()] = ""
    out[kinds.eq(bool).to_numpy()] = s[kinds.eq(bool).to_numpy()].map({True: "TRUE", False: "FALSE"})
    return out.astype("string")


def old_split_transactions(t: pd.DataFrame, *, credit_prefix: str = "C", extra_non_merch=()) -> T.Split:
    """Classify each line and build order lines and matched returns (see module docstring).

    t: canonical transactions columns (order_id, order_date with time, sku, quantity int, unit_price,
    product_name, customer_id, ...). Rows already rejected upstream must not be passed in.
    """
    if not credit_prefix:
        raise ValueError("credit_prefix must be a non-empty prefix such as 'C'.")
    idx = t.index
    doc = t["order_id"].astype("string").str.strip()
    qty = t["quantity"].astype("int64")
    price = t["unit_price"].astype("float64") if "unit_price" in t else pd.Series(np.nan, index=idx)
    cust = (
        t["customer_id"].astype("string").str.strip().replace("", pd.NA)
        if "customer_id" in t
        else pd.Series(pd.NA, index=idx, dtype="string")
    )
    desc = t["product_name"] if "product_name" in t else None

    kind = pd.Series(pd.NA, index=idx, dtype="string")
    reason = pd.Series(pd.NA, index=idx, dtype="string")

    def assign(mask, k, why):
        m = (mask & kind.isna()).to_numpy()
        kind[m] = k
        reason[m] = why

    nm = T.non_merchandise_mask(t["sku"], desc, extra_non_merch)
    assign(nm, "non_merchandise", "Service, fee, postage or adjustment code, not merchandise.")
    bad_debt = doc.str.upper().str.startswith(T.BAD_DEBT_PREFIX.upper()).fillna(False)
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

    sale = kind.isna() & ~credit & (qty > 0)
    ret = kind.isna() & credit & (qty < 0)

    orders = t.loc[sale.to_numpy()].copy()
    orders["customer_id"] = cust[sale.to_numpy()]

    # ---- match returns to purchases
    r = t.loc[ret.to_numpy()].copy()
    r["customer_id"] = cust[ret.to_numpy()]
    r["units"] = -qty[ret.to_numpy()]
    r["_pos"] = np.arange(len(r))
    has_cust = r["customer_id"].notna()
    s = orders.loc[orders["customer_id"].notna(), ["order_id", "order_date", "sku", "customer_id", "quantity"]].copy()
    s = s.rename(columns={"order_id": "m_order", "order_date": "m_date", "quantity": "m_qty"})
    s["m_line"] = s.index
    rc = r[has_cust.to_numpy()]
    matched = pd.DataFrame(index=rc.index)
    if len(rc) and len(s):
        left = rc[["order_date", "sku", "customer_id", "units", "_pos"]].sort_values("order_date", kind="stable")
        right = s.sort_values("m_date", kind="stable")
        key_l = left["customer_id"].astype(str) + "\x1f" + left["sku"].astype(str)
        key_r = right["customer_id"].astype(str) + "\x1f" + right["sku"].astype(str)
        left = left.assign(_k=key_l.to_numpy())
        right = right.assign(_k=key_r.to_numpy()).drop(columns=["customer_id", "sku"])
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
    kind[r.index[um]] = "unmatched_return"
    reason[r.index[um]] = unmatched_reason[um]

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
    return T.Split(orders=orders, returns=returns, kind=kind, reason=reason, partial=partial, notes=tuple(notes))


# ---------------------------------------------------------------- helpers
def _same_split(new: T.Split, old: T.Split) -> None:
    for f in ("orders", "returns", "partial"):
        assert_frame_equal(getattr(new, f), getattr(old, f))
    assert_series_equal(new.kind, old.kind)
    assert_series_equal(new.reason, old.reason)
    assert new.notes == old.notes


def _canonical_transactions(raw: R.RawTable) -> pd.DataFrame:
    """The canonical frame split_transactions receives inside load_dataset, for a raw Online Retail table."""
    from data.layouts import detect_layout
    from data.mapping import Mapping
    from data.validate import convert

    layout = detect_layout(list(raw.frame.columns), raw.frame[~raw.footer], "transactions")
    conv = convert(
        "real.csv", "transactions", raw.frame, dict(layout.suggested), raw.footer, Mapping().settings, raw.decimal_hint
    )
    return conv.frame[conv.kind.isna().to_numpy()]


# ---------------------------------------------------------------- the real export, first 50k lines
@pytest.fixture(scope="module")
def real_slice() -> bytes:
    if not REAL_DATA.exists():
        pytest.skip(f"real export not found at {REAL_DATA} (it lives in ../shared/data, never in the repo)")
    with gzip.open(REAL_DATA, "rb") as f:
        return b"".join(f.readline() for _ in range(50_001))  # header + 50,000 lines


def test_real_slice_footer_mask_identical(real_slice):
    raw = R.read_text(real_slice, "real.csv")
    assert len(raw.frame) == 50_000
    assert np.array_equal(R.footer_mask(raw.frame), old_footer_mask(raw.frame))
    # the same rows with totals and blank lines spliced in between and at the end
    f = raw.frame.iloc[:2000].copy()
    extra = pd.DataFrame(
        [
            ["Total", "", "", "99", "", "", "", ""],
            ["", "", "", "", "", "", "", ""],
            ["", " Grand total", "", "", "", "", "", ""],
            ["", "", "", "", "", "", "", "  "],
        ],
        columns=f.columns,
        dtype="string",
    )
    g = pd.concat([f.iloc[:700], extra, f.iloc[700:], extra], ignore_index=True)
    new = R.footer_mask(g)
    assert np.array_equal(new, old_footer_mask(g))
    assert new.sum() == 8  # 2 x (Total, blank, Grand total, whitespace-only)


def test_real_slice_split_transactions_identical(real_slice):
    t = _canonical_transactions(R.read_text(real_slice, "real.csv"))
    new, old = T.split_transactions(t), old_split_transactions(t)
    _same_split(new, old)
    assert len(new.returns) > 100 and new.kind.eq("unmatched_return").sum() > 10  # the slice exercises matching


def test_real_slice_xlsx_cells_identical(real_slice):
    raw = pd.read_csv(io.BytesIO(real_slice), nrows=3000, dtype={"Invoice": str, "StockCode": str})
    raw["InvoiceDate"] = pd.to_datetime(raw["InvoiceDate"])
    buf = io.BytesIO()
    raw.to_excel(buf, index=False, engine="xlsxwriter")
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_index(0).to_python()
    for j in range(len(rows[0])):
        col = [r[j] for r in rows[1:]]
        assert_series_equal(R._cells_to_text(np.asarray(col, dtype=object)), old_cells_to_text(col))
    assert R.read_excel(buf.getvalue()).frame["Quantity"].iloc[0] == str(raw["Quantity"].iloc[0])


# ---------------------------------------------------------------- synthetic edge cases
@pytest.mark.parametrize(
    "rows",
    [
        [["a", "b"], ["Total", "3"], ["", "total:"], ["", ""], ["x", "y"]],
        [["", "Subtotals"], ["  ", "  "], [" Summe", "1"], ["gesamt", ""], ["Total général", "2"]],
        [["Totalé", "1"], ["Totals", "2"], ["TOTAL", "3"], ["grand   total", "4"], ["totaal", ""], ["totale x", ""]],
        [["1", "Total"], ["not total", "x"], ["subtotal", ""], ["Total-", ""], ["\u00a0Total", ""]],
        [["only"], [""], ["Total"]],
        [["", "", ""], ["", "", "Total"], ["", "", ""]],
    ],
)
def test_footer_mask_edge_cases_identical(rows):
    width = len(rows[0])
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(width)], dtype="string")
    assert np.array_equal(R.footer_mask(frame), old_footer_mask(frame))


def test_footer_mask_missing_values_and_index_identical():
    frame = pd.DataFrame(
        {
            "a": pd.array([None, "Total", None, "x"], dtype="string"),
            "b": pd.array([None, None, "Grand Total", None], dtype="string"),
        },
        index=[10, 3, 7, 1],
    )
    assert np.array_equal(R.footer_mask(frame), old_footer_mask(frame))
    assert R.footer_mask(frame).tolist() == [True, True, True, False]  # blank, Total, Grand Total, data
    assert R.footer_mask(pd.DataFrame()).shape == (0,)


def _tx(rows: list[tuple], index=None) -> pd.DataFrame:
    df = pd.DataFrame(
        rows,
        columns=["order_id", "order_date", "sku", "quantity", "unit_price", "customer_id", "product_name"],
        index=index,
    )
    df["order_date"] = pd.to_datetime(df["order_date"])
    for c in ("order_id", "sku", "customer_id", "product_name"):
        df[c] = df[c].astype("string")
    df["quantity"] = df["quantity"].astype("int64")
    df["unit_price"] = df["unit_price"].astype("float64")
    return df


EDGE_TX = [
    ("1", "2024-01-01 10:00", "A", 2, 5.0, "c1", "Mug"),
    ("1", "2024-01-01 10:00", "B", 1, 3.0, "c1", "Plate"),
    ("2", "2024-01-02 10:00", "A", 1, 5.0, "c1", "Mug"),
    ("3", "2024-01-03 10:00", "A", 4, 5.0, "c2", "Mug"),
    ("C1", "2024-01-04 10:00", "A", -2, 5.0, "c1", "Mug"),  # matched to order 2 (the latest purchase): 1 of 2 units
    ("C2", "2024-01-04 10:00", "A", -3, 5.0, "c1", "Mug"),  # order 2 already returned -> unmatched
    ("C3", "2024-01-05 10:00", "A", -6, 5.0, "c2", "Mug"),  # partly matched (4 of 6)
    ("C4", "2024-01-05 10:00", "B", -1, 3.0, None, "Plate"),  # no customer
    ("C5", "2023-12-31 10:00", "B", -1, 3.0, "c1", "Plate"),  # before any purchase
    ("C6", "2024-01-06 10:00", "A", 1, 5.0, "c1", "Mug"),  # positive credit -> invalid
    ("4", "2024-01-06 10:00", "POST", 1, 10.0, "c1", "POSTAGE"),
    ("A1", "2024-01-06 10:00", "B", 1, -3.0, None, "Adjust bad debt"),
    ("5", "2024-01-06 10:00", "B", -2, 0.0, None, "damaged"),
    ("6", "2024-01-06 10:00", "B", 2, 0.0, None, "found"),
    ("7", "2024-01-06 10:00", "B", 2, 0.0, "c3", "free sample to customer"),
    ("8", "2024-01-06 10:00", "B", 0, 3.0, "c3", "Plate"),
    ("9", "2024-01-07 10:00", "B|x", 1, 3.0, "c|", "Plate"),
    ("C7", "2024-01-08 10:00", "x", -1, 3.0, "c|B", "Plate"),  # other customer, other sku: unmatched
    ("C8", "2024-01-08 10:00", "B|x", -1, 3.0, "c|", "Plate"),
    ("10", "2024-01-09 10:00", "gift_0001_10", 1, 10.0, "c4", "voucher"),
    ("11", "2024-01-09 10:00", "D", 1, 10.0, " c4 ", "Discount"),
    ("12", "2024-01-09 10:00", "Z", 3, 1.0, " c4 ", "Zebra"),
    ("C9", "2024-01-10 10:00", "Z", -1, 1.0, "c4", "Zebra"),  # customer id stripped on both sides
    ("C9", "2024-01-10 10:00", "Z", -1, 1.0, "", "Zebra"),  # empty customer = none
]


@pytest.mark.parametrize("index", [None, "shuffled", "strings"])
def test_split_transactions_edge_cases_identical(index):
    idx = None
    if index == "shuffled":
        idx = list(np.random.default_rng(3).permutation(len(EDGE_TX)) * 7 + 100)
    elif index == "strings":
        idx = [f"r{i}" for i in range(len(EDGE_TX))]
    t = _tx(EDGE_TX, idx)
    new, old = T.split_transactions(t), old_split_transactions(t)
    _same_split(new, old)
    # the rules themselves (read off the rows above)
    kinds = dict(zip(t["order_id"] + "/" + t["sku"], new.kind.fillna("ok")))
    assert kinds["C2/A"] == "unmatched_return" and kinds["C3/A"] == "ok" and kinds["C6/A"] == "invalid"
    assert kinds["C7/x"] == "unmatched_return" and kinds["C8/B|x"] == "ok"
    assert new.partial["quantity"].tolist() == [1, 2]  # C1 returned 2 of the 1 sold in order 2, C3 6 of 4


def test_split_transactions_key_collision_fixed():
    """The one intended difference: the old code matched on customer + "\\x1f" + sku as text, and customer ids
    are stripped (\\x1f counts as whitespace), so customer "c\\x1f" -> "c" buying "B\\x1fx" and customer "c\\x1fB"
    returning "x" both became "c\\x1fB\\x1fx": a return matched to another customer's purchase. The pair codes
    keep the two ids apart."""
    t = _tx(
        [
            ("9", "2024-01-07 10:00", "B\x1fx", 1, 3.0, "c\x1f", "Plate"),
            ("C7", "2024-01-08 10:00", "x", -1, 3.0, "c\x1fB", "Plate"),
        ]
    )
    assert old_split_transactions(t).kind.isna().all()  # the old code loaded the return against order 9
    new = T.split_transactions(t)
    assert new.kind.tolist() == [pd.NA, "unmatched_return"] and new.returns.empty


@pytest.mark.parametrize("keep", ["sales_only", "returns_only", "nothing_loaded"])
def test_split_transactions_degenerate_identical(keep):
    t = _tx(EDGE_TX)
    if keep == "sales_only":
        t = t[~t["order_id"].str.startswith("C")]
    elif keep == "returns_only":
        t = t[t["order_id"].str.startswith("C")]
    else:
        t = t[t["quantity"].eq(0)]
    _same_split(T.split_transactions(t), old_split_transactions(t))
    _same_split(
        T.split_transactions(t, credit_prefix="c", extra_non_merch=["z"]),
        old_split_transactions(t, credit_prefix="c", extra_non_merch=["z"]),
    )


def test_cells_to_text_edge_cases_identical():
    cols = [
        ["a", "b", ""],
        [1.0, 2.5, float("nan"), float("inf"), -0.0, 1e15, 1e16, 12.0, 2.5, -3.0, 0.1 + 0.2],
        [
            "x",
            1.0,
            None,
            True,
            False,
            dt.datetime(2024, 1, 2, 3, 4, 5),
            dt.date(2024, 5, 6),
            7,
            dt.time(8, 9),
            dt.timedelta(hours=1),
            "",
            2.25,
        ],
        [None, None],
        [True, 1.0, 1, -5, 2**70, False, None, dt.datetime(1999, 12, 31, 23, 59, 59, 999)],
        [],
        # columns of numbers only or dates only take the Arrow route (load-path round 3)
        [3.0, -1.0, 3.0, 0.5, float("nan"), 3.0],
        [dt.datetime(2010, 12, 1, 8, 26), dt.date(2011, 1, 2), dt.datetime(2010, 12, 1, 8, 26)],
        [dt.datetime(1, 1, 1), dt.datetime(2010, 12, 1, 8, 26)],  # out of datetime64[ns] range
        [dt.datetime(9999, 12, 31, 23, 59, 59)],
        [1.0],
    ]
    for col in cols:
        assert_series_equal(R._cells_to_text(np.asarray(col, dtype=object)), old_cells_to_text(col))


# ---------------------------------------------------------------- second round (d53d9b1 -> load-path)
def old_family_from_description(descriptions: pd.Series) -> pd.Series:
    from data.layouts import FAMILY_KEYWORDS

    uniq = pd.Series(descriptions.dropna().unique(), dtype="string")
    up = uniq.str.upper()
    fam = pd.Series(pd.NA, index=uniq.index, dtype="string")
    for family, words in FAMILY_KEYWORDS:
        pattern = "|".join(rf"\b{w.strip()}S?\b" if w.endswith(" ") else rf"\b{w}(?:S|ES)?\b" for w in words)
        hit = fam.isna() & up.str.contains(pattern, regex=True).fillna(False)
        fam = fam.mask(hit, family)
    lookup = dict(zip(uniq.tolist(), fam.fillna("Other").tolist()))
    return descriptions.map(lookup).astype("string").fillna("Other")


def old_styles_in_skus(sug: dict, frame: pd.DataFrame) -> bool:
    from data.layouts import STYLE_MIN_SHARE
    from data.sizes import derive_style_size

    name = sug.get("product_name")
    _, size, n_styles = derive_style_size(frame[sug["sku"]], frame[name] if name in frame.columns else None)
    share = float(pd.Series(size != "").groupby(frame[sug["sku"]].to_numpy()).first().mean()) if n_styles else 0.0
    return n_styles > 0 and share >= STYLE_MIN_SHARE


def test_family_from_description_identical():
    from data.layouts import family_from_description

    s = pd.Series(
        ["RED HEART MUG", None, "gift tag", "red heart mug", "", "JUMBO BAG PINK", None, "PEN SET", "CANDLES"],
        index=[5, 3, 9, 1, 0, 2, 8, 7, 6],
        dtype="string",
    )
    assert_series_equal(family_from_description(s), old_family_from_description(s))
    assert_series_equal(family_from_description(s[:0]), old_family_from_description(s[:0]))


@pytest.mark.parametrize(
    "skus,names",
    [
        (
            ["TEE-S", "TEE-M", "TEE-L", "MUG", "TEE-S", None, "CAP-XL", "CAP-XS"],
            ["t", "t", "t", "m", "t2", "x", "c", "c"],
        ),
        (["A1", "A2", "A1", "B"], [None, "Sock (M)", "Sock (L)", "Sock (L)"]),
        (["85123A", "DOOR SIGN, 5", "DOOR SIGN, 6", "22423"], ["HEART", "SIGN", "SIGN", "CAKESTAND"]),
    ],
)
def test_styles_in_skus_identical(skus, names):
    from data.layouts import _styles_in_skus

    frame = pd.DataFrame({"SKU": skus, "Name": names}, dtype="string")
    for sug in ({"sku": "SKU", "product_name": "Name"}, {"sku": "SKU"}, {"sku": "SKU", "product_name": "SKU"}):
        assert _styles_in_skus(sug, frame, "orders") == old_styles_in_skus(sug, frame), sug


def test_real_slice_detection_and_families_identical(real_slice):
    from data.layouts import _styles_in_skus, family_from_description, guess_role

    raw = R.read_text(real_slice, "real.csv")
    sug = {"sku": "StockCode", "product_name": "Description"}
    assert _styles_in_skus(sug, raw.frame, "transactions") == old_styles_in_skus(sug, raw.frame)
    assert guess_role(list(raw.frame.columns), raw.frame) == "transactions"
    desc = raw.frame["Description"].where(raw.frame["Description"] != "")
    assert_series_equal(family_from_description(desc), old_family_from_description(desc))


def test_is_utf8_is_strict_decode():
    import random

    def decodes(b: bytes) -> bool:
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    rng = random.Random(1)
    alphabet = [0x41, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xFF, 0xED, 0xA0]
    cases = [b"", b"abc", "é€😀".encode(), b"\xff", "é".encode()[:1], "\ud7ff".encode()]
    cases += [bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    for b in cases:  # a character split across the 1 MB steps (here 1-3 bytes) still decodes
        assert R._is_utf8(b) == decodes(b) and R._is_utf8(b, step=1) == decodes(b) == R._is_utf8(b, step=3), b


def test_guess_role_negative_share_identical():
    from data.layouts import guess_role

    cols = ["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price"]
    for qty, role in ((["1"] * 999 + ["-1"], "orders"), (["1"] * 998 + ["-1", " -2,5 "], "transactions")):
        f = pd.DataFrame({c: ["x"] * len(qty) for c in cols}, dtype="string").assign(
            Quantity=pd.array(qty, dtype="string"), InvoiceDate="2024-01-01", Price="1"
        )
        assert guess_role(cols, f) == role


# ---------------------------------------------------------------- third round (load-path: skip instead of a copy)
def _same_split_on_subset(with_skip: T.Split, subset: T.Split, t: pd.DataFrame, skip: np.ndarray) -> None:
    """split_transactions(t, skip=m) equals split_transactions(t[~m]): the same frames and values (index labels
    are t's own either way), and rows in skip get no kind or reason."""
    for f in ("orders", "returns", "partial"):
        assert_frame_equal(getattr(with_skip, f), getattr(subset, f))
    assert with_skip.kind[skip].isna().all() and with_skip.reason[skip].isna().all()
    assert_series_equal(with_skip.kind[~skip], subset.kind)
    assert_series_equal(with_skip.reason[~skip], subset.reason)
    assert with_skip.notes == subset.notes


@pytest.mark.parametrize("pattern", ["every_third", "first_and_last", "none", "all_returns"])
def test_split_transactions_skip_equals_leaving_rows_out(pattern):
    t = _tx(EDGE_TX, [i * 3 + 1 for i in range(len(EDGE_TX))])
    n = len(t)
    skip = np.zeros(n, dtype=bool)
    if pattern == "every_third":
        skip[::3] = True
    elif pattern == "first_and_last":
        skip[[0, n - 1]] = True
    elif pattern == "all_returns":
        skip = t["order_id"].str.startswith("C").to_numpy(dtype=bool)
    # a rejected row's values may be missing (a quantity that did not parse)
    t["quantity"] = t["quantity"].astype("float64")
    t.loc[t.index[skip], "quantity"] = np.nan
    t.loc[t.index[skip & (np.arange(n) % 2 == 0)], "order_date"] = pd.NaT
    kept = t[~skip]
    _same_split_on_subset(T.split_transactions(t, skip=skip), T.split_transactions(kept), t, skip)


def test_real_slice_split_with_skip_identical(real_slice):
    from data.layouts import detect_layout
    from data.mapping import Mapping
    from data.validate import convert

    raw = R.read_text(real_slice, "real.csv")
    layout = detect_layout(list(raw.frame.columns), raw.frame[~raw.footer], "transactions")
    conv = convert(
        "real.csv", "transactions", raw.frame, dict(layout.suggested), raw.footer, Mapping().settings, raw.decimal_hint
    )
    skip = conv.kind.notna().to_numpy()
    assert skip.any()  # duplicates in the slice
    t = conv.frame.reset_index(drop=True)
    _same_split_on_subset(T.split_transactions(t, skip=skip), T.split_transactions(t[~skip]), t, skip)


def test_load_dataset_one_transactions_file_equals_the_concatenated_path(real_slice, monkeypatch):
    """load_dataset on one transactions file (split reads the frame with skip) equals the path that copies the
    loaded rows first (taken when there are several files): every frame and FileReport of the Dataset."""
    from data import ingest

    data = real_slice + b"C999999,22423,REGENCY CAKESTAND 3 TIER,-1,2009-12-01 07:45:00,12.75,13085,United Kingdom\n"
    data += b",,,,,,,\nTotal,,,99,,,,\n"
    new = ingest.load_dataset([ingest.SourceFile("real.csv", data)])
    real_split = ingest.split_transactions

    def without_skip(t, *, skip=None, **kw):  # the several-files path: rows left out of t beforehand
        if skip is None:
            return real_split(t, **kw)
        s = real_split(t[~skip], **kw)
        return dataclasses.replace(
            s, kind=s.kind.reindex(t.index).astype("string"), reason=s.reason.reindex(t.index).astype("string")
        )

    monkeypatch.setattr(ingest, "split_transactions", without_skip)
    old = ingest.load_dataset([ingest.SourceFile("real.csv", data)])
    for f in ("orders", "returns", "catalog", "rejected", "unmatched_returns", "excluded"):
        assert_frame_equal(getattr(new, f), getattr(old, f))
    assert new.files == old.files and new.notes == old.notes and new.counts == old.counts
    assert new.files[0].rows_rejected > 0


def test_canonical_absent_columns_identical():
    """An absent text column is built as all-missing "string" directly; the same as the NA objects converted."""
    from data import ingest

    df = pd.DataFrame({"order_id": pd.Series(["1", "2"], dtype="string"), "quantity": [1, 2]}, index=[5, 9])
    new = ingest._canonical("orders", df)
    for c in ingest.TABLES["orders"].columns:
        if c.name in df:
            continue
        old = pd.Series(np.nan if c.dtype != "str" else pd.NA, index=df.index)
        if c.dtype == "str":
            assert_series_equal(new[c.name], old.astype("string").reset_index(drop=True), check_names=False)
