//! `[classifier]`: the consume-classify-produce role.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validator::Validator;

/// Upper bound for the Kafka transaction timeout: Kafka's own limit for `transaction.timeout.ms`
/// (a broker's `transaction.max.timeout.ms` defaults to 15 minutes and may be raised to this).
const MAX_TRANSACTION_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);
/// Largest transaction in records: each record holds its output in the producer queue until commit.
const MAX_BATCH_RECORDS: u64 = 100_000;
/// Longest wait before a transaction is committed: records are invisible downstream until then.
const MAX_BATCH_WAIT: Duration = Duration::from_secs(60);

/// The classifier role.
#[derive(Debug, Clone, Serialize)]
pub struct ClassifierConfig {
    /// `classifier.group_id`: Kafka consumer group of the classifiers reading the raw topic.
    pub group_id: String,
    /// `classifier.transaction_timeout`: Kafka `transaction.timeout.ms` of the transactional
    /// producer; at least `kafka.message_timeout`.
    #[serde(with = "humantime_serde")]
    pub transaction_timeout: Duration,
    /// `classifier.rules_path`: operator-editable rules file; `None` uses the built-in rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules_path: Option<PathBuf>,
    /// `classifier.model_path`: text model file; `None` uses the built-in model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_path: Option<PathBuf>,
    /// `classifier.instance_id`: this instance's part of the transactional.id and its
    /// group.instance.id (static membership); empty uses the host name.
    pub instance_id: String,
    /// `classifier.batch_max_records`: consumed records per transaction, at most.
    pub batch_max_records: NonZeroU32,
    /// `classifier.batch_max_wait`: longest time a transaction stays open.
    #[serde(with = "humantime_serde")]
    pub batch_max_wait: Duration,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawClassifier {
    group_id: Value,
    transaction_timeout: Value,
    rules_path: Value,
    model_path: Value,
    instance_id: Value,
    batch_max_records: Value,
    batch_max_wait: Value,
}

pub(crate) fn validate(raw: RawClassifier, v: &mut Validator) -> Option<ClassifierConfig> {
    let group_id = v.non_empty_string("classifier.group_id", &raw.group_id);
    let transaction_timeout = v.positive_duration(
        "classifier.transaction_timeout",
        &raw.transaction_timeout,
        MAX_TRANSACTION_TIMEOUT,
    );
    let rules_path = v.optional_path("classifier.rules_path", &raw.rules_path);
    let model_path = v.optional_path("classifier.model_path", &raw.model_path);
    let instance_id = v
        .optional_string("classifier.instance_id", &raw.instance_id)
        .map(Option::unwrap_or_default);
    let batch_max_records = v.integer(
        "classifier.batch_max_records",
        &raw.batch_max_records,
        1,
        MAX_BATCH_RECORDS,
    );
    let batch_max_wait = v.positive_duration(
        "classifier.batch_max_wait",
        &raw.batch_max_wait,
        MAX_BATCH_WAIT,
    );
    Some(ClassifierConfig {
        group_id: group_id?,
        transaction_timeout: transaction_timeout?,
        rules_path: rules_path?,
        model_path: model_path?,
        instance_id: instance_id?,
        batch_max_records: batch_max_records?,
        batch_max_wait: batch_max_wait?,
    })
}
