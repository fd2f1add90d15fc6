//! [`InteractionRow`]: one row of `interactions`, built from a classified event and the Kafka
//! position it was read from.
//!
//! Every column here is a *stored* column with the same type on every server version (see
//! [`crate::schema`]): enums travel as their protobuf numbers (`Enum8` values equal the proto
//! numbers), times as `Int64` microseconds since the epoch. Server-specific conveniences
//! (`DateTime`/`DateTime64` views of the times, `Map` of the attributes) are `MATERIALIZED`
//! columns computed by the server, so the insert path never depends on the server version.

use lintas_schema::time::to_unix_micros;
use lintas_schema::v1::ClassifiedInteraction;
use serde::{Deserialize, Serialize};

/// Enum8 value sent for a protobuf enum number that does not fit an `Int8`. It is never a
/// member of any Lintas enum, so the caller's enum check (see the crate docs) refuses it.
pub const OUT_OF_RANGE_ENUM: i8 = i8::MAX;

/// One row of `interactions`.
///
/// Field order is the column order of the insert ([`crate::encode::COLUMNS`]); the serde
/// derive and the hand-written encoder ([`crate::encode::encode_row`]) produce the same
/// RowBinary bytes, so the row can be inserted with the `clickhouse` crate's typed `Insert`
/// or as pre-encoded bytes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clickhouse::Row)]
pub struct InteractionRow {
    /// The company the interaction belongs to.
    pub tenant_id: String,
    /// The event's UUID in canonical text form; the deduplication key.
    pub event_id: String,
    /// The platform's own id of the event (WhatsApp `wamid`, Stripe event id...).
    pub source_event_id: String,
    /// Adapter that produced the event (`whatsapp`, `stripe`, `api`...).
    pub source: String,
    /// `Channel` proto number (`Enum8`).
    pub channel: i8,
    /// `Direction` proto number (`Enum8`).
    pub direction: i8,
    /// `Actor` proto number (`Enum8`).
    pub actor: i8,
    /// Normalized verb such as `message.received`.
    pub event_name: String,
    /// When the interaction happened, microseconds since the Unix epoch (UTC).
    pub occurred_at_us: i64,
    /// When the gateway received it, microseconds since the epoch.
    pub received_at_us: i64,
    /// When the classifier decided (the ingest time of the classified record), microseconds.
    pub classified_at_us: i64,
    /// Namespaced customer handle such as `phone:+15555550101`; empty when unknown.
    pub customer_id: String,
    /// Not-yet-known visitor id.
    pub anonymous_id: String,
    /// Further handles of the same customer seen in the event.
    pub customer_handles: Vec<String>,
    /// Conversation, thread or ticket in the source's id space.
    pub conversation_id: String,
    /// Agent (human or bot) handle.
    pub agent_id: String,
    /// Subject line of e-mails and tickets.
    pub subject: String,
    /// Customer-visible text.
    pub text: String,
    /// ISO 639-1 language code.
    pub language: String,
    /// Amount in minor units; `None` when the event carries no money.
    pub amount_minor: Option<i64>,
    /// ISO 4217 code; empty without money.
    pub currency: String,
    /// `RatingScale` proto number (`Enum8`); 0 without rating.
    pub rating_scale: i8,
    /// The rating given; `None` when the event carries no rating.
    pub rating_value: Option<f64>,
    /// Lowest value of the rating's scale.
    pub rating_min: Option<f64>,
    /// Highest value of the rating's scale.
    pub rating_max: Option<f64>,
    /// Attribute keys, sorted, parallel to `attribute_values`.
    pub attribute_keys: Vec<String>,
    /// Attribute values, parallel to `attribute_keys`.
    pub attribute_values: Vec<String>,
    /// `NormalizationFlag` proto numbers (`Array(Enum8)`).
    pub normalization_flags: Vec<i8>,
    /// `InteractionType` proto number (`Enum8`).
    pub interaction_type: i8,
    /// `JourneyStage` proto number (`Enum8`).
    pub journey_stage: i8,
    /// Confidence in `interaction_type`, in [0, 1].
    pub type_confidence: f32,
    /// Confidence in `journey_stage`, in [0, 1].
    pub stage_confidence: f32,
    /// Classifier version that decided.
    pub classifier_version: String,
    /// Rule ids or model that decided, most decisive first.
    pub reasons: Vec<String>,
    /// Topic of the raw event the classifier read (lineage).
    pub raw_topic: String,
    /// Partition of the raw event.
    pub raw_partition: i32,
    /// Offset of the raw event.
    pub raw_offset: i64,
    /// Topic of the classified record this row was written from.
    pub kafka_topic: String,
    /// Partition of the classified record.
    pub kafka_partition: i32,
    /// Offset of the classified record.
    pub kafka_offset: i64,
    /// `ReplacingMergeTree` version: the newest classification of an event wins when rows
    /// with the same key are merged (a replay through an improved classifier replaces history).
    pub row_version: u64,
}

impl InteractionRow {
    /// The row of a classified event read from `topic`/`partition`/`offset`.
    ///
    /// Infallible: missing sub-messages become empty/`None` values, enum numbers outside
    /// `Int8` become [`OUT_OF_RANGE_ENUM`]. Enum numbers are not checked against the table's
    /// members here (see the crate docs).
    pub fn from_classified(
        interaction: &ClassifiedInteraction,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Self {
        let event = interaction.event.clone().unwrap_or_default();
        let classification = interaction.classification.clone().unwrap_or_default();
        let origin = interaction.raw_origin.clone().unwrap_or_default();
        let micros = |ts: &Option<prost_types::Timestamp>| ts.as_ref().map_or(0, to_unix_micros);
        let classified_at_us = micros(&classification.classified_at);

        // Sorted so equal attribute maps always encode to equal rows (HashMap order is random).
        let mut attributes: Vec<(String, String)> = event.attributes.into_iter().collect();
        attributes.sort_unstable();
        let (attribute_keys, attribute_values) = attributes.into_iter().unzip();

        let (amount_minor, currency) = match event.money {
            Some(money) => (Some(money.amount_minor), money.currency),
            None => (None, String::new()),
        };
        let (rating_scale, rating_value, rating_min, rating_max) = match event.rating {
            Some(r) => (enum8(r.scale), Some(r.value), Some(r.min), Some(r.max)),
            None => (0, None, None, None),
        };

        Self {
            tenant_id: event.tenant_id,
            event_id: event.event_id,
            source_event_id: event.source_event_id,
            source: event.source,
            channel: enum8(event.channel),
            direction: enum8(event.direction),
            actor: enum8(event.actor),
            event_name: event.event_name,
            occurred_at_us: micros(&event.occurred_at),
            received_at_us: micros(&event.received_at),
            classified_at_us,
            customer_id: event.customer_id,
            anonymous_id: event.anonymous_id,
            customer_handles: event.customer_handles,
            conversation_id: event.conversation_id,
            agent_id: event.agent_id,
            subject: event.subject,
            text: event.text,
            language: event.language,
            amount_minor,
            currency,
            rating_scale,
            rating_value,
            rating_min,
            rating_max,
            attribute_keys,
            attribute_values,
            normalization_flags: event.normalization_flags.into_iter().map(enum8).collect(),
            interaction_type: enum8(classification.interaction_type),
            journey_stage: enum8(classification.journey_stage),
            type_confidence: classification.type_confidence,
            stage_confidence: classification.stage_confidence,
            classifier_version: classification.classifier_version,
            reasons: classification.reasons,
            raw_topic: origin.topic,
            raw_partition: origin.partition,
            raw_offset: origin.offset,
            kafka_topic: topic.to_owned(),
            kafka_partition: partition,
            kafka_offset: offset,
            // Times before 1970 cannot be a newer classification than any real one.
            row_version: u64::try_from(classified_at_us).unwrap_or(0),
        }
    }
}

fn enum8(value: i32) -> i8 {
    i8::try_from(value).unwrap_or(OUT_OF_RANGE_ENUM)
}
