"""The benchmark harness itself (not its timings): every benchmark module imports, and the browser
benchmark's baseline app draws what it claims - a heading, a chart and a table on each of its two pages."""

import importlib
import json

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


def test_engine_readme_table_is_regenerated_between_its_markers(tmp_path):
    from bench.readme_table import END, START, parse_results, update_readme

    one = {
        "1000": {
            "pipeline": {
                "order_lines": 1000,
                "prepare_cpu_s": 1.0,
                "analyse_cpu_s": 2.0,
                "prepare_analyse_cpu_s": 3.0,
                "grouping_sets_only_cpu_s": 0.5,
                "peak_rss_gb": 1.5,
            },
            "hand": {"hand_full_cpu_s": 2.0, "peak_rss_gb": 0.5},
            "ratio_prepare_analyse_vs_hand_full": 1.5,
            "ratio_analyse_vs_grouping_sets_only": 4.0,
            "counts": {"segments": {"rows": 10, "differences": 0}, "pairs": {"rows": 5, "differences": 0}},
            "load_average_start": [3.0, 1, 1],
            "load_average_end": [5.0, 1, 1],
        }
    }
    failed = {"pipeline": {"failed": {"last_stage": "prepare 1 peak_rss_gb=15.9", "error": "MemoryError"}}}
    # bench_engine's per-size line, then `python -m bench`'s indented block (a later result wins)
    text = "== engine\n" + json.dumps(one) + "\n" + json.dumps({"engine": {"20000": failed}}, indent=2) + "\n"
    results = parse_results(text)
    assert sorted(results) == ["1000", "20000"]
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{START}\nold table\n{END}\nafter\n")
    new = update_readme(results, readme)
    assert new.startswith("before\n") and new.endswith(f"{END}\nafter\n") and "old table" not in new
    assert (
        "| 1,000 | 2.00 s | 1.00 s | 2.00 s | 3.00 s | **1.50x** | 4.0x (0.50 s) | 1.50 GB / 0.50 GB | 0 of 10, 0 of 5 | 3–5 |"
        in new
    )
    assert "pipeline failed after stage 'prepare 1 peak_rss_gb=15.9' (MemoryError)" in new


def test_baseline_page_follows_a_counted_spec():
    spec = {
        "charts": [{"points": 12, "traces": 3, "height": 300, "where": "main"}],
        "tables": [{"rows": 4, "cols": 5, "where": "expander"}],
    }
    at = _draw_page("Counted", spec)
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1 and len(at.expander) == 1
    assert at.dataframe[0].value.shape == (4, 5)
