"""Combinations: pairs bought together that return more than their parts would suggest."""

import streamlit as st

from analysis.fixlist import pairs_in_list_family, suggested_action
from analysis.pair_grid import pair_grid, pairs_at_level, pairs_returning_more, pairs_past_gate
from analysis.pairs import pair_table
from dashboard import charts, context, errors
from dashboard import formatting as fmt
from dashboard.memo import chart, result

ctx = context.require_data()
st.title("Items bought together")
st.caption(
    "A pair is judged on the orders that contain both: does the pair return more than its two parts would on "
    "their own (interaction on the order level, adjusted for basket size)? Pairs need at least 30 orders "
    "together and 5 expected returns before they are tested; their q-values are the fix list's: one "
    "false-discovery family over every segment and pair that can be listed (10%)."
)

levels = [lv for lv in ("collection", "product") if ctx.prepared.has(lv)]
level = st.segmented_control(
    "Pairs of",
    levels,
    default=levels[0] if levels else None,
    key="cb_level",
    format_func=lambda s: {"collection": "Collections", "product": "Products"}[s],
)
if not level:
    errors.missing("Pairs", "a collection column (or a catalog file)")
    st.stop()
an = ctx.segment_analysis  # no fix list here: the analysis before the list is ranked
pairs = pairs_at_level(an.pairs, level)
if pairs is None:
    # the same list-wide q as the fix list's pairs (one q per segment, every page)
    pairs = ctx.cached(
        "pairs_level",
        lambda p, lv, cost, q: pairs_in_list_family(
            an.segments, pair_table(p, lv, cost_per_return=cost), q=q, cost_per_return=cost, prepared=p
        ),
        level,
        an.cost_per_return,
        an.settings.q,
    )
if pairs.empty:
    st.info("No pairs were bought together often enough to compare.")
    st.stop()

gated = pairs_past_gate(pairs)
c = st.columns(3)
c[0].metric("Pairs seen together", fmt.num(len(pairs)))
c[1].metric("With enough volume to test", fmt.num(len(gated)))
worse = pairs_returning_more(gated)
c[2].metric("Return more than their parts", fmt.num(len(worse)))

# ---- heatmap of collection pairs: order return rate of orders containing both (gated pairs bold)
grid = result(pair_grid, pairs) if level == "collection" else None
if grid is not None:
    chart("cb_heatmap", charts.pair_heatmap, grid, "refunded" if ctx.prepared.outcome == "order_refund" else "returned")

st.subheader("Pairs that return more than their parts")
if worse.empty:
    st.success("No pair returns significantly more than its parts once basket size and chance are allowed for.")
else:
    show = worse.copy()
    show["What to do"] = [
        suggested_action({str(r): 1.0} if isinstance(r, str) else {}, float("nan"), "combination", s)
        for r, s in zip(show.get("top_reason", [None] * len(show)), show["segment"])
    ]
    cols = [
        c
        for c in [
            "segment",
            "orders",
            "support",
            "lift",
            "order_return_rate",
            "expected_order_rate",
            "return_rate",
            "interaction_log_or",
            "q_value",
            "excess_cost",
            "top_reason",
            "What to do",
        ]
        if c in show.columns
    ]
    st.dataframe(
        show[cols],
        hide_index=True,
        key="cb_worse",
        column_config={
            "segment": "Pair",
            "orders": st.column_config.NumberColumn("Orders together", format="localized"),
            "support": st.column_config.NumberColumn(
                "Support", format="percent", step=fmt.PCT_STEP, help="Share of all orders with both"
            ),
            "lift": st.column_config.NumberColumn(
                "Co-purchase lift", format="%.2f", help=">1: bought together more often than chance"
            ),
            "return_rate": st.column_config.NumberColumn("Units returned", format="percent", step=fmt.PCT_STEP),
            "order_return_rate": st.column_config.NumberColumn(
                "Orders with a return", format="percent", step=fmt.PCT_STEP
            ),
            "expected_order_rate": st.column_config.NumberColumn(
                "Expected from parts",
                format="percent",
                step=fmt.PCT_STEP,
                help="Orders with a return expected if the two items returned as they do when bought apart (same basket sizes)",
            ),
            "interaction_log_or": st.column_config.NumberColumn("Interaction (log OR)", format="%.2f"),
            "q_value": st.column_config.NumberColumn("q (FDR)", format="%.4f"),
            "excess_cost": st.column_config.NumberColumn("Excess cost", format="localized"),
            "top_reason": "Top reason",
        },
    )

with st.expander("All tested pairs"):
    cols = [
        c
        for c in ["segment", "orders", "support", "lift", "return_rate", "verdict", "p_value", "q_value"]
        if c in gated.columns
    ]
    st.dataframe(gated[cols], hide_index=True, key="cb_all")
