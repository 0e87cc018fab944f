"""Helpers of the "Reasons & outcomes" page: charts, sentences and the reason-mapping editor's logic.

Charts and sentences are built from the frames of analysis.reasons; nothing here computes statistics.
Every sentence that contains user text (segment names, raw reasons, products) escapes it with ui.md,
because the page renders sentences with st.markdown.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.prepare import DIMENSION_LABELS
from analysis.reasons import EXCHANGE_KINDS, ReasonMix
from data.reasons import CATEGORIES, GROUP_LABELS, category_label, reason_mapping_table
from dashboard import session as S
from dashboard import ui

OVERRIDES_KEY = S.REASON_OVERRIDES  # raw reason -> category key, saved with the mapping preset
Q_LEVEL = 0.10  # false-discovery level used for the words "over-represented" (METHOD: BH at 10% per view)

GROUP_COLORS = {"preventable": ui.COLORS["primary"], "operational": "#D99A3D",
                "customer_choice": ui.COLORS["neutral"], "unknown": "#C9D1D8"}
RESOLUTION_COLORS = {"refund": ui.COLORS["bad"], "exchange": ui.COLORS["good"], "store_credit": "#7FB3C8",
                     "other": "#C9D1D8"}
REST_COLOR = "#B8C2CA"

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
    return ui.seg_label(dimension, str(segment))


def preventable_value_share(mix: ReasonMix) -> float:
    """Share of returned value whose reason guidance could prevent (value of the preventable group / all)."""
    t = mix.table
    if t.empty or not mix.value:
        return math.nan
    return float(t.loc[t["group"] == "preventable", "value"].sum()) / float(mix.value)


# ---------------------------------------------------------------- charts
def _layout(fig: go.Figure, *, title: str, xaxis_title: str, n_rows: int, pct_axis: bool = True) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=xaxis_title, yaxis_title=None,
                      height=max(320, 30 * n_rows + 150), margin=dict(l=10, r=30, t=60, b=40),
                      legend=dict(orientation="h", y=-0.12, yanchor="top", x=0))
    if pct_axis:
        fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    return fig


def mix_chart(mix: ReasonMix, *, title: str) -> go.Figure:
    """Horizontal bars: share of returned units by reason, coloured by who can act on it (group)."""
    t = mix.table
    order = list(t["label"])[::-1]  # largest on top
    fig = go.Figure()
    for group, label in GROUP_LABELS.items():
        d = t[t["group"] == group]
        if d.empty:
            continue
        fig.add_trace(go.Bar(
            x=d["share"], y=d["label"], orientation="h", name=label, marker_color=GROUP_COLORS[group],
            text=[ui.pct(s, 0) for s in d["share"]], textposition="outside", cliponaxis=False,
            customdata=list(zip(d["units"], d["value_share"].fillna(float("nan")))),
            hovertemplate="<b>%{y}</b><br>%{x:.1%} of returned units (%{customdata[0]:,.0f})"
                          "<br>%{customdata[1]:.1%} of returned value<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    return _layout(fig, title=title, xaxis_title="Share of returned units", n_rows=len(t))


def vs_rest_chart(rows: pd.DataFrame, *, segment_name: str, rest_name: str, title: str) -> go.Figure:
    """Paired bars per reason: the segment's share of returned units next to the rest's share.
    Significantly over-represented reasons (q <= Q_LEVEL) are marked with a triangle."""
    d = rows[(rows["share"] > 0) | (rows["rest_share"] > 0)].sort_values("share", ascending=False)
    order = list(d["label"])[::-1]
    sig = (d["q_value"] <= Q_LEVEL) & (d["share"] > d["rest_share"])
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=d["rest_share"], y=d["label"], orientation="h", name=rest_name, marker_color=REST_COLOR,
        hovertemplate="<b>%{y}</b><br>Rest: %{x:.1%} of returned units<extra></extra>"))
    fig.add_trace(go.Bar(
        x=d["share"], y=d["label"], orientation="h", name=segment_name,
        marker_color=[GROUP_COLORS.get(g, ui.COLORS["neutral"]) for g in d["group"]],
        text=[f"{ui.pct(s, 0)} ▲" if k else ui.pct(s, 0) for s, k in zip(d["share"], sig)],
        textposition="outside", cliponaxis=False,
        customdata=list(zip(d["returned"], d["q_value"].fillna(float("nan")))),
        hovertemplate="<b>%{y}</b><br>Segment: %{x:.1%} of returned units (%{customdata[0]:,.0f})"
                      "<br>q = %{customdata[1]:.3g}<extra></extra>"))
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05, legend_traceorder="reversed")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    return _layout(fig, title=title, xaxis_title="Share of returned units (▲ over-represented, q ≤ 0.10)",
                   n_rows=int(1.6 * len(d)) or 1)


def resolution_chart(res: pd.DataFrame, dimension: str, *, title: str, max_rows: int = 20) -> go.Figure:
    """Stacked 100% bars per segment: refund / exchange / store credit / other share of returned units with a
    known outcome, with the overall refund share drawn as the baseline."""
    d = res.head(max_rows).copy()
    known = (d["units"] - d["unknown"]).where(lambda s: s > 0)
    d["other_share"] = d["other"] / known
    d["Segment"] = [plot_text(ui.seg_label(dimension, s)) for s in d["segment"]]
    order = list(d["Segment"])[::-1]
    fig = go.Figure()
    for col, share, name in (("refund", "refund_share", "Refund"), ("exchange", "exchange_share", "Exchange"),
                             ("store_credit", "store_credit_share", "Store credit"), ("other", "other_share", "Other")):
        if not d[col].sum():
            continue
        fig.add_trace(go.Bar(
            x=d[share], y=d["Segment"], orientation="h", name=name, marker_color=RESOLUTION_COLORS[col],
            customdata=d[col], hovertemplate="<b>%{y}</b><br>" + name + ": %{x:.1%} (%{customdata:,.0f} units)"
                                             "<extra></extra>"))
    all_known = float((res["units"] - res["unknown"]).sum())
    if all_known:
        base = float(res["refund"].sum()) / all_known
        fig.add_vline(x=base, line_dash="dash", line_color=ui.COLORS["base"],
                      annotation_text=f"All: {base:.0%} refunded", annotation_position="top")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    fig = _layout(fig, title=title, xaxis_title="Share of returned units with a known outcome", n_rows=len(d))
    fig.update_xaxes(range=[0, 1])
    return fig


def exchange_kind_chart(kinds: pd.DataFrame, *, title: str) -> go.Figure:
    d = kinds.sort_values("exchanges", ascending=True)
    fig = go.Figure(go.Bar(
        x=d["share"], y=d["kind_label"], orientation="h", marker_color=ui.COLORS["primary"],
        text=[f"{ui.pct(s, 0)} ({ui.num(n)})" for s, n in zip(d["share"], d["exchanges"])],
        textposition="outside", cliponaxis=False,
        hovertemplate="<b>%{y}</b><br>%{x:.1%} of exchanged units<extra></extra>"))
    return _layout(fig, title=title, xaxis_title="Share of exchanged units", n_rows=len(d))


def pairs_chart(t: pd.DataFrame, *, title: str, max_rows: int = 15) -> go.Figure:
    """Difference in the segment's unit return rate when bought with each companion vs without it,
    with the Newcombe 95% interval; zero is the baseline (no difference)."""
    d = t.sort_values("diff").head(max_rows).iloc[::-1]
    colors = [ui.COLORS["good"] if p else ui.COLORS["neutral"] for p in d["pairs_well"]]
    fig = go.Figure(go.Bar(
        x=d["diff"], y=[plot_text(i) for i in d["item"]], orientation="h", marker_color=colors,
        error_x=dict(type="data", symmetric=False, array=d["diff_high"] - d["diff"],
                     arrayminus=d["diff"] - d["diff_low"], color="#555", thickness=1.2),
        customdata=list(zip(d["rate_with"], d["rate_without"], d["orders_with"], d["q_value"])),
        hovertemplate="<b>%{y}</b><br>Return rate with it %{customdata[0]:.1%} vs without %{customdata[1]:.1%}"
                      "<br>%{customdata[2]:,} orders together · q = %{customdata[3]:.3g}<extra></extra>"))
    fig.add_vline(x=0, line_color=ui.COLORS["base"], line_dash="dash", annotation_text="No difference",
                  annotation_position="top")
    fig.update_layout(showlegend=False)
    fig = _layout(fig, title=title, xaxis_title="Return rate with the companion minus without it (percentage points, "
                                                "95% interval)", n_rows=len(d), pct_axis=False)
    fig.update_xaxes(tickformat="+.0%")
    return fig


# ---------------------------------------------------------------- sentences (markdown-safe)
def over_represented_sentences(vs: pd.DataFrame, dimension: str, segment: object | None, *, k: int = 6) -> list[str]:
    """Plain sentences for the reasons that are significantly over-represented (q <= Q_LEVEL), largest
    evidence first; for one segment when ``segment`` is given, else across the dimension."""
    if vs.empty:
        return []
    d = vs if segment is None else vs[vs["segment"] == str(segment)]
    d = d[(d["q_value"] <= Q_LEVEL) & (d["share"] > d["rest_share"])]
    out = []
    for r in d.head(k).itertuples(index=False):
        who = "" if segment is not None else f"**{ui.md(ui.seg_label(dimension, r.segment))}**: "
        out.append(f"{who}**{ui.md(r.label)}** is {ui.pct(r.share)} of returned units vs {ui.pct(r.rest_share)} "
                   f"in the rest ({ui.num(r.returned)} units, {q_text(r.q_value)}).")
    return out


def plausible_exchange_sentences(res: pd.DataFrame, dimension: str, *, k: int = 6) -> list[str]:
    d = res[res["refund_though_exchange_plausible"]].sort_values("size_refunds", ascending=False)
    return [f"**{ui.md(ui.seg_label(dimension, r.segment))}**: {ui.num(r.size_refunds)} of {ui.num(r.size_returns)} "
            f"units returned for size or fit were refunded ({ui.pct(r.size_refund_share, 0)})."
            for r in d.head(k).itertuples(index=False)]


def exchange_sentence(product: str, kinds: pd.DataFrame, targets: pd.DataFrame) -> str | None:
    """What to offer earlier for one product, from its dominant exchange kind and top target."""
    if kinds.empty:
        return None
    top = kinds.iloc[0]
    advice = EXCHANGE_ADVICE.get(str(top["kind"]), "")
    s = (f"**{ui.md(product)}**: {ui.pct(top['share'], 0)} of {ui.num(kinds['exchanges'].sum())} exchanged units are "
         f"*{ui.md(EXCHANGE_KINDS.get(str(top['kind']), top['kind']))}*, so {advice}.")
    if str(top["kind"]) == "other_product" and not targets.empty:
        t = targets[targets["kind"] == "other_product"]
        if len(t):
            s += f" The most common switch is to **{ui.md(t.iloc[0]['target_product'])}**."
    return s


def pairs_sentences(t: pd.DataFrame, segment_name: str, *, k: int = 8) -> list[str]:
    d = t[t["pairs_well"]].head(k)
    return [f"With **{ui.md(r.item)}** in the same order, {ui.md(segment_name)} items are returned at "
            f"{ui.pct(r.rate_with)} vs {ui.pct(r.rate_without)} without it ({ui.num(r.orders_with)} orders, "
            f"{q_text(r.q_value)})." for r in d.itertuples(index=False)]


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
def mapping_table(spec_key: str, window: int | None, overrides: tuple[tuple[str, str], ...],
                  _returns: pd.DataFrame) -> pd.DataFrame:
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
    "_index": st.column_config.TextColumn("Raw reason", help="Exactly as it appears in your returns file",
                                          disabled=True),
    "count": st.column_config.NumberColumn("Return rows", format="localized", disabled=True),
    "units": st.column_config.NumberColumn("Units", format="localized", disabled=True),
    "category": st.column_config.SelectboxColumn("Category", options=list(CATEGORIES), required=True,
                                                 format_func=category_label,
                                                 help="Pick a category to correct the automatic mapping"),
    "group": st.column_config.TextColumn("Who can act", disabled=True),
    "rule": st.column_config.TextColumn("Rule that matched", disabled=True),
    "comment_rows": st.column_config.NumberColumn("Rows classified by comment", format="localized", disabled=True,
                                                  help="Rows where the reason said nothing and the comment was used"),
}


EDITOR_ORDER = ("category", "count", "units", "rule", "group", "comment_rows")


def kind_summary(targets: pd.DataFrame) -> pd.DataFrame:
    """Exchanged units by kind with shares, from exchange_targets(..., top=None) rows (any subset of products);
    the same aggregation as analysis.reasons.exchange_kind_summary, for a set of products."""
    if targets.empty:
        return pd.DataFrame({"kind": [], "kind_label": [], "exchanges": [], "share": []})
    s = targets.groupby("kind")["exchanges"].sum().sort_values(ascending=False, kind="stable")
    out = pd.DataFrame({"kind": s.index.astype(str), "exchanges": s.to_numpy(float)})
    out["kind_label"] = out["kind"].map(EXCHANGE_KINDS)
    out["share"] = out["exchanges"] / out["exchanges"].sum()
    return out[["kind", "kind_label", "exchanges", "share"]]


plot_text = ui.plot_text


# ---------------------------------------------------------------- robustness
class guarded:
    """Context manager for one page section: an unexpected exception is logged and shown as a short
    message, and the rest of the page still renders. Streamlit's stop/rerun signals are BaseExceptions
    and pass through."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> "guarded":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and isinstance(exc, Exception):
            ui.show_unexpected(exc, self.what)
            return True
        return False
