"""Helpers of the "Reasons & outcomes" page: charts, sentences and the reason-mapping editor's logic.

Charts and sentences are built from the frames of analysis.reasons; nothing here computes statistics.
Every sentence that contains user text (segment names, raw reasons, products) escapes it with fmt.md,
because the page renders sentences with st.markdown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import TracebackType

import pandas as pd
import streamlit as st

from analysis.prepare import DIMENSION_LABELS
from analysis.reasons import EXCHANGE_KINDS, exchanged_units, over_represented
from data.reasons import CATEGORIES, GROUP_LABELS, category_label, reason_mapping_table
from dashboard import session as S
from dashboard import errors
from dashboard import formatting as fmt
from dashboard.charts import GROUP_COLORS as GROUP_COLORS
from dashboard.charts import Q_LEVEL as Q_LEVEL
from dashboard.charts import RESOLUTION_COLORS as RESOLUTION_COLORS
from dashboard.charts import REST_COLOR as REST_COLOR
from dashboard.charts import exchange_kind_chart as exchange_kind_chart
from dashboard.charts import mix_chart as mix_chart
from dashboard.charts import pairs_chart as pairs_chart
from dashboard.charts import resolution_chart as resolution_chart
from dashboard.charts import vs_rest_chart as vs_rest_chart
from dashboard.formatting import plot_text as plot_text

OVERRIDES_KEY = S.REASON_OVERRIDES  # raw reason -> category key, saved with the mapping preset

EXCHANGE_ADVICE = {
    "size_up": "most exchanges go one size up: say that it runs small, and suggest sizing up on the product page",
    "size_down": "most exchanges go one size down: say that it runs large, and suggest sizing down on the product page",
    "other_colour": "most exchanges keep the size but change colour or variant: show the colours truthfully and "
    "offer the other variants next to the photos",
    "other_product": "most exchanges switch to another product: offer that product as an alternative on the page",
    "same_item": "most exchanges are for the same item (a replacement): that is a damage or quality problem, "
    "not a choice the page could steer",
    "unknown_sku": "most exchange SKUs do not appear in the orders, so the target cannot be named",
}


# ---------------------------------------------------------------- small formatting helpers
def dim_label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension.replace("_", " ").capitalize())


def q_text(q: float) -> str:
    if q is None or (isinstance(q, float) and math.isnan(q)):
        return "not tested"
    return "q < 0.001" if q < 0.001 else f"q = {q:.3f}"


def scope_name(dimension: str | None, segment: object | None) -> str:
    """'all returns' or the segment's display name (unescaped)."""
    if dimension is None or segment is None:
        return "all returns"
    return fmt.seg_label(dimension, str(segment))


# ---------------------------------------------------------------- charts


# ---------------------------------------------------------------- sentences (markdown-safe)
def over_represented_sentences(vs: pd.DataFrame, dimension: str, segment: object | None, *, k: int = 6) -> list[str]:
    """Plain sentences for the reasons that are significantly over-represented (q <= Q_LEVEL), largest
    evidence first; for one segment when ``segment`` is given, else across the dimension."""
    d = over_represented(vs, segment, q=Q_LEVEL)
    out = []
    for r in d.head(k).itertuples(index=False):
        who = "" if segment is not None else f"**{fmt.md(fmt.seg_label(dimension, r.segment))}**: "
        out.append(
            f"{who}**{fmt.md(r.label)}** is {fmt.pct(r.share)} of returned units vs {fmt.pct(r.rest_share)} "
            f"in the rest ({fmt.num(r.returned)} units, {q_text(r.q_value)})."
        )
    return out


def plausible_exchange_sentences(res: pd.DataFrame, dimension: str, *, k: int = 6) -> list[str]:
    d = res[res["refund_though_exchange_plausible"]].sort_values("size_refunds", ascending=False)
    return [
        f"**{fmt.md(fmt.seg_label(dimension, r.segment))}**: {fmt.num(r.size_refunds)} of {fmt.num(r.size_returns)} "
        f"units returned for size or fit were refunded ({fmt.pct(r.size_refund_share, 0)})."
        for r in d.head(k).itertuples(index=False)
    ]


def exchange_sentence(product: str, kinds: pd.DataFrame, targets: pd.DataFrame) -> str | None:
    """What to offer earlier for one product, from its dominant exchange kind and top target."""
    if kinds.empty:
        return None
    top = kinds.iloc[0]
    advice = EXCHANGE_ADVICE.get(str(top["kind"]), "")
    s = (
        f"**{fmt.md(product)}**: {fmt.pct(top['share'], 0)} of {fmt.num(exchanged_units(kinds))} exchanged units are "
        f"*{fmt.md(EXCHANGE_KINDS.get(str(top['kind']), top['kind']))}*, so {advice}."
    )
    if str(top["kind"]) == "other_product" and not targets.empty:
        t = targets[targets["kind"] == "other_product"]
        if len(t):
            s += f" The most common switch is to **{fmt.md(t.iloc[0]['target_product'])}**."
    return s


def pairs_sentences(t: pd.DataFrame, segment_name: str, *, k: int = 8) -> list[str]:
    d = t[t["pairs_well"]].head(k)
    return [
        f"With **{fmt.md(r.item)}** in the same order, {fmt.md(segment_name)} items are returned at "
        f"{fmt.pct(r.rate_with)} vs {fmt.pct(r.rate_without)} without it ({fmt.num(r.orders_with)} orders, "
        f"{q_text(r.q_value)})."
        for r in d.itertuples(index=False)
    ]


# ---------------------------------------------------------------- reason mapping editor
def current_overrides() -> dict[str, str]:
    ov = st.session_state.get(OVERRIDES_KEY) or {}
    return {str(k): str(v) for k, v in dict(ov).items()}


def valid_overrides(overrides: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Split overrides into usable ones (category is a CATEGORIES key) and the raw reasons that are not."""
    good: dict[str, str] = {}
    bad: list[str] = []
    for raw, cat in overrides.items():
        if cat in CATEGORIES:
            good[raw] = cat
        else:
            bad.append(raw)
    return good, bad


@st.cache_data(max_entries=16, show_spinner=False)
def mapping_table(
    spec_key: S.DatasetSpec, window: int | None, overrides: tuple[tuple[str, str], ...], _returns: pd.DataFrame
) -> pd.DataFrame:
    """reason_mapping_table of the unfiltered returns, cached on the dataset and the overrides."""
    return reason_mapping_table(_returns, dict(overrides) or None)


def _fold(s: str) -> str:
    return " ".join(str(s).casefold().split())


def derive_overrides(base: pd.DataFrame, edited: pd.DataFrame, previous: Mapping[str, str]) -> dict[str, str]:
    """The corrections implied by the editor.

    base: reason_mapping_table without overrides (what the rules say); edited: the editor's frame, same
    rows in the same order, with a possibly changed ``category``. A row whose category differs from the
    rules' category becomes an override raw reason -> category; setting it back removes the override.
    Empty reasons cannot be overridden (there is no text to match). Overrides of reasons that are not
    in this table (loaded with a preset from another dataset) are kept.
    """
    if len(base) != len(edited):
        raise ValueError("edited must have the same rows as base (the editor's row count is fixed).")
    in_table = {_fold(r) for r in base["reason"].dropna()}
    out = {k: v for k, v in previous.items() if _fold(k) not in in_table}
    for raw, rule_cat, new_cat in zip(base["reason"], base["category"], edited["category"]):
        if raw is pd.NA or raw is None or (isinstance(raw, float) and math.isnan(raw)):
            continue
        if new_cat is None or new_cat is pd.NA or str(new_cat) not in CATEGORIES:
            continue
        if str(new_cat) != str(rule_cat):
            out[str(raw)] = str(new_cat)
    return out


def editor_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Rows for st.data_editor: raw reason as the index (so another dataset's table is a new editor),
    count, units, editable category, and how the rules classified it."""
    d = table[["reason", "count", "units", "category", "group", "rule", "comment_rows"]].copy()
    d["group"] = d["group"].map(GROUP_LABELS).astype("string")
    d.index = pd.Index(d["reason"].fillna("(no reason given)").astype("string"), name="Raw reason")
    d["category"] = d["category"].astype("string")
    return d.drop(columns="reason")


EDITOR_COLUMNS = {
    "_index": st.column_config.TextColumn(
        "Raw reason", help="Exactly as it appears in your returns file", disabled=True
    ),
    "count": st.column_config.NumberColumn("Return rows", format="localized", disabled=True),
    "units": st.column_config.NumberColumn("Units", format="localized", disabled=True),
    "category": st.column_config.SelectboxColumn(
        "Category",
        options=list(CATEGORIES),
        required=True,
        format_func=lambda v: category_label(str(v)),  # the options are CATEGORIES' keys (str)
        help="Pick a category to correct the automatic mapping",
    ),
    "group": st.column_config.TextColumn("Who can act", disabled=True),
    "rule": st.column_config.TextColumn("Rule that matched", disabled=True),
    "comment_rows": st.column_config.NumberColumn(
        "Rows classified by comment",
        format="localized",
        disabled=True,
        help="Rows where the reason said nothing and the comment was used",
    ),
}


EDITOR_ORDER = ("category", "count", "units", "rule", "group", "comment_rows")


# ---------------------------------------------------------------- robustness
class guarded:
    """Context manager for one page section: an unexpected exception is logged and shown as a short
    message, and the rest of the page still renders. Streamlit's stop/rerun signals are BaseExceptions
    and pass through."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> "guarded":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if exc is not None and isinstance(exc, Exception):
            errors.show_unexpected(exc, self.what)
            return True
        return False
