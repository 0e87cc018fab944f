"""Prepared.memo, the one cache below the dashboard (dashboard/cache.py): a value is computed once per
Prepared, and a filtered, replaced, copied or unpickled Prepared starts with an empty memo.

The oracle for "computed afresh" is the same computation on a Prepared built from scratch (a second
prepare() of the same dataset, filtered the same way) that nothing has been asked of before.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pandas as pd
import pytest

from analysis.prepare import Filters, Prepared, filter_prepared, prepare
from analysis.segment_sql import lines_table
from analysis.segments import DIMENSIONS, cluster_codes, line_codes, mature_frames, segment_counts
from data.demo import generate_dataset

FILTERS = Filters(channels=("App",))


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(seed=3, n_orders=3000)


@pytest.fixture()
def warm(dataset):
    """A Prepared on which every memoized step has run (segment counts of every dimension)."""
    p = prepare(dataset)
    for d in DIMENSIONS:
        if p.has(d):
            segment_counts(p, d)
    return p


def _counts(p: Prepared) -> dict[str, pd.DataFrame | None]:
    return {d: segment_counts(p, d) for d in DIMENSIONS if p.has(d)}


def _assert_same_counts(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for d in a:
        if a[d] is None or b[d] is None:
            assert a[d] is None and b[d] is None, d
        else:
            pd.testing.assert_frame_equal(a[d], b[d], check_exact=True, obj=d)


def test_memo_computes_once_per_key():
    p = Prepared(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), 30, "default", None, 0, 0)
    calls: list[str] = []

    def make(tag: str):
        def compute() -> list[str]:
            calls.append(tag)
            return [tag]

        return compute

    first = p.memo(("f", 1), make("a"))
    assert p.memo(("f", 1), make("b")) is first  # the stored value, not a second computation
    assert p.memo(("f", 2), make("c")) == ["c"]  # another argument is another key
    assert calls == ["a", "c"]
    p.forget("f")
    assert p.memo(("f", 1), make("d")) == ["d"]
    assert calls == ["a", "c", "d"]


def test_repeated_calls_return_the_stored_values(warm):
    assert mature_frames(warm) is mature_frames(warm)
    assert line_codes(warm, "collection") is line_codes(warm, "collection")
    assert lines_table(warm) is lines_table(warm)
    assert warm.mature_lines is warm.mature_lines


def test_a_filtered_copy_computes_afresh(warm, dataset):
    f = filter_prepared(warm, FILTERS)
    # the filter keeps a part of the mature lines: the parent's memoized frames would have more rows
    assert 0 < len(f.mature_lines) < len(warm.mature_lines)
    assert len(lines_table(f)) == len(f.mature_lines) < len(lines_table(warm))
    assert len(line_codes(f, "order_id")[0]) == len(f.mature_lines)
    assert len(cluster_codes(f)) == len(f.mature_lines)

    scratch = filter_prepared(prepare(dataset), FILTERS)  # nothing computed on it or on its parent
    pd.testing.assert_frame_equal(lines_table(f), lines_table(scratch), check_exact=True)
    _assert_same_counts(_counts(f), _counts(scratch))
    # and the parent still answers for itself
    _assert_same_counts(_counts(warm), _counts(prepare(dataset)))


def test_a_replaced_copy_computes_afresh(warm):
    half = warm.lines.iloc[::2]
    r = dataclasses.replace(warm, lines=half)
    pd.testing.assert_frame_equal(r.mature_lines, half[half["mature"]])
    assert len(mature_frames(r)[0]) == int(half["mature"].sum()) < len(mature_frames(warm)[0])
    assert len(lines_table(r)) == int(half["mature"].sum())


def test_pickle_and_copy_keep_the_data_and_drop_the_memo(warm):
    before = _counts(warm)
    key = ("analysis.segments.line_codes", "collection")  # memoized on warm
    for make in (lambda p: pickle.loads(pickle.dumps(p)), copy.copy, copy.deepcopy):
        probe, calls = make(warm), []
        assert probe.memo(key, lambda: calls.append(1) or "computed") == "computed"
        assert calls == [1]  # not inherited: the copy computed it
        other = make(warm)
        pd.testing.assert_frame_equal(other.lines, warm.lines)
        _assert_same_counts(_counts(other), before)
    assert line_codes(warm, "collection")[0].shape == (len(warm.mature_lines),)  # the original's memo is intact


def test_the_memo_is_not_part_of_equality_or_repr(warm):
    cold = copy.copy(warm)  # the same frames, an empty memo
    assert cold == warm
    assert "_memo" not in repr(cold)
    with pytest.raises(TypeError):  # as before the memo: frames and counts are unhashable, never a cache key
        hash(warm)
    with pytest.raises(ValueError):  # a memo field is not an argument
        dataclasses.replace(warm, _memo={})
