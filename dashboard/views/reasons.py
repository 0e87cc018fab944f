"""Reasons & outcomes: why customers return, which returns were saved, what they exchange into, what pairs
well, customers' own words, and the editor that corrects how raw reasons were classified."""

import pandas as pd
import streamlit as st

from analysis.prepare import Prepared
from analysis.reasons import (
    complete_the_set,
    example_comments,
    exchange_targets,
    exchanged_units,
    kind_summary,
    mapping_counts,
    missing_message,
    outcome_shares,
    over_represented,
    product_targets,
    products_by_exchanges,
    reason_mix,
    reasons_vs_rest,
    resolution_by_segment,
    return_dimensions,
    segment_vs_rest,
    segments_by_returned_units,
    stays_within_product,
    targets_in_segment,
)
from data.reasons import GROUP_LABELS, category_label
from dashboard import charts, context, errors, sidebar
from dashboard import formatting as fmt
from dashboard import reasons_ui as R
from dashboard.memo import chart, figure, result


def _pairs(prepared: Prepared, dimension: str, segment: str, by: str) -> pd.DataFrame:
    return complete_the_set(prepared, dimension, segment, by=by)


def _all_targets(prepared: Prepared) -> pd.DataFrame:
    return exchange_targets(prepared, None, top=None)


def _clear_overrides() -> None:
    st.session_state[R.OVERRIDES_KEY] = {}
    st.session_state.pop("rs_map_editor", None)


ctx = context.require_data()
p = ctx.prepared
st.title("Reasons & outcomes")
st.caption(
    "Why customers send things back, which returns were kept as an exchange or store credit, and what to "
    "offer earlier. Shares are of returned units of returns matched to an order, whatever the order's age: "
    "they describe why things come back, not how often."
)

# ---------------------------------------------------------------- scope
dims = return_dimensions(p)
c1, c2 = st.columns(2)
dimension = c1.selectbox(
    "Break down by",
    dims,
    index=dims.index("collection") if "collection" in dims else 0,
    format_func=R.dim_label,
    key="rs_dim",
)
segments = segments_by_returned_units(p.returns, dimension)
segment = c2.selectbox(
    R.dim_label(dimension),
    [None, *segments],
    key="rs_seg",
    format_func=lambda v: "All returns" if v is None else fmt.seg_label(dimension, v),
    help="Segments with at least one return, most returned units first.",
)
scope = R.scope_name(dimension, segment)
scope_dim = dimension if segment is not None else None
dim_lower = R.dim_label(dimension).lower()

# ---------------------------------------------------------------- why customers return
st.subheader("Why customers return")
reason_msg = missing_message(p, "reason")
mix = None
if reason_msg:
    st.info(reason_msg, icon=":material/info:")
else:
    with R.guarded("breaking returns down by reason"):
        mix = ctx.cached("rs_mix", reason_mix, scope_dim, segment)
        if mix.message:
            st.info(fmt.md(mix.message), icon=":material/info:")
            mix = None
    if mix is not None:
        with R.guarded("showing the reason mix"):
            m = st.columns(3)
            m[0].metric("Returned units", fmt.num(mix.units), help=f"Returned units of {scope}, with any reason.")
            m[1].metric(
                "Preventable: units",
                fmt.pct(mix.preventable_share),
                help="Share of returned units whose reason guidance could prevent (size, fit, photos and "
                f"copy, setup). Among units with a usable reason: {fmt.pct(mix.preventable_share_known)}.",
            )
            m[2].metric(
                "Preventable: value",
                fmt.pct(mix.preventable_value_share),
                help="Refunded value (or price where no refund is recorded) of those units, "
                "as a share of all returned value.",
            )
            top = mix.shares()
            if mix.dominant:
                line = (
                    f"Top reason: **{category_label(mix.dominant)}** "
                    f"({fmt.pct(top.get(mix.dominant))} of returned units)"
                )
                if mix.dominant_preventable and mix.dominant_preventable != mix.dominant:
                    line += (
                        f"; top preventable reason: **{category_label(mix.dominant_preventable)}** "
                        f"({fmt.pct(top.get(mix.dominant_preventable))})"
                    )
                st.markdown(line + ".")
            vs = ctx.cached("rs_vs_rest", reasons_vs_rest, dimension)
            seg_rows = segment_vs_rest(vs, segment)
            if not seg_rows.empty:
                fig = figure(
                    charts.vs_rest_chart,
                    seg_rows,
                    segment_name=fmt.plot_text(scope),
                    rest_name=f"Rest (other {dim_lower} segments)",
                    title=f"Why {fmt.plot_text(scope)} is returned, against the rest: "
                    f"share of returned units by reason",
                )
            else:
                fig = figure(
                    charts.mix_chart,
                    mix,
                    title=f"Why returns come back ({fmt.plot_text(scope)}): share of "
                    f"{fmt.num(mix.units)} returned units by reason",
                )
            st.plotly_chart(fig, key="rs_mix_chart")
            st.caption(
                "Colours say who can act: " + " · ".join(GROUP_LABELS.values()) + ". "
                "Preventable reasons are the ones better sizing advice, truthful photos and copy, or setup "
                "help can reduce."
            )

            st.markdown("**Which reasons stand out against the rest**")
            if vs.empty:
                st.info(fmt.md(vs.attrs.get("message", "Not enough segments to compare.")), icon=":material/info:")
            else:
                sentences = R.over_represented_sentences(vs, dimension, segment)
                if sentences:
                    for s in sentences:
                        st.markdown(f"- {s}")
                elif segment is not None:
                    st.markdown(
                        f"No reason is over-represented in {fmt.md(scope)} beyond chance: its returns come "
                        "back for the same reasons as the rest."
                    )
                else:
                    st.markdown(f"No {fmt.md(dim_lower)} segment has a reason that is over-represented beyond chance.")
                st.caption(
                    f"Each {fmt.md(dim_lower)} segment's share of returned units with a reason is compared with "
                    "the same share among all other returns (one-sided two-proportion test, Fisher exact for "
                    "small counts), with false-discovery control at 10% across every segment and reason of "
                    "this breakdown (q ≤ 0.10). The units one order sends back usually share a reason, so the "
                    "counts are Rao-Scott effective counts clustered by order (on null data 12% of simulated "
                    "datasets show a reason standing out, against 76% counting units as independent)."
                )
                sig = over_represented(vs, q=charts.Q_LEVEL)
                with st.expander(f"All over-represented reasons by {fmt.md(dim_lower)} ({len(sig)})"):
                    t = sig.assign(Segment=[fmt.seg_label(dimension, s) for s in sig["segment"]])
                    st.dataframe(
                        t[["Segment", "label", "returned", "segment_returned", "share", "rest_share", "q_value"]],
                        hide_index=True,
                        key="rs_vs_table",
                        width="stretch",
                        column_config={
                            "label": st.column_config.TextColumn("Reason"),
                            "returned": st.column_config.NumberColumn("Units with reason", format="localized"),
                            "segment_returned": st.column_config.NumberColumn(
                                "Segment's returned units", format="localized"
                            ),
                            "share": st.column_config.NumberColumn(
                                "Share in segment", format="percent", step=fmt.PCT_STEP
                            ),
                            "rest_share": st.column_config.NumberColumn(
                                "Share in rest", format="percent", step=fmt.PCT_STEP
                            ),
                            "q_value": st.column_config.NumberColumn("q (FDR)", format="%.4f"),
                        },
                    )

# ---------------------------------------------------------------- resolutions
st.subheader("Refund, exchange or store credit")
res_msg = missing_message(p, "resolution")
if res_msg:
    st.info(res_msg, icon=":material/info:")
else:
    with R.guarded("breaking returns down by outcome"):
        res = ctx.cached("rs_resolution", resolution_by_segment, dimension)
        if res.empty:
            st.info(fmt.md(res.attrs.get("message", "No returns to break down.")), icon=":material/info:")
        else:
            shares = outcome_shares(res, segment)
            outcome_cols = st.columns(4)
            outcome_cols[0].metric(
                "Refunded",
                fmt.pct(shares["refund"]),
                help=f"Share of returned units of {scope} resolved as a refund, exchange or store credit that were "
                "refunded (outcome text no rule recognises is left out, as in the headline).",
            )
            outcome_cols[1].metric("Exchanged", fmt.pct(shares["exchange"]))
            outcome_cols[2].metric("Store credit", fmt.pct(shares["store_credit"]))
            outcome_cols[3].metric(
                "Saved revenue",
                sidebar.money(shares["saved_revenue"]),
                help="Value of returned units resolved as an exchange or store credit: the sale stayed "
                f"with the shop. Refunded value: {sidebar.money(shares['refunded_value'])}.",
            )
            chart(
                "rs_resolution_chart",
                charts.resolution_chart,
                res,
                dimension,
                title=f"How returns were resolved, by {dim_lower} (largest 20 by returned units)",
            )
            st.markdown("**Refunds dominate although an exchange was plausible**")
            if reason_msg:
                st.caption("Needs return reasons (size and fit) to be mapped.")
            else:
                plaus = R.plausible_exchange_sentences(res, dimension)
                if plaus:
                    for s in plaus:
                        st.markdown(f"- {s}")
                    st.caption(
                        "A size exchange would plausibly have kept these sales: offer the other size first in "
                        "the returns portal. Shown where at least 5 units came back for size or fit and at "
                        "least half of them were refunded."
                    )
                else:
                    st.markdown(f"No {fmt.md(dim_lower)} segment refunds most of its size-related returns.")

# ---------------------------------------------------------------- exchange targets
st.subheader("What customers exchange into")
ex_msg = missing_message(p, "exchange")
if ex_msg:
    st.info(ex_msg, icon=":material/info:")
else:
    with R.guarded("finding exchange targets"):
        targets = ctx.cached("rs_ex_targets", _all_targets)
        if targets.empty:
            st.info(fmt.md(targets.attrs.get("message", "No returns were exchanged.")), icon=":material/info:")
        else:
            targets = targets_in_segment(targets, p.returns, dimension, segment)
            if targets.empty:
                st.info(f"No returns of {fmt.md(scope)} were exchanged.", icon=":material/info:")
            else:
                chart(
                    "rs_ex_kinds",
                    charts.exchange_kind_chart,
                    result(kind_summary, targets),
                    title=f"Exchanges of {fmt.plot_text(scope)}, by kind "
                    f"({fmt.num(exchanged_units(targets))} exchanged units)",
                )
                product = st.selectbox(
                    "Product",
                    products_by_exchanges(targets),
                    key="rs_ex_product",
                    help="Products with exchanges, most exchanged units first.",
                )
                pt = product_targets(targets, product)
                sentence = R.exchange_sentence(product, kind_summary(pt), pt)
                if sentence:
                    st.markdown(sentence)
                cols = ["size", "exchange_sku", "target_product", "target_size", "kind_label", "exchanges", "share"]
                if stays_within_product(pt, product):
                    cols.remove("target_product")  # every exchange stays within the product: the column says nothing
                st.dataframe(
                    pt.head(10)[cols],
                    hide_index=True,
                    key="rs_ex_table",
                    width="stretch",
                    column_config={
                        "size": st.column_config.TextColumn("Returned size"),
                        "exchange_sku": st.column_config.TextColumn("Exchanged into (SKU)"),
                        "target_product": st.column_config.TextColumn("Target product"),
                        "target_size": st.column_config.TextColumn("Target size"),
                        "kind_label": st.column_config.TextColumn("Kind"),
                        "exchanges": st.column_config.NumberColumn("Units", format="localized"),
                        "share": st.column_config.NumberColumn(
                            "Share of product's exchanges", format="percent", step=fmt.PCT_STEP
                        ),
                    },
                )
                st.caption(
                    "Size up / down compares orderable sizes (XS < S < M …, or numbers) of the same product; "
                    "same size in another SKU of the product counts as another colour or variant."
                )

# ---------------------------------------------------------------- complete the set
st.subheader("Pairs well with")
by_options = [b for b in ("collection", "category", "product") if p.has(b)]
if segment is None:
    st.info(
        f"Pick a {fmt.md(dim_lower)} segment above to see which items, bought in the same order as its items, go "
        'with fewer returns of them (candidates for "pairs well with" suggestions).',
        icon=":material/info:",
    )
elif not by_options:
    errors.missing("Pairs well with", "a collection, category or product name column in the orders file")
else:
    with R.guarded("looking for items that pair well"):
        by = st.selectbox("Companions by", by_options, format_func=R.dim_label, key="rs_set_by")
        pairs = ctx.cached("rs_pairs", _pairs, dimension, str(segment), by)
        if pairs.empty:
            st.info(
                fmt.md(pairs.attrs.get("message", "No companion items with enough support.")), icon=":material/info:"
            )
        else:
            sentences = R.pairs_sentences(pairs, scope)
            for s in sentences:
                st.markdown(f"- {s}")
            if not sentences:
                st.markdown(
                    f"No {fmt.md(R.dim_label(by).lower())} bought with {fmt.md(scope)} goes with clearly fewer "
                    "returns of its items (q ≤ 0.10)."
                )
            chart(
                "rs_pairs_chart",
                charts.pairs_chart,
                pairs,
                title=f"Return rate of {fmt.plot_text(scope)} items with vs without "
                f"each {R.dim_label(by).lower()} in the same order",
            )
            st.caption(
                "Matured orders only. Candidates need at least 30 orders together and 5 expected returns; "
                "one-sided two-proportion test with false-discovery control at 10%. Green bars pair well. "
                "Buying together is a correlation: test a suggestion before relying on it."
            )

# ---------------------------------------------------------------- comments
st.subheader("In customers' own words")
com_msg = missing_message(p, "comment")
if com_msg:
    st.info(com_msg, icon=":material/info:")
else:
    with R.guarded("picking example comments"):
        cats = [] if mix is None else mix.comment_categories()
        cat = st.selectbox(
            "Reason",
            [None, *cats],
            key="rs_comment_reason",
            format_func=lambda c: "All reasons" if c is None else category_label(c),
        )
        comments = ctx.cached("rs_comments", example_comments, scope_dim, segment, cat, 6)
        if not comments:
            st.info("No comments for this choice.", icon=":material/info:")
        if comments:
            with st.container(border=True):
                for c in comments:
                    st.text(f"“{c}”")
        st.caption(
            f"Up to six distinct comments from returns of {fmt.md(scope)}, most recent first, shown as plain text."
        )

# ---------------------------------------------------------------- reason mapping
with st.expander("Reason mapping: how each raw reason was classified"):
    full = ctx.full
    if not full.has("returns.reason"):
        errors.missing("The reason mapping", "the 'reason' column of your returns file")
    else:
        with R.guarded("building the reason mapping"):
            overrides, bad = R.valid_overrides(R.current_overrides())
            if bad:
                st.warning(
                    f"{len(bad)} saved correction(s) name an unknown category and were removed: "
                    f"{fmt.md('; '.join(bad[:5]))}."
                )
            base = R.mapping_table(ctx.spec, full.window_days, (), full.returns)
            shown = R.mapping_table(ctx.spec, full.window_days, tuple(sorted(overrides.items())), full.returns)
            n_reasons, n_matched, _ = mapping_counts(base, overrides)
            st.markdown(
                f"{fmt.num(n_reasons)} distinct raw reasons in {fmt.num(n_matched)} matched "
                "returns (all dates and filters). Change a **Category** to correct the automatic mapping."
            )
            edited = st.data_editor(
                R.editor_frame(shown),
                key="rs_map_editor",
                num_rows="fixed",
                column_config=R.EDITOR_COLUMNS,
                width="stretch",
                height=420,
                column_order=R.EDITOR_ORDER,
            )
            new = R.derive_overrides(base, edited.reset_index(drop=True), overrides)
            if new != overrides or bad:
                st.session_state[R.OVERRIDES_KEY] = new
            n_ov = mapping_counts(base, new)[2]
            st.caption(
                f"{n_ov} correction(s) in this dataset. Corrections are kept in this browser session and are "
                "saved with the mapping preset on the Upload & map page. Empty reasons cannot be corrected "
                "(there is no text to match); their rows show how many were classified by the comment instead."
            )
            st.button("Clear all corrections", key="rs_map_clear", on_click=_clear_overrides, disabled=not new)
