//! The one error type of this crate.
//!
//! Every variant is a startup or shutdown failure of the role's plumbing (bad log filter, port in
//! use, a foreign metrics recorder): none is retryable by the role itself, so the caller logs it and
//! exits non-zero, and the operator fixes the configuration or the environment.

use std::io;
use std::net::SocketAddr;

use crate::logging::FilterOrigin;

/// Errors raised while setting up or serving telemetry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// A log filter directive could not be parsed.
    #[error(
        "invalid log filter directive `{directive}` in {origin}: {message} \
         (directives look like `info` or `lintas_sink=debug`, separated by commas)"
    )]
    InvalidLogDirective {
        /// The offending directive, trimmed, exactly as the user wrote it.
        directive: String,
        /// Where the directive came from.
        origin: FilterOrigin,
        /// The parser's explanation.
        message: String,
    },

    /// A log format name is not one of `auto`, `pretty`, `json`.
    #[error("invalid log format `{value}`: expected one of `auto`, `pretty`, `json`")]
    InvalidLogFormat {
        /// The rejected value.
        value: String,
    },

    /// A global tracing subscriber (or `log` logger) was already installed in this process.
    ///
    /// [`init_tracing`](crate::init_tracing) returns this on a second call instead of silently
    /// keeping the first configuration; callers that legitimately initialise twice may ignore it.
    #[error("tracing is already initialised in this process: {message}")]
    TracingAlreadyInitialized {
        /// The underlying error's explanation.
        message: String,
    },

    /// The Prometheus recorder could not be built or installed as the global `metrics` recorder,
    /// typically because some other recorder was installed first.
    #[error("cannot install the prometheus metrics recorder: {source}")]
    MetricsRecorder {
        /// The exporter's error.
        #[from]
        source: metrics_exporter_prometheus::BuildError,
    },

    /// A metric name does not follow `lintas_<role>_<subject>_<unit>[_total]`.
    #[error("invalid metric name `{name}`: {reason}")]
    InvalidMetricName {
        /// The rejected name.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// The admin HTTP listener could not bind its address.
    #[error("cannot bind the admin http server to {address}: {source}")]
    Bind {
        /// The requested address.
        address: SocketAddr,
        /// The operating system's error (address in use, permission denied, ...).
        source: io::Error,
    },

    /// The admin HTTP server stopped with an I/O error.
    #[error("admin http server on {address} failed: {source}")]
    Serve {
        /// The bound address.
        address: SocketAddr,
        /// The I/O error that ended the server.
        source: io::Error,
    },
}

impl TelemetryError {
    /// A stable, low-cardinality name for this error, suitable as a metric label or log field.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidLogDirective { .. } => "invalid_log_directive",
            Self::InvalidLogFormat { .. } => "invalid_log_format",
            Self::TracingAlreadyInitialized { .. } => "tracing_already_initialized",
            Self::MetricsRecorder { .. } => "metrics_recorder",
            Self::InvalidMetricName { .. } => "invalid_metric_name",
            Self::Bind { .. } => "bind",
            Self::Serve { .. } => "serve",
        }
    }
}
