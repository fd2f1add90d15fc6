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

/// A tenant's webhook configuration that no adapter would ever read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookConfigProblem {
    /// `tenants.<tenant>.webhooks.<source>` names no adapter.
    #[error(
        "tenants.{tenant}.webhooks.{source_id}: unknown webhook source `{source_id}` of tenant \
         `{tenant}`; known sources: {known}"
    )]
    UnknownSource {
        /// The tenant id.
        tenant: String,
        /// The configured source.
        source_id: String,
        /// The registered source ids, comma-separated.
        known: String,
    },
    /// `tenants.<tenant>.webhooks.<source>.<name>` is not a secret the adapter reads.
    #[error(
        "tenants.{tenant}.webhooks.{source_id}.{name}: unknown secret `{name}` for source \
         `{source_id}` of tenant `{tenant}`; valid names: {valid}"
    )]
    UnknownSecret {
        /// The tenant id.
        tenant: String,
        /// The source id.
        source_id: String,
        /// The configured secret name.
        name: String,
        /// The names the adapter reads, comma-separated.
        valid: String,
    },
}

/// Every configured webhook source and secret name that no adapter reads.
///
/// The configuration crate does not know the adapters, so it accepts any name; a misspelt one
/// (`app_secert`) would otherwise pass silently and every delivery would fail with 401
/// `not_configured`. The gateway refuses to start instead ([`crate::bind`]).
pub fn webhook_config_problems(config: &Config) -> Vec<WebhookConfigProblem> {
    let known = || {
        lintas_adapters::registry()
            .iter()
            .map(|adapter| adapter.id())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut problems = Vec::new();
    for (tenant, tenant_config) in &config.tenants {
        for (source, secrets) in &tenant_config.webhooks {
            let Some(adapter) = lintas_adapters::adapter(source) else {
                problems.push(WebhookConfigProblem::UnknownSource {
                    tenant: tenant.clone(),
                    source_id: source.clone(),
                    known: known(),
                });
                continue;
            };
            let valid = adapter.secret_names();
            for name in secrets.keys() {
                if !valid.contains(&name.as_str()) {
                    problems.push(WebhookConfigProblem::UnknownSecret {
                        tenant: tenant.clone(),
                        source_id: source.clone(),
                        name: name.clone(),
                        valid: valid.join(", "),
                    });
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;

    fn settings() -> GatewaySettings {
        let config = lintas_config::load(None, Default::default()).expect("defaults are valid");
        GatewaySettings::from_config(&config)
    }

    fn config(env: &[(&str, &str)]) -> Config {
        let env = env
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        lintas_config::load(None, env).expect("valid config")
    }

    #[test]
    fn known_sources_and_secret_names_pass() {
        let config = config(&[
            (
                "LINTAS__TENANTS__ACME__WEBHOOKS__WHATSAPP__APP_SECRET",
                "s1",
            ),
            (
                "LINTAS__TENANTS__ACME__WEBHOOKS__WHATSAPP__VERIFY_TOKEN",
                "s2",
            ),
            (
                "LINTAS__TENANTS__ACME__WEBHOOKS__STRIPE__ENDPOINT_SECRET",
                "s3",
            ),
        ]);
        assert_eq!(webhook_config_problems(&config), []);
    }

    #[test]
    fn a_misspelt_secret_or_source_is_named_with_the_valid_choices() {
        let config = config(&[
            (
                "LINTAS__TENANTS__ACME__WEBHOOKS__WHATSAPP__APP_SECERT",
                "s1",
            ),
            (
                "LINTAS__TENANTS__ACME__WEBHOOKS__STRIPPE__ENDPOINT_SECRET",
                "s2",
            ),
        ]);
        let problems = webhook_config_problems(&config);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            messages
                .iter()
                .any(|message| message.contains("tenant `acme`")
                    && message.contains("source `whatsapp`")
                    && message.contains("`app_secert`")
                    && message.contains("valid names: app_secret, verify_token")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|message| message.contains("`strippe`")
                && message.contains("tenant `acme`")
                && message.contains("known sources:")
                && message.contains("stripe")),
            "{messages:?}"
        );
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
