-- question: How many service conversations are open right now, per channel, and how many wait for our reply?
-- A conversation is open at `as_of` when it had a service interaction after its last
-- `conversation.closed` / `ticket.solved` event (or never closed). It awaits a reply when
-- its last customer message is newer than the last agent or bot message. Age is measured
-- from the first service interaction after the last close.
-- param tenant String: tenant id
-- param as_of DateTime: the moment to evaluate, 'YYYY-MM-DD hh:mm:ss' UTC; later events are ignored
-- example: lintas query open_service_load --param tenant=acme-shop --param 'as_of=2026-03-31 00:00:00'
--   channel    open_conversations  awaiting_reply  oldest_age_h
--   email      1                   1               663
--   messaging  1                   1               229
SELECT
    channel,
    count() AS open_conversations,
    sum(last_customer_us > last_reply_us) AS awaiting_reply,
    max(intDiv(toInt64(toUnixTimestamp({as_of:DateTime})) * 1000000 - open_since_us, 3600000000)) AS oldest_age_h
FROM
(
    -- Two levels, and closed_us passed to the lambda as an array rather than captured:
    -- ClickHouse 18.16 drops columns that are only named inside a lambda or by another
    -- column's expression.
    SELECT
        channel,
        arrayReduce('min', arrayFilter((t, closed) -> t > closed, service_us,
            arrayResize(emptyArrayInt64(), length(service_us), closed_us))) AS open_since_us,
        last_customer_us,
        last_reply_us
    FROM
    (
        SELECT
            conversation_id,
            channel,
            maxIf(occurred_at_us, event_name IN ('conversation.closed', 'ticket.solved')) AS closed_us,
            groupArrayIf(occurred_at_us, interaction_type = 'service') AS service_us,
            maxIf(occurred_at_us, direction = 'inbound' AND actor = 'customer') AS last_customer_us,
            maxIf(occurred_at_us, direction = 'outbound' AND actor IN ('agent', 'bot')) AS last_reply_us
        FROM interactions FINAL
        WHERE tenant_id = {tenant:String} AND conversation_id != ''
          AND occurred_at <= {as_of:DateTime}
        GROUP BY conversation_id, channel
    )
    WHERE open_since_us > 0
)
GROUP BY channel
ORDER BY channel
