//! The sink's metrics, registered at start so `/metrics` lists every one from the first scrape.

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

/// Rows ClickHouse accepted.
pub const ROWS_INSERTED_TOTAL: &str = "lintas_sink_rows_inserted_total";
/// Duration of one `INSERT` request, failed ones included.
pub const INSERT_DURATION_SECONDS: &str = "lintas_sink_insert_duration_seconds";
/// Failed `INSERT` requests by kind (`network`, `timeout`, `server`, `systemic`, `data`).
pub const INSERT_ERRORS_TOTAL: &str = "lintas_sink_insert_errors_total";
/// Rows per batch handed to ClickHouse.
pub const BATCH_ROWS: &str = "lintas_sink_batch_rows";
/// Records sent to the DLQ by kind (`decode`, `invalid_event`, `clickhouse_rejected`).
pub const DLQ_RECORDS_TOTAL: &str = "lintas_sink_dlq_records_total";
/// Records of the classified topic this sink has not yet made durable (end of each assigned partition minus the first offset not yet committed).
pub const CONSUMER_LAG_MESSAGES: &str = "lintas_sink_consumer_lag_messages";
/// Rows held in memory, in open and closed batches.
pub const BUFFERED_ROWS: &str = "lintas_sink_buffered_rows";
/// 1 while consumption is paused because ClickHouse is failing, 0 otherwise.
pub const PAUSED: &str = "lintas_sink_paused";
/// Batches whose offsets were committed.
pub const BATCHES_COMMITTED_TOTAL: &str = "lintas_sink_batches_committed_total";

/// Insert error kinds, touched at start so each series exists before the first failure.
pub(crate) const INSERT_ERROR_KINDS: &[&str] =
    &["network", "timeout", "server", "systemic", "data"];
/// DLQ kinds of the sink.
pub(crate) const DLQ_KINDS: &[&str] = &["decode", "invalid_event", "clickhouse_rejected"];

/// Describes every sink metric and creates each series at zero.
pub fn describe_metrics() {
    describe_counter!(ROWS_INSERTED_TOTAL, Unit::Count, "rows clickhouse accepted");
    describe_histogram!(
        INSERT_DURATION_SECONDS,
        Unit::Seconds,
        "duration of one clickhouse insert request, failed ones included"
    );
    describe_counter!(
        INSERT_ERRORS_TOTAL,
        Unit::Count,
        "failed clickhouse insert requests by kind"
    );
    describe_histogram!(
        BATCH_ROWS,
        Unit::Count,
        "rows per batch handed to clickhouse"
    );
    describe_counter!(
        DLQ_RECORDS_TOTAL,
        Unit::Count,
        "records the sink sent to the dead-letter topic, by kind"
    );
    describe_gauge!(
        CONSUMER_LAG_MESSAGES,
        Unit::Count,
        "records of the assigned classified partitions not yet inserted and committed"
    );
    describe_gauge!(
        BUFFERED_ROWS,
        Unit::Count,
        "rows held in memory by the sink"
    );
    describe_gauge!(
        PAUSED,
        Unit::Count,
        "1 while consumption is paused because clickhouse inserts fail"
    );
    describe_counter!(
        BATCHES_COMMITTED_TOTAL,
        Unit::Count,
        "batches whose kafka offsets were committed"
    );
    counter!(ROWS_INSERTED_TOTAL).increment(0);
    counter!(BATCHES_COMMITTED_TOTAL).increment(0);
    for kind in INSERT_ERROR_KINDS {
        counter!(INSERT_ERRORS_TOTAL, "kind" => *kind).increment(0);
    }
    for kind in DLQ_KINDS {
        counter!(DLQ_RECORDS_TOTAL, "kind" => *kind).increment(0);
    }
    gauge!(CONSUMER_LAG_MESSAGES).set(0.0);
    gauge!(BUFFERED_ROWS).set(0.0);
    gauge!(PAUSED).set(0.0);
    // Registering the handles makes the histograms exist before their first sample.
    let _insert_duration = histogram!(INSERT_DURATION_SECONDS);
    let _batch_rows = histogram!(BATCH_ROWS);
}

#[cfg(test)]
mod tests {
    use super::*;
    use lintas_telemetry::{MetricKind, check_metric_name};

    #[test]
    fn metric_names_follow_the_convention() {
        for name in [
            ROWS_INSERTED_TOTAL,
            INSERT_ERRORS_TOTAL,
            DLQ_RECORDS_TOTAL,
            BATCHES_COMMITTED_TOTAL,
        ] {
            check_metric_name(name, MetricKind::Counter).expect(name);
        }
        for name in [CONSUMER_LAG_MESSAGES, BUFFERED_ROWS, PAUSED] {
            check_metric_name(name, MetricKind::Gauge).expect(name);
        }
        for name in [INSERT_DURATION_SECONDS, BATCH_ROWS] {
            check_metric_name(name, MetricKind::Histogram).expect(name);
        }
    }
}
