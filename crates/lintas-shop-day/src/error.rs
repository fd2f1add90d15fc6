//! The one error type of the crate.

use thiserror::Error;

/// What can go wrong loading, replaying or checking the day.
#[derive(Debug, Error)]
pub enum ShopDayError {
    /// A day file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A day is not valid (TOML, unknown customer, unsupported step...).
    #[error("{origin}: {message}")]
    Invalid {
        /// Which day or step.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A secret the day needs is not configured for the tenant.
    #[error("missing secret: {0}")]
    Secrets(String),
    /// A request could not be signed.
    #[error("signing: {0}")]
    Sign(String),
    /// The gateway could not be reached or answered unreadably.
    #[error("gateway {url}: {message}")]
    Http {
        /// The URL called.
        url: String,
        /// What failed.
        message: String,
    },
    /// ClickHouse could not be queried.
    #[error("clickhouse: {0}")]
    Clickhouse(String),
    /// Kafka could not be read.
    #[error("kafka: {0}")]
    Kafka(String),
    /// A file of expectations could not be written or read.
    #[error("expectations file {path}: {message}")]
    Expectations {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
}
