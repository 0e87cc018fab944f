"""The load report: rows read / loaded / rejected per file, problems, and downloadable rejected rows."""

import pandas as pd
import streamlit as st

from data.model import REJECT_KINDS, Dataset
from dashboard import formatting as fmt
from dashboard.downloads import csv_bytes


def render_load_report(ds: Dataset) -> None:
    rows = []
    for f in ds.files:
        rows.append(
            {
                "File": f.label,
                "Layout": f.layout_label,
                "Used as": f.role,
                "Rows read": f.rows_read,
                "Loaded": f.rows_loaded,
                "Set apart or rejected": f.rows_rejected,  # as the CLI says: set apart is not an error
                "Reconciles": "yes" if f.reconciles else "NO",
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="rep_files")
    total_read = ds.rows_read
    total_rej = ds.rows_rejected
    st.caption(f"{total_read:,} rows read = {total_read - total_rej:,} loaded + {total_rej:,} set apart or rejected.")
    for note in ds.notes:
        st.info(fmt.md(note), icon=":material/info:")
    for f in ds.files:  # what loading did to one file (matched spellings, statuses read, sizes split off SKUs)
        for note in f.notes:
            st.caption(f"{fmt.md(f.label)}: {fmt.md(note)}")
    problems = list(ds.problems) + [p for f in ds.files for p in f.problems if p not in ds.problems]
    if problems:
        with st.expander(f"{len(problems)} issue(s) found while reading", expanded=True):
            for p in problems:
                where = fmt.md(p.file) + (f", column '{fmt.md(p.column)}'" if p.column else "")
                ex = f"  \nExamples: {fmt.md('; '.join(p.examples))}" if p.examples else ""
                st.markdown(f"- **{fmt.md(p.title)}** ({where}): {fmt.md(p.message)}{ex}  \n  *Fix:* {fmt.md(p.fix)}")
    rej = ds.rejected
    if len(rej):
        by_kind = rej.groupby("kind").size().rename("rows").reset_index()
        by_kind["what"] = by_kind["kind"].map(REJECT_KINDS).fillna(by_kind["kind"])
        st.markdown("**Rows not used in return rates**")
        # the reasons are sentences: a list shows them whole (a data grid cut one off at "count_carrier_ret")
        st.markdown("\n".join(f"- **{n:,}** {fmt.md(str(w))}" for w, n in zip(by_kind["what"], by_kind["rows"])))
        st.download_button(
            "Download rejected rows (CSV)",
            csv_bytes(rej),
            file_name="rejected-rows.csv",
            mime="text/csv",
            key="rep_dl_rejected",
        )
    if len(ds.unmatched_returns):
        um = ds.unmatched_returns
        q = pd.to_numeric(um.get("quantity", pd.Series(0, index=um.index)), errors="coerce").abs().fillna(0)
        partial = (
            um["partial"].fillna(False).astype(bool) if "partial" in um.columns else pd.Series(False, index=um.index)
        )
        n_full, n_part = int((~partial).sum()), int(partial.sum())
        text = f"{n_full:,} returned lines ({int(q[~partial].sum()):,} units) match no purchase in the data"
        if n_part:
            text += (
                f", and {n_part:,} more returned more units than the matched purchase sold "
                f"({int(q[partial].sum()):,} units beyond it; the matched part is counted)"
            )
        st.warning(text + ". Unmatched units are not counted in return rates. Download them to check.")
        st.download_button(
            "Download unmatched returns (CSV)",
            csv_bytes(um),
            file_name="unmatched-returns.csv",
            mime="text/csv",
            key="rep_dl_unmatched",
        )
