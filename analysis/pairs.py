"""Items bought together: is a pair of collections (or products) worse than its parts? (METHOD 7)

For every pair A + B (names in alphabetical order) bought in the same order:

1. support gate: n_AB (orders with both) >= 30 and n_AB * p0 >= 5, p0 = order return rate of mature
   orders; support = n_AB / N, co-purchase lift = n_AB N / (n_A n_B) (association-rule lift);
2. the test (p_value, one-sided "the pair's units return more than its parts predict"): the A and B
   units of the orders holding both, against each item's OWN unit rate in orders of the same
   basket-size band (2, 3, 4-5, 6+ units) that do not hold the other item - indirect standardisation
   within band (METHOD 7.3 "does B raise A's returns?", both ways at once; METHOD 7.5 basket size).
   An item's own effect (a collection that returns a lot everywhere) is in its expectation, so pairs
   do not inherit their parts' effects (issue 11: the order-level odds-ratio interaction flagged
   0.2-0.4 spurious pairs per dataset with one truly high collection, bench/calibration.py).
   z = (O - E) / sqrt(V_O + V_E): V_O is the cluster-robust variance of the observed returns around
   the null expectation (cluster = order, g/(g-1) factor), floored at the binomial variance; V_E the
   cluster-robust variance of the parts' rates. The order-level interaction of METHOD 7.2 on the
   four basket cells (log ratio of odds ratios, band-stratified, Woolf weights; stats.pair_interaction)
   is still reported (interaction_log_or / _se / _z) as a description, not as the test.
   The pair p-values join the fix list's one false-discovery family (analysis.fixlist.list_wide_fdr);
   q_value here is BH within the pairs, which analyse() replaces by the list-wide q that every page shows.
3. rates are unit rates of the A and B units of the orders containing both: return_rate = returned /
   units; baseline_rate = expected / units (the parts' own rates as above); excess_returns =
   returned - expected. EB shrinkage (METHOD 7.4) pulls each pair toward ITS expected rate from its
   parts (prior strength from the gated pairs on effective counts, deff = robust / binomial variance
   of O); shrunk_excess = units * (shrunk_rate - baseline_rate); priority = gate * shrunk excess * cost.

Product pairs are analysed only for the `max_items` products with most units (vectorised self-merge
of distinct (order, item) rows; fast on 1M lines).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd


from analysis import stats
from analysis.prepare import Prepared
from analysis.segments import BORDERLINE_P, NOT_SET, VERDICTS, eb_shrink, line_codes, mature_frames, top_reasons_by

MIN_PAIR_ORDERS = 30
MIN_EXPECTED_RETURNS = 5.0
BANDS = ("2", "3", "4-5", "6+")

PAIR_COLUMNS = [
    "dimension",
    "level",
    "segment",
    "label",
    "item_a",
    "item_b",
    "basis",
    "n",
    "returned",
    "return_rate",
    "baseline_rate",
    "orders",
    "orders_returned",
    "order_return_rate",
    "expected_order_rate",
    "n_a",
    "n_b",
    "support",
    "lift",
    "gate_support",
    "interaction_log_or",
    "interaction_se",
    "interaction_z",
    "crude_interaction_log_or",
    "p_value",
    "q_value",
    "significant",
    "direction",
    "verdict",
    "deff",
    "ci_low",
    "ci_high",
    "shrunk_rate",
    "expected_returns",
    "excess_returns",
    "excess_cost",
    "shrunk_excess",
    "conservative_excess",
    "conservative_excess_cost",
    "priority_score",
    "top_reason",
    "test",
]


def _band(units: np.ndarray) -> np.ndarray:
    """Basket-size band code: 0 = 2 units, 1 = 3, 2 = 4-5, 3 = 6+, -1 = single unit."""
    return np.select([units <= 1, units == 2, units == 3, units <= 5], [-1, 0, 1, 2], 3)


def _interaction(
    x00: np.ndarray,
    n00: np.ndarray,
    x10: np.ndarray,
    n10: np.ndarray,
    x01: np.ndarray,
    n01: np.ndarray,
    x11: np.ndarray,
    n11: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Log ratio of odds ratios and SE per row, with Haldane's 0.5 where a cell is degenerate."""
    xs = [np.asarray(v, dtype="float64") for v in (x00, x10, x01, x11)]
    ns = [np.asarray(v, dtype="float64") for v in (n00, n10, n01, n11)]
    bad = np.zeros(xs[0].shape, dtype=bool)
    for x, n in zip(xs, ns):
        bad |= (x <= 0) | (x >= n)
    xs = [np.where(bad, x + 0.5, x) for x in xs]
    ns = [np.where(bad, n + 1.0, n) for n in ns]
    r = stats.pair_interaction(xs[0], ns[0], xs[1], ns[1], xs[2], ns[2], xs[3], ns[3])
    return np.asarray(r["interaction_log_or"], dtype="float64"), np.asarray(r["interaction_se"], dtype="float64")


def pair_table(
    prepared: Prepared,
    level: str = "collection",
    *,
    q: float = 0.10,
    cost_per_return: float,
    max_items: int = 40,
    min_orders: int = MIN_PAIR_ORDERS,
    returns: pd.DataFrame | None = None,
) -> pd.DataFrame:
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
    # distinct (order, item) rows with the item's units and returned units in that order
    l_ret = lines["returned_units"].to_numpy(dtype="float64")
    oik, oiu = pd.factorize(li_all[keep].astype("int64") * len(iuniq) + icode_line[keep], sort=False)
    oiu = np.asarray(oiu, dtype="int64")
    n_it = max(len(iuniq), 1)
    oi_o, oi_i = oiu // n_it, oiu % n_it
    oi_m = np.bincount(oik, weights=qty[keep], minlength=len(oiu))
    oi_y = np.bincount(oik, weights=l_ret[keep], minlength=len(oiu))
    # the line-sized arrays go once their sums are taken, and each row-sized one below after its last use: the
    # pair rows of 5M lines (millions of (order, A, B) rows, a dozen arrays of them) peaked the analysis here
    del qty, l_ret, icode_line, keep, oik, oiu
    n_i_all = np.bincount(oi_i, minlength=len(iuniq)).astype("float64")  # orders containing item (all sizes)

    band = _band(o_units)
    multi = band >= 0
    in_multi = multi[oi_o]
    if not in_multi.any():
        return empty
    oi_o, oi_i, oi_m, oi_y = oi_o[in_multi], oi_i[in_multi], oi_m[in_multi], oi_y[in_multi]
    oi_b = band[oi_o]
    nb = len(BANDS)
    # band totals over multi-unit orders
    Nb = np.bincount(band[multi], minlength=nb).astype("float64")
    Xb = np.bincount(band[multi], weights=o_any[multi].astype("float64"), minlength=nb)
    # per (item, band)
    ib = oi_i * nb + oi_b
    K = len(iuniq) * nb
    o_idx = oi_o
    nI = np.bincount(ib, minlength=K).astype("float64")
    xI = np.bincount(ib, weights=o_any[o_idx].astype("float64"), minlength=K)
    uI = np.bincount(ib, weights=o_units[o_idx], minlength=K)
    rI = np.bincount(ib, weights=o_ret[o_idx], minlength=K)
    # per (item, band): units, returns and the sums behind a cluster-robust variance of the item's unit rate
    mI = np.bincount(ib, weights=oi_m, minlength=K)
    yI = np.bincount(ib, weights=oi_y, minlength=K)
    syyI = np.bincount(ib, weights=oi_y**2, minlength=K)
    symI = np.bincount(ib, weights=oi_y * oi_m, minlength=K)
    smmI = np.bincount(ib, weights=oi_m**2, minlength=K)
    del ib, o_idx, in_multi
    # per (pair, band): self-join of the distinct (order, item) rows on the order, A < B
    left, right = _self_join(oi_o, oi_i, N_all)
    if not len(left):
        return empty
    po, pia, pib, pband = oi_o[left], oi_i[left], oi_i[right], oi_b[left]
    ma, ya, mb, yb = oi_m[left], oi_y[left], oi_m[right], oi_y[right]
    del left, right, oi_o, oi_i, oi_m, oi_y, oi_b
    pkey = pia.astype("int64") * len(iuniq) + pib
    del pia, pib
    pcode, puniq = pd.factorize(pkey, sort=True)
    del pkey
    P = len(puniq)
    pb = pcode * nb + pband
    nAB = np.bincount(pb, minlength=P * nb).astype("float64").reshape(P, nb)
    xAB = np.bincount(pb, weights=o_any[po].astype("float64"), minlength=P * nb).reshape(P, nb)
    uAB = np.bincount(pb, weights=o_units[po], minlength=P * nb).reshape(P, nb)
    rAB = np.bincount(pb, weights=o_ret[po], minlength=P * nb).reshape(P, nb)
    # ---- does buying the two together raise the A and B units' returns beyond each item's own rate?
    # Indirect standardisation within basket-size band: expected = A units x A's unit rate in orders of the
    # band WITHOUT B + B units x B's rate in orders without A. An item's own effect (a hot collection) is in
    # its expectation, so sub-pairs of one hot collection are not flagged (issue 11; METHOD 7.3).
    ia0, ib0 = puniq // len(iuniq), puniq % len(iuniq)

    def pbsum(w: np.ndarray, pb: np.ndarray = pb) -> np.ndarray:
        return np.bincount(pb, weights=w, minlength=P * nb).reshape(P, nb)

    def own(arr: np.ndarray, codes: np.ndarray) -> np.ndarray:
        return arr.reshape(len(iuniq), nb)[codes]

    side = {}
    for key, codes, m_, y_ in (("A", ia0, ma, ya), ("B", ib0, mb, yb)):
        u_ab, y_ab = pbsum(m_), pbsum(y_)
        m_out, y_out = own(mI, codes) - u_ab, own(yI, codes) - y_ab  # the item's units in orders without the other
        g_out = own(nI, codes) - nAB
        with np.errstate(divide="ignore", invalid="ignore"):
            r_all = np.where(own(mI, codes) > 0, own(yI, codes) / own(mI, codes), 0.0)
            r = np.clip(np.where(m_out > 0, y_out / m_out, r_all), 0.0, 1.0)
            ss = (
                (own(syyI, codes) - pbsum(y_ * y_))
                - 2 * r * (own(symI, codes) - pbsum(y_ * m_))
                + r * r * (own(smmI, codes) - pbsum(m_ * m_))
            )
            v_bin = np.where(m_out > 0, r * (1 - r) / m_out, 0.0)
            v_rob = np.where((g_out > 1) & (m_out > 0), g_out / (g_out - 1) * np.clip(ss, 0, None) / m_out**2, v_bin)
        side[key] = (u_ab, y_ab, r, np.maximum(v_rob, v_bin))
    (uA_ab, yA_ab, rA_out, vA), (uB_ab, yB_ab, rB_out, vB) = side["A"], side["B"]
    del pb, pbsum, m_, y_  # (pbsum holds pb as its default)
    obs_u = (yA_ab + yB_ab).sum(axis=1)
    units_u = (uA_ab + uB_ab).sum(axis=1)
    exp_u = (uA_ab * rA_out + uB_ab * rB_out).sum(axis=1)
    var_exp = (uA_ab**2 * vA + uB_ab**2 * vB).sum(axis=1)
    # observed: cluster-robust variance around the null expectation (cluster = order), floored at binomial
    resid = ya + yb - ma * rA_out[pcode, pband] - mb * rB_out[pcode, pband]
    del ya, yb, ma, mb, pband
    g_ab = nAB.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_obs_rob = np.where(g_ab > 1, g_ab / (g_ab - 1) * np.bincount(pcode, weights=resid**2, minlength=P), np.nan)
        del resid
        v_obs_bin = (uA_ab * rA_out * (1 - rA_out) + uB_ab * rB_out * (1 - rB_out)).sum(axis=1)
        v_obs = np.fmax(v_obs_rob, v_obs_bin)
        z_u = np.where(v_obs + var_exp > 0, (obs_u - exp_u) / np.sqrt(v_obs + var_exp), np.nan)
        deff_u = np.where(v_obs_bin > 0, np.maximum(v_obs / v_obs_bin, 1.0), 1.0)

    ia, ibb = ia0, ib0
    nAB_tot = nAB.sum(axis=1)
    sel = nAB_tot >= 2
    obs_u, units_u, exp_u, z_u, deff_u = obs_u[sel], units_u[sel], exp_u[sel], z_u[sel], deff_u[sel]
    ia, ibb, puniq = ia[sel], ibb[sel], puniq[sel]
    nAB, xAB, uAB, rAB = nAB[sel], xAB[sel], uAB[sel], rAB[sel]
    keep_codes = np.flatnonzero(sel)
    P = len(puniq)
    if P == 0:
        return empty

    def item_band(arr: np.ndarray, codes: np.ndarray) -> np.ndarray:
        return arr.reshape(len(iuniq), nb)[codes]

    nA, xA, uA, rA = (item_band(a, ia) for a in (nI, xI, uI, rI))
    nB, xB, uB, rB = (item_band(a, ibb) for a in (nI, xI, uI, rI))
    n10, x10 = nA - nAB, xA - xAB
    n01, x01 = nB - nAB, xB - xAB
    n00 = Nb - nA - nB + nAB
    x00 = Xb - xA - xB + xAB

    # additive expectation of the order return rate, band by band (shown beside the order rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        o_rate = [
            np.where(n > 0, x / n, np.where(Nb > 0, Xb / Nb, 0.0)) for x, n in ((x10, n10), (x01, n01), (x00, n00))
        ]
        e_order = np.clip(o_rate[0] + o_rate[1] - o_rate[2], 0.0, 1.0)
    units, returned, expected = units_u, obs_u, exp_u  # the A and B units of the orders holding both
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

    gate = (orders_ab >= min_orders) & (orders_ab * p0 >= MIN_EXPECTED_RETURNS) & np.isfinite(z_u)
    p_value = np.where(gate, stats.norm_sf(z_u), np.nan)
    q_value = stats.bh_adjust(p_value)

    # the pair's (order, pair) rows, for the reasons below; design effect = robust / binomial variance of
    # the A and B units' returns (cluster = order), floored at 1
    pair_pos = np.full(len(sel), -1, dtype="int64")
    pair_pos[keep_codes] = np.arange(P)
    in_sel = sel[pcode]
    frame = pd.DataFrame({"p": pair_pos[pcode[in_sel]], "o": po[in_sel]})
    del pcode, po, in_sel
    deff = deff_u
    xe, ne = returned / deff, units / deff
    ci_low, ci_high = stats.wilson_interval(xe, ne)
    with np.errstate(divide="ignore", invalid="ignore"):
        base_rate = np.where(units > 0, expected / units, np.nan)
    shrunk = np.where(ne > 0, xe / np.where(ne > 0, ne, 1.0), np.nan)
    if gate.sum() >= 3:
        # EB shrinkage toward the pair's OWN expected rate from its parts (not toward the mean of all pairs,
        # which sits below a pair of high-return parts and turned significant pairs' priority negative);
        # prior strength from the gated pairs (METHOD 7.4) by the segments' own eb_shrink - including its
        # fallback when the moment estimate finds no spread beyond chance (mostly null pairs): full pooling
        # set every pair to its expectation, so no pair could ever reach the fix list (bench/calibration.py)
        ok = ne > 0
        shrunk = np.full(len(xe), np.nan)
        shrunk[ok] = eb_shrink(xe[ok], ne[ok], np.nan_to_num(base_rate)[ok], fit=gate[ok])
    qg = np.where(np.isnan(q_value), 1.0, q_value)
    ex = stats.excess_returns(
        returned, units, np.nan_to_num(base_rate), np.nan_to_num(shrunk), float(cost_per_return), qg, q_threshold=q
    )
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
        out = pd.DataFrame(
            {
                "dimension": "combination",
                "level": level,
                "segment": segs,
                "label": segs,
                "item_a": names_a,
                "item_b": names_b,
                "basis": "units",
                "n": units.round().astype("int64"),
                "returned": returned.round().astype("int64"),
                "return_rate": returned / units,
                "baseline_rate": base_rate,
                "orders": orders_ab.astype("int64"),
                "orders_returned": orders_ret.astype("int64"),
                "order_return_rate": orders_ret / orders_ab,
                "expected_order_rate": (nAB * e_order).sum(axis=1) / orders_ab,
                "n_a": n_i_all[ia].astype("int64"),
                "n_b": n_i_all[ibb].astype("int64"),
                "support": orders_ab / N_all,
                "lift": lift,
                "gate_support": gate,
                "interaction_log_or": L_adj,
                "interaction_se": se_adj,
                "interaction_z": z,
                "crude_interaction_log_or": Lc,
                "p_value": p_value,
                "q_value": q_value,
                "significant": higher,
                "direction": np.where(higher, "higher", np.array(None)).astype(object),
                "verdict": verdict,
                "deff": deff,
                "ci_low": ci_low,
                "ci_high": ci_high,
                "shrunk_rate": shrunk,
                "expected_returns": expected,
                "excess_returns": returned - expected,
                "excess_cost": (returned - expected) * float(cost_per_return),
                "shrunk_excess": np.asarray(ex["shrunk_excess"], dtype="float64"),
                "conservative_excess": conservative,
                "conservative_excess_cost": conservative * float(cost_per_return),
                "priority_score": np.asarray(ex["priority_score"], dtype="float64"),
                "top_reason": None,
                "test": "interaction (basket-size stratified)",
            }
        )
    out["direction"] = out["direction"].where(out["significant"], None)
    rets = mrets if returns is None else returns
    if len(rets) and gate.any():
        # dominant reason among returned A/B items of the orders holding both (vectorised)
        g_rows = frame[gate[frame["p"].to_numpy()]]
        r_o = _order_positions(rets["order_id"], ouniq)
        r_i = pd.Index(iuniq).get_indexer(rets[level].astype("string").fillna("").to_numpy())
        ok = ~np.isnan(r_o) & (r_i >= 0)
        rc = pd.DataFrame(
            {
                "o": r_o[ok].astype("int64"),
                "i": r_i[ok],
                "quantity": rets["quantity"].to_numpy()[ok],
                "reason_category": rets["reason_category"].to_numpy()[ok],
            }
        )
        m = g_rows[["p", "o"]].merge(rc, on="o")
        pa, pb_ = ia[m["p"].to_numpy()], ibb[m["p"].to_numpy()]
        m = m[(m["i"].to_numpy() == pa) | (m["i"].to_numpy() == pb_)]
        if len(m):
            top = top_reasons_by(m.assign(k=m["p"].astype("string")), "k")
            out["top_reason"] = pd.Series(np.arange(P).astype(str)).map(top).to_numpy()
            out["top_reason"] = out["top_reason"].where(out["top_reason"].notna(), None)
    out = out.sort_values(["priority_score", "excess_returns"], ascending=[False, False], kind="stable")
    return out[PAIR_COLUMNS].reset_index(drop=True)


def _self_join(o: np.ndarray, i: np.ndarray, n_orders: int, block: int = 1 << 19) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (left, right) of the pairs of distinct (order, item) rows of one order with item
    i[left] < i[right], in the order of a pandas merge on the order (left rows in order, each with its
    order's rows in order), by counting sort instead of a hash join. o: order codes in [0, n_orders).

    The left rows go in blocks of ``block``: every (left, right) candidate of a block is built, filtered and
    kept, so the transient arrays (several int64 arrays as long as all candidates, about 0.4 GB at 5M lines)
    are a block's, not the whole join's. The blocks are contiguous, so the output order is the same."""
    counts = np.bincount(o, minlength=n_orders)
    start = np.cumsum(counts) - counts  # first position of each order's rows in srt
    srt = np.argsort(o, kind="stable")  # rows grouped by order, each group in row order
    lefts, rights = [], []
    for a in range(0, len(o), max(int(block), 1)):
        ob = o[a : a + block]
        reps = counts[ob]
        first = np.cumsum(reps) - reps  # where each left row's candidates start in this block's output
        left = np.repeat(np.arange(a, a + len(ob)), reps)
        right = srt[np.repeat(start[ob] - first, reps) + np.arange(len(left))]
        keep = i[left] < i[right]
        lefts.append(left[keep])
        rights.append(right[keep])
    if not lefts:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    return np.concatenate(lefts), np.concatenate(rights)


def _order_positions(order_ids: pd.Series, uniques: Any) -> np.ndarray:
    """Position of each order id in `uniques` (the distinct order ids of the lines, as line_codes numbers them),
    NaN where absent or missing: what pd.Series(range, index=uniques).reindex(order_ids) gives. Hashes the (few)
    distinct ids asked for and looks the distinct ids of the lines up in them with Arrow, instead of hashing
    every order id as a Python object (or converting every line's id: 0.15 GB at 5M lines, at the analysis'
    peak).

    >>> u = pd.array(["a", "b", "c"], dtype="string[pyarrow]")
    >>> _order_positions(pd.Series(["c", None, "x", "a", "c"], dtype="string"), u).tolist()
    [2.0, nan, nan, 0.0, 2.0]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, asked = pd.factorize(order_ids, sort=False, use_na_sentinel=True)
    try:
        hit = pc.index_in(pa.array(uniques, type=pa.large_string()), value_set=pa.array(asked, type=pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not strings: the pandas route
        return pd.Series(np.arange(len(uniques)), index=pd.Index(uniques)).reindex(order_ids.to_numpy()).to_numpy()
    h = np.asarray(hit.to_numpy(zero_copy_only=False), dtype="float64")  # per distinct line id: its asked position
    found = ~np.isnan(h)
    pos = np.full(len(asked), np.nan)
    pos[h[found].astype("int64")] = np.flatnonzero(found)
    return np.where(codes >= 0, pos[np.maximum(codes, 0)], np.nan)


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
