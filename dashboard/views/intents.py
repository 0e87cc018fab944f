"""Intents: order-level return rates for single item, bracketing, multi-item and full-refresh orders."""

import streamlit as st

from analysis.intents import bracketing_story, intent_mix
from analysis.prepare import INTENT_LABELS
from dashboard import charts, context, errors
from dashboard import formatting as fmt
from dashboard import segment_views
from dashboard.memo import chart

ctx = context.require_data()
st.title("Customer intents")
st.caption(
    "Intent is a property of the whole order, so orders are the unit of analysis here: single item (one unit), "
    "bracketing (the same product in two or more sizes), full refresh (items from three or more collections), "
    "multi-item (the rest). "
    + (
        "Rates are the share of units refunded (each order's refund attributed to its items), not the share of "
        "orders refunded: an order with more items has more chances to hold a refund, so larger baskets would "
        "look worse by arithmetic alone."
        if ctx.prepared.outcome == "order_refund"
        else "Rates are the share of units returned."
    )
)
if not ctx.prepared.has("intent"):
    why = next((n for n in ctx.prepared.notes if n.startswith("Customer intents")), None)
    st.info(why or "Customer intents cannot be derived from this data.", icon=":material/info:")
    st.stop()
segment_views.dimension_view(ctx, "intent", key="int")

st.subheader("Intent mix by collection")
mix = ctx.cached("intent_mix", intent_mix)
if mix.empty:
    errors.missing("Intent mix by collection", "a collection column")
else:
    chart("int_mix", charts.intent_mix_chart, mix, INTENT_LABELS)

st.subheader("The bracketing story")
bs = ctx.cached("bracketing", bracketing_story)
if not ctx.prepared.has("size") and not ctx.prepared.has("product_name"):
    errors.missing("Bracketing", "a size/variant column or product names")
else:
    c = st.columns(4)
    c[0].metric("Bracketing orders", fmt.num(bs.bracketing_orders), help="Orders with one product in several sizes")
    c[1].metric("Share of orders", fmt.pct(bs.share_of_orders))
    c[2].metric("Sizes ordered (average)", "–" if bs.avg_variants != bs.avg_variants else f"{bs.avg_variants:.1f}")
    c[3].metric("Units kept", fmt.pct(bs.kept_share), help="Share of units in bracketing orders that were not returned")
    if len(bs.top_products):
        st.dataframe(
            bs.top_products,
            hide_index=True,
            key="int_top_bracketed",
            column_config={
                "product": "Product",
                "orders": st.column_config.NumberColumn("Bracketing orders"),
                "units": "Units",
                # order refunds attributed to items are fractions of units: one decimal, not four
                "returned": st.column_config.NumberColumn(
                    "Returned", format="%.1f" if ctx.prepared.outcome == "order_refund" else "%d"
                ),
                "kept_share": st.column_config.NumberColumn("Kept", format="percent", step=fmt.PCT_STEP),
            },
        )
        st.caption(
            "Products most often ordered in several sizes: clearer size advice on these pages lets customers "
            "order one size instead of two."
        )
