-- question: How do NPS, CSAT and star ratings develop week by week?
-- One row per week (starting Monday, UTC) and scale. `score` is the NPS (% promoters 9-10
-- minus % detractors 0-6) for nps, and the % of satisfied answers (the top two points of the
-- scale, e.g. 4-5 of 1-5; the top point of a two-point good/bad scale) for csat and stars. Each answer counts once (FINAL).
-- param tenant String: tenant id
-- param from Date: first day, inclusive
-- param to Date: last day, inclusive
-- example: lintas query feedback_trend --param tenant=acme-shop --param from=2026-03-01 --param to=2026-04-30
--   week        scale  answers  avg_value  score
--   2026-03-02  nps    1        9          100
SELECT
    toMonday(occurred_at) AS week,
    rating_scale AS scale,
    count() AS answers,
    round(avg(assumeNotNull(rating_value)), 2) AS avg_value,
    round(if(rating_scale = 'nps',
        100 * (countIf(assumeNotNull(rating_value) >= 9) - countIf(assumeNotNull(rating_value) <= 6)) / count(),
        100 * countIf(assumeNotNull(rating_value) >= assumeNotNull(rating_max) - if(assumeNotNull(rating_max) - assumeNotNull(rating_min) >= 2, 1, 0)) / count()), 1) AS score
FROM interactions FINAL
WHERE tenant_id = {tenant:String}
  AND rating_scale IN ('nps', 'csat', 'stars') AND isNotNull(rating_value)
  AND toDate(occurred_at) >= {from:Date}
  AND toDate(occurred_at) <= {to:Date}
GROUP BY week, scale
ORDER BY week, scale
