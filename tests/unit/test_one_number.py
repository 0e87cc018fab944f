"""One number for one thing: the monthly averages of the Overview chart, Trends and the leadership summary
are the same figure, and the meeting text, the CLI JSON and the workbook read the same totals.

The expected averages are recomputed here from the prepared lines directly (returned / sold over the
complete, matured order months), not taken from any of the functions under test.
"""

from __future__ import annotations

import pytest

from analysis.engine import analyse
from analysis.overview import monthly, plain_summary
from analysis.prepare import prepare
from analysis.summary import monthly_trend
from analysis.trends import cohort_series
from data.demo import generate_dataset
from data.ingest import SourceFile, load_dataset
from data.shopify_sample import generate_shopify_export
from tests.conftest import REAL_DATA


def _complete_month_average(p) -> float:
    """Pooled rate over order months whose every line is matured (independent of the views)."""
    x, n = p.rate_columns()
    L = p.lines
    full = L.groupby("month")["mature"].all()
    keep = L["month"].isin(full[full].index)
    return float(L.loc[keep, x].sum() / L.loc[keep, n].sum())


def _check(p):
    expected = _complete_month_average(p)
    m = monthly(p)
    mat = m[~m["provisional"]]
    c = cohort_series(p, "M", None, None)
    cm = c[~c["provisional"].astype(bool)]
    s = monthly_trend(p)
    for got in (
        mat["returned"].sum() / mat["units"].sum(),
        cm["returned"].sum() / cm["units"].sum(),
        s["returned"].sum() / s["units"].sum(),
    ):
        assert got == pytest.approx(expected, rel=1e-9)
    a = analyse(p, briefs=False)
    text = " ".join(plain_summary(p, a.totals, a.fix_list, a.segments))
    key = "order_refund_rate" if p.outcome == "order_refund" else "unit_return_rate"
    assert f"{a.totals[key]:.1%}" in text  # the meeting text quotes the one headline figure


def test_demo_tells_one_number():
    _check(prepare(generate_dataset(seed=4, n_orders=6000)))


def test_shopify_order_refunds_tell_one_number():
    files, _ = generate_shopify_export(seed=4, n_orders=3000)
    _check(prepare(load_dataset([SourceFile(n, c) for n, c in files.items()])))


@pytest.mark.slow
def test_real_file_tells_one_number():
    if not REAL_DATA.exists():
        pytest.skip(f"real export not found at {REAL_DATA}")
    _check(prepare(load_dataset([SourceFile(REAL_DATA.name, REAL_DATA.read_bytes())])))
