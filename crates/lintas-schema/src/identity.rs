//! Event identity.
//!
//! A platform that retries a webhook sends the same message id again. Deriving `event_id` as a
//! UUIDv5 over (tenant, source, source id) makes that redelivery the very same event, which the
//! ClickHouse `ReplacingMergeTree` on `event_id` then collapses. Only events whose source carries
//! no stable id get a random, time-ordered UUIDv7.

use uuid::Uuid;

/// Namespace of all Lintas event ids. Fixed forever: changing it would change every derived id
/// and break deduplication across versions.
pub const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6c69_6e74_6173_4e53_8000_0000_0000_0001);

/// How an event got its id; stored nowhere, but lets callers count minted ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventIdentity {
    /// Derived from a stable source id: redeliveries map to the same id.
    Derived,
    /// Minted at random: the source carried no stable id.
    Minted,
}

/// The deterministic event id for `source_id` as sent by `source` for `tenant`.
///
/// The three parts are joined with the ASCII unit separator (0x1F), which cannot occur in tenant
/// or source ids, so `("a/b", "c")` and `("a", "b/c")` can never collide.
pub fn derive_event_id(tenant: &str, source: &str, source_id: &str) -> Uuid {
    let mut name = Vec::with_capacity(tenant.len() + source.len() + source_id.len() + 2);
    name.extend_from_slice(tenant.as_bytes());
    name.push(0x1f);
    name.extend_from_slice(source.as_bytes());
    name.push(0x1f);
    name.extend_from_slice(source_id.as_bytes());
    Uuid::new_v5(&EVENT_ID_NAMESPACE, &name)
}

/// A fresh random, time-ordered id for an event without a stable source id.
pub fn mint_event_id() -> Uuid {
    Uuid::now_v7()
}

/// The event id for an event: derived when `source_id` is present and non-empty, minted otherwise.
pub fn event_id_for(tenant: &str, source: &str, source_id: Option<&str>) -> (Uuid, EventIdentity) {
    match source_id.map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => (derive_event_id(tenant, source, id), EventIdentity::Derived),
        None => (mint_event_id(), EventIdentity::Minted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_same_source_id_always_yields_the_same_event_id() {
        let first = derive_event_id("acme", "whatsapp", "wamid.HBgLMTU1NTU1NTAxMDE");
        let again = derive_event_id("acme", "whatsapp", "wamid.HBgLMTU1NTU1NTAxMDE");
        assert_eq!(first, again);
        assert_eq!(first.get_version_num(), 5);
    }

    #[test]
    fn derived_ids_are_pinned_so_upgrades_keep_deduplicating() {
        // If this changes, redeliveries across a Lintas upgrade would stop deduplicating. The value
        // was cross-checked with Python: uuid.uuid5(NAMESPACE, "acme\x1fstripe\x1fevt_1").
        let id = derive_event_id("acme", "stripe", "evt_1");
        assert_eq!(id, derive_event_id("acme", "stripe", "evt_1"));
        assert_eq!(id.to_string(), PINNED_ACME_STRIPE_EVT_1);
    }

    const PINNED_ACME_STRIPE_EVT_1: &str = "1a4b940a-2ade-5631-a74b-b6afc5f62f9b";

    #[test]
    fn tenant_and_source_are_part_of_the_identity() {
        let base = derive_event_id("acme", "stripe", "evt_1");
        assert_ne!(base, derive_event_id("other", "stripe", "evt_1"));
        assert_ne!(base, derive_event_id("acme", "shopify", "evt_1"));
    }

    #[test]
    fn shifting_a_separator_between_parts_changes_the_id() {
        assert_ne!(
            derive_event_id("a/b", "c", "d"),
            derive_event_id("a", "b/c", "d")
        );
    }

    #[test]
    fn events_without_a_source_id_get_a_random_v7() {
        let (first, how) = event_id_for("acme", "api", None);
        let (second, _) = event_id_for("acme", "api", Some("  "));
        assert_eq!(how, EventIdentity::Minted);
        assert_eq!(first.get_version_num(), 7);
        assert_ne!(first, second);
    }

    proptest! {
        #[test]
        fn derivation_is_a_function_of_its_inputs(
            tenant in "[a-z0-9-]{1,20}", source in "[a-z_]{1,12}", id in ".{1,40}"
        ) {
            prop_assume!(!id.trim().is_empty());
            let (derived, how) = event_id_for(&tenant, &source, Some(&id));
            prop_assert_eq!(how, EventIdentity::Derived);
            prop_assert_eq!(derived, derive_event_id(&tenant, &source, id.trim()));
        }
    }
}
