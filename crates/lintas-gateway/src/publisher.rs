//! The seam between the HTTP handlers and Kafka.
//!
//! Handlers only need two operations, both answering after the broker acknowledged every record
//! (`acks=all`, idempotent producer) or with the reason it did not:
//! [`Publisher::publish`] for events and [`Publisher::dead_letter`] for authentic requests that
//! cannot become events. [`KafkaPublisher`] is the real implementation;
//! [`MockPublisher`](crate::testing::MockPublisher) serves the unit tests.
//!
//! Ordering: a batch's records are enqueued synchronously, in batch order, before the first
//! acknowledgement is awaited, so events of one customer (one key) keep their order in the
//! partition. A batch is not atomic: when the queue fills up halfway, the records already
//! enqueued may still be written although the request answers 503; a client retry then writes
//! them again with the same `event_id` when the event has a stable id, and downstream
//! deduplication on `event_id` removes the copies.

use std::future::Future;
use std::time::Instant;

use lintas_kafka::EventProducer;
use lintas_kafka::dlq::DlqReason;
use lintas_kafka::producer::event_headers;
use lintas_schema::v1::InteractionEvent;
use prost::Message as _;
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::producer::FutureRecord;

use crate::metrics;
use crate::readiness::KafkaStatus;

/// Why records were not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The local producer queue is full; nothing more can be enqueued now.
    #[error("kafka producer queue is full")]
    QueueFull,
    /// Kafka refused or failed a record (broker down past `message.timeout.ms`, topic missing...).
    #[error("kafka did not acknowledge a record: {0}")]
    Delivery(String),
}

/// Writes records to Kafka and resolves once every one is acknowledged.
pub trait Publisher: Send + Sync + 'static {
    /// Writes `events` to the raw topic, keyed by tenant and customer.
    fn publish(
        &self,
        events: &[InteractionEvent],
    ) -> impl Future<Output = Result<(), PublishError>> + Send;

    /// Writes `body` (the request's raw bytes) to the dead-letter topic with `reason` in headers.
    fn dead_letter(
        &self,
        body: &[u8],
        reason: &DlqReason,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// [`Publisher`] over the shared [`EventProducer`].
#[derive(Debug, Clone)]
pub struct KafkaPublisher {
    producer: EventProducer,
    topic_raw: String,
    topic_dlq: String,
    kafka: KafkaStatus,
}

impl KafkaPublisher {
    /// A publisher writing events to `topic_raw` and dead letters to `topic_dlq`; a full queue
    /// is reported to `kafka` at once so readiness does not wait for the next probe.
    pub fn new(
        producer: EventProducer,
        topic_raw: &str,
        topic_dlq: &str,
        kafka: KafkaStatus,
    ) -> Self {
        Self {
            producer,
            topic_raw: topic_raw.to_owned(),
            topic_dlq: topic_dlq.to_owned(),
            kafka,
        }
    }

    fn enqueue_error(&self, error: &RdKafkaError) -> PublishError {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) {
            self.kafka
                .set_not_ready("producer queue full: kafka is slower than intake");
            return PublishError::QueueFull;
        }
        PublishError::Delivery(error.to_string())
    }
}

fn delivery_error(
    result: Result<
        rdkafka::producer::future_producer::OwnedDeliveryResult,
        futures::channel::oneshot::Canceled,
    >,
) -> Result<(), PublishError> {
    match result {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((error, _))) => Err(PublishError::Delivery(error.to_string())),
        // The producer went away with the record queued: only at shutdown.
        Err(_canceled) => Err(PublishError::Delivery("producer closed".to_owned())),
    }
}

impl Publisher for KafkaPublisher {
    async fn publish(&self, events: &[InteractionEvent]) -> Result<(), PublishError> {
        let started = Instant::now();
        let producer = self.producer.inner();
        let mut deliveries = Vec::with_capacity(events.len());
        // Enqueue everything first, in order (see the module docs), then await the acks together.
        for event in events {
            let key = lintas_schema::partition_key(event);
            let payload = event.encode_to_vec();
            let mut record = FutureRecord::to(&self.topic_raw)
                .payload(&payload)
                .headers(event_headers(&event.tenant_id));
            if let Some(key) = &key {
                record = record.key(key.as_str());
            }
            match producer.send_result(record) {
                Ok(delivery) => deliveries.push(delivery),
                Err((error, _)) => return Err(self.enqueue_error(&error)),
            }
        }
        for result in futures::future::join_all(deliveries).await {
            delivery_error(result)?;
        }
        metrics::kafka_produce(started.elapsed());
        Ok(())
    }

    async fn dead_letter(&self, body: &[u8], reason: &DlqReason) -> Result<(), PublishError> {
        let mut record = FutureRecord::to(&self.topic_dlq)
            .payload(body)
            .headers(reason.to_headers());
        // Keyed by tenant so one tenant's dead letters stay in order for replay.
        if let Some(tenant) = &reason.tenant {
            record = record.key(tenant.as_str());
        }
        let delivery = self
            .producer
            .inner()
            .send_result(record)
            .map_err(|(error, _)| self.enqueue_error(&error))?;
        delivery_error(delivery.await)
    }
}
