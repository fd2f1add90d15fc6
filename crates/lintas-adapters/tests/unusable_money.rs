//! Authentic deliveries whose amount cannot be contract money (a currency ISO 4217 does not
//! list, an amount beyond 64 bits): the interaction is kept without money and the item is listed
//! as `unusable_money`, so the gateway dead-letters the raw body instead of dropping the amount.

use chrono::{TimeZone, Utc};
use http::Method;
use lintas_adapters::testing::OwnedRequest;
use lintas_adapters::{Parsed, UnusableReason};
use serde_json::json;

fn shopify_order(currency: &str, total_price: &str) -> Parsed {
    let body = json!({
        "id": 820_982_911_946_154_508_u64, "name": "#9999", "email": "jon@example.com",
        "created_at": "2025-03-14T22:07:33+07:00", "currency": currency,
        "total_price": total_price, "line_items": [{"title": "Kettle", "quantity": 1}],
        "customer": {"id": 115_310_627_314_723_954_u64}
    });
    let request = OwnedRequest::new(
        "acme",
        Method::POST,
        "https://ingest.example.com/v1/webhooks/acme/shopify",
        body.to_string().into_bytes(),
        Utc.timestamp_opt(1_741_964_855, 0)
            .single()
            .expect("valid instant"),
    )
    .with_header("Content-Type", "application/json")
    .and_then(|request| request.with_header("X-Shopify-Topic", "orders/create"))
    .expect("valid headers");
    let adapter = lintas_adapters::adapter("shopify").expect("registered");
    adapter.parse(&request.as_request()).expect("parses")
}

#[test]
fn a_shopify_order_in_an_unknown_currency_or_with_an_absurd_total_keeps_the_order() {
    for (currency, total) in [
        ("XYZ", "10.00"),
        ("USD", "1e30"),
        ("USD", "99999999999999999999"),
    ] {
        let parsed = shopify_order(currency, total);
        assert_eq!(parsed.events.len(), 1, "{currency} {total}");
        assert_eq!(parsed.events[0].money, None, "{currency} {total}");
        assert_eq!(parsed.unusable.len(), 1, "{currency} {total}");
        assert_eq!(parsed.unusable[0].reason, UnusableReason::UnusableMoney);
    }
}

#[test]
fn a_shopify_order_with_usable_money_has_no_unusable_item() {
    let parsed = shopify_order("IDR", "1275000.00");
    assert_eq!(
        parsed.events[0].money.as_ref().map(|m| m.amount_minor),
        Some(1_275_000)
    );
    assert!(parsed.unusable.is_empty());
}
