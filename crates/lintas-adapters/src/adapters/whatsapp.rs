//! `whatsapp`: WhatsApp Cloud API webhooks (Meta Graph, `object = whatsapp_business_account`).
//!
//! - Authenticity: `X-Hub-Signature-256` over the raw body with `app_secret`; `GET` handshake
//!   with `verify_token` (see [`super::meta`]).
//! - Content type: `application/json`.
//! - Mapping, per `entry[].changes[]` with `field = messages`:
//!
//! | payload | result |
//! | --- | --- |
//! | `value.messages[]` (text, image/video/audio/document/sticker, interactive, button, reaction, location, order, contacts, unsupported...) | `message.received`, channel MESSAGING, inbound, actor customer |
//! | a message of type `system` (customer changed number) or a reaction removal | ignored, state change |
//! | `value.statuses[]` (sent, delivered, read, failed) | ignored, state change (delivery receipts update an existing message) |
//! | `value.errors[]`, other `field`s, other `object`s | ignored, unmapped |
//! | a message with neither `from` nor a single `contacts[]` entry | unusable: no customer identifier |
//!
//! - Fields: `source_event_id` = `messages[].id` (the `wamid`), `occurred_at` = `messages[].timestamp`
//!   (epoch seconds as a string), `customer_id` = `whatsapp:<from>` (wa_id as sent, no `+`) with
//!   `phone:+<wa_id>` as extra handle, `conversation_id` = `customer_id`. `text` = the body, caption,
//!   button/list title, reaction emoji or location name; media ids, reply context and click-to-WhatsApp
//!   referral go to `attributes`.
//!
//! Docs: <https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages>.

use serde::Deserialize;
use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction};

use super::meta;
use crate::codec::{json_scalar, json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::{handle, phone_handle};
use crate::normalize::time::{EpochUnit, from_epoch_json};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest, WebhookResponse,
};

/// The WhatsApp Cloud API adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Whatsapp;

/// Source id.
pub const ID: &str = "whatsapp";

impl Adapter for Whatsapp {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        meta::SECRET_NAMES
    }

    fn content_types(&self) -> &'static [&'static str] {
        &["application/json"]
    }

    fn handshake(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
    ) -> Result<Option<WebhookResponse>, AdapterError> {
        meta::hub_handshake(request, secrets)
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
        _policy: &VerifyPolicy,
    ) -> Result<(), AdapterError> {
        // Meta signs no timestamp, so there is no replay window to check; `wamid`
        // deduplication downstream makes a replayed delivery a no-op.
        meta::verify_hub_signature(request, secrets)
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let notification: Notification = parse_json(request.body)?;
        let mut parsed = Parsed::default();
        if notification.object.as_deref() != Some("whatsapp_business_account") {
            let object = notification.object.as_deref().unwrap_or("(none)");
            parsed.push_ignored(IgnoredKind::Unmapped, &format!("object:{object}"), None);
            return Ok(parsed);
        }
        for change in notification.entry.iter().flat_map(|entry| &entry.changes) {
            let field = change.field.as_deref().unwrap_or("(none)");
            match (&change.value, field) {
                (Some(value), "messages") => parse_value(value, request, &mut parsed),
                _ => parsed.push_ignored(IgnoredKind::Unmapped, field, None),
            }
        }
        Ok(parsed)
    }
}

#[derive(Debug, Deserialize)]
struct Notification {
    object: Option<String>,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: Option<String>,
    value: Option<ChangeValue>,
}

#[derive(Debug, Deserialize)]
struct ChangeValue {
    #[serde(default)]
    metadata: Value,
    #[serde(default)]
    contacts: Vec<Value>,
    #[serde(default)]
    messages: Vec<Value>,
    #[serde(default)]
    statuses: Vec<Value>,
    #[serde(default)]
    errors: Vec<Value>,
}

fn parse_value(value: &ChangeValue, request: &WebhookRequest<'_>, parsed: &mut Parsed) {
    for status in &value.statuses {
        let state = json_str(status, &["status"]).unwrap_or("unknown");
        parsed.push_ignored(
            IgnoredKind::StateChange,
            &format!("status.{state}"),
            json_str(status, &["id"]),
        );
    }
    if !value.errors.is_empty() {
        parsed.push_ignored(IgnoredKind::Unmapped, "errors", None);
    }
    for message in &value.messages {
        parse_message(message, value, request, parsed);
    }
}

fn parse_message(
    message: &Value,
    value: &ChangeValue,
    request: &WebhookRequest<'_>,
    parsed: &mut Parsed,
) {
    let message_id = json_str(message, &["id"]);
    let kind = json_str(message, &["type"]).unwrap_or("unknown");
    let reaction_removed =
        kind == "reaction" && json_str(message, &["reaction", "emoji"]).is_none();
    if kind == "system" || reaction_removed {
        parsed.push_ignored(
            IgnoredKind::StateChange,
            &format!("message.{kind}"),
            message_id,
        );
        return;
    }
    // `from` is the sender; a lone `contacts[]` entry names the same person when it is missing.
    let sender = json_str(message, &["from"]).or_else(|| match value.contacts.as_slice() {
        [only] => json_str(only, &["wa_id"]),
        _ => None,
    });
    let Some(customer_id) = sender.and_then(|wa_id| handle("whatsapp", wa_id)) else {
        parsed.push_unusable(UnusableReason::NoCustomerIdentifier, message_id);
        return;
    };

    let mut draft = Draft {
        source_event_id: message_id.unwrap_or_default().to_owned(),
        channel: Channel::Messaging,
        direction: Direction::Inbound,
        actor: Actor::Customer,
        event_name: "message.received".to_owned(),
        occurred_at: message
            .get("timestamp")
            .and_then(|timestamp| from_epoch_json(timestamp, EpochUnit::Seconds)),
        customer_handles: sender.and_then(phone_handle).into_iter().collect(),
        conversation_id: customer_id.clone(),
        customer_id,
        text: message_text(message, kind),
        ..Draft::default()
    };
    draft.attribute("message_type", Some(kind));
    draft.attribute(
        "business_phone_number_id",
        json_scalar(&value.metadata, &["phone_number_id"]),
    );
    add_content_attributes(&mut draft, message, kind);
    add_context_attributes(&mut draft, message);
    parsed.events.push(draft.into_event(ID, request));
}

/// The customer-visible text of a message of type `kind`.
fn message_text(message: &Value, kind: &str) -> String {
    let text = match kind {
        "text" => json_str(message, &["text", "body"]).map(str::to_owned),
        "image" | "video" | "audio" | "document" | "sticker" => {
            json_str(message, &[kind, "caption"]).map(str::to_owned)
        }
        "interactive" => json_str(message, &["interactive", "button_reply", "title"])
            .or_else(|| json_str(message, &["interactive", "list_reply", "title"]))
            .map(str::to_owned),
        "button" => json_str(message, &["button", "text"]).map(str::to_owned),
        "reaction" => json_str(message, &["reaction", "emoji"]).map(str::to_owned),
        "order" => json_str(message, &["order", "text"]).map(str::to_owned),
        "location" => {
            let parts: Vec<&str> = [
                json_str(message, &["location", "name"]),
                json_str(message, &["location", "address"]),
            ]
            .into_iter()
            .flatten()
            .collect();
            Some(parts.join(", "))
        }
        _ => None,
    };
    text.unwrap_or_default()
}

/// Non-text content worth keeping: media ids, button payloads, coordinates, order size.
fn add_content_attributes(draft: &mut Draft, message: &Value, kind: &str) {
    match kind {
        "image" | "video" | "audio" | "document" | "sticker" => {
            draft.attribute("media_id", json_scalar(message, &[kind, "id"]));
            draft.attribute("media_mime_type", json_str(message, &[kind, "mime_type"]));
            draft.attribute("media_filename", json_str(message, &[kind, "filename"]));
        }
        "interactive" => {
            let reply_id = json_str(message, &["interactive", "button_reply", "id"])
                .or_else(|| json_str(message, &["interactive", "list_reply", "id"]));
            draft.attribute("interactive_reply_id", reply_id);
        }
        "button" => draft.attribute("button_payload", json_str(message, &["button", "payload"])),
        "reaction" => draft.attribute(
            "reacted_message_id",
            json_str(message, &["reaction", "message_id"]),
        ),
        "location" => {
            draft.attribute("latitude", json_scalar(message, &["location", "latitude"]));
            draft.attribute(
                "longitude",
                json_scalar(message, &["location", "longitude"]),
            );
        }
        "order" => {
            draft.attribute(
                "order_catalog_id",
                json_scalar(message, &["order", "catalog_id"]),
            );
            let items = message
                .pointer("/order/product_items")
                .and_then(Value::as_array)
                .map(|items| items.len().to_string());
            draft.attribute("order_item_count", items);
        }
        _ => {}
    }
}

/// Reply context and click-to-WhatsApp ad referral: what the message answers and where the
/// customer came from (the journey's awareness signals).
fn add_context_attributes(draft: &mut Draft, message: &Value) {
    draft.attribute("reply_to_message_id", json_str(message, &["context", "id"]));
    if message.pointer("/context/forwarded") == Some(&Value::Bool(true)) {
        draft.attribute("forwarded", Some("true"));
    }
    for (key, field) in [
        ("referral_source_type", "source_type"),
        ("referral_source_id", "source_id"),
        ("referral_source_url", "source_url"),
        ("referral_headline", "headline"),
        ("referral_ctwa_clid", "ctwa_clid"),
    ] {
        draft.attribute(key, json_scalar(message, &["referral", field]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bytes;

    fn parse_messages(messages: Value, contacts: Value) -> Parsed {
        let body = serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "metadata": {"phone_number_id": "109876543210987"},
                "contacts": contacts,
                "messages": messages,
            }}]}]
        });
        parse_bytes(&Whatsapp, "application/json", body.to_string().as_bytes()).expect("parses")
    }

    #[test]
    fn interactive_replies_use_the_title_as_text() {
        let parsed = parse_messages(
            serde_json::json!([{"from": "15555550101", "id": "wamid.1", "timestamp": "1741921541",
                "type": "interactive", "interactive": {"type": "button_reply",
                "button_reply": {"id": "track_order", "title": "Lacak pesanan"}}}]),
            serde_json::json!([]),
        );
        let event = &parsed.events[0];
        assert_eq!(event.text, "Lacak pesanan");
        assert_eq!(
            event
                .attributes
                .get("interactive_reply_id")
                .map(String::as_str),
            Some("track_order")
        );
        assert_eq!(
            event
                .attributes
                .get("business_phone_number_id")
                .map(String::as_str),
            Some("109876543210987")
        );
    }

    #[test]
    fn a_lone_contact_names_the_sender_when_from_is_missing() {
        let parsed = parse_messages(
            serde_json::json!([{"id": "wamid.2", "timestamp": "1741921541", "type": "text",
                "text": {"body": "Halo"}}]),
            serde_json::json!([{"wa_id": "15555550109", "profile": {"name": "Customer H"}}]),
        );
        assert_eq!(parsed.events[0].customer_id, "whatsapp:15555550109");
    }

    #[test]
    fn system_messages_and_removed_reactions_are_state_changes() {
        let parsed = parse_messages(
            serde_json::json!([
                {"from": "15555550101", "id": "wamid.3", "type": "system", "system": {"body": "changed number"}},
                {"from": "15555550101", "id": "wamid.4", "type": "reaction", "reaction": {"message_id": "wamid.0", "emoji": ""}},
                {"from": "15555550101", "id": "wamid.5", "type": "reaction", "reaction": {"message_id": "wamid.0", "emoji": "👍"}},
            ]),
            serde_json::json!([]),
        );
        let kinds: Vec<&str> = parsed
            .ignored
            .iter()
            .map(|item| item.event_type.as_str())
            .collect();
        assert_eq!(kinds, vec!["message.system", "message.reaction"]);
        assert_eq!(parsed.events.len(), 1);
        assert_eq!(parsed.events[0].text, "👍");
        assert_eq!(
            parsed.events[0]
                .attributes
                .get("reacted_message_id")
                .map(String::as_str),
            Some("wamid.0")
        );
    }

    #[test]
    fn locations_and_ad_referrals_are_kept() {
        let parsed = parse_messages(
            serde_json::json!([{"from": "15555550101", "id": "wamid.6", "timestamp": 1741921541,
                "type": "location", "location": {"latitude": -6.2, "longitude": 106.8, "name": "Toko", "address": "Jakarta"},
                "referral": {"source_type": "ad", "source_id": "120", "headline": "Promo"}}]),
            serde_json::json!([]),
        );
        let event = &parsed.events[0];
        assert_eq!(event.text, "Toko, Jakarta");
        assert_eq!(
            event.attributes.get("latitude").map(String::as_str),
            Some("-6.2")
        );
        assert_eq!(
            event
                .attributes
                .get("referral_source_type")
                .map(String::as_str),
            Some("ad")
        );
    }

    #[test]
    fn other_objects_and_fields_are_unmapped() {
        let page = parse_bytes(
            &Whatsapp,
            "application/json",
            br#"{"object":"page","entry":[]}"#,
        )
        .expect("parses");
        assert_eq!(page.ignored[0].event_type, "object:page");
        let template = parse_bytes(
            &Whatsapp,
            "application/json",
            br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":{}}]}]}"#,
        )
        .expect("parses");
        assert_eq!(template.ignored[0].kind, IgnoredKind::Unmapped);
        assert!(template.events.is_empty());
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_malformed() {
        let refused = parse_bytes(
            &Whatsapp,
            "application/json",
            br#"{"object":"whatsapp_business_account","entry":"x"}"#,
        )
        .expect_err("entry must be an array");
        assert_eq!(refused.code(), "malformed_body");
    }
}
