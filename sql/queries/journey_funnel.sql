-- question: Of the customers who first appeared in each month, how many reached each journey stage (awareness -> consideration -> purchase -> retention -> advocacy)?
-- A customer's cohort is the month of their first interaction (identified customers only:
-- rows with an empty customer_id are left out). "Reached" is cumulative: a customer whose
-- deepest stage is purchase counts for awareness, consideration and purchase, since a later
-- stage implies the earlier ones even when those were not observed.
-- param tenant String: tenant id
-- param from Date: first cohort month (any day in it), inclusive
-- param to Date: last cohort month (any day in it), inclusive
-- example: lintas query journey_funnel --param tenant=acme-shop --param from=2026-03-01 --param to=2026-04-30
--   cohort      customers  awareness  consideration  purchase  retention  advocacy
--   2026-03-01  3          3          3              3         3          1
SELECT
    cohort,
    count() AS customers,
    countIf(deepest >= 1) AS awareness,
    countIf(deepest >= 2) AS consideration,
    countIf(deepest >= 3) AS purchase,
    countIf(deepest >= 4) AS retention,
    countIf(deepest >= 5) AS advocacy
FROM
(
    SELECT
        customer_id,
        toStartOfMonth(min(occurred_at)) AS cohort,
        maxIf(toInt8(journey_stage), journey_stage NOT IN ('unspecified', 'not_applicable')) AS deepest
    FROM interactions FINAL
    WHERE tenant_id = {tenant:String} AND customer_id != ''
    GROUP BY customer_id
)
WHERE cohort >= toStartOfMonth({from:Date}) AND cohort <= toStartOfMonth({to:Date})
GROUP BY cohort
ORDER BY cohort
