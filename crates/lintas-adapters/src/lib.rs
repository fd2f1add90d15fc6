//! Channel-platform webhook adapters: authenticate a platform's request and turn it into
//! normalized [`InteractionEvent`](lintas_schema::v1::InteractionEvent)s.
//!
//! The crate is **pure**: no I/O, no clock, no global state. The gateway passes everything in (the
//! request, the tenant's secrets, the receive time) and does the I/O with what comes back.
//!
//! # How the gateway uses it
//!
//! For `POST /v1/webhooks/{tenant}/{source}` and `GET` on the same path:
//!
//! 1. [`adapter`]`(source)`: `None` -> 404 (`unknown_source`).
//! 2. Refuse bodies over [`Adapter::max_body_bytes`] from `Content-Length` or while streaming,
//!    before buffering -> 413.
//! 3. Build a [`WebhookRequest`] (with `public_url` from the configured public base URL) and
//!    [`Secrets`] from `[tenants.<tenant>.webhooks.<source>]` (any [`SecretStore`]).
//! 4. `GET`: [`handshake`] -> send the [`WebhookResponse`] as is.
//!    `POST`: [`receive`] -> [`Parsed`]. Produce `events` to Kafka; after the acknowledgement,
//!    write the raw body to the DLQ when `unusable` is non-empty (reason = `unusable[i].reason.code()`),
//!    count `ignored` by `kind.code()`, and answer [`Adapter::success_response`] (2xx).
//! 5. Any [`AdapterError`]: answer [`AdapterError::status`] with
//!    `{"error": {"code": err.code(), "message": err.to_string()}}`; count by `code()`.
//!
//! [`receive`] fixes the order of the checks: size (413), content type (415, decided on the header,
//! the body is never sniffed), authenticity (401: missing or wrong signature, stale timestamp,
//! secret not configured), parsing (400), and last contract validation (events breaking a contract
//! rule are moved to `unusable`, so nothing invalid reaches Kafka). Nothing is parsed before
//! authentication succeeded.
//!
//! | error | status | code |
//! | --- | --- | --- |
//! | [`AdapterError::PayloadTooLarge`] | 413 | `payload_too_large` |
//! | [`AdapterError::UnsupportedMediaType`] | 415 | `unsupported_media_type` |
//! | [`AdapterError::SignatureMissing`] | 401 | `signature_missing` |
//! | [`AdapterError::SignatureInvalid`] | 401 | `signature_invalid` |
//! | [`AdapterError::TimestampOutsideTolerance`] | 401 | `timestamp_outside_tolerance` |
//! | [`AdapterError::NotConfigured`] (tenant lacks the named secret) | 401 | `not_configured` |
//! | [`AdapterError::HandshakeRejected`] (wrong verify token) | 403 | `handshake_rejected` |
//! | [`AdapterError::Malformed`] | 400 | `malformed_body` |
//! | [`AdapterError::MethodNotAllowed`] (`GET` without a handshake) | 405 | `method_not_allowed` |
//!
//! Secrets never appear in errors, `Debug` output or logs: errors name the secret, never its
//! value, and [`Secrets`] prints as `Secrets { .. }`. Every signature and token comparison is
//! constant time ([`signature`]).
//!
//! # Adapters
//!
//! | source id | platform | secrets | module |
//! | --- | --- | --- | --- |
//! | `chatwoot` | Chatwoot webhooks (live chat and bridged inboxes) | `webhook_secret` | [`adapters::chatwoot`] |
//! | `instagram` | Instagram messaging (Meta Graph) | `app_secret`, `verify_token` | [`adapters::instagram`] |
//! | `mailgun` | Mailgun inbound routes (e-mail) | `signing_key` | [`adapters::mailgun`] |
//! | `messenger` | Facebook Messenger (Meta Graph) | `app_secret`, `verify_token` | [`adapters::messenger`] |
//! | `postmark` | Postmark inbound (e-mail) | `basic_user`, `basic_pass` | [`adapters::postmark`] |
//! | `segment` | Segment Webhooks destination (track, page, screen) | `shared_secret` | [`adapters::segment`] |
//! | `shopify` | Shopify order and refund webhooks | `client_secret` | [`adapters::shopify`] |
//! | `stripe` | Stripe events | `endpoint_secret` | [`adapters::stripe`] |
//! | `telegram` | Telegram Bot API updates | `secret_token` | [`adapters::telegram`] |
//! | `twilio` | Twilio Messaging (SMS, MMS, WhatsApp) | `auth_token` | [`adapters::twilio`] |
//! | `typeform` | Typeform responses (NPS included) | `webhook_secret` | [`adapters::typeform`] |
//! | `whatsapp` | WhatsApp Cloud API | `app_secret`, `verify_token` | [`adapters::whatsapp`] |
//! | `zendesk` | Zendesk webhooks (ticket events, CSAT triggers) | `signing_secret` | [`adapters::zendesk`] |
//!
//! Each module's documentation holds its mapping table (platform event -> `event_name`, channel,
//! direction, actor, customer handle, dedup id).
//!
//! # Normalization
//!
//! The same rules for every adapter live in [`normalize`]: times ([`normalize::time`]), text
//! ([`normalize::text`]), language ([`normalize::language`]), handles ([`normalize::handle`]),
//! money ([`normalize::money`]) and the assembly of the event ([`normalize::Draft`]).
//!
//! # How to add an adapter
//!
//! 1. Create `src/adapters/<platform>.rs` with a unit struct, `pub const ID: &str = "<platform>"`
//!    and `impl Adapter` (`id`, `secret_names`, `content_types`, `verify`, `parse`; override
//!    `handshake`, `max_body_bytes` or `success_response` when the platform needs it). Start the
//!    module doc with the authenticity scheme, the content type and the mapping table (copy the
//!    layout of [`adapters::twilio`]).
//! 2. `verify`: read the secret with [`Secrets::require`] (its name from `secret_names`), the
//!    header with [`WebhookRequest::header`]; compare with [`signature::verify_hmac_sha256`] /
//!    [`signature::verify_hmac_sha1`] / [`signature::constant_time_eq`], never `==`. Check signed
//!    timestamps against `request.received_at` with `policy.timestamp_tolerance`. Meta platforms
//!    reuse [`adapters::meta`].
//! 3. `parse`: decode with [`codec::parse_json`] / [`codec::decode_form`] /
//!    [`codec::decode_multipart_form`] (errors become 400 without quoting the body), then per
//!    item fill a [`normalize::Draft`] and push `draft.into_event(ID, request)` onto
//!    [`Parsed::events`]; use `push_unusable` / `push_ignored` for the rest. Never index or
//!    unwrap on input: every field is optional.
//! 4. Register it: `pub mod <platform>;` and one line in the registry in `src/adapters/mod.rs`.
//! 5. Test it: add its corpus files to `tests/corpus.rs` (the helper in `tests/common/` loads the
//!    sample and its `.headers` sidecar, pins the clock, signs with the MANIFEST's test secrets and
//!    compares with `expected.json`), and add it to the property test in `tests/never_panics.rs`.
//!    Add its fuzz target: `fuzz/fuzz_targets/<platform>.rs` (one line calling
//!    `lintas_fuzz::parse`, which calls [`parse_bytes`]) and a `[[bin]]` in `fuzz/Cargo.toml`;
//!    `scripts/fuzz.sh` refuses to run while a registered adapter has no target.
#![deny(missing_docs)]

pub mod adapters;
pub mod codec;
pub mod normalize;
pub mod signature;
pub mod testing;

mod adapter;
mod error;
mod parsed;
mod request;

pub use adapter::{Adapter, DEFAULT_MAX_BODY_BYTES};
pub use adapters::{adapter, registry};
pub use error::AdapterError;
pub use parsed::{Ignored, IgnoredKind, Parsed, Unusable, UnusableReason};
pub use request::{SecretStore, Secrets, VerifyPolicy, WebhookRequest, WebhookResponse};

use chrono::{TimeZone, Utc};
use http::Method;

/// Handles a delivery (`POST`): size, content type, authenticity, parsing and contract validation,
/// in that order. See the crate docs for what the gateway does with the result.
pub fn receive(
    adapter: &dyn Adapter,
    request: &WebhookRequest<'_>,
    secrets: &Secrets<'_>,
    policy: &VerifyPolicy,
) -> Result<Parsed, AdapterError> {
    let limit = adapter.max_body_bytes();
    if request.body.len() > limit {
        return Err(AdapterError::PayloadTooLarge { limit });
    }
    let content_type = request.content_type();
    if !adapter.accepts_content_type(content_type) {
        return Err(AdapterError::UnsupportedMediaType {
            got: content_type
                .map(|value| normalize::text::truncate_at_char_boundary(value, 100).to_owned()),
            expected: adapter.content_types().join(" or "),
        });
    }
    adapter.verify(request, secrets, policy)?;
    adapter.parse(request).map(Parsed::into_validated)
}

/// Handles a verification handshake (`GET`). An adapter without one answers 405.
pub fn handshake(
    adapter: &dyn Adapter,
    request: &WebhookRequest<'_>,
    secrets: &Secrets<'_>,
) -> Result<WebhookResponse, AdapterError> {
    adapter
        .handshake(request, secrets)?
        .ok_or_else(|| AdapterError::MethodNotAllowed {
            method: request.method.to_string(),
        })
}

/// Parses `body` as `adapter` would after authentication, without any: the entry point for fuzz
/// targets and property tests (`fn(&[u8]) -> Result`). The request has tenant `fuzz`, the given
/// content type and a fixed receive time.
pub fn parse_bytes(
    adapter: &dyn Adapter,
    content_type: &str,
    body: &[u8],
) -> Result<Parsed, AdapterError> {
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        headers.insert(http::header::CONTENT_TYPE, value);
    }
    let request = WebhookRequest {
        tenant: "fuzz",
        method: &Method::POST,
        public_url: "https://ingest.example.com/v1/webhooks/fuzz/source",
        headers: &headers,
        query: "",
        body,
        // 2025-03-14T00:00:00Z: fixed, so runs are reproducible.
        received_at: Utc
            .timestamp_opt(1_741_910_400, 0)
            .single()
            .unwrap_or_default(),
    };
    adapter.parse(&request).map(Parsed::into_validated)
}
