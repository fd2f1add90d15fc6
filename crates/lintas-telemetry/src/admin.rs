//! The admin HTTP endpoints every role exposes: `/healthz`, `/readyz` and `/metrics`.
//!
//! The gateway merges [`admin_router`] into its public router; the other roles serve it alone
//! with [`serve_admin`]. Shutdown order for a role: call [`Health::begin_shutdown`] when the signal
//! arrives (readiness turns 503 while the admin server keeps answering), drain, and only then
//! resolve the future given to [`serve_admin`], so probes and the last scrape see the drain.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

use crate::{Health, HealthSnapshot, TelemetryError};

/// Content type of `/metrics`: the Prometheus text exposition format, version 0.0.4.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone)]
struct AdminState {
    health: Health,
    metrics: PrometheusHandle,
}

/// Builds the router serving `GET /healthz`, `GET /readyz` and `GET /metrics` (HEAD included).
///
/// - `/healthz`: always 200 `{"status":"ok"}`; it touches no shared state, so it answers even
///   when a dependency is down (a restart would not fix Kafka).
/// - `/readyz`: 200 `{"status":"ready",...}` or 503 `{"status":"not_ready",...}`, with
///   `"shutting_down"` and every component as `{"ready":bool,"reason":"..."}` (`reason` omitted
///   when none was given).
/// - `/metrics`: the recorder's text exposition, content type [`METRICS_CONTENT_TYPE`].
pub fn admin_router(health: Health, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(AdminState { health, metrics })
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AdminState>) -> (StatusCode, Json<Value>) {
    let snapshot = state.health.snapshot();
    let status = if snapshot.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness_body(&snapshot)))
}

fn readiness_body(snapshot: &HealthSnapshot) -> Value {
    let components: Map<String, Value> = snapshot
        .components
        .iter()
        .map(|(name, status)| {
            let mut component = Map::new();
            component.insert("ready".to_owned(), Value::Bool(status.ready));
            if let Some(reason) = &status.reason {
                component.insert("reason".to_owned(), Value::String(reason.clone()));
            }
            ((*name).to_owned(), Value::Object(component))
        })
        .collect();
    json!({
        "status": if snapshot.ready { "ready" } else { "not_ready" },
        "shutting_down": snapshot.shutting_down,
        "components": components,
    })
}

async fn render_metrics(State(state): State<AdminState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        state.metrics.render(),
    )
}

/// A bound admin listener that has not started serving; lets callers learn the port chosen for
/// port 0 before serving (tests, and logs of ephemeral ports).
#[derive(Debug)]
pub struct AdminListener {
    listener: TcpListener,
    local_addr: SocketAddr,
}

/// Binds the admin HTTP listener to `address` (port 0 picks a free port).
///
/// # Errors
///
/// [`TelemetryError::Bind`] naming the address if it is in use, not permitted or invalid.
pub async fn bind_admin(address: SocketAddr) -> Result<AdminListener, TelemetryError> {
    let bind_error = |source| TelemetryError::Bind { address, source };
    let listener = TcpListener::bind(address).await.map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    Ok(AdminListener {
        listener,
        local_addr,
    })
}

impl AdminListener {
    /// The address actually bound, with the real port when port 0 was requested.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `router` until `shutdown` resolves, then stops accepting connections and waits for
    /// requests in flight to finish.
    ///
    /// # Errors
    ///
    /// [`TelemetryError::Serve`] if the server stops with an I/O error.
    pub async fn serve<F>(self, router: Router, shutdown: F) -> Result<(), TelemetryError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let address = self.local_addr;
        tracing::info!(address = %address, "admin http server listening");
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| TelemetryError::Serve { address, source })?;
        tracing::info!(address = %address, "admin http server stopped");
        Ok(())
    }
}

/// Binds `address` and serves `router` until `shutdown` resolves; see [`AdminListener::serve`].
///
/// # Errors
///
/// [`TelemetryError::Bind`] if the address cannot be bound, [`TelemetryError::Serve`] if the
/// server fails afterwards.
pub async fn serve_admin<F>(
    address: SocketAddr,
    router: Router,
    shutdown: F,
) -> Result<(), TelemetryError>
where
    F: Future<Output = ()> + Send + 'static,
{
    bind_admin(address).await?.serve(router, shutdown).await
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::install_metrics_recorder;

    async fn get_response(router: Router, path: &str) -> (StatusCode, Option<String>, String) {
        let request = Request::get(path)
            .body(Body::empty())
            .expect("valid request");
        let response = router.oneshot(request).await.expect("infallible router");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body fits");
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    fn router_with(health: &Health) -> Router {
        let metrics = install_metrics_recorder().expect("recorder");
        admin_router(health.clone(), metrics)
    }

    fn parse(body: &str) -> Value {
        serde_json::from_str(body).expect("JSON body")
    }

    #[tokio::test]
    async fn healthz_answers_200_ok_even_while_not_ready_and_shutting_down() {
        let health = Health::new();
        health.set_ready("kafka", false, Some("broker down".to_owned()));
        health.begin_shutdown();

        let (status, _, body) = get_response(router_with(&health), "/healthz").await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(parse(&body), json!({ "status": "ok" }));
    }

    #[tokio::test]
    async fn readyz_answers_200_with_every_component_when_all_are_ready() {
        let health = Health::new();
        health.set_ready("kafka", true, None);
        health.set_ready("clickhouse", true, Some("server 18.16.1".to_owned()));

        let (status, _, body) = get_response(router_with(&health), "/readyz").await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            parse(&body),
            json!({
                "status": "ready",
                "shutting_down": false,
                "components": {
                    "clickhouse": { "ready": true, "reason": "server 18.16.1" },
                    "kafka": { "ready": true },
                },
            })
        );
    }

    #[tokio::test]
    async fn readyz_answers_503_naming_the_component_that_is_not_ready_and_why() {
        let health = Health::new();
        health.set_ready("kafka", false, Some("producer queue full".to_owned()));
        health.set_ready("clickhouse", true, None);

        let (status, _, body) = get_response(router_with(&health), "/readyz").await;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            parse(&body),
            json!({
                "status": "not_ready",
                "shutting_down": false,
                "components": {
                    "clickhouse": { "ready": true },
                    "kafka": { "ready": false, "reason": "producer queue full" },
                },
            })
        );
    }

    #[tokio::test]
    async fn readyz_answers_503_once_shutdown_has_begun() {
        let health = Health::new();
        health.set_ready("kafka", true, None);
        health.begin_shutdown();

        let (status, _, body) = get_response(router_with(&health), "/readyz").await;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let body = parse(&body);
        assert_eq!(body["status"], "not_ready");
        assert_eq!(body["shutting_down"], true);
    }

    #[tokio::test]
    async fn metrics_serves_the_text_format_with_a_counter_incremented_here() {
        let health = Health::new();
        let router = router_with(&health);
        ::metrics::counter!("lintas_test_router_requests_total", "route" => "metrics").increment(3);

        let (status, content_type, body) = get_response(router, "/metrics").await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some(METRICS_CONTENT_TYPE));
        assert!(content_type.is_some_and(|value| value.starts_with("text/plain; version=0.0.4")));
        assert!(
            body.contains("lintas_test_router_requests_total{route=\"metrics\"} 3"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn unknown_admin_paths_answer_404() {
        let (status, _, _) = get_response(router_with(&Health::new()), "/nope").await;

        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn binding_an_address_in_use_is_an_error_naming_it() {
        let first = bind_admin("127.0.0.1:0".parse().expect("address"))
            .await
            .expect("free port");
        let taken = first.local_addr();

        let error = bind_admin(taken).await.expect_err("port already bound");

        assert_eq!(error.kind(), "bind");
        assert!(error.to_string().contains(&taken.to_string()), "{error}");
    }
}
