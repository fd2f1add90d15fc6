//! `POST /v1/events` through the router.

use std::num::NonZeroU32;

use axum::body::Body;
use http::{Request, StatusCode};
use lintas_schema::v1::{Channel, Direction, InteractionEvent, InteractionEventBatch};
use prost::Message as _;
use serde_json::{Value, json};

use super::{ACME_KEY, TestGateway, short_timeout};
use crate::PublishError;
use crate::config::GatewaySettings;
use crate::testing::MockOutcome;

fn event(message_id: &str) -> Value {
    json!({
        "type": "track",
        "event": "message.received",
        "userId": "cust_0001",
        "messageId": message_id,
        "timestamp": "2025-03-14T08:13:55Z",
        "properties": {"channel": "sms", "text": "Where is my parcel?"},
    })
}

fn post(body: impl Into<Body>, content_type: &str, key: Option<&str>) -> Request<Body> {
    let mut builder = Request::post("/v1/events").header("content-type", content_type);
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    builder.body(body.into()).expect("request")
}

fn post_json(body: &Value) -> Request<Body> {
    post(body.to_string(), "application/json", Some(ACME_KEY))
}

#[tokio::test]
async fn a_valid_batch_is_answered_202_with_event_ids_after_publishing() {
    let gateway = TestGateway::new();
    let body = json!({"events": [event("m-1"), event("m-2")]});

    let answer = gateway.send(post_json(&body)).await;

    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.json());
    let published = gateway.publisher.events();
    assert_eq!(published.len(), 2);
    let json = answer.json();
    assert_eq!(json["rejected"], json!([]));
    for (index, accepted) in json["accepted"]
        .as_array()
        .expect("accepted")
        .iter()
        .enumerate()
    {
        assert_eq!(accepted["index"], index);
        assert_eq!(accepted["event_id"], published[index].event_id.as_str());
    }
    assert!(published.iter().all(|event| event.tenant_id == "acme"));
}

#[tokio::test]
async fn invalid_events_are_reported_by_index_and_the_valid_ones_published() {
    let gateway = TestGateway::new();
    let mut no_channel = event("m-2");
    no_channel["properties"] = json!({});
    let body = json!({"events": [event("m-1"), no_channel, "not an object"]});

    let answer = gateway.send(post_json(&body)).await;

    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let json = answer.json();
    assert_eq!(json["accepted"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["rejected"][0]["index"], 1);
    assert_eq!(json["rejected"][0]["code"], "missing_field");
    assert_eq!(json["rejected"][1]["index"], 2);
    assert_eq!(json["rejected"][1]["code"], "invalid_field");
    assert_eq!(gateway.publisher.events().len(), 1);
}

#[tokio::test]
async fn a_batch_of_only_invalid_events_is_400_with_every_reason() {
    let gateway = TestGateway::new();
    let body = json!({"events": [{"type": "identify", "userId": "u"}, 42]});

    let answer = gateway.send(post_json(&body)).await;

    answer.assert_error(StatusCode::BAD_REQUEST, "no_valid_events");
    let rejected = answer.json()["rejected"].clone();
    assert_eq!(rejected[0]["code"], "unsupported_type");
    assert_eq!(rejected[1]["index"], 1);
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test]
async fn authentication_failures_are_401_with_a_bearer_challenge() {
    let gateway = TestGateway::new();
    let body = json!({"events": [event("m-1")]}).to_string();

    let missing = gateway
        .send(post(body.clone(), "application/json", None))
        .await;
    missing.assert_error(StatusCode::UNAUTHORIZED, "missing_write_key");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    let wrong = gateway
        .send(post(
            body,
            "application/json",
            Some("wk_not_a_configured_key"),
        ))
        .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "invalid_write_key");
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test]
async fn other_content_types_are_415() {
    let gateway = TestGateway::new();

    let answer = gateway
        .send(post(
            "events=1",
            "application/x-www-form-urlencoded",
            Some(ACME_KEY),
        ))
        .await;

    answer.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn malformed_and_empty_bodies_are_400() {
    let gateway = TestGateway::new();

    let truncated = gateway
        .send(post(
            r#"{"events": [{"type": "tr"#,
            "application/json",
            Some(ACME_KEY),
        ))
        .await;
    truncated.assert_error(StatusCode::BAD_REQUEST, "malformed_body");
    let message = truncated.json()["error"]["message"].clone();
    assert!(
        message.as_str().is_some_and(|text| text.contains("line 1")),
        "{message}"
    );

    let not_a_batch = gateway.send(post_json(&json!([event("m-1")]))).await;
    not_a_batch.assert_error(StatusCode::BAD_REQUEST, "malformed_body");

    let empty = gateway.send(post_json(&json!({"events": []}))).await;
    empty.assert_error(StatusCode::BAD_REQUEST, "empty_batch");

    let garbage_protobuf = gateway
        .send(post(
            vec![0xff_u8, 0xff, 0xff],
            "application/x-protobuf",
            Some(ACME_KEY),
        ))
        .await;
    garbage_protobuf.assert_error(StatusCode::BAD_REQUEST, "malformed_body");
}

#[tokio::test]
async fn oversized_bodies_and_batches_are_413() {
    let gateway = TestGateway::with(
        &[("LINTAS__GATEWAY__BODY_LIMIT_BYTES", "2000")],
        |settings| GatewaySettings {
            max_batch_events: 3,
            ..settings
        },
    );

    let many = json!({"events": (0..4).map(|i| event(&format!("m-{i}"))).collect::<Vec<_>>()});
    let batch = gateway.send(post_json(&many)).await;
    batch.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large");
    let message = batch.json()["error"]["message"].clone();
    assert!(
        message.as_str().is_some_and(|text| text.contains("split")),
        "{message}"
    );

    let mut big = event("m-1");
    big["properties"]["text"] = json!("x".repeat(3000));
    let body = gateway.send(post_json(&json!({"events": [big]}))).await;
    body.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test]
async fn a_protobuf_batch_is_stamped_with_the_tenant_source_and_an_id() {
    let gateway = TestGateway::new();
    let event = InteractionEvent {
        tenant_id: "someone-else".into(),
        source: "zendesk".into(),
        channel: Channel::Email.into(),
        direction: Direction::Inbound.into(),
        event_name: "message.received".into(),
        occurred_at: Some(lintas_schema::time::now()),
        customer_id: "email:customer.a@example.com".into(),
        source_event_id: "mail-1".into(),
        ..Default::default()
    };
    let batch = InteractionEventBatch {
        events: vec![event.clone(), InteractionEvent::default()],
    };

    let answer = gateway
        .send(post(
            batch.encode_to_vec(),
            "application/x-protobuf",
            Some(ACME_KEY),
        ))
        .await;

    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.json());
    let json = answer.json();
    assert_eq!(json["rejected"][0]["index"], 1);
    assert_eq!(json["rejected"][0]["code"], "invalid_event");
    let published = gateway.publisher.events();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].tenant_id, "acme");
    assert_eq!(published[0].source, "api");
    assert!(published[0].received_at.is_some());
    assert_eq!(
        published[0].event_id,
        lintas_schema::derive_event_id("acme", "api", "mail-1").to_string()
    );
}

#[tokio::test]
async fn a_full_producer_queue_is_503_with_retry_after_and_nothing_acknowledged() {
    let gateway = TestGateway::new();
    gateway
        .publisher
        .script([MockOutcome::Fail(PublishError::QueueFull)]);

    let answer = gateway
        .send(post_json(&json!({"events": [event("m-1")]})))
        .await;

    answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "kafka_queue_full");
    assert_eq!(answer.retry_after(), Some(1));
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test]
async fn kafka_not_acknowledging_in_time_is_503_within_the_request_timeout() {
    let gateway = TestGateway::with(&[], short_timeout);
    gateway.publisher.script([MockOutcome::Hang]);
    let started = std::time::Instant::now();

    let answer = gateway
        .send(post_json(&json!({"events": [event("m-1")]})))
        .await;

    answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "kafka_timeout");
    assert_eq!(answer.retry_after(), Some(5));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= std::time::Duration::from_millis(200)
            && elapsed < std::time::Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_failed_delivery_is_503() {
    let gateway = TestGateway::new();
    gateway
        .publisher
        .script([MockOutcome::Fail(PublishError::Delivery(
            "broker down".to_owned(),
        ))]);

    let answer = gateway
        .send(post_json(&json!({"events": [event("m-1")]})))
        .await;

    answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "kafka_unavailable");
    assert!(answer.retry_after().is_some());
}

#[tokio::test]
async fn a_tenant_over_its_burst_gets_429_with_retry_after_and_others_are_unaffected() {
    let gateway = TestGateway::with(&[], |settings| GatewaySettings {
        rate_limit_per_sec: NonZeroU32::MIN,
        rate_limit_burst: NonZeroU32::new(2).expect("non-zero"),
        ..settings
    });
    let body = json!({"events": [event("m-1")]});

    for _ in 0..2 {
        assert_eq!(
            gateway.send(post_json(&body)).await.status,
            StatusCode::ACCEPTED
        );
    }
    let limited = gateway.send(post_json(&body)).await;

    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(limited.retry_after(), Some(1));
    let other = gateway
        .send(post(
            body.to_string(),
            "application/json",
            Some("wk_test_quiet_0123456789"),
        ))
        .await;
    assert_eq!(other.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn while_kafka_is_not_ready_requests_are_refused_at_once_with_the_reason() {
    let gateway = TestGateway::kafka_not_ready("kafka unreachable: broker transport failure");

    let answer = gateway
        .send(post_json(&json!({"events": [event("m-1")]})))
        .await;

    answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "kafka_unavailable");
    assert_eq!(answer.retry_after(), Some(5));
    let message = answer.json()["error"]["message"].clone();
    assert!(
        message
            .as_str()
            .is_some_and(|text| text.contains("broker transport failure")),
        "{message}"
    );
    assert!(gateway.publisher.events().is_empty());
}
