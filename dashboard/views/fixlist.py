"""Fix list: where avoidable returns cost the most, why, and what to do - downloadable for the meeting."""
import pandas as pd
import streamlit as st

from analysis.export import fixlist_csv, fixlist_xlsx
from analysis.prepare import DIMENSION_LABELS
from dashboard import ui
from dashboard.extras import brief_for, export_extra_sheets, interventions_frame

ctx = ui.require_data()
st.title("Fix list")
an = ctx.analysis
fl = an.fix_list
st.caption(f"Segments that return significantly more than the rest (false-discovery rate 10%), ranked by shrunk excess "
           f"cost at {ui.money(an.cost_per_return)} per return. A segment that is only a slice of one ranked above it "
           "is not listed twice.")

if fl.empty:
    st.success("No segment returns significantly more than the rest once chance is allowed for. Nothing to fix yet.")
else:
    dims = sorted(fl["dimension"].unique())
    c1, c2 = st.columns([2, 1])
    chosen = c1.multiselect("Dimensions", dims, default=dims, format_func=lambda d: DIMENSION_LABELS.get(d, d),
                            key="fx_dims")
    top_n = c2.number_input("Show top", min_value=1, max_value=max(1, len(fl)), value=min(20, len(fl)), key="fx_top")
    view = fl[fl["dimension"].isin(chosen)].head(int(top_n)).copy()
    view["Segment"] = [ui.seg_label(d, s) for d, s in zip(view["dimension"], view["segment"])]
    view["Dimension"] = view["dimension"].map(lambda d: DIMENSION_LABELS.get(d, d))
    for c in ("excess_cost", "conservative_excess_cost", "excess_returns"):
        if c in view:
            view[c] = view[c].astype("float64").round(0)
    logged = interventions_frame(ctx)
    since = {(str(d), str(sg)): pd.Timestamp(t) for d, sg, t in
             zip(logged["dimension"], logged["segment"], pd.to_datetime(logged["start_date"], errors="coerce"))
             if pd.notna(t)}
    view["Change logged"] = [f"since {since[(d, sg)]:%d %b %Y}" if (d, sg) in since else ""
                             for d, sg in zip(view["dimension"].astype(str), view["segment"].astype(str))]
    view["95% interval"] = [f"{lo:.1%} – {hi:.1%}" for lo, hi in zip(view["ci_low"], view["ci_high"])]
    cols = ["rank", "Dimension", "Segment", "return_rate", "95% interval", "baseline_rate", "excess_returns", "excess_cost",
            "conservative_excess_cost", "q_value", "Change logged", "why", "suggested_action"]
    cols = [c for c in cols if c in view.columns]
    st.dataframe(view[cols], hide_index=True, key="fx_table", column_config={
        "rank": st.column_config.NumberColumn("#", width="small"),
        "return_rate": st.column_config.NumberColumn("Return rate", format="percent"),
        "baseline_rate": st.column_config.NumberColumn("Comparison rate", format="percent",
                                                       help="Rate of the comparison group (rest of its category, "
                                                            "rest of the business, or the pair's parts bought apart)"),
        "excess_returns": st.column_config.NumberColumn("Excess returns", format="%.0f"),
        "excess_cost": st.column_config.NumberColumn("Excess cost", format="localized"),
        "conservative_excess_cost": st.column_config.NumberColumn("At least", format="localized",
                                                                  help="Conservative excess cost (one-sided 95% lower bound)"),
        "q_value": st.column_config.NumberColumn("q (FDR)", format="%.4f"),
        "Change logged": st.column_config.TextColumn(
            "Change logged", help="A guidance change is logged for this segment: see Interventions for whether it "
                                  "worked. The rates here include the orders before it."),
        "why": st.column_config.TextColumn("Why", width="large"),
        "suggested_action": st.column_config.TextColumn("Suggested action", width="medium"),
    })

    st.subheader("Guidance brief")
    pick = st.selectbox("Open the brief for", list(view.index), key="fx_brief_pick",
                        format_func=lambda i: f"{int(view.loc[i, 'rank'])}. {view.loc[i, 'Segment']}")
    if pick is not None:
        md_text, html_text = brief_for(ctx, view.loc[pick])
        if md_text:
            with st.container(border=True):
                st.markdown(md_text)
            b1, b2 = st.columns(2)
            b1.download_button("Brief as Markdown", md_text.encode("utf-8"), file_name=f"brief-{int(view.loc[pick, 'rank'])}.md",
                               mime="text/markdown", key="fx_brief_md")
            b2.download_button("Brief as printable HTML", html_text.encode("utf-8"),
                               file_name=f"brief-{int(view.loc[pick, 'rank'])}.html", mime="text/html", key="fx_brief_html")

st.subheader("Download")
d1, d2 = st.columns(2)
d1.download_button("Fix list workbook (Excel)", fixlist_xlsx(an, export_extra_sheets(ctx)), file_name="fix-list.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="fx_dl_xlsx",
                   type="primary", icon=":material/download:")
d2.download_button("Fix list (CSV)", fixlist_csv(an), file_name="fix-list.csv", mime="text/csv", key="fx_dl_csv",
                   icon=":material/download:")
