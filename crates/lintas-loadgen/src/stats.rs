//! What a run measured: counts per outcome and request latencies, merged from every worker, and
//! the summary printed at the end (rates and percentiles).
//!
//! Each worker records into its own [`Tally`] (no locks on the request path); the runner merges
//! them once at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Longest latency the histogram tracks exactly, in microseconds; slower requests are clamped
/// to it (the request timeout ends them well before anyway).
const MAX_TRACKED_LATENCY_US: u64 = 600_000_000;
/// Significant decimal digits kept by the histogram: 3 = within 0.1 %.
const SIGNIFICANT_DIGITS: u8 = 3;
/// Response bodies kept per failing status, for the error report.
const SAMPLE_BODY_CHARS: usize = 300;

/// Counts and latencies of one worker, or of the whole run after [`Tally::merge`].
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    /// Requests that got a response or failed in transport.
    pub(crate) num_requests: u64,
    /// Events in the bodies of those requests.
    pub(crate) num_events_sent: u64,
    /// Events the gateway listed as accepted in 2xx answers.
    pub(crate) num_accepted: u64,
    /// Events the gateway listed as rejected in 2xx answers.
    pub(crate) num_rejected: u64,
    /// Responses per HTTP status.
    pub(crate) statuses: BTreeMap<u16, u64>,
    /// Requests that got no HTTP response (connection refused or reset, timeout).
    pub(crate) num_transport_errors: u64,
    /// The first response body (or transport error) per failure kind, shortened.
    pub(crate) error_samples: BTreeMap<String, String>,
    latencies_us: Histogram<u64>,
}

impl Tally {
    pub(crate) fn new() -> Self {
        // The bounds are constants that hdrhistogram accepts (low 1, high >= 2 * low, 3 digits).
        let latencies_us =
            Histogram::new_with_bounds(1, MAX_TRACKED_LATENCY_US, SIGNIFICANT_DIGITS)
                .expect("constant histogram bounds are valid");
        Self {
            num_requests: 0,
            num_events_sent: 0,
            num_accepted: 0,
            num_rejected: 0,
            statuses: BTreeMap::new(),
            num_transport_errors: 0,
            error_samples: BTreeMap::new(),
            latencies_us,
        }
    }

    /// Records a request that got an HTTP answer after `latency`.
    pub(crate) fn record_response(&mut self, status: u16, num_events: u64, latency: Duration) {
        self.num_requests += 1;
        self.num_events_sent += num_events;
        *self.statuses.entry(status).or_default() += 1;
        self.record_latency(latency);
    }

    /// Records a request that got no answer.
    pub(crate) fn record_transport_error(&mut self, num_events: u64, error: &str) {
        self.num_requests += 1;
        self.num_events_sent += num_events;
        self.num_transport_errors += 1;
        self.sample_error("transport".to_owned(), error);
    }

    /// Keeps the first `body` seen for failure `kind`.
    pub(crate) fn sample_error(&mut self, kind: String, body: &str) {
        self.error_samples
            .entry(kind)
            .or_insert_with(|| body.chars().take(SAMPLE_BODY_CHARS).collect());
    }

    fn record_latency(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latencies_us
            .saturating_record(micros.clamp(1, MAX_TRACKED_LATENCY_US));
    }

    /// Requests answered with a status outside 2xx, or not answered.
    pub(crate) fn num_failed_requests(&self) -> u64 {
        let non_success: u64 = self
            .statuses
            .iter()
            .filter(|(status, _)| !(200..300).contains(*status))
            .map(|(_, count)| count)
            .sum();
        non_success + self.num_transport_errors
    }

    /// Adds `other` into `self`.
    pub(crate) fn merge(&mut self, other: &Self) {
        self.num_requests += other.num_requests;
        self.num_events_sent += other.num_events_sent;
        self.num_accepted += other.num_accepted;
        self.num_rejected += other.num_rejected;
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
        self.num_transport_errors += other.num_transport_errors;
        for (kind, body) in &other.error_samples {
            self.error_samples
                .entry(kind.clone())
                .or_insert_with(|| body.clone());
        }
        // Both histograms have the same bounds, so adding cannot fail; values beyond them were
        // clamped when recorded.
        let _ignored = self.latencies_us.add(&other.latencies_us);
    }

    /// Latency percentiles in milliseconds; all zero when nothing was recorded.
    pub(crate) fn latency_summary(&self) -> LatencySummary {
        let histogram = &self.latencies_us;
        if histogram.is_empty() {
            return LatencySummary::default();
        }
        let ms = |micros: u64| micros as f64 / 1_000.0;
        LatencySummary {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
            mean: histogram.mean() / 1_000.0,
        }
    }
}

/// Request latency percentiles, in milliseconds (send to last byte of the answer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(crate) struct LatencySummary {
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
    pub(crate) mean: f64,
}

/// `count` per second over `elapsed`; 0 for an empty interval.
pub(crate) fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally_with_latencies_ms(latencies: impl IntoIterator<Item = u64>) -> Tally {
        let mut tally = Tally::new();
        for ms in latencies {
            tally.record_response(202, 10, Duration::from_millis(ms));
        }
        tally
    }

    /// hdrhistogram with 3 significant digits reports within 0.1 %.
    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= expected * 0.001 + 0.001,
            "{actual} is not within 0.1 % of {expected}"
        );
    }

    #[test]
    fn percentiles_of_one_to_a_thousand_milliseconds() {
        let summary = tally_with_latencies_ms(1..=1_000).latency_summary();
        assert_close(summary.p50, 500.0);
        assert_close(summary.p90, 900.0);
        assert_close(summary.p99, 990.0);
        assert_close(summary.max, 1_000.0);
        assert_close(summary.mean, 500.5);
    }

    #[test]
    fn one_slow_request_shows_in_max_and_not_in_the_median() {
        let summary = tally_with_latencies_ms((0..999).map(|_| 2).chain([4_000])).latency_summary();
        assert_close(summary.p50, 2.0);
        assert_close(summary.p99, 2.0);
        assert_close(summary.max, 4_000.0);
    }

    #[test]
    fn an_empty_tally_has_zero_latencies_and_rates() {
        assert_eq!(Tally::new().latency_summary(), LatencySummary::default());
        assert_eq!(per_second(10, Duration::ZERO), 0.0);
        assert_eq!(per_second(500, Duration::from_millis(250)), 2_000.0);
    }

    #[test]
    fn merging_adds_counts_statuses_and_latencies() {
        let mut total = tally_with_latencies_ms([10, 20]);
        total.num_accepted = 20;
        let mut other = tally_with_latencies_ms([30]);
        other.num_accepted = 9;
        other.num_rejected = 1;
        other.record_response(503, 10, Duration::from_millis(5));
        other.record_transport_error(10, "connection refused");

        total.merge(&other);

        assert_eq!(total.num_requests, 5);
        assert_eq!(total.num_events_sent, 50);
        assert_eq!((total.num_accepted, total.num_rejected), (29, 1));
        assert_eq!(total.statuses, BTreeMap::from([(202, 3), (503, 1)]));
        assert_eq!(total.num_failed_requests(), 2);
        assert_eq!(total.error_samples["transport"], "connection refused");
        assert_close(total.latency_summary().max, 30.0);
    }

    #[test]
    fn the_first_error_sample_per_kind_is_kept_and_shortened() {
        let mut tally = Tally::new();
        tally.sample_error("503".to_owned(), &"x".repeat(1_000));
        tally.sample_error("503".to_owned(), "later");
        assert_eq!(tally.error_samples["503"].len(), SAMPLE_BODY_CHARS);
    }
}
