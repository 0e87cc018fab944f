"""An orders export with an order-status column (WooCommerce, Magento, ERPs): "cancelled" and "failed" orders
were counted as sales and "refunded" ones said nothing, so a WooCommerce export with 12% of its orders refunded
read "units returned 0, unit return rate 0.0%". Orders that were never sold are now set apart as cancelled, and
refunded orders give the order-refund outcome, as a Shopify export's Refunded Amount does.

Expected counts are taken from the generated frame with pandas, not from the loader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.engine import analyse
from analysis.prepare import prepare
from data.ingest import SourceFile, load_dataset

STATUSES = ["completed", "refunded", "cancelled", "failed", "processing", "wc-refunded", "Partially Refunded"]


@pytest.fixture(scope="module")
def woo():
    rng = np.random.default_rng(5)
    rows = []
    for i in range(1200):
        status = STATUSES[rng.choice(len(STATUSES), p=[0.62, 0.10, 0.08, 0.05, 0.05, 0.05, 0.05])]
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        for _ in range(int(rng.integers(1, 4))):
            sku = ["TEE-S", "TEE-M", "JEAN-30", "JEAN-32", "CAP"][int(rng.integers(0, 5))]
            rows.append(
                {
                    "Order Number": 5000 + i,
                    "Order Date": day.strftime("%Y-%m-%d"),
                    "Order Status": status,
                    "SKU": sku,
                    "Quantity": 1,
                    "Item Cost": 20.0,
                    "Customer User ID": int(rng.integers(1, 500)),
                }
            )
    return pd.DataFrame(rows)


def _load(frame: pd.DataFrame, extra=()):
    return load_dataset([SourceFile("woo.csv", frame.to_csv(index=False).encode(), "orders"), *extra])


def test_orders_never_sold_are_set_apart_with_their_status(woo):
    ds = _load(woo)
    gone = woo["Order Status"].isin(["cancelled", "failed"])
    rej = ds.rejected[ds.rejected["kind"] == "cancelled"]
    assert len(rej) == int(gone.sum()) > 0
    assert rej["reason"].str.startswith("Order Status 'cancelled'").sum() == int(
        (woo["Order Status"] == "cancelled").sum()
    )
    assert not set(ds.orders["order_id"].astype(int)) & set(woo.loc[gone, "Order Number"])
    (f,) = ds.files
    assert f.reconciles and f.rows_loaded == int((~gone).sum())


def test_refunded_orders_give_the_order_refund_outcome(woo):
    ds = _load(woo)
    # a window that closes before the last order, so the cutoff is known: orders up to it are counted
    p = prepare(ds, window_days=30)
    a = analyse(p, briefs=False)
    t = a.totals
    assert t["outcome"] == "order_refund"
    kept = woo[~woo["Order Status"].isin(["cancelled", "failed"])].drop_duplicates("Order Number")
    kept = kept[pd.to_datetime(kept["Order Date"]) <= p.cutoff_date]
    refunded = kept["Order Status"].isin(["refunded", "wc-refunded", "Partially Refunded"])
    assert t["orders"] == len(kept)
    assert t["orders_refunded"] == int(refunded.sum())
    assert t["order_refund_rate"] == pytest.approx(refunded.mean(), rel=1e-12)
    note = next(n for f in ds.files for n in f.notes if n.startswith("Order Status records refunds per order"))
    partly = woo.loc[woo["Order Status"] == "Partially Refunded", "Order Number"].nunique()
    assert f"{partly:,} partly refunded" in note and "upper bound" in note


def test_a_returns_file_keeps_line_returns_as_the_outcome(woo):
    kept = woo[woo["Order Status"] == "completed"].head(40)
    returns = pd.DataFrame({"Order Number": kept["Order Number"], "SKU": kept["SKU"], "Quantity": 1})
    ds = _load(woo, [SourceFile("returns.csv", returns.to_csv(index=False).encode(), "returns")])
    p = prepare(ds, window_days=30)
    assert analyse(p, briefs=False).totals["outcome"] == "line_return"


def test_a_status_of_shipping_words_changes_nothing(woo):
    shipped = woo.assign(**{"Order Status": "shipped"})
    ds = _load(shipped)
    assert ds.rejected.empty
    assert "order_refunded" not in ds.orders or ds.orders["order_refunded"].isna().all()


@pytest.mark.parametrize("word", ["Refunded", "wc-refunded", "Returned", "Erstattet", "remboursée", "Devuelto"])
def test_refund_and_return_words_are_read_in_their_languages(woo, word):
    frame = woo.assign(**{"Order Status": np.where(woo["Order Number"] % 5 == 0, word, "completed")})
    ds = _load(frame)
    refunded = ds.orders.loc[ds.orders["order_refunded"] > 0, "order_id"].astype(int).unique()
    assert set(refunded) == set(frame.loc[frame["Order Number"] % 5 == 0, "Order Number"])


def _statuses(frame: pd.DataFrame, words: list[str]) -> pd.DataFrame:
    """frame with each order's status drawn from `words` by its order number (every line of an order alike)."""
    return frame.assign(**{"Order Status": np.asarray(words, dtype=object)[frame["Order Number"] % len(words)]})


def test_status_values_it_cannot_read_are_named_with_their_orders(woo):
    # "closed", "pending" and "on-hold" say neither sold nor refunded nor cancelled in general: counted as sold,
    # and the load report names each with its orders so a store whose "closed" means refunded can say so
    frame = _statuses(woo, ["completed", "closed", "pending", "completed", "on-hold", "processing"])
    ds = _load(frame)
    assert ds.rejected.empty
    assert "order_refunded" not in ds.orders or ds.orders["order_refunded"].isna().all()
    (f,) = ds.files
    note = next(n for n in f.notes if n.startswith("Order Status values counted as sold"))
    orders = frame.drop_duplicates("Order Number")["Order Status"].value_counts()  # independent count by pandas
    for word in ("closed", "pending", "on-hold"):
        assert f"'{word}' ({orders[word]:,} orders)" in note
    assert "'completed'" not in note and "'processing'" not in note
    assert "refunded_statuses" in note


def test_your_own_status_words_are_read_as_refunds_or_cancellations(woo):
    from data.mapping import Mapping

    frame = _statuses(woo, ["completed", "Retour ontvangen", "Abgelehnt", "completed"])
    m = Mapping.from_json(
        '{"orders": {}, "settings": {"refunded_statuses": ["retour ontvangen"], "cancelled_statuses": ["ABGELEHNT"]}}'
    )
    ds = load_dataset([SourceFile("woo.csv", frame.to_csv(index=False).encode(), "orders")], m)
    refunded = set(ds.orders.loc[ds.orders["order_refunded"] > 0, "order_id"].astype(int))
    assert refunded == set(frame.loc[frame["Order Status"] == "Retour ontvangen", "Order Number"])
    gone = frame["Order Status"] == "Abgelehnt"
    assert (ds.rejected["kind"] == "cancelled").sum() == int(gone.sum()) > 0
    assert not any(n.startswith("Order Status values counted as sold") for n in ds.files[0].notes)


def test_a_bad_status_setting_is_refused_with_its_fix():
    from data.errors import InputError
    from data.mapping import Mapping

    with pytest.raises(InputError) as e:
        Mapping.from_json('{"settings": {"refunded_statuses": "closed"}}')
    assert "refunded_statuses must be a list" in e.value.problems[0].title


def test_magento_closed_orders_are_refunded_orders(woo):
    # Magento's order grid: "closed" is an order refunded in full by a credit memo (Magento docs, order status
    # workflow); elsewhere "closed" may be a completed order, so only Magento's own headers turn it into a refund
    frame = _statuses(woo, ["complete", "closed", "processing", "canceled"]).rename(
        columns={"Order Number": "ID", "Order Date": "Purchase Date", "Order Status": "Status"}
    )
    frame["Purchase Point"] = "Main Website"
    frame["Bill-to Name"] = "A. Customer"
    frame["Grand Total (Purchased)"] = 20.0
    ds = _load(frame)
    refunded = set(ds.orders.loc[ds.orders["order_refunded"] > 0, "order_id"].astype(int))
    assert refunded == set(frame.loc[frame["Status"] == "closed", "ID"])
    assert (ds.rejected["kind"] == "cancelled").sum() == int((frame["Status"] == "canceled").sum())
    assert any("Magento's 'closed' status" in n for n in ds.files[0].notes)
    plain = _load(
        frame.drop(columns=["Purchase Point", "Bill-to Name", "Grand Total (Purchased)"]).rename(
            columns={"ID": "Order Number"}
        )
    )
    assert "order_refunded" not in plain.orders or plain.orders["order_refunded"].isna().all()


def test_refunds_the_returns_file_does_not_hold_are_said(woo):
    # refunded orders (status) beside a returns file holding returns of only some of them: the rates count the returns
    # file, and the orders file says how many refunded orders have no return line (counts by pandas below)
    frame = _statuses(woo, ["completed", "refunded"])
    refunded_ids = frame.loc[frame["Order Status"] == "refunded", "Order Number"].drop_duplicates()
    some = frame[frame["Order Number"].isin(refunded_ids.iloc[::3])].drop_duplicates("Order Number")
    returns = pd.DataFrame({"Order Number": some["Order Number"], "SKU": some["SKU"], "Quantity": 1})
    ds = _load(frame, [SourceFile("returns.csv", returns.to_csv(index=False).encode(), "returns")])
    placed = pd.to_datetime(frame.drop_duplicates("Order Number").set_index("Order Number")["Order Date"])
    lo, hi = placed[some["Order Number"]].min(), placed[some["Order Number"]].max()
    inside = refunded_ids[placed[refunded_ids].between(lo, hi).to_numpy()]
    missing = int((~inside.isin(some["Order Number"])).sum())
    note = next(n for n in ds.files[0].notes if "records a refund on" in n)
    assert f"records a refund on {len(inside):,} orders" in note and f"{missing:,} of them" in note
