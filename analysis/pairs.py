"""Items bought together: is a pair of collections (or products) worse than its parts? (METHOD 7)

For every pair A + B (names in alphabetical order) bought in the same order:

1. support gate: n_AB (orders with both) >= 30 and n_AB * p0 >= 5, p0 = order return rate of mature
   orders; support = n_AB / N, co-purchase lift = n_AB N / (n_A n_B) (association-rule lift);
2. the order-level interaction of METHOD 7.2 on the four basket cells (neither / A only / B only /
   both; outcome = order had any return): log of the ratio of odds ratios and its SE
   (stats.pair_interaction), ADJUSTED FOR BASKET SIZE by stratifying the cells by basket-size band
   (2, 3, 4-5, 6+ units; single-unit orders cannot hold a pair) and combining the per-band log ratios
   with inverse-variance (Woolf) weights, the fixed-effect analogue of Mantel-Haenszel for an
   interaction term (Woolf 1955; METHOD 7.5). Chosen over a per-pair GLM with a basket-size covariate
   because it is closed-form and vectorised over hundreds of pairs (a GLM per pair would take seconds).
   Bands where a cell is 0 or all-returned get 0.5 added to each outcome count (Haldane). p_value is
   one-sided "pair worse than its parts" (z > 0); BH within the pairs family (gated pairs only).
3. rates are unit rates of the orders containing both: return_rate = returned units / units of those
   orders; baseline_rate = what the parts predict on the additive scale, band by band
   (r_A-only + r_B-only - r_neither, unit rates of each cell in the same basket-size band, METHOD 7.2:
   "more returns than expected" is an additive cost statement). excess_returns = returned - expected;
   the EB prior (METHOD 7.4) is fitted over the gated pairs on Rao-Scott effective counts (cluster =
   order); shrunk_excess = units * (shrunk_rate - baseline_rate); priority = gate * shrunk excess * cost.

Product pairs are analysed only for the `max_items` products with most units (vectorised self-merge
of distinct (order, item) rows; fast on 1M lines).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from scipy import stats as sps

from analysis import stats
from analysis.prepare import Prepared
from analysis.segments import BORDERLINE_P, NOT_SET, VERDICTS, line_codes, mature_frames, top_reasons_by

MIN_PAIR_ORDERS = 30
MIN_EXPECTED_RETURNS = 5.0
BANDS = ("2", "3", "4-5", "6+")

PAIR_COLUMNS = [
    "dimension", "level", "segment", "label", "item_a", "item_b", "basis", "n", "returned", "return_rate",
    "baseline_rate", "orders", "orders_returned", "order_return_rate", "expected_order_rate", "n_a", "n_b",
    "support", "lift", "gate_support", "interaction_log_or", "interaction_se", "interaction_z",
    "crude_interaction_log_or", "p_value", "q_value", "significant", "direction", "verdict", "deff",
    "ci_low", "ci_high", "shrunk_rate", "expected_returns", "excess_returns", "excess_cost", "shrunk_excess",
    "conservative_excess", "conservative_excess_cost", "priority_score", "top_reason", "test",
]


def _band(units: np.ndarray) -> np.ndarray:
    """Basket-size band code: 0 = 2 units, 1 = 3, 2 = 4-5, 3 = 6+, -1 = single unit."""
    return np.select([units <= 1, units == 2, units == 3, units <= 5], [-1, 0, 1, 2], 3)


def _pick(d: dict, *names):
    for k in names:
        if k in d:
            return np.asarray(d[k], dtype="float64")
    raise KeyError(f"stats.pair_interaction returned none of {names}")


def _interaction(x00, n00, x10, n10, x01, n01, x11, n11) -> tuple[np.ndarray, np.ndarray]:
    """Log ratio of odds ratios and SE per row, with Haldane's 0.5 where a cell is degenerate."""
    xs = [np.asarray(v, dtype="float64") for v in (x00, x10, x01, x11)]
    ns = [np.asarray(v, dtype="float64") for v in (n00, n10, n01, n11)]
    bad = np.zeros(xs[0].shape, dtype=bool)
    for x, n in zip(xs, ns):
        bad |= (x <= 0) | (x >= n)
    xs = [np.where(bad, x + 0.5, x) for x in xs]
    ns = [np.where(bad, n + 1.0, n) for n in ns]
    r = stats.pair_interaction(xs[0], ns[0], xs[1], ns[1], xs[2], ns[2], xs[3], ns[3])
    return _pick(r, "interaction_log_or", "log_ratio_or", "log_ror", "estimate"), _pick(r, "interaction_se", "se")


def pair_table(prepared: Prepared, level: str = "collection", *, q: float = 0.10, cost_per_return: float,
               max_items: int = 40, min_orders: int = MIN_PAIR_ORDERS, returns: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pairs of `level` items ("collection" or "product") bought together, tested and scored.

    Returns one row per pair seen in at least one multi-unit mature order with n_AB >= 2, columns
    PAIR_COLUMNS, sorted by priority; pairs failing the support gate keep p/q = NaN.
    """
    if level not in ("collection", "product", "category"):
        raise ValueError("level must be 'collection', 'category' or 'product'.")
    if cost_per_return is None or not (cost_per_return >= 0):
        raise ValueError("cost_per_return must be a non-negative number (currency per returned unit).")
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in PAIR_COLUMNS})
    if not prepared.has(level):
        return empty
    lines, _, mrets = mature_frames(prepared)
    if lines.empty:
        return empty
    lc, ll = line_codes(prepared, level)
    li_all, ouniq = line_codes(prepared, "order_id")
    qty = lines["quantity"].to_numpy(dtype="float64")
    # per-order arrays from the lines (same orders as Prepared.orders' mature rows)
    N_all = len(ouniq)
    o_units = np.bincount(li_all, weights=qty, minlength=N_all)
    o_ret = np.bincount(li_all, weights=lines["returned_units"].to_numpy(dtype="float64"), minlength=N_all)
    o_any = o_ret > 0
    p0 = float(o_any.mean()) if N_all else float("nan")
    valid = ll != NOT_SET
    if level == "product":
        vol = np.bincount(lc, weights=qty, minlength=len(ll)) * valid
        valid = np.zeros(len(ll), dtype=bool)
        valid[np.argsort(-vol, kind="stable")[:max_items]] = True
        valid &= vol > 0
    kept_codes = np.flatnonzero(valid)
    iuniq = np.asarray(sorted(ll[kept_codes]), dtype=object)  # alphabetical: "A + B" with A < B
    rank = np.full(len(ll), -1)
    rank[kept_codes] = pd.Index(iuniq).get_indexer(ll[kept_codes])
    icode_line = rank[lc]
    keep = icode_line >= 0
    oi = pd.DataFrame({"o": li_all[keep], "i": icode_line[keep]}).drop_duplicates()
    n_i_all = np.bincount(oi["i"], minlength=len(iuniq)).astype("float64")  # orders containing item (all sizes)
    omap = pd.Series(np.arange(N_all), index=pd.Index(ouniq))

    band = _band(o_units)
    multi = band >= 0
    oi = oi[multi[oi["o"].to_numpy()]]
    if oi.empty:
        return empty
    oi = oi.assign(b=band[oi["o"].to_numpy()])
    nb = len(BANDS)
    # band totals over multi-unit orders
    Nb = np.bincount(band[multi], minlength=nb).astype("float64")
    Xb = np.bincount(band[multi], weights=o_any[multi].astype("float64"), minlength=nb)
    Ub = np.bincount(band[multi], weights=o_units[multi], minlength=nb)
    Rb = np.bincount(band[multi], weights=o_ret[multi], minlength=nb)
    # per (item, band)
    ib = oi["i"].to_numpy() * nb + oi["b"].to_numpy()
    K = len(iuniq) * nb
    o_idx = oi["o"].to_numpy()
    nI = np.bincount(ib, minlength=K).astype("float64")
    xI = np.bincount(ib, weights=o_any[o_idx].astype("float64"), minlength=K)
    uI = np.bincount(ib, weights=o_units[o_idx], minlength=K)
    rI = np.bincount(ib, weights=o_ret[o_idx], minlength=K)
    # per (pair, band): self-merge of distinct (order, item)
    pr = oi.merge(oi[["o", "i"]], on="o", suffixes=("a", "b"))
    pr = pr[pr["ia"] < pr["ib"]]
    if pr.empty:
        return empty
    po = pr["o"].to_numpy()
    pkey = pr["ia"].to_numpy().astype("int64") * len(iuniq) + pr["ib"].to_numpy()
    pcode, puniq = pd.factorize(pkey, sort=True)
    P = len(puniq)
    pb = pcode * nb + pr["b"].to_numpy()
    nAB = np.bincount(pb, minlength=P * nb).astype("float64").reshape(P, nb)
    xAB = np.bincount(pb, weights=o_any[po].astype("float64"), minlength=P * nb).reshape(P, nb)
    uAB = np.bincount(pb, weights=o_units[po], minlength=P * nb).reshape(P, nb)
    rAB = np.bincount(pb, weights=o_ret[po], minlength=P * nb).reshape(P, nb)
    ia, ibb = puniq // len(iuniq), puniq % len(iuniq)
    nAB_tot = nAB.sum(axis=1)
    sel = nAB_tot >= 2
    ia, ibb, puniq = ia[sel], ibb[sel], puniq[sel]
    nAB, xAB, uAB, rAB = nAB[sel], xAB[sel], uAB[sel], rAB[sel]
    keep_codes = np.flatnonzero(sel)
    P = len(puniq)
    if P == 0:
        return empty

    def item_band(arr, codes):
        return arr.reshape(len(iuniq), nb)[codes]

    nA, xA, uA, rA = (item_band(a, ia) for a in (nI, xI, uI, rI))
    nB, xB, uB, rB = (item_band(a, ibb) for a in (nI, xI, uI, rI))
    n10, x10, u10, r10 = nA - nAB, xA - xAB, uA - uAB, rA - rAB
    n01, x01, u01, r01 = nB - nAB, xB - xAB, uB - uAB, rB - rAB
    n00 = Nb - nA - nB + nAB
    x00 = Xb - xA - xB + xAB
    u00 = Ub - uA - uB + uAB
    r00 = Rb - rA - rB + rAB

    # additive expectation of the unit rate, band by band (fall back to the band rate if a cell is empty)
    with np.errstate(divide="ignore", invalid="ignore"):
        band_rate = np.where(Ub > 0, Rb / Ub, 0.0)
        rate = [np.where(u > 0, r / u, band_rate) for r, u in ((r10, u10), (r01, u01), (r00, u00))]
        e_unit = np.clip(rate[0] + rate[1] - rate[2], 0.0, 1.0)
        o_rate = [np.where(n > 0, x / n, np.where(Nb > 0, Xb / Nb, 0.0)) for x, n in ((x10, n10), (x01, n01), (x00, n00))]
        e_order = np.clip(o_rate[0] + o_rate[1] - o_rate[2], 0.0, 1.0)
    units = uAB.sum(axis=1)
    returned = rAB.sum(axis=1)
    expected = (uAB * e_unit).sum(axis=1)
    orders_ab = nAB.sum(axis=1)
    orders_ret = xAB.sum(axis=1)

    # band-stratified interaction (inverse-variance combination of per-band log ratios of ORs)
    informative = (nAB > 0) & (n10 > 0) & (n01 > 0) & (n00 > 0)
    L, se = _interaction(*(np.where(informative, v, 1.0) for v in (x00, n00, x10, n10, x01, n01, xAB, nAB)))
    w = np.where(informative & np.isfinite(se) & (se > 0), 1.0 / np.where(se > 0, se, 1.0) ** 2, 0.0)
    wsum = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        L_adj = np.where(wsum > 0, (w * np.nan_to_num(L)).sum(axis=1) / wsum, np.nan)
        se_adj = np.where(wsum > 0, 1.0 / np.sqrt(wsum), np.nan)
        z = L_adj / se_adj
    crude_cells = [v.sum(axis=1) for v in (x00, n00, x10, n10, x01, n01, xAB, nAB)]
    ok_crude = (crude_cells[1] > 0) & (crude_cells[3] > 0) & (crude_cells[5] > 0)
    Lc, _ = _interaction(*(np.where(ok_crude, v, 1.0) for v in crude_cells))
    Lc = np.where(ok_crude, Lc, np.nan)

    gate = (orders_ab >= min_orders) & (orders_ab * p0 >= MIN_EXPECTED_RETURNS) & np.isfinite(z)
    p_value = np.where(gate, sps.norm.sf(z), np.nan)
    q_value = stats.bh_adjust(p_value)

    # Rao-Scott deff per pair (cluster = order; every unit of the order belongs to the pair's basket)
    pair_idx = pd.Series(np.arange(P), index=keep_codes)
    pr_rows = pr.assign(code=pcode)
    pr_rows = pr_rows[sel[pr_rows["code"].to_numpy()]]
    frame = pd.DataFrame({"p": pair_idx.reindex(pr_rows["code"].to_numpy()).to_numpy(), "o": pr_rows["o"].to_numpy()})
    frame["y"], frame["m"] = o_ret[frame["o"].to_numpy()], o_units[frame["o"].to_numpy()]
    rs = stats.rao_scott_deff(frame, "p", "o", "y", "m")
    deff = np.maximum(rs["deff"].reindex(np.arange(P)).to_numpy(dtype="float64"), 1.0)
    deff = np.where(np.isfinite(deff), deff, 1.0)
    xe, ne = returned / deff, units / deff
    ci_low, ci_high = stats.wilson_interval(xe, ne)
    with np.errstate(divide="ignore", invalid="ignore"):
        base_rate = np.where(units > 0, expected / units, np.nan)
    shrunk = np.where(ne > 0, xe / np.where(ne > 0, ne, 1.0), np.nan)
    if gate.sum() >= 3:
        try:
            prior = stats.fit_beta_prior(xe[gate], ne[gate])
            shrunk = np.asarray(stats.shrink(xe, ne, prior)["posterior_mean"], dtype="float64")
        except ValueError:  # prior not estimable (all rates 0/1): keep raw rates
            pass
    qg = np.where(np.isnan(q_value), 1.0, q_value)
    ex = stats.excess_returns(returned, units, np.nan_to_num(base_rate), np.nan_to_num(shrunk), float(cost_per_return),
                              qg, q_threshold=q)
    lower = np.nan_to_num(np.asarray(stats.wilson_lower_one_sided(xe, ne), dtype="float64"))
    conservative = units * np.maximum(0.0, lower - np.nan_to_num(base_rate))
    lift = np.asarray(stats.co_purchase_lift(orders_ab, n_i_all[ia], n_i_all[ibb], N_all), dtype="float64")

    higher = qg <= q
    border = ~higher & (np.nan_to_num(p_value, nan=1.0) < BORDERLINE_P)
    verdict = np.where(higher, VERDICTS[0], np.where(border, VERDICTS[1], VERDICTS[2]))
    names_a = np.asarray(iuniq, dtype=object)[ia]
    names_b = np.asarray(iuniq, dtype=object)[ibb]
    segs = [f"{a} + {b}" for a, b in zip(names_a, names_b)]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "dimension": "combination", "level": level, "segment": segs, "label": segs,
            "item_a": names_a, "item_b": names_b, "basis": "units",
            "n": units.round().astype("int64"), "returned": returned.round().astype("int64"),
            "return_rate": returned / units, "baseline_rate": base_rate,
            "orders": orders_ab.astype("int64"), "orders_returned": orders_ret.astype("int64"),
            "order_return_rate": orders_ret / orders_ab,
            "expected_order_rate": (nAB * e_order).sum(axis=1) / orders_ab,
            "n_a": n_i_all[ia].astype("int64"), "n_b": n_i_all[ibb].astype("int64"),
            "support": orders_ab / N_all, "lift": lift, "gate_support": gate,
            "interaction_log_or": L_adj, "interaction_se": se_adj, "interaction_z": z,
            "crude_interaction_log_or": Lc, "p_value": p_value, "q_value": q_value,
            "significant": higher, "direction": np.where(higher, "higher", None).astype(object),
            "verdict": verdict, "deff": deff, "ci_low": ci_low, "ci_high": ci_high, "shrunk_rate": shrunk,
            "expected_returns": expected, "excess_returns": returned - expected,
            "excess_cost": (returned - expected) * float(cost_per_return),
            "shrunk_excess": np.asarray(ex["shrunk_excess"], dtype="float64"),
            "conservative_excess": conservative, "conservative_excess_cost": conservative * float(cost_per_return),
            "priority_score": np.asarray(ex["priority_score"], dtype="float64"),
            "top_reason": None, "test": "interaction (basket-size stratified)",
        })
    out["direction"] = out["direction"].where(out["significant"], None)
    rets = mrets if returns is None else returns
    if len(rets) and gate.any():
        # dominant reason among returned A/B items of the orders holding both (vectorised)
        g_rows = frame[gate[frame["p"].to_numpy()]]
        r_o = omap.reindex(rets["order_id"].to_numpy()).to_numpy()
        r_i = pd.Index(iuniq).get_indexer(rets[level].astype("string").fillna("").to_numpy())
        ok = ~np.isnan(r_o) & (r_i >= 0)
        rc = pd.DataFrame({"o": r_o[ok].astype("int64"), "i": r_i[ok], "quantity": rets["quantity"].to_numpy()[ok],
                           "reason_category": rets["reason_category"].to_numpy()[ok]})
        m = g_rows[["p", "o"]].merge(rc, on="o")
        pa, pb_ = ia[m["p"].to_numpy()], ibb[m["p"].to_numpy()]
        m = m[(m["i"].to_numpy() == pa) | (m["i"].to_numpy() == pb_)]
        if len(m):
            top = top_reasons_by(m.assign(k=m["p"].astype("string")), "k")
            out["top_reason"] = pd.Series(np.arange(P).astype(str)).map(top).to_numpy()
            out["top_reason"] = out["top_reason"].where(out["top_reason"].notna(), None)
    out = out.sort_values(["priority_score", "excess_returns"], ascending=[False, False], kind="stable")
    return out[PAIR_COLUMNS].reset_index(drop=True)


def pair_order_ids(prepared: Prepared, level: str, a: str, b: str) -> np.ndarray:
    """Mature orders (ids) that contain both item a and item b of `level`."""
    lc, ll = line_codes(prepared, level)
    oc, ou = line_codes(prepared, "order_id")
    ia, ib = np.flatnonzero(ll == a), np.flatnonzero(ll == b)
    if not len(ia) or not len(ib):
        return np.asarray([], dtype=object)
    both = np.intersect1d(oc[lc == ia[0]], oc[lc == ib[0]])
    return ou[both]


def pair_returns(prepared: Prepared, rets: pd.DataFrame, level: str, a: str, b: str) -> pd.DataFrame:
    """Returns of A or B items from mature orders that contained both A and B."""
    ids = pair_order_ids(prepared, level, a, b)
    return rets[rets[level].isin([a, b]).fillna(False).to_numpy() & rets["order_id"].isin(ids).to_numpy()]


def with_pair_scope(prepared: Prepared, segment: str, level: str | None = None) -> Prepared:
    """A view of `prepared` in which the lines and returns of a pair carry a "combination" column.

    The A and B lines of mature orders that contain both items get `segment` ("A + B"); everything
    else is missing. Any per-segment analysis (reason mix, comments, briefs) then works for a pair
    exactly as for a collection.
    """
    if " + " not in str(segment):
        raise ValueError(f"A combination segment is 'A + B', got {segment!r}.")
    if "combination" in prepared.lines.columns:
        return prepared
    level = level or ("collection" if prepared.has("collection") else "product")
    a, b = (s.strip() for s in str(segment).split(" + ", 1))
    ids = pair_order_ids(prepared, level, a, b)

    def tag(df: pd.DataFrame) -> pd.DataFrame:
        hit = (df["order_id"].isin(ids) & df[level].isin([a, b])).fillna(False).to_numpy(dtype=bool)
        col = pd.Series(pd.NA, index=df.index, dtype="string")
        col[hit] = str(segment)
        return df.assign(combination=col)

    return replace(prepared, lines=tag(prepared.lines), returns=tag(prepared.returns))
