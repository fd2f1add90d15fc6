//! `shopify`: Shopify webhooks for orders and refunds (HTTPS delivery, JSON).
//!
//! - Authenticity: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body, keyed with the
//!   app's `client_secret` (for webhooks created in the Shopify admin: the signing secret shown
//!   there). Shopify signs neither a timestamp nor the headers, so the topic
//!   (`X-Shopify-Topic`) is trusted once the body is authentic, and the dedup id is built from the
//!   signed body: a replayed body maps to the same event whatever its headers say.
//! - Content type: `application/json`. Bodies up to 4 MiB: an order with hundreds of line items
//!   is far larger than a chat message.
//! - Mapping by `X-Shopify-Topic` (the body is the order, or the refund):
//!
//! | topic | `event_name` | direction / actor | `occurred_at` from |
//! | --- | --- | --- | --- |
//! | `orders/create` | `order.created` | inbound / customer | `created_at` |
//! | `orders/paid` | `payment.succeeded` | inbound / customer | `updated_at`, `processed_at` |
//! | `orders/cancelled` | `order.canceled` | inbound / customer when `cancel_reason = customer`, else outbound / system | `cancelled_at`, `updated_at` |
//! | `orders/fulfilled` | `order.fulfilled` | outbound / system | `updated_at` |
//! | `refunds/create` | `refund.created`, money = refunded transactions, negative | outbound / system | `processed_at`, `created_at` |
//! | `customers/create`, `customers/update` | ignored, state change (a profile update) | | |
//! | any other topic, or no `X-Shopify-Topic` | ignored, unmapped | | |
//! | an order naming no customer, e-mail or phone | unusable: no customer identifier | | |
//!
//! - Fields: channel COMMERCE; `source_event_id` = `<topic>:<id>` (`orders/create:5990000000101`,
//!   the order or refund id), stable across redeliveries; `X-Shopify-Event-Id` and
//!   `X-Shopify-Webhook-Id` are kept as attributes. `customer_id` = `shopify_customer:<customer.id>`,
//!   else the order's e-mail (`email:`), else its phone (`phone:`); the e-mail, the buyer's phone
//!   and `shopify_order:<id>` are extra handles. A refund carries no customer, only its order, so
//!   its `customer_id` is `shopify_order:<order_id>`, the handle every event of that order lists,
//!   which lets identity resolution join them. `conversation_id` = `shopify_order:<id>`: the
//!   order is the thread of its payment, fulfilment and refunds. Money: `total_price` (a decimal
//!   string in the shop currency `currency`) parsed digit by digit into contract minor units (IDR
//!   in whole rupiah, JPY in yen; no floating point). `text` (orders only) is a summary a
//!   customer sees on the receipt followed by the gift note the customer wrote:
//!   `Order #1077 (2 x Sepatu Lari X1, IDR 1,275,000) note: ...`; `language` =
//!   `customer_locale`. Order number, statuses, landing and referring site, note attributes
//!   (`note_attribute.<name>`) and the shop domain go to `attributes`.
//!
//! Docs: <https://shopify.dev/docs/apps/build/webhooks/verify-deliveries>,
//! <https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates>,
//! <https://shopify.dev/docs/api/admin-rest/2025-01/resources/order>,
//! <https://shopify.dev/docs/api/admin-rest/2025-01/resources/refund>.

use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction, Money};

use crate::codec::{json_scalar, json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::{email_handle, handle, phone_handle};
use crate::normalize::money::{contract_exponent, from_decimal_str};
use crate::normalize::time::{Occurred, parse_datetime};
use crate::signature::{decode_base64, verify_hmac_sha256};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest,
};

/// The Shopify adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shopify;

/// Source id.
pub const ID: &str = "shopify";
/// The app's client secret (or the admin webhook signing secret), which signs every delivery.
pub const CLIENT_SECRET: &str = "client_secret";

const SIGNATURE_HEADER: &str = "X-Shopify-Hmac-Sha256";
const TOPIC_HEADER: &str = "X-Shopify-Topic";
/// Orders with many line items, tax and discount lines are large; 4 MiB stays bounded.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Line items named in the text summary; the rest are counted.
const MAX_SUMMARY_ITEMS: usize = 10;
/// Note attributes kept as attributes.
const MAX_NOTE_ATTRIBUTES: usize = 20;

impl Adapter for Shopify {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[CLIENT_SECRET]
    }

    fn max_body_bytes(&self) -> usize {
        MAX_BODY_BYTES
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
        // Shopify signs no timestamp: replays map to the same body-derived event id.
        let client_secret = secrets.require(CLIENT_SECRET)?;
        let header = request
            .header(SIGNATURE_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: SIGNATURE_HEADER,
            })?;
        let presented = decode_base64(header).ok_or(AdapterError::SignatureInvalid {
            header: SIGNATURE_HEADER,
            reason: "expected a base64 HMAC-SHA256",
        })?;
        if verify_hmac_sha256(client_secret.as_bytes(), &[request.body], &presented) {
            Ok(())
        } else {
            Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "does not match the body signed with the configured `client_secret`",
            })
        }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let resource: Value = parse_json(request.body)?;
        if !resource.is_object() {
            return Err(AdapterError::malformed(
                "not a Shopify webhook: the body must be a JSON object",
            ));
        }
        let mut parsed = Parsed::default();
        let topic = request
            .header(TOPIC_HEADER)
            .map(str::to_ascii_lowercase)
            .filter(|topic| !topic.is_empty());
        let Some(topic) = topic else {
            parsed.push_ignored(IgnoredKind::Unmapped, "(no topic)", None);
            return Ok(parsed);
        };
        let resource_id = json_scalar(&resource, &["id"]);
        let source_event_id = resource_id.as_ref().map(|id| format!("{topic}:{id}"));
        let Some(mapping) = map_topic(&topic, &resource) else {
            let kind = if topic.starts_with("customers/") {
                IgnoredKind::StateChange
            } else {
                IgnoredKind::Unmapped
            };
            parsed.push_ignored(kind, &topic, source_event_id.as_deref());
            return Ok(parsed);
        };
        let is_refund = matches!(mapping.subject, Subject::Refund);
        let order_id = if is_refund {
            json_scalar(&resource, &["order_id"])
        } else {
            resource_id.clone()
        };
        let order_handle = order_id
            .as_deref()
            .and_then(|id| handle("shopify_order", id));
        let identity = if is_refund {
            order_handle.clone().map(|id| (id, Vec::new()))
        } else {
            order_customer(&resource, order_handle.clone())
        };
        let Some((customer_id, customer_handles)) = identity else {
            parsed.push_unusable(
                UnusableReason::NoCustomerIdentifier,
                source_event_id.as_deref(),
            );
            return Ok(parsed);
        };

        let money = if is_refund {
            refunded_money(&resource)
        } else {
            order_money(&resource)
        };
        let mut draft = Draft {
            source_event_id: source_event_id.unwrap_or_default(),
            channel: Channel::Commerce,
            direction: mapping.direction,
            actor: mapping.actor,
            event_name: mapping.event_name.to_owned(),
            occurred_at: occurred_at(&resource, mapping.time_fields, request),
            customer_id,
            customer_handles,
            conversation_id: order_handle.unwrap_or_default(),
            text: if is_refund {
                String::new()
            } else {
                order_text(&resource, money.as_ref())
            },
            language: json_str(&resource, &["customer_locale"]).map(str::to_owned),
            money,
            ..Draft::default()
        };
        add_attributes(&mut draft, &resource, &topic, request, is_refund);
        let carries_money = ["currency", "total_price"]
            .iter()
            .all(|field| json_str(&resource, &[field]).is_some());
        if !is_refund && draft.money.is_none() && carries_money {
            let id = Some(draft.source_event_id.as_str()).filter(|id| !id.is_empty());
            parsed.push_unusable(UnusableReason::UnusableMoney, id);
        }
        parsed.events.push(draft.into_event(ID, request));
        Ok(parsed)
    }
}

/// What the body of a topic is.
enum Subject {
    Order,
    Refund,
}

/// How a topic maps onto the contract.
struct Mapping {
    event_name: &'static str,
    direction: Direction,
    actor: Actor,
    subject: Subject,
    /// Body fields holding the event's time, in order of preference.
    time_fields: &'static [&'static str],
}

fn map_topic(topic: &str, resource: &Value) -> Option<Mapping> {
    let order = |event_name, direction, actor, time_fields| Mapping {
        event_name,
        direction,
        actor,
        subject: Subject::Order,
        time_fields,
    };
    let mapping = match topic {
        "orders/create" => order(
            "order.created",
            Direction::Inbound,
            Actor::Customer,
            &["created_at"],
        ),
        "orders/paid" => order(
            "payment.succeeded",
            Direction::Inbound,
            Actor::Customer,
            &["updated_at", "processed_at"],
        ),
        "orders/cancelled" => {
            let by_customer = json_str(resource, &["cancel_reason"]) == Some("customer");
            let (direction, actor) = if by_customer {
                (Direction::Inbound, Actor::Customer)
            } else {
                (Direction::Outbound, Actor::System)
            };
            order(
                "order.canceled",
                direction,
                actor,
                &["cancelled_at", "updated_at"],
            )
        }
        "orders/fulfilled" => order(
            "order.fulfilled",
            Direction::Outbound,
            Actor::System,
            &["updated_at"],
        ),
        "refunds/create" => Mapping {
            event_name: "refund.created",
            direction: Direction::Outbound,
            actor: Actor::System,
            subject: Subject::Refund,
            time_fields: &["processed_at", "created_at"],
        },
        _ => return None,
    };
    Some(mapping)
}

/// The first parseable time among `fields`, else Shopify's `X-Shopify-Triggered-At`; `None`
/// leaves the receive time (flagged).
fn occurred_at(
    resource: &Value,
    fields: &[&str],
    request: &WebhookRequest<'_>,
) -> Option<Occurred> {
    fields
        .iter()
        .find_map(|field| json_str(resource, &[field]).and_then(parse_datetime))
        .or_else(|| {
            request
                .header("X-Shopify-Triggered-At")
                .and_then(parse_datetime)
        })
}

/// `shopify_customer:` when the order has a customer, else its e-mail, else its phone; the
/// e-mail, phone and order handle are extra handles.
fn order_customer(order: &Value, order_handle: Option<String>) -> Option<(String, Vec<String>)> {
    let customer_id =
        json_scalar(order, &["customer", "id"]).and_then(|id| handle("shopify_customer", &id));
    let email = [&["email"][..], &["contact_email"], &["customer", "email"]]
        .into_iter()
        .find_map(|path| json_str(order, path).and_then(email_handle));
    // The billing phone is the buyer's; the shipping phone may be a gift's recipient.
    let phone = [
        &["customer", "phone"][..],
        &["phone"],
        &["billing_address", "phone"],
    ]
    .into_iter()
    .find_map(|path| json_str(order, path).and_then(phone_handle));
    // A guest checkout has no customer object: its e-mail (or phone) is the customer. The order
    // handle alone names no one yet. `Draft` drops the handle that became `customer_id`.
    let customer_id = customer_id
        .or_else(|| email.clone())
        .or_else(|| phone.clone())?;
    let handles = [email, phone, order_handle].into_iter().flatten().collect();
    Some((customer_id, handles))
}

fn order_money(order: &Value) -> Option<Money> {
    let currency = json_str(order, &["currency"])?;
    from_decimal_str(json_str(order, &["total_price"])?, currency)
}

/// The sum of the refund's successful refund transactions, negative; `None` when there are none
/// or they disagree on the currency.
fn refunded_money(refund: &Value) -> Option<Money> {
    let transactions = refund.get("transactions")?.as_array()?;
    let mut total: Option<Money> = None;
    for transaction in transactions {
        let is_refund = json_str(transaction, &["kind"]) == Some("refund");
        let succeeded = json_str(transaction, &["status"]).is_none_or(|status| status == "success");
        if !is_refund || !succeeded {
            continue;
        }
        let amount = from_decimal_str(
            json_str(transaction, &["amount"])?,
            json_str(transaction, &["currency"])?,
        )?;
        total = Some(match total {
            None => amount,
            Some(sum) if sum.currency == amount.currency => Money {
                amount_minor: sum.amount_minor.checked_add(amount.amount_minor)?,
                currency: sum.currency,
            },
            Some(_) => return None,
        });
    }
    total.and_then(|sum| {
        Some(Money {
            amount_minor: sum.amount_minor.checked_neg()?,
            currency: sum.currency,
        })
    })
}

/// `Order #1077 (2 x Sepatu Lari X1, IDR 1,275,000) note: <gift note>`: what the receipt shows,
/// then what the customer wrote.
fn order_text(order: &Value, money: Option<&Money>) -> String {
    let name = json_str(order, &["name"])
        .map(str::to_owned)
        .or_else(|| json_scalar(order, &["order_number"]).map(|number| format!("#{number}")))
        .or_else(|| json_scalar(order, &["id"]));
    let mut parts: Vec<String> = Vec::new();
    let items = order
        .get("line_items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for item in items.iter().take(MAX_SUMMARY_ITEMS) {
        let title = json_str(item, &["title"]).or_else(|| json_str(item, &["name"]));
        match (json_scalar(item, &["quantity"]), title) {
            (Some(quantity), Some(title)) => parts.push(format!("{quantity} x {title}")),
            (None, Some(title)) => parts.push(title.to_owned()),
            _ => {}
        }
    }
    if items.len() > MAX_SUMMARY_ITEMS {
        parts.push(format!("+{} more", items.len() - MAX_SUMMARY_ITEMS));
    }
    parts.extend(money.map(display_money));
    let mut text = String::from("Order");
    if let Some(name) = name {
        text.push(' ');
        text.push_str(&name);
    }
    if !parts.is_empty() {
        text.push_str(&format!(" ({})", parts.join(", ")));
    }
    if let Some(note) = json_str(order, &["note"]) {
        text.push_str(" note: ");
        text.push_str(note);
    }
    text
}

/// `IDR 1,275,000`, `USD 129.00`: the amount in major units with the contract's digits and
/// thousands separators, as a receipt prints it.
fn display_money(money: &Money) -> String {
    let exponent = contract_exponent(&money.currency);
    let scale = 10_u64.pow(exponent);
    let magnitude = money.amount_minor.unsigned_abs();
    let whole = (magnitude / scale).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    if exponent == 0 {
        format!("{} {sign}{grouped}", money.currency)
    } else {
        let fraction = magnitude % scale;
        let width = exponent as usize;
        format!("{} {sign}{grouped}.{fraction:0width$}", money.currency)
    }
}

fn add_attributes(
    draft: &mut Draft,
    resource: &Value,
    topic: &str,
    request: &WebhookRequest<'_>,
    is_refund: bool,
) {
    draft.attribute("shopify_topic", Some(topic));
    draft.attribute("shop_domain", request.header("X-Shopify-Shop-Domain"));
    draft.attribute("shopify_event_id", request.header("X-Shopify-Event-Id"));
    draft.attribute("shopify_webhook_id", request.header("X-Shopify-Webhook-Id"));
    draft.attribute("api_version", request.header("X-Shopify-API-Version"));
    if is_refund {
        draft.attribute("refund_id", json_scalar(resource, &["id"]));
        draft.attribute("order_id", json_scalar(resource, &["order_id"]));
        // Shopify's refund reason is written by staff and shown to staff only.
        draft.attribute("refund_note", json_str(resource, &["note"]));
        return;
    }
    draft.attribute("order_id", json_scalar(resource, &["id"]));
    draft.attribute("order_name", json_str(resource, &["name"]));
    draft.attribute("order_number", json_scalar(resource, &["order_number"]));
    for field in [
        "financial_status",
        "fulfillment_status",
        "cancel_reason",
        "source_name",
        "landing_site",
        "referring_site",
        "presentment_currency",
        "tags",
    ] {
        draft.attribute(field, json_str(resource, &[field]));
    }
    if resource.get("test") == Some(&Value::Bool(true)) {
        draft.attribute("test", Some("true"));
    }
    let line_items = resource
        .get("line_items")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    if line_items > 0 {
        draft.attribute("line_item_count", Some(line_items.to_string()));
    }
    let codes: Vec<&str> = resource
        .get("discount_codes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|code| json_str(code, &["code"]))
        .collect();
    draft.attribute("discount_codes", Some(codes.join(",")));
    let note_attributes = resource
        .get("note_attributes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for attribute in note_attributes.iter().take(MAX_NOTE_ATTRIBUTES) {
        if let Some(name) = json_str(attribute, &["name"]) {
            draft.attribute(
                &format!("note_attribute.{name}"),
                json_scalar(attribute, &["value"]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::OwnedRequest;
    use chrono::{TimeZone, Utc};
    use http::Method;
    use proptest::prelude::*;

    const TOPICS: &[&str] = &[
        "orders/create",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "refunds/create",
        "customers/update",
        "products/update",
    ];

    fn parse_topic(topic: &str, body: &Value) -> Result<Parsed, AdapterError> {
        parse_raw(topic, body.to_string().as_bytes())
    }

    fn parse_raw(topic: &str, body: &[u8]) -> Result<Parsed, AdapterError> {
        let received_at = Utc
            .timestamp_opt(1_741_964_855, 0)
            .single()
            .expect("valid instant");
        let request = OwnedRequest::new(
            "acme",
            Method::POST,
            "https://ingest.example.com/v1/webhooks/acme/shopify",
            body.to_vec(),
            received_at,
        )
        .with_header("Content-Type", "application/json")?
        .with_header(TOPIC_HEADER, topic)?;
        Shopify.parse(&request.as_request())
    }

    fn order() -> Value {
        serde_json::json!({
            "id": 820982911946154508_u64, "name": "#9999", "email": "Jon@Example.com",
            "created_at": "2025-03-14T22:07:33+07:00", "updated_at": "2025-03-15T08:00:00+07:00",
            "currency": "USD", "total_price": "1234567.5", "note": null,
            "line_items": [{"title": "Kettle", "quantity": 1}, {"name": "Mug - Blue", "quantity": 3}],
            "customer": {"id": 115310627314723954_u64, "phone": "+1 555 555 0199"}
        })
    }

    #[test]
    fn an_order_summary_names_items_and_the_total_with_separators() {
        let parsed = parse_topic("orders/create", &order()).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(
            event.text,
            "Order #9999 (1 x Kettle, 3 x Mug - Blue, USD 1,234,567.50)"
        );
        assert_eq!(event.customer_id, "shopify_customer:115310627314723954");
        assert_eq!(
            event.customer_handles,
            vec![
                "email:jon@example.com".to_owned(),
                "phone:+15555550199".to_owned(),
                "shopify_order:820982911946154508".to_owned()
            ]
        );
        assert_eq!(event.conversation_id, "shopify_order:820982911946154508");
        assert_eq!(event.source_event_id, "orders/create:820982911946154508");
        let money = event.money.as_ref().expect("money");
        assert_eq!(
            (money.amount_minor, money.currency.as_str()),
            (123_456_750, "USD")
        );
    }

    #[test]
    fn zero_and_three_decimal_currencies_use_the_contract_exponent() {
        let show = |amount: &str, currency: &str| {
            display_money(&from_decimal_str(amount, currency).expect("money"))
        };
        assert_eq!(show("1275000.00", "IDR"), "IDR 1,275,000");
        assert_eq!(show("4500", "JPY"), "JPY 4,500");
        assert_eq!(show("1.5", "KWD"), "KWD 1.500");
        assert_eq!(show("129", "USD"), "USD 129.00");
        assert_eq!(show("-0.05", "USD"), "USD -0.05");
        assert_eq!(show("999", "EUR"), "EUR 999.00");
    }

    #[test]
    fn a_paid_order_is_a_payment_at_its_update_time() {
        let parsed = parse_topic("orders/paid", &order()).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.event_name, "payment.succeeded");
        assert_eq!(event.source_event_id, "orders/paid:820982911946154508");
        let at = event.occurred_at.as_ref().expect("occurred_at");
        assert_eq!(at.seconds, 1_742_000_400);
    }

    #[test]
    fn a_cancellation_is_the_customers_only_when_they_asked() {
        let mut cancelled = order();
        cancelled["cancel_reason"] = "customer".into();
        cancelled["cancelled_at"] = "2025-03-15T09:00:00Z".into();
        let event = &parse_topic("orders/cancelled", &cancelled)
            .expect("parses")
            .events[0];
        assert_eq!(event.event_name, "order.canceled");
        assert_eq!(event.direction(), Direction::Inbound);
        cancelled["cancel_reason"] = "inventory".into();
        let event = &parse_topic("orders/cancelled", &cancelled)
            .expect("parses")
            .events[0];
        assert_eq!(event.direction(), Direction::Outbound);
        assert_eq!(event.actor(), Actor::System);
    }

    #[test]
    fn a_refund_is_negative_money_tied_to_its_order() {
        let refund = serde_json::json!({
            "id": 509562969, "order_id": 820982911946154508_u64, "note": "damaged in transit",
            "created_at": "2025-03-16T10:00:00-04:00", "processed_at": "2025-03-16T10:00:05-04:00",
            "transactions": [
                {"kind": "refund", "status": "success", "amount": "41.94", "currency": "USD"},
                {"kind": "refund", "status": "failure", "amount": "99.00", "currency": "USD"},
                {"kind": "refund", "status": "success", "amount": "0.06", "currency": "USD"}
            ]
        });
        let parsed = parse_topic("refunds/create", &refund).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.event_name, "refund.created");
        assert_eq!(event.customer_id, "shopify_order:820982911946154508");
        assert_eq!(event.source_event_id, "refunds/create:509562969");
        assert!(event.text.is_empty());
        let money = event.money.as_ref().expect("money");
        assert_eq!(
            (money.amount_minor, money.currency.as_str()),
            (-4200, "USD")
        );
        assert_eq!(
            event.attributes.get("refund_note").map(String::as_str),
            Some("damaged in transit")
        );
    }

    #[test]
    fn a_guest_order_is_identified_by_its_email() {
        let mut guest = order();
        guest["customer"] = Value::Null;
        let event = &parse_topic("orders/create", &guest).expect("parses").events[0];
        assert_eq!(event.customer_id, "email:jon@example.com");
        assert_eq!(
            event.customer_handles,
            vec!["shopify_order:820982911946154508".to_owned()]
        );
    }

    #[test]
    fn an_order_naming_nobody_is_unusable() {
        let anonymous = serde_json::json!({"id": 1, "total_price": "1.00", "currency": "USD"});
        let parsed = parse_topic("orders/create", &anonymous).expect("parses");
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
        assert_eq!(
            parsed.unusable[0].source_event_id.as_deref(),
            Some("orders/create:1")
        );
    }

    #[test]
    fn other_topics_are_ignored_and_profile_updates_are_state_changes() {
        let parsed = parse_topic("products/update", &order()).expect("parses");
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::Unmapped);
        let parsed = parse_topic("customers/update", &order()).expect("parses");
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::StateChange);
        let no_topic = crate::parse_bytes(&Shopify, "application/json", b"{}").expect("parses");
        assert_eq!(no_topic.ignored[0].event_type, "(no topic)");
    }

    #[test]
    fn a_body_that_is_not_an_object_is_malformed() {
        let refused = parse_raw("orders/create", b"[1,2]").expect_err("array");
        assert_eq!(refused.code(), "malformed_body");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        // `parse_bytes` sends no topic header; this reaches every topic's mapping.
        #[test]
        fn parse_never_panics_on_any_topic(
            topic in prop::sample::select(TOPICS),
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        ) {
            let mut body = order().to_string().into_bytes();
            for (at, byte) in flips {
                let index = at.index(body.len());
                body[index] = byte;
            }
            body.truncate(cut.index(body.len() + 1));
            if let Ok(parsed) = parse_raw(topic, &body) {
                for event in parsed.into_validated().events {
                    prop_assert!(lintas_schema::validate_event(&event).is_ok());
                }
            }
        }
    }
}
