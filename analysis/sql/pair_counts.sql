-- Items bought together: per (item A, item B, basket-size band) over mature orders of 2+ units, the orders
-- holding both, those with any returned unit, their units and returned units, and A's and B's own units
-- and returned units in those orders (analysis.pairs' self-join of distinct (order, item) rows).
-- Table pair_lines: one row per mature line; ord (order code), item (the item's code, -1 for lines of
-- items not analysed), x_u / n_u (returned units / units). Bands as analysis.pairs._band:
-- 0 = 2 units, 1 = 3, 2 = 4-5, 3 = 6+ (single-unit orders have no pair).
WITH orders AS (
    SELECT ord, sum(n_u) AS units, sum(x_u) AS ret FROM pair_lines GROUP BY ord
), banded AS (
    SELECT ord, units, ret,
           CASE WHEN units <= 1 THEN -1 WHEN units = 2 THEN 0 WHEN units = 3 THEN 1 WHEN units <= 5 THEN 2 ELSE 3 END AS band
    FROM orders
), oi AS (
    SELECT ord, item, sum(n_u) AS m, sum(x_u) AS y FROM pair_lines WHERE item >= 0 GROUP BY ord, item
), oib AS (
    SELECT oi.ord, oi.item, oi.m, oi.y, b.band, b.units, b.ret
    FROM oi JOIN banded b ON b.ord = oi.ord
    WHERE b.band >= 0
)
SELECT a.item AS item_a, b.item AS item_b, a.band,
       count(*) AS n_ab, sum(CASE WHEN a.ret > 0 THEN 1 ELSE 0 END) AS x_ab,
       sum(a.units) AS u_ab, sum(a.ret) AS r_ab,
       sum(a.m) AS m_a, sum(a.y) AS y_a, sum(b.m) AS m_b, sum(b.y) AS y_b
FROM oib a JOIN oib b ON a.ord = b.ord AND a.item < b.item
GROUP BY a.item, b.item, a.band
ORDER BY item_a, item_b, band
