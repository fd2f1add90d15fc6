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
    // The config errors say "invalid configuration" or "cannot load configuration" themselves.
    let config = lintas_config::load_from_process_env(path)?;
    // Validation does no I/O; librdkafka's own message for a missing CA file names neither the
    // key nor the path ("ssl.ca.location failed: error:05880002:x509 certificate routines").
    if let Some(ca) = &config.kafka.ssl_ca_location {
        std::fs::File::open(ca).with_context(|| {
            format!(
                "kafka.ssl_ca_location {}: cannot read the CA certificate",
                ca.display()
            )
        })?;
    }
    Ok(config)
}

/// A ClickHouse client error with its causes, plus what to do about it when the error alone
/// does not say it.
pub(crate) fn describe_clickhouse_error(error: &(dyn std::error::Error + 'static)) -> String {
    let chain = lintas_telemetry::error_chain(error);
    let hint = clickhouse_hint(&chain);
    format!("{chain}{hint}")
}

fn clickhouse_hint(chain: &str) -> &'static str {
    if chain.contains("invalid peer certificate") {
        " (a server certificate from a private CA: set SSL_CERT_FILE to the CA's PEM file)"
    } else if chain.contains("InvalidContentType") || chain.contains("corrupt message") {
        " (an https:// URL on a port that speaks plain http? use the server's https_port)"
    } else if chain.contains("Code: 81") {
        " (run `lintas migrate` to create the database)"
    } else {
        ""
    }
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

/// Refuses the embedded broker for a role that runs on its own: the mock cluster lives in one
/// process, so only `lintas run` can share it between roles.
pub(crate) fn require_kafka_cluster(
    config: &lintas_config::Config,
    role: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !config.kafka.is_embedded(),
        "kafka.brokers is empty: `lintas {role}` needs a Kafka cluster \
         (set LINTAS__KAFKA__BROKERS); `lintas run` runs every role on the embedded broker"
    );
    Ok(())
}

/// Runs a Kafka consumer role (classifier, sink) on its own runtime until SIGTERM or Ctrl-C,
/// with `/metrics`, `/healthz` and `/readyz` served on `telemetry.admin_listen`.
pub(crate) fn serve_consumer_role<F, Fut, E>(
    config: lintas_config::Config,
    role: &'static str,
    run: F,
) -> anyhow::Result<()>
where
    F: FnOnce(
        lintas_config::Config,
        lintas_telemetry::Health,
        std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    ) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(format!("lintas-{role}"))
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
        let result = run(
            config,
            health,
            Box::pin(lintas_telemetry::shutdown_signal()),
        )
        .await;
        // The admin server outlives the role so /readyz reports the shutdown until the end.
        stop_admin.send(()).ok();
        match admin_task.await {
            Ok(Err(error)) => tracing::warn!(error = %error, "admin server failed"),
            Err(error) => tracing::warn!(error = %error, "admin server task failed"),
            Ok(Ok(())) => {}
        }
        result.with_context(|| format!("{role} failed"))
    })
}
