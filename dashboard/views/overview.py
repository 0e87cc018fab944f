"""Overview: headline tiles, the monthly trend, the top of the fix list and a summary to read aloud."""

import streamlit as st

from analysis.concentration import period_concentration
from analysis.metrics import returns_not_loaded, unknown_reason
from analysis.overview import (
    averages_differ,
    empty_list_sentence,
    drawn_average,
    headline,
    matured_months,
    monthly,
    order_refunds,
    plain_summary,
    refund_segments,
    window_warning,
)
from analysis.prepare import DIMENSION_LABELS
from analysis.summary import leadership_summary
from analysis.trends_view import concentration_note
from dashboard import charts, context
from dashboard import formatting as fmt
from dashboard import sidebar
from dashboard.memo import chart, on_data
from dashboard.presets import intervention_rows

ctx = context.require_data(rates=False)
st.title("Overview")
sidebar.concentration_note(ctx)  # a few orders carrying most units is said before any number
an = ctx.analysis
h = ctx.cached("headline", headline)
t = an.totals

p = ctx.prepared
recent = ", 90 days" if h.unit_rate_prev is not None else ""
short = on_data(ctx, window_warning)
if short:
    st.warning(short, icon=":material/schedule:")
c = st.columns(5)
no_returns = returns_not_loaded(t)  # no returns loaded at all: nothing to draw or rank
if p.outcome == "order_refund":
    c[0].metric(
        "Order refund rate" + recent,
        fmt.pct(h.unit_rate),
        **fmt.rate_change(h.unit_rate, h.unit_rate_prev, h.unit_p),
        help=f"Orders with a customer refund / orders, {h.period_label}. Orders too "
        "recent to be refunded, cancellations and voids are excluded." + fmt.change_words(h.unit_p),
    )
    c[1].metric(
        "Orders refunded",
        fmt.num(t.get("orders_refunded")),
        help=f"Of {fmt.num(t.get('orders'))} matured orders, all of the selection's history.",
    )
    c[2].metric("Refunded value", sidebar.money(t.get("refunded_value")), help="Money refunded on matured orders.")
    c[3].metric("Unit return rate", "Unknown", help=unknown_reason("unit_return_rate", t))
    c[4].metric(
        "Cancelled or voided",
        fmt.num(t.get("orders_cancelled")),
        help="Orders cancelled or voided: not customer returns, left out of every rate (listed on the load report).",
    )
    st.caption(unknown_reason("unit_return_rate", t))
    whole = f" (all matured orders: {fmt.pct(t.get('order_refund_rate'))})" if recent else ""
    st.caption(
        f"Refund rate: {h.period_label}{whole}. Refunded value: all matured orders in the selection. Recent orders "
        f"whose refund window is still open are excluded ({fmt.num(p.immature_orders_excluded)} orders)."
    )
elif no_returns:  # the rates are not known (the page says why above)
    why = unknown_reason("unit_return_rate", t)
    c[0].metric("Unit return rate", "Unknown", help=why)
    c[1].metric("Order return rate", "Unknown", help=why)
    c[2].metric("Returned value", "Unknown", help=why)
    c[3].metric("Orders", fmt.num(t.get("orders")), help="Matured orders in the selection.")
    c[4].metric("Units sold", fmt.num(t.get("units_sold")), help="Units of the matured orders in the selection.")
    st.caption(why)
else:
    c[0].metric(
        "Unit return rate" + recent,
        fmt.pct(h.unit_rate),
        **fmt.rate_change(h.unit_rate, h.unit_rate_prev, h.unit_p),
        help=f"Returned units / units sold, {h.period_label}. Orders too recent to be returned are excluded."
        + fmt.change_words(h.unit_p),
    )
    c[1].metric(
        "Order return rate" + recent,
        fmt.pct(h.order_rate),
        **fmt.rate_change(h.order_rate, h.order_rate_prev, h.order_p),
        help=f"Orders with at least one return / orders, {h.period_label}." + fmt.change_words(h.order_p),
    )
    c[2].metric(
        "Returned value",
        sidebar.money(t.get("returned_value")),
        help="Refunded value of returned units (or their price where no refund amount is recorded), matured orders.",
    )
    for col, key, label, helptext in (
        (c[3], "exchange_share", "Exchange share", "Share of returned units resolved by exchange."),
        (
            c[4],
            "saved_revenue",
            "Saved by exchanges",
            "Value of returned units kept in the business as an exchange or store credit.",
        ),
    ):
        why = unknown_reason(key, t)
        if why:
            col.metric(label, "Unknown", help=why)
        else:
            col.metric(label, fmt.pct(t[key]) if key.endswith("share") else sidebar.money(t[key]), help=helptext)
    unknown = [
        lab
        for key, lab in (("exchange_share", "exchange share"), ("saved_revenue", "saved by exchanges"))
        if unknown_reason(key, t)
    ]
    if unknown:
        st.caption(f"{' and '.join(unknown).capitalize()}: {unknown_reason('exchange_share', t)}")
    whole = (
        f" (all matured orders: {fmt.pct(t.get('unit_return_rate'))} of units, "
        f"{fmt.pct(t.get('order_return_rate'))} of orders)"
        if recent
        else ""
    )
    st.caption(
        f"Return rates: {h.period_label}{whole}. Returned value, exchange share and saved revenue: all matured "
        f"orders in the selection. Recent orders whose return window is still open are excluded "
        f"({fmt.num(p.immature_orders_excluded)} orders)."
    )

if p.outcome == "order_refund":
    refunds = ctx.cached("order_refunds", order_refunds)
    if len(refunds):
        with st.expander("Order refund rates by channel, promotion, add-on and intent", expanded=False):
            st.caption(
                "Orders with any customer refund / orders, with 95% intervals (orders are independent units). "
                "An order with more items has more chances to hold a refund, so multi-item and full-refresh "
                "orders show higher rates here by arithmetic alone. The Intents, Journeys and Fix list pages "
                "therefore compare refunded units / units sold (refunds attributed to items), which does not "
                "grow with basket size."
            )
            seg = refund_segments(refunds).copy()
            seg["Dimension"] = seg["dimension"].map(lambda d: DIMENSION_LABELS.get(d, d))
            seg["Segment"] = [fmt.seg_label(d, s) for d, s in zip(seg["dimension"], seg["segment"])]
            st.dataframe(
                seg[
                    ["Dimension", "Segment", "orders", "refunded_orders", "rate", "ci_low", "ci_high", "refunded_value"]
                ],
                hide_index=True,
                key="ov_order_refunds",
                column_config={
                    "orders": st.column_config.NumberColumn("Orders", format="localized"),
                    "refunded_orders": st.column_config.NumberColumn("Refunded", format="localized"),
                    "rate": st.column_config.NumberColumn("Refund rate", format="percent", step=fmt.PCT_STEP),
                    "ci_low": st.column_config.NumberColumn("95% CI low", format="percent", step=fmt.PCT_STEP),
                    "ci_high": st.column_config.NumberColumn("95% CI high", format="percent", step=fmt.PCT_STEP),
                    "refunded_value": st.column_config.NumberColumn("Refunded value", format="localized"),
                },
            )

st.subheader("What to say in the meeting")
for s in on_data(ctx, plain_summary, t, an.fix_list, an.segments, h):
    st.markdown(f"- {fmt.md(s)}")

left, right = st.columns([3, 2])
with left:
    if no_returns:
        st.info("No monthly return rate to draw: return rates are not known (said above).")
    else:
        m = ctx.cached("monthly", monthly)
        mat = matured_months(m)
        rate_name = "Order refund rate" if p.outcome == "order_refund" else "Unit return rate"
        avg = drawn_average(mat)
        chart_note = None
        if avg is not None:
            headline_rate = t.get("order_refund_rate") if p.outcome == "order_refund" else t.get("unit_return_rate")
            if averages_differ(headline_rate, avg):
                chart_note = (
                    f"The dashed line averages the {len(mat)} complete months drawn ({avg:.1%}); the meeting text's "
                    f"{headline_rate:.1%} covers every matured order, including the part-matured last month "
                    "(hollow points) — where a few large orders sit there, the two differ."
                )
        chart(
            "ov_trend",
            charts.monthly_trend_chart,
            m,
            rate_name=rate_name,
            yaxis_title="Refunded orders / orders" if p.outcome == "order_refund" else "Returned units / units sold",
        )
        if chart_note:  # set only when the drawn months hold units (drawn_average is not None)
            st.caption(chart_note)
        conc = ctx.cached("tr_concentration", period_concentration, "M", None, None)  # the Trends page's entry
        month_note = concentration_note(conc, len(m), listed="the Trends page lists them")
        if month_note:
            st.caption(fmt.md(month_note))
with right:
    st.markdown("**Top of the fix list**")
    fl = an.fix_list.head(5)
    if fl.empty and no_returns:
        st.info("Nothing to rank: return rates are not known (said above).")
    elif fl.empty:
        st.info(empty_list_sentence(t, an.segments))
    for _, r in fl.iterrows():
        with st.container(border=True):
            st.markdown(
                f"**{int(r['rank'])}. {fmt.md(fmt.seg_label(r['dimension'], r['segment']))}** "
                f"· {fmt.md(DIMENSION_LABELS.get(r['dimension'], r['dimension']).lower())}  \n"
                f"{fmt.pct(r['return_rate'])} vs {fmt.pct(r['baseline_rate'])} · "
                f"excess cost {sidebar.money(r['excess_cost'])}  \n{fmt.md(r['suggested_action'])}"
            )
    st.page_link("views/fixlist.py", label="Open the full fix list", icon=":material/checklist:")

st.subheader("Leadership summary")
st.caption(
    "A printable one-page summary: headline figures, the trend, the top fixes with a one-line brief each, "
    "and the logged interventions with their verdicts."
)
if st.button("Prepare the leadership summary", key="ov_summary", icon=":material/description:"):
    with st.spinner("Writing the summary…"):
        doc = leadership_summary(an, ctx.prepared, intervention_rows(ctx))
    s1, s2 = st.columns(2)
    s1.download_button(
        "Summary (printable HTML)",
        doc.html.encode("utf-8"),
        file_name="returns-summary.html",
        mime="text/html",
        key="ov_dl_summary_html",
    )
    if doc.pdf:
        s2.download_button(
            "Summary (PDF)", doc.pdf, file_name="returns-summary.pdf", mime="application/pdf", key="ov_dl_summary_pdf"
        )
    else:
        s2.caption(doc.pdf_message or "PDF is not available on this machine; print the HTML page instead.")
