//! What the gateway hands an adapter (the request, the tenant's secrets, the verification policy)
//! and what an adapter hands back to be sent to the platform.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode};

use crate::AdapterError;

/// One webhook request as the platform sent it. Everything is borrowed from the gateway's request;
/// the adapter performs no I/O and reads no clock.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// Tenant id from the URL (`/v1/webhooks/{tenant}/{source}`), already checked by the gateway.
    pub tenant: &'a str,
    /// `POST` for deliveries, `GET` for verification handshakes.
    pub method: &'a Method,
    /// The full URL as the platform called it: scheme, public host, path and query string exactly
    /// as sent (`https://ingest.example.com/v1/webhooks/acme/twilio?x=1`). Signatures that cover
    /// the URL (Twilio) are computed over it, so the gateway builds it from its configured public
    /// base URL, not from a `Host` header behind a proxy.
    pub public_url: &'a str,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The raw (still percent-encoded) query string without `?`, empty when none.
    pub query: &'a str,
    /// The raw body bytes. Signatures are always verified over these, never a re-serialization.
    pub body: &'a [u8],
    /// When the gateway received the request: the fallback `occurred_at`, the `received_at` of
    /// every event and the reference of replay windows. One reading per request keeps adapters pure.
    pub received_at: DateTime<Utc>,
}

impl<'a> WebhookRequest<'a> {
    /// The value of header `name` when present and visible ASCII; `None` otherwise.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    }

    /// The `Content-Type` header, `None` when absent or not ASCII.
    pub fn content_type(&self) -> Option<&'a str> {
        self.header(http::header::CONTENT_TYPE.as_str())
    }
}

/// Where [`Secrets`] come from. The gateway implements it for its configuration type (a map of
/// secret name to value for one tenant and source); maps of strings implement it already.
pub trait SecretStore: Send + Sync {
    /// The secret named `name`, e.g. `app_secret`; `None` when not configured.
    fn secret(&self, name: &str) -> Option<&str>;
}

impl SecretStore for BTreeMap<String, String> {
    fn secret(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl<S: std::hash::BuildHasher + Send + Sync> SecretStore for HashMap<String, String, S> {
    fn secret(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl<const N: usize> SecretStore for [(&str, &str); N] {
    fn secret(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    }
}

/// The secrets one tenant configured for one source (`[tenants.<t>.webhooks.<source>]`), looked
/// up by name. `Debug` lists nothing, so a secret cannot leak through a log of this value.
#[derive(Clone, Copy)]
pub struct Secrets<'a> {
    store: &'a dyn SecretStore,
}

impl<'a> Secrets<'a> {
    /// Wraps the tenant's secrets for this source.
    pub fn new(store: &'a dyn SecretStore) -> Self {
        Self { store }
    }

    /// The secret `name`, `None` when not configured or empty.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.store.secret(name).filter(|value| !value.is_empty())
    }

    /// The secret `name`, or [`AdapterError::NotConfigured`] naming it.
    pub fn require(&self, name: &'static str) -> Result<&'a str, AdapterError> {
        self.get(name)
            .ok_or(AdapterError::NotConfigured { secret: name })
    }
}

impl fmt::Debug for Secrets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// How strictly signatures are checked; from the gateway's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyPolicy {
    /// Signed timestamps (Stripe `t=`) further than this from the receive time, in either
    /// direction, are refused as replays (`gateway.webhook_timestamp_tolerance`, default 5 min,
    /// Stripe's own default).
    pub timestamp_tolerance: Duration,
}

impl VerifyPolicy {
    /// Refuses a signature made at `signed_at` (Unix seconds, carried in `header`) that lies
    /// further than the tolerance from `received_at`, in either direction, as a replay.
    pub fn check_timestamp(
        &self,
        header: &'static str,
        signed_at: i64,
        received_at: DateTime<Utc>,
    ) -> Result<(), AdapterError> {
        let skew_seconds = signed_at.saturating_sub(received_at.timestamp());
        let tolerance_seconds = self.timestamp_tolerance.as_secs();
        if skew_seconds.unsigned_abs() > tolerance_seconds {
            return Err(AdapterError::TimestampOutsideTolerance {
                header,
                skew_seconds,
                tolerance_seconds,
            });
        }
        Ok(())
    }
}

impl Default for VerifyPolicy {
    fn default() -> Self {
        Self {
            timestamp_tolerance: Duration::from_secs(300),
        }
    }
}

/// A response for the platform, sent verbatim by the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// Status code.
    pub status: StatusCode,
    /// `Content-Type` of `body`; `None` for an empty body.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Bytes,
}

impl WebhookResponse {
    /// `200 OK` with an empty body: what most platforms expect.
    pub fn ok_empty() -> Self {
        Self {
            status: StatusCode::OK,
            content_type: None,
            body: Bytes::new(),
        }
    }

    /// `200 OK` with a plain-text body (a verification challenge echoed back).
    pub fn ok_text(body: impl Into<Bytes>) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: Some("text/plain; charset=utf-8"),
            body: body.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_secrets_shows_no_value() {
        let store = [("app_secret", "corpus_meta_app_secret_0002")];
        let secrets = Secrets::new(&store);
        let printed = format!("{secrets:?}");
        assert!(!printed.contains("corpus_meta"), "{printed}");
        assert_eq!(
            secrets.get("app_secret"),
            Some("corpus_meta_app_secret_0002")
        );
    }

    #[test]
    fn empty_and_missing_secrets_are_not_configured() {
        let store: BTreeMap<String, String> = [("app_secret".to_owned(), String::new())].into();
        let secrets = Secrets::new(&store);
        assert_eq!(
            secrets.require("app_secret"),
            Err(AdapterError::NotConfigured {
                secret: "app_secret"
            })
        );
        assert_eq!(
            secrets.require("verify_token"),
            Err(AdapterError::NotConfigured {
                secret: "verify_token"
            })
        );
    }
}
