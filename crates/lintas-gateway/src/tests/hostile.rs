//! Hostile but realistic input to `POST /v1/events`: values that parse yet cannot be stored as
//! they are, and bodies built to confuse the decoder. Each must be refused naming what is wrong.

use axum::body::Body;
use http::{Request, StatusCode};
use lintas_schema::v1::{Channel, Direction, InteractionEvent, InteractionEventBatch};
use prost::Message as _;
use serde_json::{Value, json};

use super::{ACME_KEY, TestGateway};

fn event_at(message_id: &str, timestamp: Value) -> Value {
    json!({
        "type": "track",
        "event": "message.received",
        "userId": "cust_0001",
        "messageId": message_id,
        "timestamp": timestamp,
        "properties": {"channel": "sms", "text": "Where is my parcel?"},
    })
}

fn post(body: impl Into<Body>, content_type: &str) -> Request<Body> {
    Request::post("/v1/events")
        .header("content-type", content_type)
        .header("authorization", format!("Bearer {ACME_KEY}"))
        .body(body.into())
        .expect("request")
}

#[tokio::test]
async fn timestamps_clickhouse_cannot_store_are_refused_naming_the_range() {
    let gateway = TestGateway::new();
    // Each parses as a time, but ClickHouse `DateTime` (1970..2106) would wrap it into a wrong
    // date without an error.
    let absurd = [
        json!("9999-12-31T23:59:59Z"),
        json!("0000-01-01T00:00:00Z"),
        json!("1969-12-31T23:59:59Z"),
        json!(-5),
        json!(-9_223_372_036_854_775_808_i64),
        json!("2106-02-07T06:28:16Z"),
    ];
    let events: Vec<Value> = absurd
        .iter()
        .enumerate()
        .map(|(index, timestamp)| event_at(&format!("m-{index}"), timestamp.clone()))
        .collect();

    let answer = gateway
        .send(post(
            json!({ "events": events }).to_string(),
            "application/json",
        ))
        .await;

    answer.assert_error(StatusCode::BAD_REQUEST, "no_valid_events");
    let json = answer.json();
    let rejected = json["rejected"].as_array().expect("rejected");
    assert_eq!(rejected.len(), absurd.len(), "{json}");
    for rejection in rejected {
        assert_eq!(rejection["code"], "invalid_field", "{rejection}");
        let message = rejection["message"].as_str().expect("message");
        assert!(
            message.starts_with("timestamp:") && message.contains("2106-02-07T06:28:15Z"),
            "{message}"
        );
    }
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test]
async fn a_protobuf_event_with_a_time_clickhouse_cannot_store_is_rejected() {
    let gateway = TestGateway::new();
    let at = |seconds: i64, id: &str| InteractionEvent {
        channel: Channel::Email.into(),
        direction: Direction::Inbound.into(),
        event_name: "message.received".into(),
        occurred_at: chrono::DateTime::from_timestamp(seconds, 0)
            .map(lintas_schema::time::to_timestamp),
        customer_id: "email:customer.a@example.com".into(),
        source_event_id: id.into(),
        ..Default::default()
    };
    let batch = InteractionEventBatch {
        events: vec![
            at(1_741_940_036, "ok"),
            at(-5, "before-1970"),
            at(253_402_300_799, "year-9999"),
        ],
    };

    let answer = gateway
        .send(post(batch.encode_to_vec(), "application/x-protobuf"))
        .await;

    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.json());
    let json = answer.json();
    for (position, index) in [1, 2].into_iter().enumerate() {
        let rejection = &json["rejected"][position];
        assert_eq!(rejection["index"], index, "{json}");
        assert_eq!(rejection["code"], "invalid_field", "{json}");
        let message = rejection["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("occurred_at:"), "{message}");
    }
    assert_eq!(gateway.publisher.events().len(), 1);
}

#[tokio::test]
async fn a_signed_stripe_payment_in_an_unknown_currency_is_kept_and_its_body_dead_lettered() {
    const SECRET: &str = "whsec_test_hostile_0123456789";
    let gateway = TestGateway::with(
        &[(
            "LINTAS__TENANTS__ACME__WEBHOOKS__STRIPE__ENDPOINT_SECRET",
            SECRET,
        )],
        |settings| settings,
    );
    let body = json!({"id": "evt_xyz", "type": "payment_intent.succeeded",
        "created": 1_741_940_035, "data": {"object": {"id": "pi_1", "amount_received": 12900,
        "currency": "xyz", "customer": "cus_1"}}})
    .to_string()
    .into_bytes();
    let signature =
        lintas_adapters::testing::stripe_signature(SECRET, chrono::Utc::now().timestamp(), &body);
    let request = Request::post("/v1/webhooks/acme/stripe")
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(Body::from(body.clone()))
        .expect("request");

    let answer = gateway.send(request).await;

    assert_eq!(answer.status, StatusCode::OK);
    let events = gateway.publisher.events();
    assert_eq!(events.len(), 1, "the payment itself is kept");
    assert_eq!(events[0].money, None);
    let dead = gateway.publisher.dead_letters();
    assert_eq!(dead.len(), 1, "the amount is not lost silently");
    assert_eq!(dead[0].body, body);
    assert_eq!(dead[0].reason.error_kind, "unusable_money");
    assert!(dead[0].reason.message.contains("evt_xyz"));
}
