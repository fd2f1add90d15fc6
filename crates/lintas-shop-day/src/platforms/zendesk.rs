//! Zendesk webhooks: ticket events (`zen:event-type:*`) and the CSAT trigger's custom body, signed
//! with `X-Zendesk-Webhook-Signature` over the timestamp header and the body.

use chrono::SecondsFormat;
use lintas_adapters::testing::zendesk_signature;
use serde_json::json;

use super::{BuildContext, Headers, Item, expected, header, json_bytes, occurred, rating};
use crate::day::{Kind, Source};
use crate::error::ShopDayError;
use crate::expect::ExpectedEvent;

type Built = (Headers, Vec<u8>, ExpectedEvent);

/// The shop's one support agent in Zendesk.
const AGENT_USER_ID: u64 = 9_100_000_000_001;

/// A ticket opened by the customer, a public comment (customer or agent), or a CSAT rating.
pub(super) fn zendesk(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let customer = item.customer;
    let requester = customer.zendesk_id.unwrap_or_default();
    let ticket = item.step.ticket.unwrap_or_default();
    let at = occurred(ctx, item).to_rfc3339_opts(SecondsFormat::Secs, true);
    let subject = item.step.subject.clone().unwrap_or_default();
    let text = item.step.text.clone().unwrap_or_default();
    let (body, mut event) = if item.step.kind == Kind::Csat {
        let score = item.step.score.unwrap_or_default();
        let body = json!({"ticket": {
            "id": ticket.to_string(),
            "subject": subject,
            "requester_id": requester.to_string(),
            "requester_email": customer.email,
            "satisfaction_rating": if score >= 1 { "Good" } else { "Bad" },
            "satisfaction_comment": text,
            "updated_at": at,
        }});
        let handle = format!("email:{}", customer.email.to_ascii_lowercase());
        let source_event_id = format!("ticket:{ticket}/satisfaction/{at}");
        let mut event = expected(ctx, item, source_event_id, "crm", "survey.answered", handle);
        event.rating = Some(rating("csat", u8::from(score >= 1)));
        (body, event)
    } else {
        let event_id = format!("7c1e2b3a-5d4f-4e6a-9b8c-{:012}", item.number);
        let detail = json!({
            "actor_id": requester.to_string(),
            "assignee_id": AGENT_USER_ID.to_string(),
            "brand_id": "9100000000100",
            "created_at": at,
            "description": if item.step.kind == Kind::Ticket { text.clone() } else { String::new() },
            "id": ticket.to_string(),
            "is_public": true,
            "priority": "NORMAL",
            "requester_id": requester.to_string(),
            "status": if item.step.kind == Kind::Ticket { "NEW" } else { "OPEN" },
            "subject": subject,
            "submitter_id": requester.to_string(),
            "tags": [],
            "type": "PROBLEM",
            "updated_at": at,
            "via": {"channel": "web_form"},
        });
        let (event_type, extra, event_name) = match item.step.kind {
            Kind::Ticket => ("ticket.created", json!({}), "ticket.created"),
            kind => {
                let staff = kind == Kind::Reply;
                let (author_id, author_name) = if staff {
                    (AGENT_USER_ID, "Rudi (Kopi Senja)".to_owned())
                } else {
                    (requester, customer.name.clone())
                };
                let comment = json!({"comment": {
                    "id": (8_800_000_000 + item.number as u64).to_string(),
                    "body": text,
                    "is_public": true,
                    "author": {"id": author_id.to_string(), "is_staff": staff, "name": author_name},
                }});
                let name = if staff {
                    "message.sent"
                } else {
                    "message.received"
                };
                ("ticket.comment_added", comment, name)
            }
        };
        let body = json!({
            "type": format!("zen:event-type:{event_type}"),
            "account_id": ctx.day.shop.zendesk_account_id,
            "id": event_id,
            "time": at,
            "zendesk_event_version": "2022-11-06",
            "subject": format!("zen:ticket:{ticket}"),
            "detail": detail,
            "event": extra,
        });
        let handle = format!("zendesk_user:{requester}");
        let mut event = expected(ctx, item, event_id, "crm", event_name, handle);
        if item.step.kind == Kind::Reply {
            event.direction = "outbound".into();
            event.actor = "agent".into();
            event.agent_id = Some(format!("zendesk_user:{AGENT_USER_ID}"));
        }
        event.conversation_id = Some(format!("zendesk_ticket:{ticket}"));
        (body, event)
    };
    event.text = Some(text);
    if !event.text.as_deref().unwrap_or_default().is_empty() {
        event.language = Some(customer.language.clone());
    }
    let body = json_bytes(&body);
    let timestamp = ctx.signed_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let signature = zendesk_signature(
        ctx.secret(Source::Zendesk, "signing_secret")?,
        &timestamp,
        &body,
    );
    let headers = vec![
        header("Content-Type", "application/json"),
        header("User-Agent", "Zendesk Webhook"),
        header(
            "X-Zendesk-Account-Id",
            ctx.day.shop.zendesk_account_id.to_string(),
        ),
        header("X-Zendesk-Webhook-Signature", signature),
        header("X-Zendesk-Webhook-Signature-Timestamp", timestamp),
    ];
    Ok((headers, body, event))
}
