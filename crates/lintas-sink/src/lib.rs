//! The sink: classified interactions from Kafka into ClickHouse's `interactions` table.
//!
//! # Guarantees
//!
//! - **At least once into the table, exactly once in query results.** Offsets are stored and
//!   committed only after ClickHouse accepted a batch (and its dead records were acknowledged
//!   by the DLQ topic). A crash between insert and commit re-reads the batch; ClickHouse drops
//!   the repeated insert by its `insert_deduplication_token` where the server supports it
//!   (22.2+, with the modern schema's deduplication window), and `interactions` is a
//!   `ReplacingMergeTree` keyed on `event_id`, so queries with `FINAL` (every query of the pack)
//!   see each event once on every server, 18.16 included.
//! - **Deterministic batches.** Per partition, a batch is a contiguous offset range closed by
//!   `sink.batch_max_rows` records or `sink.batch_max_bytes` encoded bytes, so a re-read range
//!   is cut the same way and carries the same token ([`batch`](crate) module docs). Batches
//!   closed early by `sink.batch_max_wait` are the exception, covered by `FINAL`.
//! - **Kafka is the buffer.** When ClickHouse is unreachable, slow or failing, consumption of
//!   every assigned partition is paused and the batch retried with capped exponential backoff
//!   (`sink.retry_initial_backoff` .. `sink.retry_max_backoff`); the consumer keeps polling, so
//!   it stays in its group. At most the batches open or closed when the pause began stay in
//!   memory (`lintas_sink_buffered_rows`).
//! - **Poison never blocks a partition.** Undecodable or invalid records, and rows ClickHouse
//!   refuses as data (found by bisecting the batch), go to the DLQ topic with stage `sink`, the
//!   error kind, the server's message and the origin offset; the rest of the batch lands.
//! - **Rebalance:** batches of revoked partitions are dropped uncommitted; the next owner reads
//!   them again from the committed offset, cut into the same batches.
//! - **Shutdown:** on the shutdown future, open batches are flushed and committed within
//!   20 seconds, then the consumer leaves the group.
#![deny(missing_docs)]

mod batch;
mod consumer;
mod error;
mod lag;
pub mod metrics;
mod record;
mod service;
mod writer;

use std::collections::BTreeSet;
use std::future::Future;

use lintas_clickhouse::ServerCapabilities;
use lintas_config::Config;
use lintas_kafka::EventProducer;
use lintas_telemetry::Health;

pub use crate::error::{InsertError, SinkError};

/// The sink's per-record and per-batch work, for the throughput benchmark
/// (`benches/encode_insert.rs`); not a stable API.
#[doc(hidden)]
pub mod bench_api {
    use std::time::Duration;

    use lintas_clickhouse::ServerCapabilities;

    use crate::error::InsertError;
    use crate::writer::{ClickhouseWriter, RowWriter as _};

    /// Decodes, validates and encodes one Kafka record as the sink does; `false` when it
    /// would go to the DLQ.
    pub fn encode_record(
        payload: &[u8],
        topic: &str,
        partition: i32,
        offset: i64,
        out: &mut Vec<u8>,
    ) -> bool {
        crate::record::encode_record(Some(payload), topic, partition, offset, out).is_ok()
    }

    /// Inserts encoded rows into `database.interactions` as the sink does (LZ4, chunked).
    pub async fn insert(
        client: clickhouse::Client,
        database: &str,
        capabilities: ServerCapabilities,
        data: &[u8],
        rows: usize,
    ) -> Result<(), InsertError> {
        let writer = ClickhouseWriter::new(
            client,
            lintas_clickhouse::insert_sql(database, lintas_clickhouse::INTERACTIONS_TABLE),
            Duration::from_secs(60),
            capabilities,
        );
        writer.insert(data, rows, None).await
    }
}
use crate::service::{Backoff, CLICKHOUSE_COMPONENT, Hooks, Sink};
use crate::writer::ClickhouseWriter;

/// Environment variable of the crash-window test hook: the number of inserts after which the
/// sink holds (see [`SinkOptions::hold_after_inserts`]).
pub const HOLD_AFTER_INSERTS_ENV: &str = "LINTAS_SINK_TEST_HOLD_AFTER_INSERTS";
/// Environment variable naming the marker file the held sink writes.
pub const HOLD_MARKER_ENV: &str = "LINTAS_SINK_TEST_HOLD_MARKER";

/// **Test only.** Where the sink stops between an insert and its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldAfterInserts {
    /// Hold right after this many successful batch inserts, before the last one's offsets are
    /// stored or committed.
    pub inserts: u64,
    /// Written (with the batch's partition and offsets) once the sink holds, so a test knows
    /// the process is inside the window and can kill it with SIGKILL.
    pub marker: std::path::PathBuf,
}

/// Options beyond the configuration. The default is what production runs.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// **Test only.** Stop the batch loop for good right after an insert and before its
    /// commit, and say so in a marker file: the crash test (`tests/sink_crash.rs`) then kills
    /// the process with SIGKILL, deterministically inside the insert-to-commit window. `lintas
    /// sink` reads it from [`HOLD_AFTER_INSERTS_ENV`] and [`HOLD_MARKER_ENV`].
    pub hold_after_inserts: Option<HoldAfterInserts>,
}

/// Runs the sink of `config` until `shutdown` resolves: the `lintas sink` command and the sink
/// of `lintas run`. Registers the `clickhouse` component in `health` and the sink's metrics
/// with the installed recorder.
///
/// # Errors
///
/// [`SinkError`] if the consumer or the DLQ producer cannot be created. ClickHouse being
/// unreachable is not an error: the sink waits for it, not ready, until shutdown.
pub async fn run<F>(config: Config, health: Health, shutdown: F) -> Result<(), SinkError>
where
    F: Future<Output = ()> + Send + 'static,
{
    run_with_options(config, health, shutdown, SinkOptions::default()).await
}

/// [`run`] with [`SinkOptions`].
///
/// # Errors
///
/// As [`run`].
pub async fn run_with_options<F>(
    config: Config,
    health: Health,
    shutdown: F,
    options: SinkOptions,
) -> Result<(), SinkError>
where
    F: Future<Output = ()> + Send + 'static,
{
    metrics::describe_metrics();
    health.register(CLICKHOUSE_COMPONENT);
    health.register(service::CONSUMER_COMPONENT);
    let mut shutdown = Box::pin(shutdown);

    let client = lintas_clickhouse::client(&config.clickhouse);
    let mut backoff = Backoff::new(
        config.sink.retry_initial_backoff,
        config.sink.retry_max_backoff,
    );
    // Capabilities decide the insert settings, so nothing is consumed before they are known.
    let capabilities = loop {
        match ServerCapabilities::detect(&client).await {
            Ok(capabilities) => break capabilities,
            Err(error) => {
                let delay = backoff.next_delay();
                let reason = lintas_telemetry::error_chain(&error);
                tracing::warn!(
                    url = %config.clickhouse.url,
                    error = %reason,
                    retry_in = ?delay,
                    "clickhouse unreachable, waiting for it"
                );
                health.set_ready(CLICKHOUSE_COMPONENT, false, Some(reason));
                tokio::select! {
                    () = &mut shutdown => {
                        health.begin_shutdown();
                        return Ok(());
                    }
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    };
    backoff.reset();
    health.set_ready(
        CLICKHOUSE_COMPONENT,
        true,
        Some(format!("server {}", capabilities.version)),
    );
    tracing::info!(
        version = %capabilities.version,
        dedup_tokens = capabilities.supports_insert_deduplication_token(),
        "clickhouse connected"
    );

    let writer = ClickhouseWriter::new(
        client,
        lintas_clickhouse::insert_sql(
            &config.clickhouse.database,
            lintas_clickhouse::INTERACTIONS_TABLE,
        ),
        config.clickhouse.request_timeout,
        capabilities,
    );
    let producer = EventProducer::try_new(&lintas_kafka::producer_config(
        &config.kafka,
        &config.kafka.bootstrap_servers(),
    ))?;
    check_topics(&config).await?;
    let (consumer, context) = consumer::subscribe(&config)?;
    health.set_ready(
        service::CONSUMER_COMPONENT,
        false,
        Some(format!("joining consumer group {}", config.sink.group_id)),
    );
    let limits = batch::BatchLimits {
        max_records: config.sink.batch_max_rows.get(),
        max_bytes: config.sink.batch_max_bytes.get(),
    };
    let sink = Sink {
        topic: config.kafka.topic_classified.clone(),
        dlq_topic: config.kafka.topic_dlq.clone(),
        consumer: std::sync::Arc::new(consumer),
        context,
        producer,
        writer,
        batcher: batch::Batcher::new(limits),
        max_wait: config.sink.batch_max_wait,
        backoff,
        health,
        hooks: Hooks {
            hold_after_inserts: options.hold_after_inserts,
        },
        ends: lag::Ends::default(),
        assigned: BTreeSet::new(),
        paused: false,
        retry_at: None,
        inserts: 0,
        scratch: Vec::new(),
        kafka_errors: lintas_kafka::ErrorThrottle::default(),
    };
    sink.run(shutdown).await;
    Ok(())
}

/// Refuses to start when the topic to read or the DLQ topic is missing: librdkafka would
/// otherwise wait for the topic forever, reporting an error a second, while `/readyz` said
/// nothing was wrong. Also the first sign of an unreachable broker, named with its address.
async fn check_topics(config: &Config) -> Result<(), SinkError> {
    let kafka = &config.kafka;
    if kafka.is_embedded() {
        return Err(SinkError::NoBrokers {
            topic: kafka.topic_classified.clone(),
        });
    }
    let bootstrap = kafka.bootstrap_servers();
    let admin = lintas_kafka::client::base_config(kafka, &bootstrap);
    let timeout = kafka.request_timeout;
    let counts = tokio::task::spawn_blocking(move || {
        lintas_kafka::topics::partition_counts(&admin, timeout)
    })
    .await
    .map_err(|error| error.to_string())
    .and_then(|counts| counts.map_err(|error| error.to_string()))
    .map_err(|message| SinkError::Metadata {
        bootstrap: bootstrap.clone(),
        timeout: humantime::format_duration(timeout).to_string(),
        message,
    })?;
    for topic in [&kafka.topic_classified, &kafka.topic_dlq] {
        if !counts.iter().any(|(name, _)| name == topic) {
            return Err(SinkError::Topic {
                topic: topic.clone(),
                problem: format!(
                    "does not exist on {bootstrap}; create the declared topics with `lintas \
                     topics apply`"
                ),
            });
        }
    }
    Ok(())
}
