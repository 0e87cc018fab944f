"""Collections: which collections return more than the rest, and why; drill down to products, sizes and reasons."""

import re

import pandas as pd
import streamlit as st

from analysis.dimension_view import simpson_flips
from analysis.prepare import Prepared
from analysis.reasons import reason_mix
from analysis.segments import segment_table
from dashboard import reasons_ui as R
from dashboard import context, errors
from dashboard import formatting as fmt
from dashboard import segment_views
from dashboard.memo import chart


def _drill(prepared: Prepared, dimension: str, collection: str, cost: float) -> pd.DataFrame:
    return segment_table(prepared, dimension, within=("collection", collection), cost_per_return=cost)


ctx = context.require_data()
st.title("Collections")
if not ctx.prepared.has("collection"):
    errors.missing(
        "A view by collection", "a collection column in the orders file (or upload a catalog with sku and collection)"
    )
    st.stop()

d = segment_views.dimension_view(ctx, "collection", key="col")

flips = simpson_flips(ctx.segment_analysis.simpson, "collection")
if flips is not None:
    k = len(flips)
    title = (
        "Mix check: no collection looks different once how it is bought is allowed for"
        if not k
        else f"Mix check: {k} collection{'s' if k != 1 else ''} look{'s' if k == 1 else ''} different once how "
        f"{'it is' if k == 1 else 'they are'} bought is allowed for"
    )
    with st.expander(title, expanded=bool(k)):
        st.caption(
            "Each collection is compared with the rest of the business twice: overall, and within each kind "
            "of order (customer intent) and each channel. Where the two disagree, the difference comes from "
            "how the collection is bought, not from the collection itself."
        )
        if flips.empty:
            st.success("No collection's verdict changes when intent and channel mix are allowed for.")
        for text in flips["explanation"]:
            # plain words here; the test statistics are listed under "How this was decided"
            st.markdown(f"- {fmt.md(re.sub(r' [(]Mantel-Haenszel odds ratio [^)]*[)]', '', str(text)))}")
        if k:
            st.markdown("**How this was decided**")
            st.caption(
                "Cochran-Mantel-Haenszel test within intents and channels (two-sided 5%), on counts adjusted "
                "for items of one order coming back together; the odds ratio and p-value of each:"
            )
            st.dataframe(
                flips[["segment", "stratifier", "crude_verdict", "adjusted_verdict", "mh_odds_ratio", "cmh_p"]],
                hide_index=True,
                key="col_mix_method",
                column_config={
                    "segment": "Collection",
                    "stratifier": "Allowed for",
                    "crude_verdict": "Overall",
                    "adjusted_verdict": "Within each",
                    "mh_odds_ratio": st.column_config.NumberColumn("Odds ratio", format="%.2f"),
                    "cmh_p": st.column_config.NumberColumn("p-value", format="%.2g"),
                },
            )

st.subheader("Drill down")
names = list(d["segment"]) if d is not None else []
choice = st.selectbox("Collection", names, key="col_drill")
if choice:
    cost = ctx.segment_analysis.cost_per_return
    has_size = ctx.prepared.has("size")
    if not has_size:  # the products take the page's width (a half-width table cut its rate columns off)
        errors.missing("A view by size", "a size or variant column")
    c1, c2 = st.columns(2) if has_size else (st.container(), st.container())
    with c1:
        prods = ctx.cached("seg_products_in", _drill, "product", choice, cost)
        st.markdown(
            f"**Products in {fmt.md(choice)}** (compared with the rest of the collection; verdicts and q "
            "within this drill-down - the fix list compares products with the rest of their category)"
        )
        if prods is None or prods.empty:
            st.info("No products to compare.")
        else:
            if len(prods) == 1:  # its comparison rate is empty: there is no rest of the collection
                st.caption(
                    f"{fmt.md(choice)} has one product: there is nothing in the collection to compare it with "
                    "(no comparison rate); the fix list compares it with the rest of its category."
                )
            segment_views.segment_table(prods, "product", key="col_prod_table")
    if has_size:
        with c2:
            sizes = ctx.cached("seg_sizes_in", _drill, "size", choice, cost)
            st.markdown(f"**Sizes in {fmt.md(choice)}**")
            if sizes is None or sizes.empty:
                st.info("No sizes to compare.")
            else:
                segment_views.segment_table(sizes, "size", key="col_size_table")
    mix = ctx.cached("reason_mix_coll", lambda p, c: reason_mix(p, "collection", c), choice)
    if mix.message or mix.table.empty:
        st.info(mix.message or "No return reasons to show.", icon=":material/info:")
    else:
        chart(
            "col_reasons",
            R.mix_chart,
            mix,
            title=f"Why {fmt.plot_text(choice)} is returned: share of returned units by reason",
        )
        st.caption(f"Preventable by guidance: {fmt.pct(mix.preventable_share)} of its returned units.")
