"""Why customers return and what saves the sale.

Pure computations over ``Prepared`` (see analysis.prepare):

- reason_mix: share of returned units (and of returned value) by reason category, and the share that
  guidance could prevent;
- reasons_vs_rest: which reasons are over-represented in a segment's returns compared with the rest
  (two-proportion tests with the METHOD 2.2 z/Fisher switch, Benjamini-Hochberg q within a dimension);
- resolution_by_segment: refunds vs exchanges vs store credit, revenue kept, and size-reason returns
  refunded although an exchange was plausible;
- exchange_targets: what customers exchange into (size up / size down / other colour / other product);
- complete_the_set: items bought with the segment's items whose orders return *less*
  ("pairs well with" candidates), gated by support (METHOD 7: >= 30 orders, >= 5 expected returns);
- example_comments: a few plain-text customer comments.

Shares are of returned *units* of matched returns (Prepared.returns), whatever their order's maturity:
the mix describes why things came back, not how often. Every function degrades gracefully: when the
reason (or resolution, exchange SKU, comment) column was not mapped it returns an empty frame whose
``attrs["message"]`` says which column to map (see :func:`missing_message`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import stats
from analysis.prepare import DIMENSION_LABELS, Prepared
from data.reasons import CATEGORIES, GROUP_LABELS, SIZE_CATEGORIES, category_label

RETURN_DIMENSIONS = (
    "collection",
    "category",
    "product",
    "size",
    "channel",
    "journey",
    "intent",
    "customer_type",
    "promotion",
    "country",
    "addon",
)

_NEEDS = {
    "reason": (
        ("returns.reason", "returns.comment"),
        "No return reasons are in the returns data (no reason column is mapped, or it is empty). Map the "
        "'reason' column of your returns file (or 'comment') on the upload page to see why customers return.",
    ),
    "resolution": (
        ("returns.resolution",),
        "No return outcomes are in the returns data (no resolution column is mapped, or it is empty). Map the "
        "'resolution' column of your returns file (refund / exchange / store credit) to see which sales were "
        "saved.",
    ),
    "exchange": (
        ("returns.exchange_sku",),
        "No exchange SKUs are in the returns data (no exchange column is mapped, or it is empty, as in "
        "returns-app exports that leave it blank). Map the 'exchange_sku' column of your returns file to see "
        "what customers exchange into.",
    ),
    "comment": (
        ("returns.comment",),
        "No customer comments are in the returns data (no comment column is mapped, or it is empty). Map the "
        "'comment' column of your returns file to see examples in customers' own words.",
    ),
}


def missing_message(prepared: Prepared, need: str = "reason") -> str | None:
    """A sentence naming the column to map when ``need`` (reason / resolution / exchange / comment) is
    absent from the data or there are no matched returns; None when the analysis can run."""
    if need not in _NEEDS:
        raise ValueError(f"need must be one of {', '.join(_NEEDS)} (got {need!r}).")
    cols, msg = _NEEDS[need]
    if prepared.returns is None or prepared.returns.empty:
        if getattr(prepared, "outcome", "line_return") == "order_refund":
            return (
                "This export records refunds per order, without return reasons or resolutions: add a returns "
                "file (or a returns-app export) with a reason column to see why customers return."
            )
        return "No returns matched an order in the data, so there is nothing to break down by reason."
    if not any(prepared.has(c) for c in cols):
        return msg
    return None


def _empty(columns: list[str], message: str) -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    df.attrs["message"] = message
    return df


def _check_dimension(dimension: str, frame: pd.DataFrame) -> None:
    if dimension not in frame.columns:
        raise ValueError(f"Unknown dimension {dimension!r}; use one of {', '.join(RETURN_DIMENSIONS)}.")


def _units(r: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(r["quantity"], errors="coerce").fillna(1).astype("float64")


def _value(r: pd.DataFrame) -> pd.Series:
    """Returned value of each return row: the refund where recorded, else units x unit price."""
    by_price = _units(r) * pd.to_numeric(r["unit_price"], errors="coerce")
    if "refund_amount" in r.columns:
        refund = pd.to_numeric(r["refund_amount"], errors="coerce")
        return refund.where(refund.notna(), by_price)
    return by_price


def _select(prepared: Prepared, dimension: str | None, segment: object | None) -> pd.DataFrame:
    r = prepared.returns
    if dimension is None:
        return r
    _check_dimension(dimension, r)
    if segment is None:
        raise ValueError("segment is required when dimension is given.")
    return r[r[dimension].astype("string") == str(segment)]


# ---------------------------------------------------------------------------------------------------
# reason mix
# ---------------------------------------------------------------------------------------------------

MIX_COLUMNS = ["reason_category", "label", "group", "returns", "units", "share", "value", "value_share"]


@dataclass(frozen=True, slots=True)
class ReasonMix:
    """Reason breakdown of one scope (all returns, or one segment's).

    table: one row per category with returns (rows), units, share (of units), value, value_share;
    preventable_share: share of returned units whose reason guidance could prevent (of all units);
    preventable_share_known: the same among units with a usable reason (not other/unknown);
    units / value: totals; message: why the table is empty, else None.
    """

    table: pd.DataFrame
    units: float
    value: float
    preventable_share: float
    preventable_share_known: float
    dominant: str | None
    dominant_preventable: str | None
    message: str | None = None

    @property
    def preventable_value_share(self) -> float:
        """Share of returned value whose reason guidance could prevent (value of the preventable group / all)."""
        t = self.table
        if t.empty or not self.value:
            return math.nan
        return float(t.loc[t["group"] == "preventable", "value"].sum()) / float(self.value)

    def shares(self) -> pd.Series:
        """Share of returned units by reason category (index: category)."""
        return self.table.set_index("reason_category")["share"]

    def comment_categories(self) -> list[str]:
        """Categories with returns that a comment can illustrate (not "other" or "unknown")."""
        return [str(c) for c in self.table["reason_category"] if c not in ("other", "unknown")]


def reason_mix(prepared: Prepared, dimension: str | None = None, segment: object | None = None) -> ReasonMix:
    """Share of returned units (and returned value) by reason category.

    Example (on the demo data, where Linen Shirts are planted as running small)::

        reason_mix(prepared, "collection", "Linen Shirts").dominant   # 'size_too_small'
    """
    msg = missing_message(prepared, "reason")
    if msg:
        return ReasonMix(_empty(MIX_COLUMNS, msg), 0.0, 0.0, math.nan, math.nan, None, None, msg)
    r = _select(prepared, dimension, segment)
    if r.empty:
        m = f"No returns in {dimension} '{segment}'."
        return ReasonMix(_empty(MIX_COLUMNS, m), 0.0, 0.0, math.nan, math.nan, None, None, m)
    f = pd.DataFrame(
        {
            "reason_category": r["reason_category"].astype("string").fillna("unknown"),
            "units": _units(r),
            "value": _value(r),
        }
    )
    g = f.groupby("reason_category", sort=False)
    t = pd.DataFrame(
        {"returns": g.size(), "units": g["units"].sum(), "value": g["value"].sum(min_count=1)}
    ).reset_index()
    tot_u = float(t["units"].sum())
    tot_v = float(t["value"].sum())
    t["share"] = t["units"] / tot_u if tot_u else np.nan
    t["value_share"] = t["value"] / tot_v if tot_v else np.nan
    t["label"] = t["reason_category"].map(category_label)
    t["group"] = t["reason_category"].map(lambda c: CATEGORIES.get(c, ("", "unknown"))[1])
    t = t.sort_values(["units", "reason_category"], ascending=[False, True]).reset_index(drop=True)[MIX_COLUMNS]
    prev_u = float(t.loc[t["group"] == "preventable", "units"].sum())
    known_u = float(t.loc[t["group"] != "unknown", "units"].sum())
    known = t[t["group"] != "unknown"]
    prevent = t[t["group"] == "preventable"]
    return ReasonMix(
        table=t,
        units=tot_u,
        value=tot_v,
        preventable_share=prev_u / tot_u if tot_u else math.nan,
        preventable_share_known=prev_u / known_u if known_u else math.nan,
        dominant=str(known["reason_category"].iloc[0]) if len(known) else None,
        dominant_preventable=str(prevent["reason_category"].iloc[0]) if len(prevent) else None,
    )


# ---------------------------------------------------------------------------------------------------
# reasons over-represented in a segment
# ---------------------------------------------------------------------------------------------------

VS_REST_JSON_KEYS = ("dimension", "segment", "reason_category", "returned", "share", "rest_share", "q_value")
VS_REST_COLUMNS = list(VS_REST_JSON_KEYS) + [
    "label",
    "group",
    "segment_returned",
    "rest_returned",
    "rest_category_returned",
    "p_value",
    "test",
]


def share_design_effects(
    seg: np.ndarray, order: np.ndarray, cat: np.ndarray, units: np.ndarray, n_seg: int, n_cat: int
) -> tuple[np.ndarray, np.ndarray]:
    """(deff, rest_deff), each (n_seg, n_cat): the Rao-Scott design effects of each segment's share of returned
    units with reason c, and of the same share among the rest of the returns, clustered by order (the units one
    order sends back share a reason far more often than chance: a bracketing order returns two sizes as "too
    large"). Per return row: integer codes seg, order, cat and its units.

    The same numbers as analysis.segments.cluster_counts(seg, order, units x [cat == c], units) for every category
    c (held equal in tests/unit/test_reasons_clustered.py), from one pass over the (segment, order) cells: the
    complement's ratio-estimator variance is the sum over all orders of ((Y_oc - y_osc) - p_r (M_o - m_os))^2,
    expanded into order totals minus per-cell cross sums (METHOD 4.2). A segment whose returns come from one
    order gets deff = its units, as cluster_counts gives it; a share of 0 or 1 gets 1.
    """
    seg = np.asarray(seg, dtype="int64")
    order = np.asarray(order, dtype="int64")
    cat = np.asarray(cat, dtype="int64")
    u = np.asarray(units, dtype="float64")
    G = int(order.max()) + 1 if len(order) else 1
    cell, keys = pd.factorize(seg * G + order, sort=False)
    keys = np.asarray(keys, dtype="int64")
    cs, co = keys // G, keys % G
    k = len(keys)
    m = np.bincount(cell, weights=u, minlength=k)  # m_os: the segment's returned units in the order
    M = np.bincount(order, weights=u, minlength=G)  # M_o
    y = np.bincount(cell * n_cat + cat, weights=u, minlength=k * n_cat).reshape(k, n_cat)  # y_osc
    Y = np.bincount(order * n_cat + cat, weights=u, minlength=G * n_cat).reshape(G, n_cat)  # Y_oc
    Yo, Mo = Y[co], M[co]

    def ssum(v: np.ndarray) -> np.ndarray:  # per segment (and category) sums over the segment's cells
        if v.ndim == 1:
            return np.bincount(cs, weights=v, minlength=n_seg)
        return np.stack([np.bincount(cs, weights=v[:, j], minlength=n_seg) for j in range(n_cat)], axis=1)

    x, n = ssum(y), ssum(m)[:, None]  # x_sc, n_s
    X, N = Y.sum(axis=0)[None, :], M.sum()
    g = ssum(np.ones(k))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        ss = ssum(y * y) - 2 * p * ssum(y * m[:, None]) + p * p * ssum(m * m)[:, None]
        v = g / (g - 1) * np.clip(ss, 0, None) / (n * n)
        raw = v / (p * (1 - p) / n)
        deff = np.where((p > 0) & (p < 1), np.where(g > 1, raw, n / g), 1.0)
        deff = np.where(np.isfinite(deff), np.maximum(deff, 1.0), 1.0)
        # the rest of the returns: every order's share outside the segment
        xr, nr = X - x, N - n
        pr = xr / nr
        A, B, C = (Y * Y).sum(axis=0)[None, :], (Y * M[:, None]).sum(axis=0)[None, :], float((M * M).sum())
        cross = ssum(Yo * y) - pr * ssum(Yo * m[:, None]) - pr * ssum(Mo[:, None] * y) + pr * pr * ssum(Mo * m)[:, None]
        own = ssum(y * y) - 2 * pr * ssum(y * m[:, None]) + pr * pr * ssum(m * m)[:, None]
        ss_r = np.clip(A - 2 * pr * B + pr * pr * C - 2 * cross + own, 0, None)
        g_all = float(np.count_nonzero(M > 0))
        g_r = g_all - ssum((m >= Mo).astype("float64"))[:, None]  # orders wholly inside the segment are not rest
        v_r = np.where(g_r > 1, g_r / (g_r - 1) * ss_r / (nr * nr), np.nan)
        base = pr * (1 - pr) / nr
        rest = np.where((base > 0) & np.isfinite(v_r), np.maximum(v_r / base, 1.0), 1.0)
    return deff, rest


def reasons_vs_rest(
    prepared: Prepared, dimension: str, *, alternative: str = "larger", min_segment_returns: int = 1
) -> pd.DataFrame:
    """Per segment x reason category: is the reason's share of the segment's returned units different
    from its share among the rest of the returned units?

    For segment s and category c: x1 = s's returned units with reason c, n1 = s's returned units,
    x2 / n2 the same for all other segments (the rest, METHOD 1.1 rule 4). Tested with
    analysis.stats.segment_vs_rest (pooled z-test, Fisher exact when an expected cell < 5; METHOD 2.2),
    ``alternative="larger"`` (over-represented, one-sided) or ``"two-sided"``, on Rao-Scott effective counts
    (each share's design effect over orders, share_design_effects: the units one order sends back share a
    reason); q = Benjamini-Hochberg over every (segment, category) test of the dimension.

    Columns: dimension, segment, reason_category, returned (x1), share (x1/n1), rest_share (x2/n2),
    q_value, then label, group, segment_returned (n1), rest_returned (n2), rest_category_returned (x2),
    p_value, test. :func:`vs_rest_records` turns it into the JSON rows.
    """
    msg = missing_message(prepared, "reason")
    if msg:
        return _empty(VS_REST_COLUMNS, msg)
    r = prepared.returns
    _check_dimension(dimension, r)
    f = pd.DataFrame(
        {
            "segment": r[dimension].astype("string"),
            "reason_category": r["reason_category"].astype("string").fillna("unknown"),
            "units": _units(r),
        }
    )
    f = f[f["segment"].notna()]
    if f.empty:
        return _empty(VS_REST_COLUMNS, f"No returns have a {dimension} value.")
    ct = f.pivot_table(
        index="segment", columns="reason_category", values="units", aggfunc="sum", fill_value=0.0, observed=True
    )
    seg_tot = ct.sum(axis=1)
    ct = ct[seg_tot >= min_segment_returns]
    if ct.empty or len(ct.index) < 2:
        return _empty(VS_REST_COLUMNS, f"Need returns in at least two {dimension} segments to compare reasons.")
    seg_tot = ct.sum(axis=1)
    all_tot = float(f["units"].sum())
    cat_tot = f.groupby("reason_category")["units"].sum()
    long = ct.stack().rename("returned").reset_index()
    long.columns = ["segment", "reason_category", "returned"]
    long["segment_returned"] = long["segment"].map(seg_tot).astype("float64")
    long["rest_returned"] = all_tot - long["segment_returned"]
    long["rest_category_returned"] = long["reason_category"].map(cat_tot).astype("float64") - long["returned"]
    # Rao-Scott effective counts, clustered by order: the units one order sends back share a reason
    sc, sl = pd.factorize(f["segment"], sort=False)
    cc, cl = pd.factorize(f["reason_category"], sort=False)
    oc = pd.factorize(r.loc[f.index, "order_id"], sort=False)[0]
    deff, rest_deff = share_design_effects(sc, oc, cc, f["units"].to_numpy(float), len(sl), len(cl))
    i = pd.Index(sl).get_indexer(long["segment"])
    j = pd.Index(cl).get_indexer(long["reason_category"])
    d1, d2 = deff[i, j], rest_deff[i, j]
    res = stats.segment_vs_rest(
        long["returned"].to_numpy(float) / d1,
        long["segment_returned"].to_numpy(float) / d1,
        long["rest_category_returned"].to_numpy(float) / d2,
        long["rest_returned"].to_numpy(float) / d2,
        alternative=alternative,
    )
    long["share"] = res["p1"]
    long["rest_share"] = res["p2"]
    long["p_value"] = res["p_value"]
    long["test"] = res["test"]
    long["q_value"] = stats.bh_adjust(long["p_value"].to_numpy(float))
    long["dimension"] = dimension
    long["label"] = long["reason_category"].map(category_label)
    long["group"] = long["reason_category"].map(lambda c: CATEGORIES.get(c, ("", "unknown"))[1])
    long = long.sort_values(["q_value", "p_value", "returned"], ascending=[True, True, False], na_position="last")
    return long[VS_REST_COLUMNS].reset_index(drop=True)


def vs_rest_records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows {"dimension","segment","reason_category","returned","share","rest_share","q_value"}
    (nan becomes None)."""
    out = []
    for row in frame[list(VS_REST_JSON_KEYS)].itertuples(index=False):
        d = {}
        for k, v in zip(VS_REST_JSON_KEYS, row):
            if isinstance(v, (float, np.floating)):
                d[k] = None if not np.isfinite(v) else float(v)
            elif isinstance(v, (np.integer,)):
                d[k] = int(v)
            else:
                d[k] = None if v is pd.NA else v
        out.append(d)
    return out


def top_reasons(prepared: Prepared, dimension: str, segment: object, k: int = 3) -> list[tuple[str, float]]:
    """The segment's k largest known reasons as (category, share of its returned units)."""
    mix = reason_mix(prepared, dimension, segment)
    t = mix.table[mix.table["group"] != "unknown"] if len(mix.table) else mix.table
    return [(str(c), float(s)) for c, s in zip(t["reason_category"].head(k), t["share"].head(k))]


# ---------------------------------------------------------------------------------------------------
# resolutions
# ---------------------------------------------------------------------------------------------------

RESOLUTION_COLUMNS = [
    "segment",
    "units",
    "refund",
    "exchange",
    "store_credit",
    "other",
    "unknown",
    "refund_share",
    "exchange_share",
    "store_credit_share",
    "saved_revenue",
    "refunded_value",
    "size_returns",
    "size_refunds",
    "size_refund_share",
    "refund_though_exchange_plausible",
]


def outcome_shares(resolution: pd.DataFrame, segment: object | None = None) -> dict[str, float]:
    """Refunded / exchanged / store-credit shares for one segment of resolution_by_segment (all when None).

    Shares are of returned units resolved as a refund, exchange or store credit (NaN when none is: unrecognised
    outcome text, 'other', is left out, as in the headline's metrics.resolution_shares); saved_revenue and
    refunded_value are summed over the rows.

    >>> res = pd.DataFrame({"segment": ["a", "b"], "units": [10.0, 6.0], "unknown": [2.0, 0.0],
    ...                     "refund": [4.0, 6.0], "exchange": [2.0, 0.0], "store_credit": [2.0, 0.0],
    ...                     "saved_revenue": [50.0, 0.0], "refunded_value": [80.0, 90.0]})
    >>> s = outcome_shares(res, "a"); s["refund"], s["exchange"], s["saved_revenue"]
    (0.5, 0.25, 50.0)
    >>> outcome_shares(res)["refund"]   # (4 + 6) / (8 + 6)
    0.7142857142857143
    """
    rows = resolution if segment is None else resolution[resolution["segment"] == str(segment)]
    # known = refund + exchange + store credit, as the headline (metrics.resolution_shares): text no rule
    # recognises ('other') says nothing about whether money went back
    known = float(rows[["refund", "exchange", "store_credit"]].to_numpy().sum())
    share = {c: (float(rows[c].sum()) / known if known else math.nan) for c in ("refund", "exchange", "store_credit")}
    return {
        **share,
        "known_units": known,
        "saved_revenue": float(rows["saved_revenue"].sum()),
        "refunded_value": float(rows["refunded_value"].sum()),
    }


def segments_by_returned_units(returns: pd.DataFrame, dimension: str) -> list[str]:
    """The dimension's segments that have returns, most returned units first (a missing quantity counts 1).

    >>> r = pd.DataFrame({"collection": ["a", "b", "b", None], "quantity": [5, 1, 2, 9]})
    >>> segments_by_returned_units(r, "collection")
    ['a', 'b']
    """
    if dimension not in returns.columns or returns.empty:
        return []
    units = pd.to_numeric(returns["quantity"], errors="coerce").fillna(1)
    s = units.groupby(returns[dimension].astype("string")).sum().sort_values(ascending=False, kind="stable")
    return [str(v) for v in s.index if v is not pd.NA and str(v) != ""]


def targets_in_segment(
    targets: pd.DataFrame, returns: pd.DataFrame, dimension: str, segment: object | None
) -> pd.DataFrame:
    """Rows of exchange_targets for the products returned within one segment (all rows when segment is None).

    >>> t = pd.DataFrame({"product": ["Tee", "Shirt", "Cap"], "exchanges": [3, 5, 1]})
    >>> r = pd.DataFrame({"collection": ["Tops", "Tops", "Hats"], "product": ["Tee", "Shirt", "Cap"]})
    >>> targets_in_segment(t, r, "collection", "Tops")["product"].tolist()
    ['Tee', 'Shirt']
    """
    if segment is None:
        return targets
    r = returns[returns[dimension].astype("string") == str(segment)]
    return targets[targets["product"].isin(set(r["product"].dropna().astype(str)))]


def products_by_exchanges(targets: pd.DataFrame) -> list[str]:
    """Products of exchange_targets, most exchanged units first (ties alphabetically).

    >>> products_by_exchanges(pd.DataFrame({"product": ["Tee", "Cap", "Tee", "Shirt"], "exchanges": [1, 4, 2, 1]}))
    ['Cap', 'Tee', 'Shirt']
    """
    by = targets.groupby("product")["exchanges"].sum().sort_values(ascending=False, kind="stable")
    return [str(v) for v in by.index]


def resolution_by_segment(
    prepared: Prepared, dimension: str, *, plausible_share: float = 0.5, min_size_returns: int = 5
) -> pd.DataFrame:
    """Refund / exchange / store-credit split of each segment's returned units and the revenue kept.

    saved_revenue = value of units resolved as exchange or store credit (the sale stayed with the shop);
    refunded_value = value of units refunded. size_refunds = units returned for a size reason
    (too small / too large / fit) that were refunded; ``refund_though_exchange_plausible`` flags a
    segment where at least ``min_size_returns`` size-reason units came back and at least
    ``plausible_share`` of them were refunded: a size exchange would plausibly have saved the sale.
    Shares are of units resolved as a refund, exchange or store credit (outcome_shares).
    """
    msg = missing_message(prepared, "resolution")
    if msg:
        return _empty(RESOLUTION_COLUMNS, msg)
    if not 0 < plausible_share <= 1:
        raise ValueError(f"plausible_share must be in (0, 1] (got {plausible_share}).")
    r = prepared.returns
    _check_dimension(dimension, r)
    res = r["resolution_category"].astype("string").fillna("unknown")
    f = pd.DataFrame(
        {
            "segment": r[dimension].astype("string"),
            "res": res,
            "units": _units(r),
            "value": _value(r),
            # what an exchange or store credit keeps is the sale itself, not the (zero) refund
            "sale_value": _units(r) * pd.to_numeric(r["unit_price"], errors="coerce"),
            "size": r["reason_category"].astype("string").isin(list(SIZE_CATEGORIES)).fillna(False),
        }
    )
    f = f[f["segment"].notna()]
    piv = f.pivot_table(index="segment", columns="res", values="units", aggfunc="sum", fill_value=0.0)
    for c in ("refund", "exchange", "store_credit", "other", "unknown"):
        if c not in piv.columns:
            piv[c] = 0.0
    out = piv[["refund", "exchange", "store_credit", "other", "unknown"]].copy()
    out["units"] = out.sum(axis=1)
    known = out["refund"] + out["exchange"] + out["store_credit"]  # as outcome_shares and the headline
    safe = known.where(known > 0, np.nan)
    out["refund_share"] = out["refund"] / safe
    out["exchange_share"] = out["exchange"] / safe
    out["store_credit_share"] = out["store_credit"] / safe
    kept = f[f["res"].isin(["exchange", "store_credit"])].groupby("segment")["sale_value"].sum()
    refunded = f[f["res"] == "refund"].groupby("segment")["value"].sum()
    out["saved_revenue"] = kept.reindex(out.index).fillna(0.0)
    out["refunded_value"] = refunded.reindex(out.index).fillna(0.0)
    sz = f[f["size"]]
    out["size_returns"] = sz.groupby("segment")["units"].sum().reindex(out.index).fillna(0.0)
    out["size_refunds"] = sz[sz["res"] == "refund"].groupby("segment")["units"].sum().reindex(out.index).fillna(0.0)
    out["size_refund_share"] = out["size_refunds"] / out["size_returns"].where(out["size_returns"] > 0, np.nan)
    out["refund_though_exchange_plausible"] = (
        (out["size_returns"] >= min_size_returns) & (out["size_refund_share"] >= plausible_share)
    ).astype(bool)
    out = out.reset_index().rename(columns={"index": "segment"})
    out = out.sort_values(["units", "segment"], ascending=[False, True]).reset_index(drop=True)
    return out[RESOLUTION_COLUMNS]


# ---------------------------------------------------------------------------------------------------
# exchange targets
# ---------------------------------------------------------------------------------------------------

_LETTER_SIZES = ["XXXS", "XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL", "XXXXL"]
_SIZE_ALIASES = {
    "3XS": "XXXS",
    "2XS": "XXS",
    "2XL": "XXL",
    "3XL": "XXXL",
    "4XL": "XXXXL",
    "SMALL": "S",
    "MEDIUM": "M",
    "LARGE": "L",
    "EXTRA SMALL": "XS",
    "EXTRA LARGE": "XL",
    "X-SMALL": "XS",
    "X-LARGE": "XL",
    "XX-LARGE": "XXL",
    "XXX-LARGE": "XXXL",
}
_NUM = re.compile(r"-?\d+(?:[.,]\d+)?")


def size_rank(size: object) -> tuple[str, float] | None:
    """Orderable key of a size: ("letter", 0..9) for XXXS..XXXXL (aliases 2XL, Small, ...),
    ("number", value) for numeric sizes (38, 8.5, W32); None when not orderable.

    >>> size_rank("XL"), size_rank("2XL"), size_rank("EU 42")
    (('letter', 6.0), ('letter', 7.0), ('number', 42.0))
    """
    if size is None or size is pd.NA or (isinstance(size, float) and math.isnan(size)):
        return None
    s = str(size).strip().upper()
    if not s:
        return None
    s = _SIZE_ALIASES.get(s, s)
    if s in _LETTER_SIZES:
        return "letter", float(_LETTER_SIZES.index(s))
    m = _NUM.search(s)
    if m:
        return "number", float(m.group(0).replace(",", "."))
    return None


def _size_move(a: object, b: object) -> str | None:
    ra, rb = size_rank(a), size_rank(b)
    if ra is None or rb is None or ra[0] != rb[0] or ra[1] == rb[1]:
        return None
    return "size_up" if rb[1] > ra[1] else "size_down"


EXCHANGE_KINDS = {
    "size_up": "Size up",
    "size_down": "Size down",
    "other_colour": "Other colour / variant, same size",
    "other_product": "Other product",
    "same_item": "Same item (replacement)",
    "unknown_sku": "SKU not in the orders",
}
EXCHANGE_COLUMNS = [
    "product",
    "size",
    "exchange_sku",
    "target_product",
    "target_size",
    "kind",
    "kind_label",
    "exchanges",
    "share",
]


def exchange_targets(prepared: Prepared, product: object | None = None, *, top: int | None = 10) -> pd.DataFrame:
    """What each product's returns were exchanged into, classified as size up / size down / other colour
    / other product.

    Each return with an exchange SKU is joined to a SKU -> (product, size) lookup built from
    prepared.lines. Same product, orderable sizes that differ (XXXS < ... < XXXXL, or numeric) ->
    size_up / size_down; same product, same or unorderable size, different SKU -> other_colour;
    different product -> other_product; same SKU -> same_item; SKU never sold -> unknown_sku.
    exchanges = units; share = of the product's exchanged units. ``top`` keeps the largest targets
    per product (None keeps all).
    """
    msg = missing_message(prepared, "exchange")
    if msg:
        return _empty(EXCHANGE_COLUMNS, msg)
    r = prepared.returns
    r = r[r["exchange_sku"].notna() & (r["exchange_sku"].astype("string").str.strip() != "")]
    if product is not None:
        r = r[r["product"].astype("string") == str(product)]
    if r.empty:
        where = f" for product '{product}'" if product is not None else ""
        return _empty(EXCHANGE_COLUMNS, f"No returns were exchanged{where}.")
    lk = prepared.lines[["sku", "product", "size"]].dropna(subset=["sku"]).drop_duplicates("sku").set_index("sku")
    f = pd.DataFrame(
        {
            "sku": r["sku"].astype("string"),
            "product": r["product"].astype("string"),
            "size": r["size"].astype("string"),
            "exchange_sku": r["exchange_sku"].astype("string").str.strip(),
            "units": _units(r),
        }
    )
    f["target_product"] = f["exchange_sku"].map(lk["product"]).astype("string")
    f["target_size"] = f["exchange_sku"].map(lk["size"]).astype("string")
    g = (
        f.groupby(
            ["product", "size", "sku", "exchange_sku", "target_product", "target_size"], dropna=False, sort=False
        )["units"]
        .sum()
        .rename("exchanges")
        .reset_index()
    )

    def kind(row: Any) -> str:  # a row of g (itertuples)
        if row.exchange_sku == row.sku:
            return "same_item"
        if row.target_product is pd.NA or pd.isna(row.target_product):
            return "unknown_sku"
        if row.target_product != row.product:
            return "other_product"
        move = _size_move(row.size, row.target_size)
        return move if move else "other_colour"

    g["kind"] = [kind(row) for row in g.itertuples(index=False)]
    out = (
        g.groupby(
            ["product", "size", "exchange_sku", "target_product", "target_size", "kind"], dropna=False, sort=False
        )["exchanges"]
        .sum()
        .reset_index()
    )
    out["kind_label"] = out["kind"].map(EXCHANGE_KINDS)
    out["share"] = out["exchanges"] / out.groupby("product")["exchanges"].transform("sum")
    out = out.sort_values(["product", "exchanges", "exchange_sku"], ascending=[True, False, True])
    if top is not None:
        out = out.groupby("product", sort=False).head(top)
    return out[EXCHANGE_COLUMNS].reset_index(drop=True)


def exchange_kind_summary(prepared: Prepared, product: object | None = None) -> pd.DataFrame:
    """Exchanged units by kind (size up / down / ...) with shares, for one product or all."""
    t = exchange_targets(prepared, product, top=None)
    if t.empty:
        return _empty(["kind", "kind_label", "exchanges", "share"], t.attrs.get("message", "No exchanges."))
    return kind_summary(t)


def kind_summary(targets: pd.DataFrame) -> pd.DataFrame:
    """Exchanged units by kind with shares, largest first, from exchange_targets(..., top=None) rows (any subset
    of products, e.g. one product's or one segment's).

    >>> k = kind_summary(pd.DataFrame({"kind": ["size_up", "same_item", "size_up"], "exchanges": [2, 1, 1]}))
    >>> k["kind"].tolist(), k["exchanges"].tolist(), k["share"].tolist()  # 3 of 4 units sized up
    (['size_up', 'same_item'], [3.0, 1.0], [0.75, 0.25])
    """
    if targets.empty:
        return pd.DataFrame({"kind": [], "kind_label": [], "exchanges": [], "share": []})
    s = targets.groupby("kind")["exchanges"].sum().sort_values(ascending=False, kind="stable")
    out = pd.DataFrame({"kind": s.index.astype(str), "exchanges": s.to_numpy(float)})
    out["kind_label"] = out["kind"].map(EXCHANGE_KINDS)
    out["share"] = out["exchanges"] / out["exchanges"].sum()
    return out[["kind", "kind_label", "exchanges", "share"]]


# ---------------------------------------------------------------------------------------------------
# complete the set
# ---------------------------------------------------------------------------------------------------

SET_COLUMNS = [
    "by",
    "item",
    "orders_with",
    "units_with",
    "returned_with",
    "rate_with",
    "ci_low",
    "ci_high",
    "units_without",
    "returned_without",
    "rate_without",
    "diff",
    "diff_low",
    "diff_high",
    "expected_returns_with",
    "p_value",
    "q_value",
    "pairs_well",
]


def _with_without_deffs(
    code: np.ndarray, n_orders: int, y: np.ndarray, m: np.ndarray, with_x: np.ndarray, without: np.ndarray
) -> tuple[float, float]:
    """The Rao-Scott design effects (analysis.stats.design_effect) of the focal rate in orders with the companion
    and in those without it, from the focal lines' order codes, returned units y and units m."""
    sums = []
    for part in (with_x, without):
        ys = np.bincount(code, weights=y * part, minlength=n_orders)
        ms = np.bincount(code, weights=m * part, minlength=n_orders)
        sums.append((ys[ms > 0], ms[ms > 0]))
    (y1, m1), (y2, m2) = sums
    d = stats.design_effect(np.r_[y1, y2], np.r_[m1, m2], np.r_[np.zeros(len(m1)), np.ones(len(m2))])["deff"]
    return tuple(float(d.get(g, 1.0)) if np.isfinite(d.get(g, 1.0)) else 1.0 for g in (0.0, 1.0))  # type: ignore[return-value]


def complete_the_set(
    prepared: Prepared,
    dimension: str,
    segment: object,
    *,
    by: str = "collection",
    min_orders: int = 30,
    min_expected: float = 5.0,
    q_threshold: float = 0.10,
) -> pd.DataFrame:
    """Items bought together with the segment's items whose orders return less ("pairs well with").

    Focal lines = mature lines of the segment. For each candidate X (a ``by`` value of the other lines in
    the same orders; for an order-level dimension such as journey every line of the order is focal and
    X's own lines are left out of the focal set), compare the focal unit return rate in orders that
    contain X (rate_with) with the rate in focal orders without X (rate_without). Support gate
    (METHOD 7): at least ``min_orders`` orders with X and ``min_expected`` returns expected at
    rate_without. Test: one-sided "smaller" two-proportion (analysis.stats.segment_vs_rest, z or Fisher),
    Wilson CI of rate_with, Newcombe CI of the difference, BH q across the gated candidates, all on Rao-Scott
    effective counts (each side's design effect over its orders, _with_without_deffs: the focal units of one order come
    back together). pairs_well = q <= q_threshold and rate_with < rate_without.
    """
    lines = prepared.mature_lines
    _check_dimension(dimension, lines)
    if by not in lines.columns:
        raise ValueError(f"by must be a line attribute such as collection or product (got {by!r}).")
    if min_orders < 1:
        raise ValueError(f"min_orders must be at least 1 (got {min_orders}).")
    if lines[by].notna().sum() == 0:
        return _empty(SET_COLUMNS, f"No {by} values were loaded. Map the '{by}' column of your orders file.")
    in_seg = (lines[dimension].astype("string") == str(segment)).fillna(False).to_numpy(bool)
    if not in_seg.any():
        return _empty(SET_COLUMNS, f"No matured orders in {dimension} '{segment}'.")
    focal_orders = pd.unique(lines.loc[in_seg, "order_id"])
    in_orders = lines["order_id"].isin(focal_orders).to_numpy(bool)
    order_level = bool(in_seg[in_orders].all())  # every line of the segment's orders is in the segment
    focal = lines[in_seg]
    companions = lines[in_orders] if order_level else lines[in_orders & ~in_seg]
    comp = companions[["order_id", by]].dropna().drop_duplicates()
    comp = comp[comp[by].astype("string") != str(segment)] if by == dimension else comp
    if comp.empty:
        return _empty(SET_COLUMNS, f"The items of {dimension} '{segment}' are rarely bought with other {by}s.")
    f_ord = focal["order_id"].to_numpy()
    f_by = focal[by].astype("string").to_numpy(dtype=object)
    f_q = focal["quantity"].to_numpy(float)
    f_r = focal["returned_units"].to_numpy(float)
    rows = []
    f_code, f_uniq = pd.factorize(pd.Series(f_ord), sort=False)
    all_true = np.ones(len(f_ord), bool)
    for item, orders in comp.groupby(by, sort=False)["order_id"]:
        orders_with = orders.nunique()
        if orders_with < min_orders:
            continue
        keep = (f_by != item) if order_level else all_true
        has_x = np.zeros(len(f_uniq), bool)
        pos = f_uniq.get_indexer(pd.unique(orders))
        has_x[pos[pos >= 0]] = True
        line_has_x = has_x[f_code]
        with_x = line_has_x & keep
        without = ~line_has_x & keep
        n1, x1 = f_q[with_x].sum(), f_r[with_x].sum()
        n2, x2 = f_q[without].sum(), f_r[without].sum()
        if n1 <= 0 or n2 <= 0:
            continue
        expected = n1 * x2 / n2
        if expected < min_expected:
            continue
        d1, d2 = _with_without_deffs(f_code, len(f_uniq), f_r, f_q, with_x, without)
        rows.append((str(item), orders_with, n1, x1, n2, x2, expected, d1, d2))
    if not rows:
        return _empty(
            SET_COLUMNS,
            f"No item is bought with {dimension} '{segment}' in at least {min_orders} "
            f"orders with {min_expected:g} expected returns.",
        )
    t = pd.DataFrame(
        rows,
        columns=[
            "item",
            "orders_with",
            "units_with",
            "returned_with",
            "units_without",
            "returned_without",
            "expected_returns_with",
            "deff_with",
            "deff_without",
        ],
    )
    # Rao-Scott effective counts: the focal units of one order come back together
    d1, d2 = t["deff_with"].to_numpy(float), t["deff_without"].to_numpy(float)
    res = stats.segment_vs_rest(
        t["returned_with"].to_numpy(float) / d1,
        t["units_with"].to_numpy(float) / d1,
        t["returned_without"].to_numpy(float) / d2,
        t["units_without"].to_numpy(float) / d2,
        alternative="smaller",
    )
    t["rate_with"], t["rate_without"] = res["p1"], res["p2"]
    t["ci_low"], t["ci_high"] = res["ci_low"], res["ci_high"]
    t["diff"], t["diff_low"], t["diff_high"] = res["diff"], res["diff_low"], res["diff_high"]
    t["p_value"] = res["p_value"]
    t["q_value"] = stats.bh_adjust(t["p_value"].to_numpy(float))
    t["pairs_well"] = ((t["q_value"] <= q_threshold) & (t["diff"] < 0)).astype(bool)
    t["by"] = by
    t = t.sort_values(["pairs_well", "diff"], ascending=[False, True]).reset_index(drop=True)
    return t[SET_COLUMNS]


# ---------------------------------------------------------------------------------------------------
# comments
# ---------------------------------------------------------------------------------------------------

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_comment(text: object, max_chars: int = 240) -> str:
    """Plain, single-line, trimmed text of a comment ('' for missing). Never HTML: callers escape."""
    if text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)):
        return ""
    s = _CTRL.sub(" ", str(text))
    s = re.sub(r"\s+", " ", s).strip()
    if len(s) > max_chars:
        s = s[: max_chars - 1].rstrip() + "\u2026"
    return s


def example_comments(
    prepared: Prepared,
    dimension: str | None,
    segment: object | None,
    category: str | None = None,
    k: int = 5,
    *,
    max_chars: int = 240,
) -> list[str]:
    """Up to k distinct customer comments from the segment's returns (optionally one reason category),
    most recent first, as plain trimmed strings. [] when comments were not loaded."""
    if k < 0:
        raise ValueError(f"k must be non-negative (got {k}).")
    if missing_message(prepared, "comment"):
        return []
    r = _select(prepared, dimension, segment)
    if category is not None:
        if category not in CATEGORIES:
            raise ValueError(f"Unknown reason category {category!r}.")
        r = r[r["reason_category"] == category]
    r = r[r["comment"].notna()]
    if r.empty:
        return []
    if "return_date" in r.columns:
        r = r.sort_values("return_date", ascending=False, na_position="last", kind="stable")
    out: list[str] = []
    seen: set[str] = set()
    for c in r["comment"]:
        s = clean_comment(c, max_chars)
        if s and s.casefold() not in seen:
            seen.add(s.casefold())
            out.append(s)
        if len(out) >= k:
            break
    return out


def sizes_involved(prepared: Prepared, dimension: str, segment: object, k: int = 5) -> pd.DataFrame:
    """The segment's returned units by size with each size's reason-dominant category."""
    r = _select(prepared, dimension, segment)
    r = r[r["size"].notna()]
    if r.empty:
        return _empty(["size", "units", "share", "top_reason"], "No sizes recorded for these returns.")
    f = pd.DataFrame(
        {
            "size": r["size"].astype("string"),
            "units": _units(r),
            "cat": r["reason_category"].astype("string").fillna("unknown"),
        }
    )
    s = f.groupby("size")["units"].sum().sort_values(ascending=False)
    top = (
        f.groupby(["size", "cat"])["units"]
        .sum()
        .reset_index()
        .sort_values("units", ascending=False)
        .drop_duplicates("size")
        .set_index("size")["cat"]
    )
    out = pd.DataFrame({"size": s.index, "units": s.to_numpy()})
    out["share"] = out["units"] / out["units"].sum()
    out["top_reason"] = out["size"].map(top)
    return out.head(k).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------
# export sheets
# ---------------------------------------------------------------------------------------------------


def export_frames(prepared: Prepared, dimension: str = "collection") -> dict[str, pd.DataFrame]:
    """Frames for analysis.export.fixlist_xlsx(extra_sheets=...): "Reasons" (overall mix and the
    over-represented reasons by ``dimension``) and "Exchanges" (exchange targets). Missing data gives a
    one-row frame with the message, so the workbook says why the sheet is empty."""
    mix = reason_mix(prepared)
    if mix.message:
        reasons = pd.DataFrame({"message": [mix.message]})
    else:
        overall = mix.table.assign(scope="All returns", segment="")
        if dimension in prepared.returns.columns:
            vs = reasons_vs_rest(prepared, dimension)
            vs = vs[vs["q_value"] <= Q_LEVEL] if len(vs) else vs
            seg = vs.rename(columns={"returned": "units"}).assign(scope=DIMENSION_LABELS.get(dimension, dimension))
            seg = seg[
                ["scope", "segment", "reason_category", "label", "group", "units", "share", "rest_share", "q_value"]
            ]
        else:
            seg = pd.DataFrame()
        reasons = pd.concat(
            [
                overall[
                    ["scope", "segment", "reason_category", "label", "group", "units", "share", "value", "value_share"]
                ],
                seg,
            ],
            ignore_index=True,
        )
        reasons["group_label"] = reasons["group"].map(GROUP_LABELS)
    ex = exchange_targets(prepared, top=None)
    exchanges = pd.DataFrame({"message": [ex.attrs["message"]]}) if ex.empty and "message" in ex.attrs else ex
    return {"Reasons": reasons, "Exchanges": exchanges}


# ---------------------------------------------------------------------------------------------------
# what the "Reasons & outcomes" page shows (selections and totals, so the page only lays out)
# ---------------------------------------------------------------------------------------------------

Q_LEVEL = 0.10  # false-discovery level behind the words "over-represented" (METHOD: BH at 10% per view)


def return_dimensions(prepared: Prepared) -> list[str]:
    """The RETURN_DIMENSIONS this data has on its returns."""
    return [d for d in RETURN_DIMENSIONS if prepared.has(d) and d in prepared.returns.columns]


def segment_vs_rest(vs: pd.DataFrame, segment: object | None) -> pd.DataFrame:
    """The rows of reasons_vs_rest for one segment (none when segment is None or vs is empty)."""
    if segment is None or vs.empty:
        return vs.iloc[0:0]
    return vs[vs["segment"] == str(segment)]


def over_represented(vs: pd.DataFrame, segment: object | None = None, *, q: float = Q_LEVEL) -> pd.DataFrame:
    """Reasons significantly over-represented (q-value <= q and a larger share than the rest), in the order of
    ``vs`` (largest evidence first); for one segment when ``segment`` is given.

    >>> vs = pd.DataFrame({"segment": ["A", "A", "B"], "q_value": [0.01, 0.5, 0.05],
    ...                    "share": [0.4, 0.3, 0.1], "rest_share": [0.2, 0.1, 0.3]})
    >>> over_represented(vs)["segment"].tolist(), over_represented(vs, "A")["q_value"].tolist()
    (['A'], [0.01])
    """
    if vs.empty:
        return vs
    d = vs if segment is None else vs[vs["segment"] == str(segment)]
    return d[(d["q_value"] <= q) & (d["share"] > d["rest_share"])]


def exchanged_units(targets: pd.DataFrame) -> float:
    """Exchanged units in rows of exchange_targets."""
    return float(targets["exchanges"].sum()) if len(targets) else 0.0


def product_targets(targets: pd.DataFrame, product: object) -> pd.DataFrame:
    """The exchange_targets rows of one product."""
    return targets[targets["product"] == product]


def stays_within_product(targets: pd.DataFrame, product: object) -> bool:
    """True when every exchange of ``product`` in ``targets`` is into the same product (another size or colour)."""
    return bool((targets["target_product"].astype("string") == str(product)).all())


def mapping_counts(mapping: pd.DataFrame, overrides: Mapping[str, str]) -> tuple[int, int, int]:
    """(distinct raw reasons, matched returns, corrections that apply to this data) of a reason_mapping_table.

    >>> m = pd.DataFrame({"reason": ["too small", "broke", None], "count": [5, 2, 3]})
    >>> mapping_counts(m, {"broke": "faulty", "lost": "other"})
    (3, 10, 1)
    """
    present = set(mapping["reason"].dropna())
    return len(mapping), int(mapping["count"].sum()), sum(1 for k in overrides if k in present)
