"""Every chart the pages show: pure functions from small frames to plotly figures (no Streamlit calls).

Pages compute nothing here and draw nothing themselves: they pass analysis results in and hand the figure
to st.plotly_chart. User text in labels and titles is escaped with `plot_text` (plotly renders some HTML)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.overview import drawn_average
from analysis.reasons import Q_LEVEL, ReasonMix
from analysis.stats import funnel_limits
from data.reasons import GROUP_LABELS
from dashboard.formatting import num, pct, plot_text, seg_label, segment_frame

if TYPE_CHECKING:  # annotations only: charts import nothing more at run time
    from numpy.typing import ArrayLike

    from analysis.interventions import InterventionResult
    from analysis.pair_grid import PairGrid


COLORS = {"primary": "#2F6F8F", "bad": "#C0504D", "good": "#4F8F5F", "neutral": "#8A99A6", "base": "#1F2A33"}


VERDICT_COLORS = {
    "clearly higher": COLORS["bad"],
    "higher (borderline)": "#D99A3D",
    "within noise": COLORS["neutral"],
    "clearly lower": COLORS["good"],
}


LEGEND_ROOM = 36  # px below the x-axis title for a one-row legend


def legend_below(fig: go.Figure) -> go.Figure:
    """A horizontal legend at the foot of the figure, below the x-axis title (positions relative to the plot
    area, such as y=-0.12, land on the axis title at some heights): the bottom margin and the height grow by
    LEGEND_ROOM."""
    m = fig.layout.margin
    bottom = (m.b if m is not None and m.b is not None else 40) + LEGEND_ROOM
    height = fig.layout.height
    fig.update_layout(
        legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left"),
        margin=dict(b=bottom),
        height=None if height is None else height + LEGEND_ROOM,
    )
    return fig


def _rate_axes(
    fig: go.Figure, title: str, axis: str, x_title: str, *, height: int, top: int = 60, **layout: Any
) -> None:
    """The layout every rate-over-order-periods chart shares: percent y axis named by the outcome, legend below."""
    fig.update_layout(
        title=title,
        yaxis_tickformat=".0%",
        yaxis_title=axis,
        xaxis_title=x_title,
        height=height,
        margin=dict(l=10, r=10, t=top, b=40),
        **layout,
    )
    legend_below(fig)


def pct_tickformat(*values: ArrayLike) -> str:
    """A percent tick format that never repeats a label: whole percents when the values span 5 points or more,
    one decimal below that (so 0.5%-1.5% is not labelled "1%, 1%, 1%")."""
    v = np.concatenate([np.asarray(x, dtype="float64").ravel() for x in values]) if values else np.array([])
    v = v[np.isfinite(v)]
    if not len(v):
        return ".0%"
    return ".0%" if float(v.max() - v.min()) >= 0.05 else ".1%"


def verdict_words(d: pd.DataFrame) -> list[str]:
    """The verdict with its reason in words, e.g. "within noise: these 7,128 returned units come from 2 orders"."""
    v = d["verdict"] if "verdict" in d else pd.Series(["within noise"] * len(d), index=d.index)
    r = d["noise_reason"] if "noise_reason" in d else pd.Series([""] * len(d), index=d.index)
    return [f"{a}: {b}" if isinstance(b, str) and b else str(a) for a, b in zip(v, r)]


def rate_chart(
    seg: pd.DataFrame,
    dimension: str,
    *,
    title: str,
    baseline: float,
    basis_label: str,
    max_rows: int = 25,
    show_ticks: bool = True,
) -> go.Figure:
    """Horizontal bars of rate with the clustered 95% intervals the verdicts use, coloured by verdict; each
    bar's comparison rate drawn (a tick), or the overall line when every bar is compared with it.

    Pass segments through analysis.concentration.agree_with_interval first (dimension_view does), so no bar
    is coloured as a difference its drawn interval does not show."""
    d = segment_frame(seg, dimension).head(max_rows).iloc[::-1]
    colors = [VERDICT_COLORS.get(v, COLORS["neutral"]) for v in d.get("verdict", ["within noise"] * len(d))]
    fig = go.Figure(
        go.Bar(
            x=d["return_rate"],
            y=d["Segment (chart)"],
            orientation="h",
            marker_color=colors,
            name="Segment rate",
            error_x=dict(
                type="data",
                symmetric=False,
                array=d["ci_high"] - d["return_rate"],
                arrayminus=d["return_rate"] - d["ci_low"],
                color="#555",
                thickness=1.2,
            ),
            customdata=np.stack(
                [d["ci_low"], d["ci_high"], d["n"], d["returned"], [plot_text(w) for w in verdict_words(d)]], axis=-1
            ),
            hovertemplate="<b>%{y}</b><br>Return rate %{x:.1%} (95% interval %{customdata[0]:.1%}–%{customdata[1]:.1%})"
            "<br>%{customdata[3]:,} returned of %{customdata[2]:,}<br>%{customdata[4]}<extra></extra>",
        )
    )
    if show_ticks and "baseline_rate" in d and "Compared with" in d:
        fig.add_trace(
            go.Scatter(
                x=d["baseline_rate"],
                y=d["Segment (chart)"],
                mode="markers",
                name="Its comparison group",
                marker=dict(symbol="line-ns", size=18, line=dict(width=3, color=COLORS["base"])),
                customdata=np.stack([d["Compared with"].map(plot_text)], axis=-1),
                hovertemplate="%{customdata[0]}: %{x:.1%}<extra></extra>",
            )
        )
    fig.add_vline(
        x=baseline,
        line_dash="dash",
        line_color=COLORS["neutral"],
        annotation_text=f"All: {baseline:.1%}",
        annotation_position="top",
    )
    fig.update_yaxes(type="category")  # segment names such as app ids "580111" are labels, not numbers
    fig.update_layout(
        title=title,
        xaxis_title=f"Rate ({basis_label}), with 95% interval",
        yaxis_title=None,
        xaxis_tickformat=pct_tickformat(d["ci_low"], d["ci_high"], [baseline]),
        height=max(320, 28 * len(d) + 120),
        margin=dict(l=10, r=20, t=60, b=40),
    )
    if show_ticks and "baseline_rate" in d and "Compared with" in d:
        legend_below(fig)
    return fig


FUNNEL_COLORS = {"above": COLORS["bad"], "below": COLORS["good"], "inside": COLORS["neutral"]}


def effective_volume(d: pd.DataFrame) -> np.ndarray:
    """Volume counted the way the tests count it: units / design effect (units of one order return
    together), at least 1."""
    n = d["n"].to_numpy(dtype="float64")
    deff = d["deff"].to_numpy(dtype="float64") if "deff" in d else np.ones(len(d))
    deff = np.where(np.isfinite(deff) & (deff >= 1), deff, 1.0)
    return np.maximum(np.round(n / deff), 1.0)


def funnel_position(d: pd.DataFrame, baseline: float) -> list[str]:
    """ "above" / "below" / "inside" the 95% funnel limits at each segment's plotted (effective) volume."""
    if not len(d):
        return []
    lim = funnel_limits(d["n_plot"].to_numpy(dtype="float64"), baseline, levels=(0.95,))
    r = d["return_rate"].to_numpy(dtype="float64")
    return [
        "above" if x > hi else "below" if x < lo else "inside"
        for x, lo, hi in zip(r, lim["lower_95"].to_numpy(), lim["upper_95"].to_numpy())
    ]


def funnel_chart(seg: pd.DataFrame, dimension: str, *, baseline: float, basis_label: str, title: str) -> go.Figure:
    """Rate vs effective volume with 95% and 99.8% control limits around the baseline (exact binomial);
    points coloured by where they fall against the limits drawn."""
    d = segment_frame(seg, dimension)
    if not (0 < baseline < 1):
        fig = go.Figure()
        fig.update_layout(
            title=f"{title}: no funnel - every unit has the same outcome (rate {baseline:.0%})", height=200
        )
        return fig
    d["n_plot"] = effective_volume(d) if basis_label == "units" else d["n"].astype("float64")
    nmax = max(float(d["n_plot"].max()), 10.0)
    grid = np.unique(np.geomspace(max(1.0, float(d["n_plot"].min()) * 0.8), nmax * 1.1, 120).round())
    lim = funnel_limits(grid, baseline)
    fig = go.Figure()
    for lo, hi, name, dash in (
        ("lower_95", "upper_95", "95% limits", "dot"),
        ("lower_998", "upper_998", "99.8% limits", "dash"),
    ):
        if lo in lim and hi in lim:
            fig.add_trace(
                go.Scatter(x=lim["n"], y=lim[hi], mode="lines", line=dict(color="#999", dash=dash), name=name)
            )
            fig.add_trace(
                go.Scatter(
                    x=lim["n"], y=lim[lo], mode="lines", line=dict(color="#999", dash=dash), showlegend=False, name=name
                )
            )
    # colours from where each point falls against the limits drawn (the same calculation), not from the
    # verdict on the Rates tab, which compares each segment with its own comparison group
    pos = funnel_position(d, baseline)
    colors = [FUNNEL_COLORS[p] for p in pos]
    label = [t if p != "inside" else "" for t, p in zip(d["Segment (chart)"], pos)]
    where = {
        "above": "above the funnel: returns more than the business for its volume",
        "below": "below the funnel: returns less than the business for its volume",
        "inside": "inside the funnel: within noise of the business average",
    }
    fig.add_trace(
        go.Scatter(
            x=d["n_plot"],
            y=d["return_rate"],
            mode="markers+text",
            text=label,
            textposition="top center",
            hovertext=d["Segment (chart)"],
            textfont=dict(size=10),
            marker=dict(size=10, color=colors, line=dict(width=1, color="white")),
            name="Segments",
            customdata=np.stack(
                [d["returned"], [where[p] for p in pos], [plot_text(w) for w in verdict_words(d)]], axis=-1
            ),
            hovertemplate="<b>%{hovertext}</b><br>%{y:.1%} (%{customdata[0]:,} returned)<br>%{customdata[1]}"
            "<br>Against comparable items: %{customdata[2]}<extra></extra>",
        )
    )
    fig.add_hline(y=baseline, line_color=COLORS["base"], line_dash="dash", annotation_text=f"All: {baseline:.1%}")
    xlab = (
        "Volume (units counted as independent: units ÷ how much they return together; log scale)"
        if basis_label == "units"
        else f"Volume ({basis_label}, log scale)"
    )
    fig.update_layout(
        title=title,
        xaxis_title=xlab,
        yaxis_title="Return rate",
        xaxis_type="log",
        yaxis_tickformat=pct_tickformat(d["return_rate"], [baseline]),
        height=460,
        margin=dict(l=10, r=20, t=60, b=40),
    )
    return legend_below(fig)


# ---------------------------------------------------------------- reasons & outcomes

GROUP_COLORS = {
    "preventable": COLORS["primary"],
    "operational": "#D99A3D",
    "customer_choice": COLORS["neutral"],
    "unknown": "#C9D1D8",
}


RESOLUTION_COLORS = {"refund": COLORS["bad"], "exchange": COLORS["good"], "store_credit": "#7FB3C8", "other": "#C9D1D8"}


REST_COLOR = "#B8C2CA"


def _layout(fig: go.Figure, *, title: str, xaxis_title: str, n_rows: int, pct_axis: bool = True) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=xaxis_title,
        yaxis_title=None,
        height=max(320, 30 * n_rows + 150),
        margin=dict(l=10, r=30, t=60, b=40),
    )
    legend_below(fig)
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
        fig.add_trace(
            go.Bar(
                x=d["share"],
                y=d["label"],
                orientation="h",
                name=label,
                marker_color=GROUP_COLORS[group],
                text=[pct(s, 0) for s in d["share"]],
                textposition="outside",
                cliponaxis=False,
                customdata=list(zip(d["units"], d["value_share"].fillna(float("nan")))),
                hovertemplate="<b>%{y}</b><br>%{x:.1%} of returned units (%{customdata[0]:,.0f})"
                "<br>%{customdata[1]:.1%} of returned value<extra></extra>",
            )
        )
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    return _layout(fig, title=title, xaxis_title="Share of returned units", n_rows=len(t))


def vs_rest_chart(rows: pd.DataFrame, *, segment_name: str, rest_name: str, title: str) -> go.Figure:
    """Paired bars per reason: the segment's share of returned units next to the rest's share.
    Significantly over-represented reasons (q <= Q_LEVEL) are marked with a triangle."""
    d = rows[(rows["share"] > 0) | (rows["rest_share"] > 0)].sort_values("share", ascending=False)
    order = list(d["label"])[::-1]
    sig = (d["q_value"] <= Q_LEVEL) & (d["share"] > d["rest_share"])
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=d["rest_share"],
            y=d["label"],
            orientation="h",
            name=rest_name,
            marker_color=REST_COLOR,
            hovertemplate="<b>%{y}</b><br>Rest: %{x:.1%} of returned units<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=d["share"],
            y=d["label"],
            orientation="h",
            name=segment_name,
            marker_color=[GROUP_COLORS.get(g, COLORS["neutral"]) for g in d["group"]],
            text=[f"{pct(s, 0)} ▲" if k else pct(s, 0) for s, k in zip(d["share"], sig)],
            textposition="outside",
            cliponaxis=False,
            customdata=list(zip(d["returned"], d["q_value"].fillna(float("nan")))),
            hovertemplate="<b>%{y}</b><br>Segment: %{x:.1%} of returned units (%{customdata[0]:,.0f})"
            "<br>q = %{customdata[1]:.3g}<extra></extra>",
        )
    )
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05, legend_traceorder="reversed")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    return _layout(
        fig,
        title=title,
        xaxis_title="Share of returned units (▲ over-represented, q ≤ 0.10)",
        n_rows=int(1.6 * len(d)) or 1,
    )


def resolution_chart(res: pd.DataFrame, dimension: str, *, title: str, max_rows: int = 20) -> go.Figure:
    """Stacked 100% bars per segment: refund / exchange / store credit / other share of returned units with a
    known outcome, with the overall refund share drawn as the baseline."""
    d = res.head(max_rows).copy()
    known = (d["units"] - d["unknown"]).where(lambda s: s > 0)
    d["other_share"] = d["other"] / known
    d["Segment"] = [plot_text(seg_label(dimension, s)) for s in d["segment"]]
    order = list(d["Segment"])[::-1]
    fig = go.Figure()
    for col, share, name in (
        ("refund", "refund_share", "Refund"),
        ("exchange", "exchange_share", "Exchange"),
        ("store_credit", "store_credit_share", "Store credit"),
        ("other", "other_share", "Other"),
    ):
        if not d[col].sum():
            continue
        fig.add_trace(
            go.Bar(
                x=d[share],
                y=d["Segment"],
                orientation="h",
                name=name,
                marker_color=RESOLUTION_COLORS[col],
                customdata=d[col],
                hovertemplate="<b>%{y}</b><br>" + name + ": %{x:.1%} (%{customdata:,.0f} units)<extra></extra>",
            )
        )
    all_known = float((res["units"] - res["unknown"]).sum())
    if all_known:
        base = float(res["refund"].sum()) / all_known
        fig.add_vline(
            x=base,
            line_dash="dash",
            line_color=COLORS["base"],
            annotation_text=f"All: {base:.0%} refunded",
            annotation_position="top",
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    fig = _layout(fig, title=title, xaxis_title="Share of returned units with a known outcome", n_rows=len(d))
    fig.update_xaxes(range=[0, 1])
    return fig


def exchange_kind_chart(kinds: pd.DataFrame, *, title: str) -> go.Figure:
    d = kinds.sort_values("exchanges", ascending=True)
    fig = go.Figure(
        go.Bar(
            x=d["share"],
            y=d["kind_label"],
            orientation="h",
            marker_color=COLORS["primary"],
            text=[f"{pct(s, 0)} ({num(n)})" for s, n in zip(d["share"], d["exchanges"])],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="<b>%{y}</b><br>%{x:.1%} of exchanged units<extra></extra>",
        )
    )
    return _layout(fig, title=title, xaxis_title="Share of exchanged units", n_rows=len(d))


def pairs_chart(t: pd.DataFrame, *, title: str, max_rows: int = 15) -> go.Figure:
    """Difference in the segment's unit return rate when bought with each companion vs without it,
    with the Newcombe 95% interval; zero is the baseline (no difference)."""
    d = t.sort_values("diff").head(max_rows).iloc[::-1]
    colors = [COLORS["good"] if p else COLORS["neutral"] for p in d["pairs_well"]]
    fig = go.Figure(
        go.Bar(
            x=d["diff"],
            y=[plot_text(i) for i in d["item"]],
            orientation="h",
            marker_color=colors,
            error_x=dict(
                type="data",
                symmetric=False,
                array=d["diff_high"] - d["diff"],
                arrayminus=d["diff"] - d["diff_low"],
                color="#555",
                thickness=1.2,
            ),
            customdata=list(zip(d["rate_with"], d["rate_without"], d["orders_with"], d["q_value"])),
            hovertemplate="<b>%{y}</b><br>Return rate with it %{customdata[0]:.1%} vs without %{customdata[1]:.1%}"
            "<br>%{customdata[2]:,} orders together · q = %{customdata[3]:.3g}<extra></extra>",
        )
    )
    fig.add_vline(
        x=0, line_color=COLORS["base"], line_dash="dash", annotation_text="No difference", annotation_position="top"
    )
    fig.update_layout(showlegend=False)
    fig = _layout(
        fig,
        title=title,
        xaxis_title="Return rate with the companion minus without it (percentage points, 95% interval)",
        n_rows=len(d),
        pct_axis=False,
    )
    fig.update_xaxes(tickformat="+.0%")
    return fig


def named_line(fig: go.Figure, y: float, name: str, *, dash: str = "dash") -> None:
    """A horizontal reference line (an average, a centre line) named in the legend rather than labelled on the
    line, where the plotted series crossing it covered the label."""
    fig.add_hline(y=y, line_dash=dash, line_color=COLORS["base"])
    fig.add_trace(
        go.Scatter(
            x=[None], y=[None], mode="lines", line=dict(color=COLORS["base"], dash=dash), name=name, hoverinfo="skip"
        )
    )


# ---------------------------------------------------------------- overview
def monthly_trend_chart(m: pd.DataFrame, *, rate_name: str, yaxis_title: str) -> go.Figure:
    """Monthly rate of matured months with its 95% band, provisional months apart, and the drawn average."""
    fig = go.Figure()
    mat = m[~m["provisional"]]
    prov = m[m["provisional"]]
    fig.add_trace(
        go.Scatter(
            x=list(mat["month"]) + list(mat["month"][::-1]),
            y=list(mat["ci_high"]) + list(mat["ci_low"][::-1]),
            fill="toself",
            mode="lines",  # a band, not points (plotly draws markers on fewer than 20 points)
            fillcolor="rgba(47,111,143,0.15)",
            line=dict(width=0),
            name="95% interval",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=mat["month"],
            y=mat["rate"],
            mode="lines+markers",
            name=rate_name,
            line=dict(color=COLORS["primary"]),
            hovertemplate="%{x|%b %Y}: %{y:.1%}<extra></extra>",
        )
    )
    if len(prov):
        fig.add_trace(
            go.Scatter(
                x=prov["month"],
                y=prov["rate"],
                mode="markers",
                name="Provisional (window open)",
                marker=dict(color=COLORS["neutral"], symbol="circle-open"),
                hovertemplate="%{x|%b %Y}: %{y:.1%} so far<extra></extra>",
            )
        )
    avg = drawn_average(mat)
    if avg is not None:
        named_line(fig, avg, f"Average of the {len(mat)} complete months {avg:.1%}")
    _rate_axes(
        fig,
        f"Monthly {rate_name.lower()} by order month",
        yaxis_title,
        "Order month",
        height=380,
        top=50,
    )
    return fig


# ---------------------------------------------------------------- intents & combinations
def intent_mix_chart(mix: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Heatmap: share of each collection's units bought under each intent."""
    import plotly.express as px

    show = mix.rename(columns=labels)
    show.index = [plot_text(i) for i in show.index]
    fig = px.imshow(
        show,
        text_auto=".0%",
        color_continuous_scale="Blues",
        aspect="auto",
        labels=dict(x="Intent", y="Collection", color="Share of units"),
    )
    fig.update_layout(
        title="Share of each collection's units bought under each intent",
        height=max(320, 30 * len(show) + 120),
        coloraxis_colorbar_tickformat=".0%",
        margin=dict(l=10, r=10, t=50, b=40),
    )
    return fig


def pair_heatmap(grid: PairGrid, verb: str = "returned") -> go.Figure:
    """Heatmap of collection pairs (analysis.pair_grid): share of units returned (or, where refunds are known per
    order only, refunded: verb="refunded") in orders containing both."""
    shown = [plot_text(i) for i in grid.items]
    fig = go.Figure(
        go.Heatmap(
            z=grid.rate.values,
            x=shown,
            y=shown,
            text=grid.text.values,
            texttemplate="%{text}",
            colorscale="OrRd",
            colorbar=dict(title=f"Units {verb}", tickformat=".0%"),
            hovertemplate=f"%{{y}} + %{{x}}<br>%{{z:.1%}} of units {verb}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Share of units {verb} in orders containing both collections<br><sup>Only pairs with "
        "enough orders to test are coloured; * = returns more than its parts</sup>",
        height=max(420, 26 * len(grid.items) + 160),
        margin=dict(l=10, r=10, t=60, b=10),
    )
    return fig


# ---------------------------------------------------------------- trends
def cohort_rate_chart(
    mat: pd.DataFrame,
    prov: pd.DataFrame,
    overall: float | None,
    *,
    title: str,
    axis: str,
    unit_word: str,
    rate_name: str = "Return rate",
) -> go.Figure:
    """Rate by order cohort: matured cohorts with their Wilson band, provisional ones (so far and expected final)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=list(mat["period"]) + list(mat["period"])[::-1],
            y=list(mat["ci_high"]) + list(mat["ci_low"])[::-1],
            fill="toself",
            mode="lines",
            fillcolor="rgba(47,111,143,0.18)",
            line=dict(width=0),
            hoverinfo="skip",
            name="95% interval (Wilson)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=mat["period"],
            y=mat["rate"],
            mode="lines+markers",
            name=f"{rate_name} (matured)",
            line=dict(color=COLORS["primary"]),
            customdata=mat[["ci_low", "ci_high", "returned", "units"]].to_numpy(),
            hovertemplate="%{x|%d %b %Y}: %{y:.1%} (95% CI %{customdata[0]:.1%}–%{customdata[1]:.1%})<br>"
            "%{customdata[2]:,} of %{customdata[3]:,} units returned<extra></extra>",
        )
    )
    if len(prov):
        fig.add_trace(
            go.Scatter(
                x=prov["period"],
                y=prov["rate"],
                mode="markers",
                name="Provisional: returned so far",
                marker=dict(color=COLORS["neutral"], symbol="circle-open", size=9),
                customdata=[
                    [f"about {c:.0%} of returns have arrived" if pd.notna(c) else "how many have arrived is not known"]
                    for c in prov["coverage"]
                ],
                hovertemplate="%{x|%d %b %Y}: %{y:.1%} so far (%{customdata[0]})<extra></extra>",
            )
        )
        exp = prov[prov["expected_final_rate"].notna()]
        if len(exp):
            fig.add_trace(
                go.Scatter(
                    x=exp["period"],
                    y=exp["expected_final_rate"],
                    mode="markers",
                    name="Provisional: expected final rate (95% interval)",
                    marker=dict(color=COLORS["primary"], symbol="diamond-open", size=10),
                    error_y=dict(
                        type="data",
                        symmetric=False,
                        array=(exp["expected_final_high"] - exp["expected_final_rate"]).to_numpy(),
                        arrayminus=(exp["expected_final_rate"] - exp["expected_final_low"]).to_numpy(),
                        color=COLORS["primary"],
                        thickness=1.2,
                        width=4,
                    ),
                    customdata=exp[["expected_final_low", "expected_final_high"]].to_numpy(),
                    hovertemplate="%{x|%d %b %Y}: expected to end near %{y:.1%} "
                    "(95% interval %{customdata[0]:.1%}–%{customdata[1]:.1%})<extra></extra>",
                )
            )
    if overall is not None:
        named_line(fig, overall, f"Average {overall:.1%}")
    _rate_axes(fig, title, axis, f"Order {unit_word}", height=420, top=60)
    return fig


def control_limits_chart(
    t: pd.DataFrame, *, title: str, axis: str, unit_word: str, rate_name: str = "Return rate"
) -> go.Figure:
    """A p / Laney p' chart (analysis.trends.control_chart table): rate, 3-sigma limits, centre, flagged periods."""
    cfig = go.Figure()
    cfig.add_trace(
        go.Scatter(
            x=t["period"],
            y=t["ucl"],
            mode="lines",
            line=dict(color="#999", dash="dash", shape="hvh"),
            name="Control limits (3σ)",
        )
    )
    cfig.add_trace(
        go.Scatter(
            x=t["period"],
            y=t["lcl"],
            mode="lines",
            line=dict(color="#999", dash="dash", shape="hvh"),
            showlegend=False,
            name="Lower limit",
        )
    )
    cfig.add_trace(
        go.Scatter(
            x=t["period"],
            y=t["p"],
            mode="lines+markers",
            name=rate_name,
            line=dict(color=COLORS["primary"]),
            hovertemplate="%{x|%d %b %Y}: %{y:.1%}<extra></extra>",
        )
    )
    flagged = t[t["flagged"]]
    if len(flagged):
        cfig.add_trace(
            go.Scatter(
                x=flagged["period"],
                y=flagged["p"],
                mode="markers",
                name="Unusual period",
                marker=dict(color=COLORS["bad"], size=12, symbol="circle-open", line=dict(width=2)),
                hovertemplate="%{x|%d %b %Y}: %{y:.1%} outside the limits<extra></extra>",
            )
        )
    named_line(cfig, float(t["centre"].iloc[0]), f"Centre line {float(t['centre'].iloc[0]):.1%}", dash="dot")
    _rate_axes(cfig, title, axis, f"Order {unit_word}", height=380, top=60)
    return cfig


def same_period_chart(
    yoy: pd.DataFrame, overall: float | None, *, period_format: str, title: str, axis: str, unit_word: str
) -> go.Figure:
    """Grouped bars: each period's rate next to the same period a year earlier (provisional periods faded)."""
    labels = [
        f"{p:{period_format}}" + (" (provisional)" if pv else "") for p, pv in zip(yoy["period"], yoy["provisional"])
    ]
    sfig = go.Figure()
    sfig.add_trace(
        go.Bar(
            x=labels,
            y=yoy["rate_same_period_last_year"],
            name="Same period last year",
            offsetgroup="last",
            marker_color=COLORS["neutral"],
            hovertemplate="%{x}, a year earlier: %{y:.1%}<extra></extra>",
        )
    )
    prov = yoy["provisional"].astype(bool).to_numpy()
    sfig.add_trace(
        go.Bar(
            x=labels,
            y=yoy["rate"],
            name="This period",
            offsetgroup="this",
            marker_color=COLORS["primary"],
            marker_opacity=[0.35 if pv else 1.0 for pv in prov],  # provisional: faded, still rising
            marker_pattern_shape=["/" if pv else "" for pv in prov],
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    yp = yoy["provisional"].astype(bool) & yoy["expected_final_rate"].notna()
    if yp.any():
        sfig.add_trace(
            go.Scatter(
                x=[lb for lb, k in zip(labels, yp) if k],
                y=yoy.loc[yp, "expected_final_rate"],
                mode="markers",
                name="This period: expected final rate (provisional)",
                offsetgroup="this",
                marker=dict(color=COLORS["primary"], symbol="diamond-open", size=12),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=(yoy.loc[yp, "expected_final_high"] - yoy.loc[yp, "expected_final_rate"]).to_numpy(),
                    arrayminus=(yoy.loc[yp, "expected_final_rate"] - yoy.loc[yp, "expected_final_low"]).to_numpy(),
                    color=COLORS["primary"],
                    thickness=1.2,
                    width=4,
                ),
                customdata=yoy.loc[yp, ["expected_final_low", "expected_final_high"]].to_numpy(),
                hovertemplate="%{x}: expected to end near %{y:.1%} "
                "(95% interval %{customdata[0]:.1%}–%{customdata[1]:.1%})<extra></extra>",
            )
        )
    if overall is not None:
        named_line(sfig, overall, f"Average {overall:.1%}")
    _rate_axes(sfig, title, axis, f"Order {unit_word}", height=360, top=60, barmode="group", scattermode="group")
    return sfig


# ---------------------------------------------------------------- interventions
def intervention_chart(
    res: InterventionResult,
    partial: pd.Series,
    *,
    segment_name: str,
    comparison_plural: str,
    axis: str = "Returned units / units sold (%)",
) -> go.Figure:
    """The segment's monthly rate, the comparison, the launch and the counterfactuals (analysis.interventions
    result); `partial` marks the month holding the maturity cutoff, shown apart and not joined to the line.
    `segment_name` is the segment's display name (unescaped)."""
    ch = res.chart
    name = plot_text(segment_name)
    full, part = ch[~partial], ch[partial]
    fig = go.Figure()
    for frame, whole in ((full, True), (part, False)):
        if frame.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=frame["month"],
                y=frame["treated_rate"],
                mode="lines+markers" if whole else "markers",
                name=name if whole else f"{name}: partial month (few matured orders)",
                line=dict(color=COLORS["primary"], width=3),
                marker=dict(
                    color=COLORS["primary"], symbol="circle" if whole else "circle-open", size=8 if whole else 10
                ),
                customdata=frame[["treated_units"]].to_numpy(),
                hovertemplate="%{x|%b %Y}: %{y:.1%} of %{customdata[0]:,.0f} units<extra></extra>",
            )
        )
        if frame["comparison_rate"].notna().any():
            fig.add_trace(
                go.Scatter(
                    x=frame["month"],
                    y=frame["comparison_rate"],
                    mode="lines+markers" if whole else "markers",
                    name=plot_text(f"Comparison ({', '.join(res.comparison_segments)})"),
                    showlegend=whole,
                    line=dict(color=COLORS["neutral"], dash="dash"),
                    marker=dict(color=COLORS["neutral"], symbol="circle" if whole else "circle-open"),
                    hovertemplate="%{x|%b %Y}: %{y:.1%}<extra>comparison</extra>",
                )
            )
    if ch["counterfactual_rate"].notna().any():
        fig.add_trace(
            go.Scatter(
                x=ch["month"],
                y=ch["counterfactual_rate"],
                mode="lines",
                name="Counterfactual: own earlier trend continued",
                line=dict(color=COLORS["bad"], dash="dot"),
                hovertemplate="%{x|%b %Y}: %{y:.1%} expected without the change<extra></extra>",
            )
        )
    if "did_counterfactual" in ch.columns and ch["did_counterfactual"].notna().any():
        fig.add_trace(
            go.Scatter(
                x=ch["month"],
                y=ch["did_counterfactual"],
                mode="lines",
                name="Counterfactual: without the change, per the comparison",
                line=dict(color=COLORS["bad"], dash="dash"),
                hovertemplate="%{x|%b %Y}: %{y:.1%} expected without the change (DiD)<extra></extra>",
            )
        )
    fig.add_shape(
        type="line",
        x0=res.launch_date,
        x1=res.launch_date,
        y0=0,
        y1=1,
        yref="paper",
        line=dict(color=COLORS["base"], width=2),
    )
    fig.add_annotation(
        x=res.launch_date,
        y=1,
        yref="paper",
        text=f"Launch {res.launch_date:%d %b %Y}",
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
    )
    _rate_axes(
        fig,
        f"Monthly {res.rate_name}: {name} vs comparison {comparison_plural}",
        axis,
        "Order month (matured orders)",
        height=420,
        top=70,
    )
    return fig
