"""The leadership summary's 'Where to act first' says what an empty fix list means, as the Overview does.

It read "No segment returns significantly more than the rest." in two cases where that is untrue: orders with no
returns loaded (the rates are unknown, not low), and data whose clearly higher segment is left off the list because
one order carries it (the Overview said "left off for reasons the Fix list gives"). One sentence now, from
analysis.overview (empty_list_sentence, and the no-returns sentence of the Overview's summary)."""

from __future__ import annotations

from analysis.engine import analyse
from analysis.prepare import prepare
from analysis.summary import leadership_summary_html
from tests.builders import make_dataset
from tests.unit.test_fixlist_carried import _rows, _wholesaler_in_five_orders

OLD = "No segment returns significantly more than the rest."


def test_orders_without_returns_are_not_called_low():
    rows, _ = _rows(web_every=12, fair_every=12)
    p = prepare(make_dataset(rows, []))
    html = leadership_summary_html(analyse(p, briefs=False), p)
    assert OLD not in html
    assert "no returns are loaded" in html


def test_a_higher_segment_left_off_is_said_to_be_left_off():
    # the fair returns like the web but for one wholesaler's five orders (tests/unit/test_fixlist_carried.py)
    rows, rets = _wholesaler_in_five_orders(*_rows(web_every=12, fair_every=12))
    p = prepare(make_dataset(rows, rets), window_days=30)
    an = analyse(p, briefs=False)
    assert an.fix_list.empty and (an.segments["direction"] == "higher").any()
    html = leadership_summary_html(an, p)
    assert OLD not in html
    assert "left off" in html
