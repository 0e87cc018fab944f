"""Interventions: log guidance changes (form, CSV import, edit, delete) and see whether each one reduced returns."""

from typing import Any

import pandas as pd
import streamlit as st

from analysis.interventions import (
    METHOD_WORDS,
    Intervention,
    InterventionResult,
    avoided_shown,
    comparison_options,
    default_start,
    detail_sentences,
    effective_dimension,
    evaluate,
    log_entry,
    log_table,
    loggable_dimensions,
    partial_month,
    plural,
    saved_entries,
    segment_choices,
)
from data.errors import AnalysisError, RIError
from dashboard import charts, context, errors
from dashboard import formatting as fmt
from dashboard.memo import chart, on_data
from analysis.prepare import DIMENSION_LABELS, Prepared
from dashboard.presets import import_interventions_csv, intervention_rows, interventions_frame, preset_store

FLASH = "iv_flash"
STATUS_ICON = {"ok": ":material/check_circle:", "warning": ":material/warning:", "not run": ":material/remove:"}


def _evaluate(
    prepared: Prepared,
    dimension: str,
    segment: str,
    start: str,
    description: str,
    comparison: tuple[str, ...],
    reduction: float,
) -> InterventionResult:
    return evaluate(
        prepared,
        Intervention(dimension, segment, start, description),
        comparison=list(comparison),
        target_reduction=reduction,
    )


def _done(message: str) -> None:
    """Remember a success message for the next run and rerun, so every list on the page shows the change."""
    st.session_state[FLASH] = message
    st.rerun()


def _label(dim: str) -> str:
    return DIMENSION_LABELS.get(dim, dim)


def _day(ts: pd.Timestamp) -> str:
    return "an unreadable date" if pd.isna(ts) else f"{ts:%d %b %Y}"


def _describe(r: Any) -> str:
    """One line naming an intervention: `r` is a row of analysis.interventions.log_table (or saved_entries) as
    DataFrame.itertuples yields it, a namedtuple of the log's columns (pages define no classes, so no Protocol)."""
    return f"{fmt.seg_label(r.dimension, r.segment)} ({_label(r.dimension).lower()}) from {_day(r.start_date)}" + (
        f" – {r.description}" if r.description else ""
    )


ctx = context.require_data()
store = preset_store()
ws = ctx.spec.workspace
st.title("Interventions")
st.caption(
    "Log the guidance changes you make (a fit video, a size chart, new photos) and see whether returns fell "
    "afterwards. Entries are saved on this server for this dataset and are still here after a refresh or restart."
)
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")

raw_log = interventions_frame(ctx)
for warning in store.take_warnings():  # a damaged log file was set aside
    st.warning(fmt.md(warning), icon=":material/warning:")
log_df = log_table(raw_log, intervention_rows(ctx) if len(raw_log) else [])
dims = loggable_dimensions(ctx.full)
rate_name = fmt.rate_words(ctx.prepared)["name"]

# ---------------------------------------------------------------- the log
st.subheader("Intervention log")
if log_df.empty:
    st.info("No interventions yet. Add one below, or import a CSV of past changes.")
else:
    view = pd.DataFrame(
        {
            "Source": log_df["source"],
            "Dimension": log_df["dimension"].map(_label),
            "Segment": [fmt.seg_label(d, s) for d, s in zip(log_df["dimension"], log_df["segment"])],
            "Start date": log_df["start_date"],
            "Description": log_df["description"],
            "Before": log_df["rate_before"],
            "After": log_df["rate_after"],
            "Verdict": log_df["verdict"],
        }
    )
    st.dataframe(
        view,
        hide_index=True,
        key="iv_log_table",
        column_config={
            "Start date": st.column_config.DateColumn("Start date", format="YYYY-MM-DD"),
            "Before": st.column_config.NumberColumn(
                "Before", format="percent", step=fmt.PCT_STEP, help=f"{rate_name} before (descriptive)"
            ),
            "After": st.column_config.NumberColumn(
                "After", format="percent", step=fmt.PCT_STEP, help=f"{rate_name} after (descriptive)"
            ),
            "Verdict": st.column_config.TextColumn("Verdict", width="large"),
        },
    )
    st.caption("'from file' entries come from the interventions file loaded with the data; they are read-only here.")

# ---------------------------------------------------------------- add / import / edit
t_add, t_import, t_edit = st.tabs(["Add a change", "Import from CSV", "Edit or delete"])
with t_add:
    if not dims:
        errors.missing("Logging an intervention", "a collection, category, product, size, channel or journey column")
    else:
        add_dim = st.selectbox(
            "Dimension",
            dims,
            index=dims.index("collection") if "collection" in dims else 0,
            key="iv_add_dim",
            format_func=_label,
        )
        with st.form("iv_add_form", clear_on_submit=True):
            c1, c2 = st.columns([2, 1])
            add_seg = c1.selectbox(
                "Segment",
                segment_choices(ctx.full, add_dim),
                key=f"iv_add_seg_{add_dim}",
                format_func=lambda s: fmt.seg_label(add_dim, s),
            )
            add_start = c2.date_input(
                "Start date", value=default_start(ctx.full), key="iv_add_start", help="The day the change went live"
            )
            add_desc = st.text_input(
                "Description",
                key="iv_add_desc",
                max_chars=300,
                placeholder="e.g. Fit guide video and size advice on product pages",
            )
            submitted = st.form_submit_button("Add intervention", key="iv_add_submit", type="primary")
        if submitted:
            try:
                store.add_intervention(ws, add_dim, add_seg, add_start, add_desc)
            except RIError as e:
                errors.show_error(e)
            else:
                _done(f"Added: {add_seg} from {add_start:%d %b %Y}.")

with t_import:
    st.markdown(
        "A CSV with the columns **dimension**, **segment**, **start\\_date** (YYYY-MM-DD) and "
        "**description**. Rows already in the log are skipped; if any row is wrong, nothing is imported "
        "and every problem is listed."
    )
    up = st.file_uploader("Interventions CSV", type=["csv", "txt"], key="iv_import_file")
    clicked = st.button("Import interventions", key="iv_import_btn", disabled=up is None, icon=":material/upload:")
    if clicked and up is not None:  # Streamlit drops clicks on a disabled button: a click always has a file
        try:
            added = import_interventions_csv(ws, up.name, up.getvalue())
        except RIError as e:
            errors.show_error(e)
        else:
            _done(
                f"Imported {added} intervention(s) from {up.name}."
                if added
                else f"Nothing new in {up.name}: every row is already in the log."
            )

with t_edit:
    saved = saved_entries(log_df)
    if saved.empty:
        st.info(
            "No saved interventions to edit. Entries from the dataset's file are read-only: change the file, "
            "or add a corrected entry here."
        )
    else:
        names = {str(r.id): _describe(r) for r in saved.itertuples()}
        pick = st.selectbox("Intervention", list(names), format_func=lambda k: names.get(k, k), key="iv_edit_pick")
        cur = log_entry(saved, "id", pick)
        e_dim = st.selectbox(
            "Dimension",
            dims,
            index=dims.index(cur["dimension"]) if cur["dimension"] in dims else 0,
            key=f"iv_edit_dim_{pick}",
            format_func=_label,
        )
        with st.form("iv_edit_form"):
            c1, c2 = st.columns([2, 1])
            opts = segment_choices(ctx.full, e_dim, cur["segment"] if e_dim == cur["dimension"] else None)
            e_seg = c1.selectbox(
                "Segment",
                opts,
                index=opts.index(cur["segment"]) if cur["segment"] in opts else 0,
                key=f"iv_edit_seg_{pick}_{e_dim}",
                format_func=lambda s: fmt.seg_label(e_dim, s),
            )
            e_start = c2.date_input("Start date", value=cur["start_date"].date(), key=f"iv_edit_start_{pick}")
            e_desc = st.text_input("Description", value=cur["description"], key=f"iv_edit_desc_{pick}", max_chars=300)
            save = st.form_submit_button("Save changes", key="iv_edit_save", type="primary")
        if save:
            try:
                store.update_intervention(
                    ws, pick, dimension=e_dim, segment=e_seg, start_date=e_start, description=e_desc
                )
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
    st.caption("Log a change above (or import past changes) to see here whether it reduced the rate.")
    st.stop()
labels = {r.key: _describe(r) + (" (from file)" if r.source == "from file" else "") for r in log_df.itertuples()}
# open the first one that can be evaluated (a change launched last week has no matured orders after it yet)
ident = st.selectbox(
    "Intervention to evaluate",
    list(log_df["key"]),
    index=int(log_df["evaluable"].to_numpy().argmax()),
    key="iv_pick",
    format_func=lambda k: labels.get(k, k),
)
r = log_entry(log_df, "key", ident)
dim, seg, desc, start = r["dimension"], r["segment"], r["description"], r["start_date"]
if effective_dimension(ctx.prepared, dim, seg) != dim:
    st.caption(
        f"Logged under {_label(dim).lower()}; {fmt.md(seg)} is a country in this data (a Country column used to be "
        "read as the channel), so it is evaluated by country."
    )
    dim = effective_dimension(ctx.prepared, dim, seg)
if pd.isna(start) or dim not in ctx.prepared.lines.columns:
    st.warning(
        f"This intervention cannot be evaluated: {fmt.md(r['verdict'] or 'its start date or dimension is not usable.')}"
    )
    st.stop()

comp_opts, auto = on_data(ctx, comparison_options, dim, seg, r["comparison_segments"])
c1, c2 = st.columns([3, 2])
comp = c1.multiselect(
    f"Comparison {plural(dim)}",
    comp_opts,
    default=auto,
    key=f"iv_comp_{ident}",
    format_func=lambda s: fmt.seg_label(dim, s),
    help="Chosen automatically: the untreated segments most like this one before the change "
    "(rate and trend). Change them to override; fewer than 2 means no difference-in-differences.",
)
reduction = c2.slider(
    "Planning: reduction to detect",
    min_value=5,
    max_value=50,
    value=20,
    step=5,
    format="%d%%",
    key=f"iv_red_{ident}",
    help=f"Relative reduction in the {fmt.rate_words(ctx.prepared, dim)['name'].lower()}, e.g. 20% = a fifth fewer",
)
try:
    res = ctx.cached("iv_evaluate", _evaluate, dim, seg, start.strftime("%Y-%m-%d"), desc, tuple(comp), reduction / 100)
except AnalysisError as e:
    st.warning(f"**{fmt.md(e.title)}**  \n{fmt.md(e.message)}")
    st.stop()
except ValueError as e:
    st.warning(f"**Cannot be evaluated**  \n{fmt.md(e)}")
    st.stop()

c1.caption(
    ("Chosen automatically" if list(comp) == auto else "Chosen by you")
    + ": "
    + (fmt.md(", ".join(fmt.seg_label(dim, s) for s in res.comparison_segments)) or "none")
)
with st.container(border=True):
    st.markdown(f"**Verdict** (rests on {METHOD_WORDS.get(res.method, res.method)})  \n{fmt.md(res.verdict)}")

text = detail_sentences(res)
avoided = avoided_shown(res)
m = st.columns(4)
m[0].metric("Before (descriptive)", fmt.pct(res.rate_before), help=text["before_help"])
m[1].metric(
    "After (descriptive)",
    fmt.pct(res.rate_after),
    delta=fmt.pp(res.rate_after - res.rate_before),
    delta_color="inverse",
    help=text["after_help"],
)
if res.did is not None:
    m[2].metric(
        "Difference-in-differences",
        f"× {res.did.ratio:.2f}",
        delta=fmt.pp(res.did.points),
        delta_color="inverse",
        help=f"Ratio of the {res.rate_name} to what the comparison predicts, 95% CI {res.did.ci_low:.2f} to "
        f"{res.did.ci_high:.2f}, p = {res.did.p_value:.3g}; the delta is the same in points",
    )
else:
    m[2].metric("Difference-in-differences", "–", help="Needs at least 2 comparison segments")
m[3].metric(
    "Avoided so far",
    fmt.num(avoided) if avoided is not None else "–",
    help="From the difference-in-differences; shown only when the verdict is 'reduced'.",
)

# chart: the segment's monthly rate, the comparison, the launch and the counterfactual
# the month holding the maturity cutoff has only a few days of matured orders: shown apart, not joined to the line
partial = partial_month(res.chart, ctx.prepared.cutoff_date)
chart(
    "iv_chart",
    charts.intervention_chart,
    res,
    partial,
    segment_name=fmt.seg_label(dim, seg),
    comparison_plural=plural(dim),
    axis=fmt.rate_words(ctx.prepared, dim)["axis"],
)
st.caption(
    "Orders count by order date: an order placed before the launch and returned after it counts as 'before'. "
    "Only orders whose return window has closed are used."
)

st.markdown("**Checks of the difference-in-differences**")
for dg in res.diagnostics:
    st.markdown(f"{STATUS_ICON.get(dg.status, '')} **{dg.name}**: {fmt.md(dg.sentence)}")
if not res.diagnostics:
    st.markdown("No checks: there is no difference-in-differences.")

d1, d2, d3 = st.columns(3)
d1.markdown(f"**Before/after (descriptive)**  \n{fmt.md(text['before_after'])}")
d2.markdown(f"**Difference-in-differences**  \n{fmt.md(text['did'])}")
d3.markdown(f"**Segmented regression (time series)**  \n{fmt.md(text['its'])}")

if res.caveats:
    st.markdown("**Caveats**")
    for c in res.caveats:
        st.markdown(f"- {fmt.md(c)}")

st.markdown("**Planning: how many orders are needed**")
st.markdown(text["planning"])
if res.power is not None:
    st.progress(res.power.share_collected, text=f"{round(100 * res.power.share_collected)}% of the orders needed")
if ctx.filters.active:
    st.caption(
        "The evaluation uses the sidebar filters; filtering out the comparison segments removes the "
        "difference-in-differences."
    )
