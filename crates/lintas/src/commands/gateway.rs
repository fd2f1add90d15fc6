//! `lintas gateway`: the HTTP intake role (`POST /v1/events`, `/v1/webhooks/{tenant}/{source}`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

/// Runs the gateway until SIGTERM or Ctrl-C, then drains requests and flushes the producer.
pub(crate) fn run(path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    super::init_logging(&config)?;
    if config.tenants.is_empty() {
        tracing::warn!(
            "no tenants configured: every request will be refused (see [tenants] in the config reference)"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lintas-gateway")
        .build()
        .context("starting the async runtime")?;
    runtime
        .block_on(async {
            let shutdown = lintas_telemetry::shutdown_signal();
            lintas_gateway::run(config, shutdown).await
        })
        .context("gateway failed")?;
    Ok(ExitCode::SUCCESS)
}
