//! `twilio`: Twilio Programmable Messaging webhooks (SMS, MMS, WhatsApp via Twilio).
//!
//! - Authenticity: `X-Twilio-Signature` = base64 HMAC-SHA1, keyed with the account `auth_token`,
//!   of the full public URL followed by every POST parameter sorted by name (name + value, no
//!   separators). The URL is [`WebhookRequest::public_url`]; because Twilio's own libraries accept
//!   the URL with and without the default port (`:443`), both spellings are tried.
//! - Content type: `application/x-www-form-urlencoded` only (a form labelled JSON is 415).
//! - Answer: empty TwiML, `<Response></Response>` as `text/xml`, so Twilio sends no auto-reply.
//! - Mapping:
//!
//! | payload | result |
//! | --- | --- |
//! | inbound message (`SmsStatus`/`MessageStatus` absent or `received`) from `+E164` | `message.received`, channel SMS, inbound, customer `phone:<From>` |
//! | inbound message from `whatsapp:+E164` | `message.received`, channel MESSAGING, customer `whatsapp:+E164`, extra handle `phone:+E164` |
//! | inbound message from another address scheme (`messenger:`, `rcs:`) | `message.received`, channel MESSAGING, customer = `From` |
//! | status callback (`MessageStatus` queued/sent/delivered/read/failed/undelivered) | ignored, state change |
//! | no `MessageSid` (voice and other products) | ignored, unmapped |
//! | no `From` | unusable: no customer identifier |
//!
//! - Fields: `source_event_id` = `MessageSid`; `occurred_at` = receive time (Twilio sends no
//!   time), flagged `OCCURRED_AT_INFERRED`; `text` = `Body` (or `ButtonText`); media
//!   (`NumMedia`, `MediaContentType{n}`, `MediaUrl{n}`), the business number `To` and the
//!   messaging service go to `attributes`.
//!
//! Docs: <https://www.twilio.com/docs/messaging/guides/webhook-request>,
//! <https://www.twilio.com/docs/usage/security#validating-requests>.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use http::StatusCode;
use lintas_schema::v1::{Actor, Channel, Direction};

use crate::codec::{decode_form, form_value};
use crate::normalize::Draft;
use crate::normalize::handle::{handle, phone_handle};
use crate::signature::{decode_base64, verify_hmac_sha1};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest, WebhookResponse,
};

/// The Twilio Messaging adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Twilio;

/// Source id.
pub const ID: &str = "twilio";
/// The account Auth Token, which signs every request.
pub const AUTH_TOKEN: &str = "auth_token";

const SIGNATURE_HEADER: &str = "X-Twilio-Signature";
const FORM: &str = "application/x-www-form-urlencoded";
/// Twilio allows 10 media per message; more would be noise in the attributes.
const MAX_MEDIA: usize = 10;
const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

impl Adapter for Twilio {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[AUTH_TOKEN]
    }

    fn content_types(&self) -> &'static [&'static str] {
        &[FORM]
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
        _policy: &VerifyPolicy,
    ) -> Result<(), AdapterError> {
        // Twilio signs no timestamp: replays are caught by `MessageSid` deduplication.
        let auth_token = secrets.require(AUTH_TOKEN)?;
        let header = request
            .header(SIGNATURE_HEADER)
            .ok_or(AdapterError::SignatureMissing {
                header: SIGNATURE_HEADER,
            })?;
        let presented = decode_base64(header).ok_or(AdapterError::SignatureInvalid {
            header: SIGNATURE_HEADER,
            reason: "expected a base64 HMAC-SHA1",
        })?;
        // The signature covers decoded parameters, so the form must decode to check it at all.
        let params = decode_form(request.body)?;
        let signed_params = signing_payload(&params);
        let matches = url_spellings(request.public_url).iter().any(|url| {
            verify_hmac_sha1(
                auth_token.as_bytes(),
                &[url.as_bytes(), &signed_params],
                &presented,
            )
        });
        if matches {
            Ok(())
        } else {
            Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_HEADER,
                reason: "does not match the URL and parameters signed with the configured `auth_token`",
            })
        }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let params = decode_form(request.body)?;
        let mut parsed = Parsed::default();
        let value = |name: &str| form_value(&params, name).filter(|v| !v.trim().is_empty());

        let Some(message_sid) = value("MessageSid")
            .or_else(|| value("SmsMessageSid"))
            .or_else(|| value("SmsSid"))
        else {
            let product = if value("CallSid").is_some() {
                "voice"
            } else {
                "unknown"
            };
            parsed.push_ignored(IgnoredKind::Unmapped, product, None);
            return Ok(parsed);
        };
        let status = value("MessageStatus").or_else(|| value("SmsStatus"));
        if let Some(status) = status.filter(|status| !status.eq_ignore_ascii_case("received")) {
            let event_type = format!("message.{}", status.to_ascii_lowercase());
            parsed.push_ignored(IgnoredKind::StateChange, &event_type, Some(message_sid));
            return Ok(parsed);
        }
        let Some((channel, customer_id, extra_handle)) = value("From").and_then(sender) else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, Some(message_sid));
            return Ok(parsed);
        };

        let mut draft = Draft {
            source_event_id: message_sid.to_owned(),
            channel,
            direction: Direction::Inbound,
            actor: Actor::Customer,
            event_name: "message.received".to_owned(),
            occurred_at: None,
            customer_handles: extra_handle.into_iter().collect(),
            conversation_id: customer_id.clone(),
            customer_id,
            text: value("Body")
                .or_else(|| value("ButtonText"))
                .unwrap_or_default()
                .to_owned(),
            ..Draft::default()
        };
        draft.attribute("to", value("To"));
        draft.attribute("messaging_service_sid", value("MessagingServiceSid"));
        draft.attribute("message_type", value("MessageType"));
        draft.attribute("button_payload", value("ButtonPayload"));
        draft.attribute("latitude", value("Latitude"));
        draft.attribute("longitude", value("Longitude"));
        draft.attribute("referral_ctwa_clid", value("ReferralCtwaClid"));
        let num_media: usize = value("NumMedia")
            .and_then(|count| count.trim().parse().ok())
            .unwrap_or(0);
        if num_media > 0 {
            draft.attribute("media_count", Some(num_media.to_string()));
        }
        for index in 0..num_media.min(MAX_MEDIA) {
            let content_type = value(&format!("MediaContentType{index}"));
            draft.attribute(&format!("media_content_type_{index}"), content_type);
            draft.attribute(
                &format!("media_url_{index}"),
                value(&format!("MediaUrl{index}")),
            );
        }
        parsed.events.push(draft.into_event(ID, request));
        Ok(parsed)
    }

    fn success_response(&self) -> WebhookResponse {
        WebhookResponse {
            status: StatusCode::OK,
            content_type: Some("text/xml"),
            body: Bytes::from_static(EMPTY_TWIML.as_bytes()),
        }
    }
}

/// Channel, customer handle and extra handle of a `From` address.
fn sender(from: &str) -> Option<(Channel, String, Option<String>)> {
    let from = from.trim();
    match from.split_once(':') {
        Some(("whatsapp", number)) => Some((
            Channel::Messaging,
            handle("whatsapp", number)?,
            phone_handle(number),
        )),
        Some((_, address)) if !address.trim().is_empty() => {
            Some((Channel::Messaging, from.to_owned(), None))
        }
        Some(_) => None,
        None => Some((Channel::Sms, handle("phone", from)?, None)),
    }
}

/// The parameters as Twilio signs them: names in byte order, each name's distinct values in byte
/// order, every pair as name followed by value (the algorithm of Twilio's helper libraries).
fn signing_payload(params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, value) in params {
        sorted.entry(name).or_default().insert(value);
    }
    let mut payload = Vec::new();
    for (name, values) in sorted {
        for value in values {
            payload.extend_from_slice(name.as_bytes());
            payload.extend_from_slice(value.as_bytes());
        }
    }
    payload
}

/// `url` as given, plus the same URL with the scheme's default port added (or removed, when it
/// is present): Twilio may have signed either spelling.
fn url_spellings(url: &str) -> Vec<String> {
    let mut spellings = vec![url.to_owned()];
    let (scheme, default_port) = if url.starts_with("https://") {
        ("https://", "443")
    } else if url.starts_with("http://") {
        ("http://", "80")
    } else {
        return spellings;
    };
    let rest = &url[scheme.len()..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let alternative = match authority.rsplit_once(':') {
        Some((host, port)) if port == default_port => format!("{scheme}{host}{path}"),
        Some(_) => return spellings,
        None => format!("{scheme}{authority}:{default_port}{path}"),
    };
    spellings.push(alternative);
    spellings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_form(body: &str) -> Parsed {
        crate::parse_bytes(&Twilio, FORM, body.as_bytes()).expect("parses")
    }

    #[test]
    fn status_callbacks_are_state_changes() {
        let parsed =
            parse_form("MessageSid=SM1&MessageStatus=delivered&SmsStatus=delivered&To=%2B1555");
        assert!(parsed.events.is_empty());
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::StateChange);
        assert_eq!(parsed.ignored[0].event_type, "message.delivered");
        assert_eq!(parsed.ignored[0].source_event_id.as_deref(), Some("SM1"));
    }

    #[test]
    fn voice_webhooks_are_unmapped() {
        let parsed = parse_form("CallSid=CA1&CallStatus=ringing&From=%2B15555550101");
        assert_eq!(parsed.ignored[0].kind, IgnoredKind::Unmapped);
        assert_eq!(parsed.ignored[0].event_type, "voice");
    }

    #[test]
    fn a_message_without_sender_is_unusable() {
        let parsed = parse_form("MessageSid=SM2&SmsStatus=received&Body=hi");
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
    }

    #[test]
    fn a_button_reply_without_body_uses_the_button_text() {
        let parsed = parse_form(
            "MessageSid=SM3&From=whatsapp%3A%2B15555550101&ButtonText=Ya&ButtonPayload=yes",
        );
        let event = &parsed.events[0];
        assert_eq!(event.text, "Ya");
        assert_eq!(
            event.attributes.get("button_payload").map(String::as_str),
            Some("yes")
        );
    }

    #[test]
    fn parameters_are_signed_sorted_by_name_then_value() {
        let params = vec![
            ("To".to_owned(), "+1".to_owned()),
            ("Body".to_owned(), "b".to_owned()),
            ("To".to_owned(), "+0".to_owned()),
            ("To".to_owned(), "+1".to_owned()),
        ];
        assert_eq!(signing_payload(&params), b"BodybTo+0To+1".to_vec());
    }

    #[test]
    fn urls_are_tried_with_and_without_the_default_port() {
        assert_eq!(
            url_spellings("https://ingest.example.com/webhooks/twilio?x=1"),
            vec![
                "https://ingest.example.com/webhooks/twilio?x=1".to_owned(),
                "https://ingest.example.com:443/webhooks/twilio?x=1".to_owned(),
            ]
        );
        assert_eq!(
            url_spellings("http://ingest.example.com:80/t"),
            vec![
                "http://ingest.example.com:80/t".to_owned(),
                "http://ingest.example.com/t".to_owned()
            ]
        );
        assert_eq!(
            url_spellings("https://h:8443/t"),
            vec!["https://h:8443/t".to_owned()]
        );
    }

    #[test]
    fn senders_map_to_channel_and_handles() {
        assert_eq!(
            sender("whatsapp:+15555550102"),
            Some((
                Channel::Messaging,
                "whatsapp:+15555550102".to_owned(),
                Some("phone:+15555550102".to_owned())
            ))
        );
        assert_eq!(
            sender("+15555550103"),
            Some((Channel::Sms, "phone:+15555550103".to_owned(), None))
        );
        assert_eq!(
            sender("messenger:7000"),
            Some((Channel::Messaging, "messenger:7000".to_owned(), None))
        );
        assert_eq!(sender("whatsapp:"), None);
        assert_eq!(sender(" "), None);
    }
}
