//! The whole gateway (real `KafkaPublisher`, readiness probe, lifecycle) on the embedded broker,
//! librdkafka's in-process mock cluster: no external service needed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lintas_gateway::GatewaySettings;
use lintas_telemetry::Health;
use serde_json::{Value, json};

const KEY: &str = "wk_test_embedded_0123456789";

async fn request(client: &reqwest::Client, builder: reqwest::RequestBuilder) -> (u16, Value) {
    let response = client
        .execute(builder.build().expect("request"))
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_brokers_the_gateway_runs_on_the_embedded_broker_and_stops_cleanly() {
    let env: HashMap<String, String> = [
        ("LINTAS__GATEWAY__LISTEN", "127.0.0.1:0"),
        ("LINTAS__TENANTS__ACME__WRITE_KEYS", KEY),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let config = lintas_config::load(None, env).expect("valid config");
    assert!(config.kafka.is_embedded());
    let settings = GatewaySettings::from_config(&config);
    let metrics = lintas_telemetry::install_metrics_recorder().expect("recorder");
    let health = Health::new();
    let bound = lintas_gateway::bind(Arc::new(config), settings, metrics, health.clone())
        .await
        .expect("the gateway starts");
    let base = format!("http://{}", bound.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(bound.serve(async move {
        stopped.await.ok();
    }));
    let client = reqwest::Client::new();

    let (status, ready) = request(&client, client.get(format!("{base}/readyz"))).await;
    assert_eq!(status, 200, "ready once the first probe passed: {ready}");

    let batch = json!({"events": [
        {"event": "message.received", "userId": "c1", "messageId": "e-1",
         "properties": {"channel": "sms", "text": "where is my parcel"}},
        {"event": "order.created", "anonymousId": "a1", "properties": {"channel": "commerce"}},
    ]});
    let post = client
        .post(format!("{base}/v1/events"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(batch.to_string());
    let (status, answer) = request(&client, post).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        answer["accepted"].as_array().map(Vec::len),
        Some(2),
        "{answer}"
    );

    stop.send(()).expect("the gateway is serving");
    let served = tokio::time::timeout(Duration::from_secs(30), serving)
        .await
        .expect("shutdown completes")
        .expect("the serve task does not panic");
    assert!(served.is_ok(), "{served:?}");
    assert!(
        health.is_shutting_down(),
        "readiness turned false at shutdown"
    );
}
