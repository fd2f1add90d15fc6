//! The [`Adapter`] trait: one implementation per platform.

use crate::{AdapterError, Parsed, Secrets, VerifyPolicy, WebhookRequest, WebhookResponse};

/// Chat platforms send small bodies (WhatsApp caps a text at 4096 characters); 1 MiB leaves room
/// for batches and stays far from memory trouble. Order and e-mail adapters override it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// One platform's webhook: how to authenticate its requests and turn them into events.
///
/// Implementations are stateless unit structs (`pub struct Whatsapp;`), pure: no I/O, no clock
/// (the receive time is in the request), no global state. The gateway calls them through
/// [`receive`](crate::receive) and [`handshake`](crate::handshake), which fix the order of the
/// checks; the methods are public so tests and fuzzers can reach each step.
pub trait Adapter: Send + Sync + std::fmt::Debug {
    /// The source id: the `{source}` URL segment, the `source` of every event, the config key
    /// `[tenants.<t>.webhooks.<id>]`. Lowercase, never renamed (it is part of every `event_id`).
    fn id(&self) -> &'static str;

    /// Names of the secrets this adapter reads, the one authenticating deliveries first. The
    /// gateway can check at start-up that each configured source has them.
    fn secret_names(&self) -> &'static [&'static str];

    /// Largest accepted body in bytes (413 beyond).
    fn max_body_bytes(&self) -> usize {
        DEFAULT_MAX_BODY_BYTES
    }

    /// Media types (lowercase, without parameters) the platform sends deliveries as, e.g.
    /// `["application/json"]`; named in the 415 message.
    fn content_types(&self) -> &'static [&'static str];

    /// Whether a delivery with this `Content-Type` (`None` when absent) is accepted (415 if not).
    /// Decided on the header alone, parameters such as `charset` ignored: the body is never
    /// sniffed.
    fn accepts_content_type(&self, content_type: Option<&str>) -> bool {
        content_type.is_some_and(|value| {
            let media_type = crate::codec::media_type(value);
            self.content_types().contains(&media_type.as_str())
        })
    }

    /// Answers a `GET` verification challenge (Meta's `hub.challenge`). `Ok(None)`: this adapter
    /// has no handshake and the gateway answers 405.
    fn handshake(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
    ) -> Result<Option<WebhookResponse>, AdapterError> {
        let _ = (request, secrets);
        Ok(None)
    }

    /// Authenticates a delivery: signature or token compared in constant time with the tenant's
    /// secret, signed timestamps checked against `request.received_at` with the policy's
    /// tolerance. Reads only what the signature needs; never parses the payload.
    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
        policy: &VerifyPolicy,
    ) -> Result<(), AdapterError>;

    /// Turns an authenticated delivery into events. Must not panic on any input:
    /// [`AdapterError::Malformed`] for a body the platform would not send, [`Parsed::unusable`]
    /// for authentic items that cannot become events, [`Parsed::ignored`] for the rest.
    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError>;

    /// The response for an accepted delivery, sent after Kafka acknowledged the events.
    fn success_response(&self) -> WebhookResponse {
        WebhookResponse::ok_empty()
    }
}
