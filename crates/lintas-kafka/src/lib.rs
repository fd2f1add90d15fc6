//! Kafka plumbing shared by every Lintas role.
//!
//! Delivery guarantees start here, so the defaults are not negotiable by configuration:
//! - producers are idempotent with `acks=all` ([`client::producer_config`] refuses overrides that
//!   would weaken that), with a bounded local queue so a slow broker turns into back-pressure
//!   (HTTP 503 at the gateway), never into unbounded memory;
//! - consumers never auto-commit: offsets are stored and committed only after the effect of a
//!   record is durable downstream, and read only committed transactional data;
//! - bad records go to the dead-letter topic with their original bytes and the reason in headers
//!   ([`dlq`]), so one poison record never blocks a partition and nothing is lost silently.
//!
//! [`embedded`] runs librdkafka's in-process mock cluster for development and the quickstart when
//! no brokers are configured; it is in-memory and never meant for production.
#![deny(missing_docs)]

pub mod client;
pub mod diagnose;
pub mod dlq;
pub mod embedded;
mod error;
pub mod producer;
pub mod throttle;
pub mod topics;

pub use client::{consumer_config, producer_config};
pub use embedded::EmbeddedBroker;
pub use error::KafkaError;
pub use producer::EventProducer;
pub use throttle::ErrorThrottle;
