-- question: What did one customer do, across every channel, in order?
-- The customer is the given handle plus every customer id that appeared with it: an event
-- of customer phone:+1... that also carried email:a@... links the two, so asking for either
-- returns the WhatsApp chat, the order and the survey alike. Text is cut to 80 characters.
-- Each event once (FINAL).
-- param tenant String: tenant id
-- param customer String: a namespaced handle, e.g. phone:+15555550101
-- param limit UInt32 = 200: most events to return (the oldest first)
-- example: lintas query customer_timeline --param tenant=acme-shop --param customer=phone:+15555550101
--   at                   channel    direction  actor     event_name        interaction_type  journey_stage  conversation_id  agent_id   text
--   2026-03-02 09:00:00  messaging  inbound    customer  message.received  service           retention      wa:101                      where is my order 1042?
SELECT
    toString(occurred_at) AS at,
    channel,
    direction,
    actor,
    event_name,
    interaction_type,
    journey_stage,
    conversation_id,
    agent_id,
    substringUTF8(text, 1, 80) AS text
FROM interactions FINAL
WHERE tenant_id = {tenant:String}
  AND (customer_id = {customer:String}
       OR has(customer_handles, {customer:String})
       -- GLOBAL: in cluster mode both sides read the Distributed table, and a plain IN
       -- would be a double-distributed subquery, refused by default.
       OR customer_id GLOBAL IN
       (
           SELECT customer_id
           FROM interactions
           WHERE tenant_id = {tenant:String} AND customer_id != ''
             AND has(customer_handles, {customer:String})
       ))
ORDER BY occurred_at_us, event_id
LIMIT {limit:UInt32}
