//! RowBinary encoding of [`InteractionRow`], identical for every server version.
//!
//! Hand-written rather than through the `clickhouse` crate's serializer (private in 0.15) so
//! the sink can measure and cut batches by encoded bytes, and so the exact bytes can be
//! written to a file and decoded by another engine (the chDB check). The layout is the one the
//! crate's `Row` derive produces for the same struct; `tests/clickhouse_schema.rs` inserts rows
//! both ways into the real server and compares what is read back.

use crate::row::InteractionRow;

/// The stored columns of `interactions`, in insert order (the field order of
/// [`InteractionRow`]).
pub const COLUMNS: &[&str] = &[
    "tenant_id",
    "event_id",
    "source_event_id",
    "source",
    "channel",
    "direction",
    "actor",
    "event_name",
    "occurred_at_us",
    "received_at_us",
    "classified_at_us",
    "customer_id",
    "anonymous_id",
    "customer_handles",
    "conversation_id",
    "agent_id",
    "subject",
    "text",
    "language",
    "amount_minor",
    "currency",
    "rating_scale",
    "rating_value",
    "rating_min",
    "rating_max",
    "attribute_keys",
    "attribute_values",
    "normalization_flags",
    "interaction_type",
    "journey_stage",
    "type_confidence",
    "stage_confidence",
    "classifier_version",
    "reasons",
    "raw_topic",
    "raw_partition",
    "raw_offset",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "row_version",
];

/// `INSERT INTO db.table (columns) FORMAT RowBinary`: the statement the encoded bytes follow
/// (for `clickhouse::Client::insert_formatted_with`).
pub fn insert_sql(database: &str, table: &str) -> String {
    format!(
        "INSERT INTO {}.{} ({}) FORMAT RowBinary",
        crate::schema::quote_ident(database),
        crate::schema::quote_ident(table),
        COLUMNS.join(", ")
    )
}

/// Appends one row in RowBinary to `out`; returns the number of bytes written.
pub fn encode_row(row: &InteractionRow, out: &mut Vec<u8>) -> usize {
    let start = out.len();
    string(out, &row.tenant_id);
    string(out, &row.event_id);
    string(out, &row.source_event_id);
    string(out, &row.source);
    out.push(row.channel as u8);
    out.push(row.direction as u8);
    out.push(row.actor as u8);
    string(out, &row.event_name);
    out.extend_from_slice(&row.occurred_at_us.to_le_bytes());
    out.extend_from_slice(&row.received_at_us.to_le_bytes());
    out.extend_from_slice(&row.classified_at_us.to_le_bytes());
    string(out, &row.customer_id);
    string(out, &row.anonymous_id);
    strings(out, &row.customer_handles);
    string(out, &row.conversation_id);
    string(out, &row.agent_id);
    string(out, &row.subject);
    string(out, &row.text);
    string(out, &row.language);
    nullable(out, row.amount_minor.map(i64::to_le_bytes));
    string(out, &row.currency);
    out.push(row.rating_scale as u8);
    nullable(out, row.rating_value.map(f64::to_le_bytes));
    nullable(out, row.rating_min.map(f64::to_le_bytes));
    nullable(out, row.rating_max.map(f64::to_le_bytes));
    strings(out, &row.attribute_keys);
    strings(out, &row.attribute_values);
    leb128(out, row.normalization_flags.len() as u64);
    out.extend(row.normalization_flags.iter().map(|&flag| flag as u8));
    out.push(row.interaction_type as u8);
    out.push(row.journey_stage as u8);
    out.extend_from_slice(&row.type_confidence.to_le_bytes());
    out.extend_from_slice(&row.stage_confidence.to_le_bytes());
    string(out, &row.classifier_version);
    strings(out, &row.reasons);
    string(out, &row.raw_topic);
    out.extend_from_slice(&row.raw_partition.to_le_bytes());
    out.extend_from_slice(&row.raw_offset.to_le_bytes());
    string(out, &row.kafka_topic);
    out.extend_from_slice(&row.kafka_partition.to_le_bytes());
    out.extend_from_slice(&row.kafka_offset.to_le_bytes());
    out.extend_from_slice(&row.row_version.to_le_bytes());
    out.len() - start
}

/// All rows in RowBinary, in order.
pub fn encode_rows<'a>(rows: impl IntoIterator<Item = &'a InteractionRow>) -> Vec<u8> {
    let mut out = Vec::new();
    for row in rows {
        encode_row(row, &mut out);
    }
    out
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn string(out: &mut Vec<u8>, value: &str) {
    leb128(out, value.len() as u64);
    out.extend_from_slice(value.as_bytes());
}

fn strings(out: &mut Vec<u8>, values: &[String]) {
    leb128(out, values.len() as u64);
    for value in values {
        string(out, value);
    }
}

fn nullable<const N: usize>(out: &mut Vec<u8>, value: Option<[u8; N]>) {
    match value {
        Some(bytes) => {
            out.push(0);
            out.extend_from_slice(&bytes);
        }
        None => out.push(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_matches_the_clickhouse_varint() {
        let mut out = Vec::new();
        leb128(&mut out, 0);
        leb128(&mut out, 127);
        leb128(&mut out, 128);
        leb128(&mut out, 300);
        assert_eq!(out, [0x00, 0x7f, 0x80, 0x01, 0xac, 0x02]);
    }

    #[test]
    fn nulls_are_one_flag_byte_and_values_follow_a_zero() {
        let mut out = Vec::new();
        nullable(&mut out, None::<[u8; 8]>);
        nullable(&mut out, Some(5_i64.to_le_bytes()));
        assert_eq!(out, [1, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn an_empty_row_has_the_documented_size() {
        // 16 empty strings and 5 empty arrays (a 1-byte length each), 6 enums, 4 nulls
        // (1 flag byte each), 3 times + 2 offsets + version (8 bytes), 2 partitions +
        // 2 confidences (4 bytes).
        let row = InteractionRow::default();
        let mut out = Vec::new();
        let size = encode_row(&row, &mut out);
        assert_eq!(size, 16 + 5 + 6 + 4 + 6 * 8 + 4 * 4);
        assert_eq!(out.len(), size);
    }

    #[test]
    fn columns_match_the_row_fields() {
        use clickhouse::Row as _;
        assert_eq!(InteractionRow::COLUMN_NAMES, COLUMNS);
    }
}
