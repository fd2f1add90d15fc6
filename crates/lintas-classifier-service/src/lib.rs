//! `lintas classifier`: consume raw events, classify them, produce classified events, exactly
//! once between the two topics.
//!
//! Guarantees (see the crate README for the rules and the tests that pin them):
//! - **Exactly once**: the classified records, the DLQ records, the customer-context changelog
//!   records and the consumed offsets of a batch are written in one Kafka transaction; readers
//!   with `isolation.level=read_committed` see each raw record's output once, across crashes,
//!   restarts and rebalances.
//! - **Poison records** (no value, not an `InteractionEvent`, invalid event) go to the DLQ with
//!   stage, kind, message and origin headers in the same transaction, and the offset moves on.
//! - **Customer context** is kept per assigned partition, written to a compacted changelog topic
//!   in the same transaction, and restored from it before a newly assigned partition's records
//!   are processed.
//! - **Shutdown**: the shutdown future stops consumption, the open transaction is committed, the
//!   clients close (each bounded by a wait) and the function returns. The consumer is a static
//!   group member (`group.instance.id` = `classifier.instance_id`), so a restarted instance takes
//!   its partitions back without waiting for the session timeout.
#![deny(missing_docs)]

mod batch;
mod context_store;
mod engine;
mod error;
pub mod metrics;
pub mod record;
mod restore;
mod service;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use error::ClassifierServiceError;

/// Runs the classifier role until `shutdown` resolves or a fatal error occurs.
///
/// `config.kafka.brokers` must name the brokers: a caller that wants the embedded development
/// broker starts it first and puts its address in the config. Registers the `classifier` health
/// component (not ready until the clients are up, and while partitions' contexts are being
/// restored) and every metric of [`metrics`]. The caller installs the metrics recorder and serves
/// the admin endpoints.
///
/// # Errors
///
/// [`ClassifierServiceError`] when the classifier files, the topics or the Kafka clients are
/// unusable at start, when a transaction fails fatally (fenced), or when a partition's context
/// cannot be restored.
pub async fn run<F>(
    config: lintas_config::Config,
    health: lintas_telemetry::Health,
    shutdown: F,
) -> Result<(), ClassifierServiceError>
where
    F: Future<Output = ()> + Send + 'static,
{
    if config.kafka.brokers.is_empty() {
        return Err(ClassifierServiceError::NoBrokers);
    }
    health.register(engine::COMPONENT);
    let service_metrics = metrics::ServiceMetrics::register();
    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let worker_stop = Arc::clone(&stop);
    let worker_health = health.clone();
    let span = tracing::Span::current();
    std::thread::Builder::new()
        .name("lintas-classifier".into())
        .spawn(move || {
            let _entered = span.enter();
            let result = service::run_blocking(config, worker_health, service_metrics, worker_stop);
            // The receiver is gone only if the caller dropped the future; nothing to tell then.
            done_tx.send(result).ok();
        })
        .map_err(|error| ClassifierServiceError::Worker(error.to_string()))?;
    let watcher = tokio::spawn(async move {
        shutdown.await;
        health.begin_shutdown();
        stop.store(true, Ordering::Relaxed);
    });
    let result = done_rx
        .await
        .map_err(|_| ClassifierServiceError::Worker("the worker thread panicked".into()));
    watcher.abort();
    result?
}
