//! The JSON body of `POST /v1/events`: Segment-like events mapped to `InteractionEvent`s.
//!
//! The mapping (also documented in `openapi.yaml`; the same normalization as every webhook
//! adapter, through [`lintas_adapters::normalize::Draft`]):
//!
//! | JSON | event |
//! | --- | --- |
//! | `type` `track` (default) / `page` / `screen` | `event_name` from `event` / `page.viewed` / `screen.viewed`; `identify`, `group`, `alias` are refused (`unsupported_type`): they carry no interaction |
//! | `event` | `event_name`: kept when already `object.verb` (`message.received`); Segment spec names mapped (`Order Completed` -> `order.completed`); anything else becomes `custom.<snake_case>` with the original in `attributes.event` |
//! | `userId` | `customer_id`: `user_id:<userId>`, or as given when it already is a handle of a known namespace (`phone:`, `email:`, `whatsapp:`, ...) |
//! | `anonymousId` | `anonymous_id`; `userId` or `anonymousId` is required |
//! | `messageId` | `source_event_id`; `event_id` = UUIDv5(tenant, `api`, messageId), so a retried request yields the same ids. Without it a random UUIDv7 |
//! | `timestamp` | `occurred_at`: RFC 3339 with offset, RFC 2822, zoneless ISO (UTC, flagged), or epoch seconds/milliseconds by magnitude; absent: receive time, flagged |
//! | `properties.channel` | `channel` (contract names, plus `whatsapp`, `telegram`, `messenger`, `instagram`, `payment`, `online_store`, `ticket`, `web_analytics`); required for `track` |
//! | `properties.direction` / `actor` | default `inbound` / `customer` for inbound events |
//! | `properties.text`, `subject`, `language`, `conversation_id`, `agent_id` | the same fields |
//! | `properties.amount` (or `total`, `revenue`) + `currency` | `money`, decimal major units; `amount_minor` for integer minor units |
//! | `properties.rating` + `rating_scale` (`nps`, `csat`, `stars`, `ces`, `thumbs`) [+ `rating_min`, `rating_max`] | `rating` |
//! | `context.traits.email`, `context.traits.phone` | `customer_handles` |
//! | any other `properties.*` | `attributes` (scalars as text, objects and arrays as compact JSON) |
//!
//! The tenant comes from the write key and `source` is always `api`, whatever the body says.

use chrono::{DateTime, Utc};
use http::{HeaderMap, Method};
use lintas_adapters::WebhookRequest;
use lintas_adapters::normalize::{Draft, handle};
use lintas_schema::v1::{Actor, Channel, Direction, InteractionEvent};
use serde_json::{Map, Value};

use crate::error::Rejection;

mod values;

use crate::metrics::API_SOURCE;
use values::{fill_attributes, money_of, occurred_at, rating_of};

/// Rejection code: a field has the wrong type or value.
pub(crate) const INVALID_FIELD: &str = "invalid_field";
/// Rejection code: a required field is absent.
pub(crate) const MISSING_FIELD: &str = "missing_field";
/// Rejection code: the `type` carries no interaction.
pub(crate) const UNSUPPORTED_TYPE: &str = "unsupported_type";

/// `properties` keys with a meaning of their own; every other key becomes an attribute.
const RESERVED_PROPERTIES: &[&str] = &[
    "channel",
    "direction",
    "actor",
    "text",
    "subject",
    "language",
    "conversation_id",
    "agent_id",
    "amount",
    "amount_minor",
    "total",
    "revenue",
    "currency",
    "rating",
    "rating_scale",
    "rating_min",
    "rating_max",
];

/// Namespaces a `userId` may already carry; other ids get `user_id:`.
const KNOWN_NAMESPACES: &[&str] = &[
    "user_id",
    "customer_id",
    "phone",
    "email",
    "whatsapp",
    "psid",
    "igsid",
    "telegram_user",
    "zendesk_user",
    "chatwoot_contact",
    "shopify_customer",
    "stripe_customer",
    "intercom_contact",
    "hubspot_contact",
    "trustpilot_consumer",
];

/// Segment spec event names and their Lintas verbs.
const SEGMENT_EVENTS: &[(&str, &str)] = &[
    ("order completed", "order.created"),
    ("order refunded", "refund.created"),
    ("order cancelled", "order.cancelled"),
    ("order updated", "order.updated"),
    ("checkout started", "checkout.started"),
    ("product viewed", "product.viewed"),
    ("product reviewed", "review.submitted"),
    ("email opened", "email.opened"),
    ("email link clicked", "email.clicked"),
    ("unsubscribed", "email.unsubscribed"),
];

/// One refused event, before its index is known.
type Refusal = (&'static str, String);

fn invalid(field: &str, expectation: &str) -> Refusal {
    (INVALID_FIELD, format!("{field}: {expectation}"))
}

fn missing(field: &str, why: &str) -> Refusal {
    (MISSING_FIELD, format!("{field} is required{why}"))
}

/// Maps the JSON event at `index` for `tenant`, received at `received_at`.
pub(crate) fn map_event(
    value: &Value,
    index: usize,
    tenant: &str,
    received_at: DateTime<Utc>,
) -> Result<InteractionEvent, Rejection> {
    draft_from_json(value)
        .map(|draft| {
            let headers = HeaderMap::new();
            let request = WebhookRequest {
                tenant,
                method: &Method::POST,
                public_url: "",
                headers: &headers,
                query: "",
                body: b"",
                received_at,
            };
            draft.into_event(API_SOURCE, &request)
        })
        .map_err(|(code, message)| Rejection {
            index,
            code,
            message,
        })
}

fn draft_from_json(value: &Value) -> Result<Draft, Refusal> {
    let Value::Object(event) = value else {
        return Err(invalid("event", "must be a JSON object"));
    };
    let empty = Map::new();
    let properties = object_field(event, "properties", &empty)?;
    let context = object_field(event, "context", &empty)?;
    let kind = optional_string(event, "type")?.unwrap_or("track");
    let mut draft = Draft::default();
    let (event_name, default_channel) = match kind {
        "track" => (track_event_name(event, &mut draft)?, None),
        "page" => ("page.viewed".to_owned(), Some(Channel::Web)),
        "screen" => ("screen.viewed".to_owned(), Some(Channel::App)),
        "identify" | "group" | "alias" => {
            return Err((
                UNSUPPORTED_TYPE,
                format!(
                    "type `{kind}` carries no interaction; send customer traits in context.traits \
                     of the customer's events"
                ),
            ));
        }
        _ => return Err(invalid("type", "must be track, page or screen")),
    };
    draft.event_name = event_name;
    if kind != "track" {
        draft.attribute("name", optional_string(event, "name")?);
    }
    draft.channel = match named_string(properties, "channel", "properties.channel")? {
        Some(name) => channel(name).ok_or_else(|| {
            invalid(
                "properties.channel",
                "must be one of web_chat, email, social, messaging, sms, voice, web, app, store, \
                 commerce, survey, crm (or whatsapp, telegram, messenger, instagram, payment, \
                 online_store, ticket, web_analytics)",
            )
        })?,
        None => default_channel.ok_or_else(|| {
            missing(
                "properties.channel",
                " for track events (e.g. \"messaging\")",
            )
        })?,
    };
    draft.direction = match named_string(properties, "direction", "properties.direction")? {
        Some(name) => direction(name).ok_or_else(|| {
            invalid(
                "properties.direction",
                "must be inbound, outbound, internal or not_applicable",
            )
        })?,
        None => Direction::Inbound,
    };
    draft.actor = match named_string(properties, "actor", "properties.actor")? {
        Some(name) => actor(name)
            .ok_or_else(|| invalid("properties.actor", "must be customer, agent, bot or system"))?,
        None if draft.direction == Direction::Inbound => Actor::Customer,
        None => Actor::Unspecified,
    };
    fill_identity(event, context, &mut draft)?;
    draft.occurred_at = occurred_at(event.get("timestamp"))?;
    draft.text = named_string(properties, "text", "properties.text")?
        .unwrap_or_default()
        .to_owned();
    draft.subject = named_string(properties, "subject", "properties.subject")?
        .unwrap_or_default()
        .to_owned();
    draft.language =
        named_string(properties, "language", "properties.language")?.map(str::to_owned);
    draft.conversation_id = optional_id(properties, "properties.conversation_id")?;
    draft.agent_id = optional_id(properties, "properties.agent_id")?;
    draft.money = money_of(properties)?;
    draft.rating = rating_of(properties)?;
    fill_attributes(properties, &mut draft)?;
    Ok(draft)
}

/// The object at `key`, or `empty` when absent or null.
fn object_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    empty: &'a Map<String, Value>,
) -> Result<&'a Map<String, Value>, Refusal> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(empty),
        Some(Value::Object(found)) => Ok(found),
        Some(_) => Err(invalid(key, "must be an object")),
    }
}

fn optional_string<'a>(
    object: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, Refusal> {
    named_string(object, key, key)
}

/// The non-blank string at `key`, named `field` in a refusal.
fn named_string<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, Refusal> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str()).filter(|text| !text.trim().is_empty())),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

/// An id given as a string or an integer (Segment allows numeric ids).
fn optional_id(object: &Map<String, Value>, field: &str) -> Result<String, Refusal> {
    let key = field.rsplit('.').next().unwrap_or(field);
    match object.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.trim().to_owned()),
        Some(Value::Number(number)) if number.is_i64() || number.is_u64() => Ok(number.to_string()),
        Some(_) => Err(invalid(field, "must be a string or an integer")),
    }
}

fn track_event_name(event: &Map<String, Value>, draft: &mut Draft) -> Result<String, Refusal> {
    let Some(name) = optional_string(event, "event")? else {
        return Err(missing(
            "event",
            " for track events (e.g. \"message.received\")",
        ));
    };
    let name = name.trim();
    if is_lintas_verb(name) {
        return Ok(name.to_owned());
    }
    let lowered = name.to_lowercase();
    let mapped = SEGMENT_EVENTS
        .iter()
        .find(|(segment, _)| *segment == lowered)
        .map(|(_, verb)| (*verb).to_owned());
    let verb = match mapped {
        Some(verb) => verb,
        None => {
            let words: Vec<String> = lowered
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|word| !word.is_empty())
                .map(str::to_owned)
                .collect();
            if words.is_empty() {
                return Err(invalid("event", "must contain letters or digits"));
            }
            let snake = words.join("_");
            format!("custom.{}", &snake[..snake.len().min(120)])
        }
    };
    draft.attribute("event", Some(name.to_owned()));
    Ok(verb)
}

/// `object.verb`: lowercase ASCII letters, digits and `_`, at least one dot, no empty part.
fn is_lintas_verb(name: &str) -> bool {
    name.contains('.')
        && name.len() <= 128
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

fn channel(name: &str) -> Option<Channel> {
    let channel = match name.trim().to_ascii_lowercase().as_str() {
        "web_chat" => Channel::WebChat,
        "email" => Channel::Email,
        "social" | "messenger" | "instagram" => Channel::Social,
        "messaging" | "whatsapp" | "telegram" => Channel::Messaging,
        "sms" => Channel::Sms,
        "voice" => Channel::Voice,
        "web" | "web_analytics" => Channel::Web,
        "app" => Channel::App,
        "store" => Channel::Store,
        "commerce" | "payment" | "online_store" => Channel::Commerce,
        "survey" => Channel::Survey,
        "crm" | "ticket" => Channel::Crm,
        _ => return None,
    };
    Some(channel)
}

fn direction(name: &str) -> Option<Direction> {
    match name.trim().to_ascii_lowercase().as_str() {
        "inbound" => Some(Direction::Inbound),
        "outbound" => Some(Direction::Outbound),
        "internal" => Some(Direction::Internal),
        "not_applicable" | "n/a" => Some(Direction::NotApplicable),
        _ => None,
    }
}

fn actor(name: &str) -> Option<Actor> {
    match name.trim().to_ascii_lowercase().as_str() {
        "customer" => Some(Actor::Customer),
        "agent" => Some(Actor::Agent),
        "bot" => Some(Actor::Bot),
        "system" => Some(Actor::System),
        _ => None,
    }
}

fn fill_identity(
    event: &Map<String, Value>,
    context: &Map<String, Value>,
    draft: &mut Draft,
) -> Result<(), Refusal> {
    let user_id = optional_id(event, "userId")?;
    draft.anonymous_id = optional_id(event, "anonymousId")?;
    if !user_id.is_empty() {
        draft.customer_id = customer_handle(&user_id)?;
    }
    if draft.customer_id.is_empty() && draft.anonymous_id.is_empty() {
        return Err(missing("userId or anonymousId", ""));
    }
    draft.source_event_id = optional_id(event, "messageId")?;
    let empty = Map::new();
    let traits = object_field(context, "traits", &empty)
        .map_err(|_| invalid("context.traits", "must be an object"))?;
    if let Some(email) =
        named_string(traits, "email", "context.traits.email")?.and_then(handle::email_handle)
    {
        draft.customer_handles.push(email);
    }
    if let Some(phone) =
        named_string(traits, "phone", "context.traits.phone")?.and_then(handle::phone_handle)
    {
        draft.customer_handles.push(phone);
    }
    Ok(())
}

/// `userId` as a customer handle: kept when it already names a known namespace (phones and
/// e-mails normalized), otherwise `user_id:<userId>`.
fn customer_handle(user_id: &str) -> Result<String, Refusal> {
    let Some((namespace, value)) = user_id.split_once(':') else {
        return Ok(format!("user_id:{user_id}"));
    };
    let normalized = match namespace {
        "phone" => handle::phone_handle(value),
        "email" => handle::email_handle(value),
        known if KNOWN_NAMESPACES.contains(&known) => handle::handle(known, value),
        _ => return Ok(format!("user_id:{user_id}")),
    };
    normalized.ok_or_else(|| invalid("userId", &format!("is not a valid `{namespace}:` handle")))
}

#[cfg(test)]
mod tests;
