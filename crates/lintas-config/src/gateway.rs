//! `[gateway]`: the HTTP intake (`POST /v1/events`, `POST /v1/webhooks/{tenant}/{source}`).

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validator::Validator;

/// Largest accepted request body: bigger batches belong in several requests.
const MAX_BODY_LIMIT_BYTES: u64 = 1 << 30;
/// Longest wait for Kafka's acknowledgement; clients and load balancers give up long before.
const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
/// Widest replay window for signed webhooks.
const MAX_TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(24 * 3600);

/// The HTTP intake role.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayConfig {
    /// `gateway.listen`: address of the public HTTP server.
    pub listen: SocketAddr,
    /// `gateway.body_limit_bytes`: requests with a larger body get 413.
    pub body_limit_bytes: NonZeroUsize,
    /// `gateway.request_timeout`: how long a request waits for Kafka to acknowledge its events
    /// before the gateway answers 503 with `Retry-After`.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// `gateway.rate_limit_per_sec`: sustained requests per second per tenant; beyond it, 429.
    pub rate_limit_per_sec: NonZeroU32,
    /// `gateway.rate_limit_burst`: requests a tenant may send at once above the sustained rate
    /// (the token bucket's size).
    pub rate_limit_burst: NonZeroU32,
    /// `gateway.webhook_timestamp_tolerance`: signed webhooks whose timestamp is further than
    /// this from the gateway's clock are rejected as replays.
    #[serde(with = "humantime_serde")]
    pub webhook_timestamp_tolerance: Duration,
    /// `gateway.public_url`: scheme and host the platforms call, e.g.
    /// `https://ingest.example.com`. Signatures that cover the URL (Twilio) are checked against
    /// it; unset, the URL is rebuilt from the request's forwarded headers.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_public_url"
    )]
    pub public_url: Option<url::Url>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawGateway {
    listen: Value,
    body_limit_bytes: Value,
    request_timeout: Value,
    rate_limit_per_sec: Value,
    rate_limit_burst: Value,
    webhook_timestamp_tolerance: Value,
    public_url: Value,
}

pub(crate) fn validate(raw: RawGateway, v: &mut Validator) -> Option<GatewayConfig> {
    let listen = v.socket_addr("gateway.listen", &raw.listen);
    let body_limit_bytes = v.integer(
        "gateway.body_limit_bytes",
        &raw.body_limit_bytes,
        1,
        MAX_BODY_LIMIT_BYTES,
    );
    let request_timeout = v.positive_duration(
        "gateway.request_timeout",
        &raw.request_timeout,
        MAX_REQUEST_TIMEOUT,
    );
    let rate_limit_per_sec = v.integer(
        "gateway.rate_limit_per_sec",
        &raw.rate_limit_per_sec,
        1,
        u64::from(u32::MAX),
    );
    let rate_limit_burst = v.integer(
        "gateway.rate_limit_burst",
        &raw.rate_limit_burst,
        1,
        u64::from(u32::MAX),
    );
    let webhook_timestamp_tolerance = v.positive_duration(
        "gateway.webhook_timestamp_tolerance",
        &raw.webhook_timestamp_tolerance,
        MAX_TIMESTAMP_TOLERANCE,
    );
    let public_url = validate_public_url(&raw.public_url, v);
    Some(GatewayConfig {
        listen: listen?,
        body_limit_bytes: body_limit_bytes?,
        request_timeout: request_timeout?,
        rate_limit_per_sec: rate_limit_per_sec?,
        rate_limit_burst: rate_limit_burst?,
        webhook_timestamp_tolerance: webhook_timestamp_tolerance?,
        public_url: public_url?,
    })
}

fn serialize_public_url<S: serde::Serializer>(
    url: &Option<url::Url>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.collect_str(url),
        None => serializer.serialize_none(),
    }
}

fn validate_public_url(raw: &Value, v: &mut Validator) -> Option<Option<url::Url>> {
    let text = v.optional_string("gateway.public_url", raw)?;
    let Some(text) = text.filter(|text| !text.trim().is_empty()) else {
        return Some(None);
    };
    match url::Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Some(Some(url))
        }
        _ => {
            v.invalid(
                "gateway.public_url",
                &text,
                "an http or https URL with a host, such as https://ingest.example.com",
            );
            None
        }
    }
}
