//! `lintas sink`: the Kafka -> ClickHouse role (classified topic into `interactions`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

/// Runs the sink until SIGTERM or Ctrl-C, then flushes and commits its batches and stops.
///
/// Serves `/metrics`, `/healthz` and `/readyz` on `telemetry.admin_listen`. Needs
/// `kafka.brokers` and a migrated ClickHouse database (`lintas migrate`).
pub(crate) fn run(path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    super::init_logging(&config)?;
    super::require_kafka_cluster(&config, "sink")?;
    let options = test_options()?;
    super::serve_consumer_role(config, "sink", |config, health, shutdown| {
        lintas_sink::run_with_options(config, health, shutdown, options)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Test-only options from the environment: `LINTAS_SINK_TEST_HOLD_AFTER_INSERTS=k` with
/// `LINTAS_SINK_TEST_HOLD_MARKER=path` stops the batch loop right after its k-th insert, before
/// committing, and writes the marker file (the crash test then kills the process with
/// SIGKILL). Not configuration: nothing in production sets them, and a warning says so when
/// they are set.
fn test_options() -> anyhow::Result<lintas_sink::SinkOptions> {
    let mut options = lintas_sink::SinkOptions::default();
    let Ok(value) = std::env::var(lintas_sink::HOLD_AFTER_INSERTS_ENV) else {
        return Ok(options);
    };
    let inserts: u64 = value
        .trim()
        .parse()
        .ok()
        .filter(|inserts| *inserts > 0)
        .with_context(|| {
            format!(
                "{}={value:?}: expected a positive number of inserts",
                lintas_sink::HOLD_AFTER_INSERTS_ENV
            )
        })?;
    let marker = std::env::var_os(lintas_sink::HOLD_MARKER_ENV).with_context(|| {
        format!(
            "{} is set but {} is not: the held sink needs a marker file path",
            lintas_sink::HOLD_AFTER_INSERTS_ENV,
            lintas_sink::HOLD_MARKER_ENV
        )
    })?;
    tracing::warn!(
        inserts,
        marker = ?marker,
        "test hook set: the sink holds after this many inserts, before committing"
    );
    options.hold_after_inserts = Some(lintas_sink::HoldAfterInserts {
        inserts,
        marker: marker.into(),
    });
    Ok(options)
}
