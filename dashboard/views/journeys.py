"""Journeys: the same view by journey (campaign, landing collection) and by channel."""

import streamlit as st

from dashboard import context, errors, segment_views

ctx = context.require_data()
st.title("Journeys and channels")
st.caption(
    "Journey, channel, promotion, add-ons and country belong to the whole order, so orders are the unit of "
    "analysis"
    + (
        "; rates are the share of units refunded (each order's refund attributed to its items), which does not "
        "grow with basket size as the share of orders refunded does."
        if ctx.prepared.outcome == "order_refund"
        else "; rates are the share of units returned."
    )
)
VIEWS = [
    ("By journey", "journey", "A view by journey", "a journey, campaign or landing-page column"),
    ("By channel", "channel", "A view by channel", "a channel or source column"),
    ("First vs repeat customers", "customer_type", "First vs repeat customers", "a customer id column"),
    ("By promotion", "promotion", "A view by promotion", "a discount code or promotion column"),
    (
        "By add-on bought",
        "addon",
        "A view by add-on (package protection, return insurance)",
        "line items such as package protection or return insurance (Shopify orders export)",
    ),
    ("By country", "country", "A view by shipping country", "a shipping country column"),
]
VIEWS.sort(key=lambda v: not ctx.prepared.has(v[1]))  # views with data first, so the page opens on one
tabs = st.tabs([v[0] for v in VIEWS])
for tab, (_, dim, what, cols) in zip(tabs, VIEWS):
    with tab:
        if not ctx.prepared.has(dim):
            why = next((n for n in ctx.prepared.notes if n.startswith(what)), None)  # not tested, and why
            if why:
                st.info(why, icon=":material/info:")
            else:
                errors.missing(what, cols)
            continue
        if segment_views.dimension_view(ctx, dim, key=f"jr_{dim}") is None:
            st.info("Nothing to compare for this view with the current filters.")
