//! `telegram`: Telegram Bot API webhook updates.
//!
//! - Authenticity: `X-Telegram-Bot-Api-Secret-Token` must equal the `secret_token` the bot passed
//!   to `setWebhook`, compared in constant time. There is no body signature and no timestamp:
//!   a replayed update carries the same `update_id` and so becomes the same event.
//! - Content type: `application/json`.
//! - Mapping, one item per update:
//!
//! | update | result |
//! | --- | --- |
//! | `message` with content (text, caption, photo, video, voice, document, sticker, location, contact, poll...) | `message.received`, channel MESSAGING, inbound, actor customer |
//! | `edited_message` | `message.edited`, inbound, customer, `occurred_at` = `edit_date` |
//! | `callback_query` (an inline keyboard button) | `postback.received`, inbound, customer; `text` = `data`; no time in the payload, so the receive time with `OCCURRED_AT_INFERRED` (`message.date` is the bot's prompt, not the click) |
//! | `business_message` / `edited_business_message` (a business account connected to the bot) | as `message` / `edited_message` when the customer wrote (`from.id` = `chat.id`); `message.sent` / `message.edited`, outbound, agent (bot when `from.is_bot`) when the business wrote |
//! | a message without content (members joined, pin, other service messages), `my_chat_member` (bot blocked or unblocked) | ignored, state change |
//! | a message from a bot, `channel_post`, `inline_query`, `poll_answer`, other update types | ignored, unmapped |
//! | a message or callback without `from` | unusable: no customer identifier |
//! | a body without `update_id` | 400, not a Telegram update |
//!
//! - Fields: `source_event_id` = `update_id` (unique per bot, kept on redelivery; an edit is a new
//!   update); `occurred_at` = `date` / `edit_date` (epoch seconds); `customer_id` =
//!   `telegram_user:<from.id>`, with `telegram_username:<username>` (lowercased) and, when the
//!   customer shares their own contact, `phone:+<number>` as extra handles; `conversation_id` =
//!   `telegram_chat:<chat.id>`. `text` = text, caption, sticker emoji, venue title or poll
//!   question, verbatim: a text that tries to instruct the classifier is customer content like any
//!   other and nothing here interprets it. `update_type`, `message_id`, `chat_type`, the user's
//!   client language (`user_language_code`, not the text's language), reply context, media file
//!   ids and, for callbacks, the prompt (`prompt_message_id`, `prompt_text`) go to `attributes`.
//!
//! Docs: <https://core.telegram.org/bots/api#update>, <https://core.telegram.org/bots/api#setwebhook>,
//! <https://core.telegram.org/bots/api#callbackquery>.

use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction};

use crate::codec::{json_scalar, json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::{handle, phone_handle};
use crate::normalize::time::{EpochUnit, from_epoch_json};
use crate::signature::constant_time_eq;
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest,
};

/// The Telegram Bot API adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Telegram;

/// Source id.
pub const ID: &str = "telegram";
/// The `secret_token` given to `setWebhook`, echoed in every request's header.
pub const SECRET_TOKEN: &str = "secret_token";

const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// Message fields that carry something the customer sent; a message without any is a service
/// message (members joined, a pin, a title change).
const CONTENT_FIELDS: &[&str] = &[
    "text",
    "caption",
    "photo",
    "video",
    "voice",
    "audio",
    "document",
    "sticker",
    "animation",
    "video_note",
    "contact",
    "location",
    "venue",
    "poll",
    "dice",
    "story",
];

/// Media whose `file_id` (and type details) are kept; `photo` is handled apart (it is a list of
/// sizes).
const MEDIA_FIELDS: &[&str] = &[
    "video",
    "voice",
    "audio",
    "document",
    "sticker",
    "animation",
    "video_note",
];

impl Adapter for Telegram {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[SECRET_TOKEN]
    }

    fn content_types(&self) -> &'static [&'static str] {
        &["application/json"]
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
        _policy: &VerifyPolicy,
    ) -> Result<(), AdapterError> {
        let expected = secrets.require(SECRET_TOKEN)?;
        let presented = request
            .header(SECRET_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: SECRET_HEADER,
            })?;
        if constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(AdapterError::SignatureInvalid {
                header: SECRET_HEADER,
                reason: "does not equal the configured `secret_token`",
            })
        }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let update: Value = parse_json(request.body)?;
        let Some(update_id) = json_scalar(&update, &["update_id"]) else {
            return Err(AdapterError::malformed(
                "not a Telegram update: `update_id` is missing",
            ));
        };
        let mut parsed = Parsed::default();
        let object = |field: &str| update.get(field).filter(|value| value.is_object());
        let update_id = update_id.as_str();
        if let Some(message) = object("message") {
            parse_message(update_id, message, MessageKind::New, request, &mut parsed);
        } else if let Some(message) = object("edited_message") {
            parse_message(
                update_id,
                message,
                MessageKind::Edited,
                request,
                &mut parsed,
            );
        } else if let Some(message) = object("business_message") {
            parse_message(
                update_id,
                message,
                MessageKind::Business,
                request,
                &mut parsed,
            );
        } else if let Some(message) = object("edited_business_message") {
            let kind = MessageKind::EditedBusiness;
            parse_message(update_id, message, kind, request, &mut parsed);
        } else if let Some(callback) = object("callback_query") {
            parse_callback(update_id, callback, request, &mut parsed);
        } else if object("my_chat_member").is_some() {
            parsed.push_ignored(IgnoredKind::StateChange, "my_chat_member", Some(update_id));
        } else {
            parsed.push_ignored(
                IgnoredKind::Unmapped,
                &update_type(&update),
                Some(update_id),
            );
        }
        Ok(parsed)
    }
}

/// Which update field carried the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageKind {
    New,
    Edited,
    Business,
    EditedBusiness,
}

impl MessageKind {
    fn update_type(self) -> &'static str {
        match self {
            Self::New => "message",
            Self::Edited => "edited_message",
            Self::Business => "business_message",
            Self::EditedBusiness => "edited_business_message",
        }
    }

    fn is_edit(self) -> bool {
        matches!(self, Self::Edited | Self::EditedBusiness)
    }
}

/// The update's type for the ignored list: its first field besides `update_id`.
fn update_type(update: &Value) -> String {
    update
        .as_object()
        .and_then(|object| object.keys().find(|key| key.as_str() != "update_id"))
        .map_or_else(|| "(none)".to_owned(), Clone::clone)
}

fn parse_message(
    update_id: &str,
    message: &Value,
    kind: MessageKind,
    request: &WebhookRequest<'_>,
    parsed: &mut Parsed,
) {
    let update_type = kind.update_type();
    if !CONTENT_FIELDS
        .iter()
        .any(|field| message.get(field).is_some())
    {
        let event_type = format!("{update_type}.service");
        parsed.push_ignored(IgnoredKind::StateChange, &event_type, Some(update_id));
        return;
    }
    let from_id = json_scalar(message, &["from", "id"]);
    let chat_id = json_scalar(message, &["chat", "id"]);
    // In a connected business chat the chat is the customer; whoever else writes is the business.
    let business_wrote = matches!(kind, MessageKind::Business | MessageKind::EditedBusiness)
        && from_id.is_some()
        && from_id != chat_id;
    if !business_wrote && message.pointer("/from/is_bot") == Some(&Value::Bool(true)) {
        let event_type = format!("{update_type}.from_bot");
        parsed.push_ignored(IgnoredKind::Unmapped, &event_type, Some(update_id));
        return;
    }
    let customer_raw = if business_wrote { &chat_id } else { &from_id };
    let Some(customer_id) = customer_raw
        .as_deref()
        .and_then(|id| handle("telegram_user", id))
    else {
        parsed.push_unusable(UnusableReason::NoCustomerIdentifier, Some(update_id));
        return;
    };
    let (direction, actor) = if !business_wrote {
        (Direction::Inbound, Actor::Customer)
    } else if message.pointer("/from/is_bot") == Some(&Value::Bool(true)) {
        (Direction::Outbound, Actor::Bot)
    } else {
        (Direction::Outbound, Actor::Agent)
    };
    let event_name = match (business_wrote, kind.is_edit()) {
        (_, true) => "message.edited",
        (false, false) => "message.received",
        (true, false) => "message.sent",
    };
    let time_field = if kind.is_edit() { "edit_date" } else { "date" };
    let occurred_at = message
        .get(time_field)
        .or_else(|| message.get("date"))
        .and_then(|date| from_epoch_json(date, EpochUnit::Seconds));

    let mut customer_handles = Vec::new();
    if !business_wrote {
        customer_handles.extend(username_handle(message.get("from")));
        // A contact the customer shared of themselves links the Telegram user to a phone.
        let own_contact = json_scalar(message, &["contact", "user_id"])
            .is_some_and(|user_id| Some(user_id.as_str()) == customer_raw.as_deref());
        if own_contact {
            customer_handles
                .extend(json_str(message, &["contact", "phone_number"]).and_then(phone_handle));
        }
    }
    let mut draft = Draft {
        source_event_id: update_id.to_owned(),
        channel: Channel::Messaging,
        direction,
        actor,
        event_name: event_name.to_owned(),
        occurred_at,
        customer_id,
        customer_handles,
        conversation_id: chat_id
            .as_deref()
            .and_then(|id| handle("telegram_chat", id))
            .unwrap_or_default(),
        text: message_text(message).to_owned(),
        ..Draft::default()
    };
    draft.attribute("update_type", Some(update_type));
    draft.attribute("message_type", Some(message_type(message)));
    draft.attribute("message_id", json_scalar(message, &["message_id"]));
    draft.attribute("chat_type", json_str(message, &["chat", "type"]));
    draft.attribute("chat_title", json_str(message, &["chat", "title"]));
    draft.attribute(
        "reply_to_message_id",
        json_scalar(message, &["reply_to_message", "message_id"]),
    );
    draft.attribute("media_group_id", json_str(message, &["media_group_id"]));
    draft.attribute(
        "business_connection_id",
        json_str(message, &["business_connection_id"]),
    );
    if !business_wrote {
        draft.attribute(
            "user_language_code",
            json_str(message, &["from", "language_code"]),
        );
    }
    add_media_attributes(&mut draft, message);
    parsed.events.push(draft.into_event(ID, request));
}

fn parse_callback(
    update_id: &str,
    callback: &Value,
    request: &WebhookRequest<'_>,
    parsed: &mut Parsed,
) {
    let Some(customer_id) =
        json_scalar(callback, &["from", "id"]).and_then(|id| handle("telegram_user", &id))
    else {
        parsed.push_unusable(UnusableReason::NoCustomerIdentifier, Some(update_id));
        return;
    };
    let text = json_str(callback, &["data"])
        .or_else(|| json_str(callback, &["game_short_name"]))
        .unwrap_or_default();
    let mut draft = Draft {
        source_event_id: update_id.to_owned(),
        channel: Channel::Messaging,
        direction: Direction::Inbound,
        actor: Actor::Customer,
        event_name: "postback.received".to_owned(),
        // A callback query carries no time; `message.date` is when the bot sent the prompt.
        occurred_at: None,
        customer_id,
        customer_handles: username_handle(callback.get("from")).into_iter().collect(),
        conversation_id: json_scalar(callback, &["message", "chat", "id"])
            .and_then(|id| handle("telegram_chat", &id))
            .unwrap_or_default(),
        text: text.to_owned(),
        ..Draft::default()
    };
    draft.attribute("update_type", Some("callback_query"));
    draft.attribute("message_type", Some("callback_query"));
    draft.attribute("callback_query_id", json_scalar(callback, &["id"]));
    draft.attribute(
        "prompt_message_id",
        json_scalar(callback, &["message", "message_id"]),
    );
    draft.attribute(
        "prompt_text",
        json_str(callback, &["message", "text"])
            .or_else(|| json_str(callback, &["message", "caption"])),
    );
    draft.attribute(
        "inline_message_id",
        json_str(callback, &["inline_message_id"]),
    );
    draft.attribute("chat_instance", json_scalar(callback, &["chat_instance"]));
    draft.attribute(
        "user_language_code",
        json_str(callback, &["from", "language_code"]),
    );
    parsed.events.push(draft.into_event(ID, request));
}

/// `telegram_username:<username>` lowercased (Telegram usernames are case-insensitive).
fn username_handle(user: Option<&Value>) -> Option<String> {
    let username = json_str(user?, &["username"])?;
    handle("telegram_username", &username.to_lowercase())
}

/// What the customer wrote or sent as text.
fn message_text(message: &Value) -> &str {
    json_str(message, &["text"])
        .or_else(|| json_str(message, &["caption"]))
        .or_else(|| json_str(message, &["sticker", "emoji"]))
        .or_else(|| json_str(message, &["venue", "title"]))
        .or_else(|| json_str(message, &["poll", "question"]))
        .or_else(|| json_str(message, &["dice", "emoji"]))
        .unwrap_or_default()
}

/// The first content field present: `text`, `photo`, `voice`...
fn message_type(message: &Value) -> &'static str {
    CONTENT_FIELDS
        .iter()
        .copied()
        .filter(|field| *field != "caption")
        .find(|field| message.get(field).is_some())
        .unwrap_or("unknown")
}

fn add_media_attributes(draft: &mut Draft, message: &Value) {
    // Photos come in several sizes, largest last.
    let largest_photo = message
        .get("photo")
        .and_then(Value::as_array)
        .and_then(|sizes| sizes.last());
    if let Some(photo) = largest_photo {
        draft.attribute("media_file_id", json_str(photo, &["file_id"]));
    }
    for field in MEDIA_FIELDS {
        if let Some(media) = message.get(field) {
            draft.attribute("media_file_id", json_str(media, &["file_id"]));
            draft.attribute("media_mime_type", json_str(media, &["mime_type"]));
            draft.attribute("media_file_name", json_str(media, &["file_name"]));
        }
    }
    for (key, path) in [
        ("latitude", &["location", "latitude"][..]),
        ("longitude", &["location", "longitude"]),
        ("venue_address", &["venue", "address"]),
    ] {
        draft.attribute(key, json_scalar(message, path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bytes;

    fn parse_update(update: Value) -> Result<Parsed, AdapterError> {
        parse_bytes(&Telegram, "application/json", update.to_string().as_bytes())
    }

    fn private_message(extra: Value) -> Value {
        let mut message = serde_json::json!({
            "message_id": 10,
            "from": {"id": 5555550120_i64, "is_bot": false, "first_name": "Customer", "username": "Customer_X"},
            "chat": {"id": 5555550120_i64, "type": "private"},
            "date": 1741934700,
        });
        if let (Some(target), Some(fields)) = (message.as_object_mut(), extra.as_object()) {
            target.extend(fields.clone());
        }
        message
    }

    #[test]
    fn edits_are_new_events_timed_at_the_edit() {
        let message =
            private_message(serde_json::json!({"text": "Ukuran 42 ya", "edit_date": 1741934760}));
        let parsed = parse_update(serde_json::json!({"update_id": 1, "edited_message": message}))
            .expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.event_name, "message.edited");
        assert_eq!(
            event.occurred_at.as_ref().map(|ts| ts.seconds),
            Some(1741934760)
        );
        assert_eq!(event.source_event_id, "1");
        assert_eq!(
            event.customer_handles,
            vec!["telegram_username:customer_x".to_owned()]
        );
    }

    #[test]
    fn a_shared_own_contact_adds_the_phone_handle() {
        let message = private_message(serde_json::json!({"contact": {
            "phone_number": "15555550120", "first_name": "Customer", "user_id": 5555550120_i64}}));
        let parsed =
            parse_update(serde_json::json!({"update_id": 2, "message": message})).expect("parses");
        let event = &parsed.events[0];
        assert!(
            event
                .customer_handles
                .contains(&"phone:+15555550120".to_owned())
        );
        assert_eq!(
            event.attributes.get("message_type").map(String::as_str),
            Some("contact")
        );
    }

    #[test]
    fn photos_keep_the_caption_and_the_largest_file() {
        let message = private_message(serde_json::json!({"caption": "Rusak 😡",
            "photo": [{"file_id": "small"}, {"file_id": "large"}]}));
        let parsed =
            parse_update(serde_json::json!({"update_id": 3, "message": message})).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.text, "Rusak 😡");
        assert_eq!(
            event.attributes.get("media_file_id").map(String::as_str),
            Some("large")
        );
    }

    #[test]
    fn business_chats_tell_customer_from_business_by_the_chat() {
        let from_business = serde_json::json!({"message_id": 11, "business_connection_id": "bc1",
            "from": {"id": 900, "is_bot": false}, "chat": {"id": 5555550121_i64, "type": "private"},
            "date": 1741934700, "text": "Siap kak, kami cek dulu"});
        let parsed =
            parse_update(serde_json::json!({"update_id": 4, "business_message": from_business}))
                .expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.customer_id, "telegram_user:5555550121");
        assert_eq!(event.direction(), Direction::Outbound);
        assert_eq!(event.actor(), Actor::Agent);
        assert_eq!(event.event_name, "message.sent");
    }

    #[test]
    fn service_messages_bots_and_other_updates_are_not_interactions() {
        let joined = private_message(serde_json::json!({"new_chat_members": [{"id": 1}]}));
        let parsed =
            parse_update(serde_json::json!({"update_id": 5, "message": joined})).expect("parses");
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::StateChange);
        assert_eq!(parsed.ignored[0].event_type, "message.service");

        let mut from_bot = private_message(serde_json::json!({"text": "beep"}));
        from_bot["from"]["is_bot"] = Value::Bool(true);
        let parsed =
            parse_update(serde_json::json!({"update_id": 6, "message": from_bot})).expect("parses");
        assert_eq!(parsed.ignored[0].event_type, "message.from_bot");

        let parsed =
            parse_update(serde_json::json!({"update_id": 7, "poll_answer": {"poll_id": "1"}}))
                .expect("parses");
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::Unmapped);
        assert_eq!(parsed.ignored[0].event_type, "poll_answer");
        assert_eq!(parsed.ignored[0].source_event_id.as_deref(), Some("7"));
    }

    #[test]
    fn a_message_without_sender_is_unusable() {
        let parsed = parse_update(serde_json::json!({"update_id": 8, "message": {
            "message_id": 1, "chat": {"id": 1, "type": "group"}, "date": 1741934700, "text": "hi"}}))
        .expect("parses");
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
    }

    #[test]
    fn a_body_without_update_id_is_malformed() {
        for body in [
            serde_json::json!({"message": {}}),
            serde_json::json!([1, 2]),
        ] {
            let refused = parse_update(body).expect_err("not an update");
            assert_eq!(refused.code(), "malformed_body");
        }
    }
}
