//! The transactional consume-classify-produce step and what rebalances do to it.
//!
//! One transaction holds, for a batch of consumed raw records: the classified records, the DLQ
//! records, the changelog records of every customer context the batch changed, and the batch's
//! input offsets (`send_offsets_to_transaction` with the consumer's group metadata, KIP-447).
//! Either all of it becomes visible to `read_committed` readers, or none of it does.
//!
//! Errors of the transaction: an abortable one aborts, puts the in-memory contexts back
//! ([`ContextStore::rollback`]) and seeks the consumer back to the batch's first offsets so the
//! same records are processed again; a fatal one (fenced by a newer producer with our
//! `transactional.id`, or by a newer group generation) stops the service.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lintas_classifier::{Classifier, CustomerContext};
use lintas_kafka::dlq::Origin;
use lintas_schema::v1::KafkaOrigin;
use lintas_telemetry::Health;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{Message as _, Offset, TopicPartitionList};

use crate::batch::{Batch, BatchPolicy};
use crate::context_store::{ContextStore, encode_context};
use crate::error::ClassifierServiceError;
use crate::metrics::{ServiceMetrics, classified_slot};
use crate::record::{self, Rejection};
use crate::restore::RestoreConfig;
use crate::service::ServiceContext;

/// Readiness component of the classifier role.
pub(crate) const COMPONENT: &str = "classifier";

/// How often `commit_transaction` is retried after a retriable error before giving up.
const COMMIT_ATTEMPTS: u32 = 3;
/// Step of [`Engine::wait_for_deliveries`].
const DELIVERY_POLL: Duration = Duration::from_millis(1);
/// Wait between attempts to enqueue a record when the producer's local queue is full.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_millis(5);

/// Topic names the engine reads and writes.
#[derive(Debug, Clone)]
pub(crate) struct Topics {
    pub(crate) raw: String,
    pub(crate) classified: String,
    pub(crate) dlq: String,
    pub(crate) context: String,
}

/// State of the classifier between polls: the producer, the open transaction, the contexts.
pub(crate) struct Engine {
    producer: ThreadedProducer<rdkafka::producer::DefaultProducerContext>,
    classifier: Arc<Classifier>,
    store: ContextStore,
    batch: Batch,
    policy: BatchPolicy,
    topics: Topics,
    metrics: ServiceMetrics,
    health: Health,
    /// Bound of every blocking transaction call.
    operation_timeout: Duration,
    restore_config: RestoreConfig,
    restore_deadline: Duration,
    /// A fatal error raised inside a rebalance callback, where it cannot be returned.
    fatal: Option<ClassifierServiceError>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("topics", &self.topics)
            .field("batch_records", &self.batch.records())
            .field("customers", &self.store.customers())
            .finish_non_exhaustive()
    }
}

/// What the engine needs to be built; see [`Engine::new`].
pub(crate) struct EngineParts {
    pub(crate) producer: ThreadedProducer<rdkafka::producer::DefaultProducerContext>,
    pub(crate) classifier: Arc<Classifier>,
    pub(crate) policy: BatchPolicy,
    pub(crate) topics: Topics,
    pub(crate) metrics: ServiceMetrics,
    pub(crate) health: Health,
    pub(crate) operation_timeout: Duration,
    pub(crate) restore_config: RestoreConfig,
    pub(crate) restore_deadline: Duration,
}

type Consumer_ = BaseConsumer<ServiceContext>;

impl Engine {
    pub(crate) fn new(parts: EngineParts) -> Self {
        Self {
            producer: parts.producer,
            classifier: parts.classifier,
            store: ContextStore::default(),
            batch: Batch::default(),
            policy: parts.policy,
            topics: parts.topics,
            metrics: parts.metrics,
            health: parts.health,
            operation_timeout: parts.operation_timeout,
            restore_config: parts.restore_config,
            restore_deadline: parts.restore_deadline,
            fatal: None,
        }
    }

    /// A fatal error raised in a rebalance callback, if any.
    pub(crate) fn take_fatal(&mut self) -> Option<ClassifierServiceError> {
        self.fatal.take()
    }

    /// Whether the open transaction should be committed now.
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        self.batch.is_due(&self.policy, now)
    }

    /// Classifies one raw record into the open transaction (opening it if needed).
    pub(crate) fn process(
        &mut self,
        consumer: &Consumer_,
        message: &BorrowedMessage<'_>,
    ) -> Result<(), ClassifierServiceError> {
        self.metrics.consumed.increment(1);
        if self.batch.open(Instant::now()) {
            self.producer
                .begin_transaction()
                .map_err(|source| transaction_error("begin_transaction", source))?;
        }
        let partition = message.partition();
        let offset = message.offset();
        self.batch.add(partition, offset);
        let key = message.key();
        let produced = match record::decode_event(message.payload()) {
            Ok(event) => self.classify_and_send(partition, offset, key, event),
            Err(rejection) => self.send_dead_letter(message, rejection),
        };
        match produced {
            Ok(()) => Ok(()),
            Err(error) => self.recover(consumer, "produce", error),
        }
    }

    fn classify_and_send(
        &mut self,
        partition: i32,
        offset: i64,
        key: Option<&[u8]>,
        event: lintas_schema::v1::InteractionEvent,
    ) -> Result<(), KafkaError> {
        // The customer key is the record key (`tenant/customer`, lintas_schema::partition_key):
        // it is what put the record in this partition. Records without a usable key name nobody,
        // so they are classified as a first contact and change no context.
        let customer = key.and_then(|key| std::str::from_utf8(key).ok());
        let context = customer
            .map(|customer| self.store.get(partition, customer))
            .unwrap_or_default();
        let mut classification = self.classifier.classify(&event, &context);
        classification.classified_at = Some(lintas_schema::time::now());
        if let Some(customer) = customer {
            let mut updated: CustomerContext = context;
            updated.observe(&event, &classification);
            self.store.update(partition, customer, updated);
        }
        self.metrics
            .type_confidence
            .record(f64::from(classification.type_confidence));
        self.metrics
            .stage_confidence
            .record(f64::from(classification.stage_confidence));
        let slot = classified_slot(
            classification.interaction_type,
            classification.journey_stage,
        );
        if let Some(count) = self.batch.classified.get_mut(slot) {
            *count += 1;
        }
        let headers = record::classified_headers(&event.tenant_id);
        let origin = KafkaOrigin {
            topic: self.topics.raw.clone(),
            partition,
            offset,
        };
        let value = record::classified_value(event, classification, origin);
        let topic = self.topics.classified.clone();
        self.send(&topic, None, key, Some(&value), headers)
    }

    fn send_dead_letter(
        &mut self,
        message: &BorrowedMessage<'_>,
        rejection: Rejection,
    ) -> Result<(), KafkaError> {
        tracing::warn!(
            topic = %self.topics.raw,
            partition = message.partition(),
            offset = message.offset(),
            kind = rejection.kind,
            error = %rejection.message,
            "raw record rejected, sending it to the dlq"
        );
        *self.batch.rejected.entry(rejection.kind).or_insert(0) += 1;
        let reason = rejection.to_reason(Origin {
            topic: self.topics.raw.clone(),
            partition: message.partition(),
            offset: message.offset(),
        });
        let topic = self.topics.dlq.clone();
        self.send(
            &topic,
            None,
            message.key(),
            message.payload(),
            reason.to_headers(),
        )
    }

    /// Enqueues one record in the open transaction, waiting while the local queue is full (the
    /// background thread drains it; the batch bound keeps a transaction far below the queue).
    fn send(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: OwnedHeaders,
    ) -> Result<(), KafkaError> {
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).headers(headers);
        // No payload is a null value: a tombstone on the compacted changelog, and the faithful
        // copy of a raw record that had none.
        if let Some(payload) = payload {
            record = record.payload(payload);
        }
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(partition) = partition {
            record = record.partition(partition);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((error, returned)) => {
                    if error.rdkafka_error_code() != Some(RDKafkaErrorCode::QueueFull) {
                        return Err(error);
                    }
                    record = returned;
                    std::thread::sleep(QUEUE_FULL_BACKOFF);
                }
            }
        }
    }

    /// Commits the open transaction with the consumed offsets; on an abortable error aborts it
    /// and rewinds (see the module docs).
    pub(crate) fn commit(&mut self, consumer: &Consumer_) -> Result<(), ClassifierServiceError> {
        if !self.batch.is_open() {
            return Ok(());
        }
        let committing = Instant::now();
        match self.try_commit(consumer) {
            Ok(()) => {
                self.store.commit();
                let age = self.batch.age(Instant::now());
                self.metrics.batch_seconds.record(age.as_secs_f64());
                self.metrics.committed.increment(1);
                self.metrics.add_classified(&self.batch.classified);
                for (kind, count) in &self.batch.rejected {
                    ServiceMetrics::add_dlq(kind, *count);
                }
                self.metrics.customers.set(self.store.customers() as f64);
                tracing::debug!(
                    records = self.batch.records(),
                    open_ms = age.as_millis() as u64,
                    commit_ms = committing.elapsed().as_millis() as u64,
                    "transaction committed"
                );
                self.batch.reset();
                Ok(())
            }
            Err(error) => self.recover(consumer, "commit", error),
        }
    }

    fn try_commit(&mut self, consumer: &Consumer_) -> Result<(), KafkaError> {
        let dirty: Vec<(i32, String, Option<Vec<u8>>)> = self
            .store
            .dirty()
            .map(|(partition, key, context)| {
                (partition, key.to_owned(), context.map(encode_context))
            })
            .collect();
        let topic = self.topics.context.clone();
        for (partition, key, value) in dirty {
            // Same partition number as the raw record: a new owner of raw partition N restores
            // from changelog partition N only.
            self.send(
                &topic,
                Some(partition),
                Some(key.as_bytes()),
                value.as_deref(),
                OwnedHeaders::new(),
            )?;
        }
        let mut offsets = TopicPartitionList::new();
        for (partition, next) in self.batch.next_offsets() {
            offsets.add_partition_offset(&self.topics.raw, *partition, Offset::Offset(*next))?;
        }
        // No metadata means the consumer is not in the group (yet): abortable, retried later.
        let metadata = consumer
            .group_metadata()
            .ok_or(KafkaError::ConsumerCommit(RDKafkaErrorCode::State))?;
        self.producer
            .send_offsets_to_transaction(&offsets, &metadata, self.operation_timeout)?;
        self.wait_for_deliveries();
        let mut attempt = 1;
        loop {
            match self.producer.commit_transaction(self.operation_timeout) {
                Ok(()) => return Ok(()),
                Err(KafkaError::Transaction(error))
                    if error.is_retriable() && attempt < COMMIT_ATTEMPTS =>
                {
                    tracing::warn!(attempt, error = %error, "commit_transaction failed, retrying");
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Waits until the producer has no record in flight, at most `operation_timeout`.
    ///
    /// rust-rdkafka's `commit_transaction` flushes first, and its flush sleeps in 100 ms polls
    /// of the producer's event queue; with a `ThreadedProducer` its background thread takes the
    /// delivery reports, so each poll runs to its full 100 ms: one commit cost ~105 ms, capping
    /// the service at ~4k events/s. Waiting here in 1 ms steps leaves that flush nothing to do.
    fn wait_for_deliveries(&self) {
        let started = Instant::now();
        while self.producer.in_flight_count() > 0 && started.elapsed() < self.operation_timeout {
            std::thread::sleep(DELIVERY_POLL);
        }
    }

    /// Handles an error inside the open transaction: abort and rewind, or stop if fatal.
    fn recover(
        &mut self,
        consumer: &Consumer_,
        operation: &'static str,
        error: KafkaError,
    ) -> Result<(), ClassifierServiceError> {
        if is_fatal(&error) {
            tracing::error!(operation, error = %error, "fatal transaction error, stopping");
            return Err(ClassifierServiceError::FatalTransaction {
                operation,
                source: error,
            });
        }
        tracing::warn!(
            operation,
            error = %error,
            records = self.batch.records(),
            "transaction failed, aborting and reprocessing its records"
        );
        self.producer
            .abort_transaction(self.operation_timeout)
            .map_err(|source| transaction_error("abort_transaction", source))?;
        self.metrics.aborted.increment(1);
        self.store.rollback();
        let mut rewind = TopicPartitionList::new();
        for (partition, first) in self.batch.first_offsets() {
            rewind
                .add_partition_offset(&self.topics.raw, *partition, Offset::Offset(*first))
                .map_err(|source| ClassifierServiceError::Kafka {
                    operation: "rewinding",
                    source,
                })?;
        }
        self.batch.reset();
        match consumer.seek_partitions(rewind, self.operation_timeout) {
            Ok(result) => {
                for element in result.elements() {
                    if let Err(error) = element.error() {
                        // A partition revoked meanwhile is re-read by its new owner from the
                        // committed offset; nothing to rewind here.
                        tracing::warn!(partition = element.partition(), error = %error, "seek failed");
                    }
                }
                Ok(())
            }
            Err(source) => Err(ClassifierServiceError::Kafka {
                operation: "rewinding to the last committed offsets",
                source,
            }),
        }
    }

    /// Rebalance: partitions are being taken away. Commits the open transaction while they are
    /// still ours, then forgets their contexts.
    pub(crate) fn on_revoke(&mut self, consumer: &Consumer_, partitions: &TopicPartitionList) {
        if let Err(error) = self.commit(consumer) {
            self.fatal.get_or_insert(error);
        }
        for element in partitions.elements_for_topic(&self.topics.raw) {
            self.store.drop_partition(element.partition());
        }
        self.metrics.customers.set(self.store.customers() as f64);
        tracing::info!(
            partitions = ?partition_numbers(partitions, &self.topics.raw),
            "partitions revoked"
        );
    }

    /// Rebalance: partitions are being assigned. Restores their contexts from the changelog
    /// before any of their records is processed; not ready meanwhile.
    pub(crate) fn on_assign(&mut self, partitions: &TopicPartitionList) {
        let numbers = partition_numbers(partitions, &self.topics.raw);
        if numbers.is_empty() {
            // An instance the group gave nothing (more instances than partitions) is a ready
            // standby; librdkafka calls back for empty assignments too.
            self.health.set_ready(COMPONENT, true, None);
            return;
        }
        self.health.set_ready(
            COMPONENT,
            false,
            Some(format!(
                "restoring customer context of partitions {numbers:?}"
            )),
        );
        match crate::restore::restore_partitions(
            &self.restore_config,
            &self.topics.context,
            &numbers,
            self.restore_deadline,
        ) {
            Ok(restored) => {
                for (partition, contexts) in restored {
                    self.store.insert_partition(partition, contexts);
                }
            }
            Err(error) => {
                self.fatal.get_or_insert(error);
                return;
            }
        }
        self.metrics.customers.set(self.store.customers() as f64);
        self.health.set_ready(COMPONENT, true, None);
        tracing::info!(partitions = ?numbers, "partitions assigned");
    }

    /// The producer, for shutdown.
    pub(crate) fn producer(&self) -> &ThreadedProducer<rdkafka::producer::DefaultProducerContext> {
        &self.producer
    }
}

fn partition_numbers(partitions: &TopicPartitionList, topic: &str) -> Vec<i32> {
    partitions
        .elements_for_topic(topic)
        .iter()
        .map(|element| element.partition())
        .collect()
}

/// Fatal: the producer cannot continue (fenced, or an unrecoverable idempotence error).
fn is_fatal(error: &KafkaError) -> bool {
    match error {
        KafkaError::Transaction(error) => error.is_fatal(),
        other => matches!(
            other.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::Fatal
                    | RDKafkaErrorCode::Fenced
                    | RDKafkaErrorCode::ProducerFenced
            )
        ),
    }
}

fn transaction_error(operation: &'static str, source: KafkaError) -> ClassifierServiceError {
    if is_fatal(&source) {
        ClassifierServiceError::FatalTransaction { operation, source }
    } else {
        ClassifierServiceError::Kafka { operation, source }
    }
}
