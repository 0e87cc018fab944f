"""Segment-vs-rest return rates with clustering-aware tests, FDR control, shrinkage and excess cost.

For one dimension (collection, category, product, size, intent, journey, channel, customer_type)
segment_table() compares every segment with the rest of the population (METHOD 1.1 rule 4):

* rate = returned units / units sold (mature orders). Units of one order are correlated, so each
  side's counts are divided by its Rao-Scott design effect computed from per-order sums
  (stats.rao_scott_deff for the segment; the complement's deff uses the same ratio-estimator
  formula, METHOD 4.2, evaluated from order totals minus the segment's part). The effective counts
  feed the pooled z-test, Wilson and Newcombe intervals (METHOD 4.3, option D).
* line-level dimensions (collection, category, product, size) have basis "units"; order-level
  dimensions (intent, journey, channel, customer_type) have basis "orders": every unit of an order
  shares the segment, so the design effect takes the whole order as the cluster, and the order
  return rate (orders with any return / orders) is reported alongside.
* small segments (min expected cell < 5 on the effective counts) are analysed at ORDER level -
  orders containing segment items, outcome "a segment item came back" vs orders containing other
  items, outcome "another item came back" - where lines-in-order clustering disappears, and the
  switching rule of METHOD 2.2 (Fisher when E_min < 5) is applied to that table. The displayed rate
  and intervals stay the unit rate; the p-value and `test` come from the order table.
* p_value: one-sided "segment higher" (the fix-list question, METHOD 2.3); p_lower: one-sided
  "segment lower", reported separately. Both are BH-adjusted within the dimension (METHOD 5).
* shrunk_rate: empirical-Bayes posterior mean with a beta prior fitted within the dimension by the
  weighted moment estimator (METHOD 6.2). Departure: the prior is fitted on effective counts, so
  within-order correlation is not mistaken for between-segment variation.
* excess and priority (METHOD 6.4): expected = n * p0 with p0 the whole-population rate (of the
  parent segment in a drill-down); the conservative "at least" excess uses the one-sided Wilson lower
  bound on effective counts; priority = gate(q <= q_threshold) * shrunk excess * cost per return.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import stats
from analysis.prepare import DIMENSION_LABELS, INTENT_LABELS, LINE_DIMENSIONS, ORDER_DIMENSIONS, Prepared
from data.reasons import CATEGORIES

NOT_SET = "(not set)"
DIMENSIONS = LINE_DIMENSIONS + ORDER_DIMENSIONS
VERDICTS = ("clearly higher", "higher (borderline)", "within noise", "clearly lower")
BORDERLINE_P = 0.05  # one-sided unadjusted p below this but q above the threshold -> "borderline"

SEGMENT_COLUMNS = [
    "dimension", "segment", "label", "basis", "n", "returned", "return_rate", "baseline_rate",
    "rest_n", "rest_returned", "ci_low", "ci_high", "diff", "diff_low", "diff_high", "p_value", "q_value",
    "p_lower", "q_lower", "significant", "direction", "verdict", "shrunk_rate", "expected_returns",
    "excess_returns", "excess_cost", "shrunk_excess", "conservative_excess", "conservative_excess_cost",
    "priority_score", "top_reason", "test", "deff", "rest_deff", "n_eff", "returned_eff", "orders",
    "orders_returned", "order_return_rate", "population_rate",
]


def dimension_column(dimension: str) -> str:
    """Column of Prepared.lines holding a dimension (all dimensions are line columns)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"Unknown dimension '{dimension}'; choose one of {', '.join(DIMENSIONS)}.")
    return dimension


def segment_label(dimension: str, segment: str) -> str:
    if dimension == "intent":
        return INTENT_LABELS.get(segment, segment)
    return str(segment)


def _keys(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna(NOT_SET).astype(object)


def _scope(prepared: Prepared, within: tuple[str, str] | None) -> pd.DataFrame:
    lines = prepared.mature_lines
    if within is not None:
        if len(within) != 2:
            raise ValueError("within must be a (dimension, value) pair, e.g. ('collection', 'Linen Shirts').")
        col = dimension_column(within[0])
        lines = lines[_keys(lines[col]) == str(within[1])]
    return lines


def reason_mix(returns: pd.DataFrame) -> dict[str, float]:
    """Share of returned units by reason_category (largest first); empty dict when no returns."""
    if returns is None or not len(returns):
        return {}
    q = returns["quantity"].astype("float64")
    s = q.groupby(returns["reason_category"].astype("string").fillna("unknown").astype(object)).sum()
    s = s[s > 0].sort_values(ascending=False)
    tot = float(s.sum())
    return {str(k): float(v) / tot for k, v in s.items()} if tot > 0 else {}


def dominant_reason(mix: dict[str, float]) -> str | None:
    """Largest known reason category (unknown/other only if nothing else was recorded)."""
    known = [k for k in mix if k not in ("unknown", "other")]
    if known:
        return known[0]
    return next(iter(mix), None)


def mature_returns(prepared: Prepared) -> pd.DataFrame:
    """Matched returns of mature orders (the returns behind every rate)."""
    rets = prepared.returns
    if not len(rets):
        return rets
    mature_ids = prepared.mature_orders["order_id"]
    return rets[rets["order_id"].isin(mature_ids)]


def top_reasons_by(rets: pd.DataFrame, column: str) -> pd.Series:
    """Dominant reason category per segment of `column` (index = segment key)."""
    if not len(rets):
        return pd.Series(dtype=object)
    key = _keys(rets[column])
    cat = rets["reason_category"].astype("string").fillna("unknown").astype(object)
    known = ~cat.isin(["unknown", "other"])
    frame = pd.DataFrame({"k": key, "c": cat, "q": rets["quantity"].astype("float64"), "known": known})
    # known reasons first; unknown/other only where a segment has nothing else
    agg = frame.groupby(["k", "known", "c"], sort=False)["q"].sum().reset_index()
    agg = agg.sort_values(["known", "q"], ascending=[False, False]).drop_duplicates("k")
    return agg.set_index("k")["c"]


def cluster_counts(keys: pd.Series, order_id: pd.Series, x: pd.Series, n: pd.Series) -> pd.DataFrame:
    """Per-segment counts, Rao-Scott design effects of the segment and of its complement, and the
    order-level table, from per-order sums (vectorised; METHOD 4.2).

    Returns one row per segment (index = segment key) with x, n, rest_x, rest_n, deff, rest_deff,
    orders (orders with segment units), orders_returned (of those, with a returned segment unit),
    rest_orders, rest_orders_returned.

    The complement's ratio-estimator variance is sum over ALL orders of
    ((Y_o - y_os) - p_r (M_o - m_os))^2, expanded as order-total sums minus per-segment cross sums,
    so it needs no loop over segments.
    """
    ocode, _ = pd.factorize(order_id, sort=False)
    scode, suniq = pd.factorize(keys, sort=False)
    xv = np.asarray(x, dtype="float64")
    nv = np.asarray(n, dtype="float64")
    G = int(ocode.max()) + 1 if len(ocode) else 0
    Y = np.bincount(ocode, weights=xv, minlength=G)
    M = np.bincount(ocode, weights=nv, minlength=G)
    so = pd.DataFrame({"s": scode, "o": ocode, "y": xv, "m": nv}).groupby(["s", "o"], sort=False).sum().reset_index()
    s, o, y, m = so["s"].to_numpy(), so["o"].to_numpy(), so["y"].to_numpy(), so["m"].to_numpy()
    Yo, Mo = Y[o], M[o]
    S = len(suniq)

    def ssum(v):
        return np.bincount(s, weights=v, minlength=S)

    xs, ns = ssum(y), ssum(m)
    X, N = Y.sum(), M.sum()
    xr, nr = X - xs, N - ns
    with np.errstate(divide="ignore", invalid="ignore"):
        pr = np.where(nr > 0, xr / nr, np.nan)
        A, B, C = (Y * Y).sum(), (Y * M).sum(), (M * M).sum()
        cross = ssum(Yo * y) - pr * ssum(Yo * m) - pr * ssum(Mo * y) + pr * pr * ssum(Mo * m)
        own = ssum(y * y) - 2 * pr * ssum(y * m) + pr * pr * ssum(m * m)
        ss = np.clip(A - 2 * pr * B + pr * pr * C - 2 * cross + own, 0, None)
        full = ssum((m >= Mo).astype("float64"))  # orders entirely inside the segment
        g_r = G - full
        v = np.where(g_r > 1, g_r / (g_r - 1) * ss / (nr * nr), np.nan)
        base = pr * (1 - pr) / nr
        rest_deff = np.where((base > 0) & np.isfinite(v), np.maximum(v / base, 1.0), 1.0)

    seg_frame = pd.DataFrame({"s": s, "o": o, "y": y, "m": m})
    rs = stats.rao_scott_deff(seg_frame, "s", "o", "y", "m")
    deff = rs["deff"].reindex(np.arange(S)).to_numpy(dtype="float64")
    deff = np.where(np.isfinite(deff), np.maximum(deff, 1.0), 1.0)

    orders_s = ssum((m > 0).astype("float64"))
    orders_ret_s = ssum((y > 0).astype("float64"))
    n_orders_with_return = float((Y > 0).sum())
    rest_left = ((Yo - y) <= 0) & (Yo > 0)  # orders whose only returned units are the segment's
    rest_orders = G - full
    rest_orders_ret = n_orders_with_return - ssum(rest_left.astype("float64"))
    return pd.DataFrame({
        "x": xs, "n": ns, "rest_x": xr, "rest_n": nr, "deff": deff, "rest_deff": rest_deff,
        "orders": orders_s, "orders_returned": orders_ret_s,
        "rest_orders": rest_orders, "rest_orders_returned": rest_orders_ret,
    }, index=pd.Index(suniq, name="segment"))


def _min_expected(x1, n1, x2, n2):
    n = n1 + n2
    col1 = x1 + x2
    col0 = n - col1
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.minimum.reduce([n1 * col1 / n, n1 * col0 / n, n2 * col1 / n, n2 * col0 / n])
    return e


def compare_segments(c: pd.DataFrame) -> pd.DataFrame:
    """Tests and intervals for the output of cluster_counts (one row per segment).

    Adds x_eff/n_eff, ci, diff, Newcombe interval, p_value (higher), p_lower, test.
    """
    out = c.copy()
    x1 = out["x"] / out["deff"]
    n1 = out["n"] / out["deff"]
    x2 = out["rest_x"] / out["rest_deff"]
    n2 = out["rest_n"] / out["rest_deff"]
    out["returned_eff"], out["n_eff"] = x1, n1
    for col in ("ci_low", "ci_high", "diff", "diff_low", "diff_high", "p_value", "p_lower"):
        out[col] = np.nan
    out["test"] = None
    ok = ((out["n"] > 0) & (out["rest_n"] > 0)).to_numpy()
    if not ok.any():
        return out
    a = [np.asarray(v, dtype="float64")[ok] for v in (x1, n1, x2, n2)]
    hi = stats.segment_vs_rest(*a, alternative="larger")
    lo = stats.segment_vs_rest(*a, alternative="smaller")
    p_hi = np.asarray(hi["p_value"], dtype="float64").copy()
    p_lo = np.asarray(lo["p_value"], dtype="float64").copy()
    test = np.asarray(hi["test"], dtype=object).copy()
    small = _min_expected(*a) < 5
    if small.any():
        # METHOD 2.2: small segment -> order-level table (clustering disappears), Fisher if E_min < 5
        ob = [np.asarray(out[k], dtype="float64")[ok][small]
              for k in ("orders_returned", "orders", "rest_orders_returned", "rest_orders")]
        valid = (ob[1] > 0) & (ob[3] > 0)
        idx = np.flatnonzero(small)[valid]
        if valid.any():
            ob = [v[valid] for v in ob]
            ohi = stats.segment_vs_rest(*ob, alternative="larger")
            olo = stats.segment_vs_rest(*ob, alternative="smaller")
            p_hi[idx] = np.asarray(ohi["p_value"], dtype="float64")
            p_lo[idx] = np.asarray(olo["p_value"], dtype="float64")
            test[idx] = np.asarray(ohi["test"], dtype=object)
    out.loc[ok, "ci_low"] = np.asarray(hi["ci_low"], dtype="float64")
    out.loc[ok, "ci_high"] = np.asarray(hi["ci_high"], dtype="float64")
    out.loc[ok, "diff"] = np.asarray(hi["diff"], dtype="float64")
    out.loc[ok, "diff_low"] = np.asarray(hi["diff_low"], dtype="float64")
    out.loc[ok, "diff_high"] = np.asarray(hi["diff_high"], dtype="float64")
    out.loc[ok, "p_value"] = p_hi
    out.loc[ok, "p_lower"] = p_lo
    out.loc[ok, "test"] = test
    return out


def verdicts(p_value, q_value, q_lower, q: float) -> tuple[np.ndarray, np.ndarray]:
    """(verdict words, direction) from one-sided p/q values."""
    p_value, q_value, q_lower = (np.asarray(v, dtype="float64") for v in (p_value, q_value, q_lower))
    higher = q_value <= q
    lower = (q_lower <= q) & ~higher
    border = ~higher & ~lower & (p_value < BORDERLINE_P)
    verdict = np.where(higher, VERDICTS[0], np.where(border, VERDICTS[1], np.where(lower, VERDICTS[3], VERDICTS[2])))
    direction = np.where(higher, "higher", np.where(lower, "lower", None)).astype(object)
    direction[~(higher | lower)] = None
    return verdict.astype(object), direction


def score_segments(cmp: pd.DataFrame, *, p0: float, cost_per_return: float, q: float) -> pd.DataFrame:
    """BH within the family, EB shrinkage, excess returns and priority (METHOD 5, 6.2, 6.4)."""
    out = cmp.copy()
    out["q_value"] = stats.bh_adjust(out["p_value"].to_numpy(dtype="float64"))
    out["q_lower"] = stats.bh_adjust(out["p_lower"].to_numpy(dtype="float64"))
    xe, ne = out["returned_eff"].to_numpy(dtype="float64"), out["n_eff"].to_numpy(dtype="float64")
    good = ne > 0
    shrunk = np.full(len(out), np.nan)
    if good.sum() >= 2:
        prior = stats.fit_beta_prior(xe[good], ne[good])
        sh = stats.shrink(xe[good], ne[good], prior)
        shrunk[good] = np.asarray(sh["posterior_mean"], dtype="float64")
    elif good.any():
        shrunk[good] = xe[good] / ne[good]
    out["shrunk_rate"] = shrunk
    x, n = out["x"].to_numpy(dtype="float64"), out["n"].to_numpy(dtype="float64")
    q_for_gate = np.where(np.isnan(out["q_value"].to_numpy(dtype="float64")), 1.0, out["q_value"].to_numpy(dtype="float64"))
    ex = stats.excess_returns(x, n, p0, np.where(np.isnan(shrunk), p0, shrunk), cost_per_return, q_for_gate, q_threshold=q)
    out["expected_returns"] = np.asarray(ex["expected"], dtype="float64")
    out["excess_returns"] = np.asarray(ex["excess"], dtype="float64")
    out["excess_cost"] = np.asarray(ex["excess_cost"], dtype="float64")
    out["shrunk_excess"] = np.asarray(ex["shrunk_excess"], dtype="float64")
    # "at least" excess from the one-sided Wilson bound on EFFECTIVE counts (clustering-honest)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.asarray(stats.wilson_lower_one_sided(xe, ne), dtype="float64")
    out["conservative_excess"] = np.where(ne > 0, n * np.maximum(0.0, lower - p0), 0.0)
    out["conservative_excess_cost"] = out["conservative_excess"] * cost_per_return
    out["priority_score"] = np.asarray(ex["priority_score"], dtype="float64")
    verdict, direction = verdicts(out["p_value"], out["q_value"], out["q_lower"], q)
    out["verdict"] = verdict
    out["direction"] = direction
    out["significant"] = pd.Series(direction, index=out.index).notna().to_numpy()
    return out


def segment_table(prepared: Prepared, dimension: str, *, alternative: str = "larger", q: float = 0.10,
                  cost_per_return: float, within: tuple[str, str] | None = None,
                  returns: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every segment of `dimension` against the rest (see module docstring for the method).

    Parameters: dimension - one of DIMENSIONS; alternative - "larger" (fix-list question, default) or
    "smaller": which one-sided p is reported as p_value (the other is p_lower / the reverse);
    q - FDR level for `significant` and the priority gate; cost_per_return - currency per returned
    unit; within - (dimension, value) restricting to a parent segment for drill-downs (children are
    compared with the rest of the parent, p0 is the parent's rate); returns - the mature returns
    (computed when omitted; pass it to save time when calling for many dimensions).

    Returns one row per segment, columns SEGMENT_COLUMNS, sorted by priority then excess; empty
    frame when the dimension has no data (prepared.has).

    >>> from data.demo import generate_dataset
    >>> from analysis.prepare import prepare
    >>> t = segment_table(prepare(generate_dataset(seed=1, n_orders=3000)), "intent", cost_per_return=20.0)
    >>> set(t["segment"]) <= {"single_item", "bracketing", "multi_item", "full_refresh"}
    True
    """
    col = dimension_column(dimension)
    if alternative not in ("larger", "smaller"):
        raise ValueError("alternative must be 'larger' (segment worse than the rest) or 'smaller'.")
    if not (0 < q < 1):
        raise ValueError("q must be a false discovery rate between 0 and 1, e.g. 0.10.")
    if cost_per_return is None or not (cost_per_return >= 0):
        raise ValueError("cost_per_return must be a non-negative number (currency per returned unit).")
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in SEGMENT_COLUMNS})
    if not prepared.has(col):
        return empty
    lines = _scope(prepared, within)
    if lines.empty or lines["quantity"].sum() <= 0:
        return empty
    keys = _keys(lines[col])
    c = cluster_counts(keys, lines["order_id"], lines["returned_units"], lines["quantity"])
    p0 = float(c["x"].sum() / c["n"].sum())
    cmp = compare_segments(c)
    if alternative == "smaller":
        cmp["p_value"], cmp["p_lower"] = cmp["p_lower"].copy(), cmp["p_value"].copy()
    out = score_segments(cmp, p0=p0, cost_per_return=float(cost_per_return), q=q)
    out = out.reset_index().rename(columns={"x": "returned", "rest_x": "rest_returned"})
    out["dimension"] = dimension
    out["label"] = [segment_label(dimension, s) for s in out["segment"]]
    out["basis"] = "units" if dimension in LINE_DIMENSIONS else "orders"
    with np.errstate(divide="ignore", invalid="ignore"):
        out["return_rate"] = out["returned"] / out["n"]
        out["baseline_rate"] = out["rest_returned"] / out["rest_n"]
        out["order_return_rate"] = out["orders_returned"] / out["orders"]
    out["population_rate"] = p0
    rets = mature_returns(prepared) if returns is None else returns
    if within is not None and len(rets):
        rets = rets[_keys(rets[within[0]]) == str(within[1])]
    top = top_reasons_by(rets, col) if len(rets) else pd.Series(dtype=object)
    out["top_reason"] = out["segment"].map(top).astype(object)
    out["top_reason"] = out["top_reason"].where(out["top_reason"].notna(), None)
    for k in ("n", "returned", "rest_n", "rest_returned", "orders", "orders_returned"):
        out[k] = out[k].round().astype("int64")
    out = out.sort_values(["priority_score", "excess_returns"], ascending=[False, False], kind="stable")
    return out[SEGMENT_COLUMNS].reset_index(drop=True)


def all_segments(prepared: Prepared, *, q: float = 0.10, cost_per_return: float,
                 dimensions: tuple[str, ...] = DIMENSIONS) -> pd.DataFrame:
    """segment_table for every dimension with data, stacked (each dimension its own BH family)."""
    rets = mature_returns(prepared)
    frames = [segment_table(prepared, d, q=q, cost_per_return=cost_per_return, returns=rets)
              for d in dimensions if prepared.has(dimension_column(d))]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SEGMENT_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def reason_label(category: str | None) -> str:
    if category is None:
        return "no reason recorded"
    return CATEGORIES.get(category, (category, ""))[0]
