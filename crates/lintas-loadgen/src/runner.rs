//! Sends batches to `POST /v1/events` from `concurrency` workers and tallies the answers.
//!
//! A worker sends one request at a time and waits for the whole answer, so `concurrency` is the
//! number of requests in flight (closed loop): the gateway's latency sets the rate, and an
//! overloaded gateway shows as latency, not as an ever-growing client queue.
//!
//! Nothing is retried: a 429 or 503 is the measurement saying the gateway is saturated, so it is
//! counted and reported. After `max_failed_requests` failures the run stops early instead of
//! hammering a misconfigured gateway for the whole run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use chrono::Utc;
use reqwest::{Client, Url, header};
use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio::task::JoinSet;

use crate::generator::EventGenerator;
use crate::stats::Tally;

/// Where and how to send.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The `POST /v1/events` URL.
    pub(crate) endpoint: Url,
    /// `Authorization: Bearer` value.
    pub(crate) write_key: String,
}

/// What one phase sends.
#[derive(Debug, Clone)]
pub(crate) enum Workload {
    /// These bodies, each once, with their event counts: generated before the clock starts so
    /// the measurement spends no client CPU on JSON.
    Prepared(Arc<Vec<(Bytes, u64)>>),
    /// Batches of `batch_size` generated per request until `duration` has passed.
    Timed {
        generator: EventGenerator,
        batch_size: usize,
        duration: Duration,
    },
}

/// How many workers, and when to give up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PhaseLimits {
    pub(crate) concurrency: usize,
    pub(crate) max_failed_requests: u64,
}

/// The result of one phase.
#[derive(Debug)]
pub(crate) struct PhaseOutcome {
    pub(crate) tally: Tally,
    /// From the first request to the last answer.
    pub(crate) elapsed: Duration,
    /// Whether the phase stopped early at `max_failed_requests`.
    pub(crate) aborted: bool,
}

/// The 202 answer, reduced to what is counted.
#[derive(Debug, Deserialize)]
struct BatchAnswer {
    accepted: Vec<IgnoredAny>,
    #[serde(default)]
    rejected: Vec<RejectionAnswer>,
}

#[derive(Debug, Deserialize)]
struct RejectionAnswer {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// State shared by the workers of one phase.
#[derive(Debug)]
struct Shared {
    client: Client,
    target: Target,
    next_batch: AtomicUsize,
    num_failed: AtomicU64,
    abort: AtomicBool,
    max_failed_requests: u64,
}

/// A client for `concurrency` connections to a gateway on this machine.
pub(crate) fn client(concurrency: usize, timeout: Duration) -> anyhow::Result<Client> {
    Client::builder()
        // A proxy from the environment must not sit between the load and a loopback gateway.
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(concurrency)
        .timeout(timeout)
        .build()
        .context("building the HTTP client")
}

/// Runs one phase to its end (all bodies sent, or the duration passed, or too many failures).
pub(crate) async fn run_phase(
    client: Client,
    target: Target,
    workload: Workload,
    limits: PhaseLimits,
) -> PhaseOutcome {
    let shared = Arc::new(Shared {
        client,
        target,
        next_batch: AtomicUsize::new(0),
        num_failed: AtomicU64::new(0),
        abort: AtomicBool::new(false),
        max_failed_requests: limits.max_failed_requests,
    });
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for worker in 0..limits.concurrency.max(1) {
        let shared = Arc::clone(&shared);
        let source = Source::for_worker(&workload, worker, started);
        workers.spawn(async move { run_worker(&shared, source).await });
    }
    let mut tally = Tally::new();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(worker_tally) => tally.merge(&worker_tally),
            // A worker only panics on a bug; keep the others' results and say so.
            Err(error) => tally.sample_error("worker".to_owned(), &error.to_string()),
        }
    }
    PhaseOutcome {
        tally,
        elapsed: started.elapsed(),
        aborted: shared.abort.load(Ordering::Relaxed),
    }
}

/// Where one worker takes its next body from.
#[derive(Debug)]
enum Source {
    Prepared(Arc<Vec<(Bytes, u64)>>),
    Generated {
        generator: EventGenerator,
        batch_size: usize,
        until: Instant,
    },
}

impl Source {
    fn for_worker(workload: &Workload, worker: usize, started: Instant) -> Self {
        match workload {
            Workload::Prepared(bodies) => Self::Prepared(Arc::clone(bodies)),
            Workload::Timed {
                generator,
                batch_size,
                duration,
            } => Self::Generated {
                generator: generator.fork(u64::try_from(worker).unwrap_or_default()),
                batch_size: *batch_size,
                until: started + *duration,
            },
        }
    }

    /// The next body and its event count; `None` when the phase is over for this worker.
    fn next_batch(&mut self, shared: &Shared) -> Option<(Bytes, u64)> {
        match self {
            Self::Prepared(bodies) => {
                let index = shared.next_batch.fetch_add(1, Ordering::Relaxed);
                bodies.get(index).cloned()
            }
            Self::Generated {
                generator,
                batch_size,
                until,
            } => {
                if Instant::now() >= *until {
                    return None;
                }
                let num_events = u64::try_from(*batch_size).unwrap_or(u64::MAX);
                Some((generator.batch_body(*batch_size, Utc::now()), num_events))
            }
        }
    }
}

async fn run_worker(shared: &Shared, mut source: Source) -> Tally {
    let mut tally = Tally::new();
    while !shared.abort.load(Ordering::Relaxed) {
        let Some((body, num_events)) = source.next_batch(shared) else {
            break;
        };
        let succeeded = send_batch(shared, body, num_events, &mut tally).await;
        if !succeeded {
            let num_failed = shared.num_failed.fetch_add(1, Ordering::Relaxed) + 1;
            if num_failed >= shared.max_failed_requests {
                shared.abort.store(true, Ordering::Relaxed);
            }
        }
    }
    tally
}

/// Sends one batch and records the outcome; `false` when the request failed.
async fn send_batch(shared: &Shared, body: Bytes, num_events: u64, tally: &mut Tally) -> bool {
    let sent_at = Instant::now();
    let response = shared
        .client
        .post(shared.target.endpoint.clone())
        .bearer_auth(&shared.target.write_key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            tally.record_transport_error(num_events, &error_chain(&error));
            return false;
        }
    };
    let status = response.status();
    let answer = match response.bytes().await {
        Ok(answer) => answer,
        Err(error) => {
            tally.record_transport_error(num_events, &error_chain(&error));
            return false;
        }
    };
    tally.record_response(status.as_u16(), num_events, sent_at.elapsed());
    if !status.is_success() {
        tally.sample_error(
            status.as_u16().to_string(),
            &String::from_utf8_lossy(&answer),
        );
        return false;
    }
    match serde_json::from_slice::<BatchAnswer>(&answer) {
        Ok(counts) => {
            tally.num_accepted += u64::try_from(counts.accepted.len()).unwrap_or(u64::MAX);
            tally.num_rejected += u64::try_from(counts.rejected.len()).unwrap_or(u64::MAX);
            if let Some(first) = counts.rejected.first() {
                let sample = format!("{}: {}", first.code, first.message);
                tally.sample_error("rejected event".to_owned(), &sample);
            }
            true
        }
        Err(error) => {
            // A 2xx whose body is not the documented answer: nothing can be counted as accepted.
            tally.sample_error(
                format!("{} with an unreadable body", status.as_u16()),
                &error.to_string(),
            );
            false
        }
    }
}

/// The error and its causes on one line: reqwest's own message ("error sending request") says
/// little without the cause (connection refused, timed out).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
