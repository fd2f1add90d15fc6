//! The classifier service's metrics: names declared once here, every series registered by
//! [`ServiceMetrics::register`] at start so `/metrics` lists them from the first scrape.
//!
//! Labels are bounded: `type` and `stage` are the enum names of the schema, `kind` one of
//! [`crate::record::REJECTION_KINDS`], `outcome` `committed` or `aborted`, `field` `type` or `stage`.

use lintas_classifier::labels::{
    STAGE_SLOTS, TYPE_SLOTS, stage_from_i32, stage_name, type_from_i32, type_name,
};
use metrics::{
    Counter, Gauge, Histogram, Unit, counter, describe_counter, describe_gauge, describe_histogram,
    gauge, histogram,
};

/// Counter: raw records read from `kafka.topic_raw` (records re-read after an abort count again).
pub const EVENTS_CONSUMED_TOTAL: &str = "lintas_classifier_events_consumed_total";
/// Counter `{type, stage}`: classified events in committed transactions.
pub const EVENTS_CLASSIFIED_TOTAL: &str = "lintas_classifier_events_classified_total";
/// Histogram `{field}`: confidence of each decided label.
pub const CONFIDENCE: &str = "lintas_classifier_confidence_ratio";
/// Counter `{outcome}`: transactions committed or aborted.
pub const TRANSACTIONS_TOTAL: &str = "lintas_classifier_transactions_total";
/// Counter `{kind}`: records written to the dead-letter topic in committed transactions.
pub const DLQ_RECORDS_TOTAL: &str = "lintas_classifier_dlq_records_total";
/// Gauge: records of the assigned raw partitions not consumed yet (from librdkafka statistics).
pub const CONSUMER_LAG_MESSAGES: &str = "lintas_classifier_consumer_lag_messages";
/// Gauge: customers whose context is held in memory.
pub const CONTEXT_CUSTOMERS: &str = "lintas_classifier_context_customers";
/// Histogram: time from a transaction's first record to its commit.
pub const BATCH_SECONDS: &str = "lintas_classifier_batch_seconds";

/// Every metric name with its kind, for the naming test and the docs.
pub const ALL: &[(&str, lintas_telemetry::MetricKind)] = &[
    (EVENTS_CONSUMED_TOTAL, lintas_telemetry::MetricKind::Counter),
    (
        EVENTS_CLASSIFIED_TOTAL,
        lintas_telemetry::MetricKind::Counter,
    ),
    (CONFIDENCE, lintas_telemetry::MetricKind::Histogram),
    (TRANSACTIONS_TOTAL, lintas_telemetry::MetricKind::Counter),
    (DLQ_RECORDS_TOTAL, lintas_telemetry::MetricKind::Counter),
    (CONSUMER_LAG_MESSAGES, lintas_telemetry::MetricKind::Gauge),
    (CONTEXT_CUSTOMERS, lintas_telemetry::MetricKind::Gauge),
    (BATCH_SECONDS, lintas_telemetry::MetricKind::Histogram),
];

/// Handles of every series, created once so the hot path does no label lookups.
#[derive(Debug, Clone)]
pub(crate) struct ServiceMetrics {
    pub(crate) consumed: Counter,
    /// Indexed by `type * STAGE_SLOTS + stage` (the schema's enum values).
    classified: Vec<Counter>,
    pub(crate) type_confidence: Histogram,
    pub(crate) stage_confidence: Histogram,
    pub(crate) committed: Counter,
    pub(crate) aborted: Counter,
    pub(crate) lag: Gauge,
    pub(crate) customers: Gauge,
    pub(crate) batch_seconds: Histogram,
}

impl ServiceMetrics {
    /// Describes every metric and touches every series, so all are exported from the start.
    pub(crate) fn register() -> Self {
        describe_counter!(
            EVENTS_CONSUMED_TOTAL,
            Unit::Count,
            "raw records read from kafka.topic_raw, re-reads after an aborted transaction included"
        );
        describe_counter!(
            EVENTS_CLASSIFIED_TOTAL,
            Unit::Count,
            "classified events in committed transactions, by interaction type and journey stage"
        );
        describe_histogram!(
            CONFIDENCE,
            Unit::Count,
            "confidence of each decided label in [0, 1], by field (type or stage)"
        );
        describe_counter!(
            TRANSACTIONS_TOTAL,
            Unit::Count,
            "kafka transactions of the classifier, by outcome (committed or aborted)"
        );
        describe_counter!(
            DLQ_RECORDS_TOTAL,
            Unit::Count,
            "raw records sent to the dead-letter topic in committed transactions, by error kind"
        );
        describe_gauge!(
            CONSUMER_LAG_MESSAGES,
            Unit::Count,
            "records of the assigned raw partitions not consumed yet, summed over partitions"
        );
        describe_gauge!(
            CONTEXT_CUSTOMERS,
            Unit::Count,
            "customers whose context the classifier holds in memory"
        );
        describe_histogram!(
            BATCH_SECONDS,
            Unit::Seconds,
            "time from a transaction's first record to its commit"
        );
        let mut classified = Vec::with_capacity(TYPE_SLOTS * STAGE_SLOTS);
        for type_value in 0..TYPE_SLOTS {
            for stage_value in 0..STAGE_SLOTS {
                let type_label = type_name(type_from_i32(slot_i32(type_value)));
                let stage_label = stage_name(stage_from_i32(slot_i32(stage_value)));
                let handle =
                    counter!(EVENTS_CLASSIFIED_TOTAL, "type" => type_label, "stage" => stage_label);
                handle.increment(0);
                classified.push(handle);
            }
        }
        for kind in crate::record::REJECTION_KINDS {
            counter!(DLQ_RECORDS_TOTAL, "kind" => *kind).increment(0);
        }
        let metrics = Self {
            consumed: counter!(EVENTS_CONSUMED_TOTAL),
            classified,
            type_confidence: histogram!(CONFIDENCE, "field" => "type"),
            stage_confidence: histogram!(CONFIDENCE, "field" => "stage"),
            committed: counter!(TRANSACTIONS_TOTAL, "outcome" => "committed"),
            aborted: counter!(TRANSACTIONS_TOTAL, "outcome" => "aborted"),
            lag: gauge!(CONSUMER_LAG_MESSAGES),
            customers: gauge!(CONTEXT_CUSTOMERS),
            batch_seconds: histogram!(BATCH_SECONDS),
        };
        metrics.consumed.increment(0);
        metrics.committed.increment(0);
        metrics.aborted.increment(0);
        metrics.lag.set(0.0);
        metrics.customers.set(0.0);
        metrics
    }

    /// Adds the classified events of a committed transaction, counted per `(type, stage)` slot.
    pub(crate) fn add_classified(&self, counts: &[u64]) {
        for (slot, count) in counts.iter().enumerate() {
            if *count > 0
                && let Some(handle) = self.classified.get(slot)
            {
                handle.increment(*count);
            }
        }
    }

    /// Adds the dead-lettered records of a committed transaction.
    pub(crate) fn add_dlq(kind: &'static str, count: u64) {
        counter!(DLQ_RECORDS_TOTAL, "kind" => kind).increment(count);
    }
}

/// The slot of a `(type, stage)` pair in [`ServiceMetrics::add_classified`]'s counts; unknown
/// enum values (a newer schema) count as unspecified.
pub(crate) fn classified_slot(interaction_type: i32, journey_stage: i32) -> usize {
    let type_slot = usize::try_from(interaction_type)
        .ok()
        .filter(|slot| *slot < TYPE_SLOTS)
        .unwrap_or(0);
    let stage_slot = usize::try_from(journey_stage)
        .ok()
        .filter(|slot| *slot < STAGE_SLOTS)
        .unwrap_or(0);
    type_slot * STAGE_SLOTS + stage_slot
}

/// Number of `(type, stage)` slots.
pub(crate) const CLASSIFIED_SLOTS: usize = TYPE_SLOTS * STAGE_SLOTS;

fn slot_i32(slot: usize) -> i32 {
    i32::try_from(slot).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_the_project_convention() {
        for (name, kind) in ALL {
            lintas_telemetry::check_metric_name(name, *kind)
                .unwrap_or_else(|error| panic!("{name}: {error}"));
        }
    }

    #[test]
    fn classified_slots_cover_every_pair_and_clamp_unknown_values() {
        assert_eq!(classified_slot(0, 0), 0);
        assert_eq!(classified_slot(8, 6), CLASSIFIED_SLOTS - 1);
        assert_eq!(classified_slot(99, 2), 2);
        assert_eq!(classified_slot(-1, -1), 0);
    }
}
