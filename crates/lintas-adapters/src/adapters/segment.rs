//! `segment`: Segment's Webhooks destination (track, page, screen, identify, group, alias calls).
//!
//! - Authenticity: `X-Signature` = hex HMAC-SHA1 of the raw body, keyed with the destination's
//!   `shared_secret` (how Segment's Webhooks destination signs when a shared secret is set).
//!   Segment signs no timestamp: a replayed call maps to the same event through `messageId`.
//! - Content type: `application/json`. One call per request, or a batch (a JSON array, or
//!   `{"batch": [...]}` as the Webhooks (Actions) destination sends when batching is on).
//! - Mapping, per call:
//!
//! | call | result |
//! | --- | --- |
//! | `track` `Order Completed` | `order.created` (the contract's name for a placed order, as Shopify `orders/create`), inbound / customer, money |
//! | `track` `Order Refunded` | `refund.created`, outbound / system, money negative |
//! | `track` `Order Cancelled` | `order.canceled`, inbound / customer |
//! | any other `track` `<Object> <Verb>` | `<object>.<verb>` in snake case (`Product Viewed` -> `product.viewed`, `Checkout Step Completed` -> `checkout_step.completed`); a one-word name `<word>.tracked`, no ASCII word `event.tracked`; inbound / customer |
//! | `page` | `page.viewed`, inbound / customer |
//! | `screen` | `screen.viewed`, inbound / customer |
//! | `identify`, `group`, `alias` | ignored, state change (a profile or membership update, not an interaction) |
//! | other or missing `type`, a `track` without `event` | ignored, unmapped |
//! | a call with neither `userId` nor `anonymousId` | unusable: no customer identifier |
//!
//! - Fields: channel APP when the call comes from a mobile library (`context.app`,
//!   `context.device.type` ios/android, or `channel = mobile`), else WEB; `source_event_id` =
//!   `messageId`; `occurred_at` = `timestamp` (Segment's skew-corrected time), else
//!   `originalTimestamp`, else `receivedAt` (ISO 8601, offsets converted). `customer_id` =
//!   `user_id:<userId>`; `anonymous_id` = `anonymousId` (alone when the visitor is not known
//!   yet); e-mail and phone in `traits`, `context.traits` or `properties` are extra handles. Money
//!   from `properties.total`, else `properties.revenue` (Segment's `value` is not money), with
//!   `properties.currency`, USD when absent as Segment's spec defines; numbers are read from
//!   their decimal rendering, never through float arithmetic. `text` is empty (no call carries
//!   customer-written text). Event name, page, library, locale, campaign and scalar
//!   `properties.<key>` go to `attributes`.
//!
//! Docs: <https://www.twilio.com/docs/segment/connections/destinations/catalog/webhooks>,
//! <https://www.twilio.com/docs/segment/connections/spec/common>,
//! <https://www.twilio.com/docs/segment/connections/spec/track>,
//! <https://www.twilio.com/docs/segment/connections/spec/ecommerce/v2>.

use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction, Money};

use crate::codec::{json_scalar, json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::{email_handle, handle, phone_handle};
use crate::normalize::money::from_decimal_str;
use crate::normalize::time::parse_datetime;
use crate::signature::{decode_hex, verify_hmac_sha1};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest,
};

/// The Segment adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segment;

/// Source id.
pub const ID: &str = "segment";
/// The Webhooks destination's shared secret, which signs every request.
pub const SHARED_SECRET: &str = "shared_secret";

const SIGNATURE_HEADER: &str = "X-Signature";
/// Scalar `properties` kept as attributes.
const MAX_PROPERTIES: usize = 20;
/// Bytes of each part of a derived `event_name`, so the whole stays within the contract's 128.
const MAX_NAME_PART_BYTES: usize = 60;

impl Adapter for Segment {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[SHARED_SECRET]
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
        let shared_secret = secrets.require(SHARED_SECRET)?;
        let header = request
            .header(SIGNATURE_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: SIGNATURE_HEADER,
            })?;
        let presented = decode_hex(header).ok_or(AdapterError::SignatureInvalid {
            header: SIGNATURE_HEADER,
            reason: "expected a hex HMAC-SHA1",
        })?;
        if verify_hmac_sha1(shared_secret.as_bytes(), &[request.body], &presented) {
            Ok(())
        } else {
            Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "does not match the body signed with the configured `shared_secret`",
            })
        }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let body: Value = parse_json(request.body)?;
        let calls: &[Value] = match &body {
            Value::Array(calls) => calls,
            Value::Object(object) => match object.get("batch") {
                Some(Value::Array(calls)) => calls,
                Some(_) => return Err(AdapterError::malformed("`batch` must be an array")),
                None => std::slice::from_ref(&body),
            },
            _ => {
                return Err(AdapterError::malformed(
                    "not a Segment call: expected a JSON object or an array of them",
                ));
            }
        };
        let mut parsed = Parsed::default();
        for call in calls {
            parse_call(call, request, &mut parsed);
        }
        Ok(parsed)
    }
}

/// How a call maps onto the contract.
struct Mapping {
    event_name: String,
    direction: Direction,
    actor: Actor,
    /// Money sign: refunds are negative.
    negative_money: bool,
}

fn parse_call(call: &Value, request: &WebhookRequest<'_>, parsed: &mut Parsed) {
    let message_id = json_str(call, &["messageId"]);
    let call_type = json_str(call, &["type"]).unwrap_or("(none)");
    let mapping = match call_type {
        "track" => match json_str(call, &["event"]) {
            Some(event) => track_mapping(event),
            None => {
                parsed.push_ignored(IgnoredKind::Unmapped, "track", message_id);
                return;
            }
        },
        "page" | "screen" => Mapping {
            event_name: format!("{call_type}.viewed"),
            direction: Direction::Inbound,
            actor: Actor::Customer,
            negative_money: false,
        },
        "identify" | "group" | "alias" => {
            parsed.push_ignored(IgnoredKind::StateChange, call_type, message_id);
            return;
        }
        _ => {
            parsed.push_ignored(IgnoredKind::Unmapped, call_type, message_id);
            return;
        }
    };
    let customer_id = json_scalar(call, &["userId"]).and_then(|id| handle("user_id", &id));
    let anonymous_id = json_scalar(call, &["anonymousId"]);
    if customer_id.is_none() && anonymous_id.is_none() {
        parsed.push_unusable(UnusableReason::NoCustomerIdentifier, message_id);
        return;
    }
    let properties = &call["properties"];
    let mut draft = Draft {
        source_event_id: message_id.unwrap_or_default().to_owned(),
        channel: channel(call),
        direction: mapping.direction,
        actor: mapping.actor,
        event_name: mapping.event_name,
        occurred_at: ["timestamp", "originalTimestamp", "receivedAt"]
            .into_iter()
            .find_map(|field| json_str(call, &[field]).and_then(parse_datetime)),
        customer_id: customer_id.unwrap_or_default(),
        anonymous_id: anonymous_id.unwrap_or_default(),
        customer_handles: contact_handles(call),
        money: if call_type == "track" {
            money(properties, mapping.negative_money)
        } else {
            None
        },
        ..Draft::default()
    };
    add_attributes(&mut draft, call, call_type);
    if call_type == "track" && draft.money.is_none() && carries_amount(properties) {
        parsed.push_unusable(UnusableReason::UnusableMoney, message_id);
    }
    parsed.events.push(draft.into_event(ID, request));
}

fn track_mapping(event: &str) -> Mapping {
    let customer_action = |event_name: &str| Mapping {
        event_name: event_name.to_owned(),
        direction: Direction::Inbound,
        actor: Actor::Customer,
        negative_money: false,
    };
    match event {
        "Order Completed" => customer_action("order.created"),
        "Order Cancelled" => customer_action("order.canceled"),
        "Order Refunded" => Mapping {
            event_name: "refund.created".to_owned(),
            direction: Direction::Outbound,
            actor: Actor::System,
            negative_money: true,
        },
        other => customer_action(&derived_event_name(other)),
    }
}

/// `Product Viewed` -> `product.viewed`: Segment's `<Object> <Verb>` naming in the contract's
/// form. Only ASCII letters and digits survive; each part is bounded.
fn derived_event_name(event: &str) -> String {
    let words: Vec<String> = event
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let bounded = |part: String| -> String {
        crate::normalize::text::truncate_at_char_boundary(&part, MAX_NAME_PART_BYTES).to_owned()
    };
    match words.split_last() {
        None => "event.tracked".to_owned(),
        Some((only, [])) => format!("{}.tracked", bounded(only.clone())),
        Some((verb, object)) => format!(
            "{}.{}",
            bounded(object.join("_")).trim_end_matches('_'),
            bounded(verb.clone())
        ),
    }
}

/// APP for mobile libraries, WEB otherwise (analytics.js, and server-side calls about the web
/// shop).
fn channel(call: &Value) -> Channel {
    let device_type = json_str(call, &["context", "device", "type"]).map(str::to_ascii_lowercase);
    let mobile = call.pointer("/context/app").is_some_and(Value::is_object)
        || matches!(device_type.as_deref(), Some("ios" | "android"))
        || json_str(call, &["channel"]) == Some("mobile")
        || json_str(call, &["context", "channel"]) == Some("mobile");
    if mobile { Channel::App } else { Channel::Web }
}

/// E-mail and phone from `traits`, `context.traits` and `properties`.
fn contact_handles(call: &Value) -> Vec<String> {
    let mut handles = Vec::new();
    for container in [&["traits"][..], &["context", "traits"], &["properties"]] {
        let mut path: Vec<&str> = container.to_vec();
        path.push("email");
        handles.extend(json_str(call, &path).and_then(email_handle));
        path.pop();
        path.push("phone");
        handles.extend(json_str(call, &path).and_then(phone_handle));
    }
    handles
}

/// `total`, else `revenue`, in `currency` (USD when absent, per Segment's spec).
fn money(properties: &Value, negative: bool) -> Option<Money> {
    let amount = ["total", "revenue"]
        .into_iter()
        .find_map(|field| properties.get(field).and_then(decimal_text))?;
    let currency = json_str(properties, &["currency"]).unwrap_or("USD");
    let money = from_decimal_str(&amount, currency)?;
    if negative && money.amount_minor > 0 {
        return Some(Money {
            amount_minor: -money.amount_minor,
            currency: money.currency,
        });
    }
    Some(money)
}

/// Whether `properties` carry an amount [`money`] reads, so a `None` from it means unusable
/// money rather than none.
fn carries_amount(properties: &Value) -> bool {
    ["total", "revenue"]
        .into_iter()
        .any(|field| properties.get(field).is_some_and(|value| !value.is_null()))
}

/// A JSON amount as decimal text, for [`from_decimal_str`]. A number is rendered in serde_json's
/// shortest round-trip form (`129.0`, `19.99`): the digits the sender wrote for any amount of up
/// to 15 significant digits, and the decimal parser then rounds to the currency's minor unit, so
/// no float arithmetic touches the amount. Exponent forms (`1e21`) are refused by the parser.
fn decimal_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) => Some(text.trim().to_owned()),
        _ => None,
    }
}

fn add_attributes(draft: &mut Draft, call: &Value, call_type: &str) {
    draft.attribute("segment_type", Some(call_type));
    draft.attribute("segment_event", json_str(call, &["event"]));
    draft.attribute("name", json_str(call, &["name"]));
    draft.attribute("library", json_str(call, &["context", "library", "name"]));
    draft.attribute("locale", json_str(call, &["context", "locale"]));
    for (key, path) in [
        ("page_url", ["context", "page", "url"]),
        ("page_path", ["context", "page", "path"]),
        ("page_title", ["context", "page", "title"]),
        ("page_referrer", ["context", "page", "referrer"]),
        ("campaign_source", ["context", "campaign", "source"]),
        ("campaign_medium", ["context", "campaign", "medium"]),
        ("campaign_name", ["context", "campaign", "name"]),
    ] {
        draft.attribute(key, json_str(call, &path));
    }
    let Some(properties) = call.get("properties").and_then(Value::as_object) else {
        return;
    };
    let scalars = properties
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "email" | "phone"))
        .filter_map(|(key, value)| match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                json_scalar(value, &[]).map(|value| (key, value))
            }
            _ => None,
        });
    for (key, value) in scalars.take(MAX_PROPERTIES) {
        draft.attribute(&format!("properties.{key}"), Some(value));
    }
    if let Some(products) = properties.get("products").and_then(Value::as_array) {
        draft.attribute("product_count", Some(products.len().to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_body(body: Value) -> Result<Parsed, AdapterError> {
        crate::parse_bytes(&Segment, "application/json", body.to_string().as_bytes())
    }

    #[test]
    fn segment_event_names_become_contract_verbs() {
        assert_eq!(derived_event_name("Product Viewed"), "product.viewed");
        assert_eq!(
            derived_event_name("Checkout Step Completed"),
            "checkout_step.completed"
        );
        assert_eq!(derived_event_name("signup"), "signup.tracked");
        assert_eq!(derived_event_name("注文"), "event.tracked");
        assert_eq!(derived_event_name("Added to-Cart!"), "added_to.cart");
        let long = derived_event_name(&format!("{} Viewed", "Very Long ".repeat(40)));
        assert!(long.len() <= 128 && long.ends_with(".viewed"), "{long}");
    }

    #[test]
    fn a_batch_yields_one_result_per_call() {
        let parsed = parse_body(serde_json::json!({"batch": [
            {"type": "page", "messageId": "m1", "anonymousId": "a1", "name": "Pricing",
             "timestamp": "2025-03-14T10:00:00+07:00"},
            {"type": "identify", "messageId": "m2", "userId": "u1"},
            {"type": "screen", "messageId": "m3", "userId": "u1", "context": {"app": {"name": "Shop"}}},
            {"type": "track", "messageId": "m4"}
        ]}))
        .expect("parses");
        assert_eq!(parsed.events.len(), 2);
        let page = &parsed.events[0];
        assert_eq!(page.event_name, "page.viewed");
        assert_eq!(page.channel(), Channel::Web);
        assert_eq!(page.anonymous_id, "a1");
        assert!(page.customer_id.is_empty());
        let at = page.occurred_at.as_ref().expect("occurred_at");
        assert_eq!(at.seconds, 1_741_921_200);
        assert_eq!(parsed.events[1].channel(), Channel::App);
        assert_eq!(parsed.events[1].customer_id, "user_id:u1");
        let ignored: Vec<_> = parsed
            .ignored
            .iter()
            .map(|item| (item.kind, item.event_type.as_str()))
            .collect();
        assert_eq!(
            ignored,
            vec![
                (IgnoredKind::StateChange, "identify"),
                (IgnoredKind::Unmapped, "track")
            ]
        );
    }

    #[test]
    fn revenue_is_exact_and_refunds_are_negative() {
        let parsed = parse_body(serde_json::json!([
            {"type": "track", "event": "Order Completed", "messageId": "m1", "userId": "u1",
             "properties": {"revenue": 19.99, "currency": "idr"}},
            {"type": "track", "event": "Order Refunded", "messageId": "m2", "userId": "u1",
             "properties": {"total": "30.10"}}
        ]))
        .expect("parses");
        let paid = parsed.events[0].money.as_ref().expect("money");
        assert_eq!((paid.amount_minor, paid.currency.as_str()), (20, "IDR"));
        let refunded = parsed.events[1].money.as_ref().expect("money");
        assert_eq!(
            (refunded.amount_minor, refunded.currency.as_str()),
            (-3010, "USD")
        );
        assert_eq!(parsed.events[1].direction(), Direction::Outbound);
    }

    #[test]
    fn an_amount_that_cannot_be_money_keeps_the_event_and_dead_letters_the_body() {
        let parsed = parse_body(serde_json::json!([
            {"type": "track", "event": "Order Completed", "messageId": "m1", "userId": "u1",
             "properties": {"revenue": 19.99, "currency": "XYZ"}},
            {"type": "track", "event": "Order Completed", "messageId": "m2", "userId": "u1",
             "properties": {"total": 1e308, "currency": "USD"}},
            {"type": "track", "event": "Order Completed", "messageId": "m3", "userId": "u1",
             "properties": {"total": "12.50", "currency": "IDR"}}
        ]))
        .expect("parses");
        assert_eq!(parsed.events.len(), 3);
        assert_eq!(parsed.events[0].money, None);
        assert_eq!(parsed.events[1].money, None);
        assert!(parsed.events[2].money.is_some());
        let dead: Vec<_> = parsed
            .unusable
            .iter()
            .map(|item| (item.reason.clone(), item.source_event_id.as_deref()))
            .collect();
        assert_eq!(
            dead,
            [
                (UnusableReason::UnusableMoney, Some("m1")),
                (UnusableReason::UnusableMoney, Some("m2"))
            ]
        );
    }

    #[test]
    fn a_call_naming_nobody_is_unusable_and_a_scalar_body_is_malformed() {
        let parsed =
            parse_body(serde_json::json!({"type": "track", "event": "X Y", "messageId": "m"}))
                .expect("parses");
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
        assert_eq!(
            parse_body(serde_json::json!(3)).expect_err("scalar").code(),
            "malformed_body"
        );
        assert_eq!(
            parse_body(serde_json::json!({"batch": 1}))
                .expect_err("batch")
                .code(),
            "malformed_body"
        );
    }
}
