"""Fix list: where avoidable returns cost the most, why, and what to do - plain words first, method behind an expander."""

import math

import pandas as pd
import streamlit as st

from analysis.export import fixlist_csv, fixlist_xlsx
from analysis.fixlist import dropped_sentences
from analysis.prepare import DIMENSION_LABELS
from dashboard import session as S
from dashboard import context
from dashboard import formatting as fmt
from dashboard import sidebar
from dashboard.downloads import brief_for, export_extra_sheets

ctx = context.require_data()
st.title("Fix list")
an = ctx.analysis
fl = an.fix_list
currency = str(st.session_state.get(S.S_CURRENCY) or "")

sheets = export_extra_sheets(ctx)
if len(getattr(an, "addressed", ())):
    sheets["Taken off by a change"] = an.addressed[["label", "change_start", "change_description", "sentence"]].rename(
        columns={
            "label": "Segment",
            "change_start": "Change since",
            "change_description": "Change",
            "sentence": "Since the change",
        }
    )
d1, d2, _ = st.columns([1, 1, 2])
d1.download_button(
    "Fix list workbook (Excel)",
    lambda: fixlist_xlsx(an, sheets, currency=currency),  # written on the click, not on every rerun (0.45 s)
    file_name="fix-list.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="fx_dl_xlsx",
    type="primary",
    icon=":material/download:",
    width="stretch",
)
d2.download_button(
    "Fix list (CSV)",
    fixlist_csv(an),
    file_name="fix-list.csv",
    mime="text/csv",
    key="fx_dl_csv",
    icon=":material/download:",
    width="stretch",
)

st.caption(
    "What to work on first: the segments that return clearly more than comparable items, ranked by what "
    f'the extra returns cost at {sidebar.money(an.cost_per_return)} per return. "At least" is the cost we are '
    "95% sure of."
)


def _when(v: object) -> str:
    ts = pd.to_datetime(v, errors="coerce")
    return "" if pd.isna(ts) else f"{ts:%d %b %Y}"


addressed = getattr(an, "addressed", None)
dropped = getattr(an, "dropped", None)
if fl.empty and dropped is not None and len(dropped):
    # the pages colour these segments 'clearly higher': the list says why none is on it
    st.info("Nothing is on the fix list: the segments that return clearly more are left off, for the reasons below.")
elif fl.empty:
    st.success("No segment returns clearly more than comparable items once chance is allowed for. Nothing to fix yet.")
else:
    dims = sorted(fl["dimension"].unique())
    c1, c2 = st.columns([2, 1])
    chosen = c1.multiselect("Show", dims, default=dims, format_func=lambda d: DIMENSION_LABELS.get(d, d), key="fx_dims")
    top_n = c2.number_input("Show top", min_value=1, max_value=max(1, len(fl)), value=min(20, len(fl)), key="fx_top")
    view = fl[fl["dimension"].isin(chosen)].head(int(top_n)).copy()
    view["Segment"] = [fmt.seg_label(d, s) for d, s in zip(view["dimension"], view["segment"])]
    for _, r in view.iterrows():
        with st.container(border=True):
            at_least = float(r["conservative_excess_cost"])
            extra = "extra refunds" if an.totals.get("outcome") == "order_refund" else "extra returns"
            cost = (  # a cost, said so: "at least 11,621 in extra returns" read as 11,621 returns
                f"{extra} cost at least **{sidebar.money(at_least)}**"
                if at_least > 0
                else f"{extra} cost about {sidebar.money(float(r['excess_cost']))}, though it could be less"
            )
            st.markdown(
                f"**{int(r['rank'])}. {fmt.md(r['Segment'])}** · "
                f"{fmt.md(DIMENSION_LABELS.get(r['dimension'], r['dimension']).lower())} · "
                f"{cost} · returns clearly more than comparable items"
            )
            st.markdown(f"**Why:** {fmt.md(r['why'])}  \n**Suggested action:** {fmt.md(r['suggested_action'])}")
            start = r.get("change_start")
            if start is not None and not (isinstance(start, float) and math.isnan(start)) and pd.notna(start):
                desc = str(r.get("change_description") or "a change")
                st.caption(
                    f"Change logged since {_when(start)}: {fmt.md(desc)}. Judged on the orders placed since "
                    "then; see Interventions for its before/after."
                )

if addressed is not None and len(addressed):
    st.subheader("Taken off the list by a logged change")
    for _, a in addressed.iterrows():
        text = f"- {fmt.md(a['sentence'])}"
        if isinstance(a.get("intervention_verdict"), str) and a["intervention_verdict"]:
            text += f"  \n  Interventions: {fmt.md(a['intervention_verdict'])}"
        st.markdown(text)

if dropped is not None and len(dropped):
    with st.expander(f"Not listed although higher than the rest ({len(dropped)})", expanded=fl.empty):
        for sentence in dropped_sentences(dropped):
            st.markdown(f"- {fmt.md(sentence)}")

if not fl.empty:
    st.subheader("Guidance brief")
    pick = st.selectbox(
        "Open the brief for",
        list(view.index),
        key="fx_brief_pick",
        format_func=lambda i: f"{int(view.loc[i, 'rank'])}. {view.loc[i, 'Segment']}",
    )
    if pick is not None:
        md_text, html_text = brief_for(ctx, view.loc[pick])
        if md_text:
            b1, b2, _ = st.columns([1, 1, 2])
            b1.download_button(
                "Brief as Markdown",
                md_text.encode("utf-8"),
                file_name=f"brief-{int(view.loc[pick, 'rank'])}.md",
                mime="text/markdown",
                key="fx_brief_md",
                width="stretch",
            )
            b2.download_button(
                "Brief as printable HTML",
                html_text.encode("utf-8"),
                file_name=f"brief-{int(view.loc[pick, 'rank'])}.html",
                mime="text/html",
                key="fx_brief_html",
                width="stretch",
            )
            with st.container(border=True):
                # the brief's headings sit below the page's own (h1 -> h3 ...)
                st.markdown("\n".join(("##" + ln) if ln.startswith("#") else ln for ln in md_text.splitlines()))

    with st.expander("How this was decided"):
        st.markdown(
            "Each collection, product and size is compared with the rest of its category (or with the rest of the "
            "business when categories are unknown); customer intents, journeys and channels with the rest of the "
            "business; pairs of items with what each returns when bought without the other. Units of one order "
            "are returned together, so each comparison counts orders, not only units (a design effect). A segment "
            "is listed when the chance of a false alarm, allowing for every comparison made, is below 10% "
            "(false-discovery rate, shown as q) and at least 5 orders returned its items. Excess cost uses a rate "
            'pulled toward comparable items for small segments; "at least" uses the lower end of the 95% '
            "interval. A segment that is only a slice of one ranked above it is not listed twice; a channel, "
            "intent, journey or other order attribute that returns about what its products return outside it "
            "(product mix, one-sided 5% test) is not listed; and a segment "
            "with a logged change is judged on the orders placed since the change."
        )
        num = view[
            [
                "rank",
                "Segment",
                "return_rate",
                "ci_low",
                "ci_high",
                "baseline_rate",
                "excess_returns",
                "excess_cost",
                "conservative_excess_cost",
                "q_value",
            ]
        ].copy()
        num["95% interval"] = [f"{lo:.1%} – {hi:.1%}" for lo, hi in zip(num["ci_low"], num["ci_high"])]
        num = num.drop(columns=["ci_low", "ci_high"])
        for c in ("return_rate", "baseline_rate"):
            num[c] = (100 * num[c].astype("float64")).round(1)
        for c in ("excess_returns", "excess_cost", "conservative_excess_cost"):
            num[c] = num[c].astype("float64").round(0)
        st.dataframe(
            num,
            hide_index=True,
            key="fx_table",
            column_config={
                "rank": st.column_config.NumberColumn("#", width="small", format="%d"),
                "return_rate": st.column_config.NumberColumn("Return rate", format="%.1f%%"),
                "baseline_rate": st.column_config.NumberColumn("Comparison rate", format="%.1f%%"),
                "excess_returns": st.column_config.NumberColumn("Extra returns", format="localized"),
                "excess_cost": st.column_config.NumberColumn(f"Extra cost {currency}".strip(), format="localized"),
                "conservative_excess_cost": st.column_config.NumberColumn(
                    f"At least {currency}".strip(), format="localized"
                ),
                "q_value": st.column_config.NumberColumn("q (false-discovery)", format="%.4f"),
            },
        )
