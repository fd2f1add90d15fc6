//! The broker goes away under a running gateway: `POST /v1/events` answers 503 with `Retry-After`
//! within `gateway.request_timeout`, `/readyz` reports Kafka not ready, and once the broker is
//! back requests succeed again without restarting the gateway.
//!
//! It stops the real broker with `$LINTAS_TEST_SERVICES kafka-stop` (scripts/services.sh), so it
//! is the only test in this binary: no other test runs while the broker is down. A guard resumes
//! the broker even when an assertion fails, so later test binaries find it running.
#![cfg(feature = "integration")]

use std::time::{Duration, Instant};

use lintas_integration_tests::gateway::{GatewayTopics, RunningGateway, gateway_config};
use lintas_integration_tests::outage::Outage;
use lintas_integration_tests::wait_for;
use serde_json::json;

const WRITE_KEY: &str = "wk_broker_down_0123456789";
/// `gateway.request_timeout` of this test: short, so the test is quick, and the bound checked.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Slack for scheduling and the loopback round trip on a busy 2-core machine.
const SLACK: Duration = Duration::from_secs(1);

async fn post_event(
    client: &reqwest::Client,
    gateway: &RunningGateway,
    id: usize,
) -> anyhow::Result<(u16, Option<String>, Duration)> {
    let body = json!({"events": [{
        "event": "message.received",
        "userId": "cust_0001",
        "messageId": format!("broker-down-{id}"),
        "properties": {"channel": "sms", "text": "is my order on its way?"},
    }]});
    let started = Instant::now();
    let response = client
        .post(gateway.url("/v1/events"))
        .bearer_auth(WRITE_KEY)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let elapsed = started.elapsed();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Ok((response.status().as_u16(), retry_after, elapsed))
}

async fn readyz(
    client: &reqwest::Client,
    gateway: &RunningGateway,
) -> Option<(u16, serde_json::Value)> {
    let response = client.get(gateway.url("/readyz")).send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.bytes().await.ok()?;
    Some((status, serde_json::from_slice(&body).ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_broker_makes_requests_503_and_readiness_false_until_it_returns()
-> anyhow::Result<()> {
    let topics = GatewayTopics::create().await?;
    let timeout = format!("{}s", REQUEST_TIMEOUT.as_secs());
    let config = gateway_config(
        &topics,
        &[
            (
                "LINTAS__TENANTS__ACME__WRITE_KEYS".to_owned(),
                WRITE_KEY.to_owned(),
            ),
            ("LINTAS__GATEWAY__REQUEST_TIMEOUT".to_owned(), timeout),
        ],
    );
    let gateway = RunningGateway::start(config, None).await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;

    let (status, _, _) = post_event(&client, &gateway, 0).await?;
    assert_eq!(status, 202, "the broker is up");
    assert_eq!(
        readyz(&client, &gateway).await.map(|(status, _)| status),
        Some(200)
    );

    let mut broker = Outage::stop("kafka")?;

    // Every answer while the broker is down is a 503 with Retry-After, within the timeout; the
    // first ones wait out the timeout (records queued, no ack), later ones are refused at once
    // because readiness turned false.
    for id in 1..=3 {
        let (status, retry_after, elapsed) = post_event(&client, &gateway, id).await?;
        assert_eq!(status, 503, "request {id} while the broker is down");
        assert!(retry_after.is_some(), "request {id}: Retry-After");
        assert!(
            elapsed <= REQUEST_TIMEOUT + SLACK,
            "request {id} took {elapsed:?}"
        );
        eprintln!("broker down: request {id} answered 503 in {elapsed:?}");
    }
    let not_ready = wait_for(
        "/readyz to report kafka not ready",
        Duration::from_secs(30),
        || async {
            readyz(&client, &gateway).await.filter(|(status, body)| {
                *status == 503 && body["components"]["kafka"]["ready"] == false
            })
        },
    )
    .await;
    assert!(
        not_ready.1["components"]["kafka"]["reason"].is_string(),
        "the reason is given: {}",
        not_ready.1
    );

    broker.resume()?;
    let resumed = Instant::now();

    let mut id = 100;
    wait_for(
        "requests to succeed after the broker returned",
        Duration::from_secs(120),
        || {
            id += 1;
            let attempt = id;
            let client = &client;
            let gateway = &gateway;
            async move {
                let (status, _, _) = post_event(client, gateway, attempt).await.ok()?;
                (status == 202).then_some(())
            }
        },
    )
    .await;
    eprintln!(
        "broker resumed: requests succeed again {:?} after kafka-resume returned",
        resumed.elapsed()
    );
    wait_for(
        "/readyz to report ready again",
        Duration::from_secs(30),
        || async {
            readyz(&client, &gateway)
                .await
                .filter(|(status, _)| *status == 200)
        },
    )
    .await;
    gateway.stop().await
}
