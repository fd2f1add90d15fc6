//! Client errors logged at a bounded rate.
//!
//! With a broker down, librdkafka reports every failed reconnect and metadata refresh to the
//! consumer as an error: dozens per second, which buried every other line of the role's log
//! (and a log pipeline's budget). The first error is logged at once, later ones at most once per
//! interval with the count held back in between, so the log still says that it goes on and how
//! often.

use std::time::{Duration, Instant};

/// Decides which errors of a stream to log; see the module docs.
#[derive(Debug, Clone)]
pub struct ErrorThrottle {
    interval: Duration,
    last_logged: Option<Instant>,
    held_back: u64,
}

impl ErrorThrottle {
    /// At most one logged error per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_logged: None,
            held_back: 0,
        }
    }

    /// An error happened at `now`: `Some(n)` if it should be logged, `n` being how many were
    /// held back since the last one logged; `None` if it is held back.
    pub fn admit(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last_logged
            .is_none_or(|last| now.saturating_duration_since(last) >= self.interval);
        if due {
            self.last_logged = Some(now);
            Some(std::mem::take(&mut self.held_back))
        } else {
            self.held_back += 1;
            None
        }
    }
}

impl Default for ErrorThrottle {
    /// One logged error per 10 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_is_logged_then_one_per_interval_with_the_count_held_back() {
        let start = Instant::now();
        let mut throttle = ErrorThrottle::new(Duration::from_secs(10));
        assert_eq!(throttle.admit(start), Some(0));
        for ms in (25..10_000).step_by(25) {
            assert_eq!(throttle.admit(start + Duration::from_millis(ms)), None);
        }
        assert_eq!(throttle.admit(start + Duration::from_secs(10)), Some(399));
        assert_eq!(throttle.admit(start + Duration::from_secs(11)), None);
        assert_eq!(throttle.admit(start + Duration::from_secs(30)), Some(1));
    }
}
