-- Per-segment sums behind every segment test, for every dimension in one query per cluster level.
--
-- Table seg_lines: one row per mature line (row_no = its position), integer codes ord (order) and
-- clu (the cluster of the design effect: customer or order), s_<dimension> (segment codes), and the
-- rate's numerator / denominator per line: x_u / n_u (returned units / units) and x_o / n_o (the
-- order-level outcome where the rate is per order; absent when it is x_u / n_u, which the query then reads). Table seg_scope (dim, seg, scope): the reference
-- group a segment is compared within (scope -1 = the whole population, the default).
--
-- For a cell = (segment s, cluster c) with sums y (returned) and m (units), and the cluster's totals
-- Y, M within the scope, each output row holds the sums METHOD 4.2's Rao-Scott design effect of the
-- segment and of its complement need (analysis.segment_sql turns them into the statistics):
--   x = sum y, n = sum m, cells = clusters of the segment, syy = sum y^2, sym = sum y m, smm = sum m^2,
--   yt_y = sum Y y, yt_m = sum Y m, mt_y = sum M y, mt_m = sum M m, full_cells = clusters wholly inside,
--   ret_cells = clusters with a returned unit, rest_left = clusters whose returns are all the segment's,
--   top_x / top_n: the cluster holding most returned units (ties: the later first line),
-- The totals each scope needs (clusters, x, n, sum Y^2, sum Y M, sum M^2, clusters with a return) come
-- as extra rows in the same columns (cells, x, n, syy, sym, smm, ret_cells): kind 1 = a reference group
-- (dim, scope), kind 2 / 3 = the whole population on the unit / order basis. Cluster totals are hash
-- aggregates joined back (no window sorts); top_n is the m of the cell with the largest (y, first_row)
-- (row_scale, the number of lines + 1, makes that one exact number: top_key, with which
-- analysis.segment_sql combines the passes over disjoint ranges of clusters).
-- Cost (issue 14, bench/bench_engine.py): the order dimensions' cells are summed from the lines
-- pre-summed per (cluster, order-level segments), about half the rows; the reference groups' cluster
-- totals (gtot) are summed from the lines (each carrying its segment's scope), not from the cells,
-- so the cells are read by one consumer only. Reference dimensions are line dimensions (unit basis).
-- The order dimensions' cells carry their cluster's totals from o (joined once per o row, table ot)
-- instead of a join per cell: they are never in a reference group, so only the line dimensions' cells
-- (table c) join the cluster totals (tot): 5.45M -> 3.4M probe rows at 1M lines (-8% CPU per query).
-- When every order dimension is constant within each order (analysis.segment_sql.order_dims_constant),
-- the order-level pass reads each o row as a cell of every order dimension without grouping (-18%), and
-- each o row is then its cluster's total as well (ctot = o, no aggregate and no join: -11% at 1M).
-- Each dimension is one plain GROUP BY, the dimensions joined by UNION ALL: DuckDB copies the input of a
-- GROUPING SETS aggregate into a CTE before grouping (about a third of the operator time at 1M and 5M).
-- On DuckDB, past 250k lines, analysis.segment_sql runs this query once per range of clusters (the WHERE
-- clause below) and adds the passes up: at 4.8M lines one pass spilled its hash tables past the 1 GB cap
-- and cost 7-9x its 1M figure; in passes it costs 5x (bench/stage_profile.py).
-- The customer-level pass only feeds design effects: it skips the first line ({first_row} = 0; its
-- top_x / top_n are not read).
-- Without a WHERE clause the lines are read from seg_lines itself, not through a CTE: DuckDB materializes a CTE
-- read five times (a copy of every column), and the whole pass costs 5-12% more CPU that way (0.43 -> 0.41 s and
-- 0.45 -> 0.39 s for the two passes over the 443k mature lines of Channel = Web, medians of 5).
-- Placeholders in braces are expanded by analysis.segment_sql (identifiers and integers only); DuckDB
-- dialect, transpiled by SQLGlot for Spark.
WITH {base_cte}o AS (  -- lines summed per cluster and order-level segment: the order dimensions' cells read this
    SELECT {cluster} AS clu{order_cols}, sum(x_u) AS yu, sum(n_u) AS mu, sum({x_o}) AS yo, sum({n_o}) AS mo,
           {first_row} AS first_row
    FROM {base} GROUP BY {cluster}{order_cols}
), ctot AS (  -- the cluster totals (o itself when o holds one row per cluster)
    {ctot}
), ot AS (  -- o with its cluster's order-basis totals: the order dimensions' cells carry them (no join per cell)
    {ot}
), lcells AS (  -- the line dimensions' cells (segment, cluster)
    {lcells}
), ocells AS (  -- the order dimensions' cells, with the cluster totals they are compared with
    {ocells}
), c AS (
    SELECT lcells.dim, lcells.seg, lcells.clu, lcells.first_row, coalesce(sc.scope, -1) AS scope, lcells.y, lcells.m
    FROM lcells LEFT JOIN seg_scope sc ON sc.dim = lcells.dim AND sc.seg = lcells.seg
), gtot AS (  -- per reference dimension, group and cluster: the group's units within the cluster
    {gtot}
), tot AS (  -- every cluster total a line dimension's cell is compared within, keyed by tk: a reference
             -- group's (dim, scope), or -1 = the whole population (unit basis); one join per cell
    SELECT -1 AS tk, clu, yu AS yt, mu AS mt FROM ctot
    UNION ALL
    SELECT dim * {scope_base} + scope AS tk, clu, yg AS yt, mg AS mt FROM gtot
), t AS (
    SELECT c.dim, c.seg, c.scope, c.y, c.m, c.first_row, tot.yt, tot.mt
    FROM c JOIN tot ON tot.clu = c.clu
        AND tot.tk = CASE WHEN c.scope >= 0 THEN c.dim * {scope_base} + c.scope ELSE -1 END
    UNION ALL
    SELECT dim, seg, -1 AS scope, y, m, first_row, yt, mt FROM ocells
)
SELECT 0 AS kind, dim, scope, seg,
       sum(y) AS x, sum(m) AS n, count(*) AS cells,
       sum(y * y) AS syy, sum(y * m) AS sym, sum(m * m) AS smm,
       sum(yt * y) AS yt_y, sum(yt * m) AS yt_m, sum(mt * y) AS mt_y, sum(mt * m) AS mt_m,
       sum(CASE WHEN m >= mt THEN 1 ELSE 0 END) AS full_cells,
       sum(CASE WHEN m > 0 THEN 1 ELSE 0 END) AS seg_cells,
       sum(CASE WHEN y > 0 THEN 1 ELSE 0 END) AS ret_cells,
       sum(CASE WHEN yt - y <= 0 AND yt > 0 THEN 1 ELSE 0 END) AS rest_left,
       max(y) AS top_x, arg_max(m, y * {row_scale} + first_row) AS top_n,
       max(y * {row_scale} + first_row) AS top_key
FROM t GROUP BY dim, scope, seg
UNION ALL
SELECT 1 AS kind, dim, scope, NULL AS seg, sum(yg) AS x, sum(mg) AS n, count(*) AS cells,
       sum(yg * yg) AS syy, sum(yg * mg) AS sym, sum(mg * mg) AS smm, NULL AS yt_y, NULL AS yt_m, NULL AS mt_y,
       NULL AS mt_m, NULL AS full_cells, NULL AS seg_cells, sum(CASE WHEN yg > 0 THEN 1 ELSE 0 END) AS ret_cells,
       NULL AS rest_left, NULL AS top_x, NULL AS top_n, NULL AS top_key
FROM gtot GROUP BY dim, scope
UNION ALL
SELECT 2 AS kind, NULL AS dim, NULL AS scope, NULL AS seg, sum(yu) AS x, sum(mu) AS n, count(*) AS cells,
       sum(yu * yu) AS syy, sum(yu * mu) AS sym, sum(mu * mu) AS smm, NULL AS yt_y, NULL AS yt_m, NULL AS mt_y,
       NULL AS mt_m, NULL AS full_cells, NULL AS seg_cells, sum(CASE WHEN yu > 0 THEN 1 ELSE 0 END) AS ret_cells,
       NULL AS rest_left, NULL AS top_x, NULL AS top_n, NULL AS top_key
FROM ctot
UNION ALL
SELECT 3 AS kind, NULL AS dim, NULL AS scope, NULL AS seg, sum(yo) AS x, sum(mo) AS n, count(*) AS cells,
       sum(yo * yo) AS syy, sum(yo * mo) AS sym, sum(mo * mo) AS smm, NULL AS yt_y, NULL AS yt_m, NULL AS mt_y,
       NULL AS mt_m, NULL AS full_cells, NULL AS seg_cells, sum(CASE WHEN yo > 0 THEN 1 ELSE 0 END) AS ret_cells,
       NULL AS rest_left, NULL AS top_x, NULL AS top_n, NULL AS top_key
FROM ctot
