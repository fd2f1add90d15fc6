//! Helpers for tests, fuzz targets and benchmarks: an owned request and the platforms' signing
//! algorithms, so a test can sign its own body. The gateway has no use for them.

use chrono::{DateTime, Utc};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};

use crate::codec::decode_form;
use crate::signature::{encode_base64, hmac_sha1, hmac_sha256};
use crate::{AdapterError, WebhookRequest};

/// A webhook request that owns its parts; [`OwnedRequest::as_request`] borrows a
/// [`WebhookRequest`] from it.
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    /// Tenant id.
    pub tenant: String,
    /// HTTP method.
    pub method: Method,
    /// Full public URL, query included.
    pub public_url: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Raw query string without `?`.
    pub query: String,
    /// Raw body.
    pub body: Vec<u8>,
    /// Receive time ("now").
    pub received_at: DateTime<Utc>,
}

impl OwnedRequest {
    /// A request for `tenant` at `public_url` (its query string is split off into `query`).
    pub fn new(
        tenant: &str,
        method: Method,
        public_url: &str,
        body: Vec<u8>,
        received_at: DateTime<Utc>,
    ) -> Self {
        let query = public_url
            .split_once('?')
            .map(|(_, query)| query.to_owned())
            .unwrap_or_default();
        Self {
            tenant: tenant.to_owned(),
            method,
            public_url: public_url.to_owned(),
            headers: HeaderMap::new(),
            query,
            body,
            received_at,
        }
    }

    /// Adds a header; an invalid name or value is an error rather than silently dropped.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, AdapterError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| AdapterError::malformed(format!("invalid header name {name:?}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| AdapterError::malformed(format!("invalid value for header {name}")))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Removes every value of header `name`.
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.remove(name);
        self
    }

    /// The borrowed view adapters take.
    pub fn as_request(&self) -> WebhookRequest<'_> {
        WebhookRequest {
            tenant: &self.tenant,
            method: &self.method,
            public_url: &self.public_url,
            headers: &self.headers,
            query: &self.query,
            body: &self.body,
            received_at: self.received_at,
        }
    }
}

/// `X-Hub-Signature-256` value for `body` (Meta: WhatsApp, Messenger, Instagram).
pub fn meta_signature(app_secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(app_secret.as_bytes(), &[body]))
    )
}

/// `X-Twilio-Signature` value for a form `body` posted to `url`.
pub fn twilio_signature(auth_token: &str, url: &str, body: &[u8]) -> Result<String, AdapterError> {
    let mut params = decode_form(body)?;
    params.sort();
    params.dedup();
    let mut message = url.as_bytes().to_vec();
    for (name, value) in &params {
        message.extend_from_slice(name.as_bytes());
        message.extend_from_slice(value.as_bytes());
    }
    Ok(encode_base64(&hmac_sha1(
        auth_token.as_bytes(),
        &[&message],
    )))
}

/// `Stripe-Signature` value for `body` signed at `timestamp` (Unix seconds).
pub fn stripe_signature(endpoint_secret: &str, timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let mac = hmac_sha256(endpoint_secret.as_bytes(), &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex::encode(mac))
}

/// Mailgun's `signature` form field for `timestamp` (Unix seconds) and `token`.
pub fn mailgun_signature(signing_key: &str, timestamp: i64, token: &str) -> String {
    let t = timestamp.to_string();
    hex::encode(hmac_sha256(
        signing_key.as_bytes(),
        &[t.as_bytes(), token.as_bytes()],
    ))
}

/// `X-Zendesk-Webhook-Signature` value for `body` signed with the
/// `X-Zendesk-Webhook-Signature-Timestamp` value `timestamp`.
pub fn zendesk_signature(signing_secret: &str, timestamp: &str, body: &[u8]) -> String {
    encode_base64(&hmac_sha256(
        signing_secret.as_bytes(),
        &[timestamp.as_bytes(), body],
    ))
}

/// `Authorization` value for HTTP Basic credentials (Postmark).
pub fn basic_authorization(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        encode_base64(format!("{user}:{pass}").as_bytes())
    )
}

/// `X-Chatwoot-Signature` value for `body` sent with `X-Chatwoot-Timestamp: <timestamp>`.
pub fn chatwoot_signature(webhook_secret: &str, timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let mac = hmac_sha256(webhook_secret.as_bytes(), &[t.as_bytes(), b".", body]);
    format!("sha256={}", hex::encode(mac))
}
