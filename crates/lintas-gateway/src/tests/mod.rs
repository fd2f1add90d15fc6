//! Router tests: the real router with a [`MockPublisher`](crate::testing::MockPublisher), driven by
//! `tower::ServiceExt::oneshot`, no network and no Kafka.

mod events;
mod hostile;
mod tcp;
mod webhooks;

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use http::{Request, StatusCode};
use lintas_telemetry::Health;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::config::GatewaySettings;
use crate::testing::{MockPublisher, mock_state};

/// The write key of tenant `acme`.
const ACME_KEY: &str = "wk_test_acme_0123456789";
/// WhatsApp app secret of tenant `acme`.
const APP_SECRET: &str = "test_meta_app_secret";
/// WhatsApp verify token of tenant `acme`.
const VERIFY_TOKEN: &str = "test-verify-token";

/// A config with tenant `acme` (write key, WhatsApp secrets) and tenant `quiet` (no secrets),
/// plus `extra` environment entries.
fn config_with(extra: &[(&str, &str)]) -> lintas_config::Config {
    let mut env: HashMap<String, String> = [
        ("LINTAS__TENANTS__ACME__WRITE_KEYS", ACME_KEY),
        (
            "LINTAS__TENANTS__ACME__WEBHOOKS__WHATSAPP__APP_SECRET",
            APP_SECRET,
        ),
        (
            "LINTAS__TENANTS__ACME__WEBHOOKS__WHATSAPP__VERIFY_TOKEN",
            VERIFY_TOKEN,
        ),
        (
            "LINTAS__TENANTS__QUIET__WRITE_KEYS",
            "wk_test_quiet_0123456789",
        ),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    for (key, value) in extra {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    lintas_config::load(None, env).expect("test config is valid")
}

/// A test gateway: its router and the mock behind it.
struct TestGateway {
    router: Router,
    publisher: MockPublisher,
}

impl TestGateway {
    fn new() -> Self {
        Self::with(&[], |settings| settings)
    }

    fn with(
        extra: &[(&str, &str)],
        adjust: impl FnOnce(GatewaySettings) -> GatewaySettings,
    ) -> Self {
        let config = config_with(extra);
        let settings = adjust(GatewaySettings::from_config(&config));
        let publisher = MockPublisher::new();
        let state = mock_state(config, settings, publisher.clone());
        let metrics = lintas_telemetry::install_metrics_recorder().expect("recorder");
        let admin = lintas_telemetry::admin_router(Health::new(), metrics);
        Self {
            router: crate::routes::router(state, admin),
            publisher,
        }
    }

    /// A gateway whose Kafka readiness is false for `reason`.
    fn kafka_not_ready(reason: &str) -> Self {
        let config = config_with(&[]);
        let settings = GatewaySettings::from_config(&config);
        let publisher = MockPublisher::new();
        let kafka = crate::KafkaStatus::new(Health::new());
        kafka.set_not_ready(reason);
        let state = crate::AppState::new(
            settings,
            std::sync::Arc::new(config),
            publisher.clone(),
            kafka,
        );
        let metrics = lintas_telemetry::install_metrics_recorder().expect("recorder");
        let admin = lintas_telemetry::admin_router(Health::new(), metrics);
        Self {
            router: crate::routes::router(state, admin),
            publisher,
        }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body fits");
        Answer {
            status,
            headers,
            body: body.to_vec(),
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts the error shape `{"error": {"code", "message"}}` with `code`.
    fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(
            self.status,
            status,
            "{:?}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{body}");
        assert_eq!(self.header("content-type"), Some("application/json"));
    }

    fn retry_after(&self) -> Option<u64> {
        self.header("retry-after")
            .and_then(|value| value.parse().ok())
    }
}

/// Settings with a short request timeout, for tests that wait it out.
fn short_timeout(settings: GatewaySettings) -> GatewaySettings {
    GatewaySettings {
        request_timeout: Duration::from_millis(200),
        ..settings
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json_errors() {
    let gateway = TestGateway::new();

    let missing = gateway
        .send(
            Request::get("/v2/nothing")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    missing.assert_error(StatusCode::NOT_FOUND, "not_found");

    let wrong_method = gateway
        .send(
            Request::delete("/v1/events")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    wrong_method.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("POST"));
}

#[tokio::test]
async fn the_admin_endpoints_share_the_public_port() {
    let gateway = TestGateway::new();

    let health = gateway
        .send(
            Request::get("/healthz")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(health.status, StatusCode::OK);

    let metrics = gateway
        .send(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(text.contains("lintas_gateway_requests_total"), "{text}");
}

#[tokio::test]
async fn the_gateway_refuses_to_start_with_a_misspelt_webhook_secret() {
    let config = config_with(&[(
        "LINTAS__TENANTS__ACME__WEBHOOKS__STRIPE__ENDPOINT_SECERT",
        "whsec_test",
    )]);
    let settings = GatewaySettings::from_config(&config);
    let metrics = lintas_telemetry::install_metrics_recorder().expect("recorder");

    // The check runs before Kafka or the port are touched, so nothing is started.
    let error = crate::bind(
        std::sync::Arc::new(config),
        settings,
        metrics,
        Health::new(),
    )
    .await
    .expect_err("a misspelt secret name must stop the start");

    let message = error.to_string();
    assert!(
        matches!(error, crate::ServeError::WebhookConfig { .. })
            && message.contains("tenant `acme`")
            && message.contains("source `stripe`")
            && message.contains("`endpoint_secert`")
            && message.contains("valid names: endpoint_secret"),
        "{message}"
    );
}
