//! Meta Graph webhooks: WhatsApp Cloud API, Messenger and Instagram, signed with
//! `X-Hub-Signature-256` (HMAC-SHA256 of the body with the app secret).

use lintas_adapters::testing::meta_signature;
use serde_json::json;

use super::{BuildContext, Headers, Item, expected, header, json_bytes, occurred};
use crate::day::{Kind, Source};
use crate::error::ShopDayError;
use crate::expect::ExpectedEvent;

type Built = (Headers, Vec<u8>, ExpectedEvent);

fn signed(
    ctx: &BuildContext<'_>,
    source: Source,
    body: Vec<u8>,
) -> Result<(Headers, Vec<u8>), ShopDayError> {
    let secret = ctx.secret(source, "app_secret")?;
    let headers = vec![
        header("Content-Type", "application/json"),
        header("User-Agent", "facebookexternalua"),
        header("X-Hub-Signature-256", meta_signature(secret, &body)),
    ];
    Ok((headers, body))
}

/// A customer's WhatsApp text message.
pub(super) fn whatsapp(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let shop = &ctx.day.shop;
    let customer = item.customer;
    let text = item.text()?;
    let wamid = format!(
        "wamid.HBgL{}FQIAEhgUM0VCMDQ{:06}",
        customer.wa_id(),
        item.number
    );
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": shop.whatsapp_business_account_id,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": shop.phone,
                        "phone_number_id": shop.whatsapp_phone_number_id,
                    },
                    "contacts": [{"profile": {"name": customer.name}, "wa_id": customer.wa_id()}],
                    "messages": [{
                        "from": customer.wa_id(),
                        "id": wamid,
                        "timestamp": occurred(ctx, item).timestamp().to_string(),
                        "type": "text",
                        "text": {"body": text},
                    }],
                },
            }],
        }],
    });
    let (headers, body) = signed(ctx, Source::Whatsapp, json_bytes(&body))?;
    let handle = format!("whatsapp:{}", customer.wa_id());
    let mut event = expected(
        ctx,
        item,
        wamid,
        "messaging",
        "message.received",
        handle.clone(),
    );
    event.conversation_id = Some(handle);
    event.text = Some(text.to_owned());
    event.language = Some(customer.language.clone());
    Ok((headers, body, event))
}

/// A Messenger or Instagram message from the customer, or the business's reply (an echo).
pub(super) fn messenger(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let shop = &ctx.day.shop;
    let customer = item.customer;
    let source = item.step.source;
    let (object, account, namespace, scoped_id) = if source == Source::Instagram {
        let id = customer.igsid.clone().unwrap_or_default();
        ("instagram", &shop.instagram_account_id, "igsid", id)
    } else {
        let id = customer.psid.clone().unwrap_or_default();
        ("page", &shop.facebook_page_id, "psid", id)
    };
    let text = item.text()?;
    let echo = item.step.kind == Kind::Reply;
    let at_ms = occurred(ctx, item).timestamp_millis();
    let mid = format!("m_{object}{:06}{scoped_id}", item.number);
    let (sender, recipient, message) = if echo {
        (
            account.clone(),
            scoped_id.clone(),
            json!({"mid": mid, "is_echo": true, "app_id": shop.meta_app_id.parse::<u64>().unwrap_or(0), "text": text}),
        )
    } else {
        (
            scoped_id.clone(),
            account.clone(),
            json!({"mid": mid, "text": text}),
        )
    };
    let body = json!({
        "object": object,
        "entry": [{
            "id": account,
            "time": at_ms,
            "messaging": [{
                "sender": {"id": sender},
                "recipient": {"id": recipient},
                "timestamp": at_ms,
                "message": message,
            }],
        }],
    });
    let (headers, body) = signed(ctx, source, json_bytes(&body))?;
    let handle = format!("{namespace}:{scoped_id}");
    let event_name = if echo {
        "message.sent"
    } else {
        "message.received"
    };
    let mut event = expected(ctx, item, mid, "social", event_name, handle.clone());
    if echo {
        event.direction = "outbound".into();
        event.actor = "agent".into();
    }
    event.conversation_id = Some(handle);
    event.text = Some(text.to_owned());
    event.language = Some(customer.language.clone());
    Ok((headers, body, event))
}
