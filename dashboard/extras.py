"""Glue between pages and the optional analyses (briefs, reasons, interventions) used by downloads."""
from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

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
        md_text = ctx.cached("brief", lambda p, d, s, _r: brief_markdown(row, p, analysis=ctx.analysis),
                             str(row["dimension"]), str(row["segment"]), int(row["rank"]))
        return md_text, brief_html(md_text)
    except Exception:  # noqa: BLE001
        log.exception("brief for %s", row.get("segment"))
        return "", ""
