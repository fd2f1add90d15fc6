//! One raw record in, one decision out: decode and validate the `InteractionEvent`, or say why
//! the record must go to the dead-letter topic. Pure, so every rejection is unit-tested.

use lintas_kafka::dlq::{DlqReason, Origin};
use lintas_schema::v1::{Classification, ClassifiedInteraction, InteractionEvent, KafkaOrigin};
use prost::Message as _;
use rdkafka::message::{Header, OwnedHeaders};

/// Stage name in the DLQ headers of records this service rejects.
pub const DLQ_STAGE: &str = "classifier";

/// Every `kind` a rejected record may carry (DLQ header and metric label).
pub const REJECTION_KINDS: &[&str] = &["empty", "decode", "invalid_event"];

/// Why a raw record cannot be classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    /// One of [`REJECTION_KINDS`].
    pub(crate) kind: &'static str,
    /// What was wrong, naming the field or decoder error.
    pub(crate) message: String,
    /// Tenant, when the event decoded far enough to name one.
    pub(crate) tenant: Option<String>,
}

impl Rejection {
    /// The DLQ headers of this rejection for a record read at `origin`.
    pub(crate) fn to_reason(&self, origin: Origin) -> DlqReason {
        DlqReason {
            stage: DLQ_STAGE.to_owned(),
            error_kind: self.kind.to_owned(),
            message: self.message.clone(),
            origin: Some(origin),
            tenant: self.tenant.clone(),
            source: None,
        }
    }
}

/// Decodes and validates a raw record's value.
pub(crate) fn decode_event(payload: Option<&[u8]>) -> Result<InteractionEvent, Rejection> {
    let Some(bytes) = payload.filter(|bytes| !bytes.is_empty()) else {
        return Err(Rejection {
            kind: "empty",
            message: "record has no value; expected an encoded lintas.v1.InteractionEvent".into(),
            tenant: None,
        });
    };
    let event = InteractionEvent::decode(bytes).map_err(|error| Rejection {
        kind: "decode",
        message: format!("value is not a lintas.v1.InteractionEvent: {error}"),
        tenant: None,
    })?;
    if let Err(error) = lintas_schema::validate_event(&event) {
        let tenant = (!event.tenant_id.is_empty()).then(|| event.tenant_id.clone());
        return Err(Rejection {
            kind: "invalid_event",
            message: format!("invalid event ({}): {error}", error.code()),
            tenant,
        });
    }
    Ok(event)
}

/// The classified record's value.
pub(crate) fn classified_value(
    event: InteractionEvent,
    classification: Classification,
    origin: KafkaOrigin,
) -> Vec<u8> {
    ClassifiedInteraction {
        event: Some(event),
        classification: Some(classification),
        raw_origin: Some(origin),
    }
    .encode_to_vec()
}

/// Headers of a classified record: its schema, the contract version and the tenant.
pub(crate) fn classified_headers(tenant_id: &str) -> OwnedHeaders {
    OwnedHeaders::new_with_capacity(3)
        .insert(Header {
            key: lintas_schema::headers::SCHEMA,
            value: Some(lintas_schema::headers::CLASSIFIED_INTERACTION),
        })
        .insert(Header {
            key: lintas_schema::headers::SCHEMA_VERSION,
            value: Some(lintas_schema::headers::CURRENT_SCHEMA_VERSION),
        })
        .insert(Header {
            key: lintas_schema::headers::TENANT,
            value: Some(tenant_id),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lintas_schema::example::example_event;
    use rdkafka::message::Headers as _;

    #[test]
    fn a_valid_event_decodes_unchanged() {
        let event = example_event();
        let decoded = decode_event(Some(&event.encode_to_vec())).expect("valid event");
        assert_eq!(decoded, event);
    }

    #[test]
    fn a_missing_or_empty_value_is_rejected_as_empty() {
        assert_eq!(decode_event(None).map_err(|r| r.kind), Err("empty"));
        assert_eq!(decode_event(Some(&[])).map_err(|r| r.kind), Err("empty"));
    }

    #[test]
    fn garbage_bytes_are_rejected_as_undecodable_with_the_decoder_error() {
        let rejection = decode_event(Some(&[0xff, 0xff, 0xff, 0x07])).expect_err("garbage");
        assert_eq!(rejection.kind, "decode");
        assert!(rejection.message.contains("lintas.v1.InteractionEvent"));
        assert_eq!(rejection.tenant, None);
    }

    #[test]
    fn an_event_failing_validation_is_rejected_with_its_tenant() {
        let mut event = example_event();
        event.event_id.clear();
        let rejection = decode_event(Some(&event.encode_to_vec())).expect_err("invalid");
        assert_eq!(rejection.kind, "invalid_event");
        assert_eq!(rejection.tenant.as_deref(), Some(event.tenant_id.as_str()));
        let reason = rejection.to_reason(Origin {
            topic: "raw".into(),
            partition: 2,
            offset: 9,
        });
        let headers = reason.to_headers();
        assert_eq!(DlqReason::from_headers(&headers), Some(reason));
    }

    #[test]
    fn classified_records_carry_schema_version_and_tenant_headers() {
        let headers = classified_headers("acme");
        let found: Vec<(String, Vec<u8>)> = headers
            .iter()
            .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
            .collect();
        assert!(found.contains(&(
            lintas_schema::headers::SCHEMA.to_owned(),
            b"lintas.v1.ClassifiedInteraction".to_vec()
        )));
        assert!(found.contains(&(lintas_schema::headers::TENANT.to_owned(), b"acme".to_vec())));
        assert!(found.contains(&(
            lintas_schema::headers::SCHEMA_VERSION.to_owned(),
            b"1".to_vec()
        )));
    }
}
