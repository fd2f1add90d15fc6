//! `lintas-shop-day`: the quickstart's replay tool (`scripts/quickstart.sh`).
//!
//! - `tenant --tenant T`: prints a `[tenants.T]` table with fresh secrets for every source the
//!   day signs for, to append to the gateway's config.
//! - `replay --tenant T --gateway URL --outcomes FILE`: sends the day to the gateway over HTTP
//!   (signed with the tenant's secrets from the config) and writes each event's fate.
//! - `verify --tenant T --outcomes FILE`: waits until every accepted event is a row of
//!   ClickHouse, compares each row with its expectation, counts the tenant's DLQ records and
//!   prints the one-line summary; exits 0 only if everything reconciles.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use lintas_shop_day::verify::{ClickhouseTarget, compare, count_dlq, wait_for_rows};
use lintas_shop_day::{Day, ReplayOptions, TenantSecrets, read_outcomes, replay};

/// Replays the example day of a small shop through a Lintas gateway and checks ClickHouse.
#[derive(Debug, Parser)]
#[command(name = "lintas-shop-day", version, about)]
struct Cli {
    /// Lintas config file (TOML), as the gateway's: tenants, ClickHouse, Kafka.
    #[arg(long, global = true, env = "LINTAS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a tenant table with fresh secrets for every source of the day.
    Tenant {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
    },
    /// Send the day to a gateway and write every event's outcome (JSON lines).
    Replay {
        /// Tenant id (configured in --config).
        #[arg(long)]
        tenant: String,
        /// Gateway base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        gateway: String,
        /// Where to write the outcomes.
        #[arg(long)]
        outcomes: PathBuf,
        /// A day file instead of the built-in examples/shop-day/day.toml.
        #[arg(long)]
        day: Option<PathBuf>,
        /// Print only the totals, not one line per request.
        #[arg(long)]
        quiet: bool,
    },
    /// Wait for the rows, compare them with the outcomes, count the DLQ, print the summary.
    Verify {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// The outcomes `replay` wrote.
        #[arg(long)]
        outcomes: PathBuf,
        /// Longest wait for the rows.
        #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
        wait: Duration,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let load = || {
        lintas_config::load_from_process_env(cli.config.as_deref()).context("invalid configuration")
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Tenant { tenant } => {
            let secrets = lintas_shop_day::tenant::generate_secrets();
            print!(
                "{}",
                lintas_shop_day::tenant::tenant_toml(&tenant, &secrets)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay {
            tenant,
            gateway,
            outcomes,
            day,
            quiet,
        } => {
            let config = load()?;
            let day = match day {
                Some(path) => Day::load(&path)?,
                None => Day::builtin()?,
            };
            let secrets = TenantSecrets::from_config(&config, &tenant)?;
            let options = ReplayOptions {
                base_url: gateway,
                public_base: config.gateway.public_url.as_ref().map(ToString::to_string),
                tenant,
                verbose: !quiet,
                pause: Duration::ZERO,
            };
            let mut stdout = std::io::stdout();
            let report = runtime.block_on(replay(&day, &secrets, &options, &mut stdout))?;
            report.write_outcomes(&outcomes)?;
            let by_source: Vec<String> = report
                .requests_by_source
                .iter()
                .map(|(source, count)| format!("{source} {count}"))
                .collect();
            println!(
                "replayed {} requests in {:.1}s ({}): {} events sent, {} accepted, {} rejected",
                report.requests,
                report.elapsed.as_secs_f64(),
                by_source.join(", "),
                report.events_sent(),
                report.events_accepted(),
                report.events_rejected()
            );
            for outcome in report.outcomes.iter().filter(|outcome| !outcome.accepted) {
                println!(
                    "  rejected: step {} ({} {}): {}",
                    outcome.expected.step,
                    outcome.expected.source,
                    outcome.expected.event_name,
                    outcome.rejection.as_deref().unwrap_or("?")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            tenant,
            outcomes,
            wait,
        } => {
            let config = load()?;
            let outcomes = read_outcomes(&outcomes)?;
            let target = ClickhouseTarget::from_config(&config);
            let started = Instant::now();
            let mut last = usize::MAX;
            let rows = runtime.block_on(wait_for_rows(
                &target,
                &tenant,
                &outcomes,
                wait,
                |found, wanted| {
                    if found != last {
                        println!(
                            "  {found}/{wanted} accepted events queryable ({:.1}s)",
                            started.elapsed().as_secs_f64()
                        );
                        last = found;
                    }
                },
            ))?;
            let verification = compare(&outcomes, &rows);
            for problem in verification
                .missing
                .iter()
                .map(|label| format!("missing: {label}"))
                .chain(
                    verification
                        .duplicated
                        .iter()
                        .map(|label| format!("duplicated: {label}")),
                )
                .chain(verification.field_mismatches.iter().cloned())
                .chain(verification.label_mismatches.iter().cloned())
            {
                println!("  {problem}");
            }
            let dlq = if config.kafka.is_embedded() {
                None
            } else {
                Some(count_dlq(
                    &config.kafka,
                    &config.kafka.bootstrap_servers(),
                    &config.kafka.topic_dlq,
                    &tenant,
                )?)
            };
            let sent = outcomes.len();
            let accepted = outcomes.iter().filter(|outcome| outcome.accepted).count();
            let rows_total = rows.len();
            let dlq_text = dlq.map_or_else(
                || "n/a (embedded broker)".to_owned(),
                |count| count.tenant.to_string(),
            );
            let reconciled = sent == accepted
                && verification.is_exact()
                && rows_total == accepted
                && dlq.is_none_or(|count| count.tenant == 0);
            println!(
                "events sent {sent}, accepted {accepted}, rows in ClickHouse {rows_total}, DLQ {dlq_text}, labels as the day says {}/{}: {}",
                verification.labelled - verification.label_mismatches.len(),
                verification.labelled,
                if reconciled {
                    "reconciled"
                } else {
                    "NOT reconciled"
                }
            );
            Ok(if reconciled {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
