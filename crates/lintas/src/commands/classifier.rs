//! `lintas classifier`: the consume-classify-produce role (raw topic to classified topic).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

/// Runs the classifier until SIGTERM or Ctrl-C, then commits the open transaction and stops.
///
/// Serves `/metrics`, `/healthz` and `/readyz` on `telemetry.admin_listen`. Needs
/// `kafka.brokers`: the embedded development broker only runs inside `lintas run`, where every
/// role shares it.
pub(crate) fn run(path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    super::init_logging(&config)?;
    anyhow::ensure!(
        !config.kafka.is_embedded(),
        "kafka.brokers is empty: `lintas classifier` needs a Kafka cluster \
         (set LINTAS__KAFKA__BROKERS); `lintas run` runs every role on the embedded broker"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lintas-classifier")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let metrics = lintas_telemetry::install_metrics_recorder()?;
        let health = lintas_telemetry::Health::new();
        let admin = lintas_telemetry::bind_admin(config.telemetry.admin_listen).await?;
        let router = lintas_telemetry::admin_router(health.clone(), metrics);
        let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin_task = tokio::spawn(admin.serve(router, async {
            admin_stopped.await.ok();
        }));
        let shutdown = lintas_telemetry::shutdown_signal();
        let result = lintas_classifier_service::run(config, health, shutdown).await;
        // The admin server outlives the role so /readyz reports the shutdown until the end.
        stop_admin.send(()).ok();
        match admin_task.await {
            Ok(Err(error)) => tracing::warn!(error = %error, "admin server failed"),
            Err(error) => tracing::warn!(error = %error, "admin server task failed"),
            Ok(Ok(())) => {}
        }
        result.context("classifier failed")
    })?;
    Ok(ExitCode::SUCCESS)
}
