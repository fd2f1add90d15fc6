//! One module per platform, and the one place that registers them.

pub mod meta;
pub mod stripe;
pub mod twilio;
pub mod whatsapp;

use crate::Adapter;

/// Every adapter, in source-id order. Adding a platform = one module above + one line here.
static REGISTRY: &[&dyn Adapter] = &[&stripe::Stripe, &twilio::Twilio, &whatsapp::Whatsapp];

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
