//! The end-of-run report: a human summary or one JSON object (`--json`) on stdout, and failures
//! on stderr.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::stats::{LatencySummary, Tally, per_second};

/// How the run was set up, echoed in the report so a figure is never separated from its setup.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Setup {
    pub(crate) endpoint: String,
    pub(crate) batch_size: u16,
    pub(crate) concurrency: u16,
    pub(crate) customers: u64,
    pub(crate) client_threads: usize,
    pub(crate) warmup_secs: f64,
    pub(crate) language_percent: u8,
}

/// What the measured phase (warm-up excluded) came to.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    #[serde(flatten)]
    pub(crate) setup: Setup,
    pub(crate) elapsed_secs: f64,
    pub(crate) requests: u64,
    pub(crate) requests_per_sec: f64,
    pub(crate) events_sent: u64,
    pub(crate) events_accepted: u64,
    pub(crate) events_rejected: u64,
    /// Accepted events per second: what the gateway acknowledged after Kafka did.
    pub(crate) events_per_sec: f64,
    pub(crate) failed_requests: u64,
    pub(crate) transport_errors: u64,
    /// Responses per HTTP status code.
    pub(crate) statuses: BTreeMap<String, u64>,
    pub(crate) latency_ms: LatencySummary,
    /// Whether the run stopped early after too many failed requests.
    pub(crate) aborted: bool,
    /// The first answer (or transport error) per kind of failure.
    pub(crate) errors: BTreeMap<String, String>,
    /// Every request succeeded and every event sent was accepted.
    pub(crate) ok: bool,
}

impl Report {
    pub(crate) fn new(setup: Setup, tally: &Tally, elapsed: Duration, aborted: bool) -> Self {
        let failed_requests = tally.num_failed_requests();
        let ok = !aborted
            && failed_requests == 0
            && tally.num_rejected == 0
            && tally.num_accepted == tally.num_events_sent
            && tally.num_requests > 0;
        Self {
            setup,
            elapsed_secs: elapsed.as_secs_f64(),
            requests: tally.num_requests,
            requests_per_sec: per_second(tally.num_requests, elapsed),
            events_sent: tally.num_events_sent,
            events_accepted: tally.num_accepted,
            events_rejected: tally.num_rejected,
            events_per_sec: per_second(tally.num_accepted, elapsed),
            failed_requests,
            transport_errors: tally.num_transport_errors,
            statuses: tally
                .statuses
                .iter()
                .map(|(status, count)| (status.to_string(), *count))
                .collect(),
            latency_ms: tally.latency_summary(),
            aborted,
            errors: tally.error_samples.clone(),
            ok,
        }
    }

    /// The human summary for stdout.
    pub(crate) fn summary(&self) -> String {
        let setup = &self.setup;
        let latency = &self.latency_ms;
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            "POST {} (batch {}, concurrency {}, {} customers, language on {}% of texts, \
             {} client thread(s), warm-up {:.1} s)",
            setup.endpoint,
            setup.batch_size,
            setup.concurrency,
            setup.customers,
            setup.language_percent,
            setup.client_threads,
            setup.warmup_secs
        );
        let _ = writeln!(text, "  elapsed     {:.2} s", self.elapsed_secs);
        let _ = writeln!(
            text,
            "  events/s    {:.0} (accepted by the gateway after Kafka acknowledged them)",
            self.events_per_sec
        );
        let _ = writeln!(text, "  requests/s  {:.1}", self.requests_per_sec);
        let _ = writeln!(
            text,
            "  events      {} sent, {} accepted, {} rejected",
            self.events_sent, self.events_accepted, self.events_rejected
        );
        let _ = writeln!(
            text,
            "  latency ms  p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}  (mean {:.1})",
            latency.p50, latency.p90, latency.p99, latency.max, latency.mean
        );
        let _ = writeln!(
            text,
            "  requests    {} ({}; {} transport errors)",
            self.requests,
            if statuses.is_empty() {
                "no answers".to_owned()
            } else {
                statuses.join(", ")
            },
            self.transport_errors
        );
        text
    }

    /// What went wrong, for stderr; `None` when the run was clean.
    pub(crate) fn failure(&self) -> Option<String> {
        if self.ok {
            return None;
        }
        let mut text = format!(
            "FAILED: {} of {} requests failed, {} of {} events accepted, {} rejected{}\n",
            self.failed_requests,
            self.requests,
            self.events_accepted,
            self.events_sent,
            self.events_rejected,
            if self.aborted {
                " (stopped early: too many failed requests)"
            } else {
                ""
            }
        );
        for (kind, sample) in &self.errors {
            let _ = writeln!(text, "  {kind}: {sample}");
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> Setup {
        Setup {
            endpoint: "http://127.0.0.1:8080/v1/events".to_owned(),
            batch_size: 500,
            concurrency: 8,
            customers: 100,
            client_threads: 1,
            warmup_secs: 0.0,
            language_percent: 0,
        }
    }

    #[test]
    fn a_clean_run_is_ok_and_reports_accepted_events_per_second() {
        let mut tally = Tally::new();
        for _ in 0..4 {
            tally.record_response(202, 500, Duration::from_millis(20));
        }
        tally.num_accepted = 2_000;
        let report = Report::new(setup(), &tally, Duration::from_secs(2), false);
        assert!(report.ok);
        assert_eq!(report.events_per_sec, 1_000.0);
        assert_eq!(report.requests_per_sec, 2.0);
        assert_eq!(report.statuses["202"], 4);
        assert!(report.failure().is_none());
        assert!(report.summary().contains("events/s    1000"));
    }

    #[test]
    fn a_non_2xx_answer_fails_the_run_and_is_shown_per_status() {
        let mut tally = Tally::new();
        tally.record_response(202, 500, Duration::from_millis(20));
        tally.num_accepted = 500;
        tally.record_response(503, 500, Duration::from_millis(5));
        tally.sample_error(
            "503".to_owned(),
            r#"{"error":{"code":"kafka_unavailable"}}"#,
        );
        let report = Report::new(setup(), &tally, Duration::from_secs(1), false);
        assert!(!report.ok);
        let failure = report.failure().expect("a failure report");
        assert!(failure.contains("1 of 2 requests failed"), "{failure}");
        assert!(failure.contains("503: {\"error\""), "{failure}");
        assert!(report.summary().contains("202: 1, 503: 1"));
    }

    #[test]
    fn rejected_events_fail_the_run() {
        let mut tally = Tally::new();
        tally.record_response(202, 10, Duration::from_millis(1));
        tally.num_accepted = 9;
        tally.num_rejected = 1;
        let report = Report::new(setup(), &tally, Duration::from_secs(1), false);
        assert!(!report.ok);
    }

    #[test]
    fn the_json_report_is_flat_with_the_setup() {
        let report = Report::new(setup(), &Tally::new(), Duration::from_secs(1), false);
        let json = serde_json::to_value(&report).expect("serializable");
        assert_eq!(json["batch_size"], 500);
        assert_eq!(json["events_per_sec"], 0.0);
        assert!(json["latency_ms"]["p99"].is_number());
        assert_eq!(json["ok"], false, "a run without requests is not a success");
    }
}
