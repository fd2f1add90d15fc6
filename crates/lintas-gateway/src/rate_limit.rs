//! Per-tenant request rate limits: one GCRA bucket per tenant (`gateway.rate_limit_per_sec`
//! sustained, `gateway.rate_limit_burst` at once), checked before the body is read.
//!
//! Keys are tenant ids that passed authentication or the tenant lookup, so the key set is bounded
//! by configuration and an attacker cannot grow it with made-up tenants.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The per-tenant limiter.
#[derive(Debug)]
pub(crate) struct TenantRateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl TenantRateLimiter {
    pub(crate) fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Admits one request of `tenant`, or says how long until the next one would be admitted.
    pub(crate) fn check(&self, tenant: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&tenant.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonzero(value: u32) -> NonZeroU32 {
        NonZeroU32::new(value).expect("non-zero")
    }

    #[test]
    fn a_tenant_gets_its_burst_then_must_wait_while_others_are_unaffected() {
        let limiter = TenantRateLimiter::new(nonzero(1), nonzero(3));

        for _ in 0..3 {
            assert!(limiter.check("acme").is_ok());
        }
        let wait = limiter.check("acme").expect_err("burst used up");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limiter.check("globex").is_ok(), "buckets are per tenant");
    }
}
