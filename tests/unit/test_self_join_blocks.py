"""analysis.pairs._self_join builds the within-order pairs block by block (to bound its transient memory at
5M lines): the pairs and their order are those of one block, and those of a pandas merge on the order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.pairs import _self_join


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blocks_give_the_pairs_of_a_pandas_merge_in_its_order(seed):
    rng = np.random.default_rng(seed)
    n_orders = 300
    o = rng.integers(0, n_orders, size=1200)  # rows of an order scattered, as after filtering
    i = rng.integers(0, 40, size=len(o))
    # the reference: a pandas merge on the order (left rows in order, each with its order's rows in order)
    f = pd.DataFrame({"o": o, "i": i, "r": np.arange(len(o))})
    m = f.merge(f, on="o", suffixes=("_l", "_r"))
    m = m[m["i_l"] < m["i_r"]]
    for block in (1, 7, 64, 1200, 1 << 19):
        left, right = _self_join(o, i, n_orders, block=block)
        assert left.tolist() == m["r_l"].tolist()
        assert right.tolist() == m["r_r"].tolist()


def test_no_rows():
    left, right = _self_join(np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64"), 0)
    assert len(left) == len(right) == 0
