//! `messenger`: Facebook Messenger Platform webhooks (Meta Graph, `object = page`).
//!
//! - Authenticity: `X-Hub-Signature-256` over the raw body with `app_secret`; `GET` handshake
//!   with `verify_token` (see [`super::meta`]). Meta signs no timestamp: replays are made harmless
//!   by the message id deduplication.
//! - Content type: `application/json`.
//! - Mapping, per `entry[].messaging[]` (and `entry[].standby[]`, flagged `standby`):
//!
//! | payload | result |
//! | --- | --- |
//! | `message` (text, attachments, quick reply, reply to a message) | `message.received`, channel SOCIAL, inbound, actor customer |
//! | `message` with `is_echo: true` (sent by the Page, a person in the Page inbox or an app) | `message.sent`, outbound, actor agent, customer = `recipient` |
//! | `postback` (a button: "Get Started", persistent menu, template buttons) | `postback.received`, inbound, customer; `text` = button title |
//! | `referral` (an ad, `m.me` link or plugin opened an existing thread) | `referral.received`, inbound, customer, no text |
//! | `reaction` with `action: react` | `message.received`, `message_type` `reaction`, `text` = emoji |
//! | `reaction` with `action: unreact`, `read`, `delivery` | ignored, state change |
//! | `optin`, handover, `account_linking`, other items; `changes[]` (feed); other `object`s | ignored, unmapped |
//! | an item without a customer id (`sender.id`, or `recipient.id` for echoes) | unusable: no customer identifier |
//!
//! - Fields: `source_event_id` = `message.mid` / `postback.mid` (reactions, referrals and
//!   postbacks without a `mid` get `<kind>:<psid>:<timestamp>`, stable across redeliveries);
//!   `occurred_at` = `messaging[].timestamp` (epoch milliseconds); `customer_id` =
//!   `psid:<page-scoped id>`, also the `conversation_id` (a PSID names one thread with one Page).
//!   `text` = message text or button title. The Page id (`page_id`), `message_type`, postback and
//!   quick-reply payloads, reply context, attachments (type, URL) and the ad / link referral
//!   (`referral_ref`, `referral_source`, `referral_type`, `referral_ad_id`...) go to `attributes`.
//!
//! Docs: <https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages>,
//! <https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_postbacks>.

use super::meta_messaging::Platform;

/// Source id.
pub const ID: &str = "messenger";

/// The Messenger adapter.
pub(super) const ADAPTER: Platform = Platform {
    source: ID,
    object: "page",
    customer_namespace: "psid",
    account_attribute: "page_id",
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bytes;

    #[test]
    fn quick_replies_keep_their_payload_and_the_thread_is_the_psid() {
        let body = serde_json::json!({"object": "page", "entry": [{"id": "104857600012345", "messaging": [{
            "sender": {"id": "7000000000000104"}, "recipient": {"id": "104857600012345"},
            "timestamp": 1741931112900_i64,
            "message": {"mid": "m_qr", "text": "Lacak pesanan", "quick_reply": {"payload": "TRACK_ORDER"}}}]}]});
        let parsed =
            parse_bytes(&ADAPTER, "application/json", body.to_string().as_bytes()).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.source, ID);
        assert_eq!(event.conversation_id, "psid:7000000000000104");
        assert_eq!(event.event_name, "message.received");
        assert_eq!(
            event
                .attributes
                .get("quick_reply_payload")
                .map(String::as_str),
            Some("TRACK_ORDER")
        );
    }

    #[test]
    fn a_postback_without_mid_gets_a_stable_synthetic_id() {
        let body = serde_json::json!({"object": "page", "entry": [{"id": "1", "messaging": [{
            "sender": {"id": "7000000000000105"}, "recipient": {"id": "1"},
            "timestamp": 1741930200250_i64,
            "postback": {"title": "Menu", "payload": "MENU"}}]}]});
        let parsed =
            parse_bytes(&ADAPTER, "application/json", body.to_string().as_bytes()).expect("parses");
        assert_eq!(
            parsed.events[0].source_event_id,
            "postback:7000000000000105:1741930200250"
        );
    }
}
