"""prepare() puts the mature orders' rows first, so Prepared.mature_lines / mature_orders are slices, not copies.

The lines and orders are a stable partition (mature orders first, each row under its old index label; see
analysis.prepare._mature_first). The oracle is the same Prepared with its frames put back in label order,
which is the layout prepare() gave before (tests/unit/test_prepare_codes.py holds that layout equal to the
frozen reference): there the mature frames are boolean-mask copies. Both must give the same analysis - the
segments, pairs, Simpson checks, fix list, totals and briefs, and the page functions that read every line -
on data whose mature rows do not come first (the frailty generator, the demo and the Shopify order-level
refunds, each with its orders shuffled)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis import overview, trends_view
from analysis.engine import Settings, analyse
from analysis.prepare import prepare
from analysis.segments import mature_returns
from bench.calibration import Plant, frailty_dataset
from data.demo import generate_dataset
from data.ingest import SourceFile, load_dataset
from data.shopify_sample import generate_shopify_export


def _shopify():
    files, _ = generate_shopify_export(seed=5, n_orders=1500)
    return load_dataset([SourceFile(n, c) for n, c in files.items()])


def _orders_shuffled(ds):
    """The dataset with its orders in random order (each order's lines together, in their own order): data
    whose mature rows do not come first, as in the benchmark's generated chunks."""
    codes = pd.factorize(ds.orders["order_id"])[0]
    rank = np.random.default_rng(0).permutation(int(codes.max()) + 1)
    at = np.argsort(rank[codes], kind="stable")
    return replace(ds, orders=ds.orders.iloc[at].reset_index(drop=True))


PLANT = Plant(collection="Lighting C", collection_mult=2.0, pair=("Tops A", "Dresses B"), pair_mult=2.5)
MAKERS = {
    "frailty-planted": lambda: _orders_shuffled(frailty_dataset(3, 8000, customer_var=0.3, plant=PLANT)),
    "demo": lambda: _orders_shuffled(generate_dataset(seed=3, n_orders=3000)),
    "shopify": lambda: _orders_shuffled(_shopify()),
}


@pytest.fixture(scope="module", params=list(MAKERS))
def pair(request):
    new = prepare(MAKERS[request.param]())
    # the layout before
    old = replace(new, lines=new.lines.sort_index(), orders=new.orders.sort_index(), returns=new.returns.sort_index())
    return new, old


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    # floats to 1e-9: sums over every line (the monthly trend) add the same values in another order
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)


def test_the_mature_frames_are_slices_equal_to_the_mask_copies(pair):
    new, old = pair
    assert not old.lines["mature"].is_monotonic_decreasing  # the data does put immature rows among mature ones
    for name in ("lines", "orders"):
        a, b = getattr(new, f"mature_{name}"), getattr(old, f"mature_{name}")
        pd.testing.assert_frame_equal(a, b, check_exact=True)  # rows, order, index labels, dtypes, values
        frame = getattr(new, name)
        assert np.shares_memory(a["units"].to_numpy(), frame["units"].to_numpy())
        assert not np.shares_memory(b["units"].to_numpy(), getattr(old, name)["units"].to_numpy())
    a, b = mature_returns(new), mature_returns(old)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not len(a) or np.shares_memory(a["quantity"].to_numpy(), new.returns["quantity"].to_numpy())


def test_analyse_is_the_same_on_either_layout(pair):
    new, old = pair
    a = analyse(new, Settings(cost_per_return=40.0), briefs=True)
    b = analyse(old, Settings(cost_per_return=40.0), briefs=True)
    for name in ("segments", "pairs", "simpson", "fix_list", "dropped"):
        _same(getattr(a, name), getattr(b, name))
    assert a.totals == b.totals
    assert len(a.fix_list) == len(b.fix_list)


def test_pages_reading_every_line_are_the_same(pair):
    new, old = pair
    _same(overview.monthly(new), overview.monthly(old))
    assert overview.headline(new) == overview.headline(old)
    assert trends_view.trend_dimensions(new) == trends_view.trend_dimensions(old)
    assert trends_view.order_date_span(new) == trends_view.order_date_span(old)


def test_columns_sharing_memory_still_share_after_the_move_and_stay_apart_on_write(pair):
    new, old = pair
    lines = new.lines
    assert np.shares_memory(lines["units"].to_numpy(), lines["quantity"].to_numpy())  # units is quantity
    edited = lines.copy(deep=False)
    edited.loc[edited.index[0], "units"] = 10**6  # copy-on-write: the write does not reach quantity
    assert edited["quantity"].iloc[0] != 10**6 and lines["units"].iloc[0] != 10**6


def test_entirely_missing_columns_moved_share_one_array_and_stay_missing(pair):
    new, old = pair
    for a, b in (("promotion", "country"), ("promotion", "addon")):
        if new.lines[a].isna().all() and new.lines[b].isna().all():
            # categoricals (analysis.prepare.CATEGORICAL_COLUMNS): one array of codes, not two
            assert isinstance(new.lines[a].dtype, pd.CategoricalDtype)
            assert np.shares_memory(new.lines[a].array.codes, new.lines[b].array.codes)
            pd.testing.assert_series_equal(new.lines[a].sort_index(), old.lines[a], check_exact=True)
