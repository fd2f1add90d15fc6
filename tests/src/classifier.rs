//! Helpers of the classifier tests: private topics, raw events in, classified records out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use lintas_kafka::topics::{TopicSpec, apply_topics};
use lintas_schema::v1::{ClassifiedInteraction, InteractionEvent};
use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message as _, Offset, TopicPartitionList};

use crate::{kafka_brokers, test_config, unique_name};

/// Partitions of the test's raw topic (and its context changelog).
pub const PARTITIONS: i32 = 4;

/// Unique topic names and group of one test, as `LINTAS__...` env pairs.
#[derive(Debug, Clone)]
pub struct ClassifierTopics {
    /// Raw input topic.
    pub raw: String,
    /// Classified output topic.
    pub classified: String,
    /// Dead-letter topic.
    pub dlq: String,
    /// Context changelog topic.
    pub context: String,
    /// Consumer group of the classifier.
    pub group: String,
    /// Instance id (part of the transactional.id), stable across restarts within the test.
    pub instance: String,
}

impl ClassifierTopics {
    /// Creates the four topics on the real broker.
    pub async fn create(prefix: &str) -> anyhow::Result<Self> {
        let topics = Self {
            raw: unique_name(&format!("{prefix}_raw")),
            classified: unique_name(&format!("{prefix}_classified")),
            dlq: unique_name(&format!("{prefix}_dlq")),
            context: unique_name(&format!("{prefix}_context")),
            group: unique_name(&format!("{prefix}_group")),
            instance: unique_name("instance"),
        };
        let retention = Duration::from_secs(3600);
        let specs = [
            TopicSpec::with_retention(&topics.raw, PARTITIONS, 1, retention),
            TopicSpec::with_retention(&topics.classified, PARTITIONS, 1, retention),
            TopicSpec::with_retention(&topics.dlq, 1, 1, retention),
            TopicSpec::compacted(&topics.context, PARTITIONS, 1),
        ];
        let config = test_config(&[]);
        let admin = lintas_kafka::client::base_config(&config.kafka, &kafka_brokers());
        apply_topics(&admin, &specs, Duration::from_secs(30)).await?;
        Ok(topics)
    }

    /// The env that points a classifier at these topics and the real broker.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("LINTAS__KAFKA__BROKERS", kafka_brokers()),
            ("LINTAS__KAFKA__TOPIC_RAW", self.raw.clone()),
            ("LINTAS__KAFKA__TOPIC_CLASSIFIED", self.classified.clone()),
            ("LINTAS__KAFKA__TOPIC_DLQ", self.dlq.clone()),
            ("LINTAS__KAFKA__TOPIC_CONTEXT", self.context.clone()),
            ("LINTAS__CLASSIFIER__GROUP_ID", self.group.clone()),
            ("LINTAS__CLASSIFIER__INSTANCE_ID", self.instance.clone()),
            ("LINTAS__TELEMETRY__ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// A validated config with [`Self::env`].
    pub fn config(&self) -> lintas_config::Config {
        let env = self.env();
        let pairs: Vec<(&str, &str)> = env
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        test_config(&pairs)
    }
}

/// A plain (non-transactional) producer to the real broker.
pub fn producer() -> anyhow::Result<FutureProducer> {
    let config = test_config(&[]);
    Ok(lintas_kafka::producer_config(&config.kafka, &kafka_brokers()).create()?)
}

/// A chat event of `customer` with a fresh event id.
pub fn chat_event(customer: &str, text: &str) -> InteractionEvent {
    let mut event = lintas_schema::example::example_event();
    event.event_id = uuid::Uuid::now_v7().to_string();
    event.customer_id = customer.to_owned();
    event.conversation_id = customer.to_owned();
    event.source_event_id = event.event_id.clone();
    event.text = text.to_owned();
    event.attributes.clear();
    event
}

/// Writes `event` to `topic` keyed like the gateway does; waits for the acknowledgement.
pub async fn send_event(
    producer: &FutureProducer,
    topic: &str,
    event: &InteractionEvent,
) -> anyhow::Result<()> {
    let key = lintas_schema::partition_key(event).unwrap_or_default();
    let payload = event.encode_to_vec();
    let record = FutureRecord::to(topic)
        .key(&key)
        .payload(&payload)
        .headers(lintas_kafka::producer::event_headers(&event.tenant_id));
    producer
        .send(record, Duration::from_secs(30))
        .await
        .map_err(|(error, _)| anyhow::anyhow!("producing to {topic}: {error}"))?;
    Ok(())
}

/// Reads every committed record of `topic` from the beginning until each partition reports its
/// end and at least `at_least` records were read, or `deadline` passes (then fails).
pub fn read_committed(
    topic: &str,
    partitions: i32,
    at_least: usize,
    deadline: Duration,
) -> anyhow::Result<Vec<OwnedMessage>> {
    let config = test_config(&[]);
    let mut client = lintas_kafka::client::base_config(&config.kafka, &kafka_brokers());
    client
        .set("group.id", unique_name("reader"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true");
    let consumer: BaseConsumer = client.create()?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let started = Instant::now();
    let mut records = Vec::new();
    let mut at_end: HashMap<i32, bool> = (0..partitions).map(|p| (p, false)).collect();
    loop {
        anyhow::ensure!(
            started.elapsed() < deadline,
            "read {} of at least {at_least} records of {topic} within {deadline:?}",
            records.len()
        );
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(message)) => {
                at_end.insert(message.partition(), false);
                records.push(message.detach());
            }
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                at_end.insert(partition, true);
                if records.len() >= at_least && at_end.values().all(|end| *end) {
                    return Ok(records);
                }
            }
            Some(Err(error)) => anyhow::bail!("reading {topic}: {error}"),
        }
    }
}

/// Decodes classified records.
pub fn decode_classified(records: &[OwnedMessage]) -> anyhow::Result<Vec<ClassifiedInteraction>> {
    records
        .iter()
        .map(|record| {
            let payload = record.payload().unwrap_or_default();
            ClassifiedInteraction::decode(payload).map_err(anyhow::Error::from)
        })
        .collect()
}

/// The value of header `name` of `record`, as text.
pub fn header(record: &OwnedMessage, name: &str) -> Option<String> {
    record.headers().and_then(|headers| {
        headers
            .iter()
            .find(|header| header.key == name)
            .and_then(|header| header.value)
            .map(|value| String::from_utf8_lossy(value).into_owned())
    })
}

/// Event ids of classified records, sorted, with the count of duplicates.
pub fn event_ids(classified: &[ClassifiedInteraction]) -> (Vec<String>, usize) {
    let mut ids: Vec<String> = classified
        .iter()
        .filter_map(|record| record.event.as_ref().map(|event| event.event_id.clone()))
        .collect();
    ids.sort();
    let total = ids.len();
    ids.dedup();
    let duplicates = total - ids.len();
    (ids, duplicates)
}
