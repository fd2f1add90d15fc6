//! Restoring the customer contexts of newly assigned partitions from the compacted changelog.
//!
//! For each raw partition N, changelog partition N is read `read_committed` from the beginning
//! to its end, all assigned partitions at once with one reader. Records of aborted transactions
//! are never seen, so the state is exactly what the committed transactions wrote, consistent with
//! the input offsets they committed.
//!
//! Before reading, the restore waits until no transaction that had written to the partition is
//! still open (its last stable offset has reached the high watermark seen at the start). A
//! transaction of the partition's previous owner may be committing right now (its markers are
//! written after `commit_transaction` returned) or be open in a dead instance until the broker
//! aborts it (`classifier.transaction_timeout`); reading up to the last stable offset alone could
//! then miss context updates whose input offsets are committed, and those updates would be lost.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext, Message as _, Offset, TopicPartitionList};

use crate::context_store::{PartitionContexts, apply_changelog_record};
use crate::error::ClassifierServiceError;

/// Poll timeout of the reader, and the wait between two checks for open transactions.
const POLL_STEP: Duration = Duration::from_millis(100);

/// Client configs of the restore: the reader and the probe of the high watermarks.
#[derive(Debug, Clone)]
pub(crate) struct RestoreConfig {
    /// `read_committed`: its watermark queries answer the last stable offset.
    reader: ClientConfig,
    /// `read_uncommitted`: its watermark queries answer the high watermark.
    probe: ClientConfig,
}

/// The restore's clients: no group membership, no commits, and an end-of-partition event.
pub(crate) fn restore_config(kafka: &lintas_config::KafkaConfig, bootstrap: &str) -> RestoreConfig {
    let mut reader = lintas_kafka::client::base_config(kafka, bootstrap);
    reader
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        // The end of a partition is reported after an empty fetch: a short wait keeps a restore
        // of a small changelog from costing the default 500 ms.
        .set("fetch.wait.max.ms", "50")
        // librdkafka wants a group id for some internal paths even for assign()-only consumers;
        // it is never joined or committed to.
        .set("group.id", "lintas-classifier-restore");
    let mut probe = reader.clone();
    probe.set("isolation.level", "read_uncommitted");
    RestoreConfig { reader, probe }
}

/// Reader context: librdkafka also reports each end of partition as a global error, which the
/// default context would log at error level; here it is the expected way a restore ends.
struct RestoreContext;

impl ClientContext for RestoreContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::PartitionEOF)
        ) {
            return;
        }
        tracing::warn!(error = %error, reason, "changelog reader error");
    }
}

impl ConsumerContext for RestoreContext {}

/// Reads changelog `topic` partitions `partitions` into memory.
///
/// `deadline` bounds the whole restore; it should exceed `classifier.transaction_timeout`, the
/// longest a dead instance's transaction can hold a partition's last stable offset back.
pub(crate) fn restore_partitions(
    config: &RestoreConfig,
    topic: &str,
    partitions: &[i32],
    deadline: Duration,
) -> Result<BTreeMap<i32, PartitionContexts>, ClassifierServiceError> {
    let started = Instant::now();
    let error = |problem: String| ClassifierServiceError::Restore {
        topic: topic.to_owned(),
        partitions: partitions.to_vec(),
        problem,
    };
    let reader: BaseConsumer<RestoreContext> = config
        .reader
        .create_with_context(RestoreContext)
        .map_err(|source| error(format!("creating the reader: {source}")))?;
    let probe: BaseConsumer<RestoreContext> = config
        .probe
        .create_with_context(RestoreContext)
        .map_err(|source| error(format!("creating the watermark probe: {source}")))?;
    let mut restored: BTreeMap<i32, PartitionContexts> = partitions
        .iter()
        .map(|partition| (*partition, PartitionContexts::new()))
        .collect();
    let mut assignment = TopicPartitionList::new();
    for partition in partitions {
        let remaining = deadline.saturating_sub(started.elapsed());
        let (low, high) = probe
            .fetch_watermarks(topic, *partition, remaining)
            .map_err(|source| {
                error(format!(
                    "reading watermarks of partition {partition}: {source}"
                ))
            })?;
        if high <= low {
            continue;
        }
        wait_until_stable(&reader, topic, *partition, high, started, deadline)
            .map_err(|problem| error(format!("partition {partition}: {problem}")))?;
        assignment
            .add_partition_offset(topic, *partition, Offset::Beginning)
            .map_err(|source| error(format!("assigning: {source}")))?;
    }
    let mut reading: HashMap<i32, u64> = assignment
        .elements()
        .iter()
        .map(|element| (element.partition(), 0))
        .collect();
    if !reading.is_empty() {
        reader
            .assign(&assignment)
            .map_err(|source| error(format!("assigning: {source}")))?;
    }
    let mut records: u64 = 0;
    while !reading.is_empty() {
        if started.elapsed() >= deadline {
            return Err(error(format!(
                "partitions {:?} not read to their end after {deadline:?} ({records} records read)",
                reading.keys().collect::<Vec<_>>()
            )));
        }
        match reader.poll(POLL_STEP) {
            None => {}
            Some(Ok(message)) => {
                records += 1;
                let partition = message.partition();
                // Records without a key are not ours; skip rather than fail the whole restore.
                let key = message.key().and_then(|key| std::str::from_utf8(key).ok());
                if let (Some(key), Some(contexts)) = (key, restored.get_mut(&partition)) {
                    // The service writes a removal as a null value; an empty one means the same.
                    let value = message.payload().filter(|value| !value.is_empty());
                    apply_changelog_record(contexts, key, value).map_err(|source| {
                        error(format!(
                            "partition {partition} offset {}: value is not a customer context: \
                             {source}",
                            message.offset()
                        ))
                    })?;
                }
            }
            // With read_committed the end is the last stable offset, which wait_until_stable
            // made at least the high watermark seen at the start: everything committed before
            // this restore began has been read.
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                reading.remove(&partition);
            }
            Some(Err(source)) => {
                if !is_transient(&source) {
                    return Err(error(format!("reading: {source}")));
                }
                tracing::warn!(topic, error = %source, "changelog read failed, retrying");
            }
        }
    }
    tracing::info!(
        topic,
        partitions = ?partitions,
        records,
        customers = restored.values().map(HashMap::len).sum::<usize>(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "customer context restored from changelog"
    );
    Ok(restored)
}

/// Waits until the last stable offset of `partition` reaches `high`: every transaction that had
/// written to it before the restore began is committed or aborted.
fn wait_until_stable(
    reader: &BaseConsumer<RestoreContext>,
    topic: &str,
    partition: i32,
    high: i64,
    started: Instant,
    deadline: Duration,
) -> Result<(), String> {
    let mut logged = false;
    loop {
        let remaining = deadline.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            return Err(format!(
                "a transaction is still open below offset {high} after {deadline:?}"
            ));
        }
        let (_, stable) = reader
            .fetch_watermarks(topic, partition, remaining)
            .map_err(|source| format!("reading the last stable offset: {source}"))?;
        if stable >= high {
            return Ok(());
        }
        if !logged {
            tracing::info!(
                topic,
                partition,
                last_stable_offset = stable,
                high_watermark = high,
                "waiting for an open transaction on the changelog to end"
            );
            logged = true;
        }
        std::thread::sleep(POLL_STEP.min(remaining));
    }
}

fn is_transient(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown)
    )
}
