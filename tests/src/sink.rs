//! The sink against the real broker and ClickHouse, on its own topics and database.
//!
//! [`SinkFixture::create`] makes unique classified/DLQ topics and a unique database migrated
//! with `lintas_clickhouse::migrate`; [`SinkFixture::produce`] writes classified interactions;
//! [`RunningSink`] runs `lintas_sink::run` in this process; the query helpers read the table
//! with `FINAL`, the deduplication the schema promises (`ReplacingMergeTree` on `event_id`).

use std::collections::BTreeSet;
use std::time::Duration;

use lintas_clickhouse::ServerCapabilities;
use lintas_config::Config;
use lintas_kafka::EventProducer;
use lintas_kafka::topics::{TopicSpec, apply_topics};
use lintas_schema::v1::{Classification, ClassifiedInteraction, KafkaOrigin};
use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::{Offset, TopicPartitionList};
use tokio::task::JoinHandle;

use crate::task::StoppableTask;
use crate::{clickhouse_url, test_config, unique_name};

/// Longest wait for one admin or metadata call.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Topics, database and consumer group of one sink test.
#[derive(Debug, Clone)]
pub struct SinkFixture {
    /// Classified topic the sink reads.
    pub classified: String,
    /// Dead-letter topic.
    pub dlq: String,
    /// ClickHouse database, migrated.
    pub database: String,
    /// The sink's consumer group.
    pub group: String,
    /// Partitions of the classified topic.
    pub partitions: i32,
}

impl SinkFixture {
    /// Creates the topics and the migrated database.
    pub async fn create(partitions: i32) -> anyhow::Result<Self> {
        let prefix = unique_name("sink");
        let fixture = Self {
            classified: format!("{prefix}.classified"),
            dlq: format!("{prefix}.dlq"),
            database: prefix.clone(),
            group: format!("{prefix}-group"),
            partitions,
        };
        let config = test_config(&[]);
        let admin =
            lintas_kafka::client::base_config(&config.kafka, &config.kafka.bootstrap_servers());
        let hour = Duration::from_secs(3600);
        let specs = [
            TopicSpec::with_retention(&fixture.classified, partitions, 1, hour),
            TopicSpec::with_retention(&fixture.dlq, 1, 1, hour),
        ];
        apply_topics(&admin, &specs, ADMIN_TIMEOUT).await?;

        let config = fixture.config(&[]);
        let client = server_client();
        let capabilities = ServerCapabilities::detect(&client).await?;
        let options = lintas_clickhouse::schema_options(&config, &capabilities);
        lintas_clickhouse::migrate(&client, &options, &capabilities).await?;
        Ok(fixture)
    }

    /// The config environment of a sink on this fixture, with small batches (100 rows, 200 ms)
    /// and fast retries, plus `extra`.
    pub fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = [
            ("LINTAS__KAFKA__BROKERS", crate::kafka_brokers()),
            ("LINTAS__CLICKHOUSE__URL", clickhouse_url()),
            ("LINTAS__KAFKA__TOPIC_CLASSIFIED", self.classified.clone()),
            ("LINTAS__KAFKA__TOPIC_DLQ", self.dlq.clone()),
            ("LINTAS__CLICKHOUSE__DATABASE", self.database.clone()),
            ("LINTAS__CLICKHOUSE__REQUEST_TIMEOUT", "5s".to_owned()),
            ("LINTAS__SINK__GROUP_ID", self.group.clone()),
            // A crashed member's partitions move after this long (the broker's minimum).
            ("LINTAS__KAFKA__SESSION_TIMEOUT", "6s".to_owned()),
            ("LINTAS__SINK__BATCH_MAX_ROWS", "100".to_owned()),
            ("LINTAS__SINK__BATCH_MAX_WAIT", "200ms".to_owned()),
            ("LINTAS__SINK__RETRY_INITIAL_BACKOFF", "100ms".to_owned()),
            ("LINTAS__SINK__RETRY_MAX_BACKOFF", "2s".to_owned()),
            ("LINTAS__TELEMETRY__ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
        for (key, value) in extra {
            env.retain(|(existing, _)| existing != key);
            env.push(((*key).to_owned(), (*value).to_owned()));
        }
        env
    }

    /// The validated config of [`SinkFixture::env`].
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let env = self.env(extra);
        let borrowed: Vec<(&str, &str)> = env
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        test_config(&borrowed)
    }

    /// A producer for [`SinkFixture::produce_with`], to reuse across many calls.
    pub fn producer(&self) -> anyhow::Result<EventProducer> {
        let config = self.config(&[]);
        Ok(EventProducer::try_new(&lintas_kafka::producer_config(
            &config.kafka,
            &config.kafka.bootstrap_servers(),
        ))?)
    }

    /// Writes `count` classified interactions with fresh event ids (keys spread over the
    /// partitions); `text_of` may override the text of the i-th one. Returns the ids.
    pub async fn produce(
        &self,
        count: usize,
        text_of: impl Fn(usize) -> Option<String>,
    ) -> anyhow::Result<Vec<String>> {
        self.produce_with(&self.producer()?, count, text_of).await
    }

    /// [`SinkFixture::produce`] through `producer`.
    pub async fn produce_with(
        &self,
        producer: &EventProducer,
        count: usize,
        text_of: impl Fn(usize) -> Option<String>,
    ) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::with_capacity(count);
        let mut sends = Vec::with_capacity(count);
        for index in 0..count {
            let interaction = classified_interaction(index, text_of(index));
            let event = interaction.event.as_ref().expect("event set");
            ids.push(event.event_id.clone());
            let key = lintas_schema::partition_key(event);
            let payload = interaction.encode_to_vec();
            let producer = producer.clone();
            let topic = self.classified.clone();
            sends.push(async move {
                producer
                    .send(&topic, key.as_deref(), &payload, classified_headers())
                    .await
            });
        }
        for send in join_all(sends).await {
            send?;
        }
        Ok(ids)
    }

    /// Writes a raw value that is not a classified interaction; returns its offset.
    pub async fn produce_garbage(&self, value: &[u8]) -> anyhow::Result<i64> {
        let config = self.config(&[]);
        let producer = EventProducer::try_new(&lintas_kafka::producer_config(
            &config.kafka,
            &config.kafka.bootstrap_servers(),
        ))?;
        let delivered = producer
            .send(
                &self.classified,
                Some("garbage"),
                value,
                OwnedHeaders::new(),
            )
            .await?;
        Ok(delivered.offset)
    }

    /// `db.interactions`.
    pub fn table(&self) -> String {
        format!("`{}`.interactions", self.database)
    }

    /// Event ids in the table, read with `FINAL`, with how often each appears there.
    pub async fn ids_final(&self) -> anyhow::Result<Vec<(String, u64)>> {
        let rows: Vec<(String, u64)> = server_client()
            .query(&format!(
                "SELECT event_id, count() FROM {} FINAL GROUP BY event_id ORDER BY event_id",
                self.table()
            ))
            .fetch_all()
            .await?;
        Ok(rows)
    }

    /// Rows in the table read with `FINAL`.
    pub async fn count_final(&self) -> anyhow::Result<u64> {
        Ok(server_client()
            .query(&format!("SELECT count() FROM {} FINAL", self.table()))
            .fetch_one()
            .await?)
    }

    /// Rows in the table read without `FINAL`: duplicates not yet merged away count here.
    pub async fn count_raw(&self) -> anyhow::Result<u64> {
        Ok(server_client()
            .query(&format!("SELECT count() FROM {}", self.table()))
            .fetch_one()
            .await?)
    }

    /// Rows under `FINAL` read from `partition` at offsets `first..=last` of the classified
    /// topic.
    pub async fn count_range(&self, partition: i32, first: i64, last: i64) -> anyhow::Result<u64> {
        Ok(server_client()
            .query(&format!(
                "SELECT count() FROM {} FINAL WHERE kafka_partition = {partition} \
                 AND kafka_offset BETWEEN {first} AND {last}",
                self.table()
            ))
            .fetch_one()
            .await?)
    }

    /// The group's committed offset of every partition (0 where nothing is committed).
    pub fn committed_offsets(&self) -> anyhow::Result<Vec<i64>> {
        let config = self.config(&[]);
        let consumer: BaseConsumer = lintas_kafka::consumer_config(
            &config.kafka,
            &config.kafka.bootstrap_servers(),
            &self.group,
        )
        .create()?;
        let mut list = TopicPartitionList::new();
        for partition in 0..self.partitions {
            list.add_partition(&self.classified, partition);
        }
        let committed = consumer.committed_offsets(list, ADMIN_TIMEOUT)?;
        let mut offsets = vec![0; usize::try_from(self.partitions)?];
        for element in committed.elements() {
            if let (Offset::Offset(offset), Ok(index)) =
                (element.offset(), usize::try_from(element.partition()))
                && let Some(slot) = offsets.get_mut(index)
            {
                *slot = offset;
            }
        }
        Ok(offsets)
    }

    /// Sum over partitions of the group's committed offsets (records it will not read again).
    pub fn committed_total(&self) -> anyhow::Result<i64> {
        Ok(self.committed_offsets()?.iter().sum())
    }
}

/// The set of ids, for comparisons that name what is missing or extra.
pub fn id_set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

/// A client of the test server without a default database.
pub fn server_client() -> clickhouse::Client {
    clickhouse::Client::default()
        .with_url(clickhouse_url())
        .with_validation(false)
}

/// The i-th classified interaction of a test: a WhatsApp message of one of 50 customers.
pub fn classified_interaction(index: usize, text: Option<String>) -> ClassifiedInteraction {
    let mut event = lintas_schema::example::example_event();
    event.event_id = uuid::Uuid::now_v7().to_string();
    event.source_event_id = format!("wamid.test.{index}");
    event.customer_id = format!("phone:+1555555{:04}", index % 50);
    if let Some(text) = text {
        event.text = text;
    }
    ClassifiedInteraction {
        event: Some(event),
        classification: Some(Classification {
            interaction_type: 2,
            journey_stage: 4,
            type_confidence: 0.9,
            stage_confidence: 0.8,
            classifier_version: "test".into(),
            reasons: vec!["rule:test".into()],
            classified_at: Some(lintas_schema::time::now()),
        }),
        raw_origin: Some(KafkaOrigin {
            topic: "raw".into(),
            partition: 0,
            offset: index as i64,
        }),
    }
}

fn classified_headers() -> OwnedHeaders {
    OwnedHeaders::new().insert(Header {
        key: lintas_schema::headers::SCHEMA,
        value: Some(lintas_schema::headers::CLASSIFIED_INTERACTION),
    })
}

/// Awaits every future, concurrently, in order of the input.
async fn join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<JoinHandle<F::Output>> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("send task"));
    }
    outputs
}

/// A sink running in this process.
#[derive(Debug)]
pub struct RunningSink {
    task: StoppableTask<lintas_sink::SinkError>,
}

impl RunningSink {
    /// Starts `lintas_sink::run` for `config`.
    pub fn start(config: Config) -> Self {
        let health = lintas_telemetry::Health::new();
        Self {
            task: StoppableTask::spawn(|stopped| lintas_sink::run(config, health, stopped)),
        }
    }

    /// Signals shutdown (flush and commit) and waits for the sink to return.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.task.stop().await
    }
}

/// The value of an unlabelled gauge or counter `name` in a Prometheus text exposition.
pub fn metric_value(exposition: &str, name: &str) -> Option<f64> {
    exposition
        .lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}
