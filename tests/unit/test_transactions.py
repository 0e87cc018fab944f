"""Credit-note matching and classification on hand-built cases (expected outcomes worked out by hand)."""

import pandas as pd

from data.transactions import non_merchandise_mask, split_transactions


def _tx(rows):
    df = pd.DataFrame(
        rows, columns=["order_id", "order_date", "sku", "quantity", "unit_price", "customer_id", "product_name"]
    )
    df["order_date"] = pd.to_datetime(df["order_date"])
    for c in ("order_id", "sku", "customer_id", "product_name"):
        df[c] = df[c].astype("string")
    df["quantity"] = df["quantity"].astype("int64")
    return df


def test_two_earlier_purchases_match_most_recent_and_partial_and_no_customer():
    t = _tx(
        [
            ("100", "2024-01-01", "A", 5, 2.0, "c1", "MUG"),
            ("200", "2024-02-01", "A", 3, 2.0, "c1", "MUG"),
            ("300", "2024-03-01", "A", 4, 2.0, "c1", "MUG"),  # after the credit note: must not be matched
            ("C1", "2024-02-15", "A", -4, 2.0, "c1", "MUG"),  # most recent earlier = 200 (3 units): partial
            ("C2", "2024-02-16", "A", -1, 2.0, None, "MUG"),  # no customer
            ("C3", "2024-01-15", "BX", -1, 2.0, "c1", "BOWL"),  # no purchase of BX
            ("C4", "2024-02-20", "A", -1, 2.0, "c1", "MUG"),  # 200 already fully returned by C1
        ]
    )
    s = split_transactions(t)
    r = s.returns
    assert r["return_id"].tolist() == ["C1"]
    assert r[["order_id", "quantity", "refund_amount"]].iloc[0].tolist() == ["200", 3, 6.0]
    assert s.partial[["return_id", "quantity", "matched_order_id"]].iloc[0].tolist() == ["C1", 1, "200"]
    assert s.kind.iloc[:4].isna().all()
    assert s.kind.iloc[4:].tolist() == ["unmatched_return"] * 3
    assert "no customer" in s.reason.iloc[4]
    assert "already returned" in s.reason.iloc[6]
    assert s.orders["order_id"].tolist() == ["100", "200", "300"]


def test_same_day_credit_note_matches_and_exact_time_allowed():
    t = _tx([("100", "2024-01-01 10:00", "A", 2, 1.0, "c1", "X"), ("C9", "2024-01-01 10:00", "A", -2, 1.0, "c1", "X")])
    assert split_transactions(t).returns["order_id"].tolist() == ["100"]


def test_classification_write_offs_non_merch_bad_debt():
    t = _tx(
        [
            ("100", "2024-01-01", "POST", 1, 18.0, "c1", "POSTAGE"),
            ("101", "2024-01-01", "gift_0001_20", 1, 20.0, "c1", "Voucher"),
            ("102", "2024-01-01", "21000", -10, 0.0, None, "damaged"),
            ("103", "2024-01-01", "21001", 5, 0.0, None, "found"),
            ("104", "2024-01-01", "21002", 2, 0.0, "c2", "FREE GIFT MUG"),  # kept as a sale (has a customer)
            ("A5", "2024-01-01", "B", 1, -100.0, None, "Adjust bad debt"),
            ("105", "2024-01-01", "22000", 1, 1.0, "c2", "COFFEE MUG"),  # 'fee' must not match COFFEE
            ("C6", "2024-01-02", "22000", 2, 1.0, "c2", "COFFEE MUG"),  # positive credit-note line
        ]
    )
    s = split_transactions(t)
    assert s.kind.fillna("").tolist() == [
        "non_merchandise",
        "non_merchandise",
        "write_off",
        "write_off",
        "",
        "non_merchandise",
        "",
        "invalid",
    ]
    assert s.orders["order_id"].tolist() == ["104", "105"]


def test_extra_codes_and_description_rules():
    m = non_merchandise_mask(
        pd.Series(["GIFTWRAP", "85048", "M", "ADJUST2"]),
        pd.Series(["wrap", "carriage charge", "Manual", "x"]),
        extra_codes=["giftwrap"],
    )
    assert m.tolist() == [True, True, True, True]
