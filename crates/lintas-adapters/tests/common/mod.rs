//! Loads the channel corpus (`../shared/corpus/channels`) and checks adapters against it.
//!
//! Usage from a test file (`mod common;`):
//!
//! ```ignore
//! let case = common::CorpusCase::load("twilio/mms_inbound_damaged_item_id.form");
//! let outcome = case.run();                 // handshake for GET, `receive` for POST
//! common::assert_matches_manifest(&case, &outcome);   // status + every normalized field
//! ```
//!
//! - The sample's `.headers` sidecar gives the request line (method, path and query), the
//!   platform's headers and the `X-Corpus-*` harness lines; `X-Corpus-Received-At` becomes the
//!   request's `received_at` ("now").
//! - The public URL is `https://ingest.example.com` + the sidecar's path (MANIFEST "Signed URLs").
//! - Secrets come from the MANIFEST's "Test secrets" table via [`SECRET_NAMES`]: add your
//!   adapter's secret names there.
//! - The corpus directory is `$LINTAS_CORPUS_DIR` when set, else `../shared/corpus/channels`
//!   next to the repository (where CI puts it).
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use http::Method;
use lintas_adapters::testing::OwnedRequest;
use lintas_adapters::{Parsed, Secrets, VerifyPolicy, WebhookResponse};
use lintas_schema::v1::{Channel, Direction, InteractionEvent};

/// Scheme and host the corpus signatures were computed for.
pub const PUBLIC_HOST: &str = "https://ingest.example.com";
/// Tenant used for every corpus request.
pub const TENANT: &str = "acme";

/// Adapter secret name -> MANIFEST test-secret name, per source id.
pub const SECRET_NAMES: &[(&str, &[(&str, &str)])] = &[
    (
        "whatsapp",
        &[
            ("app_secret", "meta_app_secret"),
            ("verify_token", "meta_verify_token"),
        ],
    ),
    ("twilio", &[("auth_token", "twilio_auth_token")]),
    (
        "messenger",
        &[
            ("app_secret", "meta_app_secret"),
            ("verify_token", "meta_verify_token"),
        ],
    ),
    (
        "instagram",
        &[
            ("app_secret", "meta_app_secret"),
            ("verify_token", "meta_verify_token"),
        ],
    ),
    ("telegram", &[("secret_token", "telegram_secret_token")]),
    ("chatwoot", &[("webhook_secret", "chatwoot_webhook_secret")]),
    ("stripe", &[("endpoint_secret", "stripe_endpoint_secret")]),
    ("mailgun", &[("signing_key", "mailgun_signing_key")]),
    (
        "postmark",
        &[
            ("basic_user", "postmark_basic_user"),
            ("basic_pass", "postmark_basic_pass"),
        ],
    ),
    ("zendesk", &[("signing_secret", "zendesk_signing_secret")]),
    ("shopify", &[("client_secret", "shopify_client_secret")]),
    ("typeform", &[("webhook_secret", "typeform_secret")]),
    ("segment", &[("shared_secret", "segment_shared_secret")]),
];

/// Cases whose MANIFEST dedup key names payload fields to combine ("ticket.id + updated_at")
/// rather than one literal id: the exact `source_event_id` the adapter composes from them.
pub const COMPOSITE_DEDUP_KEYS: &[(&str, &str)] = &[
    (
        "zendesk/trigger_satisfaction_custom_body.json",
        "ticket:35436/satisfaction/2025-03-15T02:40:11Z",
    ),
    // Shopify: "X-Shopify-Event-Id (or order id + topic)"; the body-derived key survives a
    // replay with altered (unsigned) headers.
    (
        "shopify/orders_create_gift_note_id.json",
        "orders/create:5990000000101",
    ),
    // Typeform: "event_id / form_response.token"; the token is one per response.
    (
        "typeform/form_response_nps_detractor_id.json",
        "poy1vv3t4sfpunmbeqm6wjjk07zmwzic",
    ),
    // Segment: "messageId" names the field.
    (
        "segment/track_order_completed.json",
        "ajs-next-11bd15d72766d684657b3e20fd83492d",
    ),
];

/// The corpus directory.
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("LINTAS_CORPUS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/channels"),
    }
}

fn read(relative: &str) -> Vec<u8> {
    let path = corpus_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The value of a MANIFEST test secret, read from its "Test secrets" table.
pub fn manifest_secret(name: &str) -> String {
    let manifest = String::from_utf8(read("MANIFEST.md")).expect("MANIFEST.md is UTF-8");
    let prefix = format!("| `{name}` |");
    let line = manifest
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("secret `{name}` is not in the MANIFEST's table"));
    let value = line[prefix.len()..].trim().trim_end_matches('|').trim();
    value.trim_matches('`').to_owned()
}

/// The tenant's secrets for `source`, as the gateway would build them from config.
pub fn secrets_for(source: &str) -> BTreeMap<String, String> {
    let (_, names) = SECRET_NAMES
        .iter()
        .find(|(id, _)| *id == source)
        .unwrap_or_else(|| panic!("add `{source}` to SECRET_NAMES in tests/common/mod.rs"));
    names
        .iter()
        .map(|(ours, manifest)| ((*ours).to_owned(), manifest_secret(manifest)))
        .collect()
}

/// One corpus sample with its sidecar and its expectation.
#[derive(Debug, Clone)]
pub struct CorpusCase {
    /// Path relative to the corpus directory, e.g. `whatsapp/status_read.json`.
    pub file: String,
    /// Source id = the sample's directory.
    pub source: String,
    /// `GET` or `POST`.
    pub method: Method,
    /// Path and query from the request line.
    pub target: String,
    /// Platform headers (without `X-Corpus-*`).
    pub headers: Vec<(String, String)>,
    /// `X-Corpus-*` lines, by full header name.
    pub corpus_headers: BTreeMap<String, String>,
    /// Raw body bytes.
    pub body: Vec<u8>,
    /// `X-Corpus-Received-At`: "now" for this request.
    pub received_at: DateTime<Utc>,
    /// The case's `expected.json` entry.
    pub expected: Expected,
}

impl CorpusCase {
    /// Loads `file`, its `.headers` sidecar and its `expected.json` entry.
    pub fn load(file: &str) -> Self {
        let (stem, _) = file.rsplit_once('.').expect("file has an extension");
        let sidecar =
            String::from_utf8(read(&format!("{stem}.headers"))).expect("sidecar is UTF-8");
        let mut lines = sidecar
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty());
        let request_line = lines.next().expect("sidecar has a request line");
        let mut parts = request_line.split_whitespace();
        let method: Method = parts.next().expect("method").parse().expect("valid method");
        let target = parts.next().expect("request target").to_owned();
        let mut headers = Vec::new();
        let mut corpus_headers = BTreeMap::new();
        for line in lines {
            let (name, value) = line.split_once(':').expect("header line has a colon");
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            if name.to_ascii_lowercase().starts_with("x-corpus-") {
                corpus_headers.insert(name, value);
            } else {
                headers.push((name, value));
            }
        }
        let received_at = corpus_headers
            .get("X-Corpus-Received-At")
            .map(|at| parse_utc(at))
            .expect("sidecar has X-Corpus-Received-At");
        Self {
            file: file.to_owned(),
            source: file.split('/').next().expect("directory").to_owned(),
            method,
            target,
            headers,
            corpus_headers,
            body: read(file),
            received_at,
            expected: Expected::load(file),
        }
    }

    /// `https://ingest.example.com` + path and query, as the platform signed it.
    pub fn public_url(&self) -> String {
        format!("{PUBLIC_HOST}{}", self.target)
    }

    /// The request as the gateway would hand it to the adapter.
    pub fn request(&self) -> OwnedRequest {
        let mut request = OwnedRequest::new(
            TENANT,
            self.method.clone(),
            &self.public_url(),
            self.body.clone(),
            self.received_at,
        );
        for (name, value) in &self.headers {
            request = request
                .with_header(name, value)
                .expect("valid corpus header");
        }
        request
    }

    /// Runs the case through its adapter with the MANIFEST's secrets and the default policy.
    pub fn run(&self) -> Outcome {
        run_request(&self.source, &self.request())
    }
}

/// Runs `request` through the `source` adapter as the gateway would, including the body limit.
pub fn run_request(source: &str, request: &OwnedRequest) -> Outcome {
    let adapter =
        lintas_adapters::adapter(source).unwrap_or_else(|| panic!("no adapter `{source}`"));
    let store = secrets_for(source);
    let secrets = Secrets::new(&store);
    let view = request.as_request();
    if request.method == Method::GET {
        return match lintas_adapters::handshake(adapter, &view, &secrets) {
            Ok(response) => Outcome::Answered(response),
            Err(error) => Outcome::Refused(error),
        };
    }
    match lintas_adapters::receive(adapter, &view, &secrets, &VerifyPolicy::default()) {
        Ok(parsed) => Outcome::Accepted(parsed, adapter.success_response()),
        Err(error) => Outcome::Refused(error),
    }
}

/// What the gateway would do with a request.
#[derive(Debug)]
pub enum Outcome {
    /// A delivery was accepted: events to produce, and the response to send.
    Accepted(Parsed, WebhookResponse),
    /// A handshake was answered.
    Answered(WebhookResponse),
    /// The request was refused.
    Refused(lintas_adapters::AdapterError),
}

impl Outcome {
    /// The HTTP status the gateway would answer.
    pub fn status(&self) -> u16 {
        match self {
            Self::Accepted(_, response) | Self::Answered(response) => response.status.as_u16(),
            Self::Refused(error) => error.status().as_u16(),
        }
    }

    /// The parsed delivery; panics when the request was not accepted.
    pub fn parsed(&self) -> &Parsed {
        match self {
            Self::Accepted(parsed, _) => parsed,
            other => panic!("expected an accepted delivery, got {other:?}"),
        }
    }
}

/// A case's `expect` object from `expected.json`, read in the contract's terms.
#[derive(Debug, Clone)]
pub struct Expected {
    /// `valid`, `malformed` or `control`.
    pub kind: String,
    /// The raw `expect` object.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl Expected {
    fn load(file: &str) -> Self {
        let all: serde_json::Value =
            serde_json::from_slice(&read("expected.json")).expect("expected.json is JSON");
        let case = all["cases"]
            .as_array()
            .expect("cases array")
            .iter()
            .find(|case| case["file"] == file)
            .unwrap_or_else(|| panic!("{file} is not in expected.json"));
        Self {
            kind: case["kind"].as_str().expect("kind").to_owned(),
            fields: case["expect"].as_object().expect("expect object").clone(),
        }
    }

    /// A field, `None` when absent or `-`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(|value| value.as_str())
            .filter(|value| *value != "-")
    }

    /// The expected status: the leading number of `http` (`2xx` counts as 200).
    pub fn status(&self) -> u16 {
        let http = self
            .field("http")
            .expect("every case has an http expectation");
        let digits: String = http
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if digits == "2xx" {
            200
        } else {
            digits.parse().expect("numeric status")
        }
    }

    /// The exact body demanded by `http` ("200 with body exactly '1158201444'").
    pub fn exact_body(&self) -> Option<&str> {
        let http = self.field("http")?;
        let (_, rest) = http.split_once("body exactly '")?;
        rest.split_once('\'').map(|(body, _)| body)
    }

    /// Whether the case describes a state change that must not become an interaction.
    pub fn is_state_change(&self) -> bool {
        self.field("type") == Some("n/a")
    }

    /// The channel in the contract's terms (the corpus uses platform-flavoured names).
    pub fn channel(&self) -> Option<Channel> {
        let channel = match self.field("channel")? {
            "whatsapp" | "telegram" => Channel::Messaging,
            "messenger" | "instagram" => Channel::Social,
            "sms" => Channel::Sms,
            "email" => Channel::Email,
            "web_chat" => Channel::WebChat,
            "payment" | "online_store" => Channel::Commerce,
            "survey" => Channel::Survey,
            "web_analytics" => Channel::Web,
            "ticket" => Channel::Crm,
            other => panic!("unknown corpus channel {other:?}: extend Expected::channel"),
        };
        Some(channel)
    }

    /// The direction in the contract's terms.
    pub fn direction(&self) -> Option<Direction> {
        let direction = match self.field("direction")? {
            "inbound" => Direction::Inbound,
            "outbound" => Direction::Outbound,
            "internal" => Direction::Internal,
            "n/a" => Direction::NotApplicable,
            other => panic!("unknown corpus direction {other:?}"),
        };
        Some(direction)
    }

    /// The customer handle: the first word (hints in parentheses follow it).
    pub fn customer_id(&self) -> Option<&str> {
        self.field("customer")?.split_whitespace().next()
    }

    /// `occurred_at` as an instant.
    pub fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.field("occurred_at").map(parse_utc)
    }

    /// The expected `text`: `(none)` is empty; a trailing `  [note]` describes non-text content
    /// (an attachment, a postback) and is not part of the text.
    pub fn text(&self) -> Option<String> {
        let text = self.field("text")?;
        if text.starts_with("(none)") {
            return Some(String::new());
        }
        let without_note = match text.rfind("  [") {
            Some(at) if text.ends_with(']') => &text[..at],
            _ => text,
        };
        Some(without_note.to_owned())
    }

    /// Expected language code, when the case states one.
    pub fn language(&self) -> Option<&str> {
        self.field("language")
    }
}

/// Parses an RFC 3339 instant.
pub fn parse_utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("{text:?} is not RFC 3339: {error}"))
        .with_timezone(&Utc)
}

/// Checks an outcome against the case's expectation: the status, then for accepted deliveries
/// the events field by field (or their absence for state changes and unusable items).
pub fn assert_matches_manifest(case: &CorpusCase, outcome: &Outcome) {
    let file = &case.file;
    assert_eq!(
        outcome.status(),
        case.expected.status(),
        "{file}: status of {outcome:?}"
    );
    match outcome {
        Outcome::Refused(_) => {}
        Outcome::Answered(response) => {
            if let Some(body) = case.expected.exact_body() {
                assert_eq!(
                    response.body.as_ref(),
                    body.as_bytes(),
                    "{file}: handshake body"
                );
            }
        }
        Outcome::Accepted(parsed, _) => {
            let describes_an_event = case.expected.field("occurred_at").is_some();
            if case.expected.is_state_change() || !describes_an_event {
                assert!(
                    parsed.events.is_empty(),
                    "{file}: no event expected, got {parsed:?}"
                );
                assert!(
                    !parsed.ignored.is_empty() || !parsed.unusable.is_empty(),
                    "{file}: the request must be counted as ignored or unusable"
                );
                return;
            }
            assert_eq!(
                parsed.events.len(),
                1,
                "{file}: exactly one event, got {parsed:?}"
            );
            assert_event_matches(case, &parsed.events[0]);
        }
    }
}

/// Compares one event with every field the expectation states, and checks the contract.
pub fn assert_event_matches(case: &CorpusCase, event: &InteractionEvent) {
    let (file, expected) = (&case.file, &case.expected);
    if let Err(error) = lintas_schema::validate_event(event) {
        panic!("{file}: event fails validation: {error}");
    }
    assert_eq!(event.tenant_id, TENANT, "{file}: tenant");
    assert_eq!(
        event.source, case.source,
        "{file}: source is the adapter id"
    );
    if let Some(channel) = expected.channel() {
        assert_eq!(event.channel(), channel, "{file}: channel");
    }
    if let Some(direction) = expected.direction() {
        assert_eq!(event.direction(), direction, "{file}: direction");
    }
    if let Some(customer) = expected.customer_id() {
        assert_eq!(event.customer_id, customer, "{file}: customer_id");
    }
    if let Some(occurred_at) = expected.occurred_at() {
        let actual = event
            .occurred_at
            .as_ref()
            .and_then(lintas_schema::time::from_timestamp)
            .expect("occurred_at is set");
        assert_eq!(actual, occurred_at, "{file}: occurred_at");
    }
    if let Some(text) = expected.text() {
        assert_eq!(event.text, text, "{file}: text");
    }
    if let Some(language) = expected.language() {
        assert_eq!(event.language, language, "{file}: language");
    }
    if let Some(dedup) = expected.field("dedup") {
        assert!(
            !event.source_event_id.is_empty(),
            "{file}: source_event_id is set"
        );
        match COMPOSITE_DEDUP_KEYS
            .iter()
            .find(|(case_file, _)| *case_file == file.as_str())
        {
            Some((_, composed)) => assert_eq!(
                event.source_event_id, *composed,
                "{file}: source_event_id composed from {dedup:?}"
            ),
            None => assert!(
                dedup.contains(&event.source_event_id),
                "{file}: source_event_id {:?} is not the dedup key {dedup:?}",
                event.source_event_id
            ),
        }
        let derived = lintas_schema::derive_event_id(TENANT, &case.source, &event.source_event_id);
        assert_eq!(
            event.event_id,
            derived.to_string(),
            "{file}: deterministic event_id"
        );
    }
}

/// Every corpus file of `source` listed in `expected.json`, so a test can prove it covers them.
pub fn corpus_files_of(source: &str) -> Vec<String> {
    let all: serde_json::Value =
        serde_json::from_slice(&read("expected.json")).expect("expected.json is JSON");
    all["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .filter_map(|case| case["file"].as_str())
        .filter(|file| file.split('/').next() == Some(source))
        .map(str::to_owned)
        .collect()
}
