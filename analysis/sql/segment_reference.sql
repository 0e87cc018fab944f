-- Units (and returned units) of each segment within each category, for the dimensions compared with
-- comparable items (collection, product, size): analysis.segment_sql picks each segment's dominant
-- category (its reference group) from these small sums.
-- Table seg_lines: one row per mature line; s_<dimension> integer segment codes, x_u / n_u the line's
-- returned units / units. One GROUP BY per dimension (the braced placeholders: its position, its column, the category's),
-- joined by UNION ALL in analysis.segment_sql (not GROUPING SETS, whose input DuckDB copies first).
SELECT {dim} AS dim, {seg} AS seg, {ref} AS cat, sum(x_u) AS x, sum(n_u) AS n
FROM seg_lines
GROUP BY {seg}, {ref}
