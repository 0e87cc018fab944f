"""The benchmark harness itself (not its timings): every benchmark module imports, and the browser
benchmark's baseline app draws what it claims - a heading, a chart and a table on each of its two pages."""

import importlib

import pytest

from bench.__main__ import BENCHES, main
from tests.conftest import ROOT


@pytest.mark.parametrize("module", sorted(BENCHES.values()))
def test_benchmark_modules_import_without_running(module):
    assert callable(importlib.import_module(module).main)


def test_unknown_benchmark_is_refused(capsys):
    assert main(["nope"]) == 2
    assert "Unknown benchmark 'nope'" in capsys.readouterr().err


def _draw_page(title: str, spec: dict):
    from streamlit.testing.v1 import AppTest

    views = ROOT / "bench" / "baseline_app" / "views"
    at = AppTest.from_string(
        f"import sys\nsys.path.insert(0, {str(views)!r})\nfrom page import draw\ndraw({title!r}, {spec!r})",
        default_timeout=60,
    )
    at.run()
    return at


def test_baseline_app_opens_on_its_first_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "bench" / "baseline_app" / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Overview"]


@pytest.mark.parametrize("title", ["Overview", "Collections", "Journeys", "Fix list"])
def test_baseline_pages_draw_as_many_charts_and_tables_as_counted(title):
    import sys

    sys.path.insert(0, str(ROOT / "bench" / "baseline_app" / "views"))
    from page import DEFAULT_PAGES

    spec = DEFAULT_PAGES[title]
    at = _draw_page(title, spec)
    assert not at.exception
    assert [t.value for t in at.title] == [title]
    assert len(at.get("plotly_chart")) == len(spec["charts"])
    assert len(at.dataframe) == len(spec["tables"])
    assert [len(d.value) for d in at.dataframe] == [t["rows"] for t in spec["tables"] if t["where"] == "main"] + [
        t["rows"] for t in spec["tables"] if t["where"] == "tab"
    ] + [t["rows"] for t in spec["tables"] if t["where"] == "expander"]


def test_baseline_page_follows_a_counted_spec():
    spec = {
        "charts": [{"points": 12, "traces": 3, "height": 300, "where": "main"}],
        "tables": [{"rows": 4, "cols": 5, "where": "expander"}],
    }
    at = _draw_page("Counted", spec)
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1 and len(at.expander) == 1
    assert at.dataframe[0].value.shape == (4, 5)
