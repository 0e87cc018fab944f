"""A warm page switch rebuilds no chart (dashboard.memo), and what a memoised page draws is what a fresh session
draws: after a new filter or setting the charts follow it, never a stale figure."""

from __future__ import annotations

import gc

import plotly.graph_objects as go
import pytest

from streamlit.testing.v1 import AppTest

from dashboard import session as S
from tests.app.conftest import APP, assert_clean, run_page

PAGES = ("views/collections.py", "views/trends.py", "views/overview.py", "views/combinations.py")


def _specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


@pytest.fixture()
def figures_built(monkeypatch):
    """Counts every plotly figure constructed (by the pages' chart builders) from here on."""
    built = []
    init = go.Figure.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(go.Figure, "__init__", counting)
    return built


def test_a_warm_switch_builds_no_figure_and_draws_the_same(figures_built):
    at = run_page(PAGES[0])
    first = {}
    for page in PAGES:  # first visits: figures built
        at.switch_page(page).run()
        assert_clean(at, page)
        first[page] = _specs(at)
        assert first[page], f"{page}: no chart"
    # the first builds of a visit may be repeated once: a result straight from the analysis and its cached copy
    # can pickle differently; from then on a switch builds nothing
    for page in PAGES:
        at.switch_page(page).run()
    figures_built.clear()
    for page in PAGES:
        at.switch_page(page).run()
        assert_clean(at, page)
        assert _specs(at) == first[page], f"{page}: a warm switch drew something else"
    assert not figures_built, f"{len(figures_built)} figures rebuilt on warm page switches"
    # and the modules' objects are out of Streamlit's full collection after each run (dashboard.heap)
    assert gc.get_freeze_count() > 100_000


@pytest.mark.parametrize(
    "change",
    [
        {S.F_COLLECTIONS: ["Linen Shirts", "Smart Lighting"]},  # a filter
        {S.F_BASIS: "Orders"},  # the rate basis: other rates and intervals on the same segments
    ],
)
def test_after_a_change_the_charts_are_those_a_fresh_session_draws(change):
    at = run_page("views/collections.py")
    before = _specs(at)
    for k, v in change.items():
        at.session_state[k] = v
    at.run()
    assert_clean(at, "collections")
    after = _specs(at)
    assert after != before
    # a new session with the same choice, nothing memoised: the same charts to the byte
    new = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in change.items():
        new.session_state[k] = v
    new.switch_page("views/collections.py").run()
    assert_clean(new, "collections")
    assert _specs(new) == after
