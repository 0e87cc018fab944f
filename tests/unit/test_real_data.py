"""Load the real Online Retail II export (500k lines) and check every count against an independent
plain-pandas computation written here from the documented rules (not by calling data.transactions)."""

import re

import pandas as pd
import pytest

from tests.conftest import REAL_DATA

pytestmark = pytest.mark.slow

if not REAL_DATA.exists():
    pytest.skip(
        f"real export not found at {REAL_DATA} (it lives in ../shared/data, never in the repo)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def loaded():
    from data.ingest import SourceFile, load_dataset

    content = REAL_DATA.read_bytes()
    return load_dataset([SourceFile(REAL_DATA.name, content)], name="Online Retail II")


@pytest.fixture(scope="module")
def expected():
    df = pd.read_csv(REAL_DATA, dtype=str, keep_default_na=False)  # C engine, independent of the reader
    q = df["Quantity"].astype(int)
    p = df["Price"].astype(float)
    cust = df["Customer ID"].str.strip() != ""
    dup = df.duplicated()
    code = df["StockCode"].str.strip().str.upper()
    nm = (
        code.isin(
            {"POST", "DOT", "M", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "ADJUST", "TEST001", "CRUK", "PADS", "B"}
        )
        | code.str.match(r"^(?:GIFT_0001_.*|ADJUST\d*|TEST\d+)$")
        | df["Description"].str.contains(
            r"^\s*(?:manual|discount|postage|dotcom postage|carriage|bank charges|samples?|"
            r"adjust bad debt)\s*$|\bpostage\b|\bcarriage\b|\bfees?\b|\bbank charges?\b",
            flags=re.IGNORECASE,
            regex=True,
        )
        | df["Invoice"].str.upper().str.startswith("A")
    )
    credit = df["Invoice"].str.upper().str.startswith("C")
    live = ~dup & ~nm
    write_off = live & ((~credit & (q < 0)) | (~credit & (q > 0) & (p == 0) & ~cust))
    invalid = live & ((credit & (q > 0)) | (q == 0))
    sales = live & ~credit & (q > 0) & ~write_off
    returns_lines = live & credit & (q < 0)
    return {
        "rows": len(df),
        "duplicate": int(dup.sum()),
        "non_merchandise": int((~dup & nm).sum()),
        "write_off": int(write_off.sum()),
        "invalid": int(invalid.sum()),
        "sales": int(sales.sum()),
        "credit_lines": int(returns_lines.sum()),
        "credit_no_customer": int((returns_lines & ~cust).sum()),
    }


def test_counts_reconcile_with_plain_pandas(loaded, expected):
    f = loaded.files[0]
    assert f.rows_read == expected["rows"] == 502_938
    assert f.reconciles
    k = f.rejected_by_kind
    assert k.get("duplicate", 0) == expected["duplicate"]
    assert k.get("non_merchandise", 0) == expected["non_merchandise"]
    assert k.get("write_off", 0) == expected["write_off"]
    assert k.get("invalid", 0) == expected["invalid"]
    assert len(loaded.orders) == expected["sales"]
    # every credit-note return line is either matched (a returns row) or an unmatched_return
    assert len(loaded.returns) + k.get("unmatched_return", 0) == expected["credit_lines"]
    assert k["unmatched_return"] >= expected["credit_no_customer"]
    assert len(loaded.rejected) == f.rows_rejected


def test_matched_returns_point_to_earlier_purchases_of_same_customer_and_sku(loaded):
    o = loaded.orders.drop_duplicates(["order_id", "sku"])[["order_id", "sku", "order_date", "customer_id"]]
    r = loaded.returns.merge(o, on=["order_id", "sku"], how="left")
    assert r["order_date"].notna().all()
    assert (r["order_date"] <= r["return_date"]).all()
    sold = loaded.orders.groupby(["order_id", "sku"])["quantity"].sum()
    ret = loaded.returns.groupby(["order_id", "sku"])["quantity"].sum()
    assert (ret <= sold.reindex(ret.index)).all()  # allocation never exceeds units sold


def test_dtypes_and_collection_note(loaded):
    o = loaded.orders
    assert str(o["order_date"].dtype) == "datetime64[ns]" and (o["order_date"] == o["order_date"].dt.normalize()).all()
    assert o["quantity"].dtype == "int64" and (o["quantity"] > 0).all()
    assert o["collection"].notna().all()
    assert any("keyword table" in n for n in loaded.notes)
