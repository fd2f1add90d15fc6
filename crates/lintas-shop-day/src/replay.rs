//! Sending the day to a gateway over HTTP, in time order, one request at a time (so each
//! customer's events reach Kafka in the order they happened), with progress and a report.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::day::{Day, Source};
use crate::error::ShopDayError;
use crate::expect::ExpectedEvent;
use crate::platforms::{BuildContext, Item, Prepared, TenantSecrets, build_batch, build_webhook};

/// Most events in one `POST /v1/events` batch of the replay.
const MAX_BATCH_EVENTS: usize = 20;
/// How often a request answered 429/503 (or not at all) is tried before it counts as rejected.
const MAX_ATTEMPTS: u32 = 8;
/// Longest wait between attempts, whatever `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where and as whom to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Gateway base URL, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Base URL the platforms "call" (Twilio signs it); `None` means `base_url`. Set it to the
    /// gateway's `gateway.public_url` when that is configured.
    pub public_base: Option<String>,
    /// Tenant id.
    pub tenant: String,
    /// One line per request on the progress writer.
    pub verbose: bool,
    /// A pause after each request; zero sends as fast as the gateway answers. Tests that kill
    /// roles mid-replay stretch the day with it.
    pub pause: Duration,
}

/// What happened to one expected event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// The expectation.
    #[serde(flatten)]
    pub expected: ExpectedEvent,
    /// Whether the gateway accepted it (2xx for a webhook, listed as accepted for a batch).
    pub accepted: bool,
    /// Why not, when it was not.
    pub rejection: Option<String>,
}

/// The replay's result.
#[derive(Debug, Clone, Default)]
pub struct ReplayReport {
    /// HTTP requests made (retries not counted).
    pub requests: usize,
    /// Requests per source id.
    pub requests_by_source: Vec<(String, usize)>,
    /// Every expected event with its fate.
    pub outcomes: Vec<Outcome>,
    /// Wall time of the replay.
    pub elapsed: Duration,
}

impl ReplayReport {
    /// Events sent.
    pub fn events_sent(&self) -> usize {
        self.outcomes.len()
    }

    /// Events the gateway accepted.
    pub fn events_accepted(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|outcome| outcome.accepted)
            .count()
    }

    /// Events the gateway did not accept.
    pub fn events_rejected(&self) -> usize {
        self.events_sent() - self.events_accepted()
    }

    /// Writes every outcome as one JSON line, for `verify`.
    pub fn write_outcomes(&self, path: &Path) -> Result<(), ShopDayError> {
        let mut text = String::new();
        for outcome in &self.outcomes {
            let line =
                serde_json::to_string(outcome).map_err(|error| ShopDayError::Expectations {
                    path: path.display().to_string(),
                    message: error.to_string(),
                })?;
            text.push_str(&line);
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|error| ShopDayError::Expectations {
            path: path.display().to_string(),
            message: error.to_string(),
        })
    }
}

/// Reads outcomes written by [`ReplayReport::write_outcomes`].
pub fn read_outcomes(path: &Path) -> Result<Vec<Outcome>, ShopDayError> {
    let failed = |message: String| ShopDayError::Expectations {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|error| failed(error.to_string()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line)
                .map_err(|error| failed(format!("line {}: {error}", index + 1)))
        })
        .collect()
}

/// The requests of the day: each webhook step alone, consecutive API steps batched.
pub fn plan(day: &Day) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (index, step) in day.steps.iter().enumerate() {
        let batchable = step.source == Source::Api;
        match groups.last_mut() {
            Some(last)
                if batchable
                    && last.len() < MAX_BATCH_EVENTS
                    && last.iter().all(|&i| day.steps[i].source == Source::Api) =>
            {
                last.push(index);
            }
            _ => groups.push(vec![index]),
        }
    }
    groups
}

/// Builds the request of `group` (step indexes) signed at `ctx.signed_at`.
pub fn prepare(ctx: &BuildContext<'_>, group: &[usize]) -> Result<Prepared, ShopDayError> {
    let items: Vec<Item<'_>> = group
        .iter()
        .map(|&index| {
            let step = &ctx.day.steps[index];
            let customer =
                ctx.day
                    .customer(&step.customer)
                    .ok_or_else(|| ShopDayError::Invalid {
                        origin: format!("step {}", index + 1),
                        message: format!("unknown customer {:?}", step.customer),
                    })?;
            Ok(Item {
                number: index + 1,
                step,
                customer,
            })
        })
        .collect::<Result<_, ShopDayError>>()?;
    match items.as_slice() {
        [single] if single.step.source != Source::Api => build_webhook(ctx, *single),
        _ => build_batch(ctx, &items),
    }
}

/// The gateway's answer to a batch.
#[derive(Debug, Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    accepted: Vec<AcceptedItem>,
    #[serde(default)]
    rejected: Vec<RejectedItem>,
}

#[derive(Debug, Deserialize)]
struct AcceptedItem {
    index: usize,
}

#[derive(Debug, Deserialize)]
struct RejectedItem {
    index: usize,
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Replays `day` as `options.tenant` against the gateway, writing progress to `progress`.
pub async fn replay(
    day: &Day,
    secrets: &TenantSecrets,
    options: &ReplayOptions,
    progress: &mut (dyn Write + Send),
) -> Result<ReplayReport, ShopDayError> {
    let started = Instant::now();
    let replay_start = Utc::now();
    let opened = crate::day::day_opened(replay_start);
    let base_url = options.base_url.trim_end_matches('/').to_owned();
    let public_base = options
        .public_base
        .as_deref()
        .unwrap_or(&base_url)
        .trim_end_matches('/')
        .to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| ShopDayError::Http {
            url: base_url.clone(),
            message: error.to_string(),
        })?;
    let groups = plan(day);
    let mut report = ReplayReport::default();
    let total = groups.len();
    for (position, group) in groups.iter().enumerate() {
        let mut attempt = 0;
        let (prepared, answer) = loop {
            attempt += 1;
            let ctx = BuildContext {
                day,
                tenant: &options.tenant,
                opened,
                signed_at: Utc::now(),
                secrets,
                public_base: &public_base,
            };
            let prepared = prepare(&ctx, group)?;
            let answer = send(&client, &base_url, &prepared).await;
            match &answer {
                Answer::Retry { wait, .. } if attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(*wait).await;
                }
                _ => break (prepared, answer),
            }
        };
        report.requests += 1;
        let source = prepared.source.id().to_owned();
        match report
            .requests_by_source
            .iter_mut()
            .find(|(id, _)| *id == source)
        {
            Some((_, count)) => *count += 1,
            None => report.requests_by_source.push((source.clone(), 1)),
        }
        let status = answer.label();
        let outcomes = outcomes_of(prepared.expected.clone(), &answer);
        if options.verbose {
            let first = &prepared.expected[0];
            let step = &day.steps[group[0]];
            let what = if prepared.expected.len() == 1 {
                first.event_name.clone()
            } else {
                format!("batch of {} events", prepared.expected.len())
            };
            let accepted = outcomes.iter().filter(|outcome| outcome.accepted).count();
            writeln!(
                progress,
                "[{:>3}/{total}] {} {:<8} {:<9} {:<24} {status} ({accepted}/{} accepted)",
                position + 1,
                step.at,
                first.customer,
                source,
                what,
                outcomes.len()
            )
            .ok();
        }
        report.outcomes.extend(outcomes);
        if !options.pause.is_zero() {
            tokio::time::sleep(options.pause).await;
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What the gateway answered.
#[derive(Debug)]
enum Answer {
    /// 2xx; the body for batches.
    Accepted { status: u16, body: String },
    /// 429/503 or no answer: worth another attempt after `wait`.
    Retry {
        status: Option<u16>,
        wait: Duration,
        message: String,
    },
    /// Any other status.
    Refused { status: u16, body: String },
}

impl Answer {
    fn label(&self) -> String {
        match self {
            Self::Accepted { status, .. } | Self::Refused { status, .. } => status.to_string(),
            Self::Retry {
                status: Some(status),
                ..
            } => format!("{status} (gave up)"),
            Self::Retry { status: None, .. } => "no answer".to_owned(),
        }
    }
}

async fn send(client: &reqwest::Client, base_url: &str, prepared: &Prepared) -> Answer {
    let url = format!("{base_url}{}", prepared.path);
    let mut request = client.post(&url).body(prepared.body.clone());
    for (name, value) in &prepared.headers {
        request = request.header(name, value);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            return Answer::Retry {
                status: None,
                wait: Duration::from_millis(500),
                message: error.to_string(),
            };
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
        .min(MAX_BACKOFF);
    let body = response.text().await.unwrap_or_default();
    match status {
        200..=299 => Answer::Accepted { status, body },
        429 | 503 => Answer::Retry {
            status: Some(status),
            wait: retry_after,
            message: body,
        },
        _ => Answer::Refused { status, body },
    }
}

fn outcomes_of(expected: Vec<ExpectedEvent>, answer: &Answer) -> Vec<Outcome> {
    let refuse_all = |expected: Vec<ExpectedEvent>, reason: String| {
        expected
            .into_iter()
            .map(|expected| Outcome {
                expected,
                accepted: false,
                rejection: Some(reason.clone()),
            })
            .collect()
    };
    match answer {
        Answer::Accepted { body, .. } if expected.iter().any(|event| event.source == "api") => {
            let Ok(parsed) = serde_json::from_str::<BatchAnswer>(body) else {
                return refuse_all(expected, format!("unreadable batch answer: {body}"));
            };
            expected
                .into_iter()
                .enumerate()
                .map(|(index, expected)| {
                    let accepted = parsed.accepted.iter().any(|item| item.index == index);
                    let rejection = parsed
                        .rejected
                        .iter()
                        .find(|item| item.index == index)
                        .map(|item| format!("{}: {}", item.code, item.message))
                        .or_else(|| (!accepted).then(|| "not listed as accepted".to_owned()));
                    Outcome {
                        expected,
                        accepted,
                        rejection,
                    }
                })
                .collect()
        }
        Answer::Accepted { .. } => expected
            .into_iter()
            .map(|expected| Outcome {
                expected,
                accepted: true,
                rejection: None,
            })
            .collect(),
        Answer::Retry {
            status, message, ..
        } => {
            let status = status.map_or_else(|| "no answer".to_owned(), |status| status.to_string());
            refuse_all(
                expected,
                format!("{status} after {MAX_ATTEMPTS} attempts: {message}"),
            )
        }
        Answer::Refused { status, body } => refuse_all(expected, format!("{status}: {body}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_api_steps_share_a_batch_and_webhooks_go_alone() {
        let day = Day::builtin().expect("the built-in day is valid");
        let groups = plan(&day);
        let covered: usize = groups.iter().map(Vec::len).sum();
        assert_eq!(covered, day.steps.len());
        for group in &groups {
            let sources: Vec<Source> = group.iter().map(|&i| day.steps[i].source).collect();
            if group.len() > 1 {
                assert!(
                    sources.iter().all(|source| *source == Source::Api),
                    "{sources:?}"
                );
                assert!(group.len() <= MAX_BATCH_EVENTS);
            }
            assert!(
                group.windows(2).all(|pair| pair[1] == pair[0] + 1),
                "in order"
            );
        }
        assert!(
            groups.iter().any(|group| group.len() > 1),
            "the day has batches"
        );
    }
}
