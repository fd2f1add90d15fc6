//! The sink's Kafka consumer: rebalance events for the batch loop (lag: [`crate::lag`]).

use std::sync::{Arc, Mutex, PoisonError};

use lintas_config::Config;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::error::SinkError;

/// A change of this member's partitions, in the order librdkafka reported them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Assignment {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
}

/// Rebalance callbacks run inside the consumer's poll, on the batch loop's own task, so they
/// only record what changed; the loop applies it before handling the next record (a record
/// polled after a re-assignment always comes after the events that led to it).
#[derive(Debug, Clone)]
pub(crate) struct SinkContext {
    topic: String,
    events: Arc<Mutex<Vec<Assignment>>>,
}

impl SinkContext {
    pub(crate) fn take_events(&self) -> Vec<Assignment> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn partitions(&self, list: &TopicPartitionList) -> Vec<i32> {
        list.elements()
            .iter()
            .filter(|element| element.topic() == self.topic)
            .map(|element| element.partition())
            .collect()
    }

    fn record(&self, event: Assignment) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }
}

impl ClientContext for SinkContext {}

impl ConsumerContext for SinkContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let partitions = self.partitions(list);
            tracing::info!(?partitions, "partitions revoked");
            self.record(Assignment::Revoked(partitions));
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let partitions = self.partitions(list);
                tracing::info!(?partitions, "partitions assigned");
                self.record(Assignment::Assigned(partitions));
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(error) => tracing::warn!(error = %error, "kafka rebalance failed"),
        }
    }
}

/// The consumer of the classified topic, subscribed.
pub(crate) fn subscribe(
    config: &Config,
) -> Result<(StreamConsumer<SinkContext>, SinkContext), SinkError> {
    // An empty `kafka.brokers` was refused before, by the topic check at start.
    let topic = config.kafka.topic_classified.clone();
    let consumer_error = |source| SinkError::Consumer {
        topic: config.kafka.topic_classified.clone(),
        source,
    };
    let context = SinkContext {
        topic: topic.clone(),
        events: Arc::default(),
    };
    let client_config = lintas_kafka::consumer_config(
        &config.kafka,
        &config.kafka.bootstrap_servers(),
        &config.sink.group_id,
    );
    let consumer: StreamConsumer<SinkContext> = client_config
        .create_with_context(context.clone())
        .map_err(consumer_error)?;
    consumer.subscribe(&[&topic]).map_err(consumer_error)?;
    Ok((consumer, context))
}

/// `partitions` of `topic` as a list for pause and resume.
pub(crate) fn partition_list(
    topic: &str,
    partitions: impl IntoIterator<Item = i32>,
) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for partition in partitions {
        list.add_partition(topic, partition);
    }
    list
}

/// The offset to commit after `last_offset`: the next record to read.
pub(crate) fn commit_list(topic: &str, partition: i32, last_offset: i64) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    // add_partition_offset only fails for an invalid offset, and last_offset + 1 is valid.
    list.add_partition_offset(topic, partition, Offset::Offset(last_offset + 1))
        .ok();
    list
}
