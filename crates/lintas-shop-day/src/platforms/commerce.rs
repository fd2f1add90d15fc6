//! Orders, payments and surveys: Shopify (`X-Shopify-Hmac-Sha256`), Stripe (`Stripe-Signature`
//! with a signed timestamp) and Typeform (`Typeform-Signature`).

use chrono::{FixedOffset, SecondsFormat};
use lintas_adapters::signature::{encode_base64, hmac_sha256};
use lintas_adapters::testing::stripe_signature;
use serde_json::json;

use super::{BuildContext, Headers, Item, expected, header, json_bytes, money, occurred, rating};
use crate::day::{Kind, Source};
use crate::error::ShopDayError;
use crate::expect::ExpectedEvent;

type Built = (Headers, Vec<u8>, ExpectedEvent);

/// Shopify order ids of the day: this base plus the order number.
const SHOPIFY_ORDER_ID_BASE: u64 = 5_990_000_000_000;

/// `2 x Kopi Gayo 250 g` -> (2, `Kopi Gayo 250 g`).
fn line_item(text: &str) -> (u64, String) {
    match text.split_once(" x ") {
        Some((quantity, title)) => (
            quantity.trim().parse().unwrap_or(1),
            title.trim().to_owned(),
        ),
        None => (1, text.trim().to_owned()),
    }
}

/// `1275000` -> `1,275,000`.
fn grouped(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A Shopify `orders/create` webhook.
pub(super) fn shopify(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let shop = &ctx.day.shop;
    let customer = item.customer;
    let number = item.order()?;
    let amount = item.amount()?;
    let order_id = SHOPIFY_ORDER_ID_BASE + number;
    let wib = FixedOffset::east_opt(7 * 3600);
    let at = occurred(ctx, item);
    let created = match wib {
        Some(wib) => at
            .with_timezone(&wib)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        None => at.to_rfc3339_opts(SecondsFormat::Secs, true),
    };
    let line_items: Vec<_> = item
        .step
        .items
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let (quantity, title) = line_item(text);
            json!({"id": order_id * 10 + index as u64, "title": title, "name": title, "quantity": quantity})
        })
        .collect();
    let (first, last) = customer
        .name
        .split_once(' ')
        .unwrap_or((&customer.name, ""));
    let total = format!("{amount}.00");
    let body = json!({
        "id": order_id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{order_id}"),
        "buyer_accepts_marketing": true,
        "cancel_reason": null,
        "cancelled_at": null,
        "contact_email": customer.email,
        "created_at": created,
        "currency": shop.currency,
        "current_total_price": total,
        "customer_locale": customer.language,
        "email": customer.email,
        "financial_status": "pending",
        "fulfillment_status": null,
        "landing_site": "/collections/kopi",
        "name": format!("#{number}"),
        "note": null,
        "note_attributes": [],
        "number": number - 1000,
        "order_number": number,
        "phone": customer.phone,
        "presentment_currency": shop.currency,
        "processed_at": created,
        "source_name": "web",
        "subtotal_price": total,
        "test": false,
        "total_price": total,
        "updated_at": created,
        "line_items": line_items,
        "customer": {
            "id": customer.shopify_id,
            "email": customer.email,
            "first_name": first,
            "last_name": last,
            "phone": customer.phone,
            "currency": shop.currency,
            "state": "enabled",
        },
    });
    let body = json_bytes(&body);
    let secret = ctx.secret(Source::Shopify, "client_secret")?;
    let signature = encode_base64(&hmac_sha256(secret.as_bytes(), &[&body]));
    let headers = vec![
        header("Content-Type", "application/json"),
        header("X-Shopify-Topic", "orders/create"),
        header("X-Shopify-Hmac-Sha256", signature),
        header("X-Shopify-Shop-Domain", shop.shopify_domain.clone()),
        header("X-Shopify-API-Version", "2025-01"),
        header(
            "X-Shopify-Webhook-Id",
            format!("b54557e4-bdd9-4b37-8a5f-{:012}", item.number),
        ),
        header(
            "X-Shopify-Event-Id",
            format!("98880550-7158-44d4-b7cd-{:012}", item.number),
        ),
    ];
    let handle = format!(
        "shopify_customer:{}",
        customer.shopify_id.unwrap_or_default()
    );
    let source_event_id = format!("orders/create:{order_id}");
    let mut event = expected(
        ctx,
        item,
        source_event_id,
        "commerce",
        "order.created",
        handle,
    );
    event.conversation_id = Some(format!("shopify_order:{order_id}"));
    event.money = Some(money(ctx, amount));
    event.language = Some(customer.language.clone());
    let items: Vec<String> = item
        .step
        .items
        .iter()
        .map(|text| {
            let (quantity, title) = line_item(text);
            format!("{quantity} x {title}")
        })
        .collect();
    event.text = Some(format!(
        "Order #{number} ({}, {} {})",
        items.join(", "),
        shop.currency.to_ascii_uppercase(),
        grouped(amount)
    ));
    Ok((headers, body, event))
}

/// A Stripe event: a payment intent that succeeded or failed, a refunded charge, or a new
/// subscription.
pub(super) fn stripe(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let shop = &ctx.day.shop;
    let customer = item.customer;
    let stripe_customer = customer.stripe_id.clone().unwrap_or_default();
    let currency = shop.currency.to_ascii_lowercase();
    let evt = format!("evt_3KsNja{:04}ShopDay{}", item.number, customer.key);
    let object_id = format!("{:04}{}", item.number, customer.key);
    let description = item.step.order.map(|order| format!("Order #{order}"));
    let metadata = match item.step.order {
        Some(order) => json!({"order_id": order.to_string()}),
        None => json!({}),
    };
    // Stripe counts IDR in hundredths (two-decimal currency in its API); the contract keeps
    // whole rupiah.
    let stripe_amount = |amount: i64| amount * 100;
    let (event_type, object, event_name, amount) = match item.step.kind {
        Kind::Payment | Kind::PaymentFailed => {
            let amount = item.amount()?;
            let failed = item.step.kind == Kind::PaymentFailed;
            let object = json!({
                "id": format!("pi_{object_id}"),
                "object": "payment_intent",
                "amount": stripe_amount(amount),
                "amount_received": if failed { 0 } else { stripe_amount(amount) },
                "currency": currency,
                "customer": stripe_customer,
                "description": description,
                "receipt_email": customer.email,
                "metadata": metadata,
                "status": if failed { "requires_payment_method" } else { "succeeded" },
                "last_payment_error": if failed { json!({"code": "card_declined", "decline_code": "insufficient_funds"}) } else { json!(null) },
            });
            if failed {
                (
                    "payment_intent.payment_failed",
                    object,
                    "payment.failed",
                    Some(amount),
                )
            } else {
                (
                    "payment_intent.succeeded",
                    object,
                    "payment.succeeded",
                    Some(amount),
                )
            }
        }
        Kind::Refund => {
            let amount = item.amount()?;
            let object = json!({
                "id": format!("ch_{object_id}"),
                "object": "charge",
                "amount": stripe_amount(amount),
                "amount_captured": stripe_amount(amount),
                "amount_refunded": stripe_amount(amount),
                "currency": currency,
                "customer": stripe_customer,
                "description": description,
                "metadata": metadata,
                "paid": true,
                "payment_intent": format!("pi_refunded{object_id}"),
                "receipt_email": customer.email,
                "refunded": true,
                "status": "succeeded",
            });
            ("charge.refunded", object, "refund.created", Some(-amount))
        }
        _ => {
            let object = json!({
                "id": format!("sub_{object_id}"),
                "object": "subscription",
                "customer": stripe_customer,
                "status": "active",
                "currency": currency,
                "metadata": metadata,
                "items": {"object": "list", "data": [{"price": {"id": "price_toraja_1kg_monthly", "recurring": {"interval": "month"}}}]},
            });
            (
                "customer.subscription.created",
                object,
                "subscription.started",
                None,
            )
        }
    };
    let mut data = json!({"object": object});
    if event_type == "charge.refunded" {
        data["previous_attributes"] = json!({"amount_refunded": 0, "refunded": false});
    }
    let body = json!({
        "id": evt,
        "object": "event",
        "api_version": "2024-06-20",
        "created": occurred(ctx, item).timestamp(),
        "data": data,
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": event_type,
    });
    let body = json_bytes(&body);
    let signature = stripe_signature(
        ctx.secret(Source::Stripe, "endpoint_secret")?,
        ctx.signed_at.timestamp(),
        &body,
    );
    let headers = vec![
        header("Content-Type", "application/json; charset=utf-8"),
        header(
            "User-Agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        ),
        header("Stripe-Signature", signature),
    ];
    let handle = format!("stripe_customer:{stripe_customer}");
    let mut event = expected(ctx, item, evt, "commerce", event_name, handle);
    if event_type == "charge.refunded" {
        event.direction = "outbound".into();
        event.actor = "system".into();
    }
    event.money = amount.map(|amount| money(ctx, amount));
    event.text = Some(String::new());
    Ok((headers, body, event))
}

/// A Typeform NPS response (score and reason), the customer named by a hidden `email` field.
pub(super) fn typeform(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let shop = &ctx.day.shop;
    let customer = item.customer;
    let text = item.text()?;
    let score = item.step.score.unwrap_or_default();
    let token = format!("shopday{:04}{}x7k2m9", item.number, customer.key);
    let submitted = occurred(ctx, item).to_rfc3339_opts(SecondsFormat::Secs, true);
    let (question, reason_title) = if customer.language == "id" {
        (
            "Seberapa besar kemungkinan Anda merekomendasikan Kopi Senja ke teman?",
            "Apa alasan utama skor Anda?",
        )
    } else {
        (
            "How likely are you to recommend Kopi Senja to a friend?",
            "What is the main reason for your score?",
        )
    };
    let body = json!({
        "event_id": format!("01JSHOPDAY{:04}{}", item.number, customer.key.to_ascii_uppercase()),
        "event_type": "form_response",
        "form_response": {
            "form_id": shop.typeform_form_id,
            "token": token,
            "landed_at": submitted,
            "submitted_at": submitted,
            "hidden": {"email": customer.email},
            "definition": {
                "id": shop.typeform_form_id,
                "title": "Kopi Senja NPS",
                "fields": [
                    {"id": "nps01", "ref": "nps_score", "type": "nps", "title": question, "properties": {}},
                    {"id": "why01", "ref": "nps_reason", "type": "long_text", "title": reason_title, "properties": {}},
                ],
            },
            "answers": [
                {"type": "number", "number": score, "field": {"id": "nps01", "type": "nps", "ref": "nps_score"}},
                {"type": "text", "text": text, "field": {"id": "why01", "type": "long_text", "ref": "nps_reason"}},
            ],
        },
    });
    let body = json_bytes(&body);
    let secret = ctx.secret(Source::Typeform, "webhook_secret")?;
    let signature = format!(
        "sha256={}",
        encode_base64(&hmac_sha256(secret.as_bytes(), &[&body]))
    );
    let headers = vec![
        header("Content-Type", "application/json"),
        header("User-Agent", "Typeform Webhooks"),
        header("Typeform-Signature", signature),
    ];
    let handle = format!("email:{}", customer.email.to_ascii_lowercase());
    let mut event = expected(ctx, item, token, "survey", "survey.answered", handle);
    event.rating = Some(rating("nps", score));
    event.text = Some(format!("NPS {score}/10 - {text}"));
    event.language = Some(customer.language.clone());
    Ok((headers, body, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(950), "950");
        assert_eq!(grouped(95_000), "95,000");
        assert_eq!(grouped(1_275_000), "1,275,000");
    }

    #[test]
    fn line_items_read_quantity_and_title() {
        assert_eq!(
            line_item("2 x Kopi Gayo 250 g"),
            (2, "Kopi Gayo 250 g".to_owned())
        );
        assert_eq!(
            line_item("Drip Bag Sampler"),
            (1, "Drip Bag Sampler".to_owned())
        );
    }
}
