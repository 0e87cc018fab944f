"""A filtered Prepared (analysis.prepare.filter_prepared) takes its per-line codes from the data it was filtered
from (analysis.segments.pick_codes: segment, order and customer codes picked by the kept lines and renumbered
in order of first appearance) instead of encoding its text columns again. The oracle is the same filtered frames
in a Prepared that does not know its parent (dataclasses.replace starts with an empty memo), i.e. the codes and
the analysis computed from the filtered data alone: codes, labels, clusters, the SQL lines table and the whole
analysis must be identical, on the demo, a planted frailty dataset and a Shopify export (order-refund outcome),
for single and combined filters incl. date ranges and a filter of a filtered dataset (as judging the fix list on
logged changes does)."""

from __future__ import annotations

import dataclasses
import weakref

import numpy as np
import pandas as pd
import pytest

from analysis.engine import Settings, analyse
from analysis.prepare import Filters, Prepared, filter_prepared, prepare
from analysis.segment_sql import lines_table
from analysis.segments import (
    DIMENSIONS,
    NOT_SET,
    _picked_codes,
    cluster_codes,
    codes_of,
    customer_codes,
    line_codes,
    pick_codes,
    reference_column,
)
from tests.unit.test_filter_codes import MAKERS, _filters, assert_same


@pytest.fixture(scope="module", params=list(MAKERS))
def prepared(request):
    p = prepare(MAKERS[request.param]())
    analyse(p, Settings(), briefs=False)  # the parent's codes exist before filtering, as in the dashboard
    return p


def _cases(p: Prepared) -> list[tuple[Filters, ...]]:
    dates = p.lines["order_date"]
    lo, hi = dates.min(), dates.max()
    third = (hi - lo) / 3
    out: list[tuple[Filters, ...]] = [(f,) for f in _filters(p)]
    out.append((Filters(date_from=lo + third, date_to=hi - third),))
    out.append(
        (
            Filters(channels=tuple(str(v) for v in p.lines["channel"].dropna().unique()[:1])),
            Filters(date_from=lo + third),
        )
    )
    return [c for c in out if all(f.active for f in c)]


def _filtered(p: Prepared, chain: tuple[Filters, ...]) -> Prepared:
    for f in chain:
        p = filter_prepared(p, f)
    return p


def _columns(p: Prepared) -> list[str]:
    cols = ["order_id"] + [d for d in DIMENSIONS if p.has(d)]
    ref = reference_column(p)
    return cols + ([ref] if ref and ref not in cols else [])


def test_filtered_data_gets_the_parents_codes_and_keeps_no_reference_to_it(prepared):
    import gc

    for chain in _cases(prepared):
        f = _filtered(prepared, chain)
        assert f.memoized(("analysis.segments.line_codes", "order_id")) is not None  # picked, not computed
        if prepared.has("customer_id"):
            assert f.memoized("analysis.segments.customer_codes") is not None
    parent = filter_prepared(prepared, _cases(prepared)[0][0])
    line_codes(parent, "order_id")
    child = filter_prepared(parent, Filters(date_from=parent.lines["order_date"].min()))
    ref = weakref.ref(parent)
    del parent
    gc.collect()
    assert ref() is None and child.memoized(("analysis.segments.line_codes", "order_id")) is not None


def test_codes_picked_from_the_parent_equal_codes_of_the_filtered_data(prepared):
    for chain in _cases(prepared):
        new = _filtered(prepared, chain)
        old = dataclasses.replace(new)  # the same frames, no parent: encodes its own text
        assert old.memoized(("analysis.segments.line_codes", "order_id")) is None
        for col in _columns(new):
            (nc, nl), (oc, ol) = line_codes(new, col), line_codes(old, col)
            np.testing.assert_array_equal(nc, oc, err_msg=f"{col} {chain}")
            assert nc.dtype == oc.dtype, col
            assert list(nl) == list(ol), f"{col} {chain}"
        if new.has("customer_id"):
            np.testing.assert_array_equal(customer_codes(new), customer_codes(old))
        np.testing.assert_array_equal(cluster_codes(new), cluster_codes(old))
        assert (cluster_codes(new) is line_codes(new, "order_id")[0]) == (
            cluster_codes(old) is line_codes(old, "order_id")[0]
        )
        pd.testing.assert_frame_equal(lines_table(new), lines_table(old), check_exact=True)


@pytest.mark.parametrize("which", [0, 2, -2, -1])
def test_analysis_of_filtered_data_equals_the_analysis_without_the_parent(prepared, which):
    cases = _cases(prepared)
    chain = cases[which]
    new = _filtered(prepared, chain)
    a = analyse(new, Settings(), briefs=False).to_json_dict()
    b = analyse(dataclasses.replace(new), Settings(), briefs=False).to_json_dict()
    assert_same(a, b)


def test_picked_codes_number_missing_values_last_as_codes_of_does():
    values = pd.Series(["b", None, "a", "b", None, "c", "a"], dtype="string[pyarrow]")
    codes, labels = codes_of(values)
    for keep in (
        [True] * 7,
        [False, True, True, False, True, True, False],
        [True, False, False, True, False, False, True],
    ):
        rows = np.asarray(keep)
        got = _picked_codes(codes, labels, rows, False)
        want = codes_of(values[rows].reset_index(drop=True))
        assert got is not None
        np.testing.assert_array_equal(got[0], want[0])
        assert list(got[1]) == list(want[1])
    # a literal "(not set)" merged with the missing values: line_codes remembers it and encodes a subset afresh
    lines = pd.DataFrame({"collection": ["b", NOT_SET, "a", None], "mature": True})
    parent = Prepared(lines, pd.DataFrame(), pd.DataFrame(), 30, "default", None, 0, 0)
    parent.memo("analysis.segments.mature_frames", lambda: (lines, pd.DataFrame(), pd.DataFrame()))
    assert list(line_codes(parent, "collection")[1]) == ["b", NOT_SET, "a"]
    child = Prepared(lines.iloc[[0, 2, 3]], pd.DataFrame(), pd.DataFrame(), 30, "default", None, 0, 0)
    pick_codes(child, parent, np.asarray([True, False, True, True]))
    assert child.memoized(("analysis.segments.line_codes", "collection")) is None  # left to the child
    child.memo("analysis.segments.mature_frames", lambda: (lines.iloc[[0, 2, 3]], pd.DataFrame(), pd.DataFrame()))
    codes, labels = line_codes(child, "collection")
    want = codes_of(lines["collection"].iloc[[0, 2, 3]])
    np.testing.assert_array_equal(codes, want[0])
    assert list(labels) == list(want[1]) == ["b", "a", NOT_SET]


def test_one_dimension_counted_alone_equals_it_counted_with_every_dimension(prepared):
    """judge_fix_list asks the data after a logged change about one dimension: segment_table(alone=True) counts
    only that one; its rows must equal those counted with every dimension at once."""
    from analysis.segments import segment_table

    dates = prepared.lines["order_date"]
    after = filter_prepared(prepared, Filters(date_from=dates.min() + (dates.max() - dates.min()) / 3))
    for p in (prepared, after):
        for d in [d for d in DIMENSIONS if p.has(d)]:
            alone = segment_table(dataclasses.replace(p), d, cost_per_return=20.0, alone=True)
            together = segment_table(p, d, cost_per_return=20.0)
            pd.testing.assert_frame_equal(alone, together, check_exact=False, rtol=1e-9, obj=d)


def test_a_filter_of_filtered_data_equals_it_filtered_afresh(prepared):
    """The filtered data keeps the parent's order codes (analysis.prepare.order_codes) for the next filter: the
    frames of a second filter must equal those of the same filter on the same data encoded afresh."""
    dates = prepared.lines["order_date"]
    second = [Filters(date_from=dates.min() + (dates.max() - dates.min()) / 2)]
    second += [Filters(collections=tuple(str(v) for v in prepared.lines["collection"].dropna().unique()[:2]))]
    for chain in _cases(prepared):
        first = _filtered(prepared, chain)
        for f in second:
            if not f.active:
                continue
            new, old = filter_prepared(first, f), filter_prepared(dataclasses.replace(first), f)
            for frame in ("lines", "orders", "returns"):
                pd.testing.assert_frame_equal(getattr(new, frame), getattr(old, frame), check_exact=True)


def test_a_drill_down_counts_its_parent_rows_as_the_where_clause_did(prepared):
    """A drill-down hands the engine its parent segment's rows of the lines table instead of every line and a
    WHERE clause (analysis.segment_sql._count_all): the same sums, for both cluster levels."""
    from analysis.segment_sql import segment_sums

    p = filter_prepared(prepared, _cases(prepared)[0][0])
    if not p.has("collection"):
        pytest.skip("no collections")
    codes, labels = line_codes(p, "collection")
    table = lines_table(p)
    for code in np.unique(codes)[:3]:
        for cluster in ("ord", "clu"):
            rows = segment_sums(p, ["product", "size"], cluster=cluster, rows=table[codes == code])
            where = segment_sums(p, ["product", "size"], cluster=cluster, where=f"WHERE s_collection = {int(code)}")
            assert len(rows) > 0
            pd.testing.assert_frame_equal(rows, where, check_exact=False, rtol=1e-12, obj=f"{labels[code]} {cluster}")


def test_drill_down_dimensions_counted_together_equal_each_counted_alone(prepared):
    """sql_counts counts a parent segment's line dimensions together (products, sizes, categories of one
    collection): each must equal the same dimension counted alone."""
    from analysis.segment_sql import _all_counts, sql_counts

    p = filter_prepared(prepared, _cases(prepared)[0][0])
    if not p.has("collection"):
        pytest.skip("no collections")
    codes, labels = line_codes(p, "collection")
    for code in np.unique(codes)[:3]:
        for d in [d for d in ("product", "size", "category") if p.has(d)]:
            together = sql_counts(p, d, reference=False, within=("collection", str(labels[code])))
            alone = _all_counts(dataclasses.replace(p), (d,), (), ("collection", int(code)))[d]
            assert together is not None
            pd.testing.assert_frame_equal(together, alone, check_exact=False, rtol=1e-12, obj=f"{d} {labels[code]}")
