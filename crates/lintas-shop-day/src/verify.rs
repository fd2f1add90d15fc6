//! Checking what the pipeline stored against the expectations: every accepted event must be one
//! row of `interactions` (read with `FINAL`, the dedup the schema promises) with the expected
//! fields and labels, and nothing of the tenant may sit in the DLQ.
//!
//! ClickHouse is read over its HTTP interface as `JSONEachRow` with every value rendered by
//! `toString`, which reads the same on 18.16 and current servers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Headers as _;
use rdkafka::{Message as _, Offset, TopicPartitionList};
use serde::Deserialize;

use crate::error::ShopDayError;
use crate::expect::MIN_LABEL_AGREEMENT;
use crate::replay::Outcome;

/// Where the rows are.
#[derive(Debug, Clone)]
pub struct ClickhouseTarget {
    /// HTTP URL, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    /// Database of the `interactions` table.
    pub database: String,
    /// User.
    pub user: String,
    /// Password (may be empty).
    pub password: String,
}

impl ClickhouseTarget {
    /// The `[clickhouse]` section of a validated config.
    pub fn from_config(config: &lintas_config::Config) -> Self {
        Self {
            url: config.clickhouse.url.to_string(),
            database: config.clickhouse.database.clone(),
            user: config.clickhouse.user.clone(),
            password: config.clickhouse.password.expose().clone(),
        }
    }
}

/// One stored interaction, as text.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredRow {
    /// `event_id`.
    pub event_id: String,
    /// Rows with this `event_id` after `FINAL` (must be 1).
    pub copies: String,
    /// The remaining columns by name.
    #[serde(flatten)]
    pub columns: HashMap<String, Option<String>>,
}

impl StoredRow {
    fn get(&self, column: &str) -> String {
        self.columns
            .get(column)
            .cloned()
            .flatten()
            .unwrap_or_default()
    }
}

const COLUMNS: &[&str] = &[
    "source",
    "source_event_id",
    "channel",
    "direction",
    "actor",
    "event_name",
    "occurred_at_us",
    "customer_id",
    "conversation_id",
    "agent_id",
    "text",
    "language",
    "amount_minor",
    "currency",
    "rating_scale",
    "rating_value",
    "interaction_type",
    "journey_stage",
];

/// Every row of `tenant` in `interactions FINAL`, grouped by `event_id`.
pub async fn stored_rows(
    target: &ClickhouseTarget,
    tenant: &str,
) -> Result<Vec<StoredRow>, ShopDayError> {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|column| format!("any(toString({column})) AS {column}"))
        .collect();
    let sql = format!(
        "SELECT event_id, toString(count()) AS copies, {columns} FROM `{db}`.interactions FINAL \
         WHERE tenant_id = '{tenant}' GROUP BY event_id FORMAT JSONEachRow",
        columns = columns.join(", "),
        db = target.database.replace('`', ""),
        tenant = tenant.replace(['\\', '\''], ""),
    );
    let client = reqwest::Client::new();
    let response = client
        .post(&target.url)
        .basic_auth(&target.user, Some(&target.password))
        .body(sql)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|error| ShopDayError::Clickhouse(error.to_string()))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|error| ShopDayError::Clickhouse(error.to_string()))?;
    if !status.is_success() {
        return Err(ShopDayError::Clickhouse(format!(
            "{status}: {}",
            body.trim()
        )));
    }
    body.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .map_err(|error| ShopDayError::Clickhouse(format!("{error}: {line}")))
        })
        .collect()
}

/// Polls until every accepted event of `outcomes` has a row, or `deadline` passes; returns the
/// rows last read. `progress` is called with (rows found, rows expected) after each read.
pub async fn wait_for_rows(
    target: &ClickhouseTarget,
    tenant: &str,
    outcomes: &[Outcome],
    deadline: Duration,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<StoredRow>, ShopDayError> {
    let wanted: Vec<&str> = outcomes
        .iter()
        .filter(|outcome| outcome.accepted)
        .map(|outcome| outcome.expected.event_id.as_str())
        .collect();
    let started = Instant::now();
    loop {
        let rows = match stored_rows(target, tenant).await {
            Ok(rows) => rows,
            // The table may not exist a moment after start; keep polling until the deadline.
            Err(error) if started.elapsed() < deadline => {
                tracing::debug!(error = %error, "clickhouse not readable yet");
                Vec::new()
            }
            Err(error) => return Err(error),
        };
        let found = wanted
            .iter()
            .filter(|id| rows.iter().any(|row| row.event_id == **id))
            .count();
        progress(found, wanted.len());
        if found == wanted.len() || started.elapsed() >= deadline {
            return Ok(rows);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The comparison of stored rows with the expectations.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// Accepted events without a row.
    pub missing: Vec<String>,
    /// Events stored more than once after `FINAL`.
    pub duplicated: Vec<String>,
    /// Rows of the tenant that no expectation names.
    pub unexpected: usize,
    /// Rows of accepted events (each counted once).
    pub rows: usize,
    /// Normalized fields that differ: `step N (source): field got X, expected Y`.
    pub field_mismatches: Vec<String>,
    /// Labels that differ, same form.
    pub label_mismatches: Vec<String>,
    /// Rows whose labels were compared.
    pub labelled: usize,
}

impl Verification {
    /// Whether every accepted event is exactly one row with the expected fields, and the labels
    /// agree with the day's for at least [`MIN_LABEL_AGREEMENT`] of them.
    pub fn is_exact(&self) -> bool {
        self.counts_reconcile() && self.field_mismatches.is_empty() && self.labels_agree()
    }

    /// Whether the stored labels equal the day's for at least [`MIN_LABEL_AGREEMENT`] of the rows.
    pub fn labels_agree(&self) -> bool {
        labels_agree(self.label_mismatches.len(), self.labelled)
    }

    /// Whether the counts reconcile: no missing, duplicated or unexpected rows.
    pub fn counts_reconcile(&self) -> bool {
        self.missing.is_empty() && self.duplicated.is_empty() && self.unexpected == 0
    }
}

/// Compares `rows` with the accepted `outcomes`.
pub fn compare(outcomes: &[Outcome], rows: &[StoredRow]) -> Verification {
    let by_id: HashMap<&str, &StoredRow> = rows
        .iter()
        .map(|row| (row.event_id.as_str(), row))
        .collect();
    let mut verification = Verification::default();
    let mut named = 0;
    for outcome in outcomes.iter().filter(|outcome| outcome.accepted) {
        let expected = &outcome.expected;
        let label = format!(
            "step {} ({} {})",
            expected.step, expected.source, expected.event_name
        );
        let Some(row) = by_id.get(expected.event_id.as_str()) else {
            verification.missing.push(label);
            continue;
        };
        named += 1;
        verification.rows += 1;
        if row.copies != "1" {
            verification
                .duplicated
                .push(format!("{label}: {} copies", row.copies));
        }
        let mut field = |name: &str, got: String, want: String| {
            if got != want {
                verification
                    .field_mismatches
                    .push(format!("{label}: {name} got {got:?}, expected {want:?}"));
            }
        };
        field("source", row.get("source"), expected.source.clone());
        field(
            "source_event_id",
            row.get("source_event_id"),
            expected.source_event_id.clone(),
        );
        field("channel", row.get("channel"), expected.channel.clone());
        field(
            "direction",
            row.get("direction"),
            expected.direction.clone(),
        );
        field("actor", row.get("actor"), expected.actor.clone());
        field(
            "event_name",
            row.get("event_name"),
            expected.event_name.clone(),
        );
        field(
            "customer_id",
            row.get("customer_id"),
            expected.customer_id.clone(),
        );
        if let Some(ms) = expected.occurred_at_ms {
            field(
                "occurred_at_us",
                row.get("occurred_at_us"),
                (ms * 1000).to_string(),
            );
        }
        if let Some(conversation) = &expected.conversation_id {
            field(
                "conversation_id",
                row.get("conversation_id"),
                conversation.clone(),
            );
        }
        if let Some(agent) = &expected.agent_id {
            field("agent_id", row.get("agent_id"), agent.clone());
        }
        if let Some(text) = &expected.text {
            field("text", row.get("text"), text.clone());
        }
        if let Some(language) = &expected.language {
            field("language", row.get("language"), language.clone());
        }
        match &expected.money {
            Some(money) => {
                field(
                    "amount_minor",
                    row.get("amount_minor"),
                    money.amount_minor.to_string(),
                );
                field("currency", row.get("currency"), money.currency.clone());
            }
            None => field("amount_minor", row.get("amount_minor"), String::new()),
        }
        match &expected.rating {
            Some(rating) => {
                field(
                    "rating_scale",
                    row.get("rating_scale"),
                    rating.scale.clone(),
                );
                field(
                    "rating_value",
                    row.get("rating_value"),
                    format!("{}", rating.value),
                );
            }
            None => field("rating_scale", row.get("rating_scale"), "none".to_owned()),
        }
        verification.labelled += 1;
        let got_type = row.get("interaction_type");
        let got_stage = row.get("journey_stage");
        if got_type != expected.labels.interaction_type || got_stage != expected.labels.stage {
            verification.label_mismatches.push(format!(
                "{label}: classified {got_type}/{got_stage}, expected {}/{}",
                expected.labels.interaction_type, expected.labels.stage
            ));
        }
    }
    let all_expected: Vec<&str> = outcomes
        .iter()
        .map(|outcome| outcome.expected.event_id.as_str())
        .collect();
    verification.unexpected = rows
        .iter()
        .filter(|row| !all_expected.contains(&row.event_id.as_str()))
        .count();
    debug_assert!(named <= rows.len());
    verification
}

/// Dead-lettered records in `topic`: those naming `tenant` in their headers, and those naming
/// no tenant at all (a record that could not even be decoded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DlqCount {
    /// Records of the tenant.
    pub tenant: usize,
    /// Records without a tenant header.
    pub unattributed: usize,
}

/// Counts the DLQ records of `tenant` in `topic` by reading it from the start to the high
/// watermarks of the moment of the call.
pub fn count_dlq(
    kafka: &lintas_config::KafkaConfig,
    bootstrap: &str,
    topic: &str,
    tenant: &str,
) -> Result<DlqCount, ShopDayError> {
    let timeout = Duration::from_secs(15);
    let group = format!("lintas-shop-day-dlq-{}", uuid::Uuid::now_v7().simple());
    let consumer: BaseConsumer = lintas_kafka::consumer_config(kafka, bootstrap, &group)
        .create()
        .map_err(|error| ShopDayError::Kafka(error.to_string()))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|error| ShopDayError::Kafka(format!("metadata of {topic}: {error}")))?;
    let mut assignment = TopicPartitionList::new();
    let mut remaining = 0_i64;
    let mut ends = HashMap::new();
    for partition in metadata
        .topics()
        .iter()
        .filter(|found| found.name() == topic)
        .flat_map(|found| found.partitions())
    {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition.id(), timeout)
            .map_err(|error| ShopDayError::Kafka(format!("watermarks of {topic}: {error}")))?;
        if high > low {
            remaining += high - low;
            ends.insert(partition.id(), high);
            assignment
                .add_partition_offset(topic, partition.id(), Offset::Beginning)
                .map_err(|error| ShopDayError::Kafka(error.to_string()))?;
        }
    }
    let mut count = DlqCount::default();
    if remaining == 0 {
        return Ok(count);
    }
    consumer
        .assign(&assignment)
        .map_err(|error| ShopDayError::Kafka(error.to_string()))?;
    let started = Instant::now();
    let mut done: HashMap<i32, bool> = ends.keys().map(|id| (*id, false)).collect();
    while done.values().any(|finished| !finished) {
        if started.elapsed() > Duration::from_secs(60) {
            return Err(ShopDayError::Kafka(format!(
                "could not read {topic} to its end within 60s"
            )));
        }
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.map_err(|error| ShopDayError::Kafka(error.to_string()))?;
        if message.offset() + 1 >= ends.get(&message.partition()).copied().unwrap_or(0) {
            done.insert(message.partition(), true);
        }
        let named = message.headers().and_then(|headers| {
            headers
                .iter()
                .find(|header| header.key == lintas_schema::headers::TENANT)
                .and_then(|header| header.value)
                .map(|value| String::from_utf8_lossy(value).into_owned())
        });
        match named {
            Some(name) if name == tenant => count.tenant += 1,
            Some(_) => {}
            None => count.unattributed += 1,
        }
    }
    Ok(count)
}

/// Whether `mismatches` out of `labelled` events stay within [`MIN_LABEL_AGREEMENT`].
pub fn labels_agree(mismatches: usize, labelled: usize) -> bool {
    // Exact in integers: mismatches / labelled <= 1 - MIN_LABEL_AGREEMENT.
    #[allow(clippy::cast_precision_loss)]
    let allowed = ((1.0 - MIN_LABEL_AGREEMENT) * labelled as f64 + 1e-9).floor();
    #[allow(clippy::cast_precision_loss)]
    let mismatches = mismatches as f64;
    mismatches <= allowed
}
