//! `stripe`: Stripe webhook events.
//!
//! - Authenticity: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, each `v1` an
//!   HMAC-SHA256 of `{t}.{raw body}` keyed with the endpoint's `endpoint_secret` (`whsec_...`,
//!   used whole). Any matching `v1` is accepted (Stripe sends several while a secret is rolled).
//!   The signature is checked first, then `t` against the receive time with
//!   [`VerifyPolicy::timestamp_tolerance`] (5 min by default, in both directions), so a stale
//!   timestamp always means an authentic but replayed or delayed delivery.
//! - Content type: `application/json`.
//! - Mapping (one event per delivery; `data.object` is the charge, payment intent, dispute or
//!   subscription):
//!
//! | Stripe `type` | `event_name` | direction / actor |
//! | --- | --- | --- |
//! | `charge.refunded` | `refund.created`, money = newly refunded amount, negative | outbound / system |
//! | `payment_intent.succeeded` | `payment.succeeded` | inbound / customer |
//! | `payment_intent.payment_failed` | `payment.failed` | inbound / customer |
//! | `charge.succeeded`, `charge.failed` without a payment intent (legacy Charges API) | `payment.succeeded`, `payment.failed` | inbound / customer |
//! | `charge.dispute.created` | `dispute.created` | inbound / customer |
//! | `customer.subscription.created` | `subscription.started` | inbound / customer |
//! | `customer.subscription.deleted` | `subscription.canceled` | inbound / customer when the customer asked, else n/a / system |
//! | anything else, and charge events of a payment intent (they duplicate the intent's event) | ignored, unmapped | |
//!
//! - Fields: channel COMMERCE; `source_event_id` = `event.id` (`evt_...`); `occurred_at` =
//!   `event.created` (epoch seconds); `customer_id` = `stripe_customer:<cus_...>`, or the
//!   receipt/billing/customer e-mail as `email:` when there is no customer object (the e-mail is
//!   an extra handle otherwise); no customer at all is unusable. Money in contract minor units:
//!   Stripe's per-currency exponent (IDR in hundredths, JPY in units) is rescaled, currency
//!   uppercased. Description, metadata (`metadata.<key>`), object id and payment intent go to
//!   `attributes`. `text` is empty.
//!
//! Docs: <https://docs.stripe.com/webhooks#verify-events>, <https://docs.stripe.com/api/events/object>,
//! <https://docs.stripe.com/currencies#zero-decimal>.

use serde::Deserialize;
use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction};

use crate::codec::{json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::{email_handle, handle};
use crate::normalize::money::from_minor;
use crate::normalize::time::{EpochUnit, from_epoch_json};
use crate::signature::{decode_hex, verify_hmac_sha256};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest,
};

/// The Stripe adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stripe;

/// Source id.
pub const ID: &str = "stripe";
/// The endpoint's signing secret (`whsec_...`).
pub const ENDPOINT_SECRET: &str = "endpoint_secret";

const SIGNATURE_HEADER: &str = "Stripe-Signature";
/// Stripe-created metadata is capped at 50 keys; keep at most this many as attributes.
const MAX_METADATA: usize = 20;

impl Adapter for Stripe {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[ENDPOINT_SECRET]
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
        let secret = secrets.require(ENDPOINT_SECRET)?;
        let header = request
            .header(SIGNATURE_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: SIGNATURE_HEADER,
            })?;
        let (timestamp, signatures) = parse_signature_header(header)?;
        let authentic = signatures.iter().any(|presented| {
            verify_hmac_sha256(
                secret.as_bytes(),
                &[timestamp.as_bytes(), b".", request.body],
                presented,
            )
        });
        if !authentic {
            return Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "no `v1` signature matches the body signed with the configured `endpoint_secret`",
            });
        }
        let signed_at: i64 = timestamp
            .parse()
            .map_err(|_| AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "`t` must be a Unix timestamp in seconds",
            })?;
        policy.check_timestamp(SIGNATURE_HEADER, signed_at, request.received_at)
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let event: StripeEvent = parse_json(request.body)?;
        let Some(event_type) = event.event_type.as_deref() else {
            return Err(AdapterError::malformed(
                "not a Stripe event: `type` is missing",
            ));
        };
        let object = event.data.object;
        let mut parsed = Parsed::default();
        let Some(mapping) = map_event_type(event_type, &object) else {
            parsed.push_ignored(IgnoredKind::Unmapped, event_type, event.id.as_deref());
            return Ok(parsed);
        };
        let Some((customer_id, email)) = customer(&object) else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, event.id.as_deref());
            return Ok(parsed);
        };

        let mut draft = Draft {
            source_event_id: event.id.clone().unwrap_or_default(),
            channel: Channel::Commerce,
            direction: mapping.direction,
            actor: mapping.actor,
            event_name: mapping.event_name.to_owned(),
            occurred_at: event
                .created
                .as_ref()
                .and_then(|created| from_epoch_json(created, EpochUnit::Seconds)),
            customer_handles: email.into_iter().collect(),
            customer_id,
            money: money(&mapping, &object, &event.data.previous_attributes),
            ..Draft::default()
        };
        draft.attribute("stripe_event_type", Some(event_type));
        draft.attribute("stripe_object_id", json_str(&object, &["id"]));
        draft.attribute("livemode", event.livemode.map(|live| live.to_string()));
        draft.attribute("description", json_str(&object, &["description"]));
        draft.attribute("payment_intent", json_str(&object, &["payment_intent"]));
        draft.attribute("failure_code", json_str(&object, &["failure_code"]));
        draft.attribute("reason", json_str(&object, &["reason"]));
        if let Some(metadata) = object.get("metadata").and_then(Value::as_object) {
            for (key, value) in metadata.iter().take(MAX_METADATA) {
                draft.attribute(&format!("metadata.{key}"), value.as_str());
            }
        }
        if draft.money.is_none() && carries_money(&mapping, &object) {
            parsed.push_unusable(UnusableReason::UnusableMoney, event.id.as_deref());
        }
        parsed.events.push(draft.into_event(ID, request));
        Ok(parsed)
    }
}

/// Whether `object` carries the currency and amount [`money`] reads for `mapping`, so a `None`
/// from it means unusable money rather than none.
fn carries_money(mapping: &Mapping, object: &Value) -> bool {
    let has = |field: &str| object.get(field).is_some_and(|value| !value.is_null());
    let amount = match mapping.amount {
        Amount::RefundedDelta => has("amount_refunded"),
        Amount::Received => has("amount_received") || has("amount"),
        Amount::Plain => has("amount"),
        Amount::None => false,
    };
    amount && has("currency")
}

#[derive(Debug, Deserialize)]
struct StripeEvent {
    id: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    created: Option<Value>,
    livemode: Option<bool>,
    #[serde(default)]
    data: EventData,
}

#[derive(Debug, Default, Deserialize)]
struct EventData {
    #[serde(default)]
    object: Value,
    #[serde(default)]
    previous_attributes: Value,
}

/// `t` and the decoded `v1` signatures of a `Stripe-Signature` header. Unknown schemes (`v0`,
/// future ones) are skipped, as Stripe asks.
fn parse_signature_header(header: &str) -> Result<(&str, Vec<Vec<u8>>), AdapterError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", value)) if timestamp.is_none() => timestamp = Some(value.trim()),
            Some(("v1", value)) => signatures.extend(decode_hex(value)),
            _ => {}
        }
    }
    let timestamp = timestamp
        .filter(|t| !t.is_empty())
        .ok_or(AdapterError::SignatureInvalid {
            header: SIGNATURE_HEADER,
            reason: "expected `t=<unix seconds>` in the header",
        })?;
    if signatures.is_empty() {
        return Err(AdapterError::SignatureInvalid {
            header: SIGNATURE_HEADER,
            reason: "expected at least one hex `v1=` signature",
        });
    }
    Ok((timestamp, signatures))
}

/// How a Stripe event type maps onto the contract.
struct Mapping {
    event_name: &'static str,
    direction: Direction,
    actor: Actor,
    /// Where the amount is: `amount_refunded` (as a delta), `amount_received`, `amount`, none.
    amount: Amount,
}

enum Amount {
    RefundedDelta,
    Received,
    Plain,
    None,
}

fn map_event_type(event_type: &str, object: &Value) -> Option<Mapping> {
    let customer_action = |event_name, amount| Mapping {
        event_name,
        direction: Direction::Inbound,
        actor: Actor::Customer,
        amount,
    };
    let legacy_charge = || object.get("payment_intent").is_none_or(Value::is_null);
    let mapping = match event_type {
        "charge.refunded" => Mapping {
            event_name: "refund.created",
            direction: Direction::Outbound,
            actor: Actor::System,
            amount: Amount::RefundedDelta,
        },
        "payment_intent.succeeded" => customer_action("payment.succeeded", Amount::Received),
        "payment_intent.payment_failed" => customer_action("payment.failed", Amount::Plain),
        "charge.succeeded" if legacy_charge() => {
            customer_action("payment.succeeded", Amount::Plain)
        }
        "charge.failed" if legacy_charge() => customer_action("payment.failed", Amount::Plain),
        "charge.dispute.created" => customer_action("dispute.created", Amount::Plain),
        "customer.subscription.created" => customer_action("subscription.started", Amount::None),
        "customer.subscription.deleted" => {
            let requested = json_str(object, &["cancellation_details", "reason"])
                == Some("cancellation_requested");
            if requested {
                customer_action("subscription.canceled", Amount::None)
            } else {
                Mapping {
                    event_name: "subscription.canceled",
                    direction: Direction::NotApplicable,
                    actor: Actor::System,
                    amount: Amount::None,
                }
            }
        }
        _ => return None,
    };
    Some(mapping)
}

/// `stripe_customer:` when the object names a customer (id or expanded object), with the first
/// e-mail found as an extra handle; the e-mail alone otherwise.
fn customer(object: &Value) -> Option<(String, Option<String>)> {
    let customer_id = json_str(object, &["customer"])
        .or_else(|| json_str(object, &["customer", "id"]))
        .and_then(|id| handle("stripe_customer", id));
    let email = [
        &["receipt_email"][..],
        &["billing_details", "email"],
        &["customer_email"],
        &["customer_details", "email"],
        &["evidence", "customer_email_address"],
    ]
    .into_iter()
    .find_map(|path| json_str(object, path).and_then(email_handle));
    match customer_id {
        Some(id) => Some((id, email)),
        None => email.map(|email| (email, None)),
    }
}

fn money(mapping: &Mapping, object: &Value, previous: &Value) -> Option<lintas_schema::v1::Money> {
    let currency = json_str(object, &["currency"])?;
    let amount_at = |field: &str| object.get(field).and_then(Value::as_i64);
    let amount = match mapping.amount {
        Amount::RefundedDelta => {
            // `amount_refunded` is cumulative; the event's refund is what changed.
            let before = previous
                .get("amount_refunded")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            -(amount_at("amount_refunded")?.checked_sub(before)?)
        }
        Amount::Received => amount_at("amount_received").or_else(|| amount_at("amount"))?,
        Amount::Plain => amount_at("amount")?,
        Amount::None => return None,
    };
    from_minor(amount, stripe_exponent(currency), currency)
}

/// Digits after the decimal point in Stripe's amounts for `currency`: Stripe's zero- and
/// three-decimal lists; every other currency (IDR, HUF, ISK included) is in hundredths.
fn stripe_exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "JPY" | "KMF" | "KRW" | "MGA" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "JOD" | "KWD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_event(event: Value) -> Result<Parsed, AdapterError> {
        crate::parse_bytes(&Stripe, "application/json", event.to_string().as_bytes())
    }

    #[test]
    fn unmapped_event_types_are_ignored_with_their_id() {
        let parsed = parse_event(
            serde_json::json!({"id": "evt_1", "type": "customer.created",
            "created": 1741940035, "data": {"object": {"id": "cus_1"}}}),
        )
        .expect("parses");
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::Unmapped);
        assert_eq!(parsed.ignored[0].event_type, "customer.created");
        assert_eq!(parsed.ignored[0].source_event_id.as_deref(), Some("evt_1"));
    }

    #[test]
    fn an_event_without_type_is_malformed() {
        let refused = parse_event(serde_json::json!({"id": "evt_1"})).expect_err("no type");
        assert_eq!(refused.code(), "malformed_body");
    }

    #[test]
    fn a_payment_without_customer_or_email_is_unusable() {
        let parsed = parse_event(serde_json::json!({"id": "evt_2", "type": "payment_intent.succeeded",
            "created": 1741940035, "data": {"object": {"id": "pi_1", "amount": 100, "currency": "usd"}}}))
        .expect("parses");
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
    }

    #[test]
    fn an_amount_that_cannot_be_money_keeps_the_event_and_dead_letters_the_body() {
        for (id, amount, currency) in [
            ("evt_xyz", serde_json::json!(12900), "xyz"),
            ("evt_huge", serde_json::json!(1e30), "usd"),
        ] {
            let parsed = parse_event(serde_json::json!({"id": id,
                "type": "payment_intent.succeeded", "created": 1741940035,
                "data": {"object": {"id": "pi_1", "amount_received": amount,
                "currency": currency, "customer": "cus_1"}}}))
            .expect("parses");
            assert_eq!(parsed.events.len(), 1, "{id}");
            assert_eq!(parsed.events[0].money, None, "{id}");
            assert_eq!(
                parsed.unusable[0].reason,
                UnusableReason::UnusableMoney,
                "{id}"
            );
            assert_eq!(parsed.unusable[0].source_event_id.as_deref(), Some(id));
        }
    }

    #[test]
    fn a_successful_payment_is_an_inbound_customer_action() {
        let parsed = parse_event(
            serde_json::json!({"id": "evt_3", "type": "payment_intent.succeeded",
            "created": 1741940035, "data": {"object": {"id": "pi_1", "amount": 12900,
            "amount_received": 12900, "currency": "usd", "customer": "cus_1"}}}),
        )
        .expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.event_name, "payment.succeeded");
        assert_eq!(event.direction(), Direction::Inbound);
        assert_eq!(event.actor(), Actor::Customer);
        assert_eq!(event.money.as_ref().map(|m| m.amount_minor), Some(12900));
    }

    #[test]
    fn signature_headers_keep_every_v1_and_skip_other_schemes() {
        let (t, signatures) =
            parse_signature_header("t=1741940036, v1=00ff,v0=abcd,v1=zz,v1=0102").expect("valid");
        assert_eq!(t, "1741940036");
        assert_eq!(signatures, vec![vec![0x00, 0xff], vec![0x01, 0x02]]);
    }

    #[test]
    fn signature_headers_without_t_or_v1_are_invalid() {
        for header in ["v1=00ff", "t=1741940036", "t=,v1=00", "", "garbage"] {
            let refused = parse_signature_header(header).expect_err(header);
            assert_eq!(refused.code(), "signature_invalid", "{header}");
        }
    }

    #[test]
    fn partial_refunds_count_only_the_new_amount() {
        let object = serde_json::json!({"currency": "usd", "amount_refunded": 5000});
        let previous = serde_json::json!({"amount_refunded": 2000});
        let mapping = map_event_type("charge.refunded", &object).expect("mapped");
        let refunded = money(&mapping, &object, &previous).expect("money");
        assert_eq!(
            (refunded.amount_minor, refunded.currency.as_str()),
            (-3000, "USD")
        );
    }

    #[test]
    fn charge_events_of_a_payment_intent_are_not_mapped_twice() {
        let with_intent = serde_json::json!({"payment_intent": "pi_1"});
        assert!(map_event_type("charge.succeeded", &with_intent).is_none());
        let legacy = serde_json::json!({"payment_intent": null});
        assert!(map_event_type("charge.succeeded", &legacy).is_some());
    }

    #[test]
    fn idr_amounts_are_rescaled_from_stripe_hundredths() {
        let object = serde_json::json!({"currency": "idr", "amount_received": 34_900_000});
        let mapping = map_event_type("payment_intent.succeeded", &object).expect("mapped");
        let paid = money(&mapping, &object, &Value::Null).expect("money");
        assert_eq!(
            (paid.amount_minor, paid.currency.as_str()),
            (349_000, "IDR")
        );
    }

    #[test]
    fn the_email_stands_in_when_there_is_no_customer_object() {
        let object =
            serde_json::json!({"customer": null, "receipt_email": "Customer.A@example.com"});
        assert_eq!(
            customer(&object),
            Some(("email:customer.a@example.com".to_owned(), None))
        );
        let expanded = serde_json::json!({"customer": {"id": "cus_1"}, "billing_details": {"email": "a@example.com"}});
        assert_eq!(
            customer(&expanded),
            Some((
                "stripe_customer:cus_1".to_owned(),
                Some("email:a@example.com".to_owned())
            ))
        );
        assert_eq!(customer(&serde_json::json!({})), None);
    }
}
