//! Customer handles: `<namespace>:<value>`.
//!
//! `customer_id` keeps the value as the platform carries it (`whatsapp:15555550106` from Meta,
//! `whatsapp:+15555550102` from Twilio), so it is stable for that source. Normalized forms that
//! let identity resolution join sources (`phone:+15555550106`, a lowercased `email:`) go into
//! `customer_handles`.

/// `namespace:value` with `value` trimmed; `None` when the value is empty.
pub fn handle(namespace: &str, value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    Some(format!("{namespace}:{value}"))
}

/// `phone:+<digits>` in E.164 form from `+1 555-555-0101`, `15555550101` (WhatsApp `wa_id`) or
/// `(+1) 555.555.0101`; `None` unless 7 to 15 digits remain.
pub fn phone_handle(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let mut digits = String::with_capacity(16);
    for character in raw.chars() {
        match character {
            '0'..='9' => digits.push(character),
            ' ' | '-' | '.' | '(' | ')' | '+' => {}
            _ => return None,
        }
    }
    (7..=15)
        .contains(&digits.len())
        .then(|| format!("phone:+{digits}"))
}

/// `email:<address>` lowercased; `None` unless it looks like `local@domain`.
pub fn email_handle(raw: &str) -> Option<String> {
    let address = raw.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, domain) = address.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then(|| format!("email:{}", address.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_become_e164_handles() {
        assert_eq!(
            phone_handle("15555550106").as_deref(),
            Some("phone:+15555550106")
        );
        assert_eq!(
            phone_handle("+1 555-555-0101").as_deref(),
            Some("phone:+15555550101")
        );
        assert_eq!(phone_handle("123"), None);
        assert_eq!(phone_handle("whatsapp:+15555550102"), None);
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            email_handle(" Customer.I@Example.com ").as_deref(),
            Some("email:customer.i@example.com")
        );
        assert_eq!(email_handle("<a@b.co>").as_deref(), Some("email:a@b.co"));
        assert_eq!(email_handle("not an email"), None);
        assert_eq!(email_handle("a@localhost"), None);
    }

    #[test]
    fn empty_values_make_no_handle() {
        assert_eq!(handle("stripe_customer", "  "), None);
        assert_eq!(handle("psid", "7000").as_deref(), Some("psid:7000"));
    }
}
