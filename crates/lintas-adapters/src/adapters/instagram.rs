//! `instagram`: Instagram messaging webhooks (Meta Graph, `object = instagram`; Messenger API for
//! Instagram and Instagram API with Instagram Login).
//!
//! - Authenticity: `X-Hub-Signature-256` over the raw body with `app_secret`; `GET` handshake
//!   with `verify_token` (see [`super::meta`]). Meta signs no timestamp: replays are made harmless
//!   by the message id deduplication.
//! - Content type: `application/json`.
//! - Mapping, per `entry[].messaging[]` (and `entry[].standby[]`, flagged `standby`):
//!
//! | payload | result |
//! | --- | --- |
//! | `message` (text, media, share, story mention, reply to a story or message) | `message.received`, channel SOCIAL, inbound, actor customer |
//! | `message` with `is_echo: true` (sent by the business account) | `message.sent`, outbound, actor agent, customer = `recipient` |
//! | `message` with `is_unsupported: true` | `message.received` without text, attribute `unsupported` |
//! | `postback` (icebreaker, generic template button) | `postback.received`, inbound, customer; `text` = button title |
//! | `referral` (an ad or `ig.me` link opened an existing thread) | `referral.received`, inbound, customer, no text |
//! | `reaction` with `action: react` | `message.received`, `message_type` `reaction`, `text` = emoji |
//! | `message` with `is_deleted: true` (unsent), `reaction` `unreact`, `read` | ignored, state change |
//! | other items; `changes[]` (comments, mentions, story insights); other `object`s | ignored, unmapped |
//! | an item without a customer id (`sender.id`, or `recipient.id` for echoes) | unusable: no customer identifier |
//!
//! - Fields: `source_event_id` = `message.mid` / `postback.mid` (reactions and referrals get
//!   `<kind>:<igsid>:<timestamp>`, stable across redeliveries); `occurred_at` =
//!   `messaging[].timestamp` (epoch milliseconds); `customer_id` = `igsid:<Instagram-scoped id>`,
//!   also the `conversation_id`. `text` = message text or button title. A story reply sets
//!   `message_type` `story_reply` with `reply_to_story_id` and `reply_to_story_url` (the CDN URL
//!   expires); a story mention arrives as an attachment of type `story_mention`. The account id
//!   (`instagram_account_id`), payloads, attachments and referrals go to `attributes`.
//!
//! Docs: <https://developers.facebook.com/docs/instagram-platform/webhooks/examples/>,
//! <https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook>.

use super::meta_messaging::Platform;

/// Source id.
pub const ID: &str = "instagram";

/// The Instagram messaging adapter.
pub(super) const ADAPTER: Platform = Platform {
    source: ID,
    object: "instagram",
    customer_namespace: "igsid",
    account_attribute: "instagram_account_id",
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IgnoredKind, Parsed, parse_bytes};

    fn parse_items(items: serde_json::Value) -> Parsed {
        let body = serde_json::json!({"object": "instagram",
            "entry": [{"id": "17841400000012345", "time": 1741933200504_i64, "messaging": items}]});
        parse_bytes(&ADAPTER, "application/json", body.to_string().as_bytes()).expect("parses")
    }

    #[test]
    fn story_mentions_are_messages_with_an_attachment_and_no_text() {
        let parsed = parse_items(serde_json::json!([{
            "sender": {"id": "8000000000000203"}, "recipient": {"id": "17841400000012345"},
            "timestamp": 1741933200004_i64,
            "message": {"mid": "aWdf_mention", "attachments": [{"type": "story_mention",
                "payload": {"url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"}}]}}]));
        let event = &parsed.events[0];
        assert_eq!(event.customer_id, "igsid:8000000000000203");
        assert_eq!(event.text, "");
        assert_eq!(
            event.attributes.get("message_type").map(String::as_str),
            Some("story_mention")
        );
        assert_eq!(
            event
                .attributes
                .get("instagram_account_id")
                .map(String::as_str),
            Some("17841400000012345")
        );
    }

    #[test]
    fn unsent_messages_are_state_changes() {
        let parsed = parse_items(serde_json::json!([{
            "sender": {"id": "8000000000000203"}, "recipient": {"id": "17841400000012345"},
            "timestamp": 1741933200004_i64, "message": {"mid": "aWdf_gone", "is_deleted": true}}]));
        assert!(parsed.events.is_empty());
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::StateChange);
        assert_eq!(parsed.ignored[0].event_type, "message.deleted");
        assert_eq!(
            parsed.ignored[0].source_event_id.as_deref(),
            Some("aWdf_gone")
        );
    }

    #[test]
    fn page_deliveries_are_not_instagram_ones() {
        let parsed = parse_bytes(
            &ADAPTER,
            "application/json",
            br#"{"object":"page","entry":[]}"#,
        )
        .expect("parses");
        assert_eq!(parsed.ignored[0].event_type, "object:page");
    }
}
