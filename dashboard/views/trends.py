"""Trends: return rate by order-date cohort with intervals, a control chart, last year's same month,
the trend test in words, and what changed between two periods."""

import streamlit as st

from analysis.concentration import order_ref, period_concentration
from analysis.prepare import DIMENSION_LABELS
from analysis.trends import (
    cohort_series,
    control_chart,
    default_periods,
    matured_rate,
    segments_by_volume,
    series_trend,
    what_changed,
)
from analysis.trends_view import (
    changes_in_points,
    carrier_orders,
    concentration_note,
    trend_without_carriers,
    matured_and_provisional,
    order_date_span,
    same_period_rows,
    significant_changes,
    trend_dimensions,
    unusual_periods,
    year_on_year,
)
from dashboard import charts, context
from dashboard import formatting as fmt
from dashboard.memo import chart, on_data, result

ALL = "__all__"
WC_DEFAULT_DIMS = ("collection", "category", "channel", "country", "intent")


ctx = context.require_data()
st.title("Trends")
dims = on_data(ctx, trend_dimensions)

c1, c2, c3 = st.columns([2, 3, 1])
dim = c1.selectbox(
    "Dimension",
    [ALL] + dims,
    key="tr_dim",
    format_func=lambda d: "Whole business" if d == ALL else DIMENSION_LABELS.get(d, d),
)
seg = None
if dim != ALL:
    seg = c2.selectbox(
        "Segment",
        on_data(ctx, segments_by_volume, dim),
        key=f"tr_seg_{dim}",
        format_func=lambda s: fmt.seg_label(dim, s),
    )
else:
    c2.selectbox("Segment", ["Whole business"], key="tr_seg_all", disabled=True)
weekly = c3.toggle("Weekly", value=False, key="tr_weekly", help="Weekly cohorts (ISO weeks) instead of months")
freq = "W" if weekly else "M"
unit_word = "week" if weekly else "month"
who = "the whole business" if seg is None else f"{fmt.seg_label(dim, seg)} ({DIMENSION_LABELS.get(dim, dim).lower()})"
who_title = "whole business" if seg is None else fmt.plot_text(fmt.seg_label(dim, seg))

series = ctx.cached("tr_cohorts", cohort_series, freq, None if dim == ALL else dim, seg)
if series.empty:
    st.info(f"No order lines for {fmt.md(who)} under the current filters.")
    st.stop()
mat, prov = matured_and_provisional(series)
overall = matured_rate(series)

words = fmt.rate_words(ctx.prepared, None if dim == ALL else dim)
# ---------------------------------------------------------------- rate over time
st.subheader(f"{words['name']} by order {unit_word}: {fmt.md(who_title)}")
chart(
    "tr_rate_chart",
    charts.cohort_rate_chart,
    mat,
    prov,
    overall,
    title=f"{words['name']} by order {unit_word}, {who_title}",
    axis=words["axis"],
    unit_word=unit_word,
    rate_name=words["name"],
)
st.caption(
    f"Cohorts by order date. The band is the 95% Wilson interval, widened where units of one order come back "
    f"together (Rao-Scott design effect over the month's orders). {fmt.num(len(prov))} recent "
    f"{unit_word}(s) are provisional: they hold orders younger than the {ctx.prepared.window_days}-day return "
    "window, so their rate so far (hollow circle) will still rise"
    + (
        "; the diamond is the expected final rate with its 95% interval: the returns so far plus those still to "
        "come, estimated from the share expected to have arrived at the orders' age (Kaplan-Meier estimate of "
        "days-to-return) and, while little has arrived, from the matured months' rate. A month with few returns in "
        "hand gets a wide interval, not a confident number."
        if len(ctx.prepared.arrival.days)
        else ". No return has a date in this data, so how much of a recent month's returns are in cannot be "
        "estimated: provisional months show their rate so far only, with no expected final rate."
    )
    + (
        f" The returns file ends on {ctx.prepared.returns_end:%d %b %Y}: {unit_word}s ordered after it have no "
        "rate, since their returns are not in the file."
        if ctx.prepared.returns_end is not None
        else ""
    )
)
conc = ctx.cached("tr_concentration", period_concentration, freq, None if dim == ALL else dim, seg)
note = concentration_note(conc, len(series), unit_word)
if note:  # a few large orders carrying a point are said under the chart that draws it
    st.warning(fmt.md(note), icon=":material/priority_high:")
    if len(conc) > 1:
        with st.expander(f"Table: the {unit_word}s a few orders carry"):
            shown = conc.assign(orders=conc["orders"].map(lambda ids: ", ".join(order_ref(o) for o in ids)))
            st.dataframe(
                shown.drop(columns="n_orders"),
                hide_index=True,
                column_config={
                    "period": st.column_config.DateColumn(
                        unit_word.title(), format="MMM YYYY" if freq == "M" else "D MMM YYYY"
                    ),
                    "provisional": st.column_config.CheckboxColumn("Provisional"),
                    "orders": st.column_config.TextColumn("Orders (largest first)"),
                    "units_sold": st.column_config.NumberColumn("Their units sold", format="%d"),
                    "returned": st.column_config.NumberColumn("Their returned units", format="%d"),
                    "period_returned": st.column_config.NumberColumn(f"The {unit_word}'s returned units", format="%d"),
                    "share": st.column_config.NumberColumn("Their share", format="percent", step=fmt.PCT_STEP),
                    "rate": st.column_config.NumberColumn("Rate", format="percent", step=fmt.PCT_STEP),
                    "rate_without": st.column_config.NumberColumn(
                        "Rate without them", format="percent", step=fmt.PCT_STEP
                    ),
                },
            )

# ---------------------------------------------------------------- trend verdict
if len(mat) >= 3:
    tt = result(series_trend, series)
    pfmt = "%b %Y" if freq == "M" else "%d %b %Y"
    span = f"{mat['period'].iloc[0]:{pfmt}} to {mat['period'].iloc[-1]:{pfmt}}"
    if tt.p_value < 0.05 and tt.slope_sign != 0:
        direction = "rising" if tt.slope_sign > 0 else "falling"
        text = (
            f"**Trend: {direction}.** Across the {len(mat)} matured {unit_word}s from {span}, the {words['name'].lower()} of "
            f"{fmt.md(who)} shows a steady {direction} trend that is unlikely to be chance or ordinary "
            f"{unit_word}-to-{unit_word} swings (quasi-binomial trend test, p = {tt.p_value:.3g})."
        )
    else:
        text = (
            f"**Trend: none detected.** Across the {len(mat)} matured {unit_word}s from {span}, the "
            f"{words['name'].lower()} of {fmt.md(who)} shows no steady rise or fall beyond chance and ordinary "
            f"{unit_word}-to-{unit_word} swings (quasi-binomial trend test, p = {tt.p_value:.2f}); the ups and "
            f"downs look like noise around {fmt.pct(overall)}."
        )
    carriers = carrier_orders(conc)  # from the note's own finding (above), not found again
    tw = ctx.cached("tr_trend_without", trend_without_carriers, carriers, freq, None if dim == ALL else dim, seg)
    if tw is not None:  # does the verdict rest on the few orders that carry some months (said above)?
        k = len(carriers)
        found = tw.p_value < 0.05 and tw.slope_sign != 0
        found_with = tt.p_value < 0.05 and tt.slope_sign != 0
        verdict = ("rising" if tw.slope_sign > 0 else "falling") if found else "none detected"
        if found == found_with and (not found or tw.slope_sign == tt.slope_sign):
            so = "so the verdict does not rest on them."
        elif found_with and not found:
            so = "so **the verdict rests on those orders**."
        elif found and not found_with:
            so = "so **those orders hide a trend**."
        else:
            so = "so **those orders reverse its direction**."
        text += (
            f" Without the {k} order{'s' if k != 1 else ''} that carry matured {unit_word}s (above): {verdict} "
            f"(p = {tw.p_value:.3g}), {so}"
        )
    st.markdown(text)
else:
    st.info(f"Fewer than 3 matured {unit_word}s for {fmt.md(who)}: too few to test for a trend.")

# ---------------------------------------------------------------- control chart
st.subheader("Unusual periods (control chart)")
try:
    cc = result(control_chart, series)
except ValueError:
    cc = None
    st.info(f"A control chart needs at least 2 matured {unit_word}s with sales; there are {len(mat)}.")
if cc is not None:
    t = cc.table
    name = "Laney p′ chart" if cc.chart == "laney" else "p-chart"
    flagged = unusual_periods(t)
    chart(
        "tr_control_chart",
        charts.control_limits_chart,
        t,
        title=f"{name} of the matured {unit_word}s, {who_title}",
        axis=words["axis"],
        unit_word=unit_word,
        rate_name=words["name"],
    )
    st.caption(f"Chart used: {fmt.md(cc.reason)} Provisional {unit_word}s are left out.")
    if len(flagged):
        unusual = "; ".join(f"{r.period:%d %b %Y} ({r.p:.1%}, {r.side} limit)" for r in flagged.itertuples())
        st.markdown(
            f"**{len(flagged)} unusual {unit_word}(s):** {fmt.md(unusual)}. Look for a cause (a product launch, "
            "a promotion, a site change) in these periods."
        )
    else:
        st.markdown(
            f"**No unusual {unit_word}s:** every matured {unit_word} is within the control limits, so the "
            "variation is what this process normally produces."
        )

# ---------------------------------------------------------------- seasonal comparison
st.subheader("Same period last year")
yoy = result(same_period_rows, series)
lag_word = "month 12 months earlier" if freq == "M" else "week 52 weeks earlier"
if yoy.empty:
    st.info(
        f"The data does not cover the same {unit_word} of the previous year yet (needs more than a year of "
        "orders), so there is no seasonal comparison."
    )
else:
    period_fmt = "%b %Y" if freq == "M" else "%d %b %Y"
    chart(
        "tr_yoy_chart",
        charts.same_period_chart,
        yoy,
        overall,
        period_format=period_fmt,
        title=f"{words['name']} vs the same {lag_word}, {who_title}",
        axis=words["axis"],
        unit_word=unit_word,
    )
    counts = year_on_year(yoy)
    if counts is not None:
        same = f", {counts.unchanged} unchanged" if counts.unchanged else ""
        st.caption(
            f"{counts.periods} matured {unit_word}(s) can be compared with a year earlier: {counts.higher} higher, "
            f"{counts.lower} lower{same}; the average change is {fmt.pp(counts.mean_change)}. "
            "Provisional periods are still rising and are not a fair comparison yet."
        )

with st.expander(f"Table: every {unit_word}"):
    st.dataframe(
        series,
        hide_index=True,
        key="tr_series_table",
        column_config={
            "period": st.column_config.DateColumn(f"Order {unit_word}", format="YYYY-MM-DD"),
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "returned": st.column_config.NumberColumn("Returned", format="localized"),
            "rate": st.column_config.NumberColumn("Return rate", format="percent", step=fmt.PCT_STEP),
            "ci_low": st.column_config.NumberColumn("95% CI low", format="percent", step=fmt.PCT_STEP),
            "ci_high": st.column_config.NumberColumn("95% CI high", format="percent", step=fmt.PCT_STEP),
            "orders": st.column_config.NumberColumn("Orders", format="localized"),
            "provisional": st.column_config.CheckboxColumn("Provisional"),
            "coverage": st.column_config.NumberColumn("Returns arrived", format="percent", step=fmt.PCT_STEP),
            "expected_final_rate": st.column_config.NumberColumn(
                "Expected final rate", format="percent", step=fmt.PCT_STEP
            ),
            "expected_final_low": st.column_config.NumberColumn(
                "Expected final: 95% low", format="percent", step=fmt.PCT_STEP
            ),
            "expected_final_high": st.column_config.NumberColumn(
                "Expected final: 95% high", format="percent", step=fmt.PCT_STEP
            ),
            "rate_same_period_last_year": st.column_config.NumberColumn(
                "A year earlier", format="percent", step=fmt.PCT_STEP
            ),
            "change_vs_last_year": st.column_config.NumberColumn(
                "Change vs a year earlier", format="percent", step=fmt.PCT_STEP
            ),
        },
    )

# ---------------------------------------------------------------- what changed
st.subheader("What changed")
st.caption("Compare two periods of order dates: which segments' return rates moved most. Matured orders only.")
base = ctx.cached("tr_cohorts", cohort_series, "M", None, None)
d_min, d_max = order_date_span(ctx.prepared)
(a_def, b_def) = default_periods(base, d_min, d_max)
w1, w2, w3 = st.columns([1, 1, 2])
pa = w1.date_input("Period A (before)", value=a_def, min_value=d_min, max_value=d_max, key="tr_wc_a")
pb = w2.date_input("Period B (after)", value=b_def, min_value=d_min, max_value=d_max, key="tr_wc_b")
wc_dims = w3.multiselect(
    "Dimensions",
    dims,
    default=[d for d in WC_DEFAULT_DIMS if d in dims],
    key="tr_wc_dims",
    format_func=lambda d: DIMENSION_LABELS.get(d, d),
)
if not (isinstance(pa, (tuple, list)) and len(pa) == 2 and isinstance(pb, (tuple, list)) and len(pb) == 2):
    st.info("Pick a start and an end date for both periods.")
elif not wc_dims:
    st.info("Choose at least one dimension to compare.")
else:
    wc = ctx.cached("tr_what_changed", what_changed, (pa[0], pa[1]), (pb[0], pb[1]), tuple(wc_dims))
    if wc.empty:
        st.info("No segment has matured orders in both periods. Move the periods earlier or widen them.")
    else:
        sig = significant_changes(wc)
        pname = f"{pa[0]:%d %b %Y}–{pa[1]:%d %b %Y} vs {pb[0]:%d %b %Y}–{pb[1]:%d %b %Y}"
        if len(sig):
            st.markdown(
                f"**{len(sig)} segment(s) changed by more than chance allows** ({pname}; false-discovery "
                "rate 10% per dimension), largest in returns first:"
            )
            for r in sig.head(8).itertuples():
                more = "more" if r.change > 0 else "fewer"
                dl = DIMENSION_LABELS.get(r.dimension, r.dimension).lower()
                st.markdown(
                    f"- **{fmt.md(fmt.seg_label(r.dimension, r.segment))}** ({fmt.md(dl)}): "
                    f"{fmt.pct(r.rate_a)} → {fmt.pct(r.rate_b)} ({fmt.pp(r.change)}, 95% CI {fmt.pp(r.ci_low)} to "
                    f"{fmt.pp(r.ci_high)}; q = {r.q_value:.3f}), about {abs(r.returns_represented):,.0f} {more} "
                    f"returns in period B."
                )
        else:
            top = wc.head(3)
            moves = "; ".join(
                f"{fmt.seg_label(r.dimension, r.segment)} {fmt.pct(r.rate_a)} → {fmt.pct(r.rate_b)} "
                f"(q = {r.q_value:.2f})"
                for r in top.itertuples()
            )
            st.markdown(
                f"**No segment changed by more than chance allows** ({fmt.md(pname)}; false-discovery rate 10% "
                f"per dimension). The largest moves were {fmt.md(moves)}: all within noise at these volumes."
            )
        view = changes_in_points(wc, 40)
        view["Dimension"] = view["dimension"].map(lambda d: DIMENSION_LABELS.get(d, d))
        view["Segment"] = [fmt.seg_label(d, s) for d, s in zip(view["dimension"], view["segment"])]
        st.dataframe(
            view[
                [
                    "Dimension",
                    "Segment",
                    "unit",
                    "n_a",
                    "rate_a",
                    "n_b",
                    "rate_b",
                    "change",
                    "ci_low",
                    "ci_high",
                    "q_value",
                    "significant",
                    "returns_represented",
                ]
            ],
            hide_index=True,
            key="tr_wc_table",
            column_config={
                "unit": st.column_config.TextColumn("Counted in"),
                "n_a": st.column_config.NumberColumn("Volume A", format="localized"),
                "rate_a": st.column_config.NumberColumn("Rate A", format="percent", step=fmt.PCT_STEP),
                "n_b": st.column_config.NumberColumn("Volume B", format="localized"),
                "rate_b": st.column_config.NumberColumn("Rate B", format="percent", step=fmt.PCT_STEP),
                "change": st.column_config.NumberColumn("Change", format="%+.1f pp"),
                "ci_low": st.column_config.NumberColumn("95% CI low", format="%+.1f pp"),
                "ci_high": st.column_config.NumberColumn("95% CI high", format="%+.1f pp"),
                "q_value": st.column_config.NumberColumn("q (FDR)", format="%.3f"),
                "significant": st.column_config.CheckboxColumn("Beyond chance"),
                "returns_represented": st.column_config.NumberColumn(
                    "Returns represented", format="%+.0f", help="Change × volume in B"
                ),
            },
        )
        st.caption(
            "Rates are units returned / units sold for product dimensions and orders with a return / orders "
            "for order dimensions (channel, intent, journey). Tests allow for several lines of one order being "
            "related (Rao-Scott), and q-values control false discoveries within each dimension."
        )
