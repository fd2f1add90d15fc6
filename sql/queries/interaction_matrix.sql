-- question: How did interactions split across channel, interaction type and journey stage in a time range?
-- One row per channel and interaction type, one column per journey stage: distinct events
-- (FINAL), so every event counts once, under its newest classification. `no_stage` counts
-- events without a stage (not_applicable, such as conversation.closed, or unspecified); the
-- stage columns add up to `interactions`. `customers` are the distinct identified customers
-- of the row. Read from `interactions`, not the hourly rollup: the rollup's counts are
-- approximate (uniq) and keep an event under every classification it ever had.
-- param tenant String: tenant id, e.g. acme-shop
-- param from Date: first day, inclusive (UTC)
-- param to Date: last day, inclusive (UTC)
-- example: lintas query interaction_matrix --param tenant=acme-shop --param from=2026-03-02 --param to=2026-04-02
--   channel    interaction_type  interactions  customers  awareness  consideration  purchase  retention  advocacy  no_stage
--   email      service           3             1          0          0              0         3          0         0
--   messaging  service           3             2          0          0              0         3          0         0
--   messaging  not_applicable    1             1          0          0              0         0          0         1
SELECT
    channel,
    interaction_type,
    count() AS interactions,
    uniqExactIf(customer_id, customer_id != '') AS customers,
    countIf(journey_stage = 'awareness') AS awareness,
    countIf(journey_stage = 'consideration') AS consideration,
    countIf(journey_stage = 'purchase') AS purchase,
    countIf(journey_stage = 'retention') AS retention,
    countIf(journey_stage = 'advocacy') AS advocacy,
    countIf(journey_stage IN ('not_applicable', 'unspecified')) AS no_stage
FROM interactions FINAL
WHERE tenant_id = {tenant:String}
  AND toDate(occurred_at) >= {from:Date}
  AND toDate(occurred_at) <= {to:Date}
GROUP BY channel, interaction_type
ORDER BY channel, interaction_type
