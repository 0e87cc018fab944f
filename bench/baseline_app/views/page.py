"""One baseline page: a heading, then as many plotly charts and dataframes as the dashboard page of the same
title draws, of about the same sizes and placed alike (shown, in a second tab, or in a collapsed expander).

A page's spec is {"charts": [{"points", "traces", "height", "where"}], "tables": [{"rows", "cols", "where"}]},
where "where" is "main", "tab" or "expander". bench/bench_browser.py counts these on the dashboard in the browser
and hands them to the baseline server (RI_BASELINE_PAGES, JSON {title: spec}); DEFAULT_PAGES are the counts of
the dashboard on the demo data (88k order lines), used when the app is run on its own.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st


def _c(points: int, traces: int, where: str = "main", height: int = 380) -> dict:
    return {"points": points, "traces": traces, "where": where, "height": height}


def _t(rows: int, cols: int, where: str = "main") -> dict:
    return {"rows": rows, "cols": cols, "where": where}


# counted with bench_browser.page_elements on the demo (tables not yet drawn in the browser: 30 x 8)
DEFAULT_PAGES: dict[str, dict] = {
    "Overview": {"charts": [_c(50, 3)], "tables": []},
    "Collections": {
        "charts": [_c(28, 2, height=512), _c(254, 3, "tab"), _c(14, 4, height=570)],
        "tables": [_t(30, 8, "tab"), _t(2, 6, "expander"), _t(5, 15), _t(6, 15)],
    },
    "Intents": {
        "charts": [_c(8, 2, height=320), _c(244, 3, "tab"), _c(1, 1, height=540)],
        "tables": [_t(30, 8, "tab"), _t(11, 5)],
    },
    "Combinations": {"charts": [_c(1, 1, height=498)], "tables": [_t(2, 12), _t(30, 8, "expander")]},
    "Journeys": {
        "charts": [_c(12, 2, height=320)]
        + [_c(n, t, "tab") for n, t in ((246, 3), (8, 2), (244, 3), (4, 2), (242, 3))],
        "tables": [_t(30, 8, "tab")] * 3,
    },
    "Reasons & outcomes": {
        "charts": [_c(15, 4, height=600), _c(42, 3, height=570), _c(4, 1, height=320)],
        "tables": [_t(30, 8, "expander"), _t(11, 6), _t(30, 8, "expander")],
    },
    "Trends": {
        "charts": [_c(52, 4, height=420), _c(48, 3), _c(14, 3, height=360)],
        "tables": [_t(30, 8, "expander"), _t(29, 13)],
    },
    "Fix list": {"charts": [], "tables": [_t(30, 8, "expander")]},
    "Interventions": {"charts": [_c(68, 6, height=420)], "tables": [_t(2, 8)]},
}


def pages() -> dict[str, dict]:
    raw = os.environ.get("RI_BASELINE_PAGES")
    return json.loads(raw) if raw else DEFAULT_PAGES


def _chart(spec: dict, rng: np.random.Generator, key: str) -> None:
    traces = max(1, int(spec["traces"]))
    per = max(1, int(spec["points"]) // traces)
    x = pd.date_range("2024-01-01", periods=per, freq="W")
    fig = go.Figure()
    for i in range(traces):
        fig.add_trace(go.Scatter(x=x, y=rng.random(per) * 0.2, mode="lines+markers", name=f"Series {i + 1}"))
    fig.update_layout(height=int(spec.get("height") or 380), margin=dict(l=10, r=10, t=30, b=10), title=key)
    st.plotly_chart(fig, key=key)


def _table(spec: dict, rng: np.random.Generator, key: str) -> None:
    rows, cols = max(1, int(spec["rows"])), max(1, int(spec["cols"]))
    df = pd.DataFrame({f"value {j}": rng.random(rows) for j in range(cols - 1)})
    df.insert(0, "segment", [f"Segment {i}" for i in range(rows)])
    st.dataframe(df, hide_index=True, key=key)


def draw(title: str, spec: dict, seed: int = 0) -> None:
    """The page `title`: a heading, then the spec's charts and tables where the dashboard puts them."""
    st.title(title)
    rng = np.random.default_rng(seed)
    items = [("chart", c) for c in spec.get("charts", [])] + [("table", t) for t in spec.get("tables", [])]
    where = {w: [(k, s) for k, s in items if s.get("where", "main") == w] for w in ("main", "tab", "expander")}
    n = 0

    def put(kind: str, s: dict) -> None:
        nonlocal n
        n += 1
        (_chart if kind == "chart" else _table)(s, rng, f"{kind}-{n}")

    if where["tab"]:
        first, more = st.tabs(["Shown", "More"])
        with first:
            for k, s in where["main"]:
                put(k, s)
        with more:
            for k, s in where["tab"]:
                put(k, s)
    else:
        for k, s in where["main"]:
            put(k, s)
    if where["expander"]:
        with st.expander("Details", expanded=False):
            for k, s in where["expander"]:
                put(k, s)
