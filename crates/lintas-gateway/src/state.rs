//! The state every handler shares: settings, tenants, the publisher, rate limits, readiness.

use std::sync::Arc;

use lintas_config::Config;

use crate::config::GatewaySettings;
use crate::error::GatewayError;
use crate::publisher::Publisher;
use crate::rate_limit::TenantRateLimiter;
use crate::readiness::KafkaStatus;

/// Shared, cheaply cloned handler state, generic over the Kafka seam.
#[derive(Debug)]
pub struct AppState<P> {
    inner: Arc<Inner<P>>,
}

impl<P> Clone for AppState<P> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

#[derive(Debug)]
struct Inner<P> {
    settings: GatewaySettings,
    config: Arc<Config>,
    publisher: P,
    limiter: TenantRateLimiter,
    kafka: KafkaStatus,
}

impl<P: Publisher> AppState<P> {
    /// State for `settings`, the tenants of `config`, `publisher` and the `kafka` readiness.
    pub fn new(
        settings: GatewaySettings,
        config: Arc<Config>,
        publisher: P,
        kafka: KafkaStatus,
    ) -> Self {
        let limiter =
            TenantRateLimiter::new(settings.rate_limit_per_sec, settings.rate_limit_burst);
        Self {
            inner: Arc::new(Inner {
                settings,
                config,
                publisher,
                limiter,
                kafka,
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &GatewaySettings {
        &self.inner.settings
    }

    /// The configuration (tenants, write keys, webhook secrets).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The Kafka seam.
    pub fn publisher(&self) -> &P {
        &self.inner.publisher
    }

    /// Admits one request of `tenant` or refuses it with 429.
    pub(crate) fn admit(&self, tenant: &str) -> Result<(), GatewayError> {
        self.inner
            .limiter
            .check(tenant)
            .map_err(|retry_after| GatewayError::RateLimited { retry_after })
    }

    /// Refuses with 503 at once while Kafka cannot take writes, instead of queueing data that
    /// would wait out the request timeout.
    pub(crate) fn require_kafka(&self) -> Result<(), GatewayError> {
        if self.inner.kafka.is_ready() {
            return Ok(());
        }
        Err(GatewayError::KafkaUnavailable {
            reason: self.inner.kafka.reason(),
        })
    }
}
