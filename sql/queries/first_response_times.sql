-- question: How fast do agents and bots first answer a customer, by channel and agent?
-- Per conversation: the customer's first inbound message, then the first outbound message
-- of an agent or bot at or after it; the response time is the difference in seconds and
-- is credited to the agent who sent that reply. Conversations are counted in the range of
-- their first inbound message; unanswered ones are left out (see open_service_load).
-- Percentiles are exact (quantileExact: the value at position floor(level * n) of the
-- sorted response times).
-- param tenant String: tenant id
-- param from Date: first day of first inbound messages, inclusive
-- param to Date: last day, inclusive
-- example: lintas query first_response_times --param tenant=acme-shop --param from=2026-03-01 --param to=2026-03-31
--   channel    agent       conversations  p50_s  p90_s  max_s
--   email      agent:budi  1              3600   3600   3600
SELECT
    channel,
    reply_agent AS agent,
    count() AS conversations,
    quantileExact(0.5)(response_s) AS p50_s,
    quantileExact(0.9)(response_s) AS p90_s,
    max(response_s) AS max_s
FROM
(
    SELECT
        conversation_id,
        channel,
        intDiv(min(occurred_at_us) - any(first_inbound_us), 1000000) AS response_s,
        argMin(agent_id, occurred_at_us) AS reply_agent
    FROM
    (
        SELECT conversation_id, channel, occurred_at_us, agent_id
        FROM interactions FINAL
        WHERE tenant_id = {tenant:String} AND conversation_id != ''
          AND direction = 'outbound' AND actor IN ('agent', 'bot')
    ) AS replies
    ALL INNER JOIN
    (
        SELECT conversation_id, channel, min(occurred_at_us) AS first_inbound_us
        FROM interactions FINAL
        WHERE tenant_id = {tenant:String} AND conversation_id != ''
          AND direction = 'inbound' AND actor = 'customer'
        GROUP BY conversation_id, channel
        HAVING toDate(toDateTime(intDiv(first_inbound_us, 1000000), 'UTC')) >= {from:Date}
           AND toDate(toDateTime(intDiv(first_inbound_us, 1000000), 'UTC')) <= {to:Date}
    ) AS firsts USING (conversation_id, channel)
    WHERE occurred_at_us >= first_inbound_us
    GROUP BY conversation_id, channel
)
GROUP BY channel, agent
ORDER BY channel, agent
