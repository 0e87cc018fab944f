"""The Reasons & outcomes page: demo data end to end, a dataset without reasons/resolutions, and the
reason-mapping editor's override logic."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard import reasons_ui as R
from tests.app.conftest import assert_clean, run_page, upload_spec
from tests.conftest import ROOT

PAGE = "views/reasons.py"


def _chart_titles(at) -> list[str]:
    titles = []
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        t = spec.get("layout", {}).get("title", {})
        titles.append(t.get("text", "") if isinstance(t, dict) else str(t))
    return titles


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.fixture
def demo_page():
    return run_page(PAGE)


def test_demo_page_renders_every_section(demo_page):
    at = demo_page
    assert_clean(at, PAGE)
    titles = _chart_titles(at)
    assert any(t.startswith("Why returns come back") for t in titles), titles
    assert any(t.startswith("How returns were resolved") for t in titles), titles
    assert any("by kind" in t for t in titles), titles
    assert [s.value for s in at.subheader] == [
        "Why customers return",
        "Refund, exchange or store credit",
        "What customers exchange into",
        "Pairs well with",
        "In customers' own words",
    ]
    assert len(at.text) >= 1  # example comments, shown as plain text


def test_demo_outcome_metrics_are_shares_of_known_outcomes(demo_page):
    # the section's four metrics (the page once reused one 3-column row's name for them, which strict mypy flags)
    at = demo_page
    metrics = {m.label: m.value for m in at.metric}
    assert [m.label for m in at.metric][3:7] == ["Refunded", "Exchanged", "Store credit", "Saved revenue"]
    shares = [float(metrics[k].rstrip("%")) for k in ("Refunded", "Exchanged", "Store credit")]
    assert sum(shares) == pytest.approx(100, abs=0.15)  # three outcomes, each rounded to 0.1%


def test_demo_segment_names_planted_reason_and_keeps_state(demo_page):
    at = demo_page
    # data.demo plants "Smart Lighting confuses at setup": the segment view must name that reason as
    # over-represented against the rest, and the chart becomes segment vs rest.
    at.selectbox(key="rs_seg").set_value("Smart Lighting").run()
    assert_clean(at, PAGE)
    md = _markdown(at)
    first = next(line for line in md.splitlines() if line.startswith("- **") and "returned units vs" in line)
    assert "Setup or usage confusion" in first
    assert any(t.startswith("Why Smart Lighting is returned, against the rest") for t in _chart_titles(at))
    # complete-the-set runs once a segment is chosen: either candidates or the support message
    assert "Pick a collection segment above" not in "\n".join(i.value for i in at.info)
    # another dimension: the segment resets to "All returns" instead of failing
    at.selectbox(key="rs_dim").set_value("size").run()
    assert_clean(at, PAGE)
    assert at.selectbox(key="rs_seg").value is None


def test_demo_saved_overrides_show_in_editor():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.session_state[R.OVERRIDES_KEY] = {"runs small": "quality", "bogus": "not_a_category"}
    at.switch_page(PAGE)
    at.run()
    assert_clean(at, PAGE)
    # the invalid correction is reported and dropped, the valid one is kept
    assert any("unknown category" in w.value for w in at.warning)
    assert at.session_state[R.OVERRIDES_KEY] == {"runs small": "quality"}
    editor = [d for d in at.dataframe if "rule" in d.value.columns]
    assert editor, "reason mapping editor not found"
    row = editor[0].value.loc["runs small"]
    assert row["category"] == "quality" and row["rule"] == "user override"


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def test_page_without_reasons_or_resolutions():
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(60) for _ in range(2)],
            "order_date": [f"2024-0{1 + i % 6}-{10 + i % 15}" for i in range(60) for _ in range(2)],
            "sku": [f"SKU{(i + j) % 5}" for i in range(60) for j in range(2)],
            "quantity": 1,
            "unit_price": 20.0,
        }
    )
    returns = orders.iloc[::7][["order_id", "sku", "quantity"]]
    spec, contents = upload_spec({"orders.csv": (_csv(orders), "orders"), "returns.csv": (_csv(returns), "returns")})
    at = run_page(PAGE, spec, contents)
    assert_clean(at, PAGE)
    infos = "\n".join(i.value for i in at.info)
    assert "Map the 'reason' column" in infos
    assert "Map the 'resolution' column" in infos
    assert "Map the 'exchange_sku' column" in infos
    assert "Map the 'comment' column" in infos
    assert not any(t.startswith("Why returns come back") for t in _chart_titles(at))


# ---------------------------------------------------------------- override logic (pure)
BASE = pd.DataFrame(
    {
        "reason": pd.array(["runs small", "meh", None], dtype="string"),
        "category": pd.array(["size_too_small", "other", "unknown"], dtype="string"),
    }
)


def test_derive_overrides_records_changes_only():
    edited = BASE.assign(category=["size_too_small", "quality", "defective"])
    # the empty reason cannot be overridden; an unchanged row adds nothing
    assert R.derive_overrides(BASE, edited, {}) == {"meh": "quality"}


def test_derive_overrides_removes_reset_rows_and_keeps_foreign_ones():
    previous = {"meh": "quality", "RUNS SMALL ": "fit_other", "from another shop": "defective"}
    out = R.derive_overrides(BASE, BASE.copy(), previous)
    # rows set back to the rules' category lose their override (matched case- and space-insensitively);
    # corrections for reasons not in this dataset are kept
    assert out == {"from another shop": "defective"}


def test_derive_overrides_rejects_mismatched_rows():
    with pytest.raises(ValueError, match="same rows"):
        R.derive_overrides(BASE, BASE.head(2), {})


def test_kind_summary_matches_plain_pandas():
    t = pd.DataFrame(
        {
            "product": ["a", "a", "b", "b"],
            "kind": ["size_up", "size_down", "size_up", "other_product"],
            "exchanges": [3.0, 1.0, 2.0, 4.0],
        }
    )
    from analysis.reasons import kind_summary

    out = kind_summary(t).set_index("kind")
    # independent: totals by kind 5 / 1 / 4 of 10
    assert out.loc["size_up", "share"] == pytest.approx(0.5)
    assert out.loc["other_product", "share"] == pytest.approx(0.4)
    assert list(out.index) == ["size_up", "other_product", "size_down"]
