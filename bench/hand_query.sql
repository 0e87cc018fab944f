-- The hand-written DuckDB query of issue 14: every count prepare() + analyse() need for the segment and pair
-- tables, from the canonical tables, in SQL written once by hand (the baseline bench/bench_engine.py compares
-- the pipeline with). Independent of analysis/: it re-implements prepare's rules from their documentation
-- and code, and tests/unit/test_hand_query.py holds its counts equal to the pipeline's.
--
-- Tables: orders, returns - the canonical tables (data.schema) as DuckDB tables loaded in file order, so
-- that rowid is the line's position (prepare's line_no). Statements are separated by "-- name: <name>"
-- lines and run in order by bench.hand_query.run_hand_query; braced placeholders are filled there with
-- identifiers and integers only (which optional columns hold data; the dimensions to count).

-- name: availability
-- Which optional columns hold any data among the sold lines (prepare's `available`).
SELECT count(*) AS n_lines, count(product_name) AS product_name, count(collection) AS collection,
       count(category) AS category, count(size) AS size, count(customer_id) AS customer_id,
       count(channel) AS channel, count(journey) AS journey, count(intent) AS intent,
       count(promotion) AS promotion, count(country) AS country, count(addon) AS addon
FROM orders WHERE quantity > 0

-- name: lines
-- Every sold line with its returned units, intent, customer type and product (prepare before maturity).
-- Return allocation: the units returned against an (order, sku) go to its lines in file order, each line
-- taking at most its own units (cumulative clip): returned = clip(ret_q - units of the earlier lines, 0, q).
-- Intent per order: bracketing (one product in 2+ sizes, only when sizes are known) > single_item (1 unit)
-- > full_refresh (3+ collections, else categories) > multi_item; a file's own intent wins where given.
-- Customer type: unknown without a customer id, first on the customer's first order date, else repeat.
-- ord: an integer per order; clu: an integer per customer (orders without a customer id: one of their own).
CREATE OR REPLACE TEMP TABLE hq_lines AS
WITH ol AS (
    SELECT rowid AS line_no, * FROM orders WHERE quantity > 0
), rq AS (
    SELECT order_id, sku, coalesce(sum(quantity), 0) AS ret_q FROM returns GROUP BY order_id, sku
), alloc AS (  -- only the lines of (order, sku) pairs with a return need the running sum
    SELECT ol.line_no,
           least(ol.quantity, greatest(0, rq.ret_q - (sum(ol.quantity) OVER w - ol.quantity))) AS returned_units
    FROM ol JOIN rq ON rq.order_id = ol.order_id AND rq.sku = ol.sku
    WINDOW w AS (PARTITION BY ol.order_id, ol.sku ORDER BY ol.line_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), o AS (
    SELECT order_id, sum(quantity) AS units, count(DISTINCT {coll_col}) AS ncoll FROM ol GROUP BY order_id
), br AS (  -- orders holding one product in two or more variants
    SELECT DISTINCT order_id FROM (
        SELECT order_id FROM ol WHERE {has_size}
        GROUP BY order_id, {product_key} HAVING count(DISTINCT {variant_key}) >= 2
    )
), oi AS (
    SELECT o.order_id, row_number() OVER () AS ord,
           CASE WHEN br.order_id IS NOT NULL THEN 'bracketing' WHEN o.units <= 1 THEN 'single_item'
                WHEN o.ncoll >= 3 THEN 'full_refresh' ELSE 'multi_item' END AS intent_derived
    FROM o LEFT JOIN br ON br.order_id = o.order_id
), cust AS (
    SELECT customer_id, min(order_date) AS first_date, row_number() OVER () AS cid
    FROM ol WHERE customer_id IS NOT NULL GROUP BY customer_id
)
SELECT ol.line_no, oi.ord, CASE WHEN cust.cid IS NULL THEN -oi.ord ELSE cust.cid END AS clu, ol.order_id, ol.sku, ol.order_date, ol.quantity,
       coalesce(alloc.returned_units, 0) AS returned_units,
       coalesce(ol.intent, oi.intent_derived) AS intent,
       CASE WHEN ol.customer_id IS NULL THEN 'unknown' WHEN ol.order_date <= cust.first_date THEN 'first'
            ELSE 'repeat' END AS customer_type,
       coalesce(ol.product_name, ol.sku) AS product,
       ol.collection, ol.category, ol.size, ol.channel, ol.journey, ol.promotion, ol.country, ol.addon
FROM ol
JOIN oi ON oi.order_id = ol.order_id
LEFT JOIN alloc ON alloc.line_no = ol.line_no
LEFT JOIN cust ON cust.customer_id = ol.customer_id

-- name: window
-- The return window (analysis.maturity): Kaplan-Meier over sold lines - a returned line is an event at the
-- days to its first dated return of the same (order, sku), an unreturned line is censored at its follow-up
-- (days from its order to the end of the data: the later of the last order and the last matched return);
-- returned lines without a dated return are left out. G(t) = F(t) / F(last event); the window is the first
-- event day with G >= 98%, bounded to [14, 120]; 30 days with fewer than 20 dated returns or no event.
-- A window given by the caller ({window_days} > 0) wins. The cutoff: the last order date minus the window;
-- when no order is that old, every order counts as mature.
CREATE OR REPLACE TEMP TABLE hq_window AS
WITH lk AS (
    SELECT order_id, sku, arg_min(order_date, line_no) AS order_date FROM hq_lines GROUP BY order_id, sku
), rm AS (  -- returns matched to a sold (order, sku), with their days to return
    SELECT r.order_id, r.sku, r.return_date,
           floor((epoch(r.return_date) - epoch(lk.order_date)) / 86400) AS days
    FROM returns r JOIN lk ON lk.order_id = r.order_id AND lk.sku = r.sku
), first_ret AS (
    SELECT order_id, sku, min(days) AS d FROM rm GROUP BY order_id, sku
), ends AS (
    SELECT greatest((SELECT max(order_date) FROM hq_lines),
                    coalesce((SELECT max(return_date) FROM rm), (SELECT max(order_date) FROM hq_lines))) AS data_end,
           (SELECT count(*) FROM rm WHERE days >= 0) AS n_dated
), cases AS (
    SELECT l.returned_units > 0 AS ev,
           CASE WHEN l.returned_units > 0 THEN f.d
                ELSE floor((epoch(e.data_end) - epoch(l.order_date)) / 86400) END AS t,
           floor((epoch(e.data_end) - epoch(l.order_date)) / 86400) AS follow
    FROM hq_lines l CROSS JOIN ends e
    LEFT JOIN first_ret f ON f.order_id = l.order_id AND f.sku = l.sku
), km AS (
    SELECT t, count(*) FILTER (WHERE ev) AS d, count(*) AS cnt
    FROM cases WHERE t IS NOT NULL AND follow >= 0 AND t >= 0 GROUP BY t
), risk AS (
    SELECT t, d, sum(cnt) OVER (ORDER BY t DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS r FROM km
), surv AS (
    SELECT t, product(CASE WHEN r > 0 THEN 1.0 - d / r ELSE 1.0 END)
                  OVER (ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS s
    FROM risk WHERE d > 0
), g AS (
    SELECT t, (1 - s) / last_value(1 - s) OVER (ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS g,
           last_value(1 - s) OVER (ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS eventual
    FROM surv
), w AS (
    SELECT CASE WHEN {window_days} > 0 THEN {window_days}
                WHEN (SELECT n_dated FROM ends) < 20 OR NOT coalesce((SELECT max(eventual) FROM g) > 0, false) THEN 30
                ELSE least(120, greatest(14, CAST(ceil(coalesce(
                    (SELECT min(t) FROM g WHERE g >= 0.98 - 1e-12), (SELECT max(t) FROM g))) AS BIGINT)))
           END AS window_days
), cut AS (
    SELECT w.window_days, (SELECT max(order_date) FROM hq_lines) - to_days(CAST(w.window_days AS INTEGER)) AS cutoff
    FROM w
)
SELECT window_days,
       CASE WHEN (SELECT min(order_date) FROM hq_lines) <= cutoff THEN cutoff
            ELSE (SELECT max(order_date) FROM hq_lines) END AS cutoff
FROM cut

-- name: segments
-- Per segment of every dimension, over the mature lines: units, returned units, orders, orders with a
-- returned unit of the segment, and the per-cluster sums of squares and cross-products of the Rao-Scott
-- design effect (y = the segment's returned units in the cluster, m = its units; cells = its clusters).
-- Run once with {cluster} = ord (orders) and, where customers repeat, once with clu (customers: the design
-- effects cluster by customer then). Missing values form the segment "(not set)".
-- {cells_sets}: one grouping set (dimension, cluster) per dimension with data.
WITH m AS (
    SELECT l.* FROM hq_lines l, hq_window w WHERE l.order_date <= w.cutoff
), cells AS (
    SELECT {dim_case} AS dimension, coalesce({seg_coalesce}) AS segment, {cluster},
           sum(returned_units) AS y, sum(quantity) AS m
    FROM (SELECT {cluster}, returned_units, quantity, {seg_cols} FROM m)
    GROUP BY GROUPING SETS ({cells_sets})
)
SELECT dimension, segment, sum(m) AS n, sum(y) AS returned, count(*) AS cells,
       count(*) FILTER (WHERE m > 0) AS orders, count(*) FILTER (WHERE y > 0) AS orders_returned,
       sum(y * y) AS syy, sum(y * m) AS sym, sum(m * m) AS smm
FROM cells GROUP BY dimension, segment
ORDER BY dimension, segment

-- name: pairs
-- Items ({level}) bought together (analysis.pairs): distinct (order, item) rows of mature orders self-joined
-- per order; per pair A < B: orders holding both (multi-unit orders), those with any returned unit, the A
-- and B units of those orders and their returned units, the orders holding each item (n_a, n_b: all mature
-- orders) and the expected returns: per basket-size band (2, 3, 4-5, 6+ units), A's units x A's own unit
-- rate in orders of the band without B (clipped to [0, 1]; A's rate in the whole band when it has no such
-- units), plus the same for B. Pairs seen in fewer than 2 orders are left out.
WITH m AS (
    SELECT l.* FROM hq_lines l, hq_window w WHERE l.order_date <= w.cutoff
), ot AS (
    SELECT ord, sum(quantity) AS units, sum(returned_units) AS ret FROM m GROUP BY ord
), oi AS (
    SELECT ord, {level} AS item, sum(quantity) AS m, sum(returned_units) AS y FROM m
    WHERE {level} IS NOT NULL AND {level} <> '(not set)' GROUP BY ord, item
), n_item AS (
    SELECT item, count(*) AS n_orders FROM oi GROUP BY item
), oib AS (
    SELECT oi.ord, oi.item, oi.m, oi.y, ot.ret,
           CASE WHEN ot.units = 2 THEN 0 WHEN ot.units = 3 THEN 1 WHEN ot.units <= 5 THEN 2 ELSE 3 END AS band
    FROM oi JOIN ot ON ot.ord = oi.ord WHERE ot.units >= 2
), ib AS (
    SELECT item, band, sum(m) AS mi, sum(y) AS yi FROM oib GROUP BY item, band
), pb AS (
    SELECT a.item AS item_a, b.item AS item_b, a.band, count(*) AS n_ab, count(*) FILTER (WHERE a.ret > 0) AS x_ab,
           sum(a.m) AS ma, sum(a.y) AS ya, sum(b.m) AS mb, sum(b.y) AS yb
    FROM oib a JOIN oib b ON a.ord = b.ord AND a.item < b.item
    GROUP BY a.item, b.item, a.band
), pe AS (
    SELECT pb.*,
           least(1.0, greatest(0.0, CASE WHEN ia.mi - pb.ma > 0 THEN (ia.yi - pb.ya) / (ia.mi - pb.ma)
                                         WHEN ia.mi > 0 THEN ia.yi / ia.mi ELSE 0.0 END)) AS ra,
           least(1.0, greatest(0.0, CASE WHEN ibb.mi - pb.mb > 0 THEN (ibb.yi - pb.yb) / (ibb.mi - pb.mb)
                                         WHEN ibb.mi > 0 THEN ibb.yi / ibb.mi ELSE 0.0 END)) AS rb
    FROM pb JOIN ib ia ON ia.item = pb.item_a AND ia.band = pb.band
            JOIN ib ibb ON ibb.item = pb.item_b AND ibb.band = pb.band
), p AS (
    SELECT item_a, item_b, sum(ma + mb) AS n, sum(ya + yb) AS returned, sum(n_ab) AS orders,
           sum(x_ab) AS orders_returned, sum(ma * ra + mb * rb) AS expected_returns
    FROM pe GROUP BY item_a, item_b HAVING sum(n_ab) >= 2
)
SELECT p.item_a, p.item_b, p.n, p.returned, p.orders, p.orders_returned, na.n_orders AS n_a, nb.n_orders AS n_b,
       p.expected_returns
FROM p JOIN n_item na ON na.item = p.item_a JOIN n_item nb ON nb.item = p.item_b
ORDER BY p.item_a, p.item_b
