"""Journeys: the same view by journey (campaign, landing collection) and by channel."""
import streamlit as st

from dashboard import ui

ctx = ui.require_data()
st.title("Journeys and channels")
st.caption("Journey and channel belong to the whole order, so orders are the unit of analysis; rates are the share "
           "of units returned.")
tabs = st.tabs(["By journey", "By channel", "First vs repeat customers"])
for tab, dim, what, cols in ((tabs[0], "journey", "A view by journey", "a journey, campaign or landing-page column"),
                             (tabs[1], "channel", "A view by channel", "a channel or source column"),
                             (tabs[2], "customer_type", "First vs repeat customers", "a customer id column")):
    with tab:
        if not ctx.prepared.has(dim):
            ui.missing(what, cols)
            continue
        if ui.dimension_view(ctx, dim, key=f"jr_{dim}") is None:
            st.info("Nothing to compare for this view with the current filters.")
