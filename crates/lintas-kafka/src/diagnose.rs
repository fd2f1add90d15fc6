//! The reason behind a failed blocking call.
//!
//! A metadata request to a cluster that refuses us returns only "Broker transport failure"
//! after its timeout; why (SASL authentication failed, the certificate did not verify, the
//! port speaks another protocol) reaches the client's log callback meanwhile. [`Diagnose`]
//! keeps those lines, each once, so the error can say them.

use std::sync::{Arc, Mutex, PoisonError};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;

/// A client context that remembers the errors librdkafka logged or reported, each once.
#[derive(Debug, Clone, Default)]
pub struct Diagnose {
    seen: Arc<Mutex<Vec<String>>>,
}

/// More would only repeat one failure per retry.
const KEPT: usize = 4;

impl Diagnose {
    /// The errors seen, joined; `None` if there were none. "All broker connections are down"
    /// only says that something else failed, so it is left out when that something is known.
    pub fn reason(&self) -> Option<String> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let specific: Vec<&str> = seen
            .iter()
            .map(String::as_str)
            .filter(|text| !text.contains("AllBrokersDown"))
            .collect();
        let shown: Vec<&str> = if specific.is_empty() {
            seen.iter().map(String::as_str).collect()
        } else {
            specific
        };
        (!shown.is_empty()).then(|| shown.join("; "))
    }

    fn remember(&self, text: &str) {
        // Log lines start with the thread's name, which repeats the broker's address.
        let text = match text.strip_prefix("[thrd:") {
            Some(rest) => rest.split_once("]: ").map_or(text, |(_, message)| message),
            None => text,
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        // One failure arrives as a log line and as an error event with a prefix, and again on
        // every retry with other timings: compare without digits, by containment.
        let core = |t: &str| -> String {
            let t = t.split(" (after ").next().unwrap_or(t);
            t.chars().filter(|c| !c.is_ascii_digit()).collect()
        };
        let new = core(text);
        let known = seen.iter().any(|old| {
            let old = core(old);
            old.contains(&new) || new.contains(&old)
        });
        if !known && seen.len() < KEPT {
            seen.push(text.to_owned());
        }
    }
}

impl ClientContext for Diagnose {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::debug!(fac, message, "librdkafka error");
                self.remember(message);
            }
            _ => tracing::trace!(fac, message, "librdkafka"),
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.remember(&format!("{error}: {reason}"));
    }
}

/// Metadata requests go through a consumer; nothing of a consumer group is used.
impl ConsumerContext for Diagnose {}

#[cfg(test)]
mod tests {
    use super::Diagnose;

    #[test]
    fn one_failure_is_said_once_and_the_generic_error_only_when_alone() {
        let diagnose = Diagnose::default();
        assert_eq!(diagnose.reason(), None);
        diagnose.remember("Global error: AllBrokersDown (Local: All broker connections are down): 1/1 brokers are down");
        assert!(
            diagnose
                .reason()
                .is_some_and(|e| e.contains("AllBrokersDown"))
        );
        let failure = "sasl_ssl://h:1/bootstrap: SASL authentication error: invalid credentials";
        diagnose.remember(&format!(
            "[thrd:sasl_ssl://h:1/bootstrap]: {failure} (after 308ms in state AUTH_REQ)"
        ));
        diagnose.remember(&format!("[thrd:sasl_ssl://h:1/bootstrap]: {failure} (after 12ms in state AUTH_REQ, 1 identical error(s) suppressed)"));
        diagnose.remember(&format!(
            "Global error: Authentication (Local: Authentication failure): {failure} (after 308ms)"
        ));
        diagnose.remember("Global error: AllBrokersDown (Local: All broker connections are down): 0/1 brokers are down");
        assert_eq!(
            diagnose.reason().as_deref(),
            Some(format!("{failure} (after 308ms in state AUTH_REQ)").as_str())
        );
    }
}
