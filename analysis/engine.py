"""One call that runs the whole returns analysis: totals, segments, pairs, Simpson check, fix list.

>>> from data.demo import generate_dataset
>>> from analysis.prepare import prepare
>>> a = analyse(prepare(generate_dataset(seed=1, n_orders=3000)))
>>> sorted(a.to_json_dict())[:3]
['cost_per_return', 'fix_list', 'notes']
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.briefs import brief_markdown
from analysis.fixlist import build_fix_list, list_wide_fdr, structural
from analysis.metrics import totals as compute_totals
from analysis.pairs import pair_table
from analysis.prepare import Prepared
from analysis.segments import all_segments, mature_frames, mature_returns, simpson_check

SEGMENT_JSON_KEYS = (
    "dimension",
    "segment",
    "basis",
    "n",
    "returned",
    "return_rate",
    "baseline_rate",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "significant",
    "direction",
    "shrunk_rate",
    "excess_returns",
    "excess_cost",
    "priority_score",
    "top_reason",
    "label",
    "verdict",
    "p_lower",
    "q_lower",
    "expected_returns",
    "conservative_excess",
    "test",
    "deff",
    "reference",
)
FIX_JSON_KEYS = (
    "rank",
    "dimension",
    "segment",
    "return_rate",
    "baseline_rate",
    "excess_returns",
    "excess_cost",
    "q_value",
    "why",
    "suggested_action",
    "label",
    "ci_low",
    "ci_high",
    "conservative_excess_cost",
    "priority_score",
    "top_reasons",
    "reason_mix",
    "refund_share",
    "exchange_share",
    "example_comments",
)


@dataclass(frozen=True)
class Settings:
    """Analysis settings. cost_per_return None = average returned value per returned unit + handling_cost
    (the value written off or re-handled per return plus the handling itself); q = FDR level of the
    fix-list gate (METHOD 5); window_days = return window for maturity (None = estimated by prepare)."""

    cost_per_return: float | None = None
    handling_cost: float = 8.0
    q: float = 0.10
    window_days: int | None = None

    def __post_init__(self) -> None:
        if self.cost_per_return is not None and not (self.cost_per_return >= 0):
            raise ValueError("cost_per_return must be a non-negative amount per returned unit.")
        if not (self.handling_cost >= 0):
            raise ValueError("handling_cost must be a non-negative amount per returned unit.")
        if not (0 < self.q < 1):
            raise ValueError("q must be a false discovery rate between 0 and 1 (e.g. 0.10).")
        if self.window_days is not None and self.window_days < 1:
            raise ValueError("window_days must be a positive number of days.")


def default_cost_per_return(prepared: Prepared, handling_cost: float = 8.0) -> float:
    """Average returned value per returned unit (mature orders) + handling cost; handling cost alone
    when no prices are known."""
    lines = mature_frames(prepared)[0]
    ret = float(lines["returned_units"].sum())
    val = float(lines["returned_value"].sum(min_count=1)) if len(lines) else float("nan")
    avg = val / ret if ret > 0 and math.isfinite(val) else 0.0
    return float(avg + handling_cost)


def _jsonable(v: object) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return v


def _records(df: pd.DataFrame, keys: tuple[str, ...] | None = None) -> list[dict]:
    if df is None or df.empty:
        return []
    cols = [k for k in keys if k in df.columns] if keys else list(df.columns)
    return [{k: _jsonable(v) for k, v in zip(cols, row)} for row in df[cols].itertuples(index=False, name=None)]


@dataclass(frozen=True)
class Analysis:
    """Everything the fix list, dashboard and exports show. DataFrames are not to be mutated."""

    totals: dict
    segments: pd.DataFrame
    pairs: pd.DataFrame
    fix_list: pd.DataFrame
    simpson: pd.DataFrame
    cost_per_return: float
    settings: Settings
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()
    addressed: pd.DataFrame = field(default_factory=pd.DataFrame)  # segments a logged change took off the fix list

    def to_json_dict(self) -> dict:
        """Plain-JSON view: totals, segments, fix_list (the documented keys plus extras), pairs, simpson,
        settings, cost_per_return, notes. NaN -> None."""
        return {
            "totals": _jsonable(self.totals),
            "segments": _records(self.segments, SEGMENT_JSON_KEYS),
            "fix_list": _records(
                self.fix_list, FIX_JSON_KEYS + (("brief",) if "brief" in self.fix_list.columns else ())
            ),
            "pairs": _records(self.pairs),
            "simpson": _records(self.simpson),
            "settings": _jsonable(asdict(self.settings)),
            "cost_per_return": _jsonable(self.cost_per_return),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Segmented:
    """The analysis before its fix list is ranked (segment_stage): segments, pairs and Simpson checks with the
    list-wide q-values, totals and the cost per return, the same as the Analysis built from it. Pages that show
    no fix list read this, so a new filter there does not rank one (build_fix_list: 0.27 s CPU after
    Channel = Web at 995k lines). DataFrames are not to be mutated."""

    totals: dict
    segments: pd.DataFrame  # the segments and the supported pairs (Analysis.segments)
    pairs: pd.DataFrame
    simpson: pd.DataFrame
    cost_per_return: float
    settings: Settings
    notes: tuple[str, ...]
    tested: pd.DataFrame  # the segments alone, with their list-wide q-values: what the fix list ranks
    pair_rows: pd.DataFrame  # the pairs the fix list may rank (gate_support)


def segment_stage(
    prepared: Prepared,
    settings: Settings = Settings(),
    *,
    unmatched_returns: int = 0,
    rejected_rows: int = 0,
) -> Segmented:
    """Everything analyse() computes before the fix list: per-dimension segments (analysis.segments), pairs
    (analysis.pairs), ONE list-wide false-discovery family over the rows of both that can be listed
    (analysis.fixlist.list_wide_fdr; structural rows take q from the family of every test, fixlist.structural),
    so every view's verdict agrees with the fix list's, the Simpson check, totals and the cost per return.
    with_fix_list(segment_stage(p, s), p) is analyse(p, s)."""
    if not isinstance(settings, Settings):
        raise ValueError("settings must be an analysis.engine.Settings.")
    notes: list[str] = list(prepared.notes)
    cost = settings.cost_per_return
    if cost is None:
        cost = default_cost_per_return(prepared, settings.handling_cost)
        notes.append(
            f"Cost per return = average returned value per returned unit + {settings.handling_cost:g} "
            f"handling = {cost:,.2f}; set it to your own figure for accurate costs."
        )
    tot = compute_totals(prepared, cost, unmatched_returns=unmatched_returns, rejected_rows=rejected_rows)
    rets = mature_returns(prepared)
    segs = all_segments(prepared, q=settings.q, cost_per_return=cost)
    level = "collection" if prepared.has("collection") else "product"
    pairs = pair_table(prepared, level, q=settings.q, cost_per_return=cost, returns=rets)
    # one false-discovery family for everything that can reach the fix list (METHOD 5)
    segs, fdr_pairs = list_wide_fdr(
        segs, pairs, q=settings.q, cost_per_return=float(cost), structural_rows=structural(prepared, segs)
    )
    pairs = pairs if fdr_pairs is None else fdr_pairs  # given a table, list_wide_fdr returns it (None only for None)
    simpson = simpson_check(prepared, "collection" if prepared.has("collection") else "category")
    pair_rows = pairs[pairs["gate_support"].astype(bool)] if len(pairs) else pairs
    if len(pair_rows):
        extra = pair_rows.drop(
            columns=[c for c in pair_rows.columns if c not in segs.columns and c not in ("level", "item_a", "item_b")]
        )
        seg_all = pd.concat([segs, extra.assign(reference="parts")], ignore_index=True)
    else:
        seg_all = segs
    seg_all = seg_all.drop(columns=[c for c in ("level", "item_a", "item_b") if c in seg_all.columns])
    return Segmented(
        totals=tot,
        segments=seg_all,
        pairs=pairs,
        simpson=simpson,
        cost_per_return=float(cost),
        settings=settings,
        notes=tuple(notes),
        tested=segs,
        pair_rows=pair_rows,
    )


def with_fix_list(stage: Segmented, prepared: Prepared, *, briefs: bool = True) -> Analysis:
    """The Analysis of segment_stage's result: its gated segments and pairs ranked into the fix list
    (analysis.fixlist.build_fix_list) and, when briefs is True, a guidance brief per row. `prepared` is the data
    the stage was computed on."""
    fix, dropped = build_fix_list(
        prepared, stage.tested, stage.pair_rows, returns=mature_returns(prepared), q=stage.settings.q
    )
    analysis = Analysis(
        totals=stage.totals,
        segments=stage.segments,
        pairs=stage.pairs,
        fix_list=fix,
        simpson=stage.simpson,
        cost_per_return=stage.cost_per_return,
        settings=stage.settings,
        dropped=dropped,
        notes=stage.notes,
    )
    return _add_briefs(analysis, prepared) if briefs else analysis


def analyse(
    prepared: Prepared,
    settings: Settings = Settings(),
    *,
    unmatched_returns: int = 0,
    rejected_rows: int = 0,
    briefs: bool = True,
) -> Analysis:
    """Run the full analysis on a prepared dataset.

    Segments: every dimension with data (analysis.segments); pairs: collections bought together, or
    the top products when there are no collections (analysis.pairs); the "higher" tests of all of
    them that can be listed form ONE weighted Benjamini-Hochberg family (analysis.fixlist.list_wide_fdr), so the fix list's
    false-discovery rate holds for the list as a whole and every view's verdict agrees with it;
    Simpson check of collections within intent and channel; fix list (analysis.fixlist).
    settings.window_days is applied by prepare(); it is recorded here only. briefs=False skips the
    guidance briefs (analysis.briefs), which are the slowest part. The same as
    with_fix_list(segment_stage(...), prepared): the stage is what pages without a fix list read.
    """
    stage = segment_stage(prepared, settings, unmatched_returns=unmatched_returns, rejected_rows=rejected_rows)
    return with_fix_list(stage, prepared, briefs=briefs)


def _add_briefs(analysis: Analysis, prepared: Prepared) -> Analysis:
    """Add a "brief" column: analysis.briefs.brief_markdown(row, prepared, analysis=...) per fix-list row."""
    if analysis.fix_list.empty:
        return analysis
    briefs: list[str | None] = []
    failed: list[str] = []
    for _, row in analysis.fix_list.iterrows():
        try:
            briefs.append(brief_markdown(row.to_dict(), prepared, analysis=analysis))
        except Exception as exc:  # one brief must never stop the fix list; say so instead
            briefs.append(None)
            failed.append(f"{row['dimension']}: {row['segment']} ({exc})")
    notes = analysis.notes + ((f"Guidance briefs could not be written for {'; '.join(failed)}",) if failed else ())
    return replace(analysis, fix_list=analysis.fix_list.assign(brief=briefs), notes=notes)
