//! The batch loop: read, batch, insert, dead-letter, commit; pause and retry while ClickHouse
//! fails; flush and commit at shutdown.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lintas_kafka::EventProducer;
use lintas_kafka::dlq::{DlqReason, Origin};
use lintas_telemetry::Health;
use metrics::{counter, gauge, histogram};
use rdkafka::Message as _;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use tokio::time::Instant;

use crate::batch::{Batch, Batcher, DeadRecord};
use crate::consumer::{Assignment, SinkContext, commit_list, partition_list};
use crate::error::InsertError;
use crate::lag::{Ends, LAG_INTERVAL, partition_lag, spawn_reporter};
use crate::metrics::{
    BATCH_ROWS, BATCHES_COMMITTED_TOTAL, BUFFERED_ROWS, CONSUMER_LAG_MESSAGES, DLQ_RECORDS_TOTAL,
    PAUSED, ROWS_INSERTED_TOTAL,
};
use crate::writer::{RowWriter, insert_isolating};

/// Component name of ClickHouse in `/readyz`.
pub(crate) const CLICKHOUSE_COMPONENT: &str = "clickhouse";
/// Component name of the sink's consumer in `/readyz`: ready once the group assigned it
/// partitions (or none, as a standby member).
pub(crate) const CONSUMER_COMPONENT: &str = "sink";
/// The sink's stage name in DLQ headers.
const STAGE: &str = "sink";
/// Longest time spent flushing and committing after the shutdown signal; below Kubernetes'
/// default 30 s grace period, so the pod exits on its own. Batches still failing by then are
/// left uncommitted and read again by the next owner.
pub(crate) const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(20);
/// Longest wait for librdkafka to leave the group. librdkafka 2.12's mock cluster never
/// answers a closing member (see crates/lintas-kafka/tests/embedded.rs); a real broker does in
/// milliseconds. Offsets are committed before, so giving up here loses nothing.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Capped exponential backoff.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            next: initial,
        }
    }

    /// The wait before the next attempt; doubles up to the cap.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    pub(crate) fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// Why a batch could not be finished now; both pause consumption and retry.
#[derive(Debug, thiserror::Error)]
enum DeliverError {
    #[error(transparent)]
    Insert(#[from] InsertError),
    #[error("dead-letter record of offset {offset} not acknowledged: {source}")]
    Dlq {
        offset: i64,
        #[source]
        source: lintas_kafka::KafkaError,
    },
}

/// Test-only hooks; never set in production.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hooks {
    /// Hold the batch loop for good right after this many successful batch inserts, before
    /// their offsets are committed (the crash test kills the process there).
    pub(crate) hold_after_inserts: Option<crate::HoldAfterInserts>,
}

/// The running sink and its state.
pub(crate) struct Sink<W> {
    pub(crate) topic: String,
    pub(crate) dlq_topic: String,
    pub(crate) consumer: Arc<StreamConsumer<SinkContext>>,
    pub(crate) context: SinkContext,
    pub(crate) producer: EventProducer,
    pub(crate) writer: W,
    pub(crate) batcher: Batcher,
    pub(crate) max_wait: Duration,
    pub(crate) backoff: Backoff,
    pub(crate) health: Health,
    pub(crate) hooks: Hooks,
    /// Partition ends from the broker, for the lag gauge.
    pub(crate) ends: Ends,
    pub(crate) assigned: BTreeSet<i32>,
    pub(crate) paused: bool,
    pub(crate) retry_at: Option<Instant>,
    pub(crate) inserts: u64,
    pub(crate) scratch: Vec<u8>,
    pub(crate) kafka_errors: lintas_kafka::ErrorThrottle,
}

impl<W: RowWriter> Sink<W> {
    /// Runs until `shutdown` resolves, then flushes, commits and leaves the group.
    pub(crate) async fn run<F>(mut self, shutdown: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut shutdown = Box::pin(shutdown);
        tracing::info!(topic = %self.topic, "sink consuming");
        // A message borrows the consumer; a second handle keeps `self` free meanwhile.
        let consumer = Arc::clone(&self.consumer);
        let reporter = spawn_reporter(
            Arc::downgrade(&self.consumer),
            self.topic.clone(),
            self.ends.clone(),
        );
        let mut lag_at = Instant::now() + LAG_INTERVAL;
        loop {
            let flush_at = self
                .batcher
                .oldest_open()
                .map(|opened| Instant::from_std(opened + self.max_wait));
            let wake_at = [flush_at, self.retry_at, Some(lag_at)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(lag_at);
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep_until(wake_at) => {}
                message = consumer.recv() => {
                    self.apply_assignments();
                    match message {
                        Ok(message) => self.accept(&message),
                        Err(error) => {
                            if let Some(held_back) = self.kafka_errors.admit(std::time::Instant::now()) {
                                tracing::warn!(error = %error, held_back, "kafka consumer error");
                            }
                        }
                    }
                }
            }
            self.apply_assignments();
            if let Some(cutoff) = Instant::now().checked_sub(self.max_wait) {
                self.batcher.close_older_than(cutoff.into_std());
            }
            if self.retry_at.is_none_or(|at| Instant::now() >= at) {
                self.deliver_closed().await;
            }
            gauge!(BUFFERED_ROWS).set(self.batcher.buffered_rows() as f64);
            if Instant::now() >= lag_at {
                self.report_lag();
                lag_at = Instant::now() + LAG_INTERVAL;
            }
        }
        reporter.abort();
        drop(consumer);
        self.shutdown().await;
    }

    fn accept(&mut self, message: &BorrowedMessage<'_>) {
        let (partition, offset) = (message.partition(), message.offset());
        let now = std::time::Instant::now();
        self.scratch.clear();
        match crate::record::encode_record(
            message.payload(),
            &self.topic,
            partition,
            offset,
            &mut self.scratch,
        ) {
            Ok(tenant) => self.batcher.push_row(
                partition,
                offset,
                &self.scratch,
                message.payload().unwrap_or_default().to_vec(),
                tenant,
                now,
            ),
            Err(dead) => {
                tracing::warn!(
                    partition,
                    offset,
                    kind = dead.kind,
                    error = %dead.message,
                    "record cannot become a row, sending it to the dlq"
                );
                self.batcher.push_dead(partition, dead, now);
            }
        }
    }

    /// Sets the lag gauge from the partition ends the reporter last saw.
    fn report_lag(&self) {
        let positions = self.consumer.position().ok();
        let lag: i64 = self
            .ends
            .snapshot()
            .into_iter()
            .filter(|(partition, _)| self.assigned.contains(partition))
            .map(|(partition, ends)| {
                let position = positions
                    .as_ref()
                    .and_then(|list| list.find_partition(&self.topic, partition))
                    .and_then(|element| match element.offset() {
                        rdkafka::Offset::Offset(offset) => Some(offset),
                        _ => None,
                    });
                partition_lag(
                    ends,
                    self.batcher.first_buffered_offset(partition),
                    position,
                )
            })
            .sum();
        gauge!(CONSUMER_LAG_MESSAGES).set(lag as f64);
    }

    fn apply_assignments(&mut self) {
        for event in self.context.take_events() {
            match event {
                Assignment::Assigned(partitions) => {
                    self.health.set_ready(CONSUMER_COMPONENT, true, None);
                    if self.paused {
                        let list = partition_list(&self.topic, partitions.iter().copied());
                        if let Err(error) = self.consumer.pause(&list) {
                            tracing::warn!(error = %error, "could not pause assigned partitions");
                        }
                    }
                    self.assigned.extend(partitions);
                }
                Assignment::Revoked(partitions) => {
                    for partition in partitions {
                        self.assigned.remove(&partition);
                        // Not flushed: the next owner reads these records again from the
                        // committed offset, cut into the same batches (same tokens).
                        let dropped = self.batcher.forget(partition);
                        if dropped > 0 {
                            tracing::info!(
                                partition,
                                rows = dropped,
                                "dropped uncommitted rows of a revoked partition"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Finishes closed batches in order until one fails; a failure pauses consumption.
    async fn deliver_closed(&mut self) {
        while let Some(mut batch) = self.batcher.take_closed() {
            match self.deliver(&mut batch).await {
                Ok(()) => {
                    self.backoff.reset();
                    self.retry_at = None;
                    self.health.set_ready(CLICKHOUSE_COMPONENT, true, None);
                    self.resume();
                }
                Err(error) => {
                    let delay = self.backoff.next_delay();
                    tracing::warn!(
                        partition = batch.partition,
                        first_offset = batch.first_offset,
                        last_offset = batch.last_offset,
                        retry_in = ?delay,
                        error = %error,
                        "batch not delivered, consumption paused until it is"
                    );
                    if matches!(error, DeliverError::Insert(_)) {
                        self.health
                            .set_ready(CLICKHOUSE_COMPONENT, false, Some(error.to_string()));
                    }
                    self.batcher.give_back(batch);
                    self.retry_at = Some(Instant::now() + delay);
                    self.pause();
                    return;
                }
            }
        }
    }

    /// Inserts the batch (isolating refused rows), dead-letters what must be, commits.
    async fn deliver(&mut self, batch: &mut Batch) -> Result<(), DeliverError> {
        if !batch.inserted {
            histogram!(BATCH_ROWS).record(batch.num_rows() as f64);
            let outcome = insert_isolating(&self.writer, &self.topic, batch).await?;
            counter!(ROWS_INSERTED_TOTAL).increment(outcome.rows as u64);
            // From here on a retry only redoes the DLQ step, never the insert.
            batch.inserted = true;
            if !batch.rows.is_empty() {
                self.inserts += 1;
                self.hold_if_asked(batch).await;
            }
            // Send in offset order: pop from the back of a descending list.
            let mut dead = std::mem::take(&mut batch.dead);
            dead.extend(outcome.refused);
            dead.sort_by_key(|record| std::cmp::Reverse(record.offset));
            batch.dead = dead;
        }
        while let Some(record) = batch.dead.pop() {
            if let Err(source) = self.dead_letter(batch.partition, &record).await {
                let offset = record.offset;
                batch.dead.push(record);
                return Err(DeliverError::Dlq { offset, source });
            }
        }
        self.commit(batch);
        Ok(())
    }

    /// The crash-window test hook: after the configured insert, writes the marker and never
    /// returns, so nothing after the insert (DLQ, commit) happens until the test kills the
    /// process.
    async fn hold_if_asked(&self, batch: &Batch) {
        let Some(hold) = &self.hooks.hold_after_inserts else {
            return;
        };
        if hold.inserts != self.inserts {
            return;
        }
        let marker = format!(
            "partition={} first_offset={} last_offset={}\n",
            batch.partition, batch.first_offset, batch.last_offset
        );
        if let Err(error) = std::fs::write(&hold.marker, marker) {
            tracing::error!(path = %hold.marker.display(), error = %error, "test hook: marker not written");
        }
        tracing::warn!(
            inserts = self.inserts,
            partition = batch.partition,
            first_offset = batch.first_offset,
            last_offset = batch.last_offset,
            "test hook: holding after an insert, before its commit"
        );
        std::future::pending::<()>().await;
    }

    async fn dead_letter(
        &self,
        partition: i32,
        record: &DeadRecord,
    ) -> Result<(), lintas_kafka::KafkaError> {
        let reason = DlqReason {
            stage: STAGE.to_owned(),
            error_kind: record.kind.to_owned(),
            message: record.message.clone(),
            origin: Some(Origin {
                topic: self.topic.clone(),
                partition,
                offset: record.offset,
            }),
            tenant: record.tenant.clone(),
            source: None,
        };
        self.producer
            .send(&self.dlq_topic, None, &record.payload, reason.to_headers())
            .await?;
        counter!(DLQ_RECORDS_TOTAL, "kind" => record.kind).increment(1);
        tracing::warn!(
            partition,
            offset = record.offset,
            kind = record.kind,
            error = %record.message,
            "record sent to the dlq"
        );
        Ok(())
    }

    fn commit(&self, batch: &Batch) {
        let list = commit_list(&self.topic, batch.partition, batch.last_offset);
        // Storing fails for a partition this member no longer owns: its next owner reads the
        // batch again and ClickHouse deduplicates it.
        if let Err(error) = self.consumer.store_offsets(&list) {
            tracing::warn!(
                partition = batch.partition,
                error = %error,
                "offset not stored, partition no longer assigned"
            );
            return;
        }
        if let Err(error) = self.consumer.commit_consumer_state(CommitMode::Async) {
            tracing::warn!(error = %error, "offset commit not sent, the next commit carries it");
        }
        counter!(BATCHES_COMMITTED_TOTAL).increment(1);
        tracing::debug!(
            partition = batch.partition,
            first_offset = batch.first_offset,
            last_offset = batch.last_offset,
            rows = batch.num_rows(),
            "batch committed"
        );
    }

    fn pause(&mut self) {
        if self.paused {
            return;
        }
        let list = partition_list(&self.topic, self.assigned.iter().copied());
        if let Err(error) = self.consumer.pause(&list) {
            tracing::warn!(error = %error, "could not pause consumption");
        }
        self.paused = true;
        gauge!(PAUSED).set(1.0);
    }

    fn resume(&mut self) {
        if !self.paused {
            return;
        }
        let list = partition_list(&self.topic, self.assigned.iter().copied());
        if let Err(error) = self.consumer.resume(&list) {
            tracing::warn!(error = %error, "could not resume consumption");
        }
        self.paused = false;
        gauge!(PAUSED).set(0.0);
        tracing::info!("clickhouse accepts inserts again, consumption resumed");
    }

    async fn shutdown(mut self) {
        self.health.begin_shutdown();
        self.batcher.close_all();
        let deadline = Instant::now() + SHUTDOWN_DEADLINE;
        tracing::info!(
            rows = self.batcher.buffered_rows(),
            "sink stopping, flushing batches"
        );
        while self.batcher.has_closed() && Instant::now() < deadline {
            if let Some(at) = self.retry_at {
                tokio::time::sleep_until(at.min(deadline)).await;
            }
            self.retry_at = None;
            let delivered = tokio::time::timeout_at(deadline, self.deliver_closed()).await;
            if delivered.is_err() {
                break;
            }
        }
        let left = self.batcher.buffered_rows();
        if left > 0 {
            tracing::warn!(
                rows = left,
                "rows not flushed before the shutdown deadline, they will be read again"
            );
        }
        gauge!(BUFFERED_ROWS).set(left as f64);
        let consumer = self.consumer;
        let closed = tokio::task::spawn_blocking(move || {
            // Waits for the asynchronous commits sent so far; "no offset" when none was
            // stored is not an error.
            if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
                tracing::debug!(error = %error, "final commit");
            }
            drop(consumer);
        });
        match tokio::time::timeout(CLOSE_TIMEOUT, closed).await {
            Ok(_) => tracing::info!("sink stopped"),
            Err(_) => tracing::warn!("kafka consumer did not close in time, leaving it"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(1));
        let delays: Vec<u128> = (0..5).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![200, 400, 800, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(200));
    }
}
