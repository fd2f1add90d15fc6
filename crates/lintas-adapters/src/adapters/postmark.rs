//! `postmark`: Postmark inbound webhooks (one parsed e-mail per request, JSON).
//!
//! - Authenticity: Postmark signs nothing. The webhook URL carries HTTP Basic credentials
//!   (`https://user:pass@ingest.example.com/...`), which Postmark sends as
//!   `Authorization: Basic base64(user:pass)`; user and password are compared in constant time
//!   with the tenant's `basic_user` and `basic_pass` (both are always compared, so the timing does
//!   not tell which one was wrong). There is no timestamp, hence no replay window: a replayed
//!   delivery becomes the same event through `MessageID` deduplication. Postmark's IP allow-list
//!   is the gateway's business, not this crate's.
//! - Content type: `application/json`.
//! - Answer: 200 with an empty body. (Postmark retries other answers; 403 stops the retries.)
//! - Mapping (one event per delivery):
//!
//! | payload | result |
//! | --- | --- |
//! | an inbound message with a sender address | `message.received`, channel EMAIL, inbound, customer |
//! | an inbound message without any sender address | unusable: no customer identifier |
//! | `RecordType` `Delivery`, `Bounce`, `SpamComplaint` (outbound webhooks posted here) | ignored, state change |
//! | any other `RecordType` (`Open`, `Click`, `SubscriptionChange`) | ignored, unmapped |
//!
//! - Fields: `customer_id` = `email:` of `FromFull.Email`, else of `From`. `source_event_id` =
//!   `MessageID` (Postmark's id of the inbound message; the e-mail's own `Message-ID` header is
//!   kept as attribute `message_id_header`). `occurred_at` = `Date` (RFC 2822 with offset, to
//!   UTC). `text` = `StrippedTextReply` when present, else `TextBody` without quoted history, else
//!   `HtmlBody` as text without quoted history ([`super::email`]). `subject` = `Subject`.
//!   `conversation_id` = `mailbox_hash:<MailboxHash>` when the business plus-addresses its
//!   threads (`support+ticket-7731@...`), else `email_thread:` of the thread's first message.
//!   `MailboxHash`, `OriginalRecipient`, `Tag`, `MessageStream` and attachment count, names and
//!   types go to `attributes`; attachment content is skipped unread.
//!
//! Secrets: `basic_user`, `basic_pass`.
//! Docs: <https://postmarkapp.com/developer/webhooks/inbound-webhook>,
//! <https://postmarkapp.com/developer/user-guide/inbound/parse-an-email>,
//! <https://postmarkapp.com/support/article/1056-what-are-the-attachment-and-email-size-limits>.

use serde::Deserialize;

use lintas_schema::v1::{Actor, Channel, Direction};

use super::email;
use crate::codec::parse_json;
use crate::normalize::Draft;
use crate::normalize::handle::handle;
use crate::normalize::time::parse_datetime;
use crate::signature::{constant_time_eq, decode_base64};
use crate::{
    Adapter, AdapterError, IgnoredKind, Parsed, Secrets, UnusableReason, VerifyPolicy,
    WebhookRequest,
};

/// The Postmark inbound adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postmark;

/// Source id.
pub const ID: &str = "postmark";
/// User name of the Basic credentials in the webhook URL.
pub const BASIC_USER: &str = "basic_user";
/// Password of the Basic credentials in the webhook URL.
pub const BASIC_PASS: &str = "basic_pass";

const AUTHORIZATION_HEADER: &str = "Authorization";
/// Postmark accepts inbound attachments up to 35 MB in total and posts them base64-encoded
/// inside the JSON (a third larger), next to the text and HTML bodies.
const MAX_BODY_BYTES: usize = 50 * 1024 * 1024;
/// Attachment names kept as attributes; the count is always kept.
const MAX_ATTACHMENT_NAMES: usize = 10;

impl Adapter for Postmark {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[BASIC_USER, BASIC_PASS]
    }

    fn max_body_bytes(&self) -> usize {
        MAX_BODY_BYTES
    }

    fn content_types(&self) -> &'static [&'static str] {
        &["application/json"]
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
        _policy: &VerifyPolicy,
    ) -> Result<(), AdapterError> {
        let expected_user = secrets.require(BASIC_USER)?;
        let expected_pass = secrets.require(BASIC_PASS)?;
        let header =
            request
                .header(AUTHORIZATION_HEADER)
                .ok_or(AdapterError::SignatureMissing {
                    header: AUTHORIZATION_HEADER,
                })?;
        let (user, pass) = basic_credentials(header).ok_or(AdapterError::SignatureInvalid {
            header: AUTHORIZATION_HEADER,
            reason: "expected `Basic` followed by base64 of `user:password`",
        })?;
        // `&`, not `&&`: both comparisons always run.
        let user_matches = constant_time_eq(user.as_bytes(), expected_user.as_bytes());
        let pass_matches = constant_time_eq(pass.as_bytes(), expected_pass.as_bytes());
        if user_matches & pass_matches {
            Ok(())
        } else {
            Err(AdapterError::SignatureInvalid {
                header: AUTHORIZATION_HEADER,
                reason: "the credentials do not match the configured `basic_user` and `basic_pass`",
            })
        }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let message: InboundMessage = parse_json(request.body)?;
        let present = |text: &Option<String>| {
            text.as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let mut parsed = Parsed::default();
        let message_id = present(&message.message_id);
        if let Some(record_type) = present(&message.record_type) {
            let kind = match record_type.as_str() {
                "Delivery" | "Bounce" | "SpamComplaint" => IgnoredKind::StateChange,
                _ => IgnoredKind::Unmapped,
            };
            parsed.push_ignored(kind, &record_type, message_id.as_deref());
            return Ok(parsed);
        }
        let from_full = message
            .from_full
            .as_ref()
            .and_then(|from| from.email.as_deref());
        let Some(customer_id) = email::first_email_handle([from_full, message.from.as_deref()])
        else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, message_id.as_deref());
            return Ok(parsed);
        };

        let header = |name: &str| {
            message
                .headers
                .iter()
                .find(|entry| entry.name.eq_ignore_ascii_case(name))
                .map(|entry| entry.value.as_str())
                .filter(|value| !value.trim().is_empty())
        };
        let message_id_header = header("Message-ID");
        let mailbox_hash = present(&message.mailbox_hash);
        let conversation_id = mailbox_hash
            .as_deref()
            .and_then(|hash| handle("mailbox_hash", hash))
            .or_else(|| {
                email::thread_id(
                    header("References"),
                    header("In-Reply-To"),
                    message_id_header,
                )
            })
            .unwrap_or_default();

        let mut draft = Draft {
            source_event_id: message_id.clone().unwrap_or_default(),
            channel: Channel::Email,
            direction: Direction::Inbound,
            actor: Actor::Customer,
            event_name: "message.received".to_owned(),
            occurred_at: message.date.as_deref().and_then(parse_datetime),
            customer_id,
            conversation_id,
            text: email::customer_text(
                message.stripped_text_reply.as_deref(),
                message.text_body.as_deref(),
                message.html_body.as_deref(),
            ),
            subject: message.subject.clone().unwrap_or_default(),
            ..Draft::default()
        };
        draft.attribute("mailbox_hash", mailbox_hash);
        draft.attribute("original_recipient", present(&message.original_recipient));
        draft.attribute("tag", present(&message.tag));
        draft.attribute("message_stream", present(&message.message_stream));
        draft.attribute(
            "message_id_header",
            message_id_header.and_then(email::message_id),
        );
        draft.attribute(
            "in_reply_to",
            header("In-Reply-To").and_then(email::message_id),
        );
        if !message.attachments.is_empty() {
            draft.attribute(
                "attachment_count",
                Some(message.attachments.len().to_string()),
            );
        }
        for (index, attachment) in message
            .attachments
            .iter()
            .take(MAX_ATTACHMENT_NAMES)
            .enumerate()
        {
            draft.attribute(&format!("attachment_{index}_name"), attachment.name.clone());
            draft.attribute(
                &format!("attachment_{index}_content_type"),
                attachment.content_type.clone(),
            );
        }
        parsed.events.push(draft.into_event(ID, request));
        Ok(parsed)
    }
}

/// User and password of `Basic <base64(user:password)>`; the scheme name is case-insensitive.
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(decode_base64(encoded)?).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

/// The fields of Postmark's inbound JSON that Lintas reads; everything else (attachment
/// content included) is skipped by serde without being kept.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InboundMessage {
    /// Present only on Postmark's outbound webhooks (delivery, bounce, open...).
    record_type: Option<String>,
    #[serde(rename = "MessageID")]
    message_id: Option<String>,
    from: Option<String>,
    from_full: Option<Mailbox>,
    subject: Option<String>,
    date: Option<String>,
    mailbox_hash: Option<String>,
    original_recipient: Option<String>,
    tag: Option<String>,
    message_stream: Option<String>,
    text_body: Option<String>,
    html_body: Option<String>,
    stripped_text_reply: Option<String>,
    #[serde(default)]
    headers: Vec<Header>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Mailbox {
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Header {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attachment {
    name: Option<String>,
    content_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bytes;

    fn parse_message(message: serde_json::Value) -> Parsed {
        parse_bytes(
            &Postmark,
            "application/json",
            message.to_string().as_bytes(),
        )
        .expect("parses")
    }

    #[test]
    fn without_a_stripped_reply_the_text_body_loses_its_quoted_history() {
        let parsed = parse_message(serde_json::json!({
            "MessageID": "m-1", "From": "Customer U <customer.u@example.com>",
            "Date": "Fri, 14 Mar 2025 21:02:10 +0700",
            "TextBody": "Where is my parcel?\n\nOn Thu, Shop wrote:\n> shipped",
            "Headers": [{"Name": "References", "Value": "<root@x.com> <b@x.com>"}],
            "Attachments": [{"Name": "photo.jpg", "ContentType": "image/jpeg", "Content": "AAAA", "ContentLength": 3}]
        }));
        let event = &parsed.events[0];
        assert_eq!(event.customer_id, "email:customer.u@example.com");
        assert_eq!(event.text, "Where is my parcel?");
        assert_eq!(event.conversation_id, "email_thread:root@x.com");
        assert_eq!(
            event.occurred_at.as_ref().map(|ts| ts.seconds),
            Some(1_741_960_930)
        );
        assert_eq!(
            event
                .attributes
                .get("attachment_0_name")
                .map(String::as_str),
            Some("photo.jpg")
        );
    }

    #[test]
    fn an_html_only_message_is_rendered_as_text() {
        let parsed = parse_message(serde_json::json!({
            "MessageID": "m-2", "FromFull": {"Email": "customer.v@example.com"},
            "HtmlBody": "<p>Refund <b>please</b>.</p><blockquote>old</blockquote>"
        }));
        assert_eq!(parsed.events[0].text, "Refund please.");
    }

    #[test]
    fn outbound_record_types_are_not_interactions() {
        let delivery = parse_message(
            serde_json::json!({"RecordType": "Delivery", "MessageID": "m-3", "Recipient": "a@example.com"}),
        );
        assert_eq!(delivery.ignored[0].kind, IgnoredKind::StateChange);
        let open = parse_message(serde_json::json!({"RecordType": "Open", "MessageID": "m-4"}));
        assert_eq!(open.ignored[0].kind, IgnoredKind::Unmapped);
        assert!(delivery.events.is_empty() && open.events.is_empty());
    }

    #[test]
    fn a_message_without_sender_is_unusable() {
        let parsed =
            parse_message(serde_json::json!({"MessageID": "m-5", "From": "", "TextBody": "hi"}));
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
    }

    #[test]
    fn basic_credentials_are_decoded_strictly() {
        assert_eq!(
            basic_credentials("Basic cG9zdG1hcms6Y29ycHVzLXBvc3RtYXJrLTAwMTE="),
            Some(("postmark".to_owned(), "corpus-postmark-0011".to_owned()))
        );
        assert_eq!(
            basic_credentials("basic dTpwOnE="),
            Some(("u".to_owned(), "p:q".to_owned()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials("Basic bm9jb2xvbg=="), None);
    }
}
