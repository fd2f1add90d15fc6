//! The admin server over real HTTP: bind on port 0, answer probes and scrapes, stop on shutdown.

use std::time::Duration;

use lintas_telemetry::{Health, admin_router, bind_admin, install_metrics_recorder};
use tokio::sync::oneshot;

#[tokio::test]
async fn the_admin_server_on_port_0_answers_real_http_and_stops_on_shutdown() {
    lintas_telemetry::init_test_tracing();
    let health = Health::new();
    health.set_ready("kafka", false, Some("connecting".to_owned()));
    let metrics = install_metrics_recorder().expect("recorder");
    metrics::counter!("lintas_test_http_scrapes_total").increment(1);

    let listener = bind_admin("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind");
    let address = listener.local_addr();
    assert_ne!(address.port(), 0, "the real port is reported");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener.serve(admin_router(health.clone(), metrics), async {
            let _sender_dropped_or_sent = stopped.await;
        }),
    );

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let base = format!("http://{address}");

    let healthz = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(healthz.status(), 200);
    let body: serde_json::Value =
        serde_json::from_str(&healthz.text().await.expect("body")).expect("JSON");
    assert_eq!(body, serde_json::json!({ "status": "ok" }));

    let not_ready = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(not_ready.status(), 503);
    let body: serde_json::Value =
        serde_json::from_str(&not_ready.text().await.expect("body")).expect("JSON");
    assert_eq!(body["components"]["kafka"]["reason"], "connecting");

    health.set_ready("kafka", true, None);
    let ready = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);

    let scrape = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(scrape.status(), 200);
    let content_type = scrape
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = scrape.text().await.expect("body");
    assert!(text.contains("lintas_test_http_scrapes_total 1"), "{text}");
    assert!(
        text.contains("lintas_ready{component=\"kafka\"} 1"),
        "{text}"
    );

    stop.send(()).expect("server still running");
    let served = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops within the deadline")
        .expect("server task did not panic");
    served.expect("clean shutdown");
    assert!(
        client.get(format!("{base}/healthz")).send().await.is_err(),
        "the port is closed after shutdown"
    );
}

#[tokio::test]
async fn serve_admin_reports_a_bind_failure_naming_the_address() {
    let taken = bind_admin("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind");
    let address = taken.local_addr();
    let metrics = install_metrics_recorder().expect("recorder");

    let error = lintas_telemetry::serve_admin(
        address,
        admin_router(Health::new(), metrics),
        std::future::ready(()),
    )
    .await
    .expect_err("address in use");

    assert!(error.to_string().contains(&address.to_string()), "{error}");
}
