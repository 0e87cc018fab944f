"""Journeys: the same view by journey (campaign, landing collection) and by channel."""
import streamlit as st

from dashboard import ui

ctx = ui.require_data()
st.title("Journeys and channels")
st.caption("Journey and channel belong to the whole order, so orders are the unit of analysis; rates are the share "
           "of units returned.")
VIEWS = [("By journey", "journey", "A view by journey", "a journey, campaign or landing-page column"),
         ("By channel", "channel", "A view by channel", "a channel or source column"),
         ("First vs repeat customers", "customer_type", "First vs repeat customers", "a customer id column")]
VIEWS.sort(key=lambda v: not ctx.prepared.has(v[1]))  # views with data first, so the page opens on one
tabs = st.tabs([v[0] for v in VIEWS])
for tab, (_, dim, what, cols) in zip(tabs, VIEWS):
    with tab:
        if not ctx.prepared.has(dim):
            ui.missing(what, cols)
            continue
        if ui.dimension_view(ctx, dim, key=f"jr_{dim}") is None:
            st.info("Nothing to compare for this view with the current filters.")
