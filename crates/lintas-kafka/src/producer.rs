//! The producer every role writes with: idempotent, `acks=all`, answers only after the broker
//! acknowledged the record.

use crate::KafkaError;
use lintas_schema::{headers, v1::InteractionEvent};
use prost::Message;
use rdkafka::ClientConfig;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::time::Duration;

/// Where the broker stored an acknowledged record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Partition written.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
}

/// A Kafka producer for Lintas records.
#[derive(Clone)]
pub struct EventProducer {
    inner: FutureProducer,
}

impl std::fmt::Debug for EventProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventProducer")
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl EventProducer {
    /// Creates the producer from a config built by [`crate::producer_config`].
    pub fn try_new(config: &ClientConfig) -> Result<Self, KafkaError> {
        let inner = config.create().map_err(KafkaError::Client)?;
        Ok(Self { inner })
    }

    /// Records queued locally or awaiting acknowledgement.
    pub fn in_flight(&self) -> i32 {
        self.inner.in_flight_count()
    }

    /// The underlying rdkafka producer, for metadata and flush.
    pub fn inner(&self) -> &FutureProducer {
        &self.inner
    }

    /// Writes one record and waits for the broker's acknowledgement.
    ///
    /// Never blocks on a full local queue: that returns [`KafkaError::QueueFull`] at once, so the
    /// gateway can answer 503 instead of holding the HTTP request.
    pub async fn send(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: OwnedHeaders,
    ) -> Result<Delivered, KafkaError> {
        let mut record = FutureRecord::to(topic).payload(payload).headers(headers);
        if let Some(key) = key {
            record = record.key(key);
        }
        let delivery = match self.inner.send_result(record) {
            Ok(delivery) => delivery,
            Err((error, _)) => {
                if error.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) {
                    return Err(KafkaError::QueueFull);
                }
                return Err(KafkaError::Delivery {
                    topic: topic.to_owned(),
                    source: error,
                });
            }
        };
        match delivery.await {
            Ok(Ok(delivery)) => Ok(Delivered {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Ok(Err((error, _))) => Err(KafkaError::Delivery {
                topic: topic.to_owned(),
                source: error,
            }),
            // The producer was dropped with the record still queued.
            Err(_canceled) => Err(KafkaError::Delivery {
                topic: topic.to_owned(),
                source: rdkafka::error::KafkaError::Canceled,
            }),
        }
    }

    /// Encodes `event` and writes it keyed by tenant and customer, with schema and tenant headers.
    pub async fn send_event(
        &self,
        topic: &str,
        event: &InteractionEvent,
    ) -> Result<Delivered, KafkaError> {
        let key = lintas_schema::partition_key(event);
        let payload = event.encode_to_vec();
        self.send(
            topic,
            key.as_deref(),
            &payload,
            event_headers(&event.tenant_id),
        )
        .await
    }

    /// Waits until every queued record is acknowledged or `timeout` passes (shutdown path).
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner
            .flush(timeout)
            .map_err(|source| KafkaError::Delivery {
                topic: "*".into(),
                source,
            })
    }
}

/// Headers of an `InteractionEvent` record.
pub fn event_headers(tenant_id: &str) -> OwnedHeaders {
    OwnedHeaders::new()
        .insert(Header {
            key: headers::SCHEMA,
            value: Some(headers::INTERACTION_EVENT),
        })
        .insert(Header {
            key: headers::SCHEMA_VERSION,
            value: Some(headers::CURRENT_SCHEMA_VERSION),
        })
        .insert(Header {
            key: headers::TENANT,
            value: Some(tenant_id),
        })
}
