-- Per-segment sums behind every segment test, for every dimension in one GROUPING SETS pass.
--
-- Table seg_lines: one row per mature line (row_no = its position), integer codes ord (order) and
-- clu (the cluster of the design effect: customer or order), s_<dimension> (segment codes), and the
-- rate's numerator / denominator per line: x_u / n_u (returned units / units) and x_o / n_o (the
-- order-level outcome where the rate is per order). Table seg_scope (dim, seg, scope): the reference
-- group a segment is compared within (scope -1 = the whole population, the default).
--
-- For a cell = (segment s, cluster c) with sums y (returned) and m (units), and the cluster's totals
-- Y, M within the scope, each output row holds the sums METHOD 4.2's Rao-Scott design effect of the
-- segment and of its complement need (analysis.segment_sql turns them into the statistics):
--   x = sum y, n = sum m, cells = clusters of the segment, syy = sum y^2, sym = sum y m, smm = sum m^2,
--   yt_y = sum Y y, yt_m = sum Y m, mt_y = sum M y, mt_m = sum M m, full_cells = clusters wholly inside,
--   ret_cells = clusters with a returned unit, rest_left = clusters whose returns are all the segment's,
--   top_x / top_n: the cluster holding most returned units (ties: the later first line),
-- and, on the rows where seg is NULL (GROUPING SETS (dim) for the whole population, (dim, scope) for
-- a reference group), the scope's totals over its clusters: g_ = clusters, x_, n_, a_ = sum Y^2,
-- b_ = sum Y M, c_ = sum M^2, ret_ = clusters with a return (w_ for the whole population, g_ for groups).
-- The cells are read once: the cluster totals are window sums over them (no self-join), so an engine
-- that does not materialise common table expressions (Spark) does not recount them.
-- Placeholders in braces are expanded by analysis.segment_sql (identifiers and integers only); DuckDB dialect,
-- transpiled by SQLGlot for Spark.
WITH cells AS (
    SELECT {dim_case} AS dim, coalesce({seg_coalesce}) AS seg, {cluster} AS clu,
           sum(x_u) AS yu, sum(n_u) AS mu, sum(x_o) AS yo, sum(n_o) AS mo, min(row_no) AS first_row
    FROM seg_lines
    {where}
    GROUP BY GROUPING SETS ({sets})
), c AS (
    SELECT cells.dim, cells.seg, cells.clu, cells.first_row, coalesce(sc.scope, -1) AS scope,
           CASE WHEN cells.dim IN ({order_dims}) THEN cells.yo ELSE cells.yu END AS y,
           CASE WHEN cells.dim IN ({order_dims}) THEN cells.mo ELSE cells.mu END AS m
    FROM cells LEFT JOIN seg_scope sc ON sc.dim = cells.dim AND sc.seg = cells.seg
), w AS (
    SELECT dim, seg, clu, first_row, scope, y, m,
           sum(y) OVER (PARTITION BY dim, clu) AS yw, sum(m) OVER (PARTITION BY dim, clu) AS mw,
           row_number() OVER (PARTITION BY dim, clu ORDER BY seg) AS rep_w,
           sum(y) OVER (PARTITION BY dim, scope, clu) AS yg, sum(m) OVER (PARTITION BY dim, scope, clu) AS mg,
           row_number() OVER (PARTITION BY dim, scope, clu ORDER BY seg) AS rep_g,
           row_number() OVER (PARTITION BY dim, seg ORDER BY y DESC, first_row DESC) AS rank_y
    FROM c
), t AS (
    SELECT dim, seg, scope, y, m, yw, mw, yg, mg, rank_y,
           CASE WHEN rep_w = 1 THEN 1 ELSE 0 END AS one_w,
           CASE WHEN rep_g = 1 AND scope >= 0 THEN 1 ELSE 0 END AS one_g,
           CASE WHEN scope >= 0 THEN yg ELSE yw END AS yt,
           CASE WHEN scope >= 0 THEN mg ELSE mw END AS mt
    FROM w
)
SELECT dim, scope, seg,
       sum(y) AS x, sum(m) AS n, count(*) AS cells,
       sum(y * y) AS syy, sum(y * m) AS sym, sum(m * m) AS smm,
       sum(yt * y) AS yt_y, sum(yt * m) AS yt_m, sum(mt * y) AS mt_y, sum(mt * m) AS mt_m,
       sum(CASE WHEN m >= mt THEN 1 ELSE 0 END) AS full_cells,
       sum(CASE WHEN m > 0 THEN 1 ELSE 0 END) AS seg_cells,
       sum(CASE WHEN y > 0 THEN 1 ELSE 0 END) AS ret_cells,
       sum(CASE WHEN yt - y <= 0 AND yt > 0 THEN 1 ELSE 0 END) AS rest_left,
       max(CASE WHEN rank_y = 1 THEN y END) AS top_x, max(CASE WHEN rank_y = 1 THEN m END) AS top_n,
       sum(one_w) AS w_g, sum(one_w * yw) AS w_x, sum(one_w * mw) AS w_n, sum(one_w * yw * yw) AS w_a,
       sum(one_w * yw * mw) AS w_b, sum(one_w * mw * mw) AS w_c,
       sum(CASE WHEN one_w = 1 AND yw > 0 THEN 1 ELSE 0 END) AS w_ret,
       sum(one_g) AS g_g, sum(one_g * yg) AS g_x, sum(one_g * mg) AS g_n, sum(one_g * yg * yg) AS g_a,
       sum(one_g * yg * mg) AS g_b, sum(one_g * mg * mg) AS g_c,
       sum(CASE WHEN one_g = 1 AND yg > 0 THEN 1 ELSE 0 END) AS g_ret
FROM t
GROUP BY GROUPING SETS ((dim, scope, seg), (dim, scope), (dim))
