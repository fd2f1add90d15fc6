//! One module per platform, and the one place that registers them.

pub mod chatwoot;
pub mod email;
pub mod instagram;
pub mod mailgun;
pub mod messenger;
pub mod meta;
mod meta_messaging;
pub mod postmark;
pub mod segment;
pub mod shopify;
pub mod stripe;
pub mod telegram;
pub mod twilio;
pub mod typeform;
pub mod whatsapp;
pub mod zendesk;

use crate::Adapter;

/// Every adapter, in source-id order. Adding a platform = one module above + one line here.
static REGISTRY: &[&dyn Adapter] = &[
    &chatwoot::Chatwoot,
    &instagram::ADAPTER,
    &mailgun::Mailgun,
    &messenger::ADAPTER,
    &postmark::Postmark,
    &segment::Segment,
    &shopify::Shopify,
    &stripe::Stripe,
    &telegram::Telegram,
    &twilio::Twilio,
    &typeform::Typeform,
    &whatsapp::Whatsapp,
    &zendesk::Zendesk,
];

/// Every registered adapter.
pub fn registry() -> &'static [&'static dyn Adapter] {
    REGISTRY
}

/// The adapter for `source_id` (the `{source}` URL segment); `None` means 404.
pub fn adapter(source_id: &str) -> Option<&'static dyn Adapter> {
    REGISTRY
        .iter()
        .copied()
        .find(|adapter| adapter.id() == source_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ids_are_unique_sorted_and_valid_slugs() {
        let ids: Vec<&str> = registry().iter().map(|adapter| adapter.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            ids, sorted,
            "registry must be sorted and free of duplicates"
        );
        for id in ids {
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{id}"
            );
            assert_eq!(adapter(id).map(|found| found.id()), Some(id));
        }
        assert!(adapter("nope").is_none());
    }

    #[test]
    fn every_adapter_names_its_signing_secret() {
        for adapter in registry() {
            assert!(!adapter.secret_names().is_empty(), "{}", adapter.id());
        }
    }
}
