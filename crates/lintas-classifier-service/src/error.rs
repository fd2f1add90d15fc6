//! Errors that stop the classifier service. Bad records never do: they go to the DLQ.

use thiserror::Error;

/// Why `lintas classifier` could not start or had to stop.
#[derive(Debug, Error)]
pub enum ClassifierServiceError {
    /// `kafka.brokers` is empty: the caller must start the embedded broker and pass its address.
    #[error("kafka.brokers is empty: the classifier service needs a broker address")]
    NoBrokers,
    /// The rules or model file could not be loaded.
    #[error("loading the classifier: {0}")]
    Classifier(#[from] lintas_classifier::ClassifierError),
    /// A topic the service reads or writes is missing or has the wrong shape.
    #[error("topic {topic}: {problem}")]
    Topic {
        /// The topic name.
        topic: String,
        /// What is wrong, and what to do.
        problem: String,
    },
    /// A Kafka client could not be created or an operation failed for good.
    #[error("kafka {operation}: {source}")]
    Kafka {
        /// What the service was doing.
        operation: &'static str,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The transactional producer hit a fatal error, e.g. it was fenced by a newer instance with
    /// the same `transactional.id`: this instance must stop so the other one owns the partitions.
    #[error("fatal kafka transaction error during {operation}: {source}")]
    FatalTransaction {
        /// What the service was doing.
        operation: &'static str,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The context of newly assigned partitions could not be restored from the changelog.
    #[error("restoring customer context of partitions {partitions:?} from {topic}: {problem}")]
    Restore {
        /// Changelog topic.
        topic: String,
        /// Partitions being restored.
        partitions: Vec<i32>,
        /// What went wrong.
        problem: String,
    },
    /// The consume loop's thread could not be started or ended abnormally.
    #[error("classifier worker thread: {0}")]
    Worker(String),
}

impl ClassifierServiceError {
    /// A stable, low-cardinality code for logs and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoBrokers => "no_brokers",
            Self::Classifier(_) => "classifier",
            Self::Topic { .. } => "topic",
            Self::Kafka { .. } => "kafka",
            Self::FatalTransaction { .. } => "fatal_transaction",
            Self::Restore { .. } => "restore",
            Self::Worker(_) => "worker",
        }
    }
}
