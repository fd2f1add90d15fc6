//! Consumer lag: records of the classified topic this sink has not yet made durable.
//!
//! librdkafka's statistics compute lag from fetch responses, so a paused partition's lag
//! freezes at its value when consumption paused: exactly when ClickHouse is down and the lag
//! matters most. Instead a background task asks the broker every [`LAG_INTERVAL`] for each
//! assigned partition's end (`ListOffsets` with the consumer's `read_committed` isolation, so
//! the last stable offset: open transactions are not lag) and the group's committed offset, and
//! the batch loop sets `lintas_sink_consumer_lag_messages` to the sum over partitions of
//! `end - frontier`, where the frontier is the first offset still held in a batch, else the
//! consumer's position (which moves past transaction markers), else the committed offset.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use rdkafka::Offset;
use rdkafka::consumer::{Consumer, StreamConsumer};

use crate::consumer::SinkContext;

/// How often the partition ends are asked for and the gauge is set.
pub(crate) const LAG_INTERVAL: Duration = Duration::from_secs(2);
/// Longest wait for one broker answer; a broker outage must not pile up blocking calls.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the broker last said about one partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PartitionEnds {
    /// Earliest retained offset (where an uncommitted group starts).
    pub(crate) low: i64,
    /// Last stable offset: the next offset a `read_committed` consumer could be given.
    pub(crate) high: i64,
    /// The group's committed offset, if any.
    pub(crate) committed: Option<i64>,
}

/// Partition ends shared between the reporter task and the batch loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ends(Arc<Mutex<BTreeMap<i32, PartitionEnds>>>);

impl Ends {
    pub(crate) fn snapshot(&self) -> BTreeMap<i32, PartitionEnds> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, ends: BTreeMap<i32, PartitionEnds>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = ends;
    }
}

/// Lag of one partition: `ends.high` minus the frontier (see the module docs), never negative.
pub(crate) fn partition_lag(
    ends: PartitionEnds,
    first_buffered: Option<i64>,
    position: Option<i64>,
) -> i64 {
    let frontier = first_buffered
        .or(position)
        .or(ends.committed)
        .unwrap_or(ends.low);
    (ends.high - frontier).max(0)
}

/// Asks the broker for the ends of every assigned partition of `topic` until the consumer is
/// dropped. Holds the consumer weakly so it never delays the consumer's close.
pub(crate) fn spawn_reporter(
    consumer: Weak<StreamConsumer<SinkContext>>,
    topic: String,
    ends: Ends,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(LAG_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(consumer) = consumer.upgrade() else {
                return;
            };
            let topic = topic.clone();
            // Blocking librdkafka calls (broker round trips): off the async workers.
            let queried = tokio::task::spawn_blocking(move || query_ends(&consumer, &topic)).await;
            match queried {
                Ok(Ok(queried)) => ends.replace(queried),
                Ok(Err(error)) => {
                    tracing::debug!(error = %error, "partition ends not known, lag not updated");
                }
                Err(error) => tracing::debug!(error = %error, "lag query task failed"),
            }
        }
    })
}

fn query_ends(
    consumer: &StreamConsumer<SinkContext>,
    topic: &str,
) -> rdkafka::error::KafkaResult<BTreeMap<i32, PartitionEnds>> {
    let assignment = consumer.assignment()?;
    let mut ends = BTreeMap::new();
    if assignment.count() == 0 {
        return Ok(ends);
    }
    let committed = consumer.committed(QUERY_TIMEOUT)?;
    for element in assignment.elements_for_topic(topic) {
        let partition = element.partition();
        let (low, high) = consumer.fetch_watermarks(topic, partition, QUERY_TIMEOUT)?;
        let committed =
            committed
                .find_partition(topic, partition)
                .and_then(|element| match element.offset() {
                    Offset::Offset(offset) => Some(offset),
                    _ => None,
                });
        ends.insert(
            partition,
            PartitionEnds {
                low,
                high,
                committed,
            },
        );
    }
    Ok(ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENDS: PartitionEnds = PartitionEnds {
        low: 10,
        high: 500,
        committed: Some(300),
    };

    #[test]
    fn buffered_rows_count_as_lag_until_committed() {
        assert_eq!(partition_lag(ENDS, Some(300), Some(420)), 200);
    }

    #[test]
    fn without_buffered_rows_the_position_is_the_frontier() {
        assert_eq!(partition_lag(ENDS, None, Some(420)), 80);
        assert_eq!(partition_lag(ENDS, None, Some(500)), 0);
    }

    #[test]
    fn before_the_first_read_the_committed_offset_then_the_log_start_is_the_frontier() {
        assert_eq!(partition_lag(ENDS, None, None), 200);
        let fresh = PartitionEnds {
            committed: None,
            ..ENDS
        };
        assert_eq!(partition_lag(fresh, None, None), 490);
    }

    #[test]
    fn a_stale_end_never_gives_negative_lag() {
        assert_eq!(partition_lag(ENDS, None, Some(600)), 0);
    }
}
