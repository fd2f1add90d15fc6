//! `lintas migrate [--dry-run] [--server-version V]`: create or upgrade the ClickHouse schema.

use clap::Args;
use lintas_clickhouse::{ServerCapabilities, ServerVersion, migrate};
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Print the SQL of every migration instead of running it (no migrations table is read,
    /// so applied ones are printed too).
    #[arg(long)]
    dry_run: bool,
    /// Render for this server version instead of asking the server (`SELECT version()`),
    /// e.g. 18.16.1 for the core schema or 26.9 for the modern one. Needs --dry-run.
    #[arg(long, value_name = "VERSION", requires = "dry_run")]
    server_version: Option<String>,
}

pub(crate) fn run(args: MigrateArgs, path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    if !args.dry_run {
        super::init_logging(&config)?;
    }
    let client = lintas_clickhouse::server_client(&config.clickhouse);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let capabilities = match &args.server_version {
        Some(text) => ServerCapabilities::new(ServerVersion::parse(text)?),
        None => runtime.block_on(detect(&config.clickhouse))?,
    };
    let options = lintas_clickhouse::schema_options(&config, &capabilities);
    if args.dry_run {
        // A closed pipe (`| head`) ends the listing with an error, not a panic.
        let script = lintas_clickhouse::migrate::render_script(&options, &capabilities);
        std::io::stdout().lock().write_all(script.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = runtime.block_on(migrate(&client, &options, &capabilities))?;
    println!("{}", summary(&capabilities, &options.database, &report));
    Ok(ExitCode::SUCCESS)
}

/// Applies the migrations the server lacks: `lintas run --migrate`, the same steps as
/// `lintas migrate`. Returns the one-line summary `lintas migrate` prints.
pub(crate) async fn apply(config: &lintas_config::Config) -> anyhow::Result<String> {
    let client = lintas_clickhouse::server_client(&config.clickhouse);
    let capabilities = detect(&config.clickhouse).await?;
    let options = lintas_clickhouse::schema_options(config, &capabilities);
    let report = migrate(&client, &options, &capabilities).await?;
    Ok(summary(&capabilities, &options.database, &report))
}

/// `SELECT version()` within `clickhouse.request_timeout`. The `clickhouse` client has no
/// request timeout of its own: a port that accepts connections and never answers (a proxy with
/// no backend, the wrong service) hung `lintas migrate` forever. Only this first call is
/// bounded: once a real server answered, a slow DDL (`ON CLUSTER` waiting for replicas) is
/// bounded by the server's own `distributed_ddl_task_timeout`.
async fn detect(config: &lintas_config::ClickhouseConfig) -> anyhow::Result<ServerCapabilities> {
    let client = lintas_clickhouse::server_client(config);
    match tokio::time::timeout(config.request_timeout, ServerCapabilities::detect(&client)).await {
        Ok(detected) => detected.map_err(|error| {
            let described = super::describe_clickhouse_error(&error);
            anyhow::anyhow!("connecting to {}: {described}", config.url)
        }),
        Err(_) => anyhow::bail!(
            "no answer from {} within clickhouse.request_timeout ({}) to SELECT version()",
            config.url,
            humantime::format_duration(config.request_timeout)
        ),
    }
}

fn summary(
    capabilities: &ServerCapabilities,
    database: &str,
    report: &lintas_clickhouse::migrate::MigrationReport,
) -> String {
    format!(
        "server {}, {} schema in database {database}: applied {:?}, already applied {:?}",
        capabilities.version,
        capabilities.schema_variant().as_str(),
        report.applied,
        report.already_applied
    )
}
