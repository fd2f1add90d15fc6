//! `[topics]`: how `lintas topics apply` declares the Kafka topics.
//!
//! Partitions bound the parallelism of the classifier and sink (one consumer per partition), and
//! cannot be changed later without remapping keys, so choose them for the expected peak.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validator::Validator;

/// Ten years: far beyond any sensible retention, small enough for `retention.ms`.
const MAX_RETENTION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Topic layout used by `lintas topics apply`.
#[derive(Debug, Clone, Serialize)]
pub struct TopicsConfig {
    /// `topics.partitions`: partitions of the raw and classified topics.
    pub partitions: i32,
    /// `topics.replication_factor`: replicas of every topic (3 in production; 1 on a single
    /// development broker).
    pub replication_factor: i32,
    /// `topics.retention`: how long raw and classified events stay in Kafka (the replay window).
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// `topics.dlq_retention`: how long dead-lettered records stay, longer so operators can
    /// investigate and replay.
    #[serde(with = "humantime_serde")]
    pub dlq_retention: Duration,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawTopics {
    partitions: Value,
    replication_factor: Value,
    retention: Value,
    dlq_retention: Value,
}

pub(crate) fn validate(raw: RawTopics, v: &mut Validator) -> Option<TopicsConfig> {
    let partitions = v.integer("topics.partitions", &raw.partitions, 1, 10_000);
    let replication_factor = v.integer("topics.replication_factor", &raw.replication_factor, 1, 16);
    let retention = v.positive_duration("topics.retention", &raw.retention, MAX_RETENTION);
    let dlq_retention =
        v.positive_duration("topics.dlq_retention", &raw.dlq_retention, MAX_RETENTION);
    Some(TopicsConfig {
        partitions: partitions?,
        replication_factor: replication_factor?,
        retention: retention?,
        dlq_retention: dlq_retention?,
    })
}
