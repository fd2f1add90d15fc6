//! The JSON mapping of `POST /v1/events`, event by event.

use chrono::TimeZone;
use lintas_schema::v1::NormalizationFlag;
use serde_json::json;

use lintas_schema::v1::RatingScale;
use lintas_schema::validate::{MAX_ATTRIBUTE_VALUE_BYTES, MAX_ATTRIBUTES};

use super::*;

fn received_at() -> DateTime<Utc> {
    Utc.timestamp_opt(1_741_910_400, 0)
        .single()
        .expect("valid instant")
}

fn map(value: &Value) -> Result<InteractionEvent, Rejection> {
    map_event(value, 7, "acme", received_at())
}

fn message() -> Value {
    json!({
        "type": "track",
        "event": "message.received",
        "userId": "cust_0001",
        "messageId": "msg-1",
        "timestamp": "2025-03-14T08:13:55+07:00",
        "properties": {
            "channel": "whatsapp",
            "text": "Kak, saya sudah transfer tadi pagi tapi status pesanan masih menunggu pembayaran. Tolong dicek ya",
            "conversation_id": "conv-9",
            "order_number": 1042,
        },
        "context": { "traits": { "email": "Customer.A@Example.com", "phone": "+1 555-555-0101" } },
    })
}

fn flags(event: &InteractionEvent) -> Vec<NormalizationFlag> {
    event
        .normalization_flags
        .iter()
        .filter_map(|flag| NormalizationFlag::try_from(*flag).ok())
        .collect()
}

#[test]
fn a_track_message_maps_every_field_and_passes_validation() {
    let event = map(&message()).expect("valid event");

    assert_eq!(event.tenant_id, "acme");
    assert_eq!(event.source, "api");
    assert_eq!(event.event_name, "message.received");
    assert_eq!(event.channel(), Channel::Messaging);
    assert_eq!(event.direction(), Direction::Inbound);
    assert_eq!(event.actor(), Actor::Customer);
    assert_eq!(event.customer_id, "user_id:cust_0001");
    assert_eq!(
        event.customer_handles,
        vec!["email:customer.a@example.com", "phone:+15555550101"]
    );
    assert_eq!(event.conversation_id, "conv-9");
    assert!(
        event.text.starts_with("Kak, saya sudah transfer"),
        "{}",
        event.text
    );
    assert_eq!(event.language, "id");
    assert_eq!(
        event.attributes.get("order_number").map(String::as_str),
        Some("1042")
    );
    assert_eq!(event.source_event_id, "msg-1");
    let occurred = event
        .occurred_at
        .as_ref()
        .and_then(lintas_schema::time::from_timestamp)
        .expect("occurred_at");
    assert_eq!(occurred.to_rfc3339(), "2025-03-14T01:13:55+00:00");
    assert!(lintas_schema::validate_event(&event).is_ok());
}

#[test]
fn the_message_id_makes_the_event_id_deterministic_per_tenant() {
    let first = map(&message()).expect("valid");
    let again = map(&message()).expect("valid");
    let other_tenant = map_event(&message(), 0, "globex", received_at()).expect("valid");

    assert_eq!(first.event_id, again.event_id);
    assert_eq!(
        first.event_id,
        lintas_schema::derive_event_id("acme", "api", "msg-1").to_string()
    );
    assert_ne!(first.event_id, other_tenant.event_id);
}

#[test]
fn without_message_id_every_event_gets_a_fresh_v7_id() {
    let mut value = message();
    value["messageId"] = Value::Null;

    let first = map(&value).expect("valid");
    let second = map(&value).expect("valid");

    assert_ne!(first.event_id, second.event_id);
    assert_eq!(
        uuid_version(&first.event_id),
        Some('7'),
        "{}",
        first.event_id
    );
}

fn uuid_version(id: &str) -> Option<char> {
    id.chars().nth(14)
}

#[test]
fn without_timestamp_the_receive_time_is_used_and_flagged() {
    let mut value = message();
    value["timestamp"] = Value::Null;

    let event = map(&value).expect("valid");

    assert_eq!(event.occurred_at, event.received_at);
    assert!(flags(&event).contains(&NormalizationFlag::OccurredAtInferred));
}

#[test]
fn epoch_timestamps_are_read_in_seconds_or_milliseconds_by_magnitude() {
    for timestamp in [json!(1_741_940_035), json!(1_741_940_035_000_i64)] {
        let mut value = message();
        value["timestamp"] = timestamp;

        let event = map(&value).expect("valid");

        assert_eq!(
            event.occurred_at.as_ref().map(|ts| ts.seconds),
            Some(1_741_940_035)
        );
        assert!(!flags(&event).contains(&NormalizationFlag::TimestampUnitCorrected));
    }
}

#[test]
fn segment_spec_names_map_to_verbs_and_other_names_become_custom() {
    let mut value = message();
    value["event"] = json!("Order Completed");
    value["properties"] = json!({"channel": "online_store", "total": 89.5, "currency": "usd"});
    let order = map(&value).expect("valid");
    assert_eq!(order.event_name, "order.created");
    assert_eq!(order.channel(), Channel::Commerce);
    let money = order.money.expect("money");
    assert_eq!((money.amount_minor, money.currency.as_str()), (8950, "USD"));
    assert_eq!(
        order.attributes.get("event").map(String::as_str),
        Some("Order Completed")
    );

    value["event"] = json!("Signed Up For Beta!");
    let custom = map(&value).expect("valid");
    assert_eq!(custom.event_name, "custom.signed_up_for_beta");
}

#[test]
fn ratings_take_the_bounds_of_their_scale() {
    let mut value = message();
    value["event"] = json!("survey.answered");
    value["properties"] = json!({"channel": "survey", "rating": 9, "rating_scale": "nps"});

    let event = map(&value).expect("valid");

    let rating = event.rating.expect("rating");
    assert_eq!(rating.scale(), RatingScale::Nps);
    assert_eq!((rating.value, rating.min, rating.max), (9.0, 0.0, 10.0));

    value["properties"]["rating"] = json!(11);
    let out_of_range = map(&value).expect("mapped; validation comes next");
    let refused =
        lintas_schema::validate_event(&out_of_range).expect_err("11 is not an NPS answer");
    assert_eq!(refused.field, "rating.value");
}

#[test]
fn page_events_default_to_the_web_channel_and_need_no_event_name() {
    let value = json!({"type": "page", "anonymousId": "anon-1", "name": "Pricing"});

    let event = map(&value).expect("valid");

    assert_eq!(event.event_name, "page.viewed");
    assert_eq!(event.channel(), Channel::Web);
    assert_eq!(event.anonymous_id, "anon-1");
    assert_eq!(event.customer_id, "");
    assert_eq!(
        event.attributes.get("name").map(String::as_str),
        Some("Pricing")
    );
}

#[test]
fn known_namespaces_in_user_ids_are_kept_and_normalized() {
    let mut value = message();
    value["userId"] = json!("phone:+1 (555) 555-0101");
    assert_eq!(
        map(&value).expect("valid").customer_id,
        "phone:+15555550101"
    );

    value["userId"] = json!("whatsapp:15555550106");
    assert_eq!(
        map(&value).expect("valid").customer_id,
        "whatsapp:15555550106"
    );

    value["userId"] = json!("crm:42");
    assert_eq!(map(&value).expect("valid").customer_id, "user_id:crm:42");

    value["userId"] = json!("phone:call me");
    let refused = map(&value).expect_err("not a phone number");
    assert_eq!(refused.code, INVALID_FIELD);
    assert!(refused.message.contains("userId"), "{}", refused.message);
}

#[test]
fn refusals_name_the_field_and_carry_the_index() {
    let cases = [
        (json!("not an object"), INVALID_FIELD, "event"),
        (
            json!({"type": "identify", "userId": "u"}),
            UNSUPPORTED_TYPE,
            "identify",
        ),
        (
            json!({"event": "message.received", "userId": "u"}),
            MISSING_FIELD,
            "properties.channel",
        ),
        (
            json!({"userId": "u", "properties": {"channel": "sms"}}),
            MISSING_FIELD,
            "event",
        ),
        (
            json!({"event": "message.received", "properties": {"channel": "sms"}}),
            MISSING_FIELD,
            "userId or anonymousId",
        ),
        (
            json!({"event": "message.received", "userId": "u", "properties": {"channel": "fax"}}),
            INVALID_FIELD,
            "properties.channel",
        ),
        (
            json!({"event": "m.r", "userId": "u", "timestamp": "yesterday", "properties": {"channel": "sms"}}),
            INVALID_FIELD,
            "timestamp",
        ),
        (
            json!({"event": "m.r", "userId": "u", "properties": {"channel": "sms", "amount": 5}}),
            MISSING_FIELD,
            "properties.currency",
        ),
        (
            json!({"event": "m.r", "userId": "u", "properties": {"channel": "sms", "amount": 5, "currency": "DOLLAR"}}),
            INVALID_FIELD,
            "properties.currency:",
        ),
        (
            json!({"event": "m.r", "userId": "u", "properties": {"channel": "sms", "text": 5}}),
            INVALID_FIELD,
            "text",
        ),
    ];
    for (value, code, field) in cases {
        let refused = map(&value).expect_err(&value.to_string());
        assert_eq!(refused.index, 7);
        assert_eq!(refused.code, code, "{value}: {}", refused.message);
        assert!(
            refused.message.contains(field),
            "{value}: {}",
            refused.message
        );
    }
}

#[test]
fn attributes_over_the_contract_bounds_are_refused_not_cut() {
    let mut value = message();
    value["properties"]["blob"] = json!("x".repeat(MAX_ATTRIBUTE_VALUE_BYTES + 1));
    let refused = map(&value).expect_err("oversized attribute");
    assert!(
        refused.message.contains("properties.blob"),
        "{}",
        refused.message
    );

    let mut many = message();
    for index in 0..=MAX_ATTRIBUTES {
        many["properties"][format!("extra_{index}")] = json!(index);
    }
    let refused = map(&many).expect_err("too many attributes");
    assert!(refused.message.contains("at most"), "{}", refused.message);
}

#[test]
fn a_currency_outside_iso_4217_is_refused_naming_field_and_value() {
    for (amount, currency) in [
        (json!({"amount": 5}), "XYZ"),
        (json!({"amount_minor": 500}), "RPH"),
        (json!({"total": "10.00"}), "usdt"),
    ] {
        let mut value = message();
        value["properties"] = amount;
        value["properties"]["channel"] = json!("online_store");
        value["properties"]["currency"] = json!(currency);
        let refused = map(&value).expect_err(currency);
        assert_eq!(refused.code, INVALID_FIELD, "{}", refused.message);
        assert!(
            refused.message.contains("properties.currency") && refused.message.contains(currency),
            "{}",
            refused.message
        );
    }
    let mut value = message();
    value["properties"] = json!({"channel": "online_store", "amount": 5, "currency": "idr"});
    let money = map(&value).expect("IDR is ISO 4217").money.expect("money");
    assert_eq!(money.currency, "IDR");
}
