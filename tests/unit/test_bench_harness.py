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


@pytest.mark.parametrize("page,title", [("views/first.py", "First page"), ("views/second.py", "Second page")])
def test_baseline_app_pages_draw_a_heading_a_chart_and_a_table(page, title):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "bench" / "baseline_app" / "app.py"), default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == [title]
    assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1
    assert len(at.dataframe[0].value) == 50
