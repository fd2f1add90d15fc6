//! The one error type of the gateway and its one mapping to HTTP.
//!
//! Every refusal answers `{"error": {"code": "...", "message": "..."}}` with a stable, low-cardinality
//! `code` (also the `code` label of `lintas_gateway_request_errors_total`) and a message naming what
//! was wrong. Classes, which decide what a client should do:
//!
//! | class | statuses | client action |
//! | --- | --- | --- |
//! | the request is wrong | 400, 401, 403, 404, 405, 413, 415 | fix it; retrying the same request fails again |
//! | the tenant sends too fast | 429 + `Retry-After` | retry after the delay |
//! | Kafka cannot take the data now | 503 + `Retry-After` | retry after the delay; nothing was acknowledged |
//!
//! Messages never carry secrets, write keys or body content (a body may hold customer data).

use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use lintas_adapters::AdapterError;
use serde::Serialize;

use crate::metrics;

/// `Retry-After` when the producer queue is full: the queue drains in milliseconds once the
/// broker keeps up, so clients may come back soon.
pub const RETRY_AFTER_QUEUE_FULL: Duration = Duration::from_secs(1);
/// `Retry-After` when Kafka did not acknowledge in time or is unreachable: a broker restart or
/// leader election takes seconds, and every client retrying at once would only deepen the queue.
pub const RETRY_AFTER_KAFKA_UNAVAILABLE: Duration = Duration::from_secs(5);

/// One event of a batch that was not accepted, reported back with its position in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Zero-based index of the event in the request's `events` array.
    pub index: usize,
    /// Stable reason code: `invalid_field`, `missing_field`, `unsupported_type`, `invalid_event`.
    pub code: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
}

/// Why the gateway refused a request.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// `POST /v1/events` without `Authorization: Bearer <write key>`.
    #[error("missing write key: send `Authorization: Bearer <write key>`")]
    MissingWriteKey,
    /// The bearer key belongs to no tenant.
    #[error("the write key is not valid")]
    InvalidWriteKey,
    /// `{source}` names no adapter.
    #[error("unknown source `{source_id}`; known sources: {known}")]
    UnknownSource {
        /// The source segment of the URL (at most 64 bytes of it).
        source_id: String,
        /// The registered source ids, comma-separated.
        known: String,
    },
    /// `{tenant}` is not configured.
    #[error("unknown tenant `{tenant}`")]
    UnknownTenant {
        /// The tenant segment of the URL (at most 64 bytes of it).
        tenant: String,
    },
    /// No route for this path.
    #[error("no such endpoint: {path}")]
    NotFound {
        /// The requested path (at most 200 bytes of it).
        path: String,
    },
    /// The route exists but not for this method.
    #[error("method {method} is not allowed here")]
    MethodNotAllowed {
        /// The method used.
        method: String,
    },
    /// The body is larger than the limit of the endpoint.
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A batch holds more events than one request may carry.
    #[error("batch of {count} events exceeds the limit of {limit} events per request: split it")]
    BatchTooLarge {
        /// Events in the request.
        count: usize,
        /// Most events per request.
        limit: usize,
    },
    /// The `Content-Type` is not one the endpoint reads.
    #[error(
        "content type {} is not accepted here; expected {expected}",
        got.as_deref().unwrap_or("(none)")
    )]
    UnsupportedMediaType {
        /// The media type received (at most 100 bytes of it), `None` when absent.
        got: Option<String>,
        /// What the endpoint accepts.
        expected: &'static str,
    },
    /// The body cannot be read or decoded (invalid JSON, not a batch, bad protobuf).
    #[error("malformed request body: {reason}")]
    MalformedBody {
        /// Category and position of the problem, never body content.
        reason: String,
    },
    /// The batch holds no event at all.
    #[error("the batch holds no events")]
    EmptyBatch,
    /// Every event of the batch was refused; `rejected` says why, per event.
    #[error("none of the {} events is valid; see `rejected` for each event's reason", rejected.len())]
    NoValidEvents {
        /// Every event's reason.
        rejected: Vec<Rejection>,
    },
    /// The tenant exceeded its request rate.
    #[error("rate limit of the tenant exceeded; retry in {} ms", retry_after.as_millis())]
    RateLimited {
        /// When the next request would be admitted.
        retry_after: Duration,
    },
    /// The producer queue is full: Kafka is slower than intake.
    #[error("kafka producer queue is full; nothing was accepted, retry later")]
    QueueFull,
    /// Kafka did not acknowledge within `gateway.request_timeout`.
    #[error(
        "kafka did not acknowledge within {} ms; nothing is acknowledged, retry later",
        timeout.as_millis()
    )]
    AckTimeout {
        /// The configured timeout.
        timeout: Duration,
    },
    /// Kafka is unreachable or refused the write.
    #[error("kafka is unavailable ({reason}); nothing was accepted, retry later")]
    KafkaUnavailable {
        /// Why, as far as the gateway knows.
        reason: String,
    },
    /// The request did not finish within `gateway.request_timeout` (a slow upload, say).
    #[error("request not completed within {} ms, retry later", timeout.as_millis())]
    RequestTimeout {
        /// The configured timeout.
        timeout: Duration,
    },
    /// A webhook adapter refused the request (signature, content type, body...).
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

impl GatewayError {
    /// The HTTP status answered.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingWriteKey | Self::InvalidWriteKey => StatusCode::UNAUTHORIZED,
            Self::UnknownSource { .. } | Self::UnknownTenant { .. } | Self::NotFound { .. } => {
                StatusCode::NOT_FOUND
            }
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } | Self::BatchTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MalformedBody { .. } | Self::EmptyBatch | Self::NoValidEvents { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::QueueFull
            | Self::AckTimeout { .. }
            | Self::KafkaUnavailable { .. }
            | Self::RequestTimeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Adapter(error) => error.status(),
        }
    }

    /// A stable, low-cardinality code for the error body and metric labels. Never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingWriteKey => "missing_write_key",
            Self::InvalidWriteKey => "invalid_write_key",
            Self::UnknownSource { .. } => "unknown_source",
            Self::UnknownTenant { .. } => "unknown_tenant",
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::BatchTooLarge { .. } => "batch_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::MalformedBody { .. } => "malformed_body",
            Self::EmptyBatch => "empty_batch",
            Self::NoValidEvents { .. } => "no_valid_events",
            Self::RateLimited { .. } => "rate_limited",
            Self::QueueFull => "kafka_queue_full",
            Self::AckTimeout { .. } => "kafka_timeout",
            Self::KafkaUnavailable { .. } => "kafka_unavailable",
            Self::RequestTimeout { .. } => "request_timeout",
            Self::Adapter(error) => error.code(),
        }
    }

    /// How long the client should wait before retrying; `Some` exactly for 429 and 503.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            Self::QueueFull => Some(RETRY_AFTER_QUEUE_FULL),
            Self::AckTimeout { .. }
            | Self::KafkaUnavailable { .. }
            | Self::RequestTimeout { .. } => Some(RETRY_AFTER_KAFKA_UNAVAILABLE),
            _ => None,
        }
    }

    /// A client-chosen value cut to `max` bytes for an error message.
    pub(crate) fn clip(value: &str, max: usize) -> String {
        lintas_adapters::normalize::text::truncate_at_char_boundary(value, max).to_owned()
    }
}

/// `Retry-After` in whole seconds, rounded up and at least 1 (the header has no fractions, and 0
/// would invite an immediate retry).
pub fn retry_after_seconds(delay: Duration) -> u64 {
    let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    seconds.max(1)
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected: Option<&'a [Rejection]>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        metrics::request_error(code);
        let rejected = match &self {
            Self::NoValidEvents { rejected } => Some(rejected.as_slice()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
            rejected,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(delay) = self.retry_after() {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_seconds(delay)),
            );
        }
        if matches!(self, Self::MissingWriteKey | Self::InvalidWriteKey) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // RFC 9110 15.5.6: a 405 must list what the resource allows. A webhook whose adapter has
        // no handshake takes deliveries only; the router's own 405s get `Allow` from axum.
        if matches!(self, Self::Adapter(AdapterError::MethodNotAllowed { .. })) {
            headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}

/// Why the gateway could not start or stopped serving. Not an HTTP answer: the process logs it
/// and exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The Kafka producer or the embedded broker could not be created.
    #[error(transparent)]
    Kafka(#[from] lintas_kafka::KafkaError),
    /// Metrics could not be installed.
    #[error(transparent)]
    Telemetry(#[from] lintas_telemetry::TelemetryError),
    /// The listen address could not be bound.
    #[error("cannot bind the gateway to {address}: {source}")]
    Bind {
        /// `gateway.listen`.
        address: std::net::SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("gateway http server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// Tenants configure webhook sources or secret names no adapter reads (misspelt, say).
    #[error(
        "invalid webhook configuration: {}",
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    WebhookConfig {
        /// Every problem found, each naming tenant, source and name.
        problems: Vec<crate::config::WebhookConfigProblem>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(5)), 5);
    }

    #[test]
    fn only_429_and_503_carry_retry_after() {
        let errors = [
            GatewayError::InvalidWriteKey,
            GatewayError::EmptyBatch,
            GatewayError::PayloadTooLarge { limit: 1 },
            GatewayError::RateLimited {
                retry_after: Duration::from_millis(300),
            },
            GatewayError::QueueFull,
            GatewayError::AckTimeout {
                timeout: Duration::from_secs(1),
            },
        ];
        for error in errors {
            let status = error.status().as_u16();
            assert_eq!(
                error.retry_after().is_some(),
                status == 429 || status == 503,
                "{error}"
            );
        }
    }

    #[test]
    fn adapter_errors_keep_their_status_and_code() {
        let error = GatewayError::from(AdapterError::SignatureMissing {
            header: "X-Hub-Signature-256",
        });
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error.code(), "signature_missing");
    }
}
