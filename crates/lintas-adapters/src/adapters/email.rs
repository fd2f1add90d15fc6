//! What the inbound e-mail adapters share (Mailgun, Postmark): reading addresses and message ids,
//! choosing the customer-visible text and naming the thread.
//!
//! - Customer: the address in the `From` header (`Customer Q <customer.q@example.com>`), as a
//!   lowercased `email:` handle. The SMTP envelope sender is only a fallback: forwarders and
//!   mailing lists rewrite it to bounce addresses that name no person.
//! - Text: the platform's pre-stripped reply when present (Mailgun `stripped-text`, Postmark
//!   `StrippedTextReply`), else the plain body with quoted history and signature removed, else the
//!   HTML body rendered as text and stripped the same way ([`crate::normalize::text`]).
//! - Thread: `email_thread:<message id>` of the first `References` entry, else `In-Reply-To`,
//!   else the message's own `Message-ID`. A thread's first message has neither header, so its
//!   own id is the id every later reply names first: the whole thread shares one value.

use crate::normalize::handle::email_handle;
use crate::normalize::text::{html_to_text, strip_quoted_reply};

/// The address of a mailbox: `Customer Q <customer.q@example.com>` -> `customer.q@example.com`,
/// a bare address as it is.
pub fn address_of(mailbox: &str) -> &str {
    let mailbox = mailbox.trim();
    match mailbox.rfind('<') {
        Some(open) => {
            let rest = &mailbox[open + 1..];
            rest.split('>').next().unwrap_or(rest).trim()
        }
        None => mailbox,
    }
}

/// The `email:` handle of the first mailbox among `candidates` that holds a plausible address.
pub fn first_email_handle<'a>(
    candidates: impl IntoIterator<Item = Option<&'a str>>,
) -> Option<String> {
    candidates
        .into_iter()
        .flatten()
        .find_map(|mailbox| email_handle(address_of(mailbox)))
}

/// A message id without its angle brackets (`<abc@mail.example.com>` -> `abc@mail.example.com`;
/// the first one when a header holds several); `None` when empty.
pub fn message_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let bracketed = raw
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(id, _)| id);
    let id = bracketed.unwrap_or(raw).trim_matches(['<', '>']).trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// The message ids of a `References` or `In-Reply-To` header, in order.
fn message_ids(header: &str) -> impl Iterator<Item = String> + '_ {
    header
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(message_id)
}

/// `email_thread:<root id>` from `References`, `In-Reply-To` or the message's own id.
pub fn thread_id(
    references: Option<&str>,
    in_reply_to: Option<&str>,
    own_message_id: Option<&str>,
) -> Option<String> {
    let root = references
        .and_then(|header| message_ids(header).next())
        .or_else(|| in_reply_to.and_then(|header| message_ids(header).next()))
        .or_else(|| own_message_id.and_then(message_id))?;
    Some(format!("email_thread:{root}"))
}

/// The customer-visible text of an e-mail: the platform's stripped reply, else the plain body
/// with quoted history removed, else the HTML body as text with quoted history removed.
pub fn customer_text(stripped: Option<&str>, plain: Option<&str>, html: Option<&str>) -> String {
    fn present(text: Option<&str>) -> Option<&str> {
        text.filter(|text| !text.trim().is_empty())
    }
    if let Some(stripped) = present(stripped) {
        return stripped.to_owned();
    }
    if let Some(plain) = present(plain) {
        return strip_quoted_reply(plain);
    }
    present(html)
        .map(|html| strip_quoted_reply(&html_to_text(html)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_from_display_forms_and_bare_addresses() {
        assert_eq!(
            address_of("Customer Q <customer.q@example.com>"),
            "customer.q@example.com"
        );
        assert_eq!(
            address_of(" customer.q@example.com "),
            "customer.q@example.com"
        );
        assert_eq!(
            address_of("\"Shop <support>\" <a@example.com>"),
            "a@example.com"
        );
        assert_eq!(address_of("Broken <a@example.com"), "a@example.com");
        assert_eq!(
            first_email_handle([None, Some("nobody"), Some("Q <Q@Example.com>")]).as_deref(),
            Some("email:q@example.com")
        );
    }

    #[test]
    fn threads_are_named_by_their_first_message() {
        assert_eq!(
            thread_id(
                Some("<root@x.com> <mid@x.com>"),
                Some("<mid@x.com>"),
                Some("<own@x.com>")
            )
            .as_deref(),
            Some("email_thread:root@x.com")
        );
        assert_eq!(
            thread_id(None, Some("<mid@x.com>"), Some("<own@x.com>")).as_deref(),
            Some("email_thread:mid@x.com")
        );
        assert_eq!(
            thread_id(Some("  "), None, Some("<own@x.com>")).as_deref(),
            Some("email_thread:own@x.com")
        );
        assert_eq!(thread_id(None, None, None), None);
        assert_eq!(
            message_id(" <a@x.com> <b@x.com>").as_deref(),
            Some("a@x.com")
        );
        assert_eq!(message_id("plain@x.com").as_deref(), Some("plain@x.com"));
        assert_eq!(message_id("<>"), None);
    }

    #[test]
    fn the_stripped_reply_wins_then_plain_then_html() {
        assert_eq!(customer_text(Some("Yes."), Some("No."), None), "Yes.");
        assert_eq!(
            customer_text(Some(" "), Some("Yes.\n\nOn Mon, Shop wrote:\n> old"), None),
            "Yes."
        );
        assert_eq!(
            customer_text(None, None, Some("<p>Yes.</p><blockquote>old</blockquote>")),
            "Yes."
        );
        assert_eq!(customer_text(None, None, None), "");
    }
}
