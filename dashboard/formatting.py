"""Formatting for pages, charts and sentences: pure functions of values (no Streamlit calls).

User text shown through st.markdown goes through `md`; user text in a plotly label or title goes through
`plot_text` (plotly renders a subset of HTML)."""

from __future__ import annotations

import html
import math
import re

import pandas as pd

from analysis.prepare import Prepared
from analysis.segments import reference_group, segment_label


def md(text: object) -> str:
    """Escape user text for st.markdown so it is shown literally."""
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def pct(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "–"
    return f"{100 * x:.{digits}f}%"


def pp(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:+.{digits}f} pp"


# st.column_config.NumberColumn(format="percent") shows up to 2 decimals, trimmed ("11.32%" beside "4.5%"); its
# step sets the decimals: 0.001 = one decimal place of a percentage, as every other rate in the app reads
PCT_STEP = 0.001


def rate_change(now: float | None, before: float | None, p: float | None = None) -> dict:
    """st.metric's delta arguments for a rate's change in points: higher is worse (red), and a change that rounds
    to 0.0 pp is shown grey with no arrow (it read "+0.0 pp" in red with an up arrow). p: the change's two-sided
    p-value (analysis.overview.Headline); a change within chance (p >= 0.05) keeps its arrow but is grey, not
    the red or green of a real move.

    >>> rate_change(0.05, 0.05)["delta_arrow"], rate_change(0.06, 0.05)["delta_color"], rate_change(0.05, None)
    ('off', 'inverse', {})
    >>> rate_change(0.06, 0.05, p=0.4)["delta_color"], rate_change(0.06, 0.05, p=0.001)["delta_color"]
    ('off', 'inverse')
    """
    if now is None or before is None or (isinstance(now, float) and math.isnan(now)):
        return {}
    change = now - before
    if isinstance(change, float) and math.isnan(change):
        return {}
    if round(100 * change, 1) == 0:
        return {"delta": "0.0 pp", "delta_color": "off", "delta_arrow": "off"}
    if p is not None and not p < 0.05:
        return {"delta": pp(change), "delta_color": "off"}
    return {"delta": pp(change), "delta_color": "inverse"}


def change_words(p: float | None) -> str:
    """The tile's help sentence on its change: whether it is beyond chance ("" without a test)."""
    if p is None:
        return ""
    if p < 0.05:
        return f" The change is beyond chance (two-sided p = {p:.2g}): red is up, green down."
    return f" The change is within chance (two-sided p = {p:.2g}), so it is grey: no real move is shown."


def num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.0f}"


def plot_text(text: object) -> str:
    """User text for a plotly label or title: plotly renders a subset of HTML there, so escape it."""
    return html.escape("" if text is None else str(text), quote=False)


seg_label = segment_label  # one labelling rule for pages, exports and briefs


def segment_frame(seg: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Rows for display: plain words and intervals."""
    d = seg.copy()
    d["Segment"] = [seg_label(dimension, s) for s in d["segment"]]
    d["Segment (chart)"] = [plot_text(v) for v in d["Segment"]]
    if "reference" in d.columns:
        d["Compared with"] = [compared_with(r) for r in d["reference"]]
    return d


def compared_with(reference: object) -> str:
    """Plain words for a segment's comparison group (analysis.segments 'reference').

    >>> compared_with("all"), compared_with("within Lights")
    ('rest of the business', 'rest of Lights')
    """
    r = "" if reference is None or (isinstance(reference, float) and math.isnan(reference)) else str(reference)
    if reference_group(r) is not None:
        return f"rest of {reference_group(r)}"
    if r == "parts":
        return "its two parts bought apart"
    if r.startswith("within "):  # a drill-down's parent segment
        return f"rest of {r[7:]}"
    return "rest of the business"


def rate_words(prepared: Prepared, dimension: str | None = None) -> dict[str, str]:
    """How pages name the outcome's rate (see Prepared.rate_columns): name, axis title and the unit counted."""
    if prepared.outcome == "order_refund":
        if dimension is None or prepared.rate_columns(dimension)[1] == "order_n":
            return {"name": "Order refund rate", "axis": "Refunded orders / orders (%)", "unit": "orders"}
        return {"name": "Refund rate (attributed units)", "axis": "Refunded units / units sold (%)", "unit": "units"}
    return {"name": "Unit return rate", "axis": "Returned units / units sold (%)", "unit": "units"}
