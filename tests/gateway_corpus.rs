//! Every channel-corpus sample posted over HTTP to an in-process gateway on the real broker: the
//! documented status, and exactly the expected records in the raw and dead-letter topics, decoded
//! and compared field by field with `expected.json`.
//!
//! The corpus loader and the field comparison are the adapters' own (`crates/lintas-adapters/
//! tests/common/mod.rs`, included below), so both test suites read the MANIFEST the same way and
//! a new adapter's secrets and dedup keys are declared once. It finds the corpus through
//! `LINTAS_CORPUS_DIR`, which `.cargo/config.toml` points at `../shared/corpus/channels`.
//!
//! Two things differ from calling the adapters directly, because the gateway reads the real
//! clock: signed timestamps (Stripe, Zendesk, Chatwoot, Mailgun) are re-signed at "now" so the
//! replay window accepts them, and an `occurred_at` inferred from the receive time (Twilio,
//! Telegram callbacks) is checked to lie within the request instead of at the sidecar's
//! `X-Corpus-Received-At`. Twilio signs the URL, so its samples are re-signed for the gateway's
//! route under the public URL `https://ingest.example.com`.
#![cfg(feature = "integration")]

#[path = "../crates/lintas-adapters/tests/common/mod.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use corpus::{CorpusCase, PUBLIC_HOST, TENANT};
use lintas_adapters::testing;
use lintas_integration_tests::gateway::{
    GatewayTopics, RunningGateway, gateway_config, header, read_records, record_count,
};
use lintas_kafka::dlq;
use lintas_schema::v1::{InteractionEvent, NormalizationFlag};
use prost::Message as _;
use rdkafka::Message as _;

/// How long a record may take to show up after the gateway's 2xx (it is acknowledged already).
const READ_DEADLINE: Duration = Duration::from_secs(30);

/// The tenant's webhook secrets for every source the corpus loader knows, as config env.
fn secrets_env() -> Vec<(String, String)> {
    let mut env = Vec::new();
    for (source, names) in corpus::SECRET_NAMES {
        for (ours, manifest_name) in *names {
            env.push((
                format!(
                    "LINTAS__TENANTS__{}__WEBHOOKS__{}__{}",
                    TENANT.to_uppercase(),
                    source.to_uppercase(),
                    ours.to_uppercase()
                ),
                corpus::manifest_secret(manifest_name),
            ));
        }
    }
    env.push((
        format!("LINTAS__TENANTS__{}__WRITE_KEYS", TENANT.to_uppercase()),
        "wk_corpus_acme_0123456789".to_owned(),
    ));
    env
}

/// Every corpus file of a registered adapter.
fn corpus_files() -> Vec<String> {
    lintas_adapters::registry()
        .iter()
        .flat_map(|adapter| corpus::corpus_files_of(adapter.id()))
        .collect()
}

/// What the MANIFEST says a request must leave in Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expected {
    events: i64,
    dead_letters: i64,
}

fn expected_records(case: &CorpusCase) -> Expected {
    let expected = &case.expected;
    let accepted_delivery = case.method == http::Method::POST && expected.status() == 200;
    if !accepted_delivery {
        return Expected {
            events: 0,
            dead_letters: 0,
        };
    }
    let dead_letter = expected
        .field("behaviour")
        .is_some_and(|behaviour| behaviour.contains("dead-letter"));
    let describes_event = expected.field("occurred_at").is_some() && !expected.is_state_change();
    Expected {
        events: i64::from(describes_event && !dead_letter),
        dead_letters: i64::from(dead_letter),
    }
}

/// An HTTP request for the gateway's route, re-signed where the real clock or URL requires it.
struct Prepared {
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn prepare(case: &CorpusCase, gateway: &RunningGateway) -> Prepared {
    let query = case
        .target
        .split_once('?')
        .map(|(_, query)| format!("?{query}"))
        .unwrap_or_default();
    let path = format!("/v1/webhooks/{TENANT}/{}{query}", case.source);
    let mut prepared = Prepared {
        url: gateway.url(&path),
        headers: case
            .headers
            .iter()
            .filter(|(name, _)| {
                !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("content-length")
            })
            .cloned()
            .collect(),
        body: case.body.clone(),
    };
    resign(case, &format!("{PUBLIC_HOST}{path}"), &mut prepared);
    prepared
}

fn set_header(headers: &mut [(String, String)], name: &str, value: String) {
    if let Some(entry) = headers
        .iter_mut()
        .find(|(found, _)| found.eq_ignore_ascii_case(name))
    {
        entry.1 = value;
    }
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers
        .iter()
        .any(|(found, _)| found.eq_ignore_ascii_case(name))
}

/// Signs again what a real clock or another URL would otherwise refuse. Only signatures present
/// in the sample are replaced, so a sample without one stays without one.
fn resign(case: &CorpusCase, public_url: &str, request: &mut Prepared) {
    let secrets: BTreeMap<String, String> = corpus::secrets_for(&case.source);
    let secret = |name: &str| secrets.get(name).cloned().unwrap_or_default();
    let now = Utc::now();
    let headers = &mut request.headers;
    match case.source.as_str() {
        "twilio" if has_header(headers, "X-Twilio-Signature") => {
            if let Ok(signature) =
                testing::twilio_signature(&secret("auth_token"), public_url, &request.body)
            {
                set_header(headers, "X-Twilio-Signature", signature);
            }
        }
        "stripe" if has_header(headers, "Stripe-Signature") => {
            let signature = testing::stripe_signature(
                &secret("endpoint_secret"),
                now.timestamp(),
                &request.body,
            );
            set_header(headers, "Stripe-Signature", signature);
        }
        "zendesk" if has_header(headers, "X-Zendesk-Webhook-Signature") => {
            let timestamp = now.to_rfc3339_opts(SecondsFormat::Secs, true);
            let signature =
                testing::zendesk_signature(&secret("signing_secret"), &timestamp, &request.body);
            set_header(headers, "X-Zendesk-Webhook-Signature-Timestamp", timestamp);
            set_header(headers, "X-Zendesk-Webhook-Signature", signature);
        }
        "chatwoot" if has_header(headers, "X-Chatwoot-Signature") => {
            let signature = testing::chatwoot_signature(
                &secret("webhook_secret"),
                now.timestamp(),
                &request.body,
            );
            set_header(headers, "X-Chatwoot-Timestamp", now.timestamp().to_string());
            set_header(headers, "X-Chatwoot-Signature", signature);
        }
        "mailgun" => {
            // Mailgun signs timestamp + token, carried as form fields of the body.
            let Some(token) = form_field(&request.body, "token") else {
                return;
            };
            let signature =
                testing::mailgun_signature(&secret("signing_key"), now.timestamp(), &token);
            let body = replace_form_field(&request.body, "timestamp", &now.timestamp().to_string())
                .and_then(|body| replace_form_field(&body, "signature", &signature));
            if let Some(body) = body {
                request.body = body;
            }
        }
        _ => {}
    }
}

/// Where the value of multipart field `name` starts and ends in `text`.
fn form_field_span(text: &str, name: &str) -> Option<(usize, usize)> {
    let at = text.find(&format!("name=\"{name}\""))?;
    let (offset, separator) = match text[at..].find("\r\n\r\n") {
        Some(offset) => (offset, 4),
        None => (text[at..].find("\n\n")?, 2),
    };
    let start = at + offset + separator;
    let end = start + text[start..].find(['\r', '\n'])?;
    Some((start, end))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (start, end) = form_field_span(text, name)?;
    Some(text[start..end].to_owned())
}

fn replace_form_field(body: &[u8], name: &str, value: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let (start, end) = form_field_span(text, name)?;
    Some(format!("{}{value}{}", &text[..start], &text[end..]).into_bytes())
}

/// Posts (or gets) `case` and returns the status, the body and the time window of the request.
async fn send(
    client: &reqwest::Client,
    case: &CorpusCase,
    request: Prepared,
) -> anyhow::Result<(u16, Vec<u8>, DateTime<Utc>, DateTime<Utc>)> {
    let mut builder = client.request(case.method.clone(), &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if case.method == http::Method::POST {
        builder = builder.body(request.body);
    }
    let before = Utc::now();
    let response = builder.send().await?;
    let status = response.status().as_u16();
    let body = response.bytes().await?.to_vec();
    Ok((status, body, before, Utc::now()))
}

/// Checks one raw record against its case, `occurred_at` inferred from the receive time aside.
fn check_event(
    case: &CorpusCase,
    mut event: InteractionEvent,
    sent: DateTime<Utc>,
    answered: DateTime<Utc>,
) {
    let inferred = event
        .normalization_flags
        .contains(&i32::from(NormalizationFlag::OccurredAtInferred));
    if inferred {
        let at = event
            .occurred_at
            .as_ref()
            .and_then(lintas_schema::time::from_timestamp)
            .expect("occurred_at is set");
        let window = (sent - chrono::Duration::milliseconds(1))..=answered;
        assert!(
            window.contains(&at),
            "{}: inferred occurred_at {at} outside the request",
            case.file
        );
        assert_eq!(
            event.occurred_at, event.received_at,
            "{}: inferred = received",
            case.file
        );
        // The MANIFEST states the sidecar's receive time; the gateway's clock said `at`.
        event.occurred_at = case
            .expected
            .occurred_at()
            .map(lintas_schema::time::to_timestamp);
    }
    corpus::assert_event_matches(case, &event);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_sample_gets_its_status_and_exactly_its_records() -> anyhow::Result<()> {
    let topics = GatewayTopics::create().await?;
    let config = gateway_config(&topics, &secrets_env());
    let public_url = url::Url::parse(PUBLIC_HOST)?;
    let gateway = RunningGateway::start(config.clone(), Some(public_url)).await?;
    let client = reqwest::Client::new();
    let files = corpus_files();
    assert!(
        files.len() >= 12,
        "the corpus has samples of the registered adapters: {files:?}"
    );

    let (mut raw_read, mut dlq_read) = (0_usize, 0_usize);
    let mut seen = std::collections::HashSet::new();
    for file in &files {
        let case = CorpusCase::load(file);
        let expected = expected_records(&case);
        let raw_before = record_count(&config, &topics.raw)?;
        let dlq_before = record_count(&config, &topics.dlq)?;

        let request = prepare(&case, &gateway);
        let body_sent = request.body.clone();
        let (status, body, sent, answered) = send(&client, &case, request).await?;

        assert_eq!(
            status,
            case.expected.status(),
            "{file}: {}",
            String::from_utf8_lossy(&body)
        );
        if let Some(exact) = case.expected.exact_body() {
            assert_eq!(body, exact.as_bytes(), "{file}: response body");
        }
        let raw_added = record_count(&config, &topics.raw)? - raw_before;
        let dlq_added = record_count(&config, &topics.dlq)? - dlq_before;
        assert_eq!(raw_added, expected.events, "{file}: events produced");
        assert_eq!(
            dlq_added, expected.dead_letters,
            "{file}: dead letters produced"
        );

        if expected.events == 1 {
            raw_read += 1;
            let records = read_records(&config, &topics.raw, raw_read, READ_DEADLINE)?;
            // Requests go one at a time and each is acknowledged before its answer, so the one
            // record not seen before is this request's.
            let newest = records
                .iter()
                .find(|record| seen.insert((record.partition(), record.offset())))
                .expect("a record not seen before");
            assert_eq!(
                header(newest, lintas_schema::headers::TENANT).as_deref(),
                Some(TENANT)
            );
            let event = InteractionEvent::decode(newest.payload().unwrap_or_default())?;
            check_event(&case, event, sent, answered);
        }
        if expected.dead_letters == 1 {
            dlq_read += 1;
            let records = read_records(&config, &topics.dlq, dlq_read, READ_DEADLINE)?;
            let record = records.last().expect("one dead letter at least");
            assert_eq!(
                record.payload(),
                Some(body_sent.as_slice()),
                "{file}: the raw body"
            );
            let reason = dlq::DlqReason::from_headers(record.headers().expect("reason headers"))
                .expect("a dead-letter reason");
            assert_eq!(reason.stage, "gateway", "{file}");
            assert_eq!(reason.error_kind, "no_customer_identifier", "{file}");
            assert_eq!(reason.tenant.as_deref(), Some(TENANT), "{file}");
            assert_eq!(
                reason.source.as_deref(),
                Some(case.source.as_str()),
                "{file}"
            );
        }
    }
    eprintln!(
        "{} samples posted: {raw_read} events and {dlq_read} dead letters checked",
        files.len()
    );
    assert!(
        raw_read >= 12 && dlq_read >= 1,
        "the corpus exercised events and the DLQ"
    );
    gateway.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_webhook_posted_twice_yields_the_same_event_id() -> anyhow::Result<()> {
    let topics = GatewayTopics::create().await?;
    let config = gateway_config(&topics, &secrets_env());
    let gateway =
        RunningGateway::start(config.clone(), Some(url::Url::parse(PUBLIC_HOST)?)).await?;
    let client = reqwest::Client::new();
    let case = CorpusCase::load("whatsapp/message_text_payment_issue_id.json");

    for _ in 0..2 {
        let (status, body, _, _) = send(&client, &case, prepare(&case, &gateway)).await?;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }

    let records = read_records(&config, &topics.raw, 2, READ_DEADLINE)?;
    let ids: Vec<String> = records
        .iter()
        .map(|record| {
            InteractionEvent::decode(record.payload().unwrap_or_default())
                .map(|event| event.event_id)
        })
        .collect::<Result<_, _>>()?;
    let derived = lintas_schema::derive_event_id(
        TENANT,
        "whatsapp",
        "wamid.HBgLMTU1NTU1NTAxMDYVAgASGBSnvC69mbtB7sBM7bwo6/w9KjK/zwA=",
    );
    assert_eq!(ids, vec![derived.to_string(), derived.to_string()]);
    assert_eq!(
        records[0].key(),
        records[1].key(),
        "one key, one partition, in order"
    );
    gateway.stop().await
}
