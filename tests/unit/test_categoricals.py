"""The low-cardinality text columns of the Prepared frames are pandas Categoricals (analysis.prepare.
CATEGORICAL_COLUMNS; issue 14, memory at 5M lines): which columns, missing stays missing, one dtype shared by the
three frames, codes read from them are what the strings gave, and a filtered Prepared - which keeps every category
in its dtypes - shows no value that has no row. The outputs themselves are compared with the string version by
bench/cat_identity.py (CLI, pages, Excel) and tests/unit/test_prepare_codes.py (the frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import intents, overview
from analysis.engine import Settings, analyse
from analysis.prepare import CATEGORICAL_COLUMNS, Filters, categorical, filter_prepared, prepare
from analysis.segments import DIMENSIONS, codes_of, line_codes
from data.demo import generate_dataset
from tests.builders import make_dataset


@pytest.fixture(scope="module")
def demo():
    ds = generate_dataset(seed=4, n_orders=3000)
    return ds, prepare(ds)


def test_the_declared_columns_and_only_they_are_categoricals(demo):
    _, p = demo
    for name in ("lines", "orders", "returns"):
        frame = getattr(p, name)
        got = {c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
        assert got == set(CATEGORICAL_COLUMNS[name]) & set(frame.columns), name
        for c in got:  # string categories in lexical order (sorting a column sorts as its text did)
            cats = frame[c].cat.categories
            assert cats.dtype == "string" and list(cats) == sorted(cats), (name, c)
    for c in ("order_id", "customer_id", "sku"):  # ids stay text
        assert p.lines[c].dtype == "string"
    assert p.returns["reason"].dtype == "string" and p.returns["comment"].dtype == "string"  # free text too


def test_the_values_are_the_datasets_and_missing_stays_missing():
    ds = make_dataset(
        [
            {"order_id": "A", "order_date": "2024-01-02", "sku": "s1", "collection": "Tops", "channel": "Web"},
            {"order_id": "A", "order_date": "2024-01-02", "sku": "s2", "collection": None, "channel": "Web"},
            {"order_id": "B", "order_date": "2024-01-03", "sku": "s3", "collection": "Bags", "channel": None},
        ],
        [{"order_id": "A", "sku": "s1", "return_date": "2024-01-09"}],
    )
    p = prepare(ds)
    lines = p.lines.sort_values("line_no")
    assert lines["collection"].astype("string").tolist() == ["Tops", pd.NA, "Bags"]
    assert lines["collection"].isna().tolist() == [False, True, False]
    assert lines["collection"].cat.codes.tolist() == [1, -1, 0]  # a missing value is code -1, not a category
    assert list(lines["collection"].cat.categories) == ["Bags", "Tops"]
    assert lines["channel"].isna().tolist() == [False, False, True]
    # product: its name, else its sku (no names here)
    assert lines["product"].astype("string").tolist() == ["s1", "s2", "s3"]


def test_the_frames_share_one_dtype_per_column(demo):
    _, p = demo
    for c in CATEGORICAL_COLUMNS["orders"]:
        assert p.orders[c].dtype == p.lines[c].dtype, c
    for c in set(CATEGORICAL_COLUMNS["returns"]) & set(CATEGORICAL_COLUMNS["lines"]) - {"reason_category"}:
        assert p.returns[c].dtype == p.lines[c].dtype, c
    # product is product_name where no name is missing: one array of codes, not two
    if p.lines["product_name"].notna().all():
        assert np.shares_memory(p.lines["product"].array.codes, p.lines["product_name"].array.codes)


def test_codes_read_from_the_categoricals_are_the_strings_codes(demo):
    _, p = demo
    for column in DIMENSIONS:
        if column not in p.lines:
            continue
        codes, labels = line_codes(p, column)
        want_codes, want_labels = codes_of(p.mature_lines[column].astype("string"))
        np.testing.assert_array_equal(codes, want_codes)  # numbered in order of first appearance, as before
        assert labels.tolist() == want_labels.tolist()


def test_a_filter_keeps_the_values_and_lists_no_value_without_rows(demo):
    ds, p = demo
    collection = str(p.lines["collection"].dropna().iloc[0])
    channel = str(p.lines["channel"].dropna().iloc[0])
    for filters in (Filters(collections=(collection,)), Filters(channels=(channel,))):
        f = filter_prepared(p, filters)
        keep = p.lines.index.isin(f.lines.index)
        for c in CATEGORICAL_COLUMNS["lines"]:
            got = f.lines[c].astype("string")
            pd.testing.assert_series_equal(got, p.lines.loc[keep, c].astype("string"), check_exact=True)
        # the filtered frames keep every category in their dtypes ...
        assert len(f.lines["collection"].cat.categories) == len(p.lines["collection"].cat.categories)
        # ... and what is counted on them lists only the values that have rows
        by = f.mature_lines.groupby("collection")["quantity"].sum()  # pandas 3: observed=True by default
        assert (by > 0).all() and set(by.index) == set(f.mature_lines["collection"].dropna())
        mix = intents.intent_mix(f, by="collection")
        assert set(mix.index) == set(f.mature_lines["collection"].dropna())
        assert set(mix.columns) <= set(f.mature_lines["intent"].dropna())
        a = analyse(f, Settings(cost_per_return=40.0), briefs=False)
        segs = a.segments
        for dim in ("collection", "channel", "intent"):
            shown = set(segs.loc[segs["dimension"] == dim, "segment"])
            assert shown <= set(f.mature_lines[dim].dropna().astype(str)), dim
            assert (segs.loc[segs["dimension"] == dim, "n"] > 0).all(), dim
        if filters.collections:
            assert set(segs.loc[segs["dimension"] == "collection", "segment"]) <= {collection}
        assert overview.headline(f) is not None


def test_categorical_of_a_categorical_is_itself_and_empty_columns_work():
    s = categorical(pd.Series(["b", "a"], dtype="string"))
    assert categorical(s) is s
    e = categorical(pd.Series([pd.NA, pd.NA], dtype="string"))
    assert e.isna().all() and len(e.cat.categories) == 0 and e.cat.categories.dtype == "string"
    empty = prepare(make_dataset([], []))
    assert all(isinstance(empty.lines[c].dtype, pd.CategoricalDtype) for c in CATEGORICAL_COLUMNS["lines"])
