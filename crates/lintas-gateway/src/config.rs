//! What the gateway needs from the configuration, in the form its handlers use.
//!
//! Everything comes from the validated [`lintas_config::Config`] except two settings the
//! configuration does not have yet and which embedding code (tests, `lintas run`) may set:
//!
//! - **`public_url`**: the scheme and host platforms call, e.g. `https://ingest.example.com`.
//!   Signatures that cover the URL (Twilio) are verified against `public_url` + path + query. When
//!   unset, the URL is rebuilt from the request: scheme from `X-Forwarded-Proto` (else `http`),
//!   host from `X-Forwarded-Host` (else `Host`). Behind a proxy that rewrites either, URL-signed
//!   webhooks fail with 401 until `public_url` is set.
//! - **`max_batch_events`**: most events per `POST /v1/events` request ([`DEFAULT_MAX_BATCH_EVENTS`]).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use lintas_adapters::VerifyPolicy;
use lintas_config::{Config, GatewayConfig};
use url::Url;

/// Most events in one `POST /v1/events` request. Bounded so one request holds the producer for a
/// bounded time and its response stays small; clients send several requests for more.
pub const DEFAULT_MAX_BATCH_EVENTS: usize = 1000;

/// The gateway's settings.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Address of the public HTTP server.
    pub listen: SocketAddr,
    /// Largest `POST /v1/events` body in bytes (webhooks use their adapter's own limit).
    pub body_limit_bytes: usize,
    /// Most events per `POST /v1/events` request.
    pub max_batch_events: usize,
    /// How long a request may take, Kafka's acknowledgement included, before 503.
    pub request_timeout: Duration,
    /// Sustained requests per second per tenant.
    pub rate_limit_per_sec: NonZeroU32,
    /// Requests a tenant may send at once above the sustained rate.
    pub rate_limit_burst: NonZeroU32,
    /// How strictly webhook signatures are checked.
    pub verify_policy: VerifyPolicy,
    /// Scheme and host platforms call (no path); `None` rebuilds it from each request.
    pub public_url: Option<Url>,
    /// Topic of accepted events.
    pub topic_raw: String,
    /// Dead-letter topic.
    pub topic_dlq: String,
}

impl GatewaySettings {
    /// The settings of `config`.
    pub fn from_config(config: &Config) -> Self {
        let gateway: &GatewayConfig = &config.gateway;
        Self {
            listen: gateway.listen,
            body_limit_bytes: gateway.body_limit_bytes.get(),
            max_batch_events: DEFAULT_MAX_BATCH_EVENTS,
            request_timeout: gateway.request_timeout,
            rate_limit_per_sec: gateway.rate_limit_per_sec,
            rate_limit_burst: gateway.rate_limit_burst,
            verify_policy: VerifyPolicy {
                timestamp_tolerance: gateway.webhook_timestamp_tolerance,
            },
            public_url: gateway.public_url.clone(),
            topic_raw: config.kafka.topic_raw.clone(),
            topic_dlq: config.kafka.topic_dlq.clone(),
        }
    }

    /// Sets the public base URL platforms call; only its scheme, host and port are used.
    #[must_use]
    pub fn with_public_url(mut self, public_url: Url) -> Self {
        self.public_url = Some(public_url);
        self
    }

    /// The full URL of a request as the platform called it: the public base (configured, else
    /// from the forwarding headers) + `path_and_query`.
    pub(crate) fn request_url(&self, headers: &http::HeaderMap, path_and_query: &str) -> String {
        if let Some(base) = &self.public_url {
            let origin = base.origin().ascii_serialization();
            return format!("{origin}{path_and_query}");
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                // Proxies append to these lists; the first entry is what the client called.
                .and_then(|value| value.split(',').next())
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        let scheme = match header("x-forwarded-proto") {
            Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let host = header("x-forwarded-host")
            .or_else(|| header(http::header::HOST.as_str()))
            .unwrap_or("localhost");
        format!("{scheme}://{host}{path_and_query}")
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;

    fn settings() -> GatewaySettings {
        let config = lintas_config::load(None, Default::default()).expect("defaults are valid");
        GatewaySettings::from_config(&config)
    }

    #[test]
    fn a_configured_public_url_wins_over_request_headers() {
        let public = Url::parse("https://ingest.example.com/ignored/path").expect("url");
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("10.0.0.7:8080"));

        let url = settings()
            .with_public_url(public)
            .request_url(&headers, "/v1/webhooks/acme/twilio?x=1");

        assert_eq!(
            url,
            "https://ingest.example.com/v1/webhooks/acme/twilio?x=1"
        );
    }

    #[test]
    fn without_a_public_url_the_forwarded_headers_then_host_are_used() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("gateway:8080"));
        assert_eq!(
            settings().request_url(&headers, "/p"),
            "http://gateway:8080/p"
        );

        headers.insert("x-forwarded-proto", HeaderValue::from_static("https, http"));
        headers.insert(
            "x-forwarded-host",
            HeaderValue::from_static("ingest.example.com"),
        );
        assert_eq!(
            settings().request_url(&headers, "/p"),
            "https://ingest.example.com/p"
        );
    }
}
