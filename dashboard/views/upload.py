"""Upload & map: drop exports, check the detected layout and mapping, load, and see what was rejected."""

import zlib
from typing import Any

import streamlit as st

from data.errors import RIError
from data.ingest import FileInfo, name_for_sku
from data.mapping import FileColumns, Mapping, explain_mapping, mapping_of_files, suggest_mapping
from data.schema import TABLES
from dashboard import cache, context, errors
from dashboard import formatting as fmt
from dashboard import session as S
from dashboard.downloads import sample_exports_zip
from dashboard.presets import preset_store
from dashboard.report import render_load_report


ROLES = ["orders", "returns", "transactions", "catalog", "interventions"]
ROLE_LABELS = {
    "orders": "Order lines",
    "returns": "Returns",
    "transactions": "Signed transactions (sales + credit notes)",
    "catalog": "Catalog",
    "interventions": "Interventions log",
}

st.title("Upload & map")
st.caption(
    "Drop your exports (Shopify orders, Amazon FBA returns, ERP/POS transactions, any CSV or Excel). "
    "Files are read on this machine only; nothing leaves it."
)

spec = context.current_spec()
if S.LOAD_MESSAGE in st.session_state:
    st.success(st.session_state.pop(S.LOAD_MESSAGE))
c1, c2 = st.columns([3, 1])
with c2:
    if st.button("Use demo data", key="up_demo", icon=":material/science:", width="stretch"):
        st.session_state[S.DATASET_SPEC] = S.DatasetSpec(kind="demo", seed=7, name="Demo: Northwind Living (generated)")
        context.remember_dataset(st.session_state[S.DATASET_SPEC])
        st.rerun()
with c1:
    st.markdown(f"Currently loaded: **{fmt.md(spec.name or spec.kind)}**")
context.stored_data_controls()

files = st.file_uploader(
    "Drop files here",
    accept_multiple_files=True,
    key=S.U_FILES,
    type=["csv", "tsv", "txt", "xlsx", "xlsm", "gz"],
    help="CSV/TSV/TXT (any encoding and delimiter), Excel XLSX/XLSM, or gzipped CSV.",
)

# ------------------------------------------------------------------ presets
store = preset_store()
with st.expander("Mapping presets (reuse next week's export in one click)", expanded=False):
    presets = store.list_presets()
    last = store.get_last_preset()
    pc1, pc2 = st.columns(2)
    with pc1:
        chosen = st.selectbox(
            "Saved presets",
            [""] + presets,
            key=S.U_PRESET,
            index=(presets.index(last) + 1) if last is not None and last in presets else 0,
        )
        up = st.file_uploader("…or upload a mapping JSON", type=["json"], key=S.U_PRESET_FILE)
    preset_json = ""
    try:
        if up is not None:
            preset_json = Mapping.from_json(
                up.getvalue()
            ).to_json()  # bytes: binary or oversized files get a plain error
        elif chosen:
            preset_json = Mapping.from_json(store.load_preset(chosen)).to_json()
    except RIError as e:
        errors.show_error(e)
    with pc2:
        st.caption(
            "A preset stores the column mapping per file role and settings such as the credit-note prefix. "
            "Saved presets survive a browser refresh and a server restart."
        )
for warning in store.take_warnings():  # a damaged preset file was set aside
    st.warning(fmt.md(warning), icon=":material/warning:")

preset = Mapping.from_json(preset_json) if preset_json else None
if preset is not None and preset.reason_overrides and preset_json != st.session_state.get(S.APPLIED_PRESET):
    # a preset carries the user's reason corrections: apply them once when it is chosen
    st.session_state[S.REASON_OVERRIDES] = dict(preset.reason_overrides)
    st.session_state[S.APPLIED_PRESET] = preset_json

if not files:
    st.info("Drop one or more files to start, or keep exploring the demo data.")
    st.markdown(
        "**Recognised without any mapping:** Shopify orders export (CSV) · Amazon FBA customer returns "
        "report and All Orders report (TSV) · returns-app exports (several products per request are split) · "
        "ERP/POS transactions with credit notes (sales and returns in one table), whatever their headers. "
        "**Anything else:** pick which column is which below the preview; save it as a preset for next week."
    )
    st.download_button(
        "Download sample exports (zip) to try the upload",
        sample_exports_zip(),
        file_name="returns-intelligence-samples.zip",
        mime="application/zip",
        key="up_samples",
        icon=":material/folder_zip:",
    )
    if spec.kind == "upload":
        st.divider()
        st.subheader("Validation of the loaded files")
        try:
            ds = cache.dataset_for(spec, cache.session_uploads())
            render_load_report(ds)
        except (RIError, KeyError):
            pass
    st.stop()

# ------------------------------------------------------------------ per-file detection and mapping
contents = cache.session_uploads()
refs: list[S.UploadedRef] = []
chosen_columns: list[FileColumns] = []  # each file's (or sheet's) own mapping: files of one role differ


def _sheets_to_load(f: Any, digest: str, data: bytes) -> list[tuple[str | None, FileInfo | None]] | None:
    """The sheets of an upload to load, each becoming a file of its own below, with its FileInfo when the sheet
    search read it already (each sheet is read once): a workbook's sheets that hold a table (orders, returns,
    ...) by default, any of its sheets by choice; [(None, info)] for a CSV or a one-sheet workbook. None (said
    on the page) when the file cannot be read."""
    try:
        found = cache.table_sheets_for(f.name, digest, data)
        info = found[0]
        if len(info.sheets) <= 1:
            return [(None, info)]
        read = {i.sheet: i for i in found}
        chosen = st.multiselect(
            f"Sheets of {fmt.md(f.name)} to load",
            list(info.sheets),
            default=[str(i.sheet) for i in found if i.sheet is not None] or [str(info.sheets[0])],
            key=f"up_sheets_{digest[:10]}",
            help="Sheets that hold a table of orders, returns, transactions or a catalog are chosen for you; "
            "each chosen sheet is read as a file of its own.",
        )
        if not chosen:
            st.warning(f"Choose at least one sheet of {fmt.md(f.name)}, or remove the file.")
        return [(sheet, read.get(sheet)) for sheet in chosen]
    except RIError as e:
        errors.show_error(e)
    except Exception as e:  # noqa: BLE001 - never a stack trace in the page
        errors.show_unexpected(e, f"reading {f.name}")
    return None


for i, f in enumerate(files):
    data = f.getvalue()
    digest = cache.sha256(data)
    contents[digest] = data
    sheets = _sheets_to_load(f, digest, data)
    for sheet, known in sheets or []:
        # a sheet's widgets keep their key whichever other sheets are chosen
        key = digest[:10] if sheet is None else f"{digest[:10]}_{zlib.crc32(sheet.encode()):08x}"
        with st.container(border=True):
            try:
                info = known if known is not None else cache.inspect_for(f.name, digest, sheet, data)
            except RIError as e:
                errors.show_error(e)
                continue
            except Exception as e:  # noqa: BLE001 - never a stack trace in the page
                errors.show_unexpected(e, f"reading {f.name}")
                continue
            h1, h2 = st.columns([2, 1])
            shown = f.name if sheet is None else f"{f.name} [{sheet}]"
            h1.markdown(f"**{fmt.md(shown)}** · detected layout: **{fmt.md(info.layout_label)}**")
            role = h2.selectbox(
                "Use as",
                ROLES,
                index=ROLES.index(info.role) if info.role in ROLES else 0,
                format_func=lambda r: ROLE_LABELS.get(r, r),
                key=f"up_role_{key}",
            )
            for note in info.notes:
                st.caption(note)
            with st.expander("Preview (first rows as read)", expanded=False):
                st.dataframe(info.preview, hide_index=True, key=f"up_prev_{key}")
            table = TABLES[role]
            suggested = dict(info.suggested) if role == info.role else suggest_mapping(info.columns, role, info.preview)
            why = explain_mapping(
                info.columns,
                role,
                info.preview,
                suggested,
                info.layout_label if info.layout not in ("generic", "signed_transactions") else None,
            )
            own = preset.columns_for(f.name, sheet or info.sheet, role, digest) if preset else None
            if preset and (role in preset.tables or own):
                # the role's columns where this file has them, then the file's own (a preset saved with it)
                for cols_ in (preset.tables.get(role, {}), own or {}):
                    suggested.update({k: v for k, v in cols_.items() if v in info.columns})
                why = {
                    k: w
                    for k, w in why.items()
                    if suggested.get(k) == w.column or (not w.applied and k not in suggested)
                }
            unsure = [c for c, w in why.items() if c in suggested and w.level != "high"]
            st.markdown("Column mapping (suggested; correct anything that is wrong). * = required")
            if unsure:
                st.warning(f"Check {len(unsure)} column(s) matched with less confidence: {', '.join(unsure)}.")
            cols = st.columns(3)
            options = [""] + list(info.columns)
            mapping: dict[str, str] = {}
            for j, col in enumerate(table.columns):
                default = suggested.get(col.name, "")
                sel = cols[j % 3].selectbox(
                    f"{col.name}{' *' if col.required else ''}",
                    options,
                    index=options.index(default) if default in options else 0,
                    key=f"up_map_{key}_{role}_{col.name}",
                    help=col.description,
                )
                if sel:
                    mapping[col.name] = sel
                w = why.get(col.name)
                if w is not None and w.applied and sel == w.column:
                    mark = "Sure" if w.level == "high" else "Check"
                    cols[j % 3].caption(f"{mark} ({w.confidence:.0%}): {fmt.md(w.reason)}")
                elif w is not None and not w.applied and not sel:
                    cols[j % 3].caption(
                        f"Did you mean **{fmt.md(w.column)}**? ({w.confidence:.0%}: {fmt.md(w.reason)})"
                    )
            missing = [c for c in table.required if c not in mapping]
            if "sku" in missing and (name := name_for_sku(role, mapping, list(info.columns))):
                missing.remove("sku")
                st.caption(
                    f"No SKU column: items are told apart by their names ({fmt.md(name)}); map a SKU column if "
                    "the file has one under another header."
                )
            if missing:
                st.warning(f"Map the required column(s) {', '.join(missing)} for this file.")
            chosen_columns.append(FileColumns(f.name, sheet or info.sheet, role, mapping, digest))
            refs.append(S.UploadedRef(name=f.name, sha256=digest, role=role, sheet=sheet or info.sheet))

settings = dict(preset.settings) if preset else {}
with st.expander("Reading settings (credit notes, dates, carrier returns)", expanded=False):
    settings["credit_note_prefix"] = st.text_input(
        "Credit-note prefix", value=settings.get("credit_note_prefix", "C"), key="up_cn_prefix"
    )
    extra = st.text_input(
        "Extra non-merchandise SKUs (comma separated)",
        value=", ".join(settings.get("non_merchandise_skus", [])),
        key="up_nonmerch",
    )
    settings["non_merchandise_skus"] = [s.strip() for s in extra.split(",") if s.strip()]
    for setting, label, help_text in (
        (
            "refunded_statuses",
            "Order statuses that mean refunded (comma separated)",
            "An orders export's own status values for an order refunded in full, besides the ones read already "
            "(refunded, returned, erstattet ...; Magento's closed). The load report lists the status values it "
            "counted as sold.",
        ),
        (
            "cancelled_statuses",
            "Order statuses that mean never sold (comma separated)",
            "Status values of orders cancelled or never paid, besides cancelled, failed, voided ... in six "
            "languages: their lines are listed as cancelled and left out of every rate.",
        ),
    ):
        words = st.text_input(label, value=", ".join(settings.get(setting, [])), key=f"up_{setting}", help=help_text)
        if status_words := [w.strip() for w in words.split(",") if w.strip()]:
            settings[setting] = status_words
        else:
            settings.pop(setting, None)
    date_formats = ["auto", "dmy", "mdy", "ymd"]
    settings["date_format"] = st.selectbox(
        "Date format",
        date_formats,
        index=date_formats.index(settings.get("date_format", "auto")),
        key="up_datefmt",
        help="auto decides day-first vs month-first from the values",
    )
    if st.checkbox(
        "Count carrier returns as customer returns",
        value=bool(settings.get("count_carrier_returns")),
        key="up_carrier",
        help="Undeliverable, refused and lost-in-transit parcels are listed apart and "
        "left out of the return rate unless this is ticked.",
    ):
        settings["count_carrier_returns"] = True
    else:
        settings.pop("count_carrier_returns", None)

mapping_obj = mapping_of_files(chosen_columns, settings, dict(st.session_state.get(S.REASON_OVERRIDES) or {}))
mapping_json = mapping_obj.to_json()

b1, b2, b3 = st.columns([1, 1, 2])
load = b1.button("Load data", type="primary", key="up_load", icon=":material/play_arrow:", width="stretch")
b2.download_button(
    "Download mapping JSON",
    mapping_json.encode("utf-8"),
    file_name="returns-mapping.json",
    mime="application/json",
    key="up_dl_mapping",
    width="stretch",
)
with b3:
    pn1, pn2 = st.columns([2, 1])
    preset_name = pn1.text_input(
        "Preset name",
        key="up_preset_name",
        label_visibility="collapsed",
        placeholder="Preset name, e.g. Shopify weekly",
    )
    if pn2.button("Save preset", key="up_save_preset", width="stretch"):
        try:
            store.save_preset(preset_name, mapping_json)
            st.toast(f"Preset saved: {preset_name}")
        except RIError as e:
            errors.show_error(e)

if load:
    name = ", ".join(r.name for r in refs)[:80] or "Uploaded data"
    new_spec = S.DatasetSpec(kind="upload", files=tuple(refs), mapping_json=mapping_json, name=name)
    bar = st.progress(0.0, text="Reading files…")
    st.session_state[S.LOAD_PENDING] = name  # still set on the next run if this one is stopped mid-load

    def progress(frac: float, text: str) -> None:
        bar.progress(min(max(float(frac), 0.0), 1.0), text=text)

    try:
        ds = cache.dataset_for(new_spec, contents, progress)
    except RIError as e:
        st.session_state.pop(S.LOAD_PENDING, None)
        bar.empty()
        errors.show_error(e)
        st.stop()
    except Exception as e:  # noqa: BLE001
        st.session_state.pop(S.LOAD_PENDING, None)
        bar.empty()
        errors.show_unexpected(e, "loading the files")
        st.stop()
    st.session_state.pop(S.LOAD_PENDING, None)
    bar.empty()
    st.session_state[S.DATASET_SPEC] = new_spec
    context.remember_dataset(new_spec, contents)  # kept for this browser: a refresh or restart finds it again
    if preset_name:
        store.set_last_preset(preset_name)
    st.session_state[S.LOAD_MESSAGE] = (
        f"Loaded {ds.rows_read - ds.rows_rejected:,} of {ds.rows_read:,} rows. "
        "Open Overview or Collections to see the results."
    )
    st.rerun()  # the sidebar and every page now show the new dataset

cur = context.current_spec()
if cur.kind == "upload":
    st.divider()
    st.subheader("Validation")
    try:
        ds = cache.dataset_for(cur, contents)
        render_load_report(ds)
    except RIError as e:
        errors.show_error(e)
