//! From a Kafka record to an encoded row, or to a dead record with the reason.

use lintas_clickhouse::InteractionRow;
use lintas_clickhouse::schema::{
    ACTORS, CHANNELS, DIRECTIONS, INTERACTION_TYPES, JOURNEY_STAGES, NORMALIZATION_FLAGS,
    RATING_SCALES,
};
use lintas_schema::v1::ClassifiedInteraction;
use prost::Message as _;

use crate::batch::DeadRecord;

/// Decodes `payload` read at `topic`/`partition`/`offset` and appends its RowBinary row to
/// `out`, returning the row's tenant; or explains why the record cannot become a row.
pub(crate) fn encode_record(
    payload: Option<&[u8]>,
    topic: &str,
    partition: i32,
    offset: i64,
    out: &mut Vec<u8>,
) -> Result<String, DeadRecord> {
    let dead = |kind: &'static str, message: String, tenant: Option<String>| DeadRecord {
        offset,
        payload: payload.unwrap_or_default().to_vec(),
        kind,
        message,
        tenant,
    };
    let Some(bytes) = payload else {
        return Err(dead("decode", "record has no value".to_owned(), None));
    };
    let interaction = ClassifiedInteraction::decode(bytes).map_err(|error| {
        dead(
            "decode",
            format!("not a lintas.v1.ClassifiedInteraction: {error}"),
            None,
        )
    })?;
    let row = InteractionRow::from_classified(&interaction, topic, partition, offset);
    let tenant = (!row.tenant_id.is_empty()).then(|| row.tenant_id.clone());
    if let Some(problem) = invalid_row(&interaction, &row) {
        return Err(dead("invalid_event", problem, tenant));
    }
    lintas_clickhouse::encode_row(&row, out);
    Ok(row.tenant_id)
}

/// A column name, the members of its `Enum8` type, and the row's value for it.
type EnumCheck<'a> = (&'a str, &'a [(&'a str, i8)], i8);

/// Why a decoded record must not become a row, if it must not.
///
/// An empty `event_id` would collapse with every other such row under the table's
/// `ReplacingMergeTree` key, silently losing them. Enum numbers the table's `Enum8` types do
/// not list are stored as-is by ClickHouse 18.16 (RowBinary is not checked there) and make
/// every later query touching the column fail, so they are refused here on every server.
fn invalid_row(interaction: &ClassifiedInteraction, row: &InteractionRow) -> Option<String> {
    if interaction.event.is_none() {
        return Some("classified interaction without an event".to_owned());
    }
    if row.event_id.is_empty() || row.tenant_id.is_empty() {
        return Some(format!(
            "event without event_id or tenant_id (event_id {:?}, tenant_id {:?})",
            row.event_id, row.tenant_id
        ));
    }
    let checks: [EnumCheck<'_>; 7] = [
        ("channel", CHANNELS, row.channel),
        ("direction", DIRECTIONS, row.direction),
        ("actor", ACTORS, row.actor),
        ("rating_scale", RATING_SCALES, row.rating_scale),
        ("interaction_type", INTERACTION_TYPES, row.interaction_type),
        ("journey_stage", JOURNEY_STAGES, row.journey_stage),
        (
            "normalization_flags",
            NORMALIZATION_FLAGS,
            row.normalization_flags
                .iter()
                .copied()
                .find(|flag| !NORMALIZATION_FLAGS.iter().any(|(_, value)| value == flag))
                .unwrap_or(NORMALIZATION_FLAGS[0].1),
        ),
    ];
    checks.iter().find_map(|(column, members, value)| {
        (!members.iter().any(|(_, member)| member == value))
            .then(|| format!("{column} value {value} is not a member of the column's Enum8 type"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lintas_schema::v1::Classification;

    fn classified() -> ClassifiedInteraction {
        ClassifiedInteraction {
            event: Some(lintas_schema::example::example_event()),
            classification: Some(Classification {
                interaction_type: 2,
                journey_stage: 4,
                classifier_version: "test".into(),
                ..Default::default()
            }),
            raw_origin: None,
        }
    }

    #[test]
    fn a_classified_interaction_becomes_one_encoded_row() {
        let payload = classified().encode_to_vec();
        let mut out = Vec::new();
        let tenant = encode_record(Some(&payload), "t", 1, 9, &mut out).expect("row");
        assert_eq!(tenant, lintas_schema::example::example_event().tenant_id);
        let row = InteractionRow::from_classified(&classified(), "t", 1, 9);
        let mut expected = Vec::new();
        lintas_clickhouse::encode_row(&row, &mut expected);
        assert_eq!(out, expected);
    }

    #[test]
    fn garbage_is_a_decode_dead_record_with_its_bytes() {
        let mut out = Vec::new();
        let dead = encode_record(Some(&[0xff, 0xff, 0xff]), "t", 0, 5, &mut out)
            .expect_err("not protobuf");
        assert_eq!(dead.kind, "decode");
        assert_eq!(dead.payload, vec![0xff, 0xff, 0xff]);
        assert_eq!(dead.offset, 5);
        assert!(
            dead.message.contains("ClassifiedInteraction"),
            "{}",
            dead.message
        );
        assert!(out.is_empty());
        let empty = encode_record(None, "t", 0, 6, &mut out).expect_err("no value");
        assert_eq!(empty.kind, "decode");
    }

    #[test]
    fn unknown_enum_numbers_and_missing_ids_are_invalid_events() {
        let mut out = Vec::new();
        let mut unknown = classified();
        if let Some(classification) = unknown.classification.as_mut() {
            classification.interaction_type = 99;
        }
        let dead = encode_record(Some(&unknown.encode_to_vec()), "t", 0, 1, &mut out)
            .expect_err("unknown type");
        assert_eq!(dead.kind, "invalid_event");
        assert!(
            dead.message.contains("interaction_type value 99"),
            "{}",
            dead.message
        );

        let mut no_id = classified();
        if let Some(event) = no_id.event.as_mut() {
            event.event_id.clear();
        }
        let dead =
            encode_record(Some(&no_id.encode_to_vec()), "t", 0, 2, &mut out).expect_err("no id");
        assert_eq!(dead.kind, "invalid_event");
        assert!(out.is_empty());
    }
}
