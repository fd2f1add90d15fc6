//! `zendesk`: Zendesk webhooks, both kinds: event subscriptions (`zen:event-type:*` bodies) and
//! trigger-connected webhooks whose JSON body the admin writes (used here for CSAT ratings).
//!
//! - Authenticity: `X-Zendesk-Webhook-Signature` = base64 HMAC-SHA256 of
//!   `X-Zendesk-Webhook-Signature-Timestamp` followed by the raw body (no separator), keyed with
//!   the webhook's `signing_secret`. The signature is checked first, then the timestamp (ISO 8601)
//!   against the receive time with [`VerifyPolicy::timestamp_tolerance`], in both directions.
//! - Content type: `application/json` only. Zendesk lets a trigger webhook send XML or a form;
//!   those are refused with 415, so configure the webhook's request format as JSON.
//! - Answer: 200 with an empty body.
//! - Mapping of event webhooks (`type`; `detail` is the ticket, `event` what happened):
//!
//! | `type` | result |
//! | --- | --- |
//! | `zen:event-type:ticket.comment_added`, public, author `is_staff` | `message.sent`, channel CRM, outbound, agent; `agent_id` = `zendesk_user:<author.id>` |
//! | `zen:event-type:ticket.comment_added`, public, author not staff | `message.received`, channel CRM, inbound, customer |
//! | `zen:event-type:ticket.comment_added`, private (`is_public` not `true`) | ignored, state change (an internal note is no customer interaction) |
//! | `zen:event-type:ticket.created`, submitted by the requester | `ticket.created`, inbound, customer; text = `detail.description` |
//! | `zen:event-type:ticket.created`, submitted by an agent on the customer's behalf | `ticket.created`, outbound, agent |
//! | other `zen:event-type:ticket.*` (status, priority, tags...) | ignored, state change |
//! | any other `type` (users, organizations, help center) | ignored, unmapped |
//! | an event whose ticket has no `requester_id` | unusable: no customer identifier |
//!
//! - Fields of event webhooks: `source_event_id` = top-level `id` (the same on redelivery);
//!   `occurred_at` = top-level `time` (nanoseconds truncated to microseconds), else
//!   `detail.updated_at`; `customer_id` = `zendesk_user:<detail.requester_id>`; `conversation_id`
//!   = `zendesk_ticket:<detail.id>`; `subject` = `detail.subject`; ticket status, priority, type,
//!   tags, channel (`via`), brand and comment id go to `attributes`.
//! - Trigger webhooks carry no event type, and their field names are whatever the admin typed.
//!   A body with a `ticket` object holding a `satisfaction_rating` becomes `survey.answered`
//!   (channel CRM, inbound, customer) with a CSAT [`Rating`]; any other custom body is ignored,
//!   unmapped. The trigger's body must follow this template (fired on "Satisfaction changed"):
//!
//! ```json
//! {"ticket": {"id": "{{ticket.id}}", "subject": "{{ticket.title}}",
//!   "requester_id": "{{ticket.requester.id}}", "requester_email": "{{ticket.requester.email}}",
//!   "satisfaction_rating": "{{satisfaction.current_rating}}",
//!   "satisfaction_comment": "{{satisfaction.current_comment}}",
//!   "updated_at": "{{ticket.updated_at_with_timestamp}}"}}
//! ```
//!
//! - Fields of CSAT trigger webhooks: `requester: {id, email}` and the API's
//!   `satisfaction_rating: {score, comment}` objects are read too. Rating: `Good` = 1 and `Bad` = 0 on a CSAT scale of 0 to 1; a number from 1 to 5
//!   (Zendesk's newer CSAT surveys) on a CSAT scale of 1 to 5; `Offered`/`Unoffered` (a survey
//!   sent, not answered) are ignored as state changes. `text` = the rating comment;
//!   `customer_id` = `email:<requester email>` (the requester's `zendesk_user:` as extra handle),
//!   else `zendesk_user:`; `occurred_at` = `updated_at`; `source_event_id` =
//!   `ticket:<id>/satisfaction/<updated_at>` (a custom body has no event id; the same rating
//!   redelivered keeps its `updated_at`, a changed rating gets a new one).
//!
//! Secrets: `signing_secret` (the webhook's signing secret).
//! Docs: <https://developer.zendesk.com/documentation/webhooks/verifying/>,
//! <https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/>,
//! <https://developer.zendesk.com/documentation/webhooks/creating-and-monitoring-webhooks/>.

use serde_json::Value;

use lintas_schema::v1::{Actor, Channel, Direction, Rating, RatingScale};

use crate::codec::{json_scalar, json_str, parse_json};
use crate::normalize::Draft;
use crate::normalize::handle::{email_handle, handle};
use crate::normalize::time::parse_datetime;
use crate::signature::{decode_base64, verify_hmac_sha256};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest,
};

/// The Zendesk webhooks adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Zendesk;

/// Source id.
pub const ID: &str = "zendesk";
/// The webhook's signing secret.
pub const SIGNING_SECRET: &str = "signing_secret";

const SIGNATURE_HEADER: &str = "X-Zendesk-Webhook-Signature";
const TIMESTAMP_HEADER: &str = "X-Zendesk-Webhook-Signature-Timestamp";
const EVENT_TYPE_PREFIX: &str = "zen:event-type:";
/// Tags kept in the `tags` attribute; tickets rarely carry more.
const MAX_TAGS: usize = 20;

impl Adapter for Zendesk {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[SIGNING_SECRET]
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
        let secret = secrets.require(SIGNING_SECRET)?;
        let signature = request
            .header(SIGNATURE_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: SIGNATURE_HEADER,
            })?;
        let timestamp = request
            .header(TIMESTAMP_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: TIMESTAMP_HEADER,
            })?;
        let presented = decode_base64(signature).ok_or(AdapterError::SignatureInvalid {
            header: SIGNATURE_HEADER,
            reason: "expected a base64 HMAC-SHA256",
        })?;
        let authentic = verify_hmac_sha256(
            secret.as_bytes(),
            &[timestamp.as_bytes(), request.body],
            &presented,
        );
        if !authentic {
            return Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "does not match the timestamp and body signed with the configured `signing_secret`",
            });
        }
        let signed_at = parse_datetime(timestamp).ok_or(AdapterError::SignatureInvalid {
            header: TIMESTAMP_HEADER,
            reason: "must be an ISO 8601 time",
        })?;
        policy.check_timestamp(
            TIMESTAMP_HEADER,
            signed_at.at.timestamp(),
            request.received_at,
        )
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let body: Value = parse_json(request.body)?;
        if !body.is_object() {
            return Err(AdapterError::malformed("expected a JSON object"));
        }
        let mut parsed = Parsed::default();
        if let Some(event_type) = json_str(&body, &["type"]) {
            parse_event(&body, event_type, request, &mut parsed);
        } else if let Some(ticket) = body.get("ticket").filter(|ticket| ticket.is_object())
            && ticket.get("satisfaction_rating").is_some()
        {
            parse_satisfaction(ticket, request, &mut parsed);
        } else {
            parsed.push_ignored(IgnoredKind::Unmapped, "custom_body", None);
        }
        Ok(parsed)
    }
}

/// An event-subscription webhook (`zen:event-type:*`).
fn parse_event(body: &Value, event_type: &str, request: &WebhookRequest<'_>, parsed: &mut Parsed) {
    let event_id = json_scalar(body, &["id"]);
    let ignore =
        |parsed: &mut Parsed, kind| parsed.push_ignored(kind, event_type, event_id.as_deref());
    let Some(ticket_event) = event_type
        .strip_prefix(EVENT_TYPE_PREFIX)
        .and_then(|name| name.strip_prefix("ticket."))
    else {
        ignore(parsed, IgnoredKind::Unmapped);
        return;
    };
    let detail = body.get("detail").unwrap_or(&Value::Null);
    let comment = body.pointer("/event/comment").unwrap_or(&Value::Null);
    let requester = json_scalar(detail, &["requester_id"]);
    let submitter = json_scalar(detail, &["submitter_id"]);

    let (event_name, direction, actor, agent, text) = match ticket_event {
        "comment_added" => {
            if comment.get("is_public") != Some(&Value::Bool(true)) {
                ignore(parsed, IgnoredKind::StateChange);
                return;
            }
            let text = json_str(comment, &["body"]).unwrap_or_default().to_owned();
            if comment.pointer("/author/is_staff") == Some(&Value::Bool(true)) {
                let author = json_scalar(comment, &["author", "id"]);
                (
                    "message.sent",
                    Direction::Outbound,
                    Actor::Agent,
                    author,
                    text,
                )
            } else {
                (
                    "message.received",
                    Direction::Inbound,
                    Actor::Customer,
                    None,
                    text,
                )
            }
        }
        "created" => {
            let text = json_str(detail, &["description"])
                .unwrap_or_default()
                .to_owned();
            match &submitter {
                Some(agent) if requester.as_ref() != Some(agent) => (
                    "ticket.created",
                    Direction::Outbound,
                    Actor::Agent,
                    Some(agent.clone()),
                    text,
                ),
                _ => (
                    "ticket.created",
                    Direction::Inbound,
                    Actor::Customer,
                    None,
                    text,
                ),
            }
        }
        _ => {
            ignore(parsed, IgnoredKind::StateChange);
            return;
        }
    };
    let Some(customer_id) = requester
        .as_deref()
        .and_then(|id| handle("zendesk_user", id))
    else {
        parsed.push_unusable(UnusableReason::NoCustomerIdentifier, event_id.as_deref());
        return;
    };
    let ticket_id = json_scalar(detail, &["id"]).or_else(|| {
        json_str(body, &["subject"])
            .and_then(|subject| subject.strip_prefix("zen:ticket:"))
            .map(str::to_owned)
    });
    let occurred_at = json_str(body, &["time"])
        .and_then(parse_datetime)
        .or_else(|| json_str(detail, &["updated_at"]).and_then(parse_datetime));

    let mut draft = Draft {
        source_event_id: event_id.clone().unwrap_or_default(),
        channel: Channel::Crm,
        direction,
        actor,
        event_name: event_name.to_owned(),
        occurred_at,
        customer_id,
        conversation_id: ticket_id
            .as_deref()
            .and_then(|id| handle("zendesk_ticket", id))
            .unwrap_or_default(),
        agent_id: agent
            .as_deref()
            .and_then(|id| handle("zendesk_user", id))
            .unwrap_or_default(),
        text,
        subject: json_str(detail, &["subject"])
            .unwrap_or_default()
            .to_owned(),
        ..Draft::default()
    };
    draft.attribute("zendesk_event_type", Some(event_type));
    draft.attribute("account_id", json_scalar(body, &["account_id"]));
    draft.attribute("ticket_id", ticket_id);
    draft.attribute("comment_id", json_scalar(comment, &["id"]));
    draft.attribute("ticket_status", json_str(detail, &["status"]));
    draft.attribute("ticket_priority", json_str(detail, &["priority"]));
    draft.attribute("ticket_type", json_str(detail, &["type"]));
    draft.attribute("via_channel", json_str(detail, &["via", "channel"]));
    draft.attribute("brand_id", json_scalar(detail, &["brand_id"]));
    if let Some(tags) = detail.get("tags").and_then(Value::as_array) {
        let tags: Vec<&str> = tags
            .iter()
            .filter_map(Value::as_str)
            .take(MAX_TAGS)
            .collect();
        draft.attribute("tags", Some(tags.join(",")));
    }
    parsed.events.push(draft.into_event(ID, request));
}

/// A trigger webhook's custom body carrying a satisfaction rating (see the module docs).
fn parse_satisfaction(ticket: &Value, request: &WebhookRequest<'_>, parsed: &mut Parsed) {
    let ticket_id = json_scalar(ticket, &["id"]);
    let updated_at = json_str(ticket, &["updated_at"]);
    let nested = ticket
        .get("satisfaction_rating")
        .filter(|rating| rating.is_object());
    let score = match nested {
        Some(rating) => json_scalar(rating, &["score"]),
        None => json_scalar(ticket, &["satisfaction_rating"]),
    };
    let comment = match nested {
        Some(rating) => json_str(rating, &["comment"]),
        None => json_str(ticket, &["satisfaction_comment"]),
    };
    let score = score.unwrap_or_default();
    let source_event_id = ticket_id.as_deref().map(|id| {
        let version = updated_at.unwrap_or(score.as_str());
        format!("ticket:{id}/satisfaction/{version}")
    });
    let rating = match csat_rating(&score) {
        Ok(rating) => rating,
        Err(kind) => {
            let event_type = format!("satisfaction.{}", score.to_ascii_lowercase());
            parsed.push_ignored(kind, &event_type, source_event_id.as_deref());
            return;
        }
    };
    let email = json_str(ticket, &["requester_email"])
        .or_else(|| json_str(ticket, &["requester", "email"]))
        .and_then(email_handle);
    let zendesk_user = json_scalar(ticket, &["requester_id"])
        .or_else(|| json_scalar(ticket, &["requester", "id"]))
        .and_then(|id| handle("zendesk_user", &id));
    let (customer_id, extra_handle) = match (email, zendesk_user) {
        (Some(email), user) => (email, user),
        (None, Some(user)) => (user, None),
        (None, None) => {
            parsed.push_unusable(
                UnusableReason::NoCustomerIdentifier,
                source_event_id.as_deref(),
            );
            return;
        }
    };

    let mut draft = Draft {
        source_event_id: source_event_id.unwrap_or_default(),
        channel: Channel::Crm,
        direction: Direction::Inbound,
        actor: Actor::Customer,
        event_name: "survey.answered".to_owned(),
        occurred_at: updated_at.and_then(parse_datetime),
        customer_id,
        customer_handles: extra_handle.into_iter().collect(),
        conversation_id: ticket_id
            .as_deref()
            .and_then(|id| handle("zendesk_ticket", id))
            .unwrap_or_default(),
        text: comment.unwrap_or_default().to_owned(),
        subject: json_str(ticket, &["subject"])
            .or_else(|| json_str(ticket, &["title"]))
            .unwrap_or_default()
            .to_owned(),
        rating: Some(rating),
        ..Draft::default()
    };
    draft.attribute("satisfaction_rating", Some(score));
    draft.attribute("ticket_id", ticket_id);
    draft.attribute("via_channel", json_str(ticket, &["via"]));
    parsed.events.push(draft.into_event(ID, request));
}

/// The CSAT rating of a rendered `{{satisfaction.current_rating}}` (or the API's `score`); the
/// ignore reason when it is no answer.
fn csat_rating(score: &str) -> Result<Rating, IgnoredKind> {
    let csat = |value: f64, min: f64, max: f64| Rating {
        scale: RatingScale::Csat.into(),
        value,
        min,
        max,
    };
    match score.trim().to_ascii_lowercase().as_str() {
        "good" => Ok(csat(1.0, 0.0, 1.0)),
        "bad" => Ok(csat(0.0, 0.0, 1.0)),
        "offered" | "unoffered" => Err(IgnoredKind::StateChange),
        other => match other.parse::<u8>() {
            Ok(stars @ 1..=5) => Ok(csat(f64::from(stars), 1.0, 5.0)),
            _ => Err(IgnoredKind::Unmapped),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bytes;

    fn parse_body(body: Value) -> Parsed {
        parse_bytes(&Zendesk, "application/json", body.to_string().as_bytes()).expect("parses")
    }

    fn comment_event(is_public: bool, is_staff: bool) -> Value {
        serde_json::json!({
            "type": "zen:event-type:ticket.comment_added", "id": "e-1",
            "time": "2025-03-14T08:14:02Z", "subject": "zen:ticket:35436",
            "detail": {"id": "35436", "requester_id": "100", "subject": "Charged twice", "tags": ["refund", "vip"]},
            "event": {"comment": {"id": "9", "body": "Thanks!", "is_public": is_public,
                "author": {"id": "200", "is_staff": is_staff}}}
        })
    }

    #[test]
    fn a_customer_comment_is_an_inbound_message_on_the_ticket() {
        let parsed = parse_body(comment_event(true, false));
        let event = &parsed.events[0];
        assert_eq!(event.event_name, "message.received");
        assert_eq!(event.direction(), Direction::Inbound);
        assert_eq!(event.customer_id, "zendesk_user:100");
        assert_eq!(event.conversation_id, "zendesk_ticket:35436");
        assert!(event.agent_id.is_empty());
        assert_eq!(
            event.attributes.get("tags").map(String::as_str),
            Some("refund,vip")
        );
    }

    #[test]
    fn an_agent_comment_is_outbound_and_names_the_agent() {
        let parsed = parse_body(comment_event(true, true));
        let event = &parsed.events[0];
        assert_eq!(event.event_name, "message.sent");
        assert_eq!(event.actor(), Actor::Agent);
        assert_eq!(event.agent_id, "zendesk_user:200");
    }

    #[test]
    fn private_notes_and_other_ticket_changes_are_state_changes() {
        let note = parse_body(comment_event(false, true));
        assert!(note.events.is_empty());
        assert_eq!(note.ignored[0].kind, IgnoredKind::StateChange);
        let status = parse_body(serde_json::json!({
            "type": "zen:event-type:ticket.status_changed", "id": "e-2", "detail": {"id": "1"}
        }));
        assert_eq!(status.ignored[0].kind, IgnoredKind::StateChange);
        let user =
            parse_body(serde_json::json!({"type": "zen:event-type:user.created", "id": "e-3"}));
        assert_eq!(user.ignored[0].kind, IgnoredKind::Unmapped);
        let custom = parse_body(serde_json::json!({"ticket": {"id": "1", "status": "open"}}));
        assert_eq!(custom.ignored[0].event_type, "custom_body");
    }

    #[test]
    fn a_created_ticket_carries_its_description_and_who_submitted_it() {
        let by_customer = parse_body(serde_json::json!({
            "type": "zen:event-type:ticket.created", "id": "e-4", "time": "2025-03-14T16:45:00Z",
            "detail": {"id": "35501", "requester_id": "100", "submitter_id": "100",
                "subject": "Wrong size", "description": "I ordered size 42 but received 40."}
        }));
        let event = &by_customer.events[0];
        assert_eq!(event.event_name, "ticket.created");
        assert_eq!(event.text, "I ordered size 42 but received 40.");
        assert_eq!(event.subject, "Wrong size");
        assert_eq!(event.actor(), Actor::Customer);

        let by_agent = parse_body(serde_json::json!({
            "type": "zen:event-type:ticket.created", "id": "e-5",
            "detail": {"id": "35502", "requester_id": "100", "submitter_id": "200"}
        }));
        assert_eq!(by_agent.events[0].direction(), Direction::Outbound);
        assert_eq!(by_agent.events[0].agent_id, "zendesk_user:200");
    }

    #[test]
    fn an_event_without_requester_is_unusable() {
        let parsed = parse_body(serde_json::json!({
            "type": "zen:event-type:ticket.created", "id": "e-6", "detail": {"id": "1"}
        }));
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
    }

    #[test]
    fn csat_scores_map_to_ratings_and_unanswered_surveys_are_ignored() {
        assert_eq!(
            csat_rating("Good").map(|r| (r.value, r.max)),
            Ok((1.0, 1.0))
        );
        assert_eq!(csat_rating("bad").map(|r| (r.value, r.min)), Ok((0.0, 0.0)));
        assert_eq!(csat_rating("4").map(|r| (r.value, r.max)), Ok((4.0, 5.0)));
        assert_eq!(csat_rating("Offered"), Err(IgnoredKind::StateChange));
        assert_eq!(csat_rating("0"), Err(IgnoredKind::Unmapped));
        assert_eq!(
            csat_rating("{{satisfaction.current_rating}}"),
            Err(IgnoredKind::Unmapped)
        );
    }

    #[test]
    fn the_api_shape_of_a_rating_and_a_requester_object_are_read_too() {
        let parsed = parse_body(serde_json::json!({"ticket": {
            "id": 7, "requester": {"id": 100},
            "satisfaction_rating": {"score": "bad", "comment": "Too slow"},
            "updated_at": "2025-03-15T09:40:11+07:00"
        }}));
        let event = &parsed.events[0];
        assert_eq!(event.customer_id, "zendesk_user:100");
        assert_eq!(event.text, "Too slow");
        assert_eq!(event.rating.as_ref().map(|r| r.value), Some(0.0));
        assert_eq!(
            event.source_event_id,
            "ticket:7/satisfaction/2025-03-15T09:40:11+07:00"
        );
        assert_eq!(
            event.occurred_at.as_ref().map(|ts| ts.seconds),
            Some(1_742_006_411)
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_malformed() {
        let refused =
            parse_bytes(&Zendesk, "application/json", b"[1,2]").expect_err("not an object");
        assert_eq!(refused.code(), "malformed_body");
    }
}
