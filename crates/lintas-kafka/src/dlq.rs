//! Dead-letter records: the original bytes plus why and where they failed, in headers.
//!
//! Every stage sends what it cannot process here instead of blocking its partition or dropping
//! the data; `lintas replay` reads these headers to re-drive records once the cause is fixed.

use rdkafka::message::{Header, Headers, OwnedHeaders};

/// Header: the stage that failed (`gateway`, `classifier`, `sink`).
pub const STAGE: &str = "lintas-dlq-stage";
/// Header: a stable, low-cardinality error kind (`decode`, `invalid_event`, `clickhouse_rejected`).
pub const ERROR_KIND: &str = "lintas-dlq-error-kind";
/// Header: the human-readable error message.
pub const ERROR_MESSAGE: &str = "lintas-dlq-error-message";
/// Header: topic the record was read from, when it came from Kafka.
pub const ORIGIN_TOPIC: &str = "lintas-dlq-origin-topic";
/// Header: partition the record was read from.
pub const ORIGIN_PARTITION: &str = "lintas-dlq-origin-partition";
/// Header: offset the record was read from.
pub const ORIGIN_OFFSET: &str = "lintas-dlq-origin-offset";
/// Header: the source adapter, for records from webhooks.
pub const SOURCE: &str = "lintas-dlq-source";

/// Longest error message kept in a header; broker limits and readability both argue for a cap.
const MAX_MESSAGE_BYTES: usize = 2048;

/// Where a dead-lettered record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Topic read.
    pub topic: String,
    /// Partition read.
    pub partition: i32,
    /// Offset read.
    pub offset: i64,
}

/// Why and where a record failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlqReason {
    /// The stage that failed.
    pub stage: String,
    /// Stable error kind.
    pub error_kind: String,
    /// Error message.
    pub message: String,
    /// Kafka origin, when the record was consumed from a topic.
    pub origin: Option<Origin>,
    /// Tenant, when known.
    pub tenant: Option<String>,
    /// Source adapter, when the record came from a webhook.
    pub source: Option<String>,
}

impl DlqReason {
    /// The Kafka headers that carry this reason.
    pub fn to_headers(&self) -> OwnedHeaders {
        let message = truncate(&self.message, MAX_MESSAGE_BYTES);
        let mut headers = OwnedHeaders::new()
            .insert(Header {
                key: STAGE,
                value: Some(self.stage.as_str()),
            })
            .insert(Header {
                key: ERROR_KIND,
                value: Some(self.error_kind.as_str()),
            })
            .insert(Header {
                key: ERROR_MESSAGE,
                value: Some(message),
            });
        if let Some(origin) = &self.origin {
            headers = headers
                .insert(Header {
                    key: ORIGIN_TOPIC,
                    value: Some(origin.topic.as_str()),
                })
                .insert(Header {
                    key: ORIGIN_PARTITION,
                    value: Some(&origin.partition.to_string()),
                })
                .insert(Header {
                    key: ORIGIN_OFFSET,
                    value: Some(&origin.offset.to_string()),
                });
        }
        if let Some(tenant) = &self.tenant {
            headers = headers.insert(Header {
                key: lintas_schema::headers::TENANT,
                value: Some(tenant.as_str()),
            });
        }
        if let Some(source) = &self.source {
            headers = headers.insert(Header {
                key: SOURCE,
                value: Some(source.as_str()),
            });
        }
        headers
    }

    /// Reads a reason back from record headers; `None` when the stage or kind is missing.
    pub fn from_headers(headers: &impl Headers) -> Option<Self> {
        let get = |name: &str| -> Option<String> {
            headers
                .iter()
                .find(|header| header.key == name)
                .and_then(|header| header.value)
                .map(|value| String::from_utf8_lossy(value).into_owned())
        };
        let origin = match (get(ORIGIN_TOPIC), get(ORIGIN_PARTITION), get(ORIGIN_OFFSET)) {
            (Some(topic), Some(partition), Some(offset)) => Some(Origin {
                topic,
                partition: partition.parse().ok()?,
                offset: offset.parse().ok()?,
            }),
            _ => None,
        };
        Some(Self {
            stage: get(STAGE)?,
            error_kind: get(ERROR_KIND)?,
            message: get(ERROR_MESSAGE).unwrap_or_default(),
            origin,
            tenant: get(lintas_schema::headers::TENANT),
            source: get(SOURCE),
        })
    }
}

fn truncate(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_survives_the_header_round_trip() {
        let reason = DlqReason {
            stage: "classifier".into(),
            error_kind: "decode".into(),
            message: "invalid wire type 7 at offset 3".into(),
            origin: Some(Origin {
                topic: "lintas.interactions.raw.v1".into(),
                partition: 4,
                offset: 1234,
            }),
            tenant: Some("acme".into()),
            source: None,
        };
        assert_eq!(DlqReason::from_headers(&reason.to_headers()), Some(reason));
    }

    #[test]
    fn long_messages_are_cut_at_a_char_boundary() {
        let message = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = truncate(&message, MAX_MESSAGE_BYTES - 1);
        assert!(cut.len() < MAX_MESSAGE_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn headers_without_stage_are_not_a_reason() {
        assert_eq!(DlqReason::from_headers(&OwnedHeaders::new()), None);
    }
}
