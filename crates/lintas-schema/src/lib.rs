//! The Lintas event contract.
//!
//! - [`v1`]: prost types generated from `proto/lintas/v1/` at build time (never hand-edited).
//! - [`identity`]: the deterministic `event_id` (UUIDv5 over tenant, source and the source's own
//!   id; UUIDv7 only when the source has no stable id), so redelivered webhooks deduplicate.
//! - [`validate`]: the checks every event passes before it is produced to Kafka.
//! - [`time`]: conversions between protobuf timestamps and `chrono`.
//! - [`headers`] and [`partition_key`]: how events are framed on Kafka.
#![deny(missing_docs)]

pub mod example;
pub mod identity;
pub mod time;
pub mod validate;

/// Generated types of the `lintas.v1` protobuf package.
#[allow(clippy::all, unreachable_pub, missing_debug_implementations)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/lintas.v1.rs"));
}

pub use identity::{EventIdentity, derive_event_id, mint_event_id};
pub use validate::{ValidationError, validate_event};

/// Kafka header names stamped on every record Lintas produces.
pub mod headers {
    /// Fully qualified protobuf message name of the record value, e.g. `lintas.v1.InteractionEvent`.
    pub const SCHEMA: &str = "lintas-schema";
    /// Version of the contract the value was encoded with.
    pub const SCHEMA_VERSION: &str = "lintas-schema-version";
    /// Tenant id, so consumers can route or filter without decoding the value.
    pub const TENANT: &str = "lintas-tenant";
    /// The contract version written into [`SCHEMA_VERSION`].
    pub const CURRENT_SCHEMA_VERSION: &str = "1";
    /// Message name of [`crate::v1::InteractionEvent`] values.
    pub const INTERACTION_EVENT: &str = "lintas.v1.InteractionEvent";
    /// Message name of [`crate::v1::ClassifiedInteraction`] values.
    pub const CLASSIFIED_INTERACTION: &str = "lintas.v1.ClassifiedInteraction";
}

/// The Kafka record key of an event: `tenant/customer`, so one customer's events stay in one
/// partition and keep their order.
///
/// Falls back to the anonymous id, then to the conversation. Returns `None` (no key, records
/// spread round-robin) rather than an empty key when the event names nobody.
pub fn partition_key(event: &v1::InteractionEvent) -> Option<String> {
    let who = [
        &event.customer_id,
        &event.anonymous_id,
        &event.conversation_id,
    ]
    .into_iter()
    .find(|value| !value.is_empty())?;
    Some(format!("{}/{}", event.tenant_id, who))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_key_prefers_customer_then_anonymous_then_conversation() {
        let mut event = v1::InteractionEvent {
            tenant_id: "acme".into(),
            conversation_id: "conv:1".into(),
            ..Default::default()
        };
        assert_eq!(partition_key(&event).as_deref(), Some("acme/conv:1"));
        event.anonymous_id = "anon-7".into();
        assert_eq!(partition_key(&event).as_deref(), Some("acme/anon-7"));
        event.customer_id = "phone:+15555550101".into();
        assert_eq!(
            partition_key(&event).as_deref(),
            Some("acme/phone:+15555550101")
        );
    }

    #[test]
    fn partition_key_is_none_when_the_event_names_nobody() {
        let event = v1::InteractionEvent {
            tenant_id: "acme".into(),
            ..Default::default()
        };
        assert_eq!(partition_key(&event), None);
    }
}
