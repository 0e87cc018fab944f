"""Glue between pages and the optional analyses (briefs, reasons, interventions) used by downloads."""
from __future__ import annotations

import logging

import pandas as pd

from analysis.briefs import brief_html, brief_markdown
from analysis.interventions import evaluate_all
from analysis.reasons import export_frames
from dashboard.presets import preset_store

log = logging.getLogger("returns_intelligence")


def interventions_frame(ctx) -> pd.DataFrame:
    """The intervention log of this dataset: the user's saved entries plus any loaded from files."""
    saved = preset_store().list_interventions(ctx.spec.workspace)
    loaded = ctx.dataset.interventions
    frames = [f for f in (saved, loaded) if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=["dimension", "segment", "start_date", "description"])
    out = pd.concat([f[[c for c in ("id", "dimension", "segment", "start_date", "description") if c in f.columns]]
                     for f in frames], ignore_index=True)
    return out.drop_duplicates(subset=["dimension", "segment", "start_date", "description"])


def intervention_rows(ctx) -> list[dict]:
    df = interventions_frame(ctx)
    if df.empty:
        return []
    key = tuple(map(tuple, df[["dimension", "segment", "start_date", "description"]].astype(str).values))
    return ctx.cached("interventions_eval", lambda p, _k: evaluate_all(p, df), key)


def export_extra_sheets(ctx) -> dict[str, pd.DataFrame]:
    sheets: dict[str, pd.DataFrame] = {}
    try:
        sheets.update(ctx.cached("export_frames", export_frames))
    except Exception:  # noqa: BLE001 - the workbook still downloads without the optional sheets
        log.exception("reason sheets for export")
    try:
        rows = intervention_rows(ctx)
        if rows:
            sheets["Interventions"] = pd.DataFrame(rows)
    except Exception:  # noqa: BLE001
        log.exception("interventions sheet for export")
    return sheets


def brief_for(ctx, row: pd.Series) -> tuple[str, str]:
    try:
        md_text = ctx.cached("brief", lambda p, d, s, _r, _settings, _why, _change: brief_markdown(row, p, analysis=ctx.analysis),
                             str(row["dimension"]), str(row["segment"]), int(row["rank"]), ctx.settings,
                             str(row.get("why")), str(row.get("change_start")))
        return md_text, brief_html(md_text)
    except Exception:  # noqa: BLE001
        log.exception("brief for %s", row.get("segment"))
        return "", ""


def import_interventions_csv(workspace: str, name: str, content: bytes) -> int:
    """Add the rows of an interventions CSV (dimension, segment, start_date[, description]) to a workspace log.

    Returns the number of rows added (rows already in the log are skipped). Raises InputError with a
    readable title when the file is empty, not text, not a table, or has bad rows (all listed at once
    by StateStore.import_interventions; nothing is saved then).
    """
    import csv
    import io

    from data.errors import InputError, Problem

    def fail(title: str, message: str, fix: str) -> InputError:
        return InputError(title, f"{message} {fix}", [Problem(name, title, message, fix)])

    if not content or not content.strip():
        raise fail("Empty file", f"'{name}' is empty.",
                   "Upload a CSV with the columns dimension, segment, start_date and description.")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise fail("Not a text file", f"'{name}' is not a text (CSV) file.", "Save the log as CSV (UTF-8) and upload it again.")
    if "\x00" in text:
        raise fail("Not a text file", f"'{name}' is not a text (CSV) file.", "Save the log as CSV (UTF-8) and upload it again.")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as e:
        raise fail("Not a readable CSV", f"'{name}' could not be read as a table ({str(e).splitlines()[0][:120]}).",
                   "Save it as CSV with one header row: dimension, segment, start_date, description.") from e
    if df.empty:
        raise fail("No rows", f"'{name}' has a header but no interventions.", "Add one row per guidance change.")
    return preset_store().import_interventions(workspace, df)
