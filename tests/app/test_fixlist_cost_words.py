"""The Fix list cards say that their figure is money.

On the real Online Retail II export (no currency symbol set) card 1 read 'Lights · collection · at least 11,621 in
extra returns', while its brief said 'About 1,845 returns more than the baseline rate would give, costing about
18,491 (at least 11,621)': 11,621 is a cost, and read as a count of returns it is six times the real one.
"""

from __future__ import annotations

from tests.app.conftest import assert_clean, run_page


def test_the_card_figure_is_named_a_cost():
    at = run_page("views/fixlist.py")
    assert_clean(at, "fix list")
    cards = [
        m.value.replace("\\", "") for m in at.markdown if "·" in m.value and m.value.lstrip("*").strip()[:1].isdigit()
    ]
    assert cards, [m.value for m in at.markdown][:5]
    for c in cards:
        assert "in extra returns" not in c, c
        assert "extra returns cost at least" in c or "extra returns cost about" in c, c  # the demo: returns
