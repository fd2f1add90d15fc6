//! `POST /v1/events`: what the shop's own systems report, Segment-style, in batches: web and
//! e-mail analytics, orders from the backend, reviews, and the agents' replies from the shop's
//! inbox tool (which the chat platforms' webhooks do not carry).

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::{BuildContext, Item, Prepared, expected, header, json_bytes, money, occurred, rating};
use crate::day::{Customer, Day, Kind, Source, Step};
use crate::error::ShopDayError;
use crate::expect::ExpectedEvent;

/// `properties.channel` values the replay uses, and the contract channel each becomes.
const CHANNELS: &[(&str, &str)] = &[
    ("web", "web"),
    ("email", "email"),
    ("whatsapp", "messaging"),
    ("telegram", "messaging"),
    ("sms", "sms"),
    ("online_store", "commerce"),
    ("commerce", "commerce"),
];

/// Segment spec names and the verbs the gateway maps them to (its documented table).
const SEGMENT_EVENTS: &[(&str, &str)] = &[
    ("Order Completed", "order.created"),
    ("Checkout Started", "checkout.started"),
    ("Product Viewed", "product.viewed"),
    ("Product Reviewed", "review.submitted"),
    ("Email Opened", "email.opened"),
    ("Email Link Clicked", "email.clicked"),
];

/// Checks an API step's fields.
pub(super) fn check(day: &Day, customer: &Customer, step: &Step) -> Result<(), String> {
    let channel = step
        .channel
        .as_deref()
        .ok_or("channel is required for api steps")?;
    if !CHANNELS.iter().any(|(name, _)| *name == channel) {
        return Err(format!("channel {channel:?} is not one of {CHANNELS:?}"));
    }
    match step.kind {
        Kind::Track => {
            let event = step.event.as_deref().ok_or("event is required for track")?;
            if event_name(event).is_none() {
                return Err(format!(
                    "event {event:?}: use a Segment spec name or object.verb"
                ));
            }
        }
        Kind::Reply => {
            if !["whatsapp", "sms", "email", "telegram"].contains(&channel) {
                return Err("replies go out on whatsapp, sms, email or telegram".into());
            }
            if step.agent.is_none() {
                return Err("agent is required for replies".into());
            }
            if channel == "email" {
                let Some(earlier) = step.in_reply_to_step else {
                    return Err("e-mail replies need in_reply_to_step".into());
                };
                if earlier == 0 || earlier > day.steps.len() {
                    return Err(format!("in_reply_to_step {earlier} is not a step"));
                }
            }
            if channel == "telegram" && customer.telegram_id.is_none() {
                return Err(format!("customer {} has no telegram id", customer.key));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The normalized verb of a `track` event name.
fn event_name(event: &str) -> Option<String> {
    if let Some((_, verb)) = SEGMENT_EVENTS.iter().find(|(name, _)| *name == event) {
        return Some((*verb).to_owned());
    }
    let dotted = event.contains('.')
        && event.split('.').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        });
    dotted.then(|| event.to_owned())
}

/// One batch of consecutive API steps.
pub(crate) fn build_batch(
    ctx: &BuildContext<'_>,
    items: &[Item<'_>],
) -> Result<Prepared, ShopDayError> {
    let mut events = Vec::with_capacity(items.len());
    let mut expectations = Vec::with_capacity(items.len());
    for item in items {
        let (event, expectation) = api_event(ctx, item)?;
        events.push(event);
        expectations.push(expectation);
    }
    let body = json_bytes(&json!({"batch": events}));
    Ok(Prepared {
        steps: items.iter().map(|item| item.number).collect(),
        source: Source::Api,
        path: "/v1/events".to_owned(),
        headers: vec![
            header("Content-Type", "application/json"),
            header("Authorization", format!("Bearer {}", ctx.secrets.write_key)),
        ],
        body,
        expected: expectations,
    })
}

fn api_event(
    ctx: &BuildContext<'_>,
    item: &Item<'_>,
) -> Result<(Value, ExpectedEvent), ShopDayError> {
    let step = item.step;
    let customer = item.customer;
    let channel_name = step.channel.as_deref().unwrap_or("web");
    let channel = CHANNELS
        .iter()
        .find(|(name, _)| *name == channel_name)
        .map_or("web", |(_, contract)| *contract);
    let message_id = format!("kopisenja-{:04}-{}", item.number, customer.key);
    let timestamp = occurred(ctx, item).to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut user = step
        .user
        .clone()
        .unwrap_or_else(|| format!("email:{}", customer.email.to_ascii_lowercase()));
    let mut properties = json!({"channel": channel_name});
    let mut conversation = None;
    let (call_type, event_field, name) = match step.kind {
        Kind::Page => ("page", None, "page.viewed".to_owned()),
        Kind::Order => {
            properties["order_id"] = json!(step.order.map(|order| order.to_string()));
            (
                "track",
                Some("Order Completed".to_owned()),
                "order.created".to_owned(),
            )
        }
        Kind::Reply => {
            let (handle, thread) = reply_thread(ctx, customer, step, channel_name);
            user = handle;
            properties["direction"] = json!("outbound");
            properties["actor"] = json!("agent");
            properties["agent_id"] = json!(step.agent);
            properties["conversation_id"] = json!(thread);
            conversation = Some(thread);
            (
                "track",
                Some("message.sent".to_owned()),
                "message.sent".to_owned(),
            )
        }
        _ => {
            let event = step.event.clone().unwrap_or_default();
            let name = event_name(&event).unwrap_or_default();
            ("track", Some(event), name)
        }
    };
    if let Some(text) = &step.text {
        properties["text"] = json!(text);
        properties["language"] = json!(customer.language);
    }
    if let Some(amount) = step.amount {
        properties["amount"] = json!(amount.to_string());
        properties["currency"] = json!(ctx.day.shop.currency);
    }
    if let Some(score) = step.score {
        properties["rating"] = json!(score);
        properties["rating_scale"] = json!("stars");
    }
    let mut call = json!({
        "type": call_type,
        "userId": user,
        "messageId": message_id,
        "timestamp": timestamp,
        "properties": properties,
        "context": {"traits": {"email": customer.email}, "locale": customer.language},
    });
    if let Some(event) = event_field {
        call["event"] = json!(event);
    } else {
        call["name"] = json!("Kopi Senja - Home");
    }
    let mut expectation = expected(ctx, item, message_id, channel, &name, user);
    if step.kind == Kind::Reply {
        expectation.direction = "outbound".into();
        expectation.actor = "agent".into();
        expectation.agent_id = step.agent.clone();
    }
    expectation.conversation_id = conversation;
    expectation.money = step.amount.map(|amount| money(ctx, amount));
    expectation.rating = step.score.map(|score| rating("stars", score));
    expectation.text = Some(step.text.clone().unwrap_or_default());
    expectation.language = step.text.as_ref().map(|_| customer.language.clone());
    Ok((call, expectation))
}

/// The customer handle and conversation an agent's reply on `channel` belongs to: the same
/// handle and thread the platform's webhook gave the customer's message, so both land in one
/// conversation (first-response times) and one Kafka partition (order).
fn reply_thread(
    ctx: &BuildContext<'_>,
    customer: &Customer,
    step: &Step,
    channel: &str,
) -> (String, String) {
    match channel {
        "whatsapp" => {
            let handle = format!("whatsapp:{}", customer.wa_id());
            (handle.clone(), handle)
        }
        "sms" => {
            let handle = format!("phone:{}", customer.phone);
            (handle.clone(), handle)
        }
        "telegram" => {
            let id = customer.telegram_id.unwrap_or_default();
            (format!("telegram_user:{id}"), format!("telegram_chat:{id}"))
        }
        _ => {
            let earlier = step.in_reply_to_step.unwrap_or(1);
            let original = ctx
                .day
                .steps
                .get(earlier - 1)
                .and_then(|step| ctx.day.customer(&step.customer))
                .unwrap_or(customer);
            let thread = format!(
                "email_thread:{}",
                super::email::message_id(earlier, &original.email)
            );
            (
                format!("email:{}", customer.email.to_ascii_lowercase()),
                thread,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_and_dotted_verbs_map_others_are_refused() {
        assert_eq!(
            event_name("Order Completed").as_deref(),
            Some("order.created")
        );
        assert_eq!(
            event_name("newsletter.subscribed").as_deref(),
            Some("newsletter.subscribed")
        );
        assert_eq!(event_name("Signed Up"), None);
        assert_eq!(event_name("a..b"), None);
    }
}
