//! `mailgun`: Mailgun inbound routes (`forward()` to a URL, the fully parsed format).
//!
//! - Authenticity: three form fields, not headers: `signature` = hex HMAC-SHA256 of
//!   `timestamp` followed by `token` (no separator), keyed with the account's HTTP webhook
//!   `signing_key`. The signature is checked first, then `timestamp` (Unix seconds) against the
//!   receive time with [`VerifyPolicy::timestamp_tolerance`], in both directions. The signature
//!   does **not** cover the message: it proves the sender knows the key, at that time. Mailgun
//!   also advises refusing a reused `token`; that needs state this pure crate does not keep, so
//!   replays within the window are left to `Message-Id` deduplication downstream, where a replay
//!   becomes the same event. Errors name the field (`signature (form field)`), never its value.
//! - Content type: `multipart/form-data` (Mailgun's choice when the e-mail has attachments) or
//!   `application/x-www-form-urlencoded` (otherwise). The fields are read from the body, so a body
//!   that does not decode is 400 before authentication can even run: a multipart type without
//!   its `boundary` parameter is refused, never guessed.
//! - Answer: 200 with an empty body. (Mailgun retries anything but 200 and 406 for 8 hours.)
//! - Mapping (one event per delivery):
//!
//! | payload | result |
//! | --- | --- |
//! | a parsed message with a sender address | `message.received`, channel EMAIL, inbound, customer |
//! | a message without any sender address | unusable: no customer identifier |
//!
//! - Fields: `customer_id` = `email:` of the `From` header address (`from`), else the envelope
//!   `sender`; the other one is an extra handle when it differs. `source_event_id` = `Message-Id`
//!   without angle brackets (from the field, else `message-headers`). `occurred_at` = the `Date`
//!   header (RFC 2822 with offset, to UTC), else Mailgun's `timestamp` (the signing time).
//!   `text` = `stripped-text` (reply without quoted history and signature), else `body-plain`
//!   stripped by our rules, else `stripped-html`/`body-html` as text ([`super::email`]).
//!   `subject` = `subject`. `conversation_id` = `email_thread:` of the thread's first message.
//!   The recipient, attachment count and names, and `In-Reply-To` go to `attributes`;
//!   attachment content is never kept.
//!
//! Secrets: `signing_key` (Mailgun's "HTTP webhook signing key").
//! Docs: <https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/receive-http>,
//! <https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks>.

use lintas_schema::v1::{Actor, Channel, Direction};

use super::email;
use crate::codec::{MultipartForm, decode_form, decode_multipart_form, media_type};
use crate::normalize::Draft;
use crate::normalize::time::{EpochUnit, from_epoch_str, parse_datetime};
use crate::signature::{decode_hex, verify_hmac_sha256};
use crate::{Adapter, AdapterError, Parsed, Secrets, UnusableReason, VerifyPolicy, WebhookRequest};

/// The Mailgun inbound-routes adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mailgun;

/// Source id.
pub const ID: &str = "mailgun";
/// The account's HTTP webhook signing key.
pub const SIGNING_KEY: &str = "signing_key";

const SIGNATURE_FIELD: &str = "signature (form field)";
const TIMESTAMP_FIELD: &str = "timestamp (form field)";
const MULTIPART: &str = "multipart/form-data";
const FORM: &str = "application/x-www-form-urlencoded";
/// Mailgun accepts messages up to 25 MB; attachments travel raw in the multipart body, next to
/// the text and HTML bodies, so allow a little more than the message itself.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Attachment names kept as attributes; the count is always kept.
const MAX_ATTACHMENT_NAMES: usize = 10;

impl Adapter for Mailgun {
    fn id(&self) -> &'static str {
        ID
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[SIGNING_KEY]
    }

    fn max_body_bytes(&self) -> usize {
        MAX_BODY_BYTES
    }

    fn content_types(&self) -> &'static [&'static str] {
        &[MULTIPART, FORM]
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &Secrets<'_>,
        policy: &VerifyPolicy,
    ) -> Result<(), AdapterError> {
        let signing_key = secrets.require(SIGNING_KEY)?;
        // The signature lives in the body, so the body must decode before it can be checked.
        let form = decode(request)?;
        let field = |name: &str| value(&form, name);
        let signature = field("signature").ok_or(AdapterError::SignatureMissing {
            header: SIGNATURE_FIELD,
        })?;
        let (Some(timestamp), Some(token)) = (field("timestamp"), field("token")) else {
            return Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_FIELD,
                reason: "the signed `timestamp` and `token` form fields are required",
            });
        };
        let presented = decode_hex(signature).ok_or(AdapterError::SignatureInvalid {
            header: SIGNATURE_FIELD,
            reason: "expected a hex HMAC-SHA256",
        })?;
        let authentic = verify_hmac_sha256(
            signing_key.as_bytes(),
            &[timestamp.as_bytes(), token.as_bytes()],
            &presented,
        );
        if !authentic {
            return Err(AdapterError::SignatureInvalid {
                header: SIGNATURE_FIELD,
                reason: "does not match `timestamp` and `token` signed with the configured `signing_key`",
            });
        }
        let signed_at: i64 =
            timestamp
                .trim()
                .parse()
                .map_err(|_| AdapterError::SignatureInvalid {
                    header: TIMESTAMP_FIELD,
                    reason: "must be a Unix timestamp in seconds",
                })?;
        policy.check_timestamp(TIMESTAMP_FIELD, signed_at, request.received_at)
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Parsed, AdapterError> {
        let form = decode(request)?;
        let field = |name: &str| value(&form, name);
        let headers = MessageHeaders::parse(field("message-headers"));
        let header = |name: &str| field(name).or_else(|| headers.get(name));

        let message_id = header("Message-Id").and_then(email::message_id);
        let mut parsed = Parsed::default();
        let from = header("From");
        let sender = field("sender");
        let Some(customer_id) = email::first_email_handle([from, sender]) else {
            parsed.push_unusable(UnusableReason::NoCustomerIdentifier, message_id.as_deref());
            return Ok(parsed);
        };
        let occurred_at = header("Date").and_then(parse_datetime).or_else(|| {
            field("timestamp").and_then(|signed| from_epoch_str(signed, EpochUnit::Seconds))
        });

        let mut draft = Draft {
            source_event_id: message_id.clone().unwrap_or_default(),
            channel: Channel::Email,
            direction: Direction::Inbound,
            actor: Actor::Customer,
            event_name: "message.received".to_owned(),
            occurred_at,
            customer_handles: email::first_email_handle([sender]).into_iter().collect(),
            conversation_id: email::thread_id(
                header("References"),
                header("In-Reply-To"),
                message_id.as_deref(),
            )
            .unwrap_or_default(),
            customer_id,
            text: email::customer_text(
                field("stripped-text"),
                field("body-plain"),
                field("stripped-html").or_else(|| field("body-html")),
            ),
            subject: header("Subject").unwrap_or_default().to_owned(),
            ..Draft::default()
        };
        draft.attribute("recipient", field("recipient"));
        draft.attribute("to", header("To"));
        draft.attribute(
            "in_reply_to",
            header("In-Reply-To").and_then(email::message_id),
        );
        let attachment_count = field("attachment-count")
            .and_then(|count| count.trim().parse::<usize>().ok())
            .unwrap_or(form.files.len());
        if attachment_count > 0 {
            draft.attribute("attachment_count", Some(attachment_count.to_string()));
        }
        for (index, file) in form.files.iter().take(MAX_ATTACHMENT_NAMES).enumerate() {
            draft.attribute(
                &format!("attachment_{index}_name"),
                Some(file.file_name.as_str()),
            );
            draft.attribute(
                &format!("attachment_{index}_content_type"),
                file.content_type.as_deref(),
            );
        }
        parsed.events.push(draft.into_event(ID, request));
        Ok(parsed)
    }
}

/// The body's fields, from either content type Mailgun sends.
fn decode(request: &WebhookRequest<'_>) -> Result<MultipartForm, AdapterError> {
    let content_type = request.content_type().unwrap_or_default();
    if media_type(content_type) == MULTIPART {
        return decode_multipart_form(content_type, request.body);
    }
    Ok(MultipartForm {
        fields: decode_form(request.body)?,
        files: Vec::new(),
    })
}

/// The first non-blank value of field `name`, matched without regard to case: Mailgun posts
/// MIME headers as fields (`Message-Id`, `From`) next to its own lowercase ones (`from`).
fn value<'a>(form: &'a MultipartForm, name: &str) -> Option<&'a str> {
    form.fields
        .iter()
        .find(|(key, value)| key.eq_ignore_ascii_case(name) && !value.trim().is_empty())
        .map(|(_, value)| value.as_str())
}

/// `message-headers`: the MIME headers as a JSON list of `[name, value]` pairs. A value that
/// does not decode is treated as absent: every header in it is also a field of its own.
struct MessageHeaders(Vec<(String, String)>);

impl MessageHeaders {
    fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .and_then(|raw| serde_json::from_str::<Vec<(String, String)>>(raw).ok())
            .unwrap_or_default();
        Self(pairs)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, value)| key.eq_ignore_ascii_case(name) && !value.trim().is_empty())
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_bytes;

    #[test]
    fn urlencoded_messages_use_stripped_text_and_the_from_header() {
        let body = "sender=bounce%2Bx%40lists.example.com&from=Customer+R+%3Ccustomer.r%40example.com%3E\
                    &subject=Re%3A+order&body-plain=Yes+please.%0A%0AOn+Mon%2C+Shop+wrote%3A%0A%3E+old\
                    &Message-Id=%3Cabc%40mail.example.com%3E&Date=Fri%2C+14+Mar+2025+18%3A45%3A10+%2B0700\
                    &References=%3Croot%40mail.example.com%3E&timestamp=1741952714";
        let parsed = parse_bytes(&Mailgun, FORM, body.as_bytes()).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.customer_id, "email:customer.r@example.com");
        assert_eq!(
            event.customer_handles,
            vec!["email:bounce+x@lists.example.com".to_owned()]
        );
        assert_eq!(event.text, "Yes please.");
        assert_eq!(event.subject, "Re: order");
        assert_eq!(event.source_event_id, "abc@mail.example.com");
        assert_eq!(event.conversation_id, "email_thread:root@mail.example.com");
        assert_eq!(
            event.occurred_at.as_ref().map(|ts| ts.seconds),
            Some(1_741_952_710)
        );
    }

    #[test]
    fn message_headers_fill_in_missing_fields_and_the_signing_time_is_the_last_resort() {
        let headers = serde_json::json!([["Message-Id", "<h@x.com>"], ["Subject", "Hi"]]);
        let body = format!(
            "sender=a%40example.com&timestamp=1741952714&stripped-text=Hello&message-headers={}",
            percent_encoding::utf8_percent_encode(
                &headers.to_string(),
                percent_encoding::NON_ALPHANUMERIC
            )
        );
        let parsed = parse_bytes(&Mailgun, FORM, body.as_bytes()).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(event.source_event_id, "h@x.com");
        assert_eq!(event.subject, "Hi");
        assert_eq!(
            event.occurred_at.as_ref().map(|ts| ts.seconds),
            Some(1_741_952_714)
        );
        let inferred = lintas_schema::v1::NormalizationFlag::OccurredAtInferred as i32;
        assert!(!event.normalization_flags.contains(&inferred));
    }

    #[test]
    fn a_message_without_any_sender_address_is_unusable() {
        let parsed = parse_bytes(
            &Mailgun,
            FORM,
            b"from=Someone&body-plain=Hi&Message-Id=%3Cm%40x.com%3E",
        )
        .expect("parses");
        assert_eq!(
            parsed.unusable[0].reason,
            UnusableReason::NoCustomerIdentifier
        );
        assert_eq!(
            parsed.unusable[0].source_event_id.as_deref(),
            Some("m@x.com")
        );
    }

    #[test]
    fn multipart_without_boundary_is_malformed() {
        let refused = parse_bytes(&Mailgun, MULTIPART, b"--abc--\r\n").expect_err("no boundary");
        assert_eq!(refused.code(), "malformed_body");
    }
}
