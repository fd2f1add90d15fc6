//! The gateway's metrics: names declared once here, described once by [`describe_metrics`], and
//! recorded only through the functions below so every label stays bounded.
//!
//! Labels take values from fixed sets: `route` is the matched route template (never the raw
//! path), `status` an HTTP status code, `source` a registered adapter id or `api`, `reason`,
//! `code` and `kind` stable error codes. The tenant is deliberately **not** a label: tenants come
//! and go with configuration and would multiply every series.

use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

/// Counter `{route, status}`: every HTTP request answered.
pub const REQUESTS_TOTAL: &str = "lintas_gateway_requests_total";
/// Histogram `{route}`: time from request to response.
pub const REQUEST_DURATION_SECONDS: &str = "lintas_gateway_request_duration_seconds";
/// Counter `{code}`: refused requests by error code (`invalid_write_key`, `kafka_timeout`, ...).
pub const REQUEST_ERRORS_TOTAL: &str = "lintas_gateway_request_errors_total";
/// Counter `{source}`: events acknowledged by Kafka.
pub const EVENTS_ACCEPTED_TOTAL: &str = "lintas_gateway_events_accepted_total";
/// Counter `{source, reason}`: events of a batch refused individually (`POST /v1/events`).
pub const EVENTS_REJECTED_TOTAL: &str = "lintas_gateway_events_rejected_total";
/// Counter `{source, reason}`: records written to the dead-letter topic.
pub const DLQ_RECORDS_TOTAL: &str = "lintas_gateway_dlq_records_total";
/// Counter `{source, kind}`: webhook items deliberately not turned into events.
pub const IGNORED_TOTAL: &str = "lintas_gateway_ignored_total";
/// Histogram: time from enqueueing a request's records to Kafka's last acknowledgement.
pub const KAFKA_PRODUCE_SECONDS: &str = "lintas_gateway_kafka_produce_seconds";
/// Histogram `{source}`: events per request.
pub const BATCH_EVENTS: &str = "lintas_gateway_batch_events";
/// Gauge: records in the producer queue or awaiting acknowledgement, as last probed.
pub const KAFKA_QUEUE_MESSAGES: &str = "lintas_gateway_kafka_queue_messages";

/// Source label of events posted to `POST /v1/events`.
pub const API_SOURCE: &str = "api";

/// Registers the description and unit of every gateway metric with the installed recorder.
pub fn describe_metrics() {
    describe_counter!(
        REQUESTS_TOTAL,
        Unit::Count,
        "http requests answered, by matched route and status code"
    );
    describe_histogram!(
        REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "time from receiving a request to answering it, by matched route"
    );
    describe_counter!(
        REQUEST_ERRORS_TOTAL,
        Unit::Count,
        "requests refused, by stable error code"
    );
    describe_counter!(
        EVENTS_ACCEPTED_TOTAL,
        Unit::Count,
        "events acknowledged by kafka, by source"
    );
    describe_counter!(
        EVENTS_REJECTED_TOTAL,
        Unit::Count,
        "events of a batch refused individually, by source and reason"
    );
    describe_counter!(
        DLQ_RECORDS_TOTAL,
        Unit::Count,
        "records written to the dead-letter topic, by source and reason"
    );
    describe_counter!(
        IGNORED_TOTAL,
        Unit::Count,
        "webhook items deliberately not turned into events, by source and kind"
    );
    describe_histogram!(
        KAFKA_PRODUCE_SECONDS,
        Unit::Seconds,
        "time from enqueueing a request's records to kafka's last acknowledgement"
    );
    describe_histogram!(BATCH_EVENTS, Unit::Count, "events per request, by source");
    describe_gauge!(
        KAFKA_QUEUE_MESSAGES,
        Unit::Count,
        "records queued in the producer or awaiting acknowledgement"
    );
}

/// Counts one answered request.
pub(crate) fn request(route: &str, status: u16, elapsed: Duration) {
    counter!(REQUESTS_TOTAL, "route" => route.to_owned(), "status" => status.to_string())
        .increment(1);
    histogram!(REQUEST_DURATION_SECONDS, "route" => route.to_owned()).record(elapsed.as_secs_f64());
}

/// Counts one refused request.
pub(crate) fn request_error(code: &'static str) {
    counter!(REQUEST_ERRORS_TOTAL, "code" => code).increment(1);
}

/// Counts events acknowledged by Kafka.
pub(crate) fn events_accepted(source: &'static str, count: usize) {
    counter!(EVENTS_ACCEPTED_TOTAL, "source" => source).increment(as_u64(count));
}

/// Counts one event refused individually.
pub(crate) fn event_rejected(source: &'static str, reason: &'static str) {
    counter!(EVENTS_REJECTED_TOTAL, "source" => source, "reason" => reason).increment(1);
}

/// Counts one dead-lettered record.
pub(crate) fn dlq_record(source: &'static str, reason: &'static str) {
    counter!(DLQ_RECORDS_TOTAL, "source" => source, "reason" => reason).increment(1);
}

/// Counts one ignored webhook item.
pub(crate) fn ignored(source: &'static str, kind: &'static str) {
    counter!(IGNORED_TOTAL, "source" => source, "kind" => kind).increment(1);
}

/// Records how long Kafka took to acknowledge one request's records.
pub(crate) fn kafka_produce(elapsed: Duration) {
    histogram!(KAFKA_PRODUCE_SECONDS).record(elapsed.as_secs_f64());
}

/// Records the size of one request's batch.
pub(crate) fn batch_events(source: &'static str, count: usize) {
    #[allow(clippy::cast_precision_loss)] // batch sizes are far below 2^52
    histogram!(BATCH_EVENTS, "source" => source).record(count as f64);
}

/// Records the producer's queue depth.
pub(crate) fn kafka_queue(in_flight: i32) {
    gauge!(KAFKA_QUEUE_MESSAGES).set(f64::from(in_flight));
}

fn as_u64(count: usize) -> u64 {
    u64::try_from(count).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use lintas_telemetry::{MetricKind, check_metric_name};

    use super::*;

    #[test]
    fn every_gateway_metric_follows_the_naming_convention() {
        let names = [
            (REQUESTS_TOTAL, MetricKind::Counter),
            (REQUEST_DURATION_SECONDS, MetricKind::Histogram),
            (REQUEST_ERRORS_TOTAL, MetricKind::Counter),
            (EVENTS_ACCEPTED_TOTAL, MetricKind::Counter),
            (EVENTS_REJECTED_TOTAL, MetricKind::Counter),
            (DLQ_RECORDS_TOTAL, MetricKind::Counter),
            (IGNORED_TOTAL, MetricKind::Counter),
            (KAFKA_PRODUCE_SECONDS, MetricKind::Histogram),
            (BATCH_EVENTS, MetricKind::Histogram),
            (KAFKA_QUEUE_MESSAGES, MetricKind::Gauge),
        ];
        for (name, kind) in names {
            check_metric_name(name, kind).unwrap_or_else(|error| panic!("{error}"));
            assert!(name.starts_with("lintas_gateway_"), "{name}");
        }
    }
}
