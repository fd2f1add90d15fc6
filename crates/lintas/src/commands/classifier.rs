//! `lintas classifier`: the consume-classify-produce role (raw topic to classified topic).

use std::path::Path;
use std::process::ExitCode;

/// Runs the classifier until SIGTERM or Ctrl-C, then commits the open transaction and stops.
///
/// Serves `/metrics`, `/healthz` and `/readyz` on `telemetry.admin_listen`. Needs
/// `kafka.brokers`: the embedded development broker only runs inside `lintas run`, where every
/// role shares it.
pub(crate) fn run(path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    super::init_logging(&config)?;
    super::require_kafka_cluster(&config, "classifier")?;
    super::serve_consumer_role(config, "classifier", lintas_classifier_service::run)?;
    Ok(ExitCode::SUCCESS)
}
