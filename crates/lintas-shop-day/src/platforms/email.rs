//! Inbound e-mail: Mailgun (a form whose `signature` field signs `timestamp` + `token`) and
//! Postmark (HTTP Basic credentials on the webhook URL).

use chrono::{DateTime, FixedOffset, Utc};
use lintas_adapters::testing::{basic_authorization, mailgun_signature};
use serde_json::json;

use super::{BuildContext, Headers, Item, expected, header, json_bytes, occurred};
use crate::day::Source;
use crate::error::ShopDayError;
use crate::expect::ExpectedEvent;

type Built = (Headers, Vec<u8>, ExpectedEvent);

/// Western Indonesia Time: the customers' mail clients write their local time in `Date`.
const WIB_SECONDS: i32 = 7 * 3600;

/// The `Message-Id` (without brackets) of the e-mail of step `number`: replies on the API name
/// its thread, `email_thread:<id>`.
pub(crate) fn message_id(number: usize, email: &str) -> String {
    let domain = email.rsplit('@').next().unwrap_or("example.com");
    format!("CAKs3n{number:04}.shopday@mail.{domain}")
}

fn rfc2822_wib(at: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(WIB_SECONDS) {
        Some(wib) => at.with_timezone(&wib).to_rfc2822(),
        None => at.to_rfc2822(),
    }
}

/// An e-mail to the support mailbox, forwarded by a Mailgun route (parsed, url-encoded).
pub(super) fn mailgun(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let shop = &ctx.day.shop;
    let customer = item.customer;
    let text = item.text()?;
    let subject = item.step.subject.clone().unwrap_or_default();
    let id = message_id(item.number, &customer.email);
    let from = format!("{} <{}>", customer.name, customer.email);
    let date = rfc2822_wib(occurred(ctx, item));
    let timestamp = ctx.signed_at.timestamp();
    let token = format!(
        "{:050x}",
        u128::from(item.number as u64) * 0x9e37_79b9_7f4a_7c15
    );
    let signature = mailgun_signature(
        ctx.secret(Source::Mailgun, "signing_key")?,
        timestamp,
        &token,
    );
    let message_headers = json!([
        ["From", from],
        ["To", shop.support_email],
        ["Subject", subject],
        ["Date", date],
        ["Message-Id", format!("<{id}>")],
    ])
    .to_string();
    let plain = format!("{text}\n\n-- \n{}\n", customer.name);
    let timestamp_text = timestamp.to_string();
    let bracketed_id = format!("<{id}>");
    let fields: [(&str, &str); 14] = [
        ("recipient", &shop.support_email),
        ("sender", &customer.email),
        ("from", &from),
        ("subject", &subject),
        ("From", &from),
        ("To", &shop.support_email),
        ("Subject", &subject),
        ("Date", &date),
        ("Message-Id", &bracketed_id),
        ("body-plain", &plain),
        ("stripped-text", text),
        ("message-headers", &message_headers),
        ("timestamp", &timestamp_text),
        ("token", &token),
    ];
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.extend_pairs(fields);
    body.append_pair("signature", &signature);
    let headers = vec![
        header("Content-Type", "application/x-www-form-urlencoded"),
        header("User-Agent", "mailgun/treq-16.12.0"),
    ];
    let handle = format!("email:{}", customer.email.to_ascii_lowercase());
    let mut event = expected(ctx, item, id.clone(), "email", "message.received", handle);
    event.conversation_id = Some(format!("email_thread:{id}"));
    event.text = Some(text.to_owned());
    event.language = Some(customer.language.clone());
    Ok((headers, body.finish().into_bytes(), event))
}

/// An e-mail to the support mailbox, posted by Postmark's inbound webhook.
pub(super) fn postmark(ctx: &BuildContext<'_>, item: &Item<'_>) -> Result<Built, ShopDayError> {
    let shop = &ctx.day.shop;
    let customer = item.customer;
    let text = item.text()?;
    let subject = item.step.subject.clone().unwrap_or_default();
    let header_id = message_id(item.number, &customer.email);
    let postmark_id = format!("5d0c9e1a-7a3b-4c2e-9f10-{:012}", item.number);
    let date = rfc2822_wib(occurred(ctx, item));
    let body = json!({
        "FromName": customer.name,
        "MessageStream": "inbound",
        "From": customer.email,
        "FromFull": {"Email": customer.email, "Name": customer.name, "MailboxHash": ""},
        "To": shop.support_email,
        "ToFull": [{"Email": shop.support_email, "Name": shop.name, "MailboxHash": ""}],
        "Cc": "", "CcFull": [], "Bcc": "", "BccFull": [],
        "OriginalRecipient": shop.support_email,
        "Subject": subject,
        "MessageID": postmark_id,
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": date,
        "TextBody": format!("{text}\n\nSalam,\n{}", customer.name),
        "HtmlBody": "",
        "StrippedTextReply": text,
        "Tag": "",
        "Headers": [
            {"Name": "Message-ID", "Value": format!("<{header_id}>")},
            {"Name": "Date", "Value": date},
        ],
        "Attachments": [],
    });
    let headers = vec![
        header("Content-Type", "application/json"),
        header(
            "Authorization",
            basic_authorization(
                ctx.secret(Source::Postmark, "basic_user")?,
                ctx.secret(Source::Postmark, "basic_pass")?,
            ),
        ),
    ];
    let handle = format!("email:{}", customer.email.to_ascii_lowercase());
    let mut event = expected(ctx, item, postmark_id, "email", "message.received", handle);
    event.conversation_id = Some(format!("email_thread:{header_id}"));
    event.text = Some(text.to_owned());
    event.language = Some(customer.language.clone());
    Ok((headers, json_bytes(&body), event))
}
