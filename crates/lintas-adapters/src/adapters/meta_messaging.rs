//! What Messenger and Instagram share: the Messenger Platform's event format. A delivery holds
//! one `entry[]` per Page or Instagram account, each with `messaging[]` events (and `standby[]`,
//! the same events seen by an app that does not hold the thread); `changes[]` (feed, comments,
//! mentions) are not mapped. The signature and the handshake are in [`super::meta`].
//!
//! The per-platform differences (source id, `object`, customer namespace) are a [`Platform`];
//! each adapter's module documents its mapping table.

use serde::Deserialize;
use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction};

use super::meta;
use crate::codec::{json_scalar, json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::handle;
use crate::normalize::time::{EpochUnit, from_epoch_json};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest, WebhookResponse,
};

/// Meta allows 10 attachments per message; more would be noise in the attributes.
const MAX_ATTACHMENTS: usize = 10;

/// What differs between the platforms speaking this format.
#[derive(Debug, Clone, Copy)]
pub(super) struct Platform {
    /// Adapter id, the `source` of every event.
    pub(super) source: &'static str,
    /// The `object` of the platform's deliveries (`page`, `instagram`).
    pub(super) object: &'static str,
    /// Namespace of the customer handle (`psid`, `igsid`): the ids are scoped to the business
    /// account, so they are stable per tenant but do not join other sources.
    pub(super) customer_namespace: &'static str,
    /// Attribute naming the business account the `entry` belongs to.
    pub(super) account_attribute: &'static str,
}

/// Messenger and Instagram differ only in their [`Platform`], so one implementation serves both:
/// the Meta signature and `hub.challenge` handshake, then the shared event parsing.
impl Adapter for Platform {
    fn id(&self) -> &'static str {
        self.source
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
        // Meta signs no timestamp; message-id deduplication makes a replay a no-op.
        meta::verify_hub_signature(request, secrets)
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        parse(self, request)
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
    id: Value,
    #[serde(default)]
    messaging: Vec<Value>,
    #[serde(default)]
    standby: Vec<Value>,
    #[serde(default)]
    changes: Vec<Value>,
}

/// Parses a delivery of `platform` into events.
pub(super) fn parse(
    platform: &Platform,
    request: &WebhookRequest<'_>,
) -> Result<Parsed, AdapterError> {
    let notification: Notification = parse_json(request.body)?;
    let mut parsed = Parsed::default();
    if notification.object.as_deref() != Some(platform.object) {
        let object = notification.object.as_deref().unwrap_or("(none)");
        parsed.push_ignored(IgnoredKind::Unmapped, &format!("object:{object}"), None);
        return Ok(parsed);
    }
    for entry in &notification.entry {
        for change in &entry.changes {
            let field = json_str(change, &["field"]).unwrap_or("(none)");
            parsed.push_ignored(IgnoredKind::Unmapped, &format!("changes.{field}"), None);
        }
        let account_id = json_scalar(&entry.id, &[]);
        let items = entry
            .messaging
            .iter()
            .map(|item| (item, false))
            .chain(entry.standby.iter().map(|item| (item, true)));
        for (item, standby) in items {
            let context = Context {
                platform,
                item,
                account_id: account_id.as_deref(),
                standby,
                request,
            };
            context.parse_item(&mut parsed);
        }
    }
    Ok(parsed)
}

/// One `messaging[]` item and what it is read against.
struct Context<'a> {
    platform: &'a Platform,
    item: &'a Value,
    account_id: Option<&'a str>,
    standby: bool,
    request: &'a WebhookRequest<'a>,
}

/// The customer, how the event flows and what it is called.
struct Flow {
    customer_raw: String,
    customer_id: String,
    direction: Direction,
    actor: Actor,
    event_name: &'static str,
}

impl Context<'_> {
    fn parse_item(&self, parsed: &mut Parsed) {
        let item = self.item;
        if let Some(message) = item.get("message").filter(|value| value.is_object()) {
            self.message(message, parsed);
        } else if let Some(postback) = item.get("postback").filter(|value| value.is_object()) {
            self.postback(postback, parsed);
        } else if let Some(reaction) = item.get("reaction").filter(|value| value.is_object()) {
            self.reaction(reaction, parsed);
        } else if let Some(referral) = item.get("referral").filter(|value| value.is_object()) {
            self.referral(referral, parsed);
        } else if let Some(kind) = ["read", "delivery"]
            .into_iter()
            .find(|kind| item.get(*kind).is_some())
        {
            let mid = json_str(item, &[kind, "mid"]);
            parsed.push_ignored(IgnoredKind::StateChange, kind, mid);
        } else {
            parsed.push_ignored(IgnoredKind::Unmapped, &item_kind(item), None);
        }
    }

    /// The customer of an inbound item (`sender`) or of an echo (`recipient`).
    fn flow(&self, echo: bool) -> Option<Flow> {
        let (side, direction, actor, event_name) = if echo {
            // The Page (or a person or app acting for it) wrote to the customer; `app_id` in the
            // attributes tells which app sent it.
            (
                "recipient",
                Direction::Outbound,
                Actor::Agent,
                "message.sent",
            )
        } else {
            (
                "sender",
                Direction::Inbound,
                Actor::Customer,
                "message.received",
            )
        };
        let customer_raw = json_scalar(self.item, &[side, "id"])?;
        let customer_id = handle(self.platform.customer_namespace, &customer_raw)?;
        Some(Flow {
            customer_raw,
            customer_id,
            direction,
            actor,
            event_name,
        })
    }

    /// A draft with what every item carries: customer, time, account.
    fn draft(&self, flow: Flow, source_event_id: String, text: &str) -> Draft {
        let mut draft = Draft {
            source_event_id,
            channel: Channel::Social,
            direction: flow.direction,
            actor: flow.actor,
            event_name: flow.event_name.to_owned(),
            occurred_at: self
                .item
                .get("timestamp")
                .and_then(|timestamp| from_epoch_json(timestamp, EpochUnit::Milliseconds)),
            // The customer's id is scoped to the business account: it names the thread too.
            conversation_id: flow.customer_id.clone(),
            customer_id: flow.customer_id,
            text: text.to_owned(),
            ..Draft::default()
        };
        draft.attribute(self.platform.account_attribute, self.account_id);
        if self.standby {
            draft.attribute("standby", Some("true"));
        }
        draft
    }

    /// An id for items Meta gives none (referrals, reactions, old postbacks): stable across
    /// redeliveries because it is built from what the platform sent.
    fn synthetic_id(&self, kind: &str, customer_raw: &str) -> String {
        let timestamp = json_scalar(self.item, &["timestamp"]).unwrap_or_default();
        format!("{kind}:{customer_raw}:{timestamp}")
    }

    fn message(&self, message: &Value, parsed: &mut Parsed) {
        let mid = json_str(message, &["mid"]);
        if message.get("is_deleted") == Some(&Value::Bool(true)) {
            parsed.push_ignored(IgnoredKind::StateChange, "message.deleted", mid);
            return;
        }
        let echo = message.get("is_echo") == Some(&Value::Bool(true));
        let Some(flow) = self.flow(echo) else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, mid);
            return;
        };
        let source_event_id = match mid {
            Some(mid) => mid.to_owned(),
            None => self.synthetic_id("message", &flow.customer_raw),
        };
        let text = json_str(message, &["text"]).unwrap_or_default();
        let mut draft = self.draft(flow, source_event_id, text);
        draft.attribute("message_type", Some(message_type(message)));
        if echo {
            draft.attribute("app_id", json_scalar(message, &["app_id"]));
        }
        draft.attribute(
            "quick_reply_payload",
            json_str(message, &["quick_reply", "payload"]),
        );
        draft.attribute(
            "reply_to_message_id",
            json_str(message, &["reply_to", "mid"]),
        );
        draft.attribute(
            "reply_to_story_id",
            json_scalar(message, &["reply_to", "story", "id"]),
        );
        draft.attribute(
            "reply_to_story_url",
            json_str(message, &["reply_to", "story", "url"]),
        );
        if message.get("is_unsupported") == Some(&Value::Bool(true)) {
            draft.attribute("unsupported", Some("true"));
        }
        add_attachments(&mut draft, message);
        add_referral(&mut draft, message.get("referral"));
        parsed
            .events
            .push(draft.into_event(self.platform.source, self.request));
    }

    fn postback(&self, postback: &Value, parsed: &mut Parsed) {
        let mid = json_str(postback, &["mid"]);
        let Some(mut flow) = self.flow(false) else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, mid);
            return;
        };
        flow.event_name = "postback.received";
        let source_event_id = match mid {
            Some(mid) => mid.to_owned(),
            None => self.synthetic_id("postback", &flow.customer_raw),
        };
        // The button's title is what the customer saw and tapped.
        let text = json_str(postback, &["title"]).unwrap_or_default();
        let mut draft = self.draft(flow, source_event_id, text);
        draft.attribute("message_type", Some("postback"));
        draft.attribute("postback_payload", json_str(postback, &["payload"]));
        add_referral(&mut draft, postback.get("referral"));
        parsed
            .events
            .push(draft.into_event(self.platform.source, self.request));
    }

    fn reaction(&self, reaction: &Value, parsed: &mut Parsed) {
        let reacted_mid = json_str(reaction, &["mid"]);
        if json_str(reaction, &["action"]) == Some("unreact") {
            parsed.push_ignored(IgnoredKind::StateChange, "reaction.removed", reacted_mid);
            return;
        }
        let Some(flow) = self.flow(false) else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, reacted_mid);
            return;
        };
        let kind = format!("reaction:{}", reacted_mid.unwrap_or_default());
        let source_event_id = self.synthetic_id(&kind, &flow.customer_raw);
        let text = json_str(reaction, &["emoji"]).unwrap_or_default();
        let mut draft = self.draft(flow, source_event_id, text);
        draft.attribute("message_type", Some("reaction"));
        draft.attribute("reacted_message_id", reacted_mid);
        draft.attribute("reaction", json_str(reaction, &["reaction"]));
        parsed
            .events
            .push(draft.into_event(self.platform.source, self.request));
    }

    fn referral(&self, referral: &Value, parsed: &mut Parsed) {
        let Some(mut flow) = self.flow(false) else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, None);
            return;
        };
        flow.event_name = "referral.received";
        let source_event_id = self.synthetic_id("referral", &flow.customer_raw);
        let mut draft = self.draft(flow, source_event_id, "");
        draft.attribute("message_type", Some("referral"));
        add_referral(&mut draft, Some(referral));
        parsed
            .events
            .push(draft.into_event(self.platform.source, self.request));
    }
}

/// A label for an item no branch handles: its first key besides the envelope's.
fn item_kind(item: &Value) -> String {
    item.as_object()
        .and_then(|object| {
            object
                .keys()
                .find(|key| !matches!(key.as_str(), "sender" | "recipient" | "timestamp"))
        })
        .map_or_else(|| "(none)".to_owned(), Clone::clone)
}

/// `story_reply`, `text`, the first attachment's type (`image`, `story_mention`...) or `unknown`.
fn message_type(message: &Value) -> &str {
    if message.pointer("/reply_to/story").is_some() {
        return "story_reply";
    }
    if json_str(message, &["text"]).is_some() {
        return "text";
    }
    message
        .pointer("/attachments/0/type")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
}

fn add_attachments(draft: &mut Draft, message: &Value) {
    let Some(attachments) = message.get("attachments").and_then(Value::as_array) else {
        return;
    };
    if attachments.is_empty() {
        return;
    }
    draft.attribute("attachment_count", Some(attachments.len().to_string()));
    for (index, attachment) in attachments.iter().take(MAX_ATTACHMENTS).enumerate() {
        draft.attribute(
            &format!("attachment_type_{index}"),
            json_str(attachment, &["type"]),
        );
        draft.attribute(
            &format!("attachment_url_{index}"),
            json_str(attachment, &["payload", "url"]),
        );
        draft.attribute(
            &format!("attachment_title_{index}"),
            json_str(attachment, &["title"]),
        );
    }
}

/// Where the customer came from (an ad, an `m.me` / `ig.me` link, a shop): awareness signals.
fn add_referral(draft: &mut Draft, referral: Option<&Value>) {
    let Some(referral) = referral.filter(|value| value.is_object()) else {
        return;
    };
    for (key, path) in [
        ("referral_ref", &["ref"][..]),
        ("referral_source", &["source"]),
        ("referral_type", &["type"]),
        ("referral_ad_id", &["ad_id"]),
        ("referral_referer_uri", &["referer_uri"]),
        ("referral_ad_title", &["ads_context_data", "ad_title"]),
        ("referral_post_id", &["ads_context_data", "post_id"]),
        ("referral_product_id", &["product", "id"]),
    ] {
        draft.attribute(key, json_scalar(referral, path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bytes;
    use crate::{Adapter, adapters::messenger::ADAPTER as Messenger};

    fn parse_items(items: Value) -> Parsed {
        let body = serde_json::json!({
            "object": "page",
            "entry": [{"id": "104857600012345", "time": 1741930200650_i64, "messaging": items}]
        });
        parse_bytes(&Messenger, "application/json", body.to_string().as_bytes()).expect("parses")
    }

    fn attribute<'a>(parsed: &'a Parsed, key: &str) -> Option<&'a str> {
        parsed.events[0].attributes.get(key).map(String::as_str)
    }

    #[test]
    fn echoes_are_outbound_to_the_recipient() {
        let parsed = parse_items(serde_json::json!([{
            "sender": {"id": "104857600012345"}, "recipient": {"id": "7000000000000103"},
            "timestamp": 1741931200000_i64,
            "message": {"mid": "m_echo", "is_echo": true, "app_id": 1517, "text": "Halo kak!"}}]));
        let event = &parsed.events[0];
        assert_eq!(event.customer_id, "psid:7000000000000103");
        assert_eq!(event.direction(), Direction::Outbound);
        assert_eq!(event.actor(), Actor::Agent);
        assert_eq!(event.event_name, "message.sent");
        assert_eq!(attribute(&parsed, "app_id"), Some("1517"));
        assert_eq!(attribute(&parsed, "page_id"), Some("104857600012345"));
    }

    #[test]
    fn receipts_are_state_changes_and_unknown_items_unmapped() {
        let parsed = parse_items(serde_json::json!([
            {"sender": {"id": "7"}, "recipient": {"id": "1"}, "read": {"watermark": 1741931200000_i64}},
            {"sender": {"id": "7"}, "recipient": {"id": "1"}, "delivery": {"mids": ["m_1"]}},
            {"sender": {"id": "7"}, "recipient": {"id": "1"}, "timestamp": 1, "optin": {"ref": "x"}},
            {"sender": {"id": "7"}, "recipient": {"id": "1"}, "reaction": {"mid": "m_1", "action": "unreact"}},
        ]));
        let kinds: Vec<(IgnoredKind, &str)> = parsed
            .ignored
            .iter()
            .map(|item| (item.kind, item.event_type.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (IgnoredKind::StateChange, "read"),
                (IgnoredKind::StateChange, "delivery"),
                (IgnoredKind::Unmapped, "optin"),
                (IgnoredKind::StateChange, "reaction.removed"),
            ]
        );
        assert!(parsed.events.is_empty());
    }

    #[test]
    fn reactions_and_referrals_get_ids_that_survive_redelivery() {
        let items = serde_json::json!([
            {"sender": {"id": "7"}, "recipient": {"id": "1"}, "timestamp": 1741931200000_i64,
             "reaction": {"mid": "m_1", "action": "react", "reaction": "love", "emoji": "❤️"}},
            {"sender": {"id": "7"}, "recipient": {"id": "1"}, "timestamp": 1741931200001_i64,
             "referral": {"ref": "ramadan_promo", "source": "SHORTLINK", "type": "OPEN_THREAD"}},
        ]);
        let first = parse_items(items.clone());
        let again = parse_items(items);
        assert_eq!(first.events.len(), 2);
        assert_eq!(first.events[0].text, "❤️");
        assert_eq!(
            first.events[0].source_event_id,
            "reaction:m_1:7:1741931200000"
        );
        assert_eq!(first.events[1].event_name, "referral.received");
        assert_eq!(
            first.events[1]
                .attributes
                .get("referral_ref")
                .map(String::as_str),
            Some("ramadan_promo")
        );
        for (one, other) in first.events.iter().zip(&again.events) {
            assert_eq!(one.event_id, other.event_id);
        }
    }

    #[test]
    fn attachments_and_standby_items_are_kept() {
        let body = serde_json::json!({"object": "page", "entry": [{"id": "1", "standby": [{
            "sender": {"id": "7"}, "recipient": {"id": "1"}, "timestamp": 1741931200000_i64,
            "message": {"mid": "m_2", "attachments": [{"type": "image", "payload": {"url": "https://example.com/a.jpg"}}]}}]}]});
        let parsed = parse_bytes(&Messenger, "application/json", body.to_string().as_bytes())
            .expect("parses");
        assert_eq!(parsed.events[0].text, "");
        assert_eq!(attribute(&parsed, "standby"), Some("true"));
        assert_eq!(attribute(&parsed, "message_type"), Some("image"));
        assert_eq!(
            attribute(&parsed, "attachment_url_0"),
            Some("https://example.com/a.jpg")
        );
    }

    #[test]
    fn a_message_without_sender_is_unusable() {
        let parsed = parse_items(serde_json::json!([
            {"recipient": {"id": "1"}, "timestamp": 1, "message": {"mid": "m_3", "text": "hi"}}
        ]));
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
        assert_eq!(parsed.unusable[0].source_event_id.as_deref(), Some("m_3"));
    }

    #[test]
    fn other_objects_and_feed_changes_are_unmapped() {
        let instagram = parse_bytes(
            &Messenger,
            "application/json",
            br#"{"object":"instagram","entry":[]}"#,
        )
        .expect("parses");
        assert_eq!(instagram.ignored[0].event_type, "object:instagram");
        let feed = parse_bytes(
            &Messenger,
            "application/json",
            br#"{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{}}]}]}"#,
        )
        .expect("parses");
        assert_eq!(feed.ignored[0].event_type, "changes.feed");
        assert_eq!(Messenger.id(), "messenger");
    }
}
