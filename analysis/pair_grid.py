"""The item-by-item grid of tested pairs that the Items bought together page draws as a heatmap.

analysis.pairs.pair_table gives one row per pair (item_a, item_b); this lays the tested pairs (those past
the support gate) out as a symmetric matrix of their unit return rate, with a label per cell: the rate,
and "*" when the pair returns more than its parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_ITEMS = 40  # beyond this a heatmap is unreadable; the page shows the tables only


@dataclass(frozen=True)
class PairGrid:
    items: list[str]  # sorted; rows and columns of both matrices
    rate: pd.DataFrame  # unit return rate of orders holding both items; NaN where the pair was not tested
    text: pd.DataFrame  # "12%" or "12%*" (returns more than its parts); "" where not tested


def pair_grid(pairs: pd.DataFrame, max_items: int = MAX_ITEMS) -> PairGrid | None:
    """The grid of tested pairs, or None when there is nothing to draw (no tested pair, or too many items).

    >>> pairs = pd.DataFrame({"item_a": ["A", "A"], "item_b": ["B", "C"], "return_rate": [0.2, 0.1],
    ...                       "gate_support": [True, False], "direction": ["higher", "none"]})
    >>> g = pair_grid(pairs)
    >>> g.items, g.text.loc["B", "A"], float(g.rate.loc["A", "B"]), bool(np.isnan(g.rate.loc["A", "C"]))
    (['A', 'B', 'C'], '20%*', 0.2, True)
    """
    if pairs.empty:
        return None
    items = sorted(set(pairs["item_a"]) | set(pairs["item_b"]))
    tested = pairs[pairs["gate_support"].astype(bool)] if "gate_support" in pairs else pairs
    if len(items) > max_items or tested.empty:
        return None
    rate = pd.DataFrame(np.nan, index=items, columns=items)
    text = pd.DataFrame("", index=items, columns=items)
    for r in tested.itertuples(index=False):
        a, b, val = r.item_a, r.item_b, float(r.return_rate)
        rate.loc[a, b] = rate.loc[b, a] = val
        text.loc[a, b] = text.loc[b, a] = f"{val:.0%}" + ("*" if getattr(r, "direction", None) == "higher" else "")
    return PairGrid(items, rate, text)


def pairs_at_level(pairs: pd.DataFrame, level: str) -> pd.DataFrame | None:
    """The rows of a pair table for ``level`` ("collection" or "product"); None when it holds none (the page
    then computes the pairs of that level)."""
    if "level" in pairs.columns and bool((pairs["level"] == level).any()):
        return pairs[pairs["level"] == level]
    return None


def pairs_past_gate(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs past the support gate (bought together often enough to be tested)."""
    return pairs[pairs["gate_support"].astype(bool)] if "gate_support" in pairs else pairs


def pairs_returning_more(tested: pd.DataFrame) -> pd.DataFrame:
    """Tested pairs that return significantly more than their parts."""
    return tested[tested["direction"] == "higher"] if "direction" in tested else tested.iloc[0:0]
