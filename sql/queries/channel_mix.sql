-- question: How did volume split across channels and interaction types, day by day?
-- Counts distinct events (deduplicated with FINAL) per day, channel and interaction type,
-- with each row's share of that day's volume and the distinct identified customers.
-- param tenant String: tenant id, e.g. acme-shop
-- param from Date: first day, inclusive (UTC)
-- param to Date: last day, inclusive (UTC)
-- example: lintas query channel_mix --param tenant=acme-shop --param from=2026-03-01 --param to=2026-03-31
--   day         channel    interaction_type  interactions  share_pct  customers
--   2026-03-02  messaging  service           2             66.7       1
--   2026-03-02  messaging  not_applicable    1             33.3       1
SELECT
    day,
    channel,
    interaction_type,
    interactions,
    round(100 * interactions / day_total, 1) AS share_pct,
    customers
FROM
(
    SELECT
        toDate(occurred_at) AS day,
        channel,
        interaction_type,
        count() AS interactions,
        uniqExactIf(customer_id, customer_id != '') AS customers
    FROM interactions FINAL
    WHERE tenant_id = {tenant:String}
      AND toDate(occurred_at) >= {from:Date}
      AND toDate(occurred_at) <= {to:Date}
    GROUP BY day, channel, interaction_type
) AS mix
ANY LEFT JOIN
(
    SELECT toDate(occurred_at) AS day, count() AS day_total
    FROM interactions FINAL
    WHERE tenant_id = {tenant:String}
      AND toDate(occurred_at) >= {from:Date}
      AND toDate(occurred_at) <= {to:Date}
    GROUP BY day
) AS totals USING (day)
ORDER BY day, interactions DESC, channel, interaction_type
