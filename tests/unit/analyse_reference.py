"""Frozen copies of analysis.segments.simpson_check and analysis.pairs.pair_table as they were before their
per-segment and per-row pandas work was replaced by numpy (branch analyse-loops): the references the new code
is held equal to in tests/unit/test_analyse_loops.py. Do not edit them to follow the new code; they are the
oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis import stats
from analysis.pairs import BANDS, MIN_EXPECTED_RETURNS, MIN_PAIR_ORDERS, PAIR_COLUMNS, _band, _interaction
from analysis.prepare import DIMENSION_LABELS, Prepared
from analysis.segments import (
    BORDERLINE_P,
    NOT_SET,
    SIMPSON_COLUMNS,
    VERDICTS,
    _verdict_word,
    cluster_counts,
    dimension_column,
    eb_shrink,
    line_codes,
    mature_frames,
    segment_label,
    top_reasons_by,
)


def simpson_check_reference(
    prepared: Prepared,
    dimension: str = "collection",
    stratifiers: tuple[str, ...] = ("intent", "channel"),
    *,
    alpha: float = 0.05,
    min_units: int = 30,
) -> pd.DataFrame:
    """Does a segment's crude verdict survive stratification? (Simpson's paradox, METHOD 10)

    For each segment of `dimension` and each stratifier (an order-level attribute such as intent or
    channel) the segment-vs-rest 2x2 table is built per stratum and tested with the
    Cochran-Mantel-Haenszel test (stats.cmh_test, continuity-corrected as R's mantelhaen.test), giving
    the Mantel-Haenszel common odds ratio. The crude verdict comes from the collapsed table (two-sided
    pooled z / Fisher, stats.segment_vs_rest). Verdicts are "higher" / "lower" / "no clear difference"
    at two-sided level `alpha`; rows where crude and adjusted verdicts disagree are flagged with an
    explanation naming the mix difference.

    Clustering: CMH assumes independent units, so every cell is divided by the segment's (or the
    rest's) overall Rao-Scott design effect, the same effective counts used in segment_table.
    Departure from METHOD 10 (which suggests order-level tables): this keeps the crude and the stratified
    comparisons on the unit rate the rest of the product reports.
    """
    col = dimension_column(dimension)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in SIMPSON_COLUMNS})
    if not prepared.has(col):
        return empty
    lines = mature_frames(prepared)[0]
    if lines.empty:
        return empty
    codes, labels = line_codes(prepared, col)
    ocodes = line_codes(prepared, "order_id")[0]
    xv = lines["returned_units"].to_numpy(dtype="float64")
    nv = lines["quantity"].to_numpy(dtype="float64")
    c = cluster_counts((codes, labels), ocodes, xv, nv)
    rows = []
    for strat in stratifiers:
        if strat == dimension or not prepared.has(strat):
            continue
        sc, sl = line_codes(prepared, strat)
        if len(sl) < 2:
            continue
        K, S = len(labels), len(sl)
        X = np.bincount(codes * S + sc, weights=xv, minlength=K * S).reshape(K, S)
        Nn = np.bincount(codes * S + sc, weights=nv, minlength=K * S).reshape(K, S)
        tx, tn = X.sum(axis=0), Nn.sum(axis=0)
        pos = {lab: i for i, lab in enumerate(labels)}
        for seg in c.index:
            if seg == NOT_SET or c.loc[seg, "n"] < min_units or c.loc[seg, "rest_n"] < min_units:
                continue
            k = pos[seg]
            sg = pd.DataFrame({"x": X[k], "n": Nn[k]}, index=sl)
            rs = pd.DataFrame({"x": tx - X[k], "n": tn - Nn[k]}, index=sl)
            d1, d2 = float(c.loc[seg, "deff"]), float(c.loc[seg, "rest_deff"])
            t = np.stack(
                [
                    np.stack([sg["x"] / d1, (sg["n"] - sg["x"]) / d1], axis=1),
                    np.stack([rs["x"] / d2, (rs["n"] - rs["x"]) / d2], axis=1),
                ],
                axis=1,
            )  # (K, 2, 2)
            keep = (sg["n"].to_numpy() > 0) & (rs["n"].to_numpy() > 0)
            if keep.sum() < 2:
                continue
            try:
                cm = stats.cmh_test(t[keep])
            except ValueError:
                continue
            x1, n1 = sg["x"].sum() / d1, sg["n"].sum() / d1
            x2, n2 = rs["x"].sum() / d2, rs["n"].sum() / d2
            crude = stats.segment_vs_rest(x1, n1, x2, n2, alternative="two-sided")
            crude_p = float(np.asarray(crude["p_value"]))
            cr_rate, base = float(sg["x"].sum() / sg["n"].sum()), float(rs["x"].sum() / rs["n"].sum())
            crude_v = _verdict_word(crude_p, cr_rate > base, alpha)
            mh = float(cm["mh_odds_ratio"])
            adj_v = _verdict_word(float(cm["p_value"]), mh > 1, alpha)
            share_s = sg["n"] / sg["n"].sum()
            share_r = rs["n"] / rs["n"].sum()
            rate_s = (sg["x"] + rs["x"]) / (sg["n"] + rs["n"])
            gap = share_s - share_r
            top = gap.idxmax() if crude_v == "higher" or (crude_v != "lower" and adj_v == "lower") else gap.idxmin()
            slabel = segment_label(strat, top) if strat == "intent" else top
            explanation = ""
            if crude_v != adj_v:
                explanation = (
                    f"{segment_label(dimension, seg)}: overall {cr_rate:.1%} vs {base:.1%} for the rest looks "
                    f"'{crude_v}', but within each {DIMENSION_LABELS.get(strat, strat).lower()} it is '{adj_v}' "
                    f"(Mantel-Haenszel odds ratio {mh:.2f}, CMH p = {float(cm['p_value']):.2g}). Its mix differs: "
                    f"{share_s[top]:.0%} of its units are {slabel} (rate {rate_s[top]:.1%}) vs {share_r[top]:.0%} for the rest."
                )
            lo, hi = cm["mh_or_ci"]
            rows.append(
                {
                    "dimension": dimension,
                    "segment": seg,
                    "stratifier": strat,
                    "crude_rate": cr_rate,
                    "baseline_rate": base,
                    "crude_odds_ratio": float(cm["crude_odds_ratio"]),
                    "crude_p": crude_p,
                    "crude_verdict": crude_v,
                    "mh_odds_ratio": mh,
                    "mh_ci_low": float(lo),
                    "mh_ci_high": float(hi),
                    "cmh_p": float(cm["p_value"]),
                    "adjusted_verdict": adj_v,
                    "breslow_day_p": float(cm.get("breslow_day_p", np.nan)),
                    "strata": int(keep.sum()),
                    "disagree": crude_v != adj_v,
                    "explanation": explanation,
                }
            )
    if not rows:
        return empty
    out = pd.DataFrame(rows)
    return out.sort_values(["disagree", "cmh_p"], ascending=[False, True], kind="stable").reset_index(drop=True)[
        SIMPSON_COLUMNS
    ]


def pair_table_reference(
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
    oi = pd.DataFrame(
        {
            "o": oiu // max(len(iuniq), 1),
            "i": oiu % max(len(iuniq), 1),
            "m": np.bincount(oik, weights=qty[keep], minlength=len(oiu)),
            "y": np.bincount(oik, weights=l_ret[keep], minlength=len(oiu)),
        }
    )
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
    # per (item, band)
    ib = oi["i"].to_numpy() * nb + oi["b"].to_numpy()
    K = len(iuniq) * nb
    o_idx = oi["o"].to_numpy()
    nI = np.bincount(ib, minlength=K).astype("float64")
    xI = np.bincount(ib, weights=o_any[o_idx].astype("float64"), minlength=K)
    uI = np.bincount(ib, weights=o_units[o_idx], minlength=K)
    rI = np.bincount(ib, weights=o_ret[o_idx], minlength=K)
    # per (pair, band): self-merge of distinct (order, item)
    # per (item, band): units, returns and the sums behind a cluster-robust variance of the item's unit rate
    mI = np.bincount(ib, weights=oi["m"].to_numpy(), minlength=K)
    yI = np.bincount(ib, weights=oi["y"].to_numpy(), minlength=K)
    syyI = np.bincount(ib, weights=oi["y"].to_numpy() ** 2, minlength=K)
    symI = np.bincount(ib, weights=(oi["y"] * oi["m"]).to_numpy(), minlength=K)
    smmI = np.bincount(ib, weights=oi["m"].to_numpy() ** 2, minlength=K)
    pr = oi.merge(oi[["o", "i", "m", "y"]], on="o", suffixes=("a", "b"))
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
    # ---- does buying the two together raise the A and B units' returns beyond each item's own rate?
    # Indirect standardisation within basket-size band: expected = A units x A's unit rate in orders of the
    # band WITHOUT B + B units x B's rate in orders without A. An item's own effect (a hot collection) is in
    # its expectation, so sub-pairs of one hot collection are not flagged (issue 11; METHOD 7.3).
    ia0, ib0 = puniq // len(iuniq), puniq % len(iuniq)
    ma, ya, mb, yb = (pr[c].to_numpy(dtype="float64") for c in ("ma", "ya", "mb", "yb"))

    def pbsum(w: np.ndarray) -> np.ndarray:
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
    obs_u = (yA_ab + yB_ab).sum(axis=1)
    units_u = (uA_ab + uB_ab).sum(axis=1)
    exp_u = (uA_ab * rA_out + uB_ab * rB_out).sum(axis=1)
    var_exp = (uA_ab**2 * vA + uB_ab**2 * vB).sum(axis=1)
    # observed: cluster-robust variance around the null expectation (cluster = order), floored at binomial
    bcol = pr["b"].to_numpy()
    resid = ya + yb - ma * rA_out[pcode, bcol] - mb * rB_out[pcode, bcol]
    g_ab = nAB.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_obs_rob = np.where(g_ab > 1, g_ab / (g_ab - 1) * np.bincount(pcode, weights=resid**2, minlength=P), np.nan)
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
    p_value = np.where(gate, sps.norm.sf(z_u), np.nan)
    q_value = stats.bh_adjust(p_value)

    # the pair's (order, pair) rows, for the reasons below; design effect = robust / binomial variance of
    # the A and B units' returns (cluster = order), floored at 1
    pair_idx = pd.Series(np.arange(P), index=keep_codes)
    pr_rows = pr.assign(code=pcode)
    pr_rows = pr_rows[sel[pr_rows["code"].to_numpy()]]
    frame = pd.DataFrame({"p": pair_idx.reindex(pr_rows["code"].to_numpy()).to_numpy(), "o": pr_rows["o"].to_numpy()})
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
        r_o = omap.reindex(rets["order_id"].to_numpy()).to_numpy()
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
