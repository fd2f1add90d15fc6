//! Customer contexts held in memory, per assigned partition, with an undo log per transaction.
//!
//! The store is the in-memory side of the changelog topic (`kafka.topic_context`): every
//! context changed in a transaction is written to the changelog in that same transaction
//! ([`ContextStore::dirty`]), keyed by the customer key, to the partition number of the raw
//! record. When the transaction commits, the undo log is forgotten; when it aborts, every changed
//! context is put back as it was, so memory never runs ahead of what Kafka committed.

use std::collections::HashMap;

use lintas_classifier::CustomerContext;

/// Contexts of one partition, by customer key (`tenant/customer`, the raw record's key).
pub(crate) type PartitionContexts = HashMap<String, CustomerContext>;

/// Contexts of every assigned partition plus the undo log of the open transaction.
#[derive(Debug, Default)]
pub(crate) struct ContextStore {
    partitions: HashMap<i32, PartitionContexts>,
    /// Value before the open transaction first changed it (`None`: the customer was unknown).
    undo: HashMap<(i32, String), Option<CustomerContext>>,
}

impl ContextStore {
    /// The context of `key` in `partition`; a customer never seen is the default context.
    pub(crate) fn get(&self, partition: i32, key: &str) -> CustomerContext {
        self.partitions
            .get(&partition)
            .and_then(|contexts| contexts.get(key))
            .cloned()
            .unwrap_or_default()
    }

    /// Stores `context` for `key`, remembering the previous value for [`Self::rollback`].
    /// Returns whether anything changed.
    pub(crate) fn update(&mut self, partition: i32, key: &str, context: CustomerContext) -> bool {
        let contexts = self.partitions.entry(partition).or_default();
        let previous = contexts.get(key);
        if previous == Some(&context) {
            return false;
        }
        self.undo
            .entry((partition, key.to_owned()))
            .or_insert_with(|| previous.cloned());
        contexts.insert(key.to_owned(), context);
        true
    }

    /// The contexts changed in the open transaction, with their current value, for the
    /// changelog. A key changed and changed back is written again: harmless, compaction keeps one.
    pub(crate) fn dirty(&self) -> impl Iterator<Item = (i32, &str, Option<&CustomerContext>)> {
        self.undo.keys().map(|(partition, key)| {
            let current = self
                .partitions
                .get(partition)
                .and_then(|contexts| contexts.get(key));
            (*partition, key.as_str(), current)
        })
    }

    /// The open transaction committed: its changes are now the committed state.
    pub(crate) fn commit(&mut self) {
        self.undo.clear();
    }

    /// The open transaction aborted: puts back every context it changed.
    pub(crate) fn rollback(&mut self) {
        for ((partition, key), previous) in self.undo.drain() {
            let Some(contexts) = self.partitions.get_mut(&partition) else {
                continue;
            };
            match previous {
                Some(context) => contexts.insert(key, context),
                None => contexts.remove(&key),
            };
        }
    }

    /// Installs the contexts restored for a newly assigned partition.
    pub(crate) fn insert_partition(&mut self, partition: i32, contexts: PartitionContexts) {
        self.partitions.insert(partition, contexts);
    }

    /// Forgets a revoked partition (its open changes must have been committed or rolled back).
    pub(crate) fn drop_partition(&mut self, partition: i32) {
        self.partitions.remove(&partition);
        self.undo
            .retain(|(undo_partition, _), _| *undo_partition != partition);
    }

    /// Customers held in memory, over all partitions.
    pub(crate) fn customers(&self) -> usize {
        self.partitions.values().map(HashMap::len).sum()
    }
}

/// The changelog value of a context: compact JSON of [`CustomerContext`], e.g.
/// `{"first_seen":"2026-11-30T10:00:00Z","has_purchased":true,"last_purchase":...,"interactions_seen":3}`.
pub(crate) fn encode_context(context: &CustomerContext) -> Vec<u8> {
    // Serializing plain fields (times, bools, integers) to a Vec cannot fail.
    serde_json::to_vec(context).unwrap_or_default()
}

/// Applies one changelog record to the contexts being restored: a value sets the key's context,
/// a tombstone (no value) removes it.
pub(crate) fn apply_changelog_record(
    contexts: &mut PartitionContexts,
    key: &str,
    value: Option<&[u8]>,
) -> Result<(), serde_json::Error> {
    match value {
        Some(bytes) => {
            let context: CustomerContext = serde_json::from_slice(bytes)?;
            contexts.insert(key.to_owned(), context);
        }
        None => {
            contexts.remove(key);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn buyer(seen: u32) -> CustomerContext {
        CustomerContext {
            first_seen: Utc.timestamp_opt(1_700_000_000, 0).single(),
            has_purchased: true,
            last_purchase: Utc.timestamp_opt(1_700_000_500, 0).single(),
            interactions_seen: seen,
        }
    }

    #[test]
    fn a_context_survives_the_changelog_round_trip() {
        let context = buyer(3);
        let mut restored = PartitionContexts::new();
        apply_changelog_record(&mut restored, "acme/c1", Some(&encode_context(&context)))
            .expect("valid json");
        assert_eq!(restored.get("acme/c1"), Some(&context));
        let encoded = String::from_utf8(encode_context(&context)).expect("utf-8");
        assert!(encoded.contains("\"has_purchased\":true"), "{encoded}");
    }

    #[test]
    fn later_changelog_records_win_and_tombstones_remove() {
        let mut restored = PartitionContexts::new();
        apply_changelog_record(&mut restored, "k", Some(&encode_context(&buyer(1)))).expect("ok");
        apply_changelog_record(&mut restored, "k", Some(&encode_context(&buyer(2)))).expect("ok");
        assert_eq!(restored.get("k").map(|c| c.interactions_seen), Some(2));
        apply_changelog_record(&mut restored, "k", None).expect("ok");
        assert!(restored.is_empty());
    }

    #[test]
    fn a_corrupt_changelog_value_is_an_error_not_a_default() {
        let mut restored = PartitionContexts::new();
        assert!(apply_changelog_record(&mut restored, "k", Some(b"{not json")).is_err());
        assert!(restored.is_empty());
    }

    #[test]
    fn rollback_restores_changed_contexts_and_forgets_new_ones() {
        let mut store = ContextStore::default();
        store.update(0, "known", buyer(1));
        store.commit();

        assert!(store.update(0, "known", buyer(2)));
        assert!(store.update(0, "known", buyer(3)));
        assert!(store.update(1, "new", buyer(1)));
        assert_eq!(store.dirty().count(), 2);
        store.rollback();

        assert_eq!(store.get(0, "known"), buyer(1));
        assert_eq!(store.get(1, "new"), CustomerContext::default());
        assert_eq!(store.customers(), 1);
        assert_eq!(store.dirty().count(), 0);
    }

    #[test]
    fn an_unchanged_context_is_not_dirty() {
        let mut store = ContextStore::default();
        store.update(0, "k", buyer(1));
        store.commit();
        assert!(!store.update(0, "k", buyer(1)));
        assert_eq!(store.dirty().count(), 0);
    }

    #[test]
    fn dirty_lists_each_changed_key_once_with_its_latest_value() {
        let mut store = ContextStore::default();
        store.update(3, "k", buyer(1));
        store.update(3, "k", buyer(5));
        let dirty: Vec<(i32, String, Option<u32>)> = store
            .dirty()
            .map(|(p, k, c)| (p, k.to_owned(), c.map(|c| c.interactions_seen)))
            .collect();
        assert_eq!(dirty, vec![(3, "k".to_owned(), Some(5))]);
    }

    #[test]
    fn dropping_a_partition_forgets_its_contexts_and_undo_entries() {
        let mut store = ContextStore::default();
        store.update(0, "a", buyer(1));
        store.update(1, "b", buyer(1));
        store.drop_partition(0);
        assert_eq!(store.customers(), 1);
        assert_eq!(store.dirty().count(), 1);
        assert_eq!(store.get(0, "a"), CustomerContext::default());
    }
}
