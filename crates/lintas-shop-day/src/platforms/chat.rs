//! Twilio SMS (a form signed with HMAC-SHA1 over the URL and parameters) and Telegram (a secret
//! token header).

use lintas_adapters::testing::twilio_signature;
use serde_json::json;

use super::{BuildContext, Headers, Item, expected, header, json_bytes, occurred};
use crate::day::Source;
use crate::error::ShopDayError;
use crate::expect::ExpectedEvent;

type Built = (Headers, Vec<u8>, ExpectedEvent);

/// An inbound SMS, as Twilio posts it to the messaging webhook.
pub(super) fn twilio(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let shop = &ctx.day.shop;
    let customer = item.customer;
    let text = item.text()?;
    let sid = format!("SM{:032x}", 0x5e0d_a700_u64 * 1000 + item.number as u64);
    let shop_phone = format!("+{}", shop.phone);
    let fields: [(&str, &str); 12] = [
        ("ToCountry", "US"),
        ("SmsMessageSid", &sid),
        ("NumMedia", "0"),
        ("SmsSid", &sid),
        ("SmsStatus", "received"),
        ("Body", text),
        ("To", &shop_phone),
        ("NumSegments", "1"),
        ("MessageSid", &sid),
        ("AccountSid", &shop.twilio_account_sid),
        ("From", &customer.phone),
        ("ApiVersion", "2010-04-01"),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
        .into_bytes();
    let path = ctx.webhook_path(Source::Twilio);
    let url = format!("{}{path}", ctx.public_base);
    let signature = twilio_signature(ctx.secret(Source::Twilio, "auth_token")?, &url, &body)
        .map_err(|error| ShopDayError::Sign(error.to_string()))?;
    let headers = vec![
        header("Content-Type", "application/x-www-form-urlencoded"),
        header("User-Agent", "TwilioProxy/1.1"),
        header("X-Twilio-Signature", signature),
    ];
    let handle = format!("phone:{}", customer.phone);
    let mut event = expected(ctx, item, sid, "sms", "message.received", handle.clone());
    // Twilio sends no time: the gateway's receive time is `occurred_at`.
    event.occurred_at_ms = None;
    event.conversation_id = Some(handle);
    event.text = Some(text.to_owned());
    event.language = Some(customer.language.clone());
    Ok((headers, body, event))
}

/// A customer's message to the shop's Telegram bot.
pub(super) fn telegram(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let customer = item.customer;
    let text = item.text()?;
    let user_id = customer.telegram_id.unwrap_or_default();
    let update_id = 730_000_000 + item.number as u64;
    let mut from = json!({
        "id": user_id,
        "is_bot": false,
        "first_name": customer.first_name(),
        "language_code": customer.language,
    });
    if let Some(username) = &customer.telegram_username {
        from["username"] = json!(username);
    }
    let body = json!({
        "update_id": update_id,
        "message": {
            "message_id": 4_000 + item.number,
            "from": from,
            "chat": {"id": user_id, "first_name": customer.first_name(), "type": "private"},
            "date": occurred(ctx, item).timestamp(),
            "text": text,
        },
    });
    let headers = vec![
        header("Content-Type", "application/json"),
        header(
            "X-Telegram-Bot-Api-Secret-Token",
            ctx.secret(Source::Telegram, "secret_token")?,
        ),
    ];
    let handle = format!("telegram_user:{user_id}");
    let mut event = expected(
        ctx,
        item,
        update_id.to_string(),
        "messaging",
        "message.received",
        handle,
    );
    event.conversation_id = Some(format!("telegram_chat:{user_id}"));
    event.text = Some(text.to_owned());
    event.language = Some(customer.language.clone());
    Ok((headers, json_bytes(&body), event))
}
