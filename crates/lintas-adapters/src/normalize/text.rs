//! `text`: customer-visible content only.
//!
//! - [`html_to_text`] renders HTML bodies as plain text (no markup, no link footnotes).
//! - [`strip_quoted_reply`] removes quoted e-mail history and signatures, for adapters whose
//!   platform has no pre-stripped field (prefer Mailgun `stripped-text`, Postmark
//!   `StrippedTextReply` when present).
//! - [`clean`] (applied to every event by [`Draft`](super::Draft)) unifies line endings, drops
//!   control characters and trims; [`truncate_at_char_boundary`] enforces the contract's size
//!   limit without splitting a character.
//!
//! Text is otherwise stored verbatim, hostile content included: escaping is the renderer's job.

/// HTML rendered as plain text: tags and scripts dropped, entities decoded, links reduced to their
/// text, lines not wrapped.
pub fn html_to_text(html: &str) -> String {
    // A width beyond any real line disables wrapping; overflow is allowed so nothing errors.
    const NO_WRAP_WIDTH: usize = 100_000;
    // The rich decorator annotates links and emphasis instead of writing `[...]` or `*...*`
    // into the text, so joining the lines' strings leaves exactly what a reader sees.
    html2text::config::rich()
        .allow_width_overflow()
        .raw_mode(true)
        .lines_from_read(html.as_bytes(), NO_WRAP_WIDTH)
        .map(|lines| {
            let rendered: Vec<String> = lines
                .iter()
                .map(|line| {
                    line.tagged_strings()
                        .map(|piece| piece.s.as_str())
                        .collect()
                })
                .collect();
            clean(&rendered.join("\n"))
        })
        .unwrap_or_else(|_| clean(&strip_tags(html)))
}

/// Last resort when the HTML renderer fails: drop everything between `<` and `>`.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    text
}

/// The new part of an e-mail reply: everything from the first reply header (`On ... wrote:`,
/// `Pada ... menulis:`, `-----Original Message-----`, an Outlook `From:`/`Sent:` block) or
/// signature delimiter (`-- `) on is dropped, and so is every `>`-quoted line.
pub fn strip_quoted_reply(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        if starts_history(&lines[index..]) {
            break;
        }
        if line.trim_start().starts_with('>') {
            continue;
        }
        kept.push(line);
    }
    clean(&kept.join("\n"))
}

/// Whether `lines[0]` starts quoted history or a signature.
fn starts_history(lines: &[&str]) -> bool {
    let Some(first) = lines.first() else {
        return false;
    };
    let line = first.trim();
    let lower = line.to_lowercase();
    // RFC 3676 signature delimiter, and the usual mobile footers.
    if *first == "-- " || line == "--" || is_mobile_footer(&lower) {
        return true;
    }
    if lower.starts_with("-----original message-----")
        || lower.starts_with("----- original message -----")
        || lower.starts_with("-----pesan asli-----")
        || lower.starts_with("----- pesan asli -----")
        || (line.len() >= 20 && line.chars().all(|c| c == '_'))
    {
        return true;
    }
    // "On <date>, <name> wrote:" and "Pada <date>, <name> menulis:", which clients wrap onto a
    // second (rarely a third) line when the name and address are long.
    for (opening, closing) in [("on ", "wrote:"), ("pada ", "menulis:")] {
        if lower.starts_with(opening) {
            let mut joined = lower.clone();
            for next in lines.iter().take(3).skip(1) {
                if joined.trim_end().ends_with(closing) {
                    break;
                }
                joined.push(' ');
                joined.push_str(&next.trim().to_lowercase());
            }
            if joined.trim_end().ends_with(closing) {
                return true;
            }
        }
    }
    // Outlook: "From: ..." followed within a few lines by "Sent:"/"Date:" (or "Dikirim:").
    if lower.starts_with("from:") || lower.starts_with("dari:") {
        return lines.iter().skip(1).take(3).any(|next| {
            let next = next.trim().to_lowercase();
            next.starts_with("sent:") || next.starts_with("date:") || next.starts_with("dikirim:")
        });
    }
    false
}

fn is_mobile_footer(lower: &str) -> bool {
    ["sent from my ", "dikirim dari ", "get outlook for "]
        .iter()
        .any(|footer| lower.starts_with(footer))
}

/// Line endings unified to `\n`, control characters other than `\n` and `\t` removed, runs of
/// blank lines collapsed to one, surrounding whitespace trimmed.
pub fn clean(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut cleaned = String::with_capacity(unified.len());
    let mut blank_lines = 0_usize;
    for line in unified.split('\n') {
        let line: String = line
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect();
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_lines += 1;
            continue;
        }
        if !cleaned.is_empty() {
            cleaned.push('\n');
            if blank_lines > 0 {
                cleaned.push('\n');
            }
        }
        blank_lines = 0;
        cleaned.push_str(line);
    }
    cleaned.trim().to_owned()
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a char boundary.
pub fn truncate_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_reduced_to_its_visible_text() {
        let html = "<html><head><style>p{color:red}</style><script>alert(1)</script></head>\
                    <body><p>Thanks for the <b>fast</b> replacement!</p>\
                    <p>See <a href=\"https://example.com/x\">my order</a> &amp; reply &#x1F44D;</p></body></html>";
        let text = html_to_text(html);
        assert_eq!(
            text,
            "Thanks for the fast replacement!\n\nSee my order & reply 👍"
        );
    }

    #[test]
    fn html_never_errors_even_when_broken() {
        assert_eq!(html_to_text("<div><p>unclosed <b>bold"), "unclosed bold");
        assert_eq!(html_to_text(""), "");
    }

    #[test]
    fn html_quotes_come_out_as_quoted_lines_that_reply_stripping_removes() {
        let html = "<div>Yes please.</div><blockquote class=\"gmail_quote\">Shall we ship it?</blockquote>";
        let text = html_to_text(html);
        assert_eq!(text, "Yes please.\n\n> Shall we ship it?");
        assert_eq!(strip_quoted_reply(&text), "Yes please.");
    }

    #[test]
    fn english_reply_headers_and_quoted_lines_are_removed() {
        let email = "Thanks for the fast replacement! The new kettle works perfectly.\r\n\r\n\
                     On Thu, Mar 13, 2025 at 9:12 AM Example Shop <support@example.com> wrote:\r\n\
                     > Your replacement kettle has shipped.\r\n> Tracking: 123\r\n";
        assert_eq!(
            strip_quoted_reply(email),
            "Thanks for the fast replacement! The new kettle works perfectly."
        );
    }

    #[test]
    fn a_reply_header_wrapped_onto_two_lines_is_recognized() {
        let email = "Please cancel my subscription.\n\nOn Fri, 14 Mar 2025 at 10:00, Example Shop <\nsupport@example.com> wrote:\n\nquoted without markers";
        assert_eq!(strip_quoted_reply(email), "Please cancel my subscription.");
    }

    #[test]
    fn indonesian_reply_headers_are_removed() {
        let email = "Terima kasih, barangnya sudah sampai.\n\nPada Jum, 14 Mar 2025 pukul 10.00, Toko Contoh <cs@example.com> menulis:\n> Pesanan Anda sudah dikirim.";
        assert_eq!(
            strip_quoted_reply(email),
            "Terima kasih, barangnya sudah sampai."
        );
    }

    #[test]
    fn outlook_blocks_signatures_and_mobile_footers_are_removed() {
        let outlook = "Yes, please.\n\nFrom: Example Shop <support@example.com>\nSent: Friday, March 14, 2025 10:00 AM\nSubject: Re: order";
        assert_eq!(strip_quoted_reply(outlook), "Yes, please.");
        let signed = "See you soon.\n-- \nCustomer Q\nCEO, Example Corp";
        assert_eq!(strip_quoted_reply(signed), "See you soon.");
        let mobile = "Ok!\n\nSent from my iPhone";
        assert_eq!(strip_quoted_reply(mobile), "Ok!");
    }

    #[test]
    fn sentences_that_merely_start_with_on_are_kept() {
        let text = "On Monday I ordered two pairs.\nThey have not arrived.";
        assert_eq!(strip_quoted_reply(text), text);
    }

    #[test]
    fn cleaning_unifies_newlines_and_drops_control_characters() {
        assert_eq!(clean("  a\r\nb\u{0}\r\r\n\n\nc\t \n"), "a\nb\n\nc");
    }

    #[test]
    fn truncation_never_splits_a_character() {
        let text = "ab🙏";
        assert_eq!(truncate_at_char_boundary(text, 3), "ab");
        assert_eq!(truncate_at_char_boundary(text, 6), "ab🙏");
        assert_eq!(truncate_at_char_boundary(text, 100), "ab🙏");
    }
}
