//! The open transaction's bookkeeping: which offsets it consumed, when it started, what it
//! produced; and the policy that says when to commit it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::metrics::CLASSIFIED_SLOTS;

/// When a transaction is committed: after `max_records` consumed records or `max_wait` after
/// its first record, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchPolicy {
    pub(crate) max_records: u32,
    pub(crate) max_wait: Duration,
}

/// The records of the open transaction.
#[derive(Debug)]
pub(crate) struct Batch {
    started: Option<Instant>,
    records: u32,
    /// Per partition: offset of the first record in this transaction, where to rewind on abort.
    first_offsets: BTreeMap<i32, i64>,
    /// Per partition: offset after the last record, what the transaction commits.
    next_offsets: BTreeMap<i32, i64>,
    /// Classified records by `(type, stage)` slot, counted into metrics on commit.
    pub(crate) classified: Vec<u64>,
    /// Dead-lettered records by kind, counted into metrics on commit.
    pub(crate) rejected: BTreeMap<&'static str, u64>,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            started: None,
            records: 0,
            first_offsets: BTreeMap::new(),
            next_offsets: BTreeMap::new(),
            classified: vec![0; CLASSIFIED_SLOTS],
            rejected: BTreeMap::new(),
        }
    }
}

impl Batch {
    /// Whether a transaction is open (a record was added since the last reset).
    pub(crate) fn is_open(&self) -> bool {
        self.started.is_some()
    }

    /// Marks the transaction open at `now` if it was not; returns whether it was just opened.
    pub(crate) fn open(&mut self, now: Instant) -> bool {
        if self.started.is_some() {
            return false;
        }
        self.started = Some(now);
        true
    }

    /// Adds a consumed record at `offset` of `partition`.
    pub(crate) fn add(&mut self, partition: i32, offset: i64) {
        self.records = self.records.saturating_add(1);
        self.first_offsets.entry(partition).or_insert(offset);
        let next = self.next_offsets.entry(partition).or_insert(offset + 1);
        *next = (*next).max(offset + 1);
    }

    /// Records consumed in this transaction.
    pub(crate) fn records(&self) -> u32 {
        self.records
    }

    /// Whether `policy` says commit now.
    pub(crate) fn is_due(&self, policy: &BatchPolicy, now: Instant) -> bool {
        match self.started {
            None => false,
            Some(started) => {
                self.records >= policy.max_records
                    || now.saturating_duration_since(started) >= policy.max_wait
            }
        }
    }

    /// How long the transaction has been open.
    pub(crate) fn age(&self, now: Instant) -> Duration {
        self.started.map_or(Duration::ZERO, |started| {
            now.saturating_duration_since(started)
        })
    }

    /// Offsets to commit with the transaction: per partition, the offset after its last record.
    pub(crate) fn next_offsets(&self) -> &BTreeMap<i32, i64> {
        &self.next_offsets
    }

    /// Offsets to rewind to when the transaction aborts: per partition, its first record.
    pub(crate) fn first_offsets(&self) -> &BTreeMap<i32, i64> {
        &self.first_offsets
    }

    /// Forgets everything: the transaction committed or aborted.
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: BatchPolicy = BatchPolicy {
        max_records: 3,
        max_wait: Duration::from_millis(100),
    };

    #[test]
    fn an_empty_batch_is_never_due() {
        let batch = Batch::default();
        assert!(!batch.is_open());
        assert!(!batch.is_due(&POLICY, Instant::now() + Duration::from_secs(60)));
    }

    #[test]
    fn a_batch_is_due_at_the_record_bound() {
        let start = Instant::now();
        let mut batch = Batch::default();
        assert!(batch.open(start));
        assert!(!batch.open(start));
        batch.add(0, 10);
        batch.add(0, 11);
        assert!(!batch.is_due(&POLICY, start));
        batch.add(1, 5);
        assert!(batch.is_due(&POLICY, start));
    }

    #[test]
    fn a_batch_is_due_when_its_first_record_waited_max_wait() {
        let start = Instant::now();
        let mut batch = Batch::default();
        batch.open(start);
        batch.add(0, 1);
        assert!(!batch.is_due(&POLICY, start + Duration::from_millis(99)));
        assert!(batch.is_due(&POLICY, start + Duration::from_millis(100)));
    }

    #[test]
    fn offsets_commit_after_the_last_record_and_rewind_to_the_first() {
        let mut batch = Batch::default();
        batch.open(Instant::now());
        for (partition, offset) in [(0, 7), (2, 40), (0, 8), (0, 9), (2, 41)] {
            batch.add(partition, offset);
        }
        assert_eq!(batch.records(), 5);
        assert_eq!(
            batch
                .next_offsets()
                .iter()
                .map(|(p, o)| (*p, *o))
                .collect::<Vec<_>>(),
            vec![(0, 10), (2, 42)]
        );
        assert_eq!(
            batch
                .first_offsets()
                .iter()
                .map(|(p, o)| (*p, *o))
                .collect::<Vec<_>>(),
            vec![(0, 7), (2, 40)]
        );
        batch.reset();
        assert!(!batch.is_open());
        assert!(batch.next_offsets().is_empty());
    }
}
