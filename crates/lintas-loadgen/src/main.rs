//! `lintas-loadgen`: load for the gateway's `POST /v1/events`, reporting events/s and latency.
//!
//! It posts realistic Segment-style batches ([`generator`]) from a fixed number of concurrent
//! workers ([`runner`]), counts the events the gateway acknowledged in its 202 answers, and prints
//! events/s, requests/s and request latency percentiles ([`report`]). Any answer outside 2xx,
//! or any event the gateway rejected, fails the run (exit 1) with the counts per status and the
//! first answer of each kind, so a broken setup is never mistaken for a slow one.
//!
//! ```text
//! LINTAS_WRITE_KEY=... lintas-loadgen --url http://127.0.0.1:8080 --events 200000 --batch 500 --concurrency 8
//! ```
//!
//! Only for gateways on this machine or a test network: it sends as fast as the gateway answers.

mod generator;
mod report;
mod runner;
mod stats;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::Parser;
use reqwest::Url;

use crate::generator::EventGenerator;
use crate::report::{Report, Setup};
use crate::runner::{PhaseLimits, Target, Workload};

/// Events sent when neither `--events` nor `--duration` is given.
const DEFAULT_EVENTS: u64 = 100_000;
/// The gateway's path for event batches.
const EVENTS_PATH: &str = "/v1/events";

/// Load generator for the Lintas gateway's POST /v1/events.
#[derive(Debug, Parser)]
#[command(name = "lintas-loadgen", version, about, long_about = None)]
struct Args {
    /// Gateway URL. A URL without a path gets /v1/events appended.
    #[arg(
        long,
        env = "LINTAS_GATEWAY_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    url: String,
    /// Write key of the tenant (Authorization: Bearer). Prefer the environment variable: command
    /// lines are visible to other users of the machine.
    #[arg(long, env = "LINTAS_WRITE_KEY", hide_env_values = true)]
    key: String,
    /// Total events to send in the measured phase [default: 100000 unless --duration is given].
    #[arg(long, conflicts_with = "duration", value_parser = clap::value_parser!(u64).range(1..))]
    events: Option<u64>,
    /// Send for this long instead of a fixed count, e.g. `30s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Events per request, at most the gateway's limit of 1000.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=1000))]
    batch: u16,
    /// Requests in flight at once (one per worker).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: u16,
    /// Distinct userIds the events are spread over (Kafka keys are tenant + customer).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    customers: u64,
    /// Sending before the measurement starts, not counted (connections, producer metadata).
    /// `0s` disables it.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// Client runtime threads. One keeps up with hundreds of 500-event requests per second and
    /// leaves the other cores to the gateway and the broker under test.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// Longest wait for one answer, e.g. `30s`; a request that takes longer counts as failed.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Stop early after this many failed requests.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    max_failed_requests: u64,
    /// Percentage of events with text that carry `properties.language`; the gateway detects the
    /// language of the others, which costs more CPU than the rest of the mapping.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    language_percent: u8,
    /// Seed of the event mix (the ids are unique per run whatever the seed).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let target = Target {
        endpoint: endpoint_url(&args.url)?,
        write_key: args.key.clone(),
    };
    let setup = Setup {
        endpoint: target.endpoint.to_string(),
        batch_size: args.batch,
        concurrency: args.concurrency,
        customers: args.customers,
        client_threads: usize::from(args.threads),
        warmup_secs: args.warmup.as_secs_f64(),
        language_percent: args.language_percent,
    };
    let limits = PhaseLimits {
        concurrency: usize::from(args.concurrency),
        max_failed_requests: args.max_failed_requests,
    };
    let batch_size = usize::from(args.batch);
    // A UUIDv7 is unique per run without coordination, so ids never repeat across runs either.
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let generator = EventGenerator::new(&run_id, args.seed, args.customers)
        .with_language_percent(args.language_percent);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.threads))
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let client = runner::client(limits.concurrency, args.timeout)?;

    if !args.warmup.is_zero() {
        let warmup = Workload::Timed {
            // Another stream of choices than the measured phase; the id sequence is shared.
            generator: generator.fork(u64::MAX),
            batch_size,
            duration: args.warmup,
        };
        let outcome = runtime.block_on(runner::run_phase(
            client.clone(),
            target.clone(),
            warmup,
            limits,
        ));
        let report = Report::new(
            setup.clone(),
            &outcome.tally,
            outcome.elapsed,
            outcome.aborted,
        );
        eprintln!(
            "warm-up: {} requests, {} events accepted in {:.1} s",
            report.requests, report.events_accepted, report.elapsed_secs
        );
        if let Some(failure) = report.failure() {
            eprint!("warm-up {failure}");
            return Ok(ExitCode::FAILURE);
        }
    }

    let workload = match args.duration {
        Some(duration) => Workload::Timed {
            generator,
            batch_size,
            duration,
        },
        None => prepare(generator, args.events.unwrap_or(DEFAULT_EVENTS), batch_size)?,
    };
    let outcome = runtime.block_on(runner::run_phase(client, target, workload, limits));
    let report = Report::new(setup, &outcome.tally, outcome.elapsed, outcome.aborted);
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).context("serializing the report")?
        );
    } else {
        print!("{}", report.summary());
    }
    match report.failure() {
        Some(failure) => {
            eprint!("{failure}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The bodies of `num_events` events in batches of `batch_size`, generated before the clock
/// starts so JSON encoding on the client does not take CPU from the gateway being measured.
fn prepare(
    mut generator: EventGenerator,
    num_events: u64,
    batch_size: usize,
) -> anyhow::Result<Workload> {
    let started = Instant::now();
    let batch = u64::try_from(batch_size).context("batch size")?;
    let mut bodies = Vec::new();
    let mut num_bytes = 0usize;
    let mut remaining = num_events;
    while remaining > 0 {
        let num_in_batch = remaining.min(batch);
        let size = usize::try_from(num_in_batch).context("batch size")?;
        let body = generator.batch_body(size, Utc::now());
        num_bytes += body.len();
        bodies.push((body, num_in_batch));
        remaining -= num_in_batch;
    }
    eprintln!(
        "generated {num_events} events in {} requests ({:.1} MiB) in {:.1} s",
        bodies.len(),
        num_bytes as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    Ok(Workload::Prepared(Arc::new(bodies)))
}

/// The `POST /v1/events` URL for `--url`: as given when it has a path, else with /v1/events.
fn endpoint_url(url: &str) -> anyhow::Result<Url> {
    let mut parsed = Url::parse(url).with_context(|| format!("--url {url:?} is not a URL"))?;
    if parsed.scheme() != "http" {
        // No TLS client is built in: TLS would spend the cores the gateway is measured on.
        bail!("--url {url:?} must be an http:// URL (plain HTTP to a gateway on this machine)");
    }
    if parsed.path() == "/" || parsed.path().is_empty() {
        parsed.set_path(EVENTS_PATH);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_the_events_path_and_a_full_url_is_kept() {
        let endpoint = |url| endpoint_url(url).expect("valid").to_string();
        assert_eq!(
            endpoint("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/v1/events"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/v1/events"
        );
        assert_eq!(
            endpoint("http://gw:9000/custom/events"),
            "http://gw:9000/custom/events"
        );
        assert!(endpoint_url("127.0.0.1:8080").is_err());
        assert!(endpoint_url("https://127.0.0.1/").is_err());
    }

    #[test]
    fn preparing_splits_the_events_into_batches_with_a_short_last_one() {
        let generator = EventGenerator::new("run", 1, 10);
        let Workload::Prepared(bodies) = prepare(generator, 1_050, 500).expect("prepared") else {
            panic!("a fixed count is prepared ahead");
        };
        let sizes: Vec<u64> = bodies.iter().map(|(_, size)| *size).collect();
        assert_eq!(sizes, [500, 500, 50]);
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        Args::command().debug_assert();
    }
}
