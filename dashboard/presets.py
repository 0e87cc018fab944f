"""Access to the persistent store of user-entered state (mapping presets, interventions), and the
dataset's intervention log (saved entries plus the dataset's interventions file) with its evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from analysis.interventions import evaluate_all
from data.state import StateStore, read_interventions_file

if TYPE_CHECKING:  # annotations only: dashboard.context imports this module (for the log)
    from dashboard.context import Context

LOG_COLUMNS = ["dimension", "segment", "start_date", "description"]


@st.cache_resource(show_spinner=False)
def preset_store() -> StateStore:
    """One store per server process; it writes JSON files under RI_STATE_DIR (default ~/.returns-intelligence)."""
    return StateStore()


def interventions_frame(ctx: Context) -> pd.DataFrame:
    """The intervention log of this dataset: the user's saved entries plus any loaded from files."""
    saved = preset_store().list_interventions(ctx.spec.workspace)
    loaded = ctx.dataset.interventions
    frames = [f for f in (saved, loaded) if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=LOG_COLUMNS)
    out = pd.concat([f[[c for c in ("id", *LOG_COLUMNS) if c in f.columns]] for f in frames], ignore_index=True)
    return out.drop_duplicates(subset=LOG_COLUMNS)


def intervention_rows(ctx: Context) -> list[dict]:
    """analysis.interventions.evaluate_all over the log, cached with the filtered data."""
    df = interventions_frame(ctx)
    if df.empty:
        return []
    key = tuple(map(tuple, df[LOG_COLUMNS].astype(str).values))
    return ctx.cached("interventions_eval", lambda p, _k: evaluate_all(p, df), key)


def import_interventions_csv(workspace: str, name: str, content: bytes) -> int:
    """Add the rows of an interventions file (dimension, segment, start_date[, description]) to a workspace log.

    Returns the number of rows added (rows already in the log are skipped). Raises InputError with a
    readable title when the file is empty, not a table, or has bad rows (all listed at once by
    StateStore.import_interventions; nothing is saved then).
    """
    return preset_store().import_interventions(workspace, read_interventions_file(name, content))
