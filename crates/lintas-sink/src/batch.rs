//! Per-partition batches cut deterministically from Kafka offsets.
//!
//! Each partition has at most one *open* batch and a queue of *closed* batches waiting for
//! ClickHouse. A batch is a contiguous range of records `[first_offset, last_offset]` of one
//! partition: every record in that range is in it, either as an encoded row or as a dead record
//! bound for the DLQ (undecodable or invalid).
//!
//! **Cut rule.** A batch closes right after the record that makes it reach
//! `sink.batch_max_rows` records or `sink.batch_max_bytes` encoded bytes. The next batch starts at
//! the following record. Both limits depend only on the records, so the same records read again
//! (after a crash, a rebalance or a restart) are cut into the same ranges and carry the same
//! insert deduplication token. A batch whose first record has waited `sink.batch_max_wait` is
//! closed early at whatever record it reached: that cut depends on timing, so when such a batch
//! was inserted but not committed before a crash, its re-read range may differ and its token
//! with it; those rows are collapsed by the table's `ReplacingMergeTree` key (`event_id`) at
//! query time (`FINAL`). Batches are committed strictly in order per partition, so the
//! committed offset is always the end of an inserted batch plus one.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use sha2::{Digest, Sha256};

/// The size limits of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchLimits {
    /// Records (rows and dead records) that close a batch.
    pub(crate) max_records: u64,
    /// Encoded bytes that close a batch.
    pub(crate) max_bytes: u64,
}

/// A record that will not become a row: it goes to the DLQ with its original bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeadRecord {
    pub(crate) offset: i64,
    pub(crate) payload: Vec<u8>,
    /// Stable error kind for the DLQ header and metric label.
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) tenant: Option<String>,
}

/// One encoded row of a batch: its offset and where its bytes are in [`Batch::data`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowSpan {
    pub(crate) offset: i64,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A contiguous offset range of one partition, with its encoded rows.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) partition: i32,
    pub(crate) first_offset: i64,
    pub(crate) last_offset: i64,
    /// RowBinary of every row, concatenated in offset order.
    pub(crate) data: Vec<u8>,
    pub(crate) rows: Vec<RowSpan>,
    /// The original Kafka bytes of every row, parallel to `rows`, for the DLQ when ClickHouse
    /// rejects a row.
    pub(crate) payloads: Vec<Vec<u8>>,
    /// Tenant of every row, parallel to `rows` (DLQ header).
    pub(crate) tenants: Vec<String>,
    pub(crate) dead: Vec<DeadRecord>,
    pub(crate) records: u64,
    pub(crate) opened_at: Instant,
    /// Set once ClickHouse accepted the rows, so a failure in the DLQ step does not insert them
    /// again (the rows it refused are then in `dead`).
    pub(crate) inserted: bool,
}

impl Batch {
    fn new(partition: i32, first_offset: i64, opened_at: Instant) -> Self {
        Self {
            partition,
            first_offset,
            last_offset: first_offset,
            data: Vec::new(),
            rows: Vec::new(),
            payloads: Vec::new(),
            tenants: Vec::new(),
            dead: Vec::new(),
            records: 0,
            opened_at,
            inserted: false,
        }
    }

    fn is_full(&self, limits: BatchLimits) -> bool {
        self.records >= limits.max_records || self.data.len() as u64 >= limits.max_bytes
    }

    /// Number of encoded rows.
    pub(crate) fn num_rows(&self) -> usize {
        self.rows.len()
    }
}

/// The ClickHouse `insert_deduplication_token` of the rows `[first, last]` of a partition: a
/// SHA-256 over the topic, partition and offsets, hex encoded. Equal ranges give equal tokens
/// in every process, whatever the rows' content.
pub(crate) fn dedup_token(topic: &str, partition: i32, first: i64, last: i64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"lintas-sink/v1\0");
    hasher.update(topic.as_bytes());
    hasher.update(b"\0");
    hasher.update(partition.to_be_bytes());
    hasher.update(first.to_be_bytes());
    hasher.update(last.to_be_bytes());
    hex::encode(hasher.finalize())
}

#[derive(Debug, Default)]
struct PartitionBatches {
    open: Option<Batch>,
    closed: VecDeque<Batch>,
}

/// Open and closed batches of every assigned partition.
#[derive(Debug)]
pub(crate) struct Batcher {
    limits: BatchLimits,
    partitions: BTreeMap<i32, PartitionBatches>,
}

impl Batcher {
    pub(crate) fn new(limits: BatchLimits) -> Self {
        Self {
            limits,
            partitions: BTreeMap::new(),
        }
    }

    fn open_batch(&mut self, partition: i32, offset: i64, now: Instant) -> &mut Batch {
        let state = self.partitions.entry(partition).or_default();
        state
            .open
            .get_or_insert_with(|| Batch::new(partition, offset, now))
    }

    fn close_if_full(&mut self, partition: i32) {
        let limits = self.limits;
        if let Some(state) = self.partitions.get_mut(&partition)
            && state
                .open
                .as_ref()
                .is_some_and(|batch| batch.is_full(limits))
            && let Some(batch) = state.open.take()
        {
            state.closed.push_back(batch);
        }
    }

    /// Adds an encoded row read at `offset`.
    pub(crate) fn push_row(
        &mut self,
        partition: i32,
        offset: i64,
        encoded: &[u8],
        payload: Vec<u8>,
        tenant: String,
        now: Instant,
    ) {
        let batch = self.open_batch(partition, offset, now);
        debug_assert!(offset > batch.last_offset || batch.records == 0);
        let start = batch.data.len();
        batch.data.extend_from_slice(encoded);
        batch.rows.push(RowSpan {
            offset,
            start,
            end: batch.data.len(),
        });
        batch.payloads.push(payload);
        batch.tenants.push(tenant);
        batch.last_offset = offset;
        batch.records += 1;
        self.close_if_full(partition);
    }

    /// Adds a record that goes to the DLQ instead of ClickHouse.
    pub(crate) fn push_dead(&mut self, partition: i32, dead: DeadRecord, now: Instant) {
        let offset = dead.offset;
        let batch = self.open_batch(partition, offset, now);
        batch.dead.push(dead);
        batch.last_offset = offset;
        batch.records += 1;
        self.close_if_full(partition);
    }

    /// Closes every open batch whose first record arrived at or before `cutoff`.
    pub(crate) fn close_older_than(&mut self, cutoff: Instant) {
        for state in self.partitions.values_mut() {
            if state
                .open
                .as_ref()
                .is_some_and(|batch| batch.opened_at <= cutoff)
                && let Some(batch) = state.open.take()
            {
                state.closed.push_back(batch);
            }
        }
    }

    /// Closes every open batch (shutdown).
    pub(crate) fn close_all(&mut self) {
        for state in self.partitions.values_mut() {
            if let Some(batch) = state.open.take() {
                state.closed.push_back(batch);
            }
        }
    }

    /// When the oldest open batch was opened, to arm the flush timer.
    pub(crate) fn oldest_open(&self) -> Option<Instant> {
        self.partitions
            .values()
            .filter_map(|state| state.open.as_ref().map(|batch| batch.opened_at))
            .min()
    }

    /// Takes the next closed batch, oldest first across partitions. The caller must either
    /// finish it or give it back with [`Batcher::give_back`].
    pub(crate) fn take_closed(&mut self) -> Option<Batch> {
        let partition = self
            .partitions
            .iter()
            .filter_map(|(partition, state)| {
                state
                    .closed
                    .front()
                    .map(|batch| (batch.opened_at, *partition))
            })
            .min()?
            .1;
        self.partitions.get_mut(&partition)?.closed.pop_front()
    }

    /// Returns a batch that could not be finished to the front of its partition's queue, so it
    /// is retried before any later batch of that partition.
    pub(crate) fn give_back(&mut self, batch: Batch) {
        self.partitions
            .entry(batch.partition)
            .or_default()
            .closed
            .push_front(batch);
    }

    /// Forgets every batch of `partition` (revoked: the next owner reads them again).
    pub(crate) fn forget(&mut self, partition: i32) -> u64 {
        self.partitions.remove(&partition).map_or(0, |state| {
            state
                .open
                .iter()
                .chain(state.closed.iter())
                .map(|batch| batch.num_rows() as u64)
                .sum()
        })
    }

    /// First offset of `partition` still held in a batch (not yet committed), if any.
    pub(crate) fn first_buffered_offset(&self, partition: i32) -> Option<i64> {
        let state = self.partitions.get(&partition)?;
        state
            .closed
            .front()
            .or(state.open.as_ref())
            .map(|batch| batch.first_offset)
    }

    /// Whether any closed batch waits for ClickHouse.
    pub(crate) fn has_closed(&self) -> bool {
        self.partitions
            .values()
            .any(|state| !state.closed.is_empty())
    }

    /// Rows held in memory, open and closed.
    pub(crate) fn buffered_rows(&self) -> u64 {
        self.partitions
            .values()
            .flat_map(|state| state.open.iter().chain(state.closed.iter()))
            .map(|batch| batch.num_rows() as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_records: u64, max_bytes: u64) -> BatchLimits {
        BatchLimits {
            max_records,
            max_bytes,
        }
    }

    fn dead(offset: i64) -> DeadRecord {
        DeadRecord {
            offset,
            payload: vec![0xff],
            kind: "decode",
            message: "bad".into(),
            tenant: None,
        }
    }

    /// Feeds offsets `from..to` of partition 0 (every fifth one dead) and returns the ranges.
    fn cut(batcher: &mut Batcher, from: i64, to: i64) -> Vec<(i64, i64)> {
        let now = Instant::now();
        let mut ranges = Vec::new();
        for offset in from..to {
            if offset % 5 == 4 {
                batcher.push_dead(0, dead(offset), now);
            } else {
                batcher.push_row(0, offset, &[1, 2, 3], vec![], "t".into(), now);
            }
            while let Some(batch) = batcher.take_closed() {
                ranges.push((batch.first_offset, batch.last_offset));
            }
        }
        ranges
    }

    #[test]
    fn batches_close_at_the_record_limit_and_cover_every_offset() {
        let mut batcher = Batcher::new(limits(4, u64::MAX));
        let ranges = cut(&mut batcher, 0, 10);
        assert_eq!(ranges, vec![(0, 3), (4, 7)]);
        batcher.close_all();
        let rest = batcher.take_closed().expect("open batch closed");
        assert_eq!((rest.first_offset, rest.last_offset), (8, 9));
        assert_eq!(rest.num_rows(), 1);
        assert_eq!(rest.dead.len(), 1);
    }

    #[test]
    fn batches_close_at_the_byte_limit() {
        let mut batcher = Batcher::new(limits(1000, 7));
        // Three bytes per row: the third row reaches 9 >= 7 bytes and closes the batch.
        let now = Instant::now();
        for offset in 0..3 {
            batcher.push_row(0, offset, &[1, 2, 3], vec![], "t".into(), now);
        }
        let batch = batcher.take_closed().expect("closed by bytes");
        assert_eq!((batch.first_offset, batch.last_offset), (0, 2));
        assert_eq!(batch.data.len(), 9);
    }

    #[test]
    fn re_reading_from_a_committed_offset_cuts_the_same_ranges() {
        let mut first_run = Batcher::new(limits(3, u64::MAX));
        let all = cut(&mut first_run, 0, 30);
        // A crash after committing the end of the third batch: the restart reads from there.
        let committed = all[2].1 + 1;
        let mut second_run = Batcher::new(limits(3, u64::MAX));
        let again = cut(&mut second_run, committed, 30);
        assert_eq!(again, all[3..].to_vec());
        let tokens = |ranges: &[(i64, i64)]| -> Vec<String> {
            ranges
                .iter()
                .map(|(first, last)| dedup_token("topic", 0, *first, *last))
                .collect()
        };
        assert_eq!(tokens(&again), tokens(&all[3..]));
    }

    #[test]
    fn tokens_differ_by_topic_partition_and_range() {
        let base = dedup_token("t", 1, 10, 20);
        assert_eq!(base, dedup_token("t", 1, 10, 20));
        assert_ne!(base, dedup_token("u", 1, 10, 20));
        assert_ne!(base, dedup_token("t", 2, 10, 20));
        assert_ne!(base, dedup_token("t", 1, 11, 20));
        assert_ne!(base, dedup_token("t", 1, 10, 21));
        assert_eq!(base.len(), 64);
    }

    #[test]
    fn old_open_batches_close_on_time_and_given_back_batches_come_first() {
        let mut batcher = Batcher::new(limits(100, u64::MAX));
        let early = Instant::now();
        batcher.push_row(0, 0, &[1], vec![], "t".into(), early);
        let later = early + std::time::Duration::from_secs(5);
        batcher.push_row(1, 7, &[1], vec![], "t".into(), later);
        assert_eq!(batcher.oldest_open(), Some(early));
        batcher.close_older_than(early);
        assert!(batcher.has_closed());
        let batch = batcher.take_closed().expect("partition 0 closed");
        assert_eq!(batch.partition, 0);
        assert!(batcher.take_closed().is_none(), "partition 1 is still open");
        batcher.give_back(batch);
        assert_eq!(batcher.first_buffered_offset(0), Some(0));
        assert_eq!(batcher.first_buffered_offset(1), Some(7));
        assert_eq!(batcher.first_buffered_offset(2), None);
        assert_eq!(batcher.buffered_rows(), 2);
        assert_eq!(batcher.forget(0), 1);
        assert_eq!(batcher.buffered_rows(), 1);
    }
}
