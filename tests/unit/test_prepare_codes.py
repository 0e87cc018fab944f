"""prepare() on integer codes gives what the merge-based prepare gave, frame for frame.

The oracle is tests/unit/prepare_reference.py, a frozen copy of prepare() before it encoded order ids and
(order, sku) keys once and replaced its merges by positional takes (branch prepare-speed). Every frame of
Prepared (lines, orders, returns: columns, order, dtypes, values) and every scalar field must be equal, on
edge cases built by hand (several lines of one sku in one order, returns larger than sold, returns without a
sale, missing prices, ties between reasons, order-level refunds) and on the generators the app and the
benchmarks use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.prepare import CATEGORICAL_COLUMNS, RETURN_LINE_COLUMNS, RETURNS_LOADED, prepare
from bench.calibration import frailty_dataset
from data.demo import generate_dataset
from data.ingest import SourceFile, load_dataset
from data.shopify_sample import generate_shopify_export
from tests.builders import make_dataset
from tests.unit.prepare_reference import prepare_reference


def _as_strings(frame: pd.DataFrame, name: str, lines: pd.DataFrame) -> pd.DataFrame:
    """frame with the low-cardinality text columns prepare holds as categoricals (CATEGORICAL_COLUMNS[name], and
    only those) back as the strings the reference holds, after checking what they hold: string categories, sorted;
    in the lines and orders none unused (a Prepared fresh from prepare has no category without a row); the
    returns' line attributes have the lines' very categories (they are taken from the lines)."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    assert cats == [c for c in frame.columns if c in CATEGORICAL_COLUMNS[name]], name
    for c in cats:
        categories = frame[c].cat.categories
        assert categories.dtype == "string" and categories.is_monotonic_increasing, (name, c)
        if name == "returns" and c in RETURN_LINE_COLUMNS:
            assert frame[c].dtype == lines[c].dtype, (name, c)
        else:
            assert set(frame[c].cat.codes[frame[c].cat.codes >= 0]) == set(range(len(categories))), (name, c)
    return frame.astype({c: "string" for c in cats})


def assert_same_prepared(new, old) -> None:
    for name in ("lines", "orders", "returns"):
        a, b = getattr(new, name), getattr(old, name)
        assert list(a.columns) == list(b.columns), name
        a = _as_strings(a, name, new.lines)
        if name == "returns":
            a = a.sort_index()  # the returns of mature orders first, each under its old label
        else:
            # lines and orders hold the mature orders' rows first (prepare._mature_first), each row under its
            # old index label: in label order they are the old frames, and the mature frames are exactly the
            # old frame[mature], row order and labels included
            pd.testing.assert_frame_equal(
                _as_strings(getattr(new, f"mature_{name}"), name, new.lines),
                b[b["mature"].to_numpy(dtype=bool)],
                check_exact=True,
                obj=name,
            )
            mature = a["mature"].to_numpy(dtype=bool)
            if name == "orders" or b["mature"].groupby(b["order_id"]).nunique().le(1).all():
                assert mature[: int(mature.sum())].all(), f"{name}: mature rows first"
            a = a.sort_index()
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)
    for f in (
        "window_days",
        "window_source",
        "cutoff_date",
        "immature_orders_excluded",
        "immature_lines_excluded",
        "available",
        "notes",
        "outcome",
        "counts",
    ):
        if f == "available":  # the reference predates RETURNS_LOADED (returns loaded: rates are known, 0 or not)
            assert new.available - {RETURNS_LOADED} == old.available, f
            continue
        assert getattr(new, f) == getattr(old, f), f
    np.testing.assert_array_equal(new.arrival.days, old.arrival.days)
    np.testing.assert_array_equal(new.arrival.share, old.arrival.share)


def _edge_dataset():
    d = "2024-01-05"
    orders = [
        # O1: three lines of one sku (returns allocated to the first lines first), one line of another
        {"order_id": "O1", "order_date": d, "sku": "A", "quantity": 1, "unit_price": 10.0, "product_name": "Tee"},
        {"order_id": "O1", "order_date": d, "sku": "A", "quantity": 2, "unit_price": 10.0, "product_name": "Tee"},
        {"order_id": "O1", "order_date": d, "sku": "A", "quantity": 1, "unit_price": 12.0, "product_name": "Tee"},
        {"order_id": "O1", "order_date": d, "sku": "B", "quantity": 1, "unit_price": None, "product_name": None},
        # O2: more returned than sold; a line with zero quantity (dropped); sizes for bracketing
        {"order_id": "O2", "order_date": "2024-02-01", "sku": "C-S", "quantity": 1, "unit_price": 30.0, "size": "S"},
        {"order_id": "O2", "order_date": "2024-02-01", "sku": "C-M", "quantity": 1, "unit_price": 30.0, "size": "M"},
        {"order_id": "O2", "order_date": "2024-02-01", "sku": "Z", "quantity": 0, "unit_price": 5.0},
        # O3: missing prices everywhere, a customer seen twice, three collections
        {
            "order_id": "O3",
            "order_date": "2024-03-01",
            "sku": "D",
            "quantity": 1,
            "collection": "K",
            "customer_id": "c1",
        },
        {
            "order_id": "O3",
            "order_date": "2024-03-01",
            "sku": "E",
            "quantity": 1,
            "collection": "L",
            "customer_id": "c1",
        },
        {
            "order_id": "O3",
            "order_date": "2024-03-01",
            "sku": "F",
            "quantity": 1,
            "collection": "M",
            "customer_id": "c1",
        },
        {
            "order_id": "O4",
            "order_date": "2024-05-01",
            "sku": "D",
            "quantity": 3,
            "collection": "K",
            "customer_id": "c1",
        },
        # O5: an intent given by the file; O6 recent (immature)
        {"order_id": "O5", "order_date": "2024-06-01", "sku": "A", "quantity": 1, "intent": "bracketing"},
        {"order_id": "O6", "order_date": "2024-12-30", "sku": "A", "quantity": 2, "unit_price": 10.0},
    ]
    returns = [
        {"order_id": "O1", "sku": "A", "quantity": 1, "return_date": "2024-01-09", "reason": "Too big"},
        {"order_id": "O1", "sku": "A", "quantity": 1, "return_date": "2024-01-12", "reason": "Damaged"},
        {"order_id": "O1", "sku": "A", "quantity": 1, "return_date": "2024-01-20", "reason": "Too small"},
        {"order_id": "O1", "sku": "B", "quantity": 1, "return_date": None, "reason": None, "refund_amount": 7.5},
        # ties between two reasons of one (order, sku): the same winner as before
        {"order_id": "O2", "sku": "C-S", "quantity": 2, "return_date": "2024-02-10", "reason": "Too big"},
        {"order_id": "O2", "sku": "C-S", "quantity": 2, "return_date": "2024-02-11", "reason": "Damaged"},
        {"order_id": "O2", "sku": "C-M", "quantity": 1, "resolution": "Exchange", "refund_amount": 30.0},
        {"order_id": "O2", "sku": "C-M", "quantity": 1, "resolution": "Store credit"},
        # returns of a sku the order did not hold, and of an order that does not exist
        {"order_id": "O3", "sku": "Q", "quantity": 1, "return_date": "2024-03-05"},
        {"order_id": "O99", "sku": "A", "quantity": 1, "return_date": "2024-03-05"},
        {"order_id": "O4", "sku": "D", "quantity": 2, "return_date": "2024-05-09", "resolution": "Refund"},
        {"order_id": "O6", "sku": "A", "quantity": 1, "return_date": "2024-12-31", "refund_amount": 10.0},
    ]
    return make_dataset(orders, returns)


@pytest.mark.parametrize("window_days", [None, 30])
def test_edge_cases_equal_the_reference(window_days):
    ds = _edge_dataset()
    assert_same_prepared(prepare(ds, window_days=window_days), prepare_reference(ds, window_days=window_days))


def test_no_returns_and_no_lines_equal_the_reference():
    ds = _edge_dataset()
    no_returns = make_dataset(ds.orders, [])
    assert_same_prepared(prepare(no_returns), prepare_reference(no_returns))
    no_lines = make_dataset([], [])
    assert_same_prepared(prepare(no_lines), prepare_reference(no_lines))


def test_a_non_default_index_on_the_returns_equals_the_reference():
    ds = _edge_dataset()
    shifted = make_dataset(ds.orders, ds.returns)
    object.__setattr__(shifted, "returns", ds.returns.set_axis(np.arange(len(ds.returns)) * 7 + 3))
    assert_same_prepared(prepare(shifted), prepare_reference(shifted))


@pytest.mark.parametrize(
    "make",
    [
        lambda: generate_dataset(seed=3, n_orders=3000),
        lambda: generate_dataset(seed=4, n_orders=2000, null=True),
        lambda: frailty_dataset(2, 4000, customer_var=0.3),
    ],
    ids=["demo", "demo-null", "frailty"],
)
def test_generated_datasets_equal_the_reference(make):
    ds = make()
    assert_same_prepared(prepare(ds), prepare_reference(ds))


def test_shopify_order_level_refunds_equal_the_reference():
    # orders export alone: the order-refund outcome (refunds attributed to lines, or spread over them)
    files, _ = generate_shopify_export(seed=5, n_orders=1500)
    ds = load_dataset([SourceFile(n, c) for n, c in files.items()])
    new, old = prepare(ds), prepare_reference(ds)
    assert new.outcome == "order_refund"
    assert_same_prepared(new, old)


@pytest.mark.parametrize("shuffle", [False, True], ids=["orders-contiguous", "orders-interleaved"])
def test_intents_hashed_range_by_range_equal_the_reference(monkeypatch, shuffle):
    # _derive_intent hashes its keys over ranges of whole orders (analysis.prepare._order_ranges): with ranges of
    # a few dozen lines (hundreds of passes) the intents, and every frame, are the reference's; lines whose
    # orders interleave (shuffled) cut into fewer ranges and still give the same
    import analysis.prepare as prep

    monkeypatch.setattr(prep, "INTENT_CHUNK_LINES", 37)
    ds = generate_dataset(seed=6, n_orders=2500)
    if shuffle:
        rows = np.random.default_rng(0).permutation(len(ds.orders))
        object.__setattr__(ds, "orders", ds.orders.iloc[rows].reset_index(drop=True))
    ranges = prep._order_ranges(prep.shared_codes(ds.orders["order_id"])[0])
    assert len(ranges) >= (1 if shuffle else 50)
    new = prepare(ds)
    assert set(new.lines["intent"].dropna()) >= {"bracketing", "single_item", "multi_item"}
    assert_same_prepared(new, prepare_reference(ds))


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_edge_cases_range_by_range_equal_the_reference(monkeypatch, chunk):
    # the (order, sku) codes, intents and collections per order computed over ranges of one to three lines of
    # whole orders: returns of a sku the order did not hold and of an order that does not exist are numbered as
    # over the whole data
    import analysis.prepare as prep

    monkeypatch.setattr(prep, "INTENT_CHUNK_LINES", chunk)
    ds = _edge_dataset()
    assert len(prep._order_ranges(prep.shared_codes(ds.orders["order_id"])[0])) > 3
    assert_same_prepared(prepare(ds), prepare_reference(ds))
