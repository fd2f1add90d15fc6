//! Errors of the sink: [`SinkError`] ends the role, [`InsertError`] classifies one failed insert.

use thiserror::Error;

/// Why the sink could not start or had to stop.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SinkError {
    /// `kafka.brokers` is empty: a standalone sink has nothing to read from the in-process
    /// development broker (`lintas run` passes that broker's address in `kafka.brokers`).
    #[error(
        "kafka.brokers is empty: the sink needs a broker to read {topic} from \
         (set LINTAS__KAFKA__BROKERS, or use `lintas run` for the embedded broker)"
    )]
    NoBrokers {
        /// The topic the sink reads.
        topic: String,
    },
    /// The Kafka consumer could not be created or subscribed.
    #[error("kafka consumer for topic {topic} failed: {source}")]
    Consumer {
        /// The topic the sink reads.
        topic: String,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The cluster's metadata could not be read at start: brokers unreachable or refusing us.
    #[error(
        "cannot read kafka cluster metadata from {bootstrap} within kafka.request_timeout \
         ({timeout}): {message}"
    )]
    Metadata {
        /// The configured bootstrap servers.
        bootstrap: String,
        /// The timeout, as configured.
        timeout: String,
        /// librdkafka's error.
        message: String,
    },
    /// A topic the sink needs is missing.
    #[error("kafka topic {topic} {problem}")]
    Topic {
        /// The topic.
        topic: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The DLQ producer could not be created.
    #[error("kafka dlq producer failed: {0}")]
    Producer(#[from] lintas_kafka::KafkaError),
    /// The ClickHouse client configuration was refused.
    #[error("clickhouse client for {url} could not be configured: {message}")]
    Clickhouse {
        /// The configured URL.
        url: String,
        /// What was wrong.
        message: String,
    },
}

impl SinkError {
    /// A stable, low-cardinality code for logs and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoBrokers { .. } => "no_brokers",
            Self::Consumer { .. } => "consumer",
            Self::Metadata { .. } => "metadata",
            Self::Topic { .. } => "topic",
            Self::Producer(_) => "producer",
            Self::Clickhouse { .. } => "clickhouse",
        }
    }
}

/// A failed `INSERT`, classified for the retry policy.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InsertError {
    /// ClickHouse refused the data itself (a value it cannot parse or store, a failed check):
    /// retrying the same rows fails the same way, so the bad rows are isolated and
    /// dead-lettered.
    #[error("clickhouse rejected the rows (code {code}): {message}")]
    Data {
        /// ClickHouse's exception code.
        code: u32,
        /// The server's message.
        message: String,
    },
    /// ClickHouse is unreachable, slow, overloaded or misconfigured (unknown table, auth):
    /// the same rows may succeed later, so consumption pauses and the insert is retried.
    #[error("clickhouse insert failed ({kind}): {message}")]
    Unavailable {
        /// `network`, `timeout`, `server` (an exception that is not about the data) or
        /// `systemic` (every row of a batch refused: a schema mismatch, not bad rows).
        kind: &'static str,
        /// What happened.
        message: String,
    },
}

impl InsertError {
    /// Label of `lintas_sink_insert_errors_total`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Data { .. } => "data",
            Self::Unavailable { kind, .. } => kind,
        }
    }
}
