"""simpson_check and pair_table in numpy give what their pandas versions gave, row for row.

The oracle is tests/unit/analyse_reference.py, frozen copies of analysis.segments.simpson_check and
analysis.pairs.pair_table before their per-segment pandas frames and the pair self-merge were replaced by
numpy (branch analyse-loops). Each table must be equal (columns, order, dtypes, values; floats to 1e-9) on
the demo, a null demo, a null and a planted frailty dataset and the Shopify sample, for every level and
dimension analyse() and the pages use; and analyse() itself must give the same segments, pairs, Simpson
checks and fix list, to the row, as analyse() running the frozen copies."""

from __future__ import annotations

import pandas as pd
import pytest

import analysis.engine as engine
from analysis.engine import Settings, analyse
from analysis.pairs import pair_table
from analysis.prepare import prepare
from analysis.segments import mature_returns, simpson_check
from bench.calibration import Plant, frailty_dataset
from data.demo import generate_dataset
from data.ingest import SourceFile, load_dataset
from data.shopify_sample import generate_shopify_export
from tests.unit.analyse_reference import pair_table_reference, simpson_check_reference


def _shopify():
    files, _ = generate_shopify_export(seed=5, n_orders=1500)
    return load_dataset([SourceFile(n, c) for n, c in files.items()])


PLANT = Plant(collection="Lighting C", collection_mult=2.0, pair=("Tops A", "Dresses B"), pair_mult=2.5)
MAKERS = {
    "demo": lambda: generate_dataset(seed=3, n_orders=3000),
    "demo-null": lambda: generate_dataset(seed=4, n_orders=2000, null=True),
    "frailty-null": lambda: frailty_dataset(2, 6000, customer_var=0.3),
    "frailty-planted": lambda: frailty_dataset(3, 8000, customer_var=0.3, plant=PLANT),
    "shopify": _shopify,
}


@pytest.fixture(scope="module", params=list(MAKERS))
def prepared(request):
    return prepare(MAKERS[request.param]())


def assert_same_frame(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert list(new.columns) == list(old.columns)
    pd.testing.assert_frame_equal(new, old, check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dimension", ["collection", "category", "product", "channel"])
def test_simpson_check_equals_the_reference(prepared, dimension):
    new, old = simpson_check(prepared, dimension), simpson_check_reference(prepared, dimension)
    assert_same_frame(new, old)


def test_the_comparison_covers_rows_and_explanations():
    # guard that the comparison above is not between two empty tables, and reaches the explanation text
    assert len(simpson_check(prepare(MAKERS["frailty-planted"]()), "collection")) > 10
    demo = simpson_check(prepare(MAKERS["demo"]()), "product")
    assert demo["disagree"].sum() > 0 and demo.loc[demo["disagree"], "explanation"].str.len().min() > 50


@pytest.mark.parametrize("level", ["collection", "category", "product"])
def test_pair_table_equals_the_reference(prepared, level):
    for returns in (None, mature_returns(prepared)):
        new = pair_table(prepared, level, cost_per_return=40.0, returns=returns)
        old = pair_table_reference(prepared, level, cost_per_return=40.0, returns=returns)
        assert_same_frame(new, old)


def test_the_planted_pair_is_tested_with_reasons():
    p = prepare(MAKERS["frailty-planted"]())
    t = pair_table(p, "collection", cost_per_return=40.0)
    row = t[t["segment"] == "Dresses B + Tops A"].iloc[0]
    assert bool(row["gate_support"]) and row["verdict"] == "clearly higher"


def test_analyse_equals_analyse_on_the_reference(prepared, monkeypatch):
    new = analyse(prepared, Settings(cost_per_return=40.0), briefs=False)
    monkeypatch.setattr(engine, "pair_table", pair_table_reference)
    monkeypatch.setattr(engine, "simpson_check", simpson_check_reference)
    old = analyse(prepared, Settings(cost_per_return=40.0), briefs=False)
    for name in ("segments", "pairs", "simpson", "fix_list", "dropped"):
        assert_same_frame(getattr(new, name), getattr(old, name))
    assert new.totals == old.totals
