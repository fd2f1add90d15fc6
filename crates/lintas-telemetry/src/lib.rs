//! Logging, Prometheus metrics, health and the admin HTTP endpoints shared by every Lintas role.
//!
//! Every role (`gateway`, `classifier`, `sink`, or all of them in `lintas run`) starts the same way:
//!
//! ```no_run
//! # async fn start() -> Result<(), lintas_telemetry::TelemetryError> {
//! use lintas_telemetry::{Health, LogFormat};
//!
//! lintas_telemetry::init_tracing(LogFormat::Auto, "info")?;
//! let metrics = lintas_telemetry::install_metrics_recorder()?;
//! let health = Health::new();
//! health.register("kafka");
//!
//! let router = lintas_telemetry::admin_router(health.clone(), metrics);
//! let shutdown = lintas_telemetry::shutdown_signal();
//! lintas_telemetry::serve_admin("0.0.0.0:9090".parse().expect("valid address"), router, shutdown)
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//!
//! - **Logs** go to stderr, as JSON (one object per line, event fields flattened to the top level,
//!   RFC 3339 UTC timestamps) unless stderr is a terminal. `RUST_LOG` replaces the configured level
//!   entirely when it is set and non-empty; an invalid directive is an error that names it, never a
//!   silently ignored line.
//! - **Metrics** use one global Prometheus recorder per process. [`install_metrics_recorder`] may be
//!   called any number of times (by tests, by each role in `lintas run`) and always returns a handle
//!   to that same recorder.
//! - **Readiness** (`/readyz`) is true only when every registered component is ready and shutdown
//!   has not begun. [`Health::begin_shutdown`] flips it to 503 at once so Kubernetes stops routing
//!   while the role drains; **liveness** (`/healthz`) stays 200 until the process exits.
//!
//! # Conventions
//!
//! - Log messages are lowercase without a final period; context goes into structured fields, and an
//!   error goes into a field named `error` (`error = %error`).
//! - Metric names follow `lintas_<role>_<subject>_<unit>[_total]` with seconds as the only time
//!   unit; see [`metric_names`] and [`check_metric_name`].
#![deny(missing_docs)]

mod admin;
mod chain;
mod error;
mod health;
mod logging;
mod metrics;
mod signal;

pub use crate::admin::{
    AdminListener, METRICS_CONTENT_TYPE, admin_router, bind_admin, serve_admin,
};
pub use crate::chain::error_chain;
pub use crate::error::TelemetryError;
pub use crate::health::{ComponentStatus, Health, HealthSnapshot};
pub use crate::logging::{
    FilterOrigin, LogFormat, RUST_LOG_ENV, build_env_filter, init_test_tracing, init_tracing,
};
pub use crate::metrics::{
    MetricKind, check_metric_name, describe_metrics, install_metrics_recorder, metric_names,
};
pub use crate::signal::shutdown_signal;

/// Re-exported so roles name the handle type without depending on the exporter crate directly.
pub use metrics_exporter_prometheus::PrometheusHandle;
