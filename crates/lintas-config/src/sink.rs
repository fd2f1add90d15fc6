//! `[sink]`: the Kafka -> ClickHouse role.

use std::num::NonZeroU64;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validator::{Validator, render};

/// Largest batch in rows or bytes; TOML integers (and so `lintas config check`) stop at i64.
const MAX_BATCH: u64 = i64::MAX as u64;
/// Longest wait before a partial batch is inserted, and longest retry backoff.
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// Longest retention: a hundred years.
const MAX_TTL_DAYS: u64 = 36_500;

/// The ClickHouse sink role.
#[derive(Debug, Clone, Serialize)]
pub struct SinkConfig {
    /// `sink.group_id`: Kafka consumer group of the sinks reading the classified topic.
    pub group_id: String,
    /// `sink.batch_max_rows`: a batch is inserted once it holds this many rows.
    pub batch_max_rows: NonZeroU64,
    /// `sink.batch_max_bytes`: ... or this many bytes of encoded rows.
    pub batch_max_bytes: NonZeroU64,
    /// `sink.batch_max_wait`: ... or when its first row has waited this long.
    #[serde(with = "humantime_serde")]
    pub batch_max_wait: Duration,
    /// `sink.retry_initial_backoff`: first wait before retrying a failed insert; doubles per try.
    #[serde(with = "humantime_serde")]
    pub retry_initial_backoff: Duration,
    /// `sink.retry_max_backoff`: the doubling stops here; retries go on until shutdown.
    #[serde(with = "humantime_serde")]
    pub retry_max_backoff: Duration,
    /// `sink.ttl_days`: rows older than this many days (by `occurred_at`) are dropped by
    /// ClickHouse on servers that support TTL; 0 keeps rows forever.
    pub ttl_days: u32,
}

impl SinkConfig {
    /// The retention, or `None` to keep rows forever.
    pub fn ttl(&self) -> Option<Duration> {
        (self.ttl_days > 0).then(|| Duration::from_secs(u64::from(self.ttl_days) * 86_400))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawSink {
    group_id: Value,
    batch_max_rows: Value,
    batch_max_bytes: Value,
    batch_max_wait: Value,
    retry_initial_backoff: Value,
    retry_max_backoff: Value,
    ttl_days: Value,
}

pub(crate) fn validate(raw: RawSink, v: &mut Validator) -> Option<SinkConfig> {
    let group_id = v.non_empty_string("sink.group_id", &raw.group_id);
    let batch_max_rows = v.integer("sink.batch_max_rows", &raw.batch_max_rows, 1, MAX_BATCH);
    let batch_max_bytes = v.integer("sink.batch_max_bytes", &raw.batch_max_bytes, 1, MAX_BATCH);
    let batch_max_wait = v.positive_duration("sink.batch_max_wait", &raw.batch_max_wait, MAX_WAIT);
    let retry_initial_backoff = v.positive_duration(
        "sink.retry_initial_backoff",
        &raw.retry_initial_backoff,
        MAX_WAIT,
    );
    let retry_max_backoff =
        v.positive_duration("sink.retry_max_backoff", &raw.retry_max_backoff, MAX_WAIT);
    let ttl_days = v.integer("sink.ttl_days", &raw.ttl_days, 0, MAX_TTL_DAYS);

    if let (Some(initial), Some(max)) = (retry_initial_backoff, retry_max_backoff)
        && max < initial
    {
        v.invalid(
            "sink.retry_max_backoff",
            render(&raw.retry_max_backoff),
            format!(
                "a duration of at least sink.retry_initial_backoff ({})",
                humantime::format_duration(initial)
            ),
        );
    }
    Some(SinkConfig {
        group_id: group_id?,
        batch_max_rows: batch_max_rows?,
        batch_max_bytes: batch_max_bytes?,
        batch_max_wait: batch_max_wait?,
        retry_initial_backoff: retry_initial_backoff?,
        retry_max_backoff: retry_max_backoff?,
        ttl_days: ttl_days?,
    })
}
