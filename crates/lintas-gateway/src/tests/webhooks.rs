//! `/v1/webhooks/{tenant}/{source}` through the router, with WhatsApp deliveries signed here.

use axum::body::Body;
use http::{Request, StatusCode};
use lintas_adapters::testing::meta_signature;
use serde_json::{Value, json};

use super::{APP_SECRET, TestGateway, VERIFY_TOKEN, short_timeout};
use crate::PublishError;
use crate::testing::MockOutcome;

const WHATSAPP_PATH: &str = "/v1/webhooks/acme/whatsapp";

fn delivery(message: Value) -> Vec<u8> {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15555550100", "phone_number_id": "1"},
            "messages": [message],
        }}]}],
    })
    .to_string()
    .into_bytes()
}

fn text_message(id: &str) -> Value {
    json!({"from": "15555550106", "id": id, "timestamp": "1741921541", "type": "text",
           "text": {"body": "Kak, pesanan saya belum sampai"}})
}

fn signed(path: &str, body: Vec<u8>, secret: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", meta_signature(secret, &body))
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn a_signed_delivery_is_published_then_answered_200() {
    let gateway = TestGateway::new();

    let answer = gateway
        .send(signed(
            WHATSAPP_PATH,
            delivery(text_message("wamid.1")),
            APP_SECRET,
        ))
        .await;

    assert_eq!(answer.status, StatusCode::OK);
    let events = gateway.publisher.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tenant_id, "acme");
    assert_eq!(events[0].source, "whatsapp");
    assert_eq!(events[0].customer_id, "whatsapp:15555550106");
    assert_eq!(
        events[0].event_id,
        lintas_schema::derive_event_id("acme", "whatsapp", "wamid.1").to_string()
    );
}

#[tokio::test]
async fn the_same_delivery_twice_yields_the_same_event_id() {
    let gateway = TestGateway::new();
    for _ in 0..2 {
        let answer = gateway
            .send(signed(
                WHATSAPP_PATH,
                delivery(text_message("wamid.7")),
                APP_SECRET,
            ))
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }

    let events = gateway.publisher.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_id, events[1].event_id);
}

#[tokio::test]
async fn an_authentic_delivery_without_customer_goes_to_the_dlq_and_is_answered_200() {
    let gateway = TestGateway::new();
    let body = delivery(
        json!({"id": "wamid.2", "timestamp": "1741921541", "type": "text",
                               "text": {"body": "Tolong telepon saya"}}),
    );

    let answer = gateway
        .send(signed(WHATSAPP_PATH, body.clone(), APP_SECRET))
        .await;

    assert_eq!(answer.status, StatusCode::OK);
    assert!(gateway.publisher.events().is_empty());
    let dead = gateway.publisher.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, body, "the raw body, byte for byte");
    let reason = &dead[0].reason;
    assert_eq!(reason.stage, "gateway");
    assert_eq!(reason.error_kind, "no_customer_identifier");
    assert_eq!(reason.tenant.as_deref(), Some("acme"));
    assert_eq!(reason.source.as_deref(), Some("whatsapp"));
    assert!(reason.message.contains("wamid.2"), "{}", reason.message);
}

#[tokio::test]
async fn a_dead_letter_kafka_did_not_take_is_503_so_the_platform_retries() {
    let gateway = TestGateway::new();
    gateway
        .publisher
        .script([MockOutcome::Fail(PublishError::QueueFull)]);
    let body = delivery(json!({"id": "wamid.3", "type": "text", "text": {"body": "x"}}));

    let answer = gateway.send(signed(WHATSAPP_PATH, body, APP_SECRET)).await;

    answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "kafka_queue_full");
    assert!(gateway.publisher.dead_letters().is_empty());
}

#[tokio::test]
async fn status_receipts_are_ignored_and_answered_200() {
    let gateway = TestGateway::new();
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [
            {"id": "wamid.9", "status": "read", "timestamp": "1741924872", "recipient_id": "15555550106"}
        ]}}]}]})
    .to_string()
    .into_bytes();

    let answer = gateway.send(signed(WHATSAPP_PATH, body, APP_SECRET)).await;

    assert_eq!(answer.status, StatusCode::OK);
    assert!(gateway.publisher.events().is_empty());
    assert!(gateway.publisher.dead_letters().is_empty());
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_401_and_nothing_is_published() {
    let gateway = TestGateway::new();

    let wrong = gateway
        .send(signed(
            WHATSAPP_PATH,
            delivery(text_message("wamid.4")),
            "not-the-secret",
        ))
        .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "signature_invalid");

    let unsigned = Request::post(WHATSAPP_PATH)
        .header("content-type", "application/json")
        .body(Body::from(delivery(text_message("wamid.4"))))
        .expect("request");
    gateway
        .send(unsigned)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "signature_missing");

    let unconfigured = gateway
        .send(signed(
            "/v1/webhooks/quiet/whatsapp",
            delivery(text_message("wamid.4")),
            APP_SECRET,
        ))
        .await;
    unconfigured.assert_error(StatusCode::UNAUTHORIZED, "not_configured");
    assert!(gateway.publisher.events().is_empty());
}

#[tokio::test]
async fn unknown_sources_and_tenants_are_404() {
    let gateway = TestGateway::new();
    let body = delivery(text_message("wamid.5"));

    let source = gateway
        .send(signed(
            "/v1/webhooks/acme/fax-machine",
            body.clone(),
            APP_SECRET,
        ))
        .await;
    source.assert_error(StatusCode::NOT_FOUND, "unknown_source");
    let message = source.json()["error"]["message"].clone();
    assert!(
        message
            .as_str()
            .is_some_and(|text| text.contains("whatsapp")),
        "{message}"
    );

    let tenant = gateway
        .send(signed("/v1/webhooks/nobody/whatsapp", body, APP_SECRET))
        .await;
    tenant.assert_error(StatusCode::NOT_FOUND, "unknown_tenant");
}

#[tokio::test]
async fn a_wrong_content_type_is_415_and_a_malformed_body_400() {
    let gateway = TestGateway::new();
    let body = delivery(text_message("wamid.6"));
    let form = Request::post(WHATSAPP_PATH)
        .header("content-type", "text/plain")
        .header("x-hub-signature-256", meta_signature(APP_SECRET, &body))
        .body(Body::from(body))
        .expect("request");
    gateway
        .send(form)
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let truncated = br#"{"object":"whatsapp_business_account","entry":[{"#.to_vec();
    gateway
        .send(signed(WHATSAPP_PATH, truncated, APP_SECRET))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "malformed_body");
}

#[tokio::test]
async fn a_body_over_the_adapter_limit_is_413_before_verification() {
    let gateway = TestGateway::new();
    let limit = lintas_adapters::adapter("whatsapp")
        .map(|adapter| adapter.max_body_bytes())
        .expect("whatsapp adapter");
    let body = vec![b' '; limit + 1];

    let answer = gateway
        .send(signed(WHATSAPP_PATH, body, "unsigned-does-not-matter"))
        .await;

    answer.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_and_refuses_a_wrong_token() {
    let gateway = TestGateway::new();
    let query = |token: &str| {
        format!(
            "{WHATSAPP_PATH}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}"
        )
    };

    let answer = gateway
        .send(
            Request::get(query(VERIFY_TOKEN))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, b"1158201444");

    let refused = gateway
        .send(
            Request::get(query("guess"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    refused.assert_error(StatusCode::FORBIDDEN, "handshake_rejected");

    let no_handshake = gateway
        .send(
            Request::get("/v1/webhooks/acme/stripe")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    no_handshake.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    // RFC 9110: a 405 lists what the resource takes; without a handshake, deliveries only.
    assert_eq!(no_handshake.header("allow"), Some("POST"));

    let wrong_method = gateway
        .send(
            Request::put(WHATSAPP_PATH)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    wrong_method.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let allowed = wrong_method.header("allow").unwrap_or_default();
    assert!(
        allowed.contains("GET") && allowed.contains("POST"),
        "{allowed:?}"
    );
}

#[tokio::test]
async fn kafka_hanging_on_a_delivery_is_503_with_retry_after() {
    let gateway = TestGateway::with(&[], short_timeout);
    gateway.publisher.script([MockOutcome::Hang]);

    let answer = gateway
        .send(signed(
            WHATSAPP_PATH,
            delivery(text_message("wamid.8")),
            APP_SECRET,
        ))
        .await;

    answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "kafka_timeout");
    assert!(answer.retry_after().is_some());
}

#[tokio::test]
async fn handshakes_are_answered_even_while_kafka_is_not_ready() {
    let gateway = TestGateway::kafka_not_ready("kafka unreachable");
    let path = format!(
        "{WHATSAPP_PATH}?hub.mode=subscribe&hub.challenge=42&hub.verify_token={VERIFY_TOKEN}"
    );

    let handshake = gateway
        .send(Request::get(path).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(handshake.status, StatusCode::OK);

    let delivery = gateway
        .send(signed(
            WHATSAPP_PATH,
            delivery(text_message("wamid.10")),
            APP_SECRET,
        ))
        .await;
    delivery.assert_error(StatusCode::SERVICE_UNAVAILABLE, "kafka_unavailable");
}
