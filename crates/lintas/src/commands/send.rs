//! `lintas send`: posts events from a file or stdin to a gateway's `POST /v1/events`, for channel
//! teams' scripts.
//!
//! Input: one `{"events": [...]}` object, a JSON array of events, or JSON lines (one event per
//! line). Events go out in batches; a batch answered 429 or 503 (or not answered) is retried after
//! `Retry-After` (else a doubling backoff) a bounded number of times. Output: one line per
//! rejected event on stderr with its index in the input, a summary on stdout. Exit 0 when every
//! event was accepted, 1 otherwise.
//!
//! Retries are safe for events with a `messageId`: the gateway derives the same `event_id`, and
//! duplicates are removed downstream. Events without one may be stored twice when a response is
//! lost after Kafka took the batch.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use reqwest::StatusCode;
use serde_json::Value;

/// Longest `Retry-After` honored; a gateway asking for more is treated as down.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// First backoff when the gateway gave no `Retry-After` or did not answer.
const INITIAL_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// Base URL of the gateway.
    #[arg(
        long,
        env = "LINTAS_GATEWAY_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    url: String,
    /// Write key of the tenant. Prefer the environment variable: command lines are visible to
    /// other users of the machine.
    // Not `required` for clap: its "missing --key" error would not say that the environment
    // variable, the better way, is read too. `run` refuses an absent or empty key instead.
    #[arg(
        long,
        env = "LINTAS_WRITE_KEY",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true
    )]
    key: String,
    /// Events per request, at most the gateway's limit of 1000.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=1000))]
    batch_size: u16,
    /// Largest request body in bytes: a batch is cut earlier when its events would exceed it.
    /// The gateway answers larger bodies 413 (`gateway.body_limit_bytes`, default 5 MiB).
    #[arg(long, default_value_t = 5 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..))]
    max_request_bytes: u64,
    /// Retries of one batch answered 429 or 503, or not answered.
    #[arg(long, default_value_t = 5)]
    max_retries: u32,
    /// Longest wait for one response, e.g. `30s`.
    #[arg(long, default_value = "30s", value_parser = parse_timeout)]
    timeout: Duration,
    /// JSON file to send; `-` or nothing reads stdin.
    file: Option<PathBuf>,
}

/// What sending one batch came to.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    accepted: usize,
    rejected: Vec<(usize, String, String)>,
}

/// Why sending stopped before the end of the input.
#[derive(Debug)]
struct Stopped {
    reason: String,
}

pub(crate) fn run(args: SendArgs) -> anyhow::Result<ExitCode> {
    if args.key.trim().is_empty() {
        bail!("no write key: set LINTAS_WRITE_KEY (or pass --key) to a key of the tenant");
    }
    // Checked before reading the input: a URL that can never work is not worth a retry.
    let endpoint = events_endpoint(&args.url)?;
    let input = read_input(args.file.as_deref())?;
    let events = parse_events(&input)?;
    if events.is_empty() {
        bail!("the input holds no events");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (tally, stopped, unsent) = runtime.block_on(send_all(&args, &endpoint, &events))?;
    for (index, code, message) in &tally.rejected {
        eprintln!("rejected event {index}: {code}: {message}");
    }
    if let Some(stopped) = &stopped {
        eprintln!("stopped: {}", stopped.reason);
    }
    println!(
        "{} events: {} accepted, {} rejected, {} not sent",
        events.len(),
        tally.accepted,
        tally.rejected.len(),
        unsent
    );
    let all_accepted = tally.rejected.is_empty() && unsent == 0;
    Ok(if all_accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn read_input(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    let mut input = String::new();
    match file {
        None => std::io::stdin().read_to_string(&mut input).map(|_| ()),
        Some(path) if path.as_os_str() == "-" => {
            std::io::stdin().read_to_string(&mut input).map(|_| ())
        }
        Some(path) => std::fs::read_to_string(path).map(|text| input = text),
    }
    .with_context(|| match file {
        Some(path) if path.as_os_str() != "-" => format!("reading {}", path.display()),
        _ => "reading stdin".to_owned(),
    })?;
    Ok(input)
}

/// The events of `input`: `{"events": [...]}`, a JSON array, or JSON values one after another
/// (JSON lines).
fn parse_events(input: &str) -> anyhow::Result<Vec<Value>> {
    let mut values = Vec::new();
    for (position, value) in serde_json::Deserializer::from_str(input)
        .into_iter::<Value>()
        .enumerate()
    {
        let value = value.with_context(|| format!("input value {position} is not valid JSON"))?;
        values.push(value);
    }
    if let [single] = values.as_mut_slice() {
        match single {
            Value::Array(events) => return Ok(std::mem::take(events)),
            Value::Object(object) if object.contains_key("events") => {
                return match object.remove("events") {
                    Some(Value::Array(events)) => Ok(events),
                    _ => bail!("`events` must be an array"),
                };
            }
            _ => {}
        }
    }
    Ok(values)
}

/// `POST /v1/events` under the gateway's base URL `base`.
///
/// # Errors
///
/// When `base` is not an absolute `http(s)` URL of a host, or carries a query or fragment
/// (which would end up before `/v1/events`).
fn events_endpoint(base: &str) -> anyhow::Result<String> {
    let example = "such as http://127.0.0.1:8080";
    // Errors quote the URL as given, so a user name or password in it is masked first: it
    // would otherwise land in terminals and CI logs.
    let shown = lintas_config::mask_url_userinfo(base);
    let url = reqwest::Url::parse(base.trim())
        .with_context(|| format!("--url {shown:?} is not an absolute URL {example}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        bail!(
            "--url {shown:?} carries a user name or password: the gateway authenticates by the \
             write key (LINTAS_WRITE_KEY), give its base URL alone, {example}"
        );
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("--url {shown:?} must be an http or https URL of the gateway, {example}");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("--url {shown:?} must be the gateway's base URL, without a query or fragment");
    }
    let base = url.as_str().trim_end_matches('/');
    // The endpoint itself is a common thing to paste; appending to it would only earn a 404.
    if base.ends_with("/v1/events") {
        return Ok(base.to_owned());
    }
    Ok(format!("{base}/v1/events"))
}

/// A zero timeout would fail every request before it is sent, which reads like a dead gateway.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if timeout.is_zero() {
        return Err("must be longer than zero, e.g. 30s".to_owned());
    }
    Ok(timeout)
}

async fn send_all(
    args: &SendArgs,
    endpoint: &str,
    events: &[Value],
) -> anyhow::Result<(Tally, Option<Stopped>, usize)> {
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .build()
        .context("building the http client")?;
    let mut tally = Tally::default();
    let max_bytes = usize::try_from(args.max_request_bytes).unwrap_or(usize::MAX);
    for range in batches(events, usize::from(args.batch_size), max_bytes) {
        let offset = range.start;
        match send_batch(&client, endpoint, args, &events[range]).await {
            Ok(outcome) => {
                tally.accepted += outcome.accepted;
                tally.rejected.extend(
                    outcome
                        .rejected
                        .into_iter()
                        .map(|(index, code, message)| (offset + index, code, message)),
                );
            }
            Err(stopped) => return Ok((tally, Some(stopped), events.len() - offset)),
        }
    }
    Ok((tally, None, 0))
}

/// Consecutive ranges of `events` with at most `max_events` events and, as `{"events":[...]}`,
/// at most `max_bytes` bytes. An event larger than `max_bytes` on its own is a batch of one: the
/// gateway's 413 then names the problem for that event alone, and the others still go.
fn batches(events: &[Value], max_events: usize, max_bytes: usize) -> Vec<std::ops::Range<usize>> {
    const ENVELOPE: usize = r#"{"events":[]}"#.len();
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut bytes = ENVELOPE;
    for (index, event) in events.iter().enumerate() {
        // Compact JSON, as `send_batch` writes it; the comma before every event but the first.
        let size = event.to_string().len() + usize::from(index > start);
        let full = index - start >= max_events || (index > start && bytes + size > max_bytes);
        if full {
            ranges.push(start..index);
            start = index;
            bytes = ENVELOPE + size - 1;
        } else {
            bytes += size;
        }
    }
    if start < events.len() {
        ranges.push(start..events.len());
    }
    ranges
}

/// Sends one batch, retrying 429, 503 and unanswered requests.
async fn send_batch(
    client: &reqwest::Client,
    endpoint: &str,
    args: &SendArgs,
    batch: &[Value],
) -> Result<Tally, Stopped> {
    let body = serde_json::json!({ "events": batch }).to_string();
    let mut backoff = INITIAL_BACKOFF;
    let mut attempt = 0;
    loop {
        let sent = client
            .post(endpoint)
            .bearer_auth(&args.key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        let (wait, why) = match sent {
            Ok(response) => {
                let status = response.status();
                let retry_after = retry_after(response.headers());
                let text = response.text().await.unwrap_or_default();
                if status == StatusCode::ACCEPTED || status == StatusCode::BAD_REQUEST {
                    if let Some(tally) = read_answer(&text) {
                        return Ok(tally);
                    }
                }
                if status != StatusCode::TOO_MANY_REQUESTS
                    && status != StatusCode::SERVICE_UNAVAILABLE
                {
                    return Err(Stopped {
                        reason: format!("gateway answered {status}: {}", error_message(&text)),
                    });
                }
                (
                    retry_after.unwrap_or(backoff),
                    format!("gateway answered {status}"),
                )
            }
            Err(error) => {
                if attempt >= args.max_retries {
                    return Err(Stopped {
                        reason: format!(
                            "no answer from {endpoint} after {attempt} retries: {}",
                            lintas_telemetry::error_chain(&error)
                        ),
                    });
                }
                (backoff, lintas_telemetry::error_chain(&error))
            }
        };
        if attempt >= args.max_retries || wait > MAX_RETRY_AFTER {
            return Err(Stopped {
                reason: format!("gateway still unavailable after {attempt} retries"),
            });
        }
        attempt += 1;
        // Retries can take half a minute; say what is happening instead of hanging silently.
        eprintln!(
            "{why}; retry {attempt} of {} in {}",
            args.max_retries,
            humantime::format_duration(wait)
        );
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(MAX_RETRY_AFTER);
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// A 202 answer, or a 400 `no_valid_events` answer, as a tally; `None` for any other body.
fn read_answer(text: &str) -> Option<Tally> {
    let answer: Value = serde_json::from_str(text).ok()?;
    let rejected = answer.get("rejected")?.as_array()?;
    let accepted = answer
        .get("accepted")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if accepted == 0
        && answer
            .get("error")
            .is_some_and(|error| error["code"] != "no_valid_events")
    {
        return None;
    }
    let rejected = rejected
        .iter()
        .map(|item| {
            let index = item["index"].as_u64().and_then(|i| usize::try_from(i).ok());
            (
                index.unwrap_or_default(),
                item["code"].as_str().unwrap_or("unknown").to_owned(),
                item["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Some(Tally { accepted, rejected })
}

fn error_message(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|body| {
            let code = body["error"]["code"].as_str()?.to_owned();
            let message = body["error"]["message"].as_str().unwrap_or_default();
            Some(format!("{code}: {message}"))
        })
        .unwrap_or_else(|| text.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_events_object_an_array_and_json_lines_all_yield_the_events() {
        let object = parse_events(r#"{"events": [{"a": 1}, {"a": 2}]}"#).expect("object");
        let array = parse_events(r#"[{"a": 1}, {"a": 2}]"#).expect("array");
        let lines = parse_events("{\"a\": 1}\n{\"a\": 2}\n").expect("lines");

        let expected = vec![json!({"a": 1}), json!({"a": 2})];
        assert_eq!(object, expected);
        assert_eq!(array, expected);
        assert_eq!(lines, expected);
        assert_eq!(
            parse_events(r#"{"a": 1}"#).expect("one event"),
            vec![json!({"a": 1})]
        );
    }

    #[test]
    fn the_endpoint_is_the_base_url_plus_the_events_path_once() {
        for base in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/v1/events",
        ] {
            assert_eq!(
                events_endpoint(base).expect(base),
                "http://127.0.0.1:8080/v1/events"
            );
        }
        assert_eq!(
            events_endpoint("https://ingest.example.com/lintas").expect("prefix"),
            "https://ingest.example.com/lintas/v1/events"
        );
        for bad in ["127.0.0.1:8080", "ftp://h", "http://h/?a=1", "http://h/#x"] {
            assert!(events_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_being_printed() {
        for base in [
            "http://ops:hunter2-secret@127.0.0.1:8080",
            "http://ops:hunter2-secret@127.0.0.1:8080/?q=1",
            "http//ops:hunter2-secret@bad",
        ] {
            let error = format!("{:#}", events_endpoint(base).expect_err(base));
            assert!(!error.contains("hunter2-secret"), "{error}");
        }
        let error = format!(
            "{:#}",
            events_endpoint("http://ops:pw@h:1").expect_err("userinfo")
        );
        assert!(error.contains("LINTAS_WRITE_KEY"), "{error}");
        let masked = format!("http://{}@h:1", lintas_config::MASK);
        assert!(error.contains(&masked), "{error}");
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        assert!(
            parse_timeout("0s")
                .expect_err("a zero timeout")
                .contains("longer than zero")
        );
        assert!(parse_timeout("soon").is_err());
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn batches_are_cut_by_count_and_by_bytes_and_cover_every_event_once() {
        let small: Vec<Value> = (0..7).map(|i| json!({ "i": i })).collect();
        assert_eq!(batches(&small, 3, 1 << 20), vec![0..3, 3..6, 6..7]);
        assert!(batches(&[], 3, 1 << 20).is_empty());

        let text = "x".repeat(400);
        let big: Vec<Value> = (0..5).map(|i| json!({ "i": i, "t": text })).collect();
        let ranges = batches(&big, 500, 1000);
        assert_eq!(ranges, vec![0..2, 2..4, 4..5]);
        for range in &ranges {
            let body = json!({ "events": &big[range.clone()] }).to_string();
            assert!(body.len() <= 1000, "{} bytes", body.len());
        }
        // One event over the limit travels alone, the rest are not held back by it.
        let mut mixed = small[..2].to_vec();
        mixed.push(json!({ "t": "y".repeat(2000) }));
        mixed.push(json!({ "i": 9 }));
        assert_eq!(batches(&mixed, 500, 1000), vec![0..2, 2..3, 3..4]);
    }

    #[test]
    fn invalid_json_names_the_value_that_is_wrong() {
        let error = parse_events("{\"a\": 1}\n{\"a\": ").expect_err("truncated");
        assert!(format!("{error:#}").contains("value 1"), "{error:#}");
        assert!(parse_events(r#"{"events": 3}"#).is_err());
    }

    #[test]
    fn answers_are_read_with_their_rejections() {
        let tally = read_answer(
            r#"{"accepted":[{"index":0,"event_id":"x"}],"rejected":[{"index":1,"code":"invalid_field","message":"m"}]}"#,
        )
        .expect("202 body");
        assert_eq!(tally.accepted, 1);
        assert_eq!(
            tally.rejected,
            vec![(1, "invalid_field".into(), "m".into())]
        );

        let all_invalid = read_answer(
            r#"{"error":{"code":"no_valid_events","message":"m"},"rejected":[{"index":0,"code":"c","message":"m"}]}"#,
        )
        .expect("400 body");
        assert_eq!(all_invalid.rejected.len(), 1);
        assert!(read_answer(r#"{"error":{"code":"malformed_body","message":"m"}}"#).is_none());
    }
}
