"""analysis.pairs._order_positions finds each return's order among the distinct order ids of the lines (the labels
of line_codes("order_id")) by looking those distinct ids up in the returns' few ids, instead of converting every
line's id: the positions must be what pandas' reindex of the labels gives, for Arrow labels and for Python ones,
with returns of orders the lines do not have and returns without an order id (NaN for both)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.pairs import _order_positions, pair_table
from analysis.prepare import prepare
from analysis.segments import line_codes
from data.demo import generate_dataset


def _oracle(order_ids: pd.Series, labels) -> np.ndarray:
    # the definition: pd.Series(range, index=labels).reindex(order_ids), as floats (NaN where absent or missing)
    ids = [None if pd.isna(v) else str(v) for v in order_ids]
    index = pd.Index([str(v) for v in labels], dtype=object)
    return pd.Series(np.arange(len(index)), index=index).reindex(ids).to_numpy(dtype="float64")


@pytest.mark.parametrize("kind", ["arrow", "object"])
def test_positions_are_those_of_a_reindex_on_the_labels(kind):
    line_ids = pd.Series(["o7", "o1", "o7", "o3", "o9", "o1", "o2"], dtype="string[pyarrow]")
    codes, labels = pd.factorize(line_ids, sort=False)  # as line_codes numbers them
    labels = labels.array if kind == "arrow" else np.asarray(labels, dtype=object)
    asked = pd.Series(["o3", None, "zz", "o7", "o2", "o3", None, "o9"], dtype="string")
    got = _order_positions(asked, labels)
    np.testing.assert_array_equal(got, _oracle(asked, labels))
    # and, by hand: o3 is the 3rd distinct id, o7 the 1st, o2 the 5th, o9 the 4th
    np.testing.assert_array_equal(got, [2, np.nan, np.nan, 0, 4, 2, np.nan, 3])
    # each found position names the return's order again
    found = ~np.isnan(got)
    assert [str(labels[int(k)]) for k in got[found]] == [str(v) for v in asked[found]]


def test_no_return_found_and_no_returns():
    labels = pd.array(["a", "b"], dtype="string[pyarrow]")
    assert np.isnan(_order_positions(pd.Series(["c", None], dtype="string"), labels)).all()
    assert _order_positions(pd.Series([], dtype="string"), labels).tolist() == []


def test_on_prepared_data_every_return_finds_its_order():
    p = prepare(generate_dataset(seed=5, n_orders=1200))
    _, labels = line_codes(p, "order_id")
    rets = p.returns
    got = _order_positions(rets["order_id"], labels)
    np.testing.assert_array_equal(got, _oracle(rets["order_id"], labels))
    assert np.isnan(got).any() and (~np.isnan(got)).any()  # returns of immature orders are not among the labels
    # the pairs' top reasons come through these positions: the table still builds
    assert len(pair_table(p, "collection", cost_per_return=40.0)) > 0
