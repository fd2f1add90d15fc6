//! One module per subcommand.

pub(crate) mod classifier;
pub(crate) mod config;
pub(crate) mod eval;
pub(crate) mod gateway;
pub(crate) mod migrate;
pub(crate) mod query;
pub(crate) mod rules;
pub(crate) mod run;
pub(crate) mod send;
pub(crate) mod sink;
pub(crate) mod topics;
pub(crate) mod train;

use anyhow::Context as _;
use std::path::Path;

/// Loads and validates the config, or returns an error listing every invalid key.
pub(crate) fn load_config(path: Option<&Path>) -> anyhow::Result<lintas_config::Config> {
    lintas_config::load_from_process_env(path).context("invalid configuration")
}

/// Starts logging as configured; the first thing every long-running command does.
pub(crate) fn init_logging(config: &lintas_config::Config) -> anyhow::Result<()> {
    let format = match config.telemetry.log_format {
        lintas_config::LogFormat::Auto => lintas_telemetry::LogFormat::Auto,
        lintas_config::LogFormat::Pretty => lintas_telemetry::LogFormat::Pretty,
        lintas_config::LogFormat::Json => lintas_telemetry::LogFormat::Json,
    };
    let rust_log = std::env::var(lintas_telemetry::RUST_LOG_ENV).ok();
    // Validate RUST_LOG up front so a typo fails start with the directive named.
    lintas_telemetry::build_env_filter(&config.telemetry.log_level, rust_log.as_deref())?;
    lintas_telemetry::init_tracing(format, &config.telemetry.log_level)?;
    Ok(())
}
