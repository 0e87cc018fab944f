"""Segment counts from SQL: the per-segment sums of analysis/sql/segment_sums.sql turned into the
columns analysis.segments.compare_segments reads (counts, Rao-Scott design effects of the segment and
of its complement, order-level counts, the largest cluster), in numpy on the aggregated rows.

The canonical lines table (`seg_lines`) is built once per Prepared from the mature lines with every
id encoded once as an integer (analysis.segments.line_codes): the queries group integers, never text,
and labels are attached here. The queries run on the engine data.engine_sql.current_engine() names:
DuckDB by default, Spark with `python -m analysis report --engine spark` (the same SQL, transpiled
by SQLGlot). Every dimension is counted in one query per cluster level (orders; and customers where they
repeat, METHOD 4.3; one GROUP BY per dimension) and cached per Prepared; on DuckDB, past PART_LINES lines,
that query runs once per range of clusters and the sums are added up (cluster_bounds, combine_parts). A
drill-down (`within`) counts its parent segment's rows.

Formulas (the same as analysis.segments.cluster_counts and stats.design_effect, expanded into sums
so that the engine only adds): for a segment with per-cluster sums y_c, m_c (p = x/n, g clusters)
  S = sum (y_c - p m_c)^2 = syy - 2 p sym + p^2 smm,  v = g/(g-1) S / n^2,  deff = v / (p(1-p)/n);
for the complement within the scope (totals Y_c, M_c; rest rate p_r)
  SS = sum ((Y_c - y_c) - p_r (M_c - m_c))^2
     = A - 2 p_r B + p_r^2 C - 2 (yt_y - p_r yt_m - p_r mt_y + p_r^2 mt_m) + (syy - 2 p_r sym + p_r^2 smm).
"""

from __future__ import annotations

import functools
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.prepare import ORDER_DIMENSIONS, Prepared

SQL_DIR = Path(__file__).with_name("sql")


@lru_cache(maxsize=None)
def sql_text(name: str) -> str:
    """The text of analysis/sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def segment_dimensions(prepared: Prepared) -> list[str]:
    from analysis.segments import DIMENSIONS

    return [d for d in DIMENSIONS if prepared.has(d)]


def lines_table(prepared: Prepared) -> pd.DataFrame:
    """seg_lines: one row per mature line with integer codes (order, cluster, each dimension and the
    category) and the rate's numerator/denominator per basis. Built once per Prepared (Prepared.memo)."""
    return prepared.memo("analysis.segment_sql.lines_table", lambda: _lines_table(prepared))


def _lines_table(prepared: Prepared) -> pd.DataFrame:
    from analysis.segments import cluster_codes, line_codes, mature_frames, reference_column

    lines = mature_frames(prepared)[0]
    ocodes = line_codes(prepared, "order_id")[0]
    xu, nu = prepared.rate_columns("collection")
    xo, no = prepared.rate_columns("intent")
    # codes as int32 (any code is below the number of lines): narrower hash keys make DuckDB's grouping
    # sets and joins cheaper (issue 14: -5..10% CPU per query at 1M lines); BIGINT past 2^31 lines
    code = np.int32 if len(lines) < 2**31 - 1 else np.int64
    cols: dict[str, np.ndarray] = {
        "row_no": np.arange(len(lines), dtype=code),
        "ord": ocodes.astype(code),
        "clu": cluster_codes(prepared).astype(code),
        "x_u": lines[xu].to_numpy(dtype="float64"),
        "n_u": lines[nu].to_numpy(dtype="float64"),
    }
    if (xo, no) != (xu, nu):  # the same columns (every rate today): not carried twice (2 x 38 MB at 5M lines)
        cols["x_o"] = lines[xo].to_numpy(dtype="float64")
        cols["n_o"] = lines[no].to_numpy(dtype="float64")
    ref = reference_column(prepared)
    for d in segment_dimensions(prepared) + ([ref] if ref else []):
        cols[f"s_{d}"] = line_codes(prepared, d)[0].astype(code, copy=False)  # the memoized int32 codes themselves
    return pd.DataFrame(cols, copy=False)


def _scopes(prepared: Prepared, table: pd.DataFrame, dims: list[str]) -> tuple[pd.DataFrame, dict]:
    """Reference groups (analysis.segments._counts_with_reference): each segment of a reference
    dimension is compared within its dominant category when that category is a fair group (more than one
    segment, none holding more than MAX_GROUP_SHARE of its units), else with the whole population.
    Returns the seg_scope table and, per dimension, (scope per segment code, shrinkage centre per code)."""
    from data.engine_sql import run_sql

    from analysis.segments import MAX_GROUP_SHARE, line_codes, reference_column

    ref = reference_column(prepared)
    if not dims or ref is None:
        return pd.DataFrame(
            {"dim": pd.Series(dtype="int64"), "seg": pd.Series(dtype="int64"), "scope": pd.Series(dtype="int64")}
        ), {}
    text = sql_text("segment_reference")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))  # the comment once
    sql = "\nUNION ALL\n".join(
        (text if i == 0 else body).format(dim=i, seg=f"s_{d}", ref=f"s_{ref}") for i, d in enumerate(dims)
    )
    w = run_sql(sql, {"seg_lines": table})
    rl = line_codes(prepared, ref)[1]
    frames, info = [], {}
    for i, d in enumerate(dims):
        labels = line_codes(prepared, d)[1]
        part = w[w["dim"] == i]
        seg, cat = part["seg"].to_numpy("int64"), part["cat"].to_numpy("int64")
        W = np.zeros((len(labels), len(rl)))
        X = np.zeros((len(labels), len(rl)))
        np.add.at(W, (seg, cat), part["n"].to_numpy("float64"))
        np.add.at(X, (seg, cat), part["x"].to_numpy("float64"))
        seg_units = W.sum(axis=1)
        present = np.zeros(len(labels), dtype=bool)
        present[np.unique(seg)] = True  # segments with lines (the original's "present" also needs units)
        has_units = seg_units > 0
        mode = W.argmax(axis=1)
        nseg = np.bincount(mode[has_units], minlength=len(rl))
        grp_units = np.bincount(mode[has_units], weights=seg_units[has_units], minlength=len(rl))
        grp_max = np.zeros(len(rl))
        np.maximum.at(grp_max, mode[has_units], seg_units[has_units])
        fair = (nseg > 1) & (grp_max <= MAX_GROUP_SHARE * grp_units)
        scope = np.where(fair[mode], mode, -1)
        cat_x, cat_n = X.sum(axis=0), W.sum(axis=0)
        seg_x = X.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rest_n = cat_n[mode] - seg_units
            centre = np.where(
                rest_n > 0, (cat_x[mode] - seg_x) / rest_n, np.where(cat_n[mode] > 0, cat_x[mode] / cat_n[mode], np.nan)
            )
        codes = np.flatnonzero(present)
        frames.append(pd.DataFrame({"dim": i, "seg": codes, "scope": scope[codes]}))
        info[d] = (scope, centre, rl)
    return pd.concat(frames, ignore_index=True), info


def segment_sums_sql(
    dims: list[str],
    ref_dims: list[str],
    *,
    cluster: str = "ord",
    where: str = "",
    row_scale: int = 1,
    scope_base: int = 1,
    first_rows: bool = True,
    one_row_per_cluster: bool = False,
    order_rate: tuple[str, str] = ("x_o", "n_o"),
) -> str:
    """analysis/sql/segment_sums.sql expanded for `dims` (the `dim` column is the position in the list) with
    reference groups for `ref_dims` (line dimensions listed in seg_scope; scope_base: more than the largest
    scope code, so that dim * scope_base + scope names a group in one integer; first_rows=False: no first
    line per cell, top_n is then meaningless, for a pass read only for its design effects;
    one_row_per_cluster: the caller knows every order dimension is constant within each cluster, so the
    pre-summed table o holds one row per cluster and each of its rows is already a cell of every order
    dimension, read without grouping again; order_rate: the columns of the order dimensions' rate, x_u / n_u
    when seg_lines holds no x_o / n_o): identifiers and integers only.
    The line dimensions' cells are one GROUP BY per dimension over the lines, the order dimensions' one over
    the lines pre-summed per (cluster, order-level segments) (table o: the same sums, about half the rows)."""
    ids = {d: i for i, d in enumerate(dims)}
    # the lines: seg_lines itself, or a CTE `base` holding the rows the WHERE clause selects
    base, base_cte = (
        ("base", f"base AS (\n    SELECT * FROM seg_lines\n    {where}\n), ") if where else ("seg_lines", "")
    )
    odims = [d for d in dims if d in ORDER_DIMENSIONS]
    ldims = [d for d in dims if d not in ORDER_DIMENSIONS]
    if any(d in ORDER_DIMENSIONS for d in ref_dims):
        raise ValueError("Reference groups are defined for line dimensions only.")

    first = "min({}) AS first_row" if first_rows else "CAST(0 AS BIGINT) AS first_row"
    # one plain GROUP BY per dimension, joined by UNION ALL, rather than GROUPING SETS: DuckDB copies the input of a
    # GROUPING SETS aggregate into a CTE first (every line's columns once more), which was about a third of the
    # query's operator time (bench/stage_profile.py; README "The counting engine")
    if ldims:
        lcells = "\n    UNION ALL\n    ".join(
            f"SELECT {ids[d]} AS dim, s_{d} AS seg, {cluster} AS clu, sum(x_u) AS y, sum(n_u) AS m, "
            f"{first.format('row_no')}\n    FROM {base} GROUP BY s_{d}, {cluster}"
            for d in ldims
        )
    else:
        lcells = f"SELECT {cluster} AS dim, {cluster} AS seg, {cluster} AS clu, x_u AS y, n_u AS m, row_no AS first_row FROM {base} WHERE 1 = 0"
    if odims and one_row_per_cluster:
        ocells = "\n    UNION ALL\n    ".join(
            f"SELECT {ids[d]} AS dim, s_{d} AS seg, clu, yo AS y, mo AS m, first_row, yto AS yt, mto AS mt FROM ot"
            for d in odims
        )
    elif odims:
        # the cluster totals are constant within a cell (a cell lies in one cluster): carried by max(), not joined
        ocells = "\n    UNION ALL\n    ".join(
            f"SELECT {ids[d]} AS dim, s_{d} AS seg, clu, sum(yo) AS y, sum(mo) AS m, {first.format('first_row')}, "
            f"max(yto) AS yt, max(mto) AS mt\n    FROM ot GROUP BY s_{d}, clu"
            for d in odims
        )
    else:
        ocells = (
            "SELECT clu AS dim, clu AS seg, clu, yo AS y, mo AS m, first_row, yto AS yt, mto AS mt FROM ot WHERE 1 = 0"
        )
    if ref_dims:
        # per reference dimension, the lines of its segments compared within a group (seg_scope: scope >= 0)
        gtot = "\n    UNION ALL\n    ".join(
            f"SELECT {ids[d]} AS dim, k.scope, b.{cluster} AS clu, sum(b.x_u) AS yg, sum(b.n_u) AS mg\n    "
            f"FROM {base} b JOIN seg_scope k ON k.dim = {ids[d]} AND k.seg = b.s_{d} AND k.scope >= 0 "
            f"GROUP BY k.scope, b.{cluster}"
            for d in ref_dims
        )
    else:
        gtot = f"SELECT {cluster} AS dim, {cluster} AS scope, {cluster} AS clu, x_u AS yg, n_u AS mg FROM {base} WHERE 1 = 0"
    # o holds one row per cluster when every order dimension is constant within a cluster (or there is none):
    # each o row is then its cluster's total, and neither an aggregate nor a join is needed to find it
    if one_row_per_cluster or not odims:
        ctot = "SELECT clu, yu, mu, yo, mo FROM o"
        ot = "SELECT o.*, o.yo AS yto, o.mo AS mto FROM o"
    else:
        ctot = "SELECT clu, sum(yu) AS yu, sum(mu) AS mu, sum(yo) AS yo, sum(mo) AS mo FROM o GROUP BY clu"
        ot = "SELECT o.*, ctot.yo AS yto, ctot.mo AS mto FROM o JOIN ctot ON ctot.clu = o.clu"
    return sql_text("segment_sums").format(
        ctot=ctot,
        ot=ot,
        x_o=order_rate[0],
        n_o=order_rate[1],
        base=base,
        base_cte=base_cte,
        cluster=cluster,
        order_cols="".join(f", s_{d}" for d in odims),
        lcells=lcells,
        ocells=ocells,
        gtot=gtot,
        row_scale=int(row_scale),
        scope_base=int(scope_base),
        first_row="min(row_no)" if first_rows else "CAST(0 AS BIGINT)",
    )


def order_dims_constant(prepared: Prepared, dims: list[str]) -> bool:
    """Is each of the order dimensions `dims` constant within every order of the mature lines? (Then the
    order-level pass reads its order dimensions' cells straight from the per-order sums.) O(lines) per
    dimension, computed once per Prepared and dimension."""
    from analysis.segments import line_codes

    ocodes = line_codes(prepared, "order_id")[0]

    def constant(d: str) -> bool:
        codes = line_codes(prepared, d)[0]
        rep = np.zeros(int(ocodes.max()) + 1 if len(ocodes) else 0, dtype=codes.dtype)
        rep[ocodes] = codes  # one of each order's codes (whichever is written last): all equal it iff constant
        return bool(np.array_equal(rep[ocodes], codes))

    return all(
        prepared.memo(("analysis.segment_sql.order_dims_constant", d), functools.partial(constant, d)) for d in dims
    )


# The lines one segment-sums pass counts at most (DuckDB): past it the lines are counted in passes over disjoint
# ranges of clusters and the passes' sums added up. Every sum is over cells or clusters, and a cluster lies in one
# range, so the sums are the same; but each pass's hash tables (cells, cluster totals, the join between them) are
# a fraction of the size. One pass over 4.8M lines held them in 1 GB only by spilling, and every table was too
# large for the processor's caches: the order-level query cost 7-9x its 1M-line figure. In passes of 250k lines,
# 5.2 s against 9.6-11.2 s CPU, and 0.96-1.0 against 1.07-1.21 s at 1M (README "The counting engine").
PART_LINES = 250_000


def cluster_bounds(clusters: np.ndarray, n_lines: int, part_lines: int | None = None) -> np.ndarray:
    """Bounds b_0 < b_1 < ... of the cluster-code ranges [b_k, b_k+1) that split the lines into passes of about
    `part_lines` lines (PART_LINES; RI_SEGMENT_PART_LINES): at lines' quantiles of the cluster codes, so a range
    holds about as many lines whatever the codes' spread. Two bounds (one pass) on Spark, which partitions the
    work itself and pays a job per query, and for small tables."""
    import os

    from data.engine_sql import current_engine

    part = part_lines or int(os.environ.get("RI_SEGMENT_PART_LINES") or PART_LINES)
    k = -(-n_lines // max(part, 1)) if n_lines else 1
    if not len(clusters):
        return np.array([0, 1], dtype="int64")
    lo, hi = int(clusters.min()), int(clusters.max()) + 1
    if k <= 1 or current_engine() != "duckdb":
        return np.array([lo, hi], dtype="int64")
    inner = np.quantile(clusters, np.linspace(0, 1, k + 1)[1:-1], method="lower").astype("int64")
    return np.unique(np.concatenate([[lo], inner, [hi]]))


def _condition(where: str) -> str:
    """The condition of a WHERE clause ("WHERE x" -> "x")."""
    w = where.strip()
    if w[:5].upper() != "WHERE" or len(w) < 6 or not w[5].isspace():
        raise ValueError("where must be a WHERE clause.")
    return w[6:].strip()


SUM_COLUMNS = (
    "x",
    "n",
    "cells",
    "syy",
    "sym",
    "smm",
    "yt_y",
    "yt_m",
    "mt_y",
    "mt_m",
    "full_cells",
    "seg_cells",
    "ret_cells",
    "rest_left",
)


def combine_parts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of segment_sums.sql over every line from its rows per range of clusters: the sums added up (a sum
    of nothing but NULLs stays NULL), top_x the largest, top_n that of the pass with the largest top_key (the
    cell's returned units and first line, unique across passes: a line lies in one pass)."""
    r = pd.concat(parts, ignore_index=True)
    keys = ["kind", "dim", "scope", "seg"]
    r = r.sort_values("top_key", kind="stable", na_position="first")
    g = r.groupby(keys, dropna=False, sort=False)
    out = g[list(SUM_COLUMNS)].sum(min_count=1)
    out["top_x"] = g["top_x"].max()
    out["top_n"] = g["top_n"].last()  # the last non-null: the largest top_key's
    return out.reset_index()[list(parts[0].columns.drop("top_key"))]


def segment_sums(
    prepared: Prepared,
    dims: list[str],
    *,
    cluster: str = "ord",
    where: str = "",
    scope_table: pd.DataFrame | None = None,
    first_rows: bool = True,
    rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Run analysis/sql/segment_sums.sql for `dims` (their index in the list is the `dim` column):
    one row per (dim, scope, seg), with its scope's totals (g_all, x_all, n_all, a_all, b_all, c_all,
    ret_all) attached from the query's total rows, ordered as the numpy implementation orders segments
    (reference groups by code, then the segments compared with the whole population, by code). rows: the
    rows of lines_table(prepared) to count (default all; a drill-down passes its parent segment's rows, so the
    engine loads those instead of every line and a WHERE clause)."""
    from data.engine_sql import run_sql

    full = lines_table(prepared)
    table = full if rows is None else rows
    if scope_table is None:
        scope_table = pd.DataFrame(
            {"dim": pd.Series(dtype="int64"), "seg": pd.Series(dtype="int64"), "scope": pd.Series(dtype="int64")}
        )
    ref_ids = sorted({int(i) for i in scope_table["dim"]})
    scope_base = int(scope_table["scope"].max()) + 1 if len(scope_table) else 1

    def sql_for(clusters: str) -> str:
        """The query, its WHERE clause (if any) and-ed with `clusters` when given."""
        if not clusters:
            w = where
        elif where:
            w = f"WHERE ({_condition(where)}) AND {clusters}"
        else:
            w = f"WHERE {clusters}"
        return segment_sums_sql(
            dims,
            [dims[i] for i in ref_ids],
            cluster=cluster,
            where=w,
            row_scale=len(full) + 1,
            scope_base=max(scope_base, 1),
            first_rows=first_rows,
            one_row_per_cluster=cluster == "ord"
            and order_dims_constant(prepared, [d for d in dims if d in ORDER_DIMENSIONS]),
            order_rate=("x_o", "n_o") if "x_o" in table.columns else ("x_u", "n_u"),
        )

    tables = {"seg_lines": table, "seg_scope": scope_table}
    bounds = cluster_bounds(table[cluster].to_numpy(), len(table))
    if len(bounds) <= 2:
        r = run_sql(sql_for(""), tables).drop(columns="top_key")
    else:  # one pass per range of clusters, each the size of a small table (cluster_bounds), then added up
        r = combine_parts(
            [
                run_sql(sql_for(f"{cluster} >= {lo} AND {cluster} < {hi}"), tables)
                for lo, hi in zip(bounds[:-1], bounds[1:])
            ]
        )
    kind = r["kind"].to_numpy()
    seg_rows = r[kind == 0].copy()
    groups = r[kind == 1]
    for k in ("dim", "scope", "seg"):
        seg_rows[k] = seg_rows[k].astype("int64")
    dim, scope = seg_rows["dim"].to_numpy(), seg_rows["scope"].to_numpy()
    in_group = scope >= 0
    is_order = np.isin(dim, [i for i, d in enumerate(dims) if d in ORDER_DIMENSIONS])
    gidx = pd.MultiIndex.from_arrays([dim, scope])
    if len(groups):
        groups = groups.set_index([groups["dim"].astype("int64"), groups["scope"].astype("int64")])
    for k, col in (
        ("g", "cells"),
        ("x", "x"),
        ("n", "n"),
        ("a", "syy"),
        ("b", "sym"),
        ("c", "smm"),
        ("ret", "ret_cells"),
    ):
        wu = float(r.loc[kind == 2, col].iloc[0]) if (kind == 2).any() else np.nan
        wo = float(r.loc[kind == 3, col].iloc[0]) if (kind == 3).any() else np.nan
        gv = groups[col].reindex(gidx).to_numpy(dtype="float64") if len(groups) else np.full(len(dim), np.nan)
        seg_rows[f"{k}_all"] = np.where(in_group, gv, np.where(is_order, wo, wu))
    seg_rows["_whole"] = ~in_group
    seg_rows = seg_rows.sort_values(["dim", "_whole", "scope", "seg"], kind="stable")
    return seg_rows.drop(columns=["_whole"]).reset_index(drop=True)


def counts_from_sums(s: pd.DataFrame) -> pd.DataFrame:
    """The columns of analysis.segments.cluster_counts from segment_sums rows (one row per segment)."""
    f = {
        k: s[k].to_numpy(dtype="float64")
        for k in (
            *SUM_COLUMNS,
            "top_x",
            "top_n",
            "g_all",
            "x_all",
            "n_all",
            "a_all",
            "b_all",
            "c_all",
            "ret_all",
        )
    }
    xs, ns, G = f["x"], f["n"], f["g_all"]
    xr, nr = f["x_all"] - xs, f["n_all"] - ns
    with np.errstate(divide="ignore", invalid="ignore"):
        pr = np.where(nr > 0, xr / nr, np.nan)
        cross = f["yt_y"] - pr * f["yt_m"] - pr * f["mt_y"] + pr * pr * f["mt_m"]
        own = f["syy"] - 2 * pr * f["sym"] + pr * pr * f["smm"]
        ss = np.clip(f["a_all"] - 2 * pr * f["b_all"] + pr * pr * f["c_all"] - 2 * cross + own, 0, None)
        g_r = G - f["full_cells"]
        v = np.where(g_r > 1, g_r / (g_r - 1) * ss / (nr * nr), np.nan)
        base = pr * (1 - pr) / nr
        rest_deff = np.where((base > 0) & np.isfinite(v), np.maximum(v / base, 1.0), 1.0)
        # stats.design_effect (Rao-Scott) of the segment from its per-cluster sums
        g = f["cells"]
        p = np.where(ns > 0, xs / np.where(ns > 0, ns, 1.0), np.nan)
        S = np.clip(f["syy"] - 2 * p * f["sym"] + p * p * f["smm"], 0, None)
        vs = np.where(g > 1, g / (g - 1) * S / ns**2, np.nan)
        v_srs = p * (1 - p) / ns
        deff_raw = np.where(v_srs > 0, vs / v_srs, np.nan)
        deff = np.where(np.isfinite(deff_raw), deff_raw, np.where(g == 1, ns / g, 1.0))
        deff = np.where(ns > 0, np.maximum(deff, 1.0), np.nan)
    deff = np.where(np.isfinite(deff), np.maximum(deff, 1.0), 1.0)
    return pd.DataFrame(
        {
            "x": xs,
            "n": ns,
            "rest_x": xr,
            "rest_n": nr,
            "deff": deff,
            "rest_deff": rest_deff,
            "orders": f["seg_cells"],
            "orders_returned": f["ret_cells"],
            "rest_orders": G - f["full_cells"],
            "rest_orders_returned": f["ret_all"] - f["rest_left"],
            "top_x": f["top_x"],
            "top_n": f["top_n"],
        }
    )


def _all_counts(
    prepared: Prepared, dims: tuple[str, ...], ref_dims: tuple[str, ...], within: tuple[str, int] | None
) -> dict[str, pd.DataFrame]:
    """{dimension: frame of cluster_counts columns + scope} for `dims`, one query per cluster level; computed
    once per Prepared and arguments (Prepared.memo)."""
    return prepared.memo(
        ("analysis.segment_sql._all_counts", dims, ref_dims, within),
        lambda: _count_all_shared(prepared, dims, ref_dims, within),
    )


def _count_all_shared(
    prepared: Prepared, dims: tuple[str, ...], ref_dims: tuple[str, ...], within: tuple[str, int] | None
) -> dict[str, pd.DataFrame]:
    """_count_all with its queries (reference groups, order and customer level) on one connection that loads
    the lines table once."""
    from data.engine_sql import shared_tables

    with shared_tables():
        return _count_all(prepared, dims, ref_dims, within)


def _count_all(
    prepared: Prepared, dims: tuple[str, ...], ref_dims: tuple[str, ...], within: tuple[str, int] | None
) -> dict[str, pd.DataFrame]:
    from analysis.segments import cluster_codes, line_codes, reference_column, reference_label
    from data.engine_sql import side_by_side

    dl = list(dims)
    ref_col = reference_column(prepared)
    scope_table, info = _scopes(prepared, lines_table(prepared), list(ref_dims))
    if len(scope_table):  # dim ids of the reference query are positions in ref_dims: map to positions in dims
        scope_table = scope_table.assign(dim=np.asarray(ref_dims, dtype=object)[scope_table["dim"].to_numpy()])
        scope_table["dim"] = [dl.index(d) for d in scope_table["dim"]]
        scope_table["dim"] = scope_table["dim"].astype("int64")
    # a drill-down counts the lines of its parent segment: those rows are handed to the engine (the same rows
    # as a WHERE clause on every line selects; loading 5% of a 477k-line table instead of all of it, twice)
    rows = None
    if within is not None:
        table = lines_table(prepared)
        rows = table[line_codes(prepared, within[0])[0] == int(within[1])]
    ocodes = line_codes(prepared, "order_id")[0]
    by_customer = cluster_codes(prepared) is not ocodes
    order_dims_constant(prepared, [d for d in dl if d in ORDER_DIMENSIONS])  # memoised before the levels split

    def order_level() -> pd.DataFrame:
        return segment_sums(prepared, dl, scope_table=scope_table, rows=rows)

    def customer_level() -> pd.DataFrame | None:
        # the customer level only gives the design effects (deff, rest_deff): no first line, no largest cluster
        if not by_customer:
            return None
        return segment_sums(prepared, dl, cluster="clu", scope_table=scope_table, first_rows=False, rows=rows)

    # the two levels are independent queries over the same loaded lines: side by side on the dashboard's
    # one-thread-per-query DuckDB (a new filter at 1M lines: README "Benchmarks")
    sums, csums = side_by_side(order_level, customer_level) if by_customer else (order_level(), None)
    out = {}
    for i, d in enumerate(dl):
        part = sums[sums["dim"] == i].reset_index(drop=True)
        c = counts_from_sums(part)
        if csums is not None:
            cp = csums[csums["dim"] == i]
            cc = counts_from_sums(cp.reset_index(drop=True))
            cc.index = cp["seg"].to_numpy("int64")
            seg = part["seg"].to_numpy("int64")
            c["deff"] = cc["deff"].reindex(seg).to_numpy()
            c["rest_deff"] = cc["rest_deff"].reindex(seg).to_numpy()
        labels = line_codes(prepared, d)[1]
        c.index = pd.Index(labels[part["seg"].to_numpy("int64")], name="segment")
        c["scope"] = part["scope"].to_numpy("int64")
        c["p0"] = part["x_all"].to_numpy("float64") / part["n_all"].to_numpy("float64")
        if d in info:
            scope, centre, rl = info[d]
            seg = part["seg"].to_numpy("int64")
            assert ref_col is not None  # info holds only dimensions compared within reference groups
            c["reference"] = np.where(
                c["scope"] >= 0, [reference_label(ref_col, rl[g]) if g >= 0 else "all" for g in c["scope"]], "all"
            )
            c["shrink_centre"] = np.where(c["scope"] < 0, centre[seg], np.nan)
        else:
            c["reference"] = "all"
        out[d] = c.drop(columns=["scope"])
    return out


def sql_counts(
    prepared: Prepared,
    dimension: str,
    *,
    reference: bool,
    within: tuple[str, str] | None = None,
    alone: bool = False,
) -> pd.DataFrame | None:
    """analysis.segments._counts_with_reference's frame for one dimension, counted in SQL (None when the
    drill-down names no existing segment). All dimensions are counted together and cached per Prepared;
    alone=True counts only this one (the same numbers: each dimension's rows and reference groups come from
    its own GROUP BY), for data asked about one dimension only."""
    from analysis.segments import line_codes, reference_dimensions

    if within is None and alone:
        ref_dims: tuple[str, ...] = (dimension,) if reference and dimension in reference_dimensions(prepared) else ()
        return _all_counts(prepared, (dimension,), ref_dims, None)[dimension]
    if within is None:
        dims = tuple(segment_dimensions(prepared))
        if dimension not in dims:
            dims = dims + (dimension,)
        # the reference groups do not depend on which dimension asks: one cached query serves them all
        ref_dims = tuple(d for d in dims if d in reference_dimensions(prepared))
        if not reference and dimension in reference_dimensions(prepared):
            dims, ref_dims = (dimension,), ()
        return _all_counts(prepared, dims, ref_dims, None)[dimension]
    wcodes, wlabels = line_codes(prepared, within[0])
    hit = np.flatnonzero(wlabels == str(within[1]))
    if not len(hit):
        return None
    # a drill-down page asks for several line dimensions of one parent segment (products, then sizes): they are
    # counted together, once per parent (each dimension's rows come from its own GROUP BY)
    dims = tuple(d for d in segment_dimensions(prepared) if d not in ORDER_DIMENSIONS and d != within[0])
    dims = dims if dimension in dims else (dimension,)
    return _all_counts(prepared, dims, (), (within[0], int(hit[0])))[dimension]


def pair_counts(prepared: Prepared, item_codes: np.ndarray) -> pd.DataFrame:
    """analysis/sql/pair_counts.sql: per (item_a < item_b, band) counts of orders holding both items.
    item_codes: per mature line, the item's code (alphabetical rank, -1 = not analysed), as
    analysis.pairs.pair_table builds it. (The pair statistics still count in numpy; this query is held
    equal to them in tests/unit/test_segment_sql.py and is the Spark/DuckDB path for pairs to move to.)"""
    from data.engine_sql import run_sql

    from analysis.segments import line_codes, mature_frames

    lines = mature_frames(prepared)[0]
    table = pd.DataFrame(
        {
            "ord": line_codes(prepared, "order_id")[0],
            "item": np.asarray(item_codes, dtype="int64"),
            "x_u": lines["returned_units"].to_numpy(dtype="float64"),
            "n_u": lines["quantity"].to_numpy(dtype="float64"),
        }
    )
    return run_sql(sql_text("pair_counts"), {"pair_lines": table})


def monthly_cohorts(prepared: Prepared, n_arrived: np.ndarray | None = None) -> pd.DataFrame:
    """analysis/sql/monthly_cohorts.sql over every line: per order month, units, returned, orders,
    provisional (holds immature orders) and units_arrived (sum of `n_arrived`, per line; 0 when omitted).
    Held equal to analysis.trends.cohort_series's counts in tests/unit/test_segment_sql.py; the trend page
    still counts in pandas."""
    from data.engine_sql import run_sql

    lines = prepared.lines
    xcol, ncol = prepared.rate_columns()
    table = pd.DataFrame(
        {
            "order_date": lines["order_date"].to_numpy(),
            "ord": pd.factorize(lines["order_id"])[0].astype("int64"),
            "x": lines[xcol].to_numpy(dtype="float64"),
            "n": lines[ncol].to_numpy(dtype="float64"),
            "immature": (~lines["mature"].astype(bool)).to_numpy().astype("int64"),
            "n_arrived": np.zeros(len(lines)) if n_arrived is None else np.asarray(n_arrived, dtype="float64"),
        }
    )
    out = run_sql(sql_text("monthly_cohorts"), {"cohort_lines": table})
    out["period"] = pd.to_datetime(out["period"])
    out["provisional"] = out["provisional"].astype(bool)
    return out
