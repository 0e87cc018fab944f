"""analysis.engine.segment_stage is analyse() before the fix list is ranked: the pages that show no fix list
(Collections, Intents, Journeys, Combinations) read it, so a new filter there ranks none. The oracle is analyse()
of the same frames in a Prepared that has computed nothing yet (dataclasses.replace starts with an empty memo):
the stage's segments, pairs, Simpson checks, totals, cost per return and notes must equal the analysis's, and the
Analysis built from the stage (with_fix_list) must equal it whole, fix list and dropped candidates included, on the
demo, a planted frailty dataset and a Shopify export (order-refund outcome), unfiltered and filtered."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from analysis.engine import Analysis, Segmented, Settings, analyse, segment_stage, with_fix_list
from analysis.prepare import Prepared, filter_prepared, prepare
from tests.unit.test_filter_codes import MAKERS, _filters, assert_same


@pytest.fixture(scope="module", params=list(MAKERS))
def prepared(request):
    return prepare(MAKERS[request.param]())


def _fresh(p: Prepared) -> Prepared:
    return dataclasses.replace(p)  # the same frames, nothing memoized


def _datasets(p: Prepared) -> list[Prepared]:
    out = [p]
    for f in _filters(p)[:3]:
        fp = filter_prepared(p, f)
        if len(fp.lines):
            out.append(fp)
    return out


def test_the_stage_holds_the_analysis_without_its_fix_list(prepared):
    settings = Settings(handling_cost=5.0)
    for p in _datasets(prepared):
        stage = segment_stage(p, settings, unmatched_returns=3, rejected_rows=2)
        old = analyse(_fresh(p), settings, unmatched_returns=3, rejected_rows=2, briefs=False)
        assert isinstance(stage, Segmented)
        assert not hasattr(stage, "fix_list")  # a page reading a fix list from the stage fails loudly
        full = old.to_json_dict()
        assert_same(stage.totals, old.totals)
        for name in ("segments", "pairs", "simpson"):
            new_part = Analysis(
                totals={},
                segments=getattr(stage, name) if name == "segments" else old.segments.iloc[:0],
                pairs=getattr(stage, name) if name == "pairs" else old.pairs.iloc[:0],
                fix_list=old.fix_list.iloc[:0],
                simpson=getattr(stage, name) if name == "simpson" else old.simpson.iloc[:0],
                cost_per_return=stage.cost_per_return,
                settings=settings,
            ).to_json_dict()[name]
            assert_same(new_part, full[name], name)
        assert stage.cost_per_return == pytest.approx(old.cost_per_return, rel=1e-12)
        assert stage.notes == old.notes
        assert stage.settings == settings


def test_the_fix_list_ranked_from_the_stage_is_the_analysis(prepared):
    settings = Settings()
    for p in _datasets(prepared):
        new = with_fix_list(segment_stage(p, settings), p, briefs=False)
        old = analyse(_fresh(p), settings, briefs=False)
        assert_same(new.to_json_dict(), old.to_json_dict())
        assert list(new.fix_list.columns) == list(old.fix_list.columns)
        assert len(new.fix_list) == len(old.fix_list)
        pd.testing.assert_frame_equal(new.dropped, old.dropped, check_exact=False, rtol=1e-9)


def test_briefs_from_the_stage_are_those_of_analyse():
    p = prepare(MAKERS["demo"]())
    new = with_fix_list(segment_stage(p), p)
    old = analyse(_fresh(p))
    assert new.fix_list["brief"].tolist() == old.fix_list["brief"].tolist()
