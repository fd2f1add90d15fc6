//! What each replayed item must become: the normalized event fields and its classification.
//!
//! Expectations are written from the platform's documented semantics (the fixture and the
//! builders in [`crate::platforms`]), never by running the adapters, so a test comparing them
//! with what the pipeline stored checks the pipeline.

use serde::{Deserialize, Serialize};

/// Interaction type and journey stage, as the contract's lowercase names
/// (`transactional`, `purchase`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// Interaction type.
    #[serde(rename = "type")]
    pub interaction_type: String,
    /// Journey stage.
    pub stage: String,
}

/// Share of the day's events whose stored type and stage must equal the day's human labels.
/// The labels are written from what each message means, not from what the classifier says, so
/// a few honest misses are expected (the classifier's accuracy is measured on its own data sets,
/// crates/lintas-classifier/README.md); the pipeline checks here are exact, the labels at least
/// this share.
pub const MIN_LABEL_AGREEMENT: f64 = 0.95;

/// Interaction types of the contract, lowercase.
pub const INTERACTION_TYPES: &[&str] = &[
    "transactional",
    "service",
    "informative",
    "feedback",
    "relationship_building",
    "sales",
    "cross_sell_upsell",
    "not_applicable",
];

/// Journey stages of the contract, lowercase.
pub const JOURNEY_STAGES: &[&str] = &[
    "awareness",
    "consideration",
    "purchase",
    "retention",
    "advocacy",
    "not_applicable",
];

/// One event the pipeline must store, with every field the replay can predict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedEvent {
    /// 1-based number of the step in the day.
    pub step: usize,
    /// `Customer::key`.
    pub customer: String,
    /// The deterministic `event_id` (UUIDv5 over tenant, source, `source_event_id`).
    pub event_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Adapter id or `api`.
    pub source: String,
    /// The platform's id of the item.
    pub source_event_id: String,
    /// Channel, lowercase contract name (`messaging`, `commerce`).
    pub channel: String,
    /// `inbound` / `outbound`.
    pub direction: String,
    /// `customer` / `agent` / `system`.
    pub actor: String,
    /// Normalized verb.
    pub event_name: String,
    /// `occurred_at` in Unix milliseconds; `None` when the platform carries no time (Twilio),
    /// so the gateway's receive time is used.
    pub occurred_at_ms: Option<i64>,
    /// Customer handle.
    pub customer_id: String,
    /// Conversation, thread or ticket; `None` when not predicted.
    pub conversation_id: Option<String>,
    /// Agent handle of replies.
    pub agent_id: Option<String>,
    /// Exact normalized text; `None` when not predicted (order summaries).
    pub text: Option<String>,
    /// ISO 639-1 language; `None` when not predicted.
    pub language: Option<String>,
    /// Money in minor units and currency.
    pub money: Option<ExpectedMoney>,
    /// Rating scale (`nps`, `csat`, `stars`) and value.
    pub rating: Option<ExpectedRating>,
    /// Expected classification.
    pub labels: Labels,
}

/// Money as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedMoney {
    /// Minor units (whole rupiah for IDR), negative for refunds.
    pub amount_minor: i64,
    /// ISO 4217, uppercase.
    pub currency: String,
}

/// A rating as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedRating {
    /// `nps`, `csat` or `stars`.
    pub scale: String,
    /// The value given.
    pub value: f64,
}
