use thiserror::Error;

/// Errors of the Kafka plumbing, classified so callers can pick retry, 503 or DLQ.
#[derive(Debug, Error)]
pub enum KafkaError {
    /// The client could not be created from the configuration (bad property, bad value).
    #[error("kafka client configuration rejected: {0}")]
    Client(#[source] rdkafka::error::KafkaError),
    /// The broker did not acknowledge a record within the delivery timeout, or refused it.
    #[error("kafka did not acknowledge the record on topic {topic}: {source}")]
    Delivery {
        /// The topic written to.
        topic: String,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The local producer queue is full: the broker is slower than intake or unreachable.
    #[error("kafka producer queue is full")]
    QueueFull,
    /// An admin operation (topic creation, metadata) failed.
    #[error("kafka admin operation failed: {0}")]
    Admin(String),
    /// The embedded mock broker could not be started.
    #[error("embedded kafka broker failed to start: {0}")]
    Embedded(String),
}

impl KafkaError {
    /// Whether trying again later may succeed (broker down, queue full, timeouts).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Delivery { .. } | Self::QueueFull => true,
            Self::Client(_) | Self::Admin(_) | Self::Embedded(_) => false,
        }
    }

    /// A stable, low-cardinality code for metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Client(_) => "client",
            Self::Delivery { .. } => "delivery",
            Self::QueueFull => "queue_full",
            Self::Admin(_) => "admin",
            Self::Embedded(_) => "embedded",
        }
    }
}
