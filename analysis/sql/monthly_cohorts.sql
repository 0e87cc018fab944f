-- Order-month cohorts (analysis.trends.cohort_series, freq "M"): units, returned units, orders, whether the
-- cohort holds immature orders (returns may still arrive), and the units weighted by the share of returns
-- expected to have arrived (n_arrived per line, from the empirical days-to-return CDF, computed by the caller).
-- Table cohort_lines: one row per line (all lines, mature or not): order_date, ord (order code), x / n (the
-- rate's numerator / denominator), immature (1/0), n_arrived.
SELECT date_trunc('month', order_date) AS period, sum(n) AS units, sum(x) AS returned,
       count(DISTINCT ord) AS orders, max(immature) AS provisional, sum(n_arrived) AS units_arrived
FROM cohort_lines
GROUP BY date_trunc('month', order_date)
ORDER BY period
