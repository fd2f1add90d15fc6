//! Whether Kafka can take writes now: the `kafka` component of `/readyz`, and the gate that makes
//! the handlers answer 503 at once instead of queueing data Kafka cannot take.
//!
//! A background task probes every [`PROBE_INTERVAL`]: a metadata request for the raw topic with a
//! short timeout (the broker answers, the topic exists and has partitions), the producer's queue
//! depth (not ready from [`QUEUE_NEARLY_FULL_PERCENT`] of `kafka.queue_max_messages`) and
//! librdkafka's fatal error state. Readiness recovers on its own at the first good probe after the
//! broker returns; nothing restarts. A full queue seen by a request is reported at once
//! ([`KafkaStatus::set_not_ready`]) rather than at the next probe.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lintas_kafka::EventProducer;
use lintas_telemetry::Health;
use rdkafka::producer::Producer as _;
use tokio::sync::watch;

use crate::metrics;

/// Name of the component in `/readyz`.
pub const KAFKA_COMPONENT: &str = "kafka";
/// Time between two probes.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(2);
/// Longest wait for the broker's metadata answer in one probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Queue depth, in percent of `kafka.queue_max_messages`, from which the gateway is not ready.
pub const QUEUE_NEARLY_FULL_PERCENT: u64 = 90;

/// The `kafka` readiness shared by the probe, the publisher and the handlers.
#[derive(Debug, Clone)]
pub struct KafkaStatus {
    ready: Arc<AtomicBool>,
    health: Health,
}

impl KafkaStatus {
    /// Registers the `kafka` component in `health` as not ready until the first good probe.
    pub fn new(health: Health) -> Self {
        health.register(KAFKA_COMPONENT);
        Self {
            ready: Arc::new(AtomicBool::new(false)),
            health,
        }
    }

    /// A status that starts ready, for tests that have no broker to probe.
    pub fn assume_ready(health: Health) -> Self {
        let status = Self::new(health);
        status.set_ready();
        status
    }

    /// Whether Kafka could take writes at the last report.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Why Kafka is not ready, from `/readyz`'s state.
    pub fn reason(&self) -> String {
        self.health
            .snapshot()
            .components
            .get(KAFKA_COMPONENT)
            .and_then(|status| status.reason.clone())
            .unwrap_or_else(|| "not ready".to_owned())
    }

    /// Reports Kafka ready.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
        self.health.set_ready(KAFKA_COMPONENT, true, None);
    }

    /// Reports Kafka not ready for `reason`.
    pub fn set_not_ready(&self, reason: &str) {
        self.ready.store(false, Ordering::Release);
        self.health
            .set_ready(KAFKA_COMPONENT, false, Some(reason.to_owned()));
    }
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Probe {
    Ready,
    NotReady(String),
}

/// Probes once (blocking: librdkafka's metadata call waits on the network).
fn probe_blocking(producer: &EventProducer, topic: &str, queue_max_messages: u32) -> Probe {
    let in_flight = producer.in_flight();
    metrics::kafka_queue(in_flight);
    let client = producer.inner().client();
    if let Some((code, message)) = client.fatal_error() {
        return Probe::NotReady(format!("producer failed fatally ({code:?}): {message}"));
    }
    let depth = u64::try_from(in_flight).unwrap_or(0);
    if depth * 100 >= u64::from(queue_max_messages) * QUEUE_NEARLY_FULL_PERCENT {
        return Probe::NotReady(format!(
            "producer queue nearly full: {depth} of {queue_max_messages} messages"
        ));
    }
    let metadata = match client.fetch_metadata(Some(topic), PROBE_TIMEOUT) {
        Ok(metadata) => metadata,
        Err(error) => return Probe::NotReady(format!("kafka unreachable: {error}")),
    };
    match metadata.topics().iter().find(|found| found.name() == topic) {
        Some(found) if found.error().is_some() || found.partitions().is_empty() => {
            Probe::NotReady(format!("topic {topic} is not available"))
        }
        Some(_) => Probe::Ready,
        None => Probe::NotReady(format!("topic {topic} does not exist")),
    }
}

/// Probes Kafka once and reports the result.
pub async fn probe_once(
    producer: &EventProducer,
    topic: &str,
    queue_max_messages: u32,
    status: &KafkaStatus,
) {
    let producer = producer.clone();
    let topic_owned = topic.to_owned();
    let outcome = tokio::task::spawn_blocking(move || {
        probe_blocking(&producer, &topic_owned, queue_max_messages)
    })
    .await
    .unwrap_or_else(|error| Probe::NotReady(format!("kafka probe failed: {error}")));
    match outcome {
        Probe::Ready => status.set_ready(),
        Probe::NotReady(reason) => status.set_not_ready(&reason),
    }
}

/// Probes every [`PROBE_INTERVAL`] until `stop` turns true.
pub async fn watch_kafka(
    producer: EventProducer,
    topic: String,
    queue_max_messages: u32,
    status: KafkaStatus,
    mut stop: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(PROBE_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
            _ = interval.tick() => {
                probe_once(&producer, &topic, queue_max_messages, &status).await;
            }
        }
    }
}
