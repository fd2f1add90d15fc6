//! `chatwoot`: Chatwoot account webhooks (live chat and the inboxes Chatwoot bridges).
//!
//! - Authenticity: `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(webhook_secret,
//!   "{X-Chatwoot-Timestamp}.{raw body}")>`. The signature is checked first, then the signed
//!   timestamp (Unix seconds) against the receive time with
//!   [`VerifyPolicy::timestamp_tolerance`], so a stale timestamp always means an authentic but
//!   replayed or delayed delivery. Chatwoot versions without per-webhook secrets send no
//!   signature and are refused (401): a secret URL is not authentication.
//!   `X-Chatwoot-Delivery` (reused on retries) is not needed: the message id deduplicates.
//! - Content type: `application/json`.
//! - Mapping (`event` field):
//!
//! | event / message | result |
//! | --- | --- |
//! | `message_created`, `message_type` `incoming` (or `0`) | `message.received`, inbound, actor customer |
//! | `message_created`, `outgoing` (`1`) | `message.sent`, outbound, actor agent (bot for an agent bot or a message without sender) |
//! | `message_created`, `template` (`3`: greetings, CSAT prompts, automations) | `message.sent`, outbound, actor bot |
//! | `message_created` with `private: true` (a private note) | `note.created`, internal, actor agent (or bot) |
//! | `conversation_created` | each embedded `messages[]` entry as if it came in its own `message_created` (same ids, so the later `message_created` of the same message is the same event); no message: ignored, state change |
//! | `activity` messages (`2`: assignment, resolution notices) | ignored, state change |
//! | `message_updated`, `conversation_updated`, `conversation_status_changed`, `conversation_typing_on/off`, `contact_created`, `contact_updated` | ignored, state change |
//! | `webwidget_triggered` and other events | ignored, unmapped |
//! | a message whose conversation names no contact | unusable: no customer identifier |
//! | a body without `event` | 400, not a Chatwoot webhook |
//!
//! - Fields: `source_event_id` = the message `id` (unique per installation, the same in
//!   `conversation_created` and `message_created`); `occurred_at` = the message's `created_at`, an
//!   ISO 8601 string with `Z` or an offset in `message_created`, Unix seconds in
//!   `conversation_created`'s messages (both converted to UTC); `customer_id` =
//!   `chatwoot_contact:<contact id>` (the contact sender, else the conversation's `meta.sender`,
//!   else `contact_inbox.contact_id`) with the contact's e-mail and phone as extra handles;
//!   `conversation_id` = `chatwoot_conversation:<id>`; `agent_id` = `chatwoot_user:<id>` or
//!   `chatwoot_agent_bot:<id>` for business-side messages. Channel from the inbox type
//!   (`conversation.channel`): `Channel::WebWidget`, `Channel::Api` and unknown types are WEB_CHAT,
//!   `Channel::Email` EMAIL (quoted history stripped from the text), WhatsApp / Telegram / LINE
//!   MESSAGING, SMS SMS, Facebook / Instagram / Twitter SOCIAL. `text` = `content`. Event,
//!   message and content types, inbox, account, the page the chat started on (`referer`) and
//!   attachments go to `attributes`.
//!
//! Docs: <https://github.com/chatwoot/docs/blob/main/docs/product/others/webhook-events.md>,
//! <https://github.com/chatwoot/chatwoot/pull/13573> (signed webhooks).

use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction};

use crate::codec::{json_scalar, json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::{email_handle, handle, phone_handle};
use crate::normalize::text::strip_quoted_reply;
use crate::normalize::time::{
    EpochUnit, Occurred, from_epoch_json, from_epoch_str, parse_datetime,
};
use crate::signature::{decode_hex, verify_hmac_sha256};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest,
};

/// The Chatwoot adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chatwoot;

/// Source id.
pub const ID: &str = "chatwoot";
/// The webhook's secret, which signs every delivery.
pub const WEBHOOK_SECRET: &str = "webhook_secret";

const SIGNATURE_HEADER: &str = "X-Chatwoot-Signature";
const TIMESTAMP_HEADER: &str = "X-Chatwoot-Timestamp";
/// Chatwoot caps attachments per message at 15; keep the first few as attributes.
const MAX_ATTACHMENTS: usize = 10;

/// Events that change the state of an existing conversation or contact.
const STATE_CHANGES: &[&str] = &[
    "message_updated",
    "conversation_updated",
    "conversation_status_changed",
    "conversation_typing_on",
    "conversation_typing_off",
    "contact_created",
    "contact_updated",
];

impl Adapter for Chatwoot {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[WEBHOOK_SECRET]
    }

    fn content_types(&self) -> &'static [&'static str] {
        &["application/json"]
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
        policy: &VerifyPolicy,
    ) -> Result<(), AdapterError> {
        let secret = secrets.require(WEBHOOK_SECRET)?;
        let header = request
            .header(SIGNATURE_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: SIGNATURE_HEADER,
            })?;
        let presented = header.strip_prefix("sha256=").and_then(decode_hex).ok_or(
            AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "expected `sha256=` followed by a hex HMAC-SHA256",
            },
        )?;
        let timestamp = request
            .header(TIMESTAMP_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: TIMESTAMP_HEADER,
            })?;
        let authentic = verify_hmac_sha256(
            secret.as_bytes(),
            &[timestamp.as_bytes(), b".", request.body],
            &presented,
        );
        if !authentic {
            return Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "does not match the timestamp and body signed with the configured `webhook_secret`",
            });
        }
        let signed_at: i64 = timestamp
            .parse()
            .map_err(|_| AdapterError::SignatureInvalid {
                header: TIMESTAMP_HEADER,
                reason: "must be a Unix timestamp in seconds",
            })?;
        policy.check_timestamp(TIMESTAMP_HEADER, signed_at, request.received_at)
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let payload: Value = parse_json(request.body)?;
        let Some(event) = json_str(&payload, &["event"]) else {
            return Err(AdapterError::malformed(
                "not a Chatwoot webhook: `event` is missing",
            ));
        };
        let mut parsed = Parsed::default();
        match event {
            "message_created" => {
                let conversation = payload.get("conversation").unwrap_or(&Value::Null);
                parse_message(
                    event,
                    &payload,
                    conversation,
                    &payload,
                    request,
                    &mut parsed,
                );
            }
            "conversation_created" => {
                let messages = payload
                    .get("messages")
                    .and_then(Value::as_array)
                    .filter(|messages| !messages.is_empty());
                let Some(messages) = messages else {
                    let id = json_scalar(&payload, &["id"]);
                    parsed.push_ignored(IgnoredKind::StateChange, event, id.as_deref());
                    return Ok(parsed);
                };
                for message in messages {
                    parse_message(event, message, &payload, &payload, request, &mut parsed);
                }
            }
            _ if STATE_CHANGES.contains(&event) => {
                let id = json_scalar(&payload, &["id"]);
                parsed.push_ignored(IgnoredKind::StateChange, event, id.as_deref());
            }
            _ => parsed.push_ignored(IgnoredKind::Unmapped, event, None),
        }
        Ok(parsed)
    }
}

/// Chatwoot's `message_type`, a string in `message_created` and an integer in the messages a
/// conversation embeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageType {
    Incoming,
    Outgoing,
    Activity,
    Template,
}

impl MessageType {
    fn read(value: Option<&Value>) -> Option<Self> {
        let message_type = match value? {
            Value::String(name) => match name.as_str() {
                "incoming" => Self::Incoming,
                "outgoing" => Self::Outgoing,
                "activity" => Self::Activity,
                "template" => Self::Template,
                _ => return None,
            },
            Value::Number(number) => match number.as_u64()? {
                0 => Self::Incoming,
                1 => Self::Outgoing,
                2 => Self::Activity,
                3 => Self::Template,
                _ => return None,
            },
            _ => return None,
        };
        Some(message_type)
    }

    fn name(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
            Self::Activity => "activity",
            Self::Template => "template",
        }
    }
}

/// Who wrote a message: `sender.type` (`contact`, `user`, `agent_bot`) in `message_created`,
/// `sender_type` (`Contact`, `User`, `AgentBot`) in embedded messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SenderKind {
    Contact,
    User,
    AgentBot,
}

fn sender(message: &Value) -> Option<(SenderKind, Option<String>)> {
    let (kind, id) = match json_str(message, &["sender", "type"]) {
        Some(kind) => (kind, json_scalar(message, &["sender", "id"])),
        None => (
            json_str(message, &["sender_type"])?,
            json_scalar(message, &["sender_id"]),
        ),
    };
    let normalized: String = kind
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let kind = match normalized.as_str() {
        "contact" => SenderKind::Contact,
        "user" => SenderKind::User,
        "agentbot" => SenderKind::AgentBot,
        _ => return None,
    };
    Some((kind, id))
}

/// One message of `conversation`; `envelope` is the whole payload (it holds the account in
/// `message_created`).
fn parse_message(
    chatwoot_event: &str,
    message: &Value,
    conversation: &Value,
    envelope: &Value,
    request: &WebhookRequest<'_>,
    parsed: &mut Parsed,
) {
    let message_id = json_scalar(message, &["id"]);
    let Some(message_type) = MessageType::read(message.get("message_type")) else {
        parsed.push_ignored(
            IgnoredKind::Unmapped,
            "message.unknown_type",
            message_id.as_deref(),
        );
        return;
    };
    if message_type == MessageType::Activity {
        parsed.push_ignored(
            IgnoredKind::StateChange,
            "message.activity",
            message_id.as_deref(),
        );
        return;
    }
    let sender = sender(message);
    let Some((customer_id, customer_handles)) = customer(sender.as_ref(), message, conversation)
    else {
        parsed.push_unusable(UnusableReason::NoCustomerIdentifier, message_id.as_deref());
        return;
    };
    let private = message.get("private") == Some(&Value::Bool(true));
    let sender_kind = sender.as_ref().map(|(kind, _)| *kind);
    let business_actor = match sender_kind {
        Some(SenderKind::User) => Actor::Agent,
        Some(SenderKind::AgentBot) => Actor::Bot,
        // Outgoing messages without a sender come from automations and campaigns.
        _ if private => Actor::Agent,
        _ => Actor::Bot,
    };
    let (direction, actor, event_name) = match message_type {
        _ if private => (Direction::Internal, business_actor, "note.created"),
        MessageType::Incoming => (Direction::Inbound, Actor::Customer, "message.received"),
        MessageType::Template => (Direction::Outbound, Actor::Bot, "message.sent"),
        MessageType::Outgoing | MessageType::Activity => {
            (Direction::Outbound, business_actor, "message.sent")
        }
    };
    let agent_id = match &sender {
        Some((SenderKind::User, Some(id))) => handle("chatwoot_user", id),
        Some((SenderKind::AgentBot, Some(id))) => handle("chatwoot_agent_bot", id),
        _ => None,
    };
    let inbox_type = json_str(conversation, &["channel"]);
    let channel = channel(inbox_type);
    let content = json_str(message, &["content"]).unwrap_or_default();
    let text = if channel == Channel::Email {
        strip_quoted_reply(content)
    } else {
        content.to_owned()
    };
    let conversation_number =
        json_scalar(conversation, &["id"]).or_else(|| json_scalar(message, &["conversation_id"]));

    let mut draft = Draft {
        source_event_id: message_id.unwrap_or_default(),
        channel,
        direction,
        actor,
        event_name: event_name.to_owned(),
        occurred_at: message.get("created_at").and_then(chatwoot_time),
        customer_id,
        customer_handles,
        conversation_id: conversation_number
            .and_then(|id| handle("chatwoot_conversation", &id))
            .unwrap_or_default(),
        agent_id: agent_id.unwrap_or_default(),
        text,
        ..Draft::default()
    };
    draft.attribute("chatwoot_event", Some(chatwoot_event));
    draft.attribute("message_type", Some(message_type.name()));
    draft.attribute("content_type", json_str(message, &["content_type"]));
    draft.attribute("chatwoot_channel", inbox_type);
    draft.attribute(
        "inbox_id",
        json_scalar(message, &["inbox_id"])
            .or_else(|| json_scalar(message, &["inbox", "id"]))
            .or_else(|| json_scalar(conversation, &["inbox_id"])),
    );
    draft.attribute(
        "account_id",
        json_scalar(message, &["account_id"]).or_else(|| json_scalar(envelope, &["account", "id"])),
    );
    draft.attribute("external_message_id", json_str(message, &["source_id"]));
    draft.attribute(
        "in_reply_to",
        json_scalar(message, &["content_attributes", "in_reply_to"]),
    );
    draft.attribute(
        "referer",
        json_str(conversation, &["additional_attributes", "referer"]),
    );
    draft.attribute(
        "contact_identifier",
        json_str(conversation, &["meta", "sender", "identifier"]),
    );
    add_attachments(&mut draft, message);
    parsed.events.push(draft.into_event(ID, request));
}

/// `chatwoot_contact:<id>` and the contact's e-mail and phone handles: the contact who wrote,
/// else the conversation's contact (for agent replies and notes).
fn customer(
    sender: Option<&(SenderKind, Option<String>)>,
    message: &Value,
    conversation: &Value,
) -> Option<(String, Vec<String>)> {
    let from_sender = match sender {
        Some((SenderKind::Contact, Some(id))) => Some(id.clone()),
        _ => None,
    };
    let meta_sender = conversation
        .pointer("/meta/sender")
        .filter(|contact| json_str(contact, &["type"]).is_none_or(|kind| kind == "contact"));
    let contact_id = from_sender
        .or_else(|| meta_sender.and_then(|contact| json_scalar(contact, &["id"])))
        .or_else(|| json_scalar(conversation, &["contact_inbox", "contact_id"]))?;
    let customer_id = handle("chatwoot_contact", &contact_id)?;

    let same_contact =
        |contact: &&Value| json_scalar(contact, &["id"]).as_deref() == Some(&contact_id);
    let contact_sender = message
        .get("sender")
        .filter(|_| matches!(sender, Some((SenderKind::Contact, _))));
    let mut handles = Vec::new();
    for contact in [contact_sender, meta_sender]
        .into_iter()
        .flatten()
        .filter(same_contact)
    {
        handles.extend(json_str(contact, &["email"]).and_then(email_handle));
        handles.extend(json_str(contact, &["phone_number"]).and_then(phone_handle));
    }
    Some((customer_id, handles))
}

/// `created_at` as Chatwoot sends it: ISO 8601 (`Z` or an offset), `2020-03-03 13:05:57 UTC`, or
/// Unix seconds as a number or a string.
fn chatwoot_time(value: &Value) -> Option<Occurred> {
    match value {
        Value::String(text) => {
            parse_datetime(text).or_else(|| from_epoch_str(text, EpochUnit::Seconds))
        }
        other => from_epoch_json(other, EpochUnit::Seconds),
    }
}

/// The contract's channel for a Chatwoot inbox type.
fn channel(inbox_type: Option<&str>) -> Channel {
    match inbox_type.unwrap_or_default() {
        "Channel::Email" => Channel::Email,
        "Channel::Whatsapp" | "Channel::Telegram" | "Channel::Line" => Channel::Messaging,
        "Channel::Sms" | "Channel::TwilioSms" => Channel::Sms,
        "Channel::FacebookPage"
        | "Channel::Instagram"
        | "Channel::TwitterProfile"
        | "Channel::Tiktok" => Channel::Social,
        "Channel::Voice" => Channel::Voice,
        // `Channel::WebWidget`, `Channel::Api` (custom chat front ends) and new inbox types.
        _ => Channel::WebChat,
    }
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
            json_str(attachment, &["file_type"]),
        );
        draft.attribute(
            &format!("attachment_url_{index}"),
            json_str(attachment, &["data_url"]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bytes;

    fn parse_payload(payload: Value) -> Result<Parsed, AdapterError> {
        parse_bytes(
            &Chatwoot,
            "application/json",
            payload.to_string().as_bytes(),
        )
    }

    fn message_created(extra: Value) -> Value {
        let mut payload = serde_json::json!({
            "event": "message_created", "id": 1300, "content": "Sudah kami kirim ya kak",
            "created_at": "2025-03-14T11:00:00.000Z", "message_type": "outgoing", "private": false,
            "sender": {"id": 2, "name": "Agent Support", "type": "user"},
            "conversation": {"id": 210, "channel": "Channel::WebWidget",
                "contact_inbox": {"contact_id": 58},
                "meta": {"sender": {"id": 58, "email": "Customer.M@example.com", "type": "contact"}}},
            "account": {"id": 3},
        });
        if let (Some(target), Some(fields)) = (payload.as_object_mut(), extra.as_object()) {
            target.extend(fields.clone());
        }
        payload
    }

    #[test]
    fn agent_replies_are_outbound_to_the_conversation_contact() {
        let parsed = parse_payload(message_created(serde_json::json!({}))).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.direction(), Direction::Outbound);
        assert_eq!(event.actor(), Actor::Agent);
        assert_eq!(event.event_name, "message.sent");
        assert_eq!(event.customer_id, "chatwoot_contact:58");
        assert_eq!(event.agent_id, "chatwoot_user:2");
        assert_eq!(
            event.customer_handles,
            vec!["email:customer.m@example.com".to_owned()]
        );
        assert_eq!(event.conversation_id, "chatwoot_conversation:210");
        assert_eq!(
            event.attributes.get("account_id").map(String::as_str),
            Some("3")
        );
    }

    #[test]
    fn private_notes_are_internal() {
        let parsed = parse_payload(message_created(serde_json::json!({"private": true,
            "content": "Customer minta refund, cek dulu ke gudang"})))
        .expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.direction(), Direction::Internal);
        assert_eq!(event.actor(), Actor::Agent);
        assert_eq!(event.event_name, "note.created");
    }

    #[test]
    fn templates_and_bots_are_outbound_bots_and_activities_state_changes() {
        let template = parse_payload(message_created(serde_json::json!({"message_type": 3,
            "sender": null})))
        .expect("parses");
        assert_eq!(template.events[0].actor(), Actor::Bot);
        let bot = parse_payload(message_created(serde_json::json!({
            "sender": {"id": 9, "type": "agent_bot"}})))
        .expect("parses");
        assert_eq!(bot.events[0].agent_id, "chatwoot_agent_bot:9");
        assert_eq!(bot.events[0].actor(), Actor::Bot);
        let activity = parse_payload(message_created(
            serde_json::json!({"message_type": "activity",
            "content": "Conversation was resolved by Agent Support"}),
        ))
        .expect("parses");
        assert!(activity.events.is_empty());
        assert_eq!(activity.ignored[0].event_type, "message.activity");
    }

    #[test]
    fn a_conversation_without_messages_or_contact_makes_no_event() {
        let empty = parse_payload(serde_json::json!({"event": "conversation_created", "id": 5,
            "messages": []}))
        .expect("parses");
        assert_eq!(empty.ignored[0].kind, IgnoredKind::StateChange);
        assert_eq!(empty.ignored[0].source_event_id.as_deref(), Some("5"));

        let nobody = parse_payload(serde_json::json!({"event": "message_created", "id": 7,
            "message_type": "incoming", "content": "hi", "conversation": {"id": 1}}))
        .expect("parses");
        assert_eq!(
            nobody.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
    }

    #[test]
    fn email_inboxes_drop_quoted_history() {
        let parsed = parse_payload(message_created(serde_json::json!({"message_type": "incoming",
            "sender": {"id": 58, "type": "contact"},
            "content": "Terima kasih!\n\nOn Fri, 14 Mar 2025 at 10:00, Example Shop <cs@example.com> wrote:\n> Pesanan dikirim",
            "conversation": {"id": 211, "channel": "Channel::Email", "contact_inbox": {"contact_id": 58}}})))
        .expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.channel(), Channel::Email);
        assert_eq!(event.text, "Terima kasih!");
    }

    #[test]
    fn times_are_read_in_every_form_chatwoot_uses() {
        let expected = parse_datetime("2025-03-14T10:20:00Z").expect("valid");
        for value in [
            serde_json::json!(1741947600),
            serde_json::json!("1741947600"),
            serde_json::json!("2025-03-14T17:20:00+07:00"),
            serde_json::json!("2025-03-14 10:20:00 UTC"),
        ] {
            assert_eq!(chatwoot_time(&value), Some(expected), "{value}");
        }
        assert_eq!(chatwoot_time(&serde_json::json!(null)), None);
    }

    #[test]
    fn other_events_are_ignored_and_a_body_without_event_is_malformed() {
        let typing = parse_payload(serde_json::json!({"event": "conversation_typing_on", "id": 3}))
            .expect("parses");
        assert_eq!(typing.ignored[0].kind, IgnoredKind::StateChange);
        let widget =
            parse_payload(serde_json::json!({"event": "webwidget_triggered"})).expect("parses");
        assert_eq!(widget.ignored[0].kind, IgnoredKind::Unmapped);
        let refused = parse_payload(serde_json::json!({"id": 1})).expect_err("no event");
        assert_eq!(refused.code(), "malformed_body");
    }
}
