//! A complete, valid example event, for documentation and for tests across the workspace.

use crate::v1::{Actor, Channel, Direction, InteractionEvent, Money};

/// A valid inbound WhatsApp message from a known customer, every common field set.
pub fn example_event() -> InteractionEvent {
    let tenant = "acme-shop";
    let source = "whatsapp";
    let source_event_id = "wamid.HBgLMTU1NTU1NTAxMDEVAgASGBQzQTdBMjY";
    InteractionEvent {
        event_id: crate::derive_event_id(tenant, source, source_event_id).to_string(),
        tenant_id: tenant.into(),
        source: source.into(),
        channel: Channel::Messaging as i32,
        direction: Direction::Inbound as i32,
        actor: Actor::Customer as i32,
        event_name: "message.received".into(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: 1_741_947_910,
            nanos: 0,
        }),
        received_at: Some(prost_types::Timestamp {
            seconds: 1_741_947_911,
            nanos: 250_000_000,
        }),
        customer_id: "whatsapp:15555550101".into(),
        customer_handles: vec!["phone:+15555550101".into()],
        conversation_id: "whatsapp:15555550101".into(),
        text: "Where is my order #1042?".into(),
        language: "en".into(),
        money: Some(Money {
            amount_minor: 0,
            currency: "USD".into(),
        }),
        attributes: [("order_number".to_owned(), "1042".to_owned())].into(),
        source_event_id: source_event_id.into(),
        ..Default::default()
    }
}
