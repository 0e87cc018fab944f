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
-- and the scope's totals: g_all clusters, x_all, n_all, a_all = sum Y^2, b_all = sum Y M,
-- c_all = sum M^2, ret_all = clusters with a return.
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
), tot AS (
    SELECT dim, -1 AS scope, clu, sum(y) AS yt, sum(m) AS mt FROM c GROUP BY dim, clu
    UNION ALL
    SELECT dim, scope, clu, sum(y) AS yt, sum(m) AS mt FROM c WHERE scope >= 0 GROUP BY dim, scope, clu
), scope_tot AS (
    SELECT dim, scope, count(*) AS g_all, sum(yt) AS x_all, sum(mt) AS n_all, sum(yt * yt) AS a_all,
           sum(yt * mt) AS b_all, sum(mt * mt) AS c_all, sum(CASE WHEN yt > 0 THEN 1 ELSE 0 END) AS ret_all
    FROM tot GROUP BY dim, scope
), top AS (
    SELECT dim, seg, y AS top_x, m AS top_n FROM (
        SELECT dim, seg, y, m, row_number() OVER (PARTITION BY dim, seg ORDER BY y DESC, first_row DESC) AS r
        FROM c
    ) ranked WHERE r = 1
), sums AS (
    SELECT c.dim, c.seg, c.scope, sum(c.y) AS x, sum(c.m) AS n, count(*) AS cells,
           sum(c.y * c.y) AS syy, sum(c.y * c.m) AS sym, sum(c.m * c.m) AS smm,
           sum(t.yt * c.y) AS yt_y, sum(t.yt * c.m) AS yt_m, sum(t.mt * c.y) AS mt_y, sum(t.mt * c.m) AS mt_m,
           sum(CASE WHEN c.m >= t.mt THEN 1 ELSE 0 END) AS full_cells,
           sum(CASE WHEN c.m > 0 THEN 1 ELSE 0 END) AS seg_cells,
           sum(CASE WHEN c.y > 0 THEN 1 ELSE 0 END) AS ret_cells,
           sum(CASE WHEN t.yt - c.y <= 0 AND t.yt > 0 THEN 1 ELSE 0 END) AS rest_left
    FROM c JOIN tot t ON t.dim = c.dim AND t.scope = c.scope AND t.clu = c.clu
    GROUP BY c.dim, c.seg, c.scope
)
SELECT s.*, top.top_x, top.top_n, st.g_all, st.x_all, st.n_all, st.a_all, st.b_all, st.c_all, st.ret_all
FROM sums s
JOIN top ON top.dim = s.dim AND top.seg = s.seg
JOIN scope_tot st ON st.dim = s.dim AND st.scope = s.scope
ORDER BY s.dim, CASE WHEN s.scope < 0 THEN 1 ELSE 0 END, s.scope, s.seg
