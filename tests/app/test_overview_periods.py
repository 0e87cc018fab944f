"""The Overview's tiles show the latest 90 matured days, its meeting summary the whole period: a reader who saw
16.0% on a tile and 15.9% in the sentence below was told which is which only in a small caption. Both figures
are now named where each appears, and they are the figures computed elsewhere (analysis.overview.headline,
analysis.metrics.totals), not a third copy."""

from __future__ import annotations

from analysis.metrics import totals
from analysis.overview import headline
from analysis.prepare import prepare
from data.demo import generate_dataset
from tests.app.conftest import assert_clean, run_page


def test_tiles_and_summary_each_name_the_other_period():
    at = run_page("views/overview.py")
    assert_clean(at, "overview")
    p = prepare(generate_dataset(seed=7))  # the demo the app shows (dashboard.context: seed 7)
    h, t = headline(p), totals(p)
    assert h.unit_rate_prev is not None  # the demo covers 180 matured days: the tiles show the latest 90
    tile = next(m for m in at.metric if m.label.startswith("Unit return rate"))
    assert tile.label == "Unit return rate, 90 days" and tile.value == f"{h.unit_rate:.1%}"
    first = at.markdown[0].value.replace("\\", "").removeprefix("- ")
    assert first.startswith(f"Returns are {t['unit_return_rate']:.1%} of units sold")  # the whole period
    assert (
        f"In the latest 90 matured days: {h.unit_rate:.1%} of units and {h.order_rate:.1%} of orders "
        f"({h.unit_rate_prev:.1%} and {h.order_rate_prev:.1%} in the 90 days before; the unit rate's change is "
        "within chance)." in first
    )
    # 16.0% against 16.0% (+0.1 pp unrounded) is no real move: the tile's change is grey, and its help says why
    assert h.unit_p is not None and h.unit_p > 0.05
    from streamlit.proto.Metric_pb2 import Metric

    assert tile.proto.color == Metric.MetricColor.GRAY and "within chance" in tile.proto.help
    caption = " ".join(c.value for c in at.caption)
    assert (
        f"(all matured orders: {t['unit_return_rate']:.1%} of units, {t['order_return_rate']:.1%} of orders)" in caption
    )
