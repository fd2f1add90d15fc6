//! The Lintas gateway: the HTTP intake that turns requests into `InteractionEvent`s on Kafka.
//!
//! Endpoints (documented in `openapi.yaml` next to this crate's `Cargo.toml`):
//!
//! - `POST /v1/events`: batches from channel teams, JSON (Segment-like fields) or protobuf
//!   (`lintas.v1.InteractionEventBatch`), authenticated by a tenant's write key.
//! - `POST /v1/webhooks/{tenant}/{source}` and `GET` for handshakes: channel platforms, through the
//!   adapters of `lintas-adapters`, authenticated by the platform's signature with the tenant's
//!   secret.
//! - `/healthz`, `/readyz`, `/metrics` on the same port.
//!
//! # Delivery guarantee
//!
//! A 2xx answer means Kafka acknowledged every record the request produced (`acks=all`,
//! idempotent producer): events to `kafka.topic_raw`, and the raw body of authentic but unusable
//! webhook items to `kafka.topic_dlq`. When Kafka is unreachable, slower than intake (the producer
//! queue is full) or does not acknowledge within `gateway.request_timeout`, the answer is 503 with
//! `Retry-After`, and `/readyz` reports the `kafka` component not ready until a probe finds it
//! healthy again. Delivery is at least once: a request answered 503 may still have been written,
//! and its retry writes it again; events with a stable id (`messageId`, the platforms' ids) keep
//! the same `event_id` and are deduplicated downstream.
//!
//! # Layout
//!
//! [`config`] settings, [`error`] the one error type and its HTTP mapping, [`metrics`] names and
//! recording, [`Publisher`] the Kafka seam, `routes` the handlers, `readiness` the Kafka probe,
//! [`server`] the lifecycle, [`testing`] the doubles.
#![deny(missing_docs)]

mod body;
pub mod config;
pub mod error;
pub mod metrics;
mod publisher;
mod rate_limit;
pub mod readiness;
mod routes;
pub mod server;
mod state;
pub mod testing;

#[cfg(test)]
mod tests;

pub use config::{DEFAULT_MAX_BATCH_EVENTS, GatewaySettings};
pub use error::{GatewayError, Rejection, ServeError};
pub use publisher::{KafkaPublisher, PublishError, Publisher};
pub use readiness::KafkaStatus;
pub use routes::{EVENTS_ROUTE, WEBHOOKS_ROUTE, router};
pub use server::{BoundGateway, bind, run};
pub use state::AppState;
