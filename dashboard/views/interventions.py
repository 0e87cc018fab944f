"""Interventions: log guidance changes (form, CSV import, edit, delete) and see whether each one reduced returns."""
import hashlib
from datetime import date

import pandas as pd
import streamlit as st

from analysis.interventions import Intervention, evaluate, partial_month
from analysis.prepare import DIMENSION_LABELS
from analysis.trends import segments_by_volume
from data.errors import AnalysisError, RIError
from data.state import KNOWN_DIMENSIONS
from dashboard import charts, context, errors
from dashboard import formatting as fmt
from dashboard.presets import import_interventions_csv, intervention_rows, interventions_frame, preset_store

FLASH = "iv_flash"
METHOD_WORDS = {"did": "difference-in-differences against comparison segments",
                "its": "segmented regression on the segment's own monthly trend",
                "before_after": "before/after only (descriptive)"}
PLURAL = {"collection": "collections", "category": "categories", "product": "products", "size": "sizes",
          "journey": "journeys", "channel": "channels", "intent": "intents", "customer_type": "customer types"}


def _evaluate(prepared, dimension, segment, start, description, comparison, reduction):
    return evaluate(prepared, Intervention(dimension, segment, start, description), comparison=list(comparison),
                    target_reduction=reduction)


def _done(message: str) -> None:
    """Remember a success message for the next run and rerun, so every list on the page shows the change."""
    st.session_state[FLASH] = message
    st.rerun()


def _label(dim: str) -> str:
    return DIMENSION_LABELS.get(dim, dim)


def _day(ts) -> str:
    return "an unreadable date" if pd.isna(ts) else f"{ts:%d %b %Y}"


def _describe(r) -> str:
    """One line naming an intervention (a row of the log)."""
    text = "" if pd.isna(r.description) else str(r.description)
    return (f"{fmt.seg_label(r.dimension, r.segment)} ({_label(r.dimension).lower()}) from {_day(r.start_date)}"
            + (f" – {text}" if text else ""))


ctx = context.require_data()
store = preset_store()
ws = ctx.spec.workspace
st.title("Interventions")
st.caption("Log the guidance changes you make (a fit video, a size chart, new photos) and see whether returns fell "
           "afterwards. Entries are saved on this server for this dataset and are still here after a refresh or restart.")
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")

log_df = interventions_frame(ctx).reset_index(drop=True)
for warning in store.take_warnings():  # a damaged log file was set aside
    st.warning(fmt.md(warning), icon=":material/warning:")
has_id = "id" in log_df.columns
log_df["source"] = ["saved" if has_id and pd.notna(i) and str(i) else "from file"
                    for i in (log_df["id"] if has_id else [None] * len(log_df))]
log_df["start_date"] = pd.to_datetime(log_df["start_date"], errors="coerce")
rows = intervention_rows(ctx) if len(log_df) else []
dims = [d for d in KNOWN_DIMENSIONS if ctx.full.has(d) and ctx.full.lines[d].notna().any()]

# ---------------------------------------------------------------- the log
st.subheader("Intervention log")
if log_df.empty:
    st.info("No interventions yet. Add one below, or import a CSV of past changes.")
else:
    view = pd.DataFrame({
        "Source": log_df["source"],
        "Dimension": log_df["dimension"].map(_label),
        "Segment": [fmt.seg_label(d, s) for d, s in zip(log_df["dimension"], log_df["segment"])],
        "Start date": log_df["start_date"],
        "Description": log_df["description"],
        "Before": [r.get("rate_before") for r in rows],
        "After": [r.get("rate_after") for r in rows],
        "Verdict": [r.get("verdict") for r in rows],
    })
    st.dataframe(view, hide_index=True, key="iv_log_table", column_config={
        "Start date": st.column_config.DateColumn("Start date", format="YYYY-MM-DD"),
        "Before": st.column_config.NumberColumn("Before", format="percent", help="Return rate before (descriptive)"),
        "After": st.column_config.NumberColumn("After", format="percent", help="Return rate after (descriptive)"),
        "Verdict": st.column_config.TextColumn("Verdict", width="large"),
    })
    st.caption("'from file' entries come from the interventions file loaded with the data; they are read-only here.")

# ---------------------------------------------------------------- add / import / edit
t_add, t_import, t_edit = st.tabs(["Add a change", "Import from CSV", "Edit or delete"])
with t_add:
    if not dims:
        errors.missing("Logging an intervention", "a collection, category, product, size, channel or journey column")
    else:
        add_dim = st.selectbox("Dimension", dims, index=dims.index("collection") if "collection" in dims else 0,
                               key="iv_add_dim", format_func=_label)
        with st.form("iv_add_form", clear_on_submit=True):
            c1, c2 = st.columns([2, 1])
            add_seg = c1.selectbox("Segment", segments_by_volume(ctx.full, add_dim), key=f"iv_add_seg_{add_dim}",
                                   format_func=lambda s: fmt.seg_label(add_dim, s))
            add_start = c2.date_input("Start date", value=min(date.today(), ctx.full.lines["order_date"].max().date()),
                                      key="iv_add_start",
                                      help="The day the change went live")
            add_desc = st.text_input("Description", key="iv_add_desc", max_chars=300,
                                     placeholder="e.g. Fit guide video and size advice on product pages")
            submitted = st.form_submit_button("Add intervention", key="iv_add_submit", type="primary")
        if submitted:
            try:
                store.add_intervention(ws, add_dim, add_seg, add_start, add_desc)
            except RIError as e:
                errors.show_error(e)
            else:
                _done(f"Added: {add_seg} from {add_start:%d %b %Y}.")

with t_import:
    st.markdown("A CSV with the columns **dimension**, **segment**, **start\\_date** (YYYY-MM-DD) and "
                "**description**. Rows already in the log are skipped; if any row is wrong, nothing is imported "
                "and every problem is listed.")
    up = st.file_uploader("Interventions CSV", type=["csv", "txt"], key="iv_import_file")
    if st.button("Import interventions", key="iv_import_btn", disabled=up is None, icon=":material/upload:"):
        try:
            added = import_interventions_csv(ws, up.name, up.getvalue())
        except RIError as e:
            errors.show_error(e)
        else:
            _done(f"Imported {added} intervention(s) from {up.name}." if added else
                  f"Nothing new in {up.name}: every row is already in the log.")

with t_edit:
    saved = log_df[log_df["source"] == "saved"]
    if saved.empty:
        st.info("No saved interventions to edit. Entries from the dataset's file are read-only: change the file, "
                "or add a corrected entry here.")
    else:
        names = {str(r.id): _describe(r) for r in saved.itertuples()}
        pick = st.selectbox("Intervention", list(names), format_func=lambda k: names.get(k, k), key="iv_edit_pick")
        cur = saved[saved["id"].astype(str) == pick].iloc[0]
        e_dim = st.selectbox("Dimension", dims, index=dims.index(cur["dimension"]) if cur["dimension"] in dims else 0,
                             key=f"iv_edit_dim_{pick}", format_func=_label)
        with st.form("iv_edit_form"):
            c1, c2 = st.columns([2, 1])
            opts = segments_by_volume(ctx.full, e_dim)
            if e_dim == cur["dimension"] and str(cur["segment"]) not in opts:
                opts = [str(cur["segment"])] + opts
            e_seg = c1.selectbox("Segment", opts, index=opts.index(str(cur["segment"])) if str(cur["segment"]) in opts else 0,
                                 key=f"iv_edit_seg_{pick}_{e_dim}", format_func=lambda s: fmt.seg_label(e_dim, s))
            e_start = c2.date_input("Start date", value=cur["start_date"].date(), key=f"iv_edit_start_{pick}")
            old_desc = "" if pd.isna(cur["description"]) else str(cur["description"])
            e_desc = st.text_input("Description", value=old_desc, key=f"iv_edit_desc_{pick}", max_chars=300)
            save = st.form_submit_button("Save changes", key="iv_edit_save", type="primary")
        if save:
            try:
                store.update_intervention(ws, pick, dimension=e_dim, segment=e_seg, start_date=e_start, description=e_desc)
            except RIError as e:
                errors.show_error(e)
            else:
                _done(f"Saved changes to {e_seg}.")
        if st.button("Delete this intervention", key="iv_delete_btn", icon=":material/delete:"):
            try:
                store.delete_intervention(ws, pick)
            except RIError as e:
                errors.show_error(e)
            else:
                _done(f"Deleted: {names[pick]}.")

# ---------------------------------------------------------------- evaluation of one intervention
st.subheader("Did it work?")
if log_df.empty:
    st.stop()
idents = [hashlib.sha1(f"{d}|{s}|{t}|{x}".encode()).hexdigest()[:10]
          for d, s, t, x in zip(log_df["dimension"], log_df["segment"], log_df["start_date"], log_df["description"])]
labels = {k: _describe(r) + (" (from file)" if r.source == "from file" else "")
          for k, r in zip(idents, log_df.itertuples())}
# open the first one that can be evaluated (a change launched last week has no matured orders after it yet)
first_ok = next((i for i, row in enumerate(rows) if row.get("method")), 0)
ident = st.selectbox("Intervention to evaluate", idents, index=first_ok, key="iv_pick",
                     format_func=lambda k: labels.get(k, k))
ix = idents.index(ident)
r = log_df.loc[ix]
dim, seg = str(r["dimension"]), str(r["segment"])
desc = "" if pd.isna(r["description"]) else str(r["description"])
start = r["start_date"]
if pd.isna(start) or dim not in ctx.prepared.lines.columns:
    why = rows[ix].get("verdict") or "its start date or dimension is not usable."
    st.warning(f"This intervention cannot be evaluated: {fmt.md(why)}")
    st.stop()

comp_opts = [s for s in segments_by_volume(ctx.prepared, dim) if s != seg]
auto = [c for c in (rows[ix].get("comparison_segments") or ()) if c in comp_opts]
c1, c2 = st.columns([3, 2])
comp = c1.multiselect(f"Comparison {PLURAL.get(dim, dim)}", comp_opts, default=auto, key=f"iv_comp_{ident}",
                      format_func=lambda s: fmt.seg_label(dim, s),
                      help="Chosen automatically: the untreated segments most like this one before the change "
                           "(rate and trend). Change them to override; fewer than 2 means no difference-in-differences.")
reduction = c2.slider("Planning: reduction to detect", min_value=5, max_value=50, value=20, step=5, format="%d%%",
                      key=f"iv_red_{ident}", help="Relative reduction in the return rate, e.g. 20% = a fifth fewer returns")
try:
    res = ctx.cached("iv_evaluate", _evaluate, dim, seg, start.strftime("%Y-%m-%d"), desc, tuple(comp), reduction / 100)
except AnalysisError as e:
    st.warning(f"**{fmt.md(e.title)}**  \n{fmt.md(e.message)}")
    st.stop()
except ValueError as e:
    st.warning(f"**Cannot be evaluated**  \n{fmt.md(e)}")
    st.stop()

c1.caption(("Chosen automatically" if list(comp) == auto else "Chosen by you") + ": "
           + (fmt.md(", ".join(fmt.seg_label(dim, s) for s in res.comparison_segments)) or "none"))
with st.container(border=True):
    st.markdown(f"**Verdict** (rests on {METHOD_WORDS.get(res.method, res.method)})  \n{fmt.md(res.verdict)}")

m = st.columns(4)
m[0].metric("Before (descriptive)", fmt.pct(res.rate_before),
            help=f"{res.returned_before:,} of {res.units_before:,} units returned, {res.orders_before:,} matured orders")
m[1].metric("After (descriptive)", fmt.pct(res.rate_after), delta=fmt.pp(res.rate_after - res.rate_before),
            delta_color="inverse",
            help=f"{res.returned_after:,} of {res.units_after:,} units returned, {res.orders_after:,} matured orders")
if res.did is not None:
    m[2].metric("Difference-in-differences", fmt.pp(res.did.did), help=f"95% CI {fmt.pp(res.did.ci_low)} to "
                f"{fmt.pp(res.did.ci_high)}, p = {res.did.p_value:.3g}")
else:
    m[2].metric("Difference-in-differences", "–", help="Needs at least 2 comparison segments")
m[3].metric("Returns avoided so far", fmt.num(res.returns_avoided) if res.significant and res.returns_avoided > 0 else "–",
            help="From the design the verdict rests on; shown only when the change is unlikely to be chance.")

# chart: the segment's monthly rate, the comparison, the launch and the counterfactual
# the month holding the maturity cutoff has only a few days of matured orders: shown apart, not joined to the line
partial = partial_month(res.chart, ctx.prepared.cutoff_date)
st.plotly_chart(charts.intervention_chart(res, partial, segment_name=fmt.seg_label(dim, seg),
                                          comparison_plural=PLURAL.get(dim, dim)), key="iv_chart")
st.caption("Orders count by order date: an order placed before the launch and returned after it counts as 'before'. "
           "Only orders whose return window has closed are used.")

d1, d2, d3 = st.columns(3)
with d1:
    ba = res.before_after
    st.markdown("**Before/after (descriptive)**")
    st.markdown(f"{fmt.pct(ba.rate_before)} → {fmt.pct(ba.rate_after)}: {fmt.pp(ba.change)} (95% CI {fmt.pp(ba.ci_low)} to "
                f"{fmt.pp(ba.ci_high)}), p = {ba.p_value:.3g}.  \nThis credits the change with any seasonal or "
                "site-wide movement, so on its own it proves nothing.")
with d2:
    st.markdown("**Difference-in-differences**")
    if res.did is not None:
        d = res.did
        trend = ("parallel enough" if not pd.notna(res.pre_trend_p) or res.pre_trend_p >= 0.05 else "NOT parallel")
        st.markdown(
            f"Comparison: {fmt.md(', '.join(res.comparison_segments))}, {fmt.pct(res.comparison_rate_before)} → "
            f"{fmt.pct(res.comparison_rate_after)}.  \nDiD {fmt.pp(d.did)} (95% CI {fmt.pp(d.ci_low)} to {fmt.pp(d.ci_high)}), "
            f"p = {d.p_value:.3g}; ratio of odds ratios {d.ratio_of_odds_ratios:.2f}.  \nPre-launch trends: {trend}"
            + (f" (p = {res.pre_trend_p:.2f})." if pd.notna(res.pre_trend_p) else "."))
    else:
        st.markdown(f"Not available: fewer than 2 comparison {PLURAL.get(dim, dim)} with enough orders on both sides.")
with d3:
    st.markdown("**Segmented regression (time series)**")
    if res.its is not None:
        its = res.its
        st.markdown(f"Level change at launch: odds × {its.level_change_odds_ratio:.2f} (p = {its.level_p:.3g}).  \n"
                    f"Slope change: odds × {its.slope_change_odds_ratio:.3f} per month (p = {its.slope_p:.3g}).  \n"
                    f"Returns avoided per the model: {its.returns_avoided:,.0f}.")
    else:
        st.markdown("Not fitted: it needs at least 6 matured months on each side of the launch.")

if res.caveats:
    st.markdown("**Caveats**")
    for c in res.caveats:
        st.markdown(f"- {fmt.md(c)}")

st.markdown("**Planning: how many orders are needed**")
plan = res.power
if plan is None:
    st.info("No planning estimate: the return rate before the launch is 0% or 100%.")
else:
    st.markdown(
        f"To detect a {reduction}% reduction ({fmt.pct(plan.baseline_rate)} → {fmt.pct(plan.target_rate)}) with "
        f"{plan.power:.0%} power at the {plan.alpha:.0%} significance level, about **{plan.orders_needed:,} matured "
        f"orders** after the launch are needed (≈{plan.units_needed:,.0f} units; design effect {plan.design_effect:.2f} "
        f"for several items per order). So far: {plan.orders_matured:,} matured orders.")
    st.progress(plan.share_collected, text=f"{round(100 * plan.share_collected)}% of the orders needed")
if any(v for v in (ctx.filters.channels, ctx.filters.journeys, ctx.filters.collections, ctx.filters.date_from,
                   ctx.filters.date_to)):
    st.caption("The evaluation uses the sidebar filters; filtering out the comparison segments removes the "
               "difference-in-differences.")
